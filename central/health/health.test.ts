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

describe('health when PostgreSQL goes away', function () {
  this.timeout(30_000);

  it('answers 503 database_unavailable, for health and for any other operation', async () => {
    const net = await import('node:net');
    const { TestCentral } = await import('../test-support/harness.ts');
    const { testDatabases } = await import('../test-support/databases.ts');
    const { postgresAdminUrl } = await import('../test-support/databases.ts');
    // The service reaches PostgreSQL through a TCP relay that the test then shuts: a network failure.
    const upstream = new URL(postgresAdminUrl);
    const sockets = new Set<import('node:net').Socket>();
    const relay = net.createServer((client) => {
      const server = net.connect(Number(upstream.port || 5432), upstream.hostname);
      for (const s of [client, server]) {
        sockets.add(s);
        s.on('error', () => s.destroy());
        s.on('close', () => sockets.delete(s));
      }
      client.pipe(server).pipe(client);
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    const relayPort = (relay.address() as import('node:net').AddressInfo).port;
    const postgres = testDatabases().find((d) => d.name === 'postgres')!;
    const viaRelay = {
      name: postgres.name,
      async create() {
        const scratch = await postgres.create();
        const url = new URL(scratch.settings.databaseUrl!);
        url.host = `127.0.0.1:${relayPort}`;
        return { settings: { ...scratch.settings, databaseUrl: url.toString() }, drop: scratch.drop };
      },
    };
    const central = await TestCentral.start(viaRelay);
    try {
      ok(await central.client().GET('/v1/health'));
      await new Promise<void>((resolve) => {
        relay.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      const health = await fetch(`${central.url}/v1/health`);
      assert.equal(health.status, 503);
      assert.equal(((await health.json()) as { code: string }).code, 'database_unavailable');
      const list = await fetch(`${central.url}/v1/cinemas`, { headers: { authorization: `Bearer ${central.admin.token}` } });
      assert.equal(list.status, 503);
      assert.equal(((await list.json()) as { code: string }).code, 'database_unavailable');
    } finally {
      await central.close();
    }
  });
});
