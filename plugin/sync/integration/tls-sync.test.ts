/**
 * The till's sync over HTTPS and WSS to a central with a certificate from the chain's own CA
 * (made here with openssl): with `central.caFile` naming that CA the plugin uploads, pulls and gets
 * pokes; trusting another CA it stays offline and keeps its ops; an unreadable CA file stops
 * `activate` with a plain message.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCentralClient } from '../../../central/client/index.ts';
import { parseConfig } from '../../../central/config.ts';
import { createLogger } from '../../../central/logging.ts';
import { startCentral, type RunningCentral } from '../../../central/service.ts';
import { ok } from '../../../central/test-support/harness.ts';
import { createAdmin } from '../../../central/users/bootstrap.ts';
import { makeCa, makeServerCert } from '../../../test-support/tls-certs.ts';
import { TERMINAL } from '../../test-support/redemption-harness.ts';
import { ScreenBench } from '../../screens/screen-test-kit.ts';
import { eventually } from './terminal-fixture.ts';

describe('terminal sync over TLS with the chain’s own CA [sqlite]', function () {
  this.timeout(60_000);
  const dir = mkdtempSync(join(tmpdir(), 'cinecard-tls-sync-'));
  const ca = makeCa(dir, 'chain-ca');
  const other = makeCa(dir, 'other-ca');
  let central: RunningCentral;
  let cinemaId: string;
  let enrol: () => Promise<{ terminalId: string; secret: string }>;
  const benches: ScreenBench[] = [];

  before(async () => {
    const config = parseConfig({ dataDir: mkdtempSync(join(dir, 'data-')), host: '127.0.0.1', port: 0, jwtSecret: 's'.repeat(32), logLevel: 'silent', tls: makeServerCert(dir, ca) });
    central = await startCentral(config, { log: createLogger('silent') });
    await createAdmin(central.platform, { username: 'root', password: 'a long admin password' });
    const client = (token?: string) => createCentralClient(central.url, { token, ca: readFileSync(ca.cert) });
    const admin = client(ok(await client().POST('/v1/auth/login', { body: { username: 'root', password: 'a long admin password' } })).accessToken);
    cinemaId = ok(await admin.POST('/v1/cinemas', { body: { code: 'TLS9', name: 'TLS cinema' } })).id;
    ok(await admin.POST('/v1/cinemas/{cinemaId}/redemption-rules', { params: { path: { cinemaId } }, body: { kind: 'ticket', name: 'Any film', usesPerTicket: 1 } }));
    enrol = async () => {
      const code = ok(await admin.POST('/v1/cinemas/{cinemaId}/enrolment-codes', { params: { path: { cinemaId } } }));
      return ok(await client().POST('/v1/terminals/enrol', { body: { code: code.code, name: 'Till' } }));
    };
  });
  after(async () => {
    for (const b of benches) await b.stop();
    await central?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function till(caFile: string): Promise<ScreenBench> {
    const t = await enrol();
    const bench = await new ScreenBench().start({
      identity: { terminalId: t.terminalId, cinemaId },
      config: { terminal: { ...TERMINAL, terminalId: t.terminalId, cinemaId }, central: { urls: [central.url], terminalSecret: t.secret, caFile } },
    });
    benches.push(bench);
    return bench;
  }

  it('trusting the chain CA: the till syncs over HTTPS (rules pulled) and holds its poke socket over WSS', async () => {
    assert.match(central.url, /^https:\/\//);
    const bench = await till(ca.cert);
    await eventually(async () => (await bench.plugin.store.db('redemption_rules').where({ cinema_id: cinemaId }).first()) !== undefined, 10_000, 'the rules pulled over HTTPS');
    assert.equal(bench.plugin.sync.status.offline, false);
    await eventually(() => (central.app.syncHub?.connections ?? 0) >= 1, 10_000, 'the poke socket over WSS');
  });

  it('trusting another CA: central is not trusted, the till stays offline and keeps what it records', async () => {
    const bench = await till(other.cert);
    await bench.plugin.store.write((trx) => bench.plugin.store.appendOp(trx, { kind: 'blacklist', cardNo: '8800000001', payload: { reason: 'lost' } }));
    await assert.rejects(bench.plugin.sync.syncNow(), /certificate|verify|fetch failed|unreachable/i);
    assert.equal(bench.plugin.sync.status.offline, true);
    assert.equal((await bench.plugin.store.db('redemption_rules').where({ cinema_id: cinemaId })).length, 0, 'nothing was pulled');
    assert.equal(await bench.plugin.store.pendingCount(), 1, 'the op waits for a central it can trust');
  });

  it('an unreadable CA file stops activate with a plain message', async () => {
    await assert.rejects(till(join(dir, 'missing-ca.pem')), /central\.caFile: cannot read .*missing-ca\.pem/);
  });
});
