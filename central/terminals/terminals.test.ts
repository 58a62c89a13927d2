import assert from 'node:assert/strict';
import { describeCentral, ok } from '../test-support/harness.ts';

describeCentral('terminal enrolment', (central) => {
  it('enrols a terminal with a one-time code and authenticates it with its own credential', async () => {
    const cinema = await central().createCinema();
    const code = ok(await central().admin.client.POST('/v1/cinemas/{cinemaId}/enrolment-codes', { params: { path: { cinemaId: cinema.id } } }));
    assert.match(code.code, /^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/);
    assert.equal(code.cinemaId, cinema.id);
    assert.ok(code.expiresAt > new Date().toISOString());

    // Typed in lower case without dashes, it still works.
    const typed = code.code.replace(/-/g, '').toLowerCase();
    const credential = ok(await central().client().POST('/v1/terminals/enrol', { body: { code: typed, name: 'Box office 1' } }));
    assert.equal(credential.cinemaId, cinema.id);
    assert.ok(credential.secret.length >= 40);

    const again = await central().client().POST('/v1/terminals/enrol', { body: { code: code.code, name: 'Copycat' } });
    assert.equal(again.response.status, 401);
    assert.equal(again.error?.code, 'enrolment_code_invalid');

    const token = ok(await central().client().POST('/v1/auth/terminal-token', { body: { terminalId: credential.terminalId, secret: credential.secret } }));
    assert.equal(token.session.kind, 'terminal');
    assert.equal(token.session.cinemaId, cinema.id);
    assert.deepEqual(token.session.permissions, ['cards.history', 'cards.rebuild', 'cards.sell', 'cinemas.read', 'exports.local', 'stats.local', 'sync.pull', 'sync.upload']);

    const wrong = await central().client().POST('/v1/auth/terminal-token', { body: { terminalId: credential.terminalId, secret: 'x' + credential.secret } });
    assert.equal(wrong.error?.code, 'terminal_credentials_invalid');

    const listed = ok(await central().admin.client.GET('/v1/cinemas/{cinemaId}/terminals', { params: { path: { cinemaId: cinema.id } } }));
    assert.deepEqual(listed.items.map((t) => [t.id, t.name, t.revokedAt]), [[credential.terminalId, 'Box office 1', null]]);
    const stored = await central().platform.db('terminals').where({ id: credential.terminalId }).first();
    assert.ok(!JSON.stringify(stored).includes(credential.secret), 'the secret is stored hashed');
  });

  it('re-enrols a wiped or replaced terminal with a code that names it: same id, new secret, the old secret refused, a revoked one reinstated', async () => {
    const [cinema, other] = [await central().createCinema(), await central().createCinema()];
    const terminal = await central().enrolTerminal(cinema.id);
    ok(await central().admin.client.POST('/v1/terminals/{terminalId}/revoke', { params: { path: { terminalId: terminal.terminalId } } }));
    const code = ok(await central().admin.client.POST('/v1/cinemas/{cinemaId}/enrolment-codes', { params: { path: { cinemaId: cinema.id }, query: { replaces: terminal.terminalId } } }));
    const credential = ok(await central().client().POST('/v1/terminals/enrol', { body: { code: code.code, name: 'Box office 1 (new PC)' } }));
    assert.deepEqual([credential.terminalId, credential.cinemaId], [terminal.terminalId, cinema.id]);
    assert.notEqual(credential.secret, terminal.secret);
    const old = await central().client().POST('/v1/auth/terminal-token', { body: { terminalId: terminal.terminalId, secret: terminal.secret } });
    assert.equal(old.error?.code, 'terminal_credentials_invalid');
    ok(await central().client().POST('/v1/auth/terminal-token', { body: { terminalId: terminal.terminalId, secret: credential.secret } }));
    const listed = ok(await central().admin.client.GET('/v1/cinemas/{cinemaId}/terminals', { params: { path: { cinemaId: cinema.id } } }));
    assert.deepEqual(listed.items.map((t) => [t.id, t.name, t.revokedAt]), [[terminal.terminalId, 'Box office 1 (new PC)', null]], 'one terminal, reinstated');
    const audit = ok(await central().admin.client.GET('/v1/audit-log', { params: { query: { action: 'terminal.reenrol' } } })).items;
    assert.ok(audit.some((a) => a.targetId === terminal.terminalId));
    // A code can only name a terminal of its own cinema.
    const foreign = await central().admin.client.POST('/v1/cinemas/{cinemaId}/enrolment-codes', { params: { path: { cinemaId: other.id }, query: { replaces: terminal.terminalId } } });
    assert.equal(foreign.error?.code, 'terminal_not_found');
  });

  it('refuses an expired code', async () => {
    const cinema = await central().createCinema();
    const code = ok(await central().admin.client.POST('/v1/cinemas/{cinemaId}/enrolment-codes', { params: { path: { cinemaId: cinema.id } } }));
    await central().platform.db('enrolment_codes').where({ cinema_id: cinema.id }).update({ expires_at: '2000-01-01T00:00:00.000Z' });
    const late = await central().client().POST('/v1/terminals/enrol', { body: { code: code.code, name: 'Late' } });
    assert.equal(late.error?.code, 'enrolment_code_invalid');
  });

  it('gives exactly one terminal for one code when two enrol at once', async () => {
    const cinema = await central().createCinema();
    const code = ok(await central().admin.client.POST('/v1/cinemas/{cinemaId}/enrolment-codes', { params: { path: { cinemaId: cinema.id } } }));
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => central().client().POST('/v1/terminals/enrol', { body: { code: code.code, name: `Till ${i}` } })),
    );
    assert.deepEqual(results.map((r) => r.response.status).sort(), [201, 401, 401, 401, 401, 401]);
  });

  it('revokes a terminal: its tokens and the tokens of users on it stop working at once', async () => {
    const cinema = await central().createCinema();
    const terminal = await central().enrolTerminal(cinema.id);
    const seller = await central().loginAs('salesperson', { terminal });
    ok(await seller.client.GET('/v1/auth/session'));
    const revoked = ok(await central().admin.client.POST('/v1/terminals/{terminalId}/revoke', { params: { path: { terminalId: terminal.terminalId } } }));
    assert.notEqual(revoked.revokedAt, null);
    assert.equal((await terminal.client.GET('/v1/auth/session')).error?.code, 'principal_gone');
    assert.equal((await seller.client.GET('/v1/auth/session')).error?.code, 'principal_gone');
    const token = await central().client().POST('/v1/auth/terminal-token', { body: { terminalId: terminal.terminalId, secret: terminal.secret } });
    assert.equal(token.error?.code, 'terminal_credentials_invalid');
  });

  it('answers 404 for codes and terminal lists of an unknown cinema, and for an unknown terminal', async () => {
    const nowhere = '01900000-0000-7000-8000-000000000000';
    const code = await central().admin.client.POST('/v1/cinemas/{cinemaId}/enrolment-codes', { params: { path: { cinemaId: nowhere } } });
    assert.equal(code.error?.code, 'cinema_not_found');
    const list = await central().admin.client.GET('/v1/cinemas/{cinemaId}/terminals', { params: { path: { cinemaId: nowhere } } });
    assert.equal(list.error?.code, 'cinema_not_found');
    const revoke = await central().admin.client.POST('/v1/terminals/{terminalId}/revoke', { params: { path: { terminalId: nowhere } } });
    assert.equal(revoke.error?.code, 'terminal_not_found');
  });
});
