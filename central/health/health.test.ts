import assert from 'node:assert/strict';
import { describeCentral, ok } from '../test-support/harness.ts';

describeCentral('health', (central, database) => {
  it('reports the service and its database without a token', async () => {
    const health = ok(await central().client().GET('/v1/health'));
    assert.equal(health.status, 'ok');
    assert.equal(health.database, database.name);
    assert.match(health.version, /^\d+\.\d+\.\d+/);
  });
});

describe('health when PostgreSQL is unreachable', function () {
  this.timeout(30_000);

  it('answers 503 database_unavailable, for health and for any other operation', async () => {
    const { parseConfig } = await import('../config.ts');
    const { createLogger } = await import('../logging.ts');
    const { startCentral } = await import('../service.ts');
    const { TokenService } = await import('../auth/tokens.ts');
    const config = parseConfig({
      dataDir: '/tmp',
      databaseUrl: 'postgres://postgres@127.0.0.1:1/nowhere',
      host: '127.0.0.1',
      port: 0,
      jwtSecret: 'd'.repeat(32),
      logLevel: 'silent',
    });
    const central = await startCentral(config, { log: createLogger('silent'), migrate: false });
    try {
      const health = await fetch(`${central.url}/v1/health`);
      assert.equal(health.status, 503);
      assert.equal(((await health.json()) as { code: string }).code, 'database_unavailable');
      const token = await new TokenService(config.jwtSecret, 60).issue({ kind: 'user', userId: '01900000-0000-7000-8000-000000000000', terminalId: null });
      const list = await fetch(`${central.url}/v1/cinemas`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(list.status, 503);
    } finally {
      await central.close();
    }
  });
});
