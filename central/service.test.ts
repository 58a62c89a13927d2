/**
 * The service keeps no state of its own (DESIGN §1): two instances on one database answer alike —
 * tokens, revocations and one-time codes hold across them, and concurrent writes through both stay
 * consistent. On SQLite the two instances are two connections to one WAL file (BEGIN IMMEDIATE and
 * the busy timeout at work); on PostgreSQL, two pools.
 */
import assert from 'node:assert/strict';
import { createCentralClient } from './client/index.ts';
import { createLogger } from './logging.ts';
import { startCentral, type RunningCentral } from './service.ts';
import { describeCentral, ok } from './test-support/harness.ts';
import { specValidator } from './test-support/spec-validator.ts';

describeCentral('two instances on one database', (central) => {
  let second: RunningCentral;
  const on2 = (token?: string) => createCentralClient(second.url, { token, fetch: specValidator.fetch() });

  before(async () => {
    second = await startCentral({ ...central().platform.config, port: 0 }, { log: createLogger('silent') });
  });
  after(async () => {
    await second?.close();
  });

  it('accepts tokens from the other instance and sees its writes at once', async () => {
    const cinema = await central().createCinema('Seen by both');
    const got = ok(await on2(central().admin.token).GET('/v1/cinemas/{cinemaId}', { params: { path: { cinemaId: cinema.id } } }));
    assert.equal(got.name, 'Seen by both');
  });

  it('spends a one-time code issued on one instance on the other, once', async () => {
    const cinema = await central().createCinema();
    const code = ok(await central().admin.client.POST('/v1/cinemas/{cinemaId}/enrolment-codes', { params: { path: { cinemaId: cinema.id } } }));
    const [a, b] = await Promise.all([
      central().client().POST('/v1/terminals/enrol', { body: { code: code.code, name: 'One' } }),
      on2().POST('/v1/terminals/enrol', { body: { code: code.code, name: 'Two' } }),
    ]);
    assert.deepEqual([a.response.status, b.response.status].sort(), [201, 401]);
  });

  it('enforces a revocation made on one instance on the other', async () => {
    const cinema = await central().createCinema();
    const terminal = await central().enrolTerminal(cinema.id);
    ok(await on2(terminal.token).GET('/v1/auth/session'));
    ok(await central().admin.client.POST('/v1/terminals/{terminalId}/revoke', { params: { path: { terminalId: terminal.terminalId } } }));
    assert.equal((await on2(terminal.token).GET('/v1/auth/session')).error?.code, 'principal_gone');
  });

  it('lets exactly one of many concurrent creations of one username win, across both', async () => {
    const username = central().unique('race');
    const body = { username, displayName: 'Race', password: 'long enough pw', roles: ['operator' as const] };
    const attempts = await Promise.all(
      Array.from({ length: 8 }, (_, i) => (i % 2 ? on2(central().admin.token) : central().admin.client).POST('/v1/users', { body })),
    );
    const statuses = attempts.map((r) => r.response.status).sort();
    assert.deepEqual(statuses, [201, 409, 409, 409, 409, 409, 409, 409]);
    assert.ok(attempts.filter((r) => r.error).every((r) => r.error?.code === 'username_taken'));
  });

  it('keeps every concurrent write of both instances', async () => {
    const made = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 ? on2(central().admin.token) : central().admin.client).POST('/v1/cinemas', { body: { code: central().unique('P'), name: `Parallel ${i}` } }),
      ),
    );
    assert.ok(made.every((r) => r.response.status === 201));
    const listed = ok(await on2(central().admin.token).GET('/v1/cinemas'));
    for (const r of made) assert.ok(listed.items.some((c) => c.id === r.data!.id));
  });
});
