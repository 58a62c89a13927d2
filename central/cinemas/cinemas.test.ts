import assert from 'node:assert/strict';
import { describeCentral, ok } from '../test-support/harness.ts';

describeCentral('cinemas API', (central) => {
  it('creates, lists, gets and updates a cinema', async () => {
    const { client } = central().admin;
    const created = ok(await client.POST('/v1/cinemas', { body: { code: 'SH-01', name: 'Shanghai One', address: '1 Nanjing Rd' } }));
    assert.equal(created.code, 'SH-01');
    assert.equal(created.address, '1 Nanjing Rd');
    assert.match(created.id, /^[0-9a-f]{8}-[0-9a-f]{4}-7/); // UUIDv7

    const listed = ok(await client.GET('/v1/cinemas'));
    assert.ok(listed.items.some((c) => c.id === created.id));

    const got = ok(await client.GET('/v1/cinemas/{cinemaId}', { params: { path: { cinemaId: created.id } } }));
    assert.deepEqual(got, created);

    const updated = ok(
      await client.PATCH('/v1/cinemas/{cinemaId}', { params: { path: { cinemaId: created.id } }, body: { name: 'Shanghai 1', address: null } }),
    );
    assert.equal(updated.name, 'Shanghai 1');
    assert.equal(updated.address, null);
    assert.equal(updated.code, 'SH-01');
  });

  it('refuses a duplicate code with 409', async () => {
    const { client } = central().admin;
    ok(await client.POST('/v1/cinemas', { body: { code: 'DUP', name: 'First' } }));
    const { error, response } = await client.POST('/v1/cinemas', { body: { code: 'DUP', name: 'Second' } });
    assert.equal(response.status, 409);
    assert.equal(error?.code, 'cinema_code_taken');
    assert.match(error?.message ?? '', /DUP/);
  });

  it('answers 404 for an unknown cinema and 400 naming the field for a bad id', async () => {
    const { client } = central().admin;
    const missing = await client.GET('/v1/cinemas/{cinemaId}', { params: { path: { cinemaId: '01900000-0000-7000-8000-000000000000' } } });
    assert.equal(missing.response.status, 404);
    assert.equal(missing.error?.code, 'cinema_not_found');
    const bad = await client.GET('/v1/cinemas/{cinemaId}', { params: { path: { cinemaId: 'not-a-uuid' } } });
    assert.equal(bad.response.status, 400);
    assert.deepEqual(bad.error?.fields?.map((f) => f.path), ['params.cinemaId']);
  });

  it('names every bad field of a body, and refuses unknown ones', async () => {
    const { client } = central().admin;
    const { error, response } = await client.POST('/v1/cinemas', {
      body: { code: 'has space', name: '', extra: 1 } as never,
    });
    assert.equal(response.status, 400);
    assert.equal(error?.type, 'invalid_data');
    const paths = error?.fields?.map((f) => f.path).sort();
    assert.deepEqual(paths, ['body', 'body.code', 'body.name']);
    assert.match(error?.message ?? '', /body\.code/);
  });

  it('refuses an empty update', async () => {
    const cinema = await central().createCinema();
    const { response, error } = await central().admin.client.PATCH('/v1/cinemas/{cinemaId}', {
      params: { path: { cinemaId: cinema.id } },
      body: {},
    });
    assert.equal(response.status, 400);
    assert.match(error?.message ?? '', /at least one field/);
  });

  it('shows a cinema-bound principal only its own cinema', async () => {
    const a = await central().createCinema('A');
    await central().createCinema('B');
    const terminal = await central().enrolTerminal(a.id);
    const listed = ok(await terminal.client.GET('/v1/cinemas'));
    assert.deepEqual(listed.items.map((c) => c.id), [a.id]);
  });
});
