/**
 * Transport security, with certificates made here by the openssl CLI: HTTPS and WSS with a chain's
 * own CA, the typed client trusting exactly that CA (`createCentralClient(url, { ca })`), a client
 * with another CA refused; "TLS required" behind a proxy refusing what did not arrive over HTTPS
 * (JSON operations and the sync socket alike); and the configuration mistakes that stop the service.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { createCentralClient, type CentralClient } from '../client/index.ts';
import { ConfigError, parseConfig, type CentralConfigInput } from '../config.ts';
import { createLogger } from '../logging.ts';
import { startCentral, type RunningCentral } from '../service.ts';
import { createAdmin } from '../users/bootstrap.ts';
import { ok } from '../test-support/harness.ts';
import { makeCa as makeTestCa, makeServerCert as makeTestServerCert, type TestCa } from '../../test-support/tls-certs.ts';

const dir = mkdtempSync(join(tmpdir(), 'cinecard-transport-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const makeCa = (name: string) => makeTestCa(dir, name);
const makeServerCert = (ca: TestCa) => makeTestServerCert(dir, ca);

async function start(overrides: Partial<CentralConfigInput>): Promise<RunningCentral> {
  const dataDir = mkdtempSync(join(dir, 'data-'));
  const config = parseConfig({ dataDir, host: '127.0.0.1', port: 0, jwtSecret: 's'.repeat(32), logLevel: 'silent', ...overrides });
  return startCentral(config, { log: createLogger('silent') });
}

/** An admin's token, and a terminal's (for the sync socket). */
async function tokens(central: RunningCentral, client: (token?: string) => CentralClient, headers: Record<string, string> = {}) {
  await createAdmin(central.platform, { username: 'root', password: 'a long admin password' });
  const admin = ok(await client().POST('/v1/auth/login', { body: { username: 'root', password: 'a long admin password' }, headers }));
  const hq = client(admin.accessToken);
  const cinema = ok(await hq.POST('/v1/cinemas', { body: { code: 'TLS1', name: 'TLS cinema' }, headers }));
  const code = ok(await hq.POST('/v1/cinemas/{cinemaId}/enrolment-codes', { params: { path: { cinemaId: cinema.id } }, headers }));
  const enrolled = ok(await client().POST('/v1/terminals/enrol', { body: { code: code.code, name: 'Till' }, headers }));
  const terminal = ok(await client().POST('/v1/auth/terminal-token', { body: { terminalId: enrolled.terminalId, secret: enrolled.secret }, headers }));
  return { admin: admin.accessToken, terminal: terminal.accessToken };
}

