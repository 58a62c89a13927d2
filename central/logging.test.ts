/**
 * Secrets never reach the logs (DESIGN §8): the redaction list covers the Authorization and Cookie
 * headers, access and refresh tokens, passwords, terminal secrets, enrolment codes, the JWT key and
 * database URLs — wherever they sit in a logged object — and a service taking every kind of
 * credential at trace level writes none of them.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger } from './logging.ts';
import { ok, TestCentral } from './test-support/harness.ts';
import { testDatabases } from './test-support/databases.ts';

function sink(): { lines: string[]; stream: Writable } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  return { lines, stream };
}

describe('logging', () => {
  it('redacts secrets at any depth of a logged object', () => {
    const { lines, stream } = sink();
    const log = createLogger('trace', stream);
    const secrets = {
      bearer: 'Bearer eyJhbGciOiJIUzI1NiJ9.access-token-value',
      refresh: 'refresh-token-value-123',
      password: 'correct horse battery staple',
      secret: 'terminal-secret-value-456',
      code: 'ENROL-CODE-789',
      jwt: 'jwt-signing-key-0123456789abcdef0123456789',
      url: 'postgres://cinecard:db-password-xyz@db.example:5432/cinecard',
      cookie: 'session=cookie-value-abc',
    };
    log.info({
      req: { method: 'POST', url: '/v1/auth/login', headers: { authorization: secrets.bearer, cookie: secrets.cookie } },
      body: { username: 'root', password: secrets.password, refreshToken: secrets.refresh },
    }, 'a request');
    log.warn({ terminal: { credential: { secret: secrets.secret, code: secrets.code } } }, 'nested');
    log.error({ config: { jwtSecret: secrets.jwt, databaseUrl: secrets.url }, accessToken: secrets.bearer, token: secrets.refresh }, 'config');
    log.debug({ change: { currentPassword: secrets.password, newPassword: secrets.password } }, 'password change');
    log.info({ env: { PGPASSWORD: 'pg-env-password' }, res: { headers: { 'set-cookie': secrets.cookie } } }, 'tool');
    const text = lines.join('\n');
    assert.equal(lines.length, 5);
    for (const value of [...Object.values(secrets), 'pg-env-password', 'db-password-xyz', 'eyJhbGciOiJIUzI1NiJ9']) {
      assert.ok(!text.includes(value), `${value} appears in the log:\n${text}`);
    }
    assert.ok((text.match(/\[redacted\]/g) ?? []).length >= 14);
    assert.ok(text.includes('"username":"root"'), 'what is not secret stays readable');
  });

  describe('a service taking every kind of credential [sqlite]', function () {
    this.timeout(60_000);
    let central: TestCentral;
    before(async () => {
      central = await TestCentral.start(testDatabases()[0]!, { logLevel: 'trace' });
    });
    after(async () => central?.close());

    it('logs none of them', async () => {
      const c = central;
      const seen: string[] = [c.adminPassword, c.admin.token];
      const cinema = await c.createCinema('Log cinema');
      const code = ok(await c.admin.client.POST('/v1/cinemas/{cinemaId}/enrolment-codes', { params: { path: { cinemaId: cinema.id } } }));
      const enrolled = ok(await c.client().POST('/v1/terminals/enrol', { body: { code: code.code, name: 'Till' } }));
      const terminal = ok(await c.client().POST('/v1/auth/terminal-token', { body: { terminalId: enrolled.terminalId, secret: enrolled.secret } }));
      seen.push(code.code, enrolled.secret, terminal.accessToken);
      const login = ok(await c.client().POST('/v1/auth/login', { body: { username: 'hq-root', password: c.adminPassword } }));
      const refreshed = ok(await c.client().POST('/v1/auth/refresh', { body: { refreshToken: login.refreshToken! } }));
      seen.push(login.accessToken, login.refreshToken!, refreshed.accessToken, refreshed.refreshToken!);
      const newPassword = 'a brand new admin password';
      ok(await c.client(refreshed.accessToken).POST('/v1/auth/password', { body: { currentPassword: c.adminPassword, newPassword } }));
      seen.push(newPassword);
      // Failures log too: a wrong password, a bad token, a reused refresh token.
      await c.client().POST('/v1/auth/login', { body: { username: 'hq-root', password: 'wrong password, also secret' } });
      await c.client('not-a-token-but-secret').GET('/v1/cinemas');
      await c.client().POST('/v1/auth/refresh', { body: { refreshToken: login.refreshToken! } });
      seen.push('wrong password, also secret', 'not-a-token-but-secret');
      // A module logging a whole request (headers and body) at debug.
      c.platform.log.debug({ req: { headers: { authorization: `Bearer ${terminal.accessToken}` } }, body: { secret: enrolled.secret } }, 'debugging a request');
      c.platform.log.info({ config: c.platform.config }, 'configuration');
      seen.push(c.platform.config.jwtSecret);

      assert.ok(c.logLines.length > 20, 'the service logged the requests');
      const text = c.logLines.join('\n');
      for (const value of seen) assert.ok(!text.includes(value), `a secret appears in the log: ${value.slice(0, 12)}…`);
      assert.ok(text.includes('[redacted]'));
    });
  });
});
