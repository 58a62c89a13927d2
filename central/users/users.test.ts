import assert from 'node:assert/strict';
import { describeCentral, ok } from '../test-support/harness.ts';

describeCentral('users API', (central) => {
  it('creates, lists, gets and updates users', async () => {
    const { client } = central().admin;
    const cinema = await central().createCinema();
    const made = ok(
      await client.POST('/v1/users', {
        body: { username: 'li.ming', displayName: 'Li Ming', password: 'long enough pw', roles: ['salesperson', 'customer_query'], cinemaId: cinema.id },
      }),
    );
    assert.deepEqual(made.roles, ['customer_query', 'salesperson']);
    assert.equal(made.cinemaId, cinema.id);
    assert.equal(made.disabled, false);
    assert.equal(made.lockedUntil, null);
    assert.ok(!('password' in made) && !('passwordHash' in made));

    const ofCinema = ok(await client.GET('/v1/users', { params: { query: { cinemaId: cinema.id } } }));
    assert.deepEqual(ofCinema.items.map((u) => u.username), ['li.ming']);
    const all = ok(await client.GET('/v1/users'));
    assert.ok(all.items.some((u) => u.username === 'hq-root'));

    const path = { userId: made.id };
    const updated = ok(await client.PATCH('/v1/users/{userId}', { params: { path }, body: { displayName: 'Li M.', roles: ['manager'] } }));
    assert.equal(updated.displayName, 'Li M.');
    assert.deepEqual(updated.roles, ['manager']);
    assert.deepEqual(ok(await client.GET('/v1/users/{userId}', { params: { path } })), updated);

    ok(await client.PATCH('/v1/users/{userId}', { params: { path }, body: { password: 'a new password' } }));
    const terminal = await central().enrolTerminal(cinema.id);
    const session = await central().login('li.ming', 'a new password', terminal);
    assert.equal(session.session.user?.id, made.id);
  });

  it('keeps roles of one scope, with the cinema they need', async () => {
    const { client } = central().admin;
    const cinema = await central().createCinema();
    const base = { displayName: 'X', password: 'long enough pw' };
    const mixed = await client.POST('/v1/users', { body: { ...base, username: central().unique('m'), roles: ['operator', 'salesperson'], cinemaId: cinema.id } });
    assert.equal(mixed.error?.code, 'roles_mixed');
    const noCinema = await client.POST('/v1/users', { body: { ...base, username: central().unique('m'), roles: ['salesperson'] } });
    assert.equal(noCinema.error?.code, 'cinema_roles_need_cinema');
    const hqWithCinema = await client.POST('/v1/users', { body: { ...base, username: central().unique('m'), roles: ['operator'], cinemaId: cinema.id } });
    assert.equal(hqWithCinema.error?.code, 'hq_roles_take_no_cinema');
    const unknownCinema = await client.POST('/v1/users', {
      body: { ...base, username: central().unique('m'), roles: ['salesperson'], cinemaId: '01900000-0000-7000-8000-000000000000' },
    });
    assert.equal(unknownCinema.error?.code, 'cinema_not_found');
    const { user } = await central().createUser(['operator']);
    const rescope = await client.PATCH('/v1/users/{userId}', { params: { path: { userId: user.id } }, body: { roles: ['manager'] } });
    assert.equal(rescope.error?.code, 'roles_change_scope');
    for (const r of [mixed, noCinema, hqWithCinema, rescope]) assert.equal(r.response.status, 400);
  });

  it('refuses a taken username with 409, a short password and a repeated role with 400', async () => {
    const { client } = central().admin;
    const first = await central().createUser(['operator']);
    const dup = await client.POST('/v1/users', { body: { username: first.user.username, displayName: 'Y', password: 'long enough pw', roles: ['operator'] } });
    assert.equal(dup.response.status, 409);
    assert.equal(dup.error?.code, 'username_taken');
    const bad = await client.POST('/v1/users', { body: { username: 'Bad Name', displayName: 'Y', password: 'short', roles: ['operator', 'operator'] } });
    assert.equal(bad.response.status, 400);
    assert.deepEqual(bad.error?.fields?.map((f) => f.path).sort(), ['body.password', 'body.roles', 'body.username']);
  });

  it('lets a manager manage only its own cinema\'s users, and only with cinema roles', async () => {
    const a = await central().createCinema('A');
    const b = await central().createCinema('B');
    const manager = await central().loginAs('manager', { cinemaId: a.id });
    const body = { displayName: 'Seller', password: 'long enough pw', roles: ['salesperson' as const] };
    const mine = ok(await manager.client.POST('/v1/users', { body: { ...body, username: central().unique('s'), cinemaId: a.id } }));
    const theirs = await manager.client.POST('/v1/users', { body: { ...body, username: central().unique('s'), cinemaId: b.id } });
    assert.equal(theirs.error?.code, 'cinema_out_of_scope');
    const hq = await manager.client.POST('/v1/users', { body: { ...body, username: central().unique('s'), roles: ['operator'] } });
    assert.equal(hq.error?.code, 'cinema_out_of_scope');
    const listed = ok(await manager.client.GET('/v1/users'));
    assert.ok(listed.items.every((u) => u.cinemaId === a.id));
    assert.ok(listed.items.some((u) => u.id === mine.id));
    const other = await central().createUser(['salesperson'], b.id);
    assert.equal((await manager.client.GET('/v1/users/{userId}', { params: { path: { userId: other.user.id } } })).response.status, 403);
    assert.equal((await manager.client.GET('/v1/users', { params: { query: { cinemaId: b.id } } })).response.status, 403);
  });

  it('does not let an admin disable itself or drop its own admin role', async () => {
    const admin = await central().loginAs('admin');
    const path = { userId: admin.user.id };
    assert.equal((await admin.client.PATCH('/v1/users/{userId}', { params: { path }, body: { disabled: true } })).error?.code, 'cannot_lock_out_self');
    assert.equal((await admin.client.PATCH('/v1/users/{userId}', { params: { path }, body: { roles: ['operator'] } })).error?.code, 'cannot_lock_out_self');
    // Another admin may.
    ok(await central().admin.client.PATCH('/v1/users/{userId}', { params: { path }, body: { roles: ['operator'] } }));
  });
});