/** Opens the sync socket; resolves with its first message, or rejects with the refusal's status. */
function syncSocket(url: string, token: string, options: { ca?: Buffer; headers?: Record<string, string> } = {}): Promise<{ type: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/v1/sync/ws`, {
      headers: { authorization: `Bearer ${token}`, ...options.headers },
      ...(options.ca ? { ca: options.ca } : {}),
    });
    ws.once('message', (data) => {
      ws.close();
      resolve(JSON.parse(String(data)) as { type: string });
    });
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString('utf8')));
      res.on('end', () => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode, body })));
    });
    ws.once('error', reject);
  });
}

describe('transport security [sqlite]', function () {
  this.timeout(60_000);

  describe('HTTPS and WSS with a chain CA', () => {
    const ca = makeCa('chain-ca');
    const otherCa = makeCa('other-ca');
    const server = makeServerCert(ca);
    let central: RunningCentral;

    before(async () => {
      central = await start({ tls: { ...server } });
    });
    after(async () => central?.close());

    it('the client trusting the chain CA works over HTTPS, and the sync socket over WSS', async () => {
      assert.match(central.url, /^https:\/\//);
      const caPem = readFileSync(ca.cert);
      const client = (token?: string) => createCentralClient(central.url, { token, ca: caPem });
      const { admin, terminal } = await tokens(central, client);
      const health = ok(await client().GET('/v1/health'));
      assert.equal(health.status, 'ok');
      assert.ok(ok(await client(admin).GET('/v1/backups')).items);
      const welcome = await syncSocket(central.url, terminal, { ca: caPem });
      assert.equal(welcome.type, 'welcome');
    });

    it('a client trusting another CA is refused, and so is one trusting only the public CAs', async () => {
      const wrong = createCentralClient(central.url, { ca: readFileSync(otherCa.cert) });
      await assert.rejects(wrong.GET('/v1/health'), (error: Error & { cause?: { code?: string } }) => {
        assert.match(String(error.cause?.code ?? error.cause), /UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|unable to verify/i);
        return true;
      });
      await assert.rejects(createCentralClient(central.url).GET('/v1/health'));
      await assert.rejects(syncSocket(central.url, 'x', { ca: readFileSync(otherCa.cert) }), /unable to verify|self.signed/i);
    });

    it('plain HTTP to the TLS port gets no answer', async () => {
      await assert.rejects(fetch(`${central.url.replace('https:', 'http:')}/v1/health`));
    });
  });

  describe('TLS required behind a TLS-terminating proxy', () => {
    let central: RunningCentral;
    let admin: string;
    let terminal: string;
    const viaProxy = { 'x-forwarded-proto': 'https' };

    before(async () => {
      central = await start({ trustProxy: '127.0.0.1', tls: { required: true } });
      ({ admin, terminal } = await tokens(central, (token) => createCentralClient(central.url, { token }), viaProxy));
    });
    after(async () => central?.close());

    it('answers requests the proxy marks https, and refuses plain ones with 403 https_required', async () => {
      const client = createCentralClient(central.url, { token: admin });
      assert.equal((await client.GET('/v1/cinemas', { headers: viaProxy })).response.status, 200);
      for (const headers of [{}, { 'x-forwarded-proto': 'http' }, { 'x-forwarded-proto': 'https, http' }]) {
        const refused = await client.GET('/v1/cinemas', { headers });
        assert.equal(refused.response.status, 403, JSON.stringify(headers));
        assert.equal(refused.error?.code, 'https_required');
        assert.match(refused.error?.message ?? '', /only over HTTPS/);
      }
      const zh = await client.GET('/v1/cinemas', { headers: { 'accept-language': 'zh-CN' } });
      assert.match(zh.error?.message ?? '', /HTTPS/);
      // A login over plain HTTP is refused before the password is looked at.
      const login = await createCentralClient(central.url).POST('/v1/auth/login', { body: { username: 'root', password: 'a long admin password' } });
      assert.equal(login.error?.code, 'https_required');
      // The load balancer's health probe talks to the instance directly.
      assert.equal((await createCentralClient(central.url).GET('/v1/health')).response.status, 200);
    });

    it('refuses a plain upgrade of the sync socket, and accepts one the proxy marks https', async () => {
      await assert.rejects(syncSocket(central.url, terminal), (error: { status?: number; body?: string }) => {
        assert.equal(error.status, 403);
        assert.equal(JSON.parse(error.body ?? '{}').code, 'https_required');
        return true;
      });
      assert.equal((await syncSocket(central.url, terminal, { headers: viaProxy })).type, 'welcome');
    });

    it('ignores X-Forwarded-Proto from an address that is not the trusted proxy', async () => {
      const other = await start({ trustProxy: '10.9.8.7', tls: { required: true } });
      try {
        const result = await createCentralClient(other.url).GET('/v1/cinemas', { headers: viaProxy });
        assert.equal(result.response.status, 403);
        assert.equal(result.error?.code, 'https_required');
      } finally {
        await other.close();
      }
    });
  });

  describe('configuration', () => {
    const base = { jwtSecret: 's'.repeat(32) };

    it('refuses TLS required with neither a certificate nor a proxy', () => {
      assert.throws(() => parseConfig({ ...base, tls: { required: true } }), (e: ConfigError) => {
        assert.ok(e instanceof ConfigError);
        assert.match(e.message, /tls\.required: .*tls\.certFile and tls\.keyFile.*trustProxy/);
        return true;
      });
      assert.doesNotThrow(() => parseConfig({ ...base, tls: { required: true }, trustProxy: true }));
    });

    it('refuses a certificate without its key', () => {
      assert.throws(() => parseConfig({ ...base, tls: { certFile: '/x.pem' } }), /tls: give both certFile and keyFile/);
    });

    it('names an unreadable certificate file when starting', async () => {
      await assert.rejects(start({ tls: { certFile: join(dir, 'missing.pem'), keyFile: join(dir, 'missing.key') } }), (e: Error) => {
        assert.ok(e instanceof ConfigError);
        assert.match(e.message, /Cannot read tls\.certFile .*missing\.pem/);
        return true;
      });
    });
  });
});
