import assert from 'node:assert/strict';
import { describeCentral, ok } from '../test-support/harness.ts';

describeCentral('audit log', (central) => {
  it('records every administrative action with its actor, and never a secret', async () => {
    const c = central();
    const admin = c.admin.client;
    const cinema = await c.createCinema();
    ok(await admin.PATCH('/v1/cinemas/{cinemaId}', { params: { path: { cinemaId: cinema.id } }, body: { name: 'Renamed' } }));
    const terminal = await c.enrolTerminal(cinema.id);
    const { user, password } = await c.createUser(['salesperson'], cinema.id);
    ok(await admin.PATCH('/v1/users/{userId}', { params: { path: { userId: user.id } }, body: { password: 'another long password', roles: ['customer_query'] } }));
    ok(await admin.POST('/v1/terminals/{terminalId}/revoke', { params: { path: { terminalId: terminal.terminalId } } }));

    const { items } = ok(await admin.GET('/v1/audit-log', { params: { query: { cinemaId: cinema.id } } }));
    const actions = items.map((e) => e.action).reverse();
    assert.deepEqual(actions, ['cinema.create', 'cinema.update', 'terminal.enrolment_code.create', 'terminal.enrol', 'user.create', 'user.update', 'terminal.revoke']);
    const adminId = c.admin.session.user!.id;
    for (const entry of items.filter((e) => e.action !== 'terminal.enrol')) assert.equal(entry.actorUserId, adminId, entry.action);
    const update = items.find((e) => e.action === 'user.update')!;
    assert.deepEqual(update.details, { roles: ['customer_query'], passwordChanged: true });
    const text = JSON.stringify(items);
    for (const secret of [password, 'another long password', terminal.secret]) assert.ok(!text.includes(secret));
  });

  it('pages newest first with a cursor, and filters by action', async () => {
    const c = central();
    for (let i = 0; i < 5; i++) await c.createCinema(`Paged ${i}`);
    const seen: string[] = [];
    let before: string | undefined;
    do {
      const page = ok(await c.admin.client.GET('/v1/audit-log', { params: { query: { action: 'cinema.create', limit: 2, ...(before ? { before } : {}) } } }));
      assert.ok(page.items.length <= 2);
      seen.push(...page.items.map((e) => e.id));
      before = page.nextCursor ?? undefined;
    } while (before);
    assert.ok(seen.length >= 5);
    assert.deepEqual(seen, [...seen].sort().reverse(), 'newest first, no repeats');
    assert.equal(new Set(seen).size, seen.length);
  });
});
