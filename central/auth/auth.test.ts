import assert from 'node:assert/strict';
import { describeCentral, ok } from '../test-support/harness.ts';

describeCentral('login and sessions', (central) => {
  it('logs an HQ user in and reports the session with its permissions', async () => {
    const { user, password } = await central().createUser(['operator']);
    const session = await central().login(user.username, password);
    assert.equal(session.session.kind, 'user');
    assert.equal(session.session.cinemaId, null);
    assert.equal(session.session.terminal, null);
    assert.ok(session.session.permissions.includes('cards.make'));
    assert.ok(!session.session.permissions.includes('users.manage'));
    const me = ok(await session.client.GET('/v1/auth/session'));
    assert.equal(me.user?.id, user.id);
  });

  it('refuses a wrong password and an unknown user with the same answer', async () => {
    const { user } = await central().createUser(['statistician']);
    const wrong = await central().client().POST('/v1/auth/login', { body: { username: user.username, password: 'not the password' } });
    const unknown = await central().client().POST('/v1/auth/login', { body: { username: 'nobody-here', password: 'whatever' } });
    assert.equal(wrong.response.status, 401);
    assert.equal(unknown.response.status, 401);
    assert.equal(wrong.error?.code, 'credentials_invalid');
    assert.deepEqual(wrong.error, unknown.error);
  });

  it('locks an account after too many failed logins, until an admin unlocks it', async () => {
    const { user, password } = await central().createUser(['operator']);
    const attempt = (pw: string) => central().client().POST('/v1/auth/login', { body: { username: user.username, password: pw } });
    for (let i = 0; i < central().platform.config.login.maxFailedAttempts; i++) {
      assert.equal((await attempt('wrong password')).response.status, 401);
    }
    const locked = await attempt(password);
    assert.equal(locked.response.status, 401);
    assert.equal(locked.error?.code, 'account_locked');
    const shown = ok(await central().admin.client.GET('/v1/users/{userId}', { params: { path: { userId: user.id } } }));
    assert.notEqual(shown.lockedUntil, null);
    const audit = ok(await central().admin.client.GET('/v1/audit-log', { params: { query: { action: 'user.lock' } } }));
    assert.ok(audit.items.some((e) => e.targetId === user.id));

    ok(await central().admin.client.PATCH('/v1/users/{userId}', { params: { path: { userId: user.id } }, body: { unlock: true } }));
    ok(await attempt(password));
  });

  it('resets the failure count on a successful login', async () => {
    const { user, password } = await central().createUser(['operator']);
    const attempt = (pw: string) => central().client().POST('/v1/auth/login', { body: { username: user.username, password: pw } });
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < central().platform.config.login.maxFailedAttempts - 1; i++) await attempt('wrong password');
      ok(await attempt(password));
    }
  });

  it('refuses a disabled user', async () => {
    const { user, password } = await central().createUser(['operator']);
    const session = await central().login(user.username, password);
    ok(await central().admin.client.PATCH('/v1/users/{userId}', { params: { path: { userId: user.id } }, body: { disabled: true } }));
    const login = await central().client().POST('/v1/auth/login', { body: { username: user.username, password } });
    assert.equal(login.error?.code, 'account_disabled');
    // Its live token stops working at once.
    const me = await session.client.GET('/v1/auth/session');
    assert.equal(me.response.status, 401);
    assert.equal(me.error?.code, 'principal_gone');
  });

  it('lets cinema staff log in only on a terminal of their own cinema', async () => {
    const a = await central().createCinema('A');
    const b = await central().createCinema('B');
    const { user, password } = await central().createUser(['salesperson'], a.id);
    const bare = await central().client().POST('/v1/auth/login', { body: { username: user.username, password } });
    assert.equal(bare.response.status, 403);
    assert.equal(bare.error?.code, 'login_needs_cinema_terminal');

    const terminalB = await central().enrolTerminal(b.id);
    const wrongTill = await central().client(terminalB.token).POST('/v1/auth/login', { body: { username: user.username, password } });
    assert.equal(wrongTill.response.status, 403);

    const terminalA = await central().enrolTerminal(a.id);
    const session = await central().login(user.username, password, terminalA);
    assert.equal(session.session.cinemaId, a.id);
    assert.equal(session.session.terminal?.id, terminalA.terminalId);
  });

  it('binds an HQ user logged in on a terminal to that terminal\'s cinema', async () => {
    const a = await central().createCinema('A');
    const b = await central().createCinema('B');
    const terminal = await central().enrolTerminal(a.id);
    const admin = await central().loginAs('admin', { terminal });
    assert.equal(admin.session.cinemaId, a.id);
    ok(await admin.client.GET('/v1/cinemas/{cinemaId}', { params: { path: { cinemaId: a.id } } }));
    const other = await admin.client.GET('/v1/cinemas/{cinemaId}', { params: { path: { cinemaId: b.id } } });
    assert.equal(other.response.status, 403);
    assert.equal(other.error?.code, 'cinema_out_of_scope');
  });

  it('refuses to log in with a user token as the terminal', async () => {
    const { user, password } = await central().createUser(['operator']);
    const result = await central().admin.client.POST('/v1/auth/login', { body: { username: user.username, password } });
    assert.equal(result.response.status, 400);
    assert.equal(result.error?.code, 'login_on_user_token');
  });

  it('refuses missing, malformed, forged and expired tokens with 401', async () => {
    const noToken = await central().client().GET('/v1/auth/session');
    assert.equal(noToken.error?.code, 'token_missing');
    const garbage = await central().client('not.a.jwt').GET('/v1/auth/session');
    assert.equal(garbage.error?.code, 'token_invalid');
    const [header, payload] = central().admin.token.split('.');
    const forged = await central().client(`${header}.${payload}.AAAA`).GET('/v1/auth/session');
    assert.equal(forged.response.status, 401);
    const { TokenService } = await import('./tokens.ts');
    const other = new TokenService('x'.repeat(40), 60);
    const foreign = await central().client(await other.issue({ kind: 'user', userId: central().admin.session.user!.id, terminalId: null })).GET('/v1/auth/session');
    assert.equal(foreign.error?.code, 'token_invalid');
    const { SignJWT } = await import('jose');
    const expired = await new SignJWT({ typ: 'user' })
      .setSubject(central().admin.session.user!.id)
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('cinecard-central')
      .setAudience('cinecard')
      .setIssuedAt(Math.floor(Date.now() / 1000) - 3600)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
      .sign(new TextEncoder().encode(central().platform.config.jwtSecret));
    const late = await central().client(expired).GET('/v1/auth/session');
    assert.equal(late.error?.code, 'token_invalid');
  });

  it('lets a user change its own password, given the current one', async () => {
    const { user, password } = await central().createUser(['statistician']);
    const session = await central().login(user.username, password);
    const wrong = await session.client.POST('/v1/auth/password', { body: { currentPassword: 'not it', newPassword: 'a brand new password' } });
    assert.equal(wrong.error?.code, 'current_password_wrong');
    const same = await session.client.POST('/v1/auth/password', { body: { currentPassword: password, newPassword: password } });
    assert.equal(same.error?.code, 'password_unchanged');
    const short = await session.client.POST('/v1/auth/password', { body: { currentPassword: password, newPassword: 'short' } });
    assert.deepEqual(short.error?.fields?.map((f) => f.path), ['body.newPassword']);
    const changed = await session.client.POST('/v1/auth/password', { body: { currentPassword: password, newPassword: 'a brand new password' } });
    assert.equal(changed.response.status, 204);
    assert.equal((await central().client().POST('/v1/auth/login', { body: { username: user.username, password } })).response.status, 401);
    await central().login(user.username, 'a brand new password');
    const terminal = await central().enrolTerminal((await central().createCinema()).id);
    const byTerminal = await terminal.client.POST('/v1/auth/password', { body: { currentPassword: 'x', newPassword: 'a brand new password' } });
    assert.equal(byTerminal.error?.code, 'password_needs_user');
  });

  it('refreshes a login session with single-use refresh tokens until logout', async () => {
    const { user, password } = await central().createUser(['operator']);
    const login = ok(await central().client().POST('/v1/auth/login', { body: { username: user.username, password } }));
    assert.ok(login.refreshToken);
    assert.ok(login.refreshExpiresAt! > new Date(Date.now() + 11 * 3600_000).toISOString(), 'a shift long');
    const first = ok(await central().client().POST('/v1/auth/refresh', { body: { refreshToken: login.refreshToken } }));
    assert.notEqual(first.refreshToken, login.refreshToken);
    assert.equal(first.refreshExpiresAt, login.refreshExpiresAt, 'the session end does not slide');
    assert.equal(first.session.user?.id, user.id);
    ok(await central().client(first.accessToken).GET('/v1/auth/session'));
    const second = ok(await central().client().POST('/v1/auth/refresh', { body: { refreshToken: first.refreshToken! } }));
    ok(await central().client().POST('/v1/auth/logout', { body: { refreshToken: second.refreshToken! } }));
    const after = await central().client().POST('/v1/auth/refresh', { body: { refreshToken: second.refreshToken! } });
    assert.equal(after.error?.code, 'refresh_token_invalid');
    // Logging out an unknown token is not an error (nothing to tell an attacker).
    assert.equal((await central().client().POST('/v1/auth/logout', { body: { refreshToken: 'unknown' } })).response.status, 204);
  });

  it('ends the whole session when a spent refresh token comes back', async () => {
    const { user, password } = await central().createUser(['operator']);
    const login = ok(await central().client().POST('/v1/auth/login', { body: { username: user.username, password } }));
    const next = ok(await central().client().POST('/v1/auth/refresh', { body: { refreshToken: login.refreshToken! } }));
    const replay = await central().client().POST('/v1/auth/refresh', { body: { refreshToken: login.refreshToken! } });
    assert.equal(replay.error?.code, 'refresh_token_reused');
    const legit = await central().client().POST('/v1/auth/refresh', { body: { refreshToken: next.refreshToken! } });
    assert.equal(legit.error?.code, 'refresh_token_invalid', 'the thief and the owner both lose the session');
    const audit = ok(await central().admin.client.GET('/v1/audit-log', { params: { query: { action: 'session.refresh_reused' } } }));
    assert.ok(audit.items.some((e) => e.targetId === user.id));
  });

  it('refuses to refresh an expired session, a disabled user or a revoked terminal', async () => {
    const cinema = await central().createCinema();
    const terminal = await central().enrolTerminal(cinema.id);
    assert.equal(terminal.session.kind, 'terminal');
    const seller = await central().createUser(['salesperson'], cinema.id);
    const onTill = ok(await central().client(terminal.token).POST('/v1/auth/login', { body: { username: seller.user.username, password: seller.password } }));
    const refreshed = ok(await central().client().POST('/v1/auth/refresh', { body: { refreshToken: onTill.refreshToken! } }));
    assert.equal(refreshed.session.terminal?.id, terminal.terminalId, 'still bound to its terminal');
    ok(await central().admin.client.POST('/v1/terminals/{terminalId}/revoke', { params: { path: { terminalId: terminal.terminalId } } }));
    const revoked = await central().client().POST('/v1/auth/refresh', { body: { refreshToken: refreshed.refreshToken! } });
    assert.equal(revoked.error?.code, 'principal_gone');

    const { user, password } = await central().createUser(['operator']);
    const a = ok(await central().client().POST('/v1/auth/login', { body: { username: user.username, password } }));
    const b = ok(await central().client().POST('/v1/auth/login', { body: { username: user.username, password } }));
    await central().platform.db('refresh_tokens').where({ user_id: user.id }).update({ expires_at: '2000-01-01T00:00:00.000Z' });
    assert.equal((await central().client().POST('/v1/auth/refresh', { body: { refreshToken: a.refreshToken! } })).error?.code, 'refresh_token_invalid');
    await central().platform.db('refresh_tokens').where({ user_id: user.id }).update({ expires_at: '2100-01-01T00:00:00.000Z' });
    ok(await central().admin.client.PATCH('/v1/users/{userId}', { params: { path: { userId: user.id } }, body: { disabled: true } }));
    assert.equal((await central().client().POST('/v1/auth/refresh', { body: { refreshToken: b.refreshToken! } })).error?.code, 'principal_gone');
  });

  it('gives a terminal no refresh token (it has its secret)', async () => {
    const terminal = await central().enrolTerminal((await central().createCinema()).id);
    const token = ok(await central().client().POST('/v1/auth/terminal-token', { body: { terminalId: terminal.terminalId, secret: terminal.secret } }));
    assert.equal(token.refreshToken, null);
    assert.equal(token.refreshExpiresAt, null);
  });

  it('stores passwords as scrypt hashes only', async () => {
    const { user, password } = await central().createUser(['operator']);
    const row = await central().platform.db('users').where({ id: user.id }).first();
    assert.match(row.password_hash, /^scrypt\$16384\$8\$1\$/);
    assert.ok(!row.password_hash.includes(password));
  });

  it('never writes passwords, secrets or tokens to the log', async () => {
    const { user, password } = await central().createUser(['operator']);
    const session = await central().login(user.username, password);
    const cinema = await central().createCinema();
    const terminal = await central().enrolTerminal(cinema.id);
    ok(await session.client.GET('/v1/auth/session'));
    const log = central().logLines.join('\n');
    assert.ok(log.includes('/v1/auth/login'), 'requests are logged');
    const refresh = ok(await central().client().POST('/v1/auth/login', { body: { username: user.username, password } })).refreshToken!;
    ok(await central().client().POST('/v1/auth/refresh', { body: { refreshToken: refresh } }));
    for (const secret of [password, session.token, terminal.secret, terminal.token, refresh, central().platform.config.jwtSecret]) {
      assert.ok(!log.includes(secret), `the log contains a secret (${secret.slice(0, 6)}…)`);
    }
  });
});

describeCentral(
  'login rate limit',
  (central) => {
    it('answers 429 with a message after the configured number of credential attempts', async () => {
      const statuses: number[] = [];
      let last: { code?: string; message?: string } | undefined;
      for (let i = 0; i < 5; i++) {
        const r = await central().client().POST('/v1/auth/terminal-token', {
          body: { terminalId: '01900000-0000-7000-8000-000000000000', secret: 'guess' },
        });
        statuses.push(r.response.status);
        last = r.error;
      }
      assert.deepEqual(statuses, [401, 401, 401, 429, 429]);
      assert.equal(last?.code, 'rate_limited');
      assert.match(last?.message ?? '', /try again in/);
      // Login shares the limit with the other credential endpoints.
      const login = await central().client().POST('/v1/auth/login', { body: { username: 'x', password: 'y' } });
      assert.equal(login.response.status, 429);
      // Other operations are not limited.
      ok(await central().client().GET('/v1/health'));
    });
  },
  // The harness logs the admin in once before the test: 1 + 3 attempts fit, the 4th does not.
  { login: { rateLimitMax: 4, rateLimitWindowSeconds: 600 } },
);

describeCentral(
  'configured permissions',
  (central) => {
    it('follows the configured table instead of the default', async () => {
      const operator = await central().loginAs('operator');
      ok(await operator.client.POST('/v1/cinemas', { body: { code: central().unique('OP'), name: 'By an operator' } }));
      const cinema = await central().createCinema();
      const terminal = await central().enrolTerminal(cinema.id);
      assert.deepEqual(terminal.session.permissions, ['cinemas.read']);
      const manager = await central().loginAs('manager', { terminal });
      assert.equal((await manager.client.GET('/v1/users')).response.status, 200, 'roles not named keep their defaults');
    });
  },
  { permissions: { operator: ['cinemas.read', 'cinemas.manage'], terminal: ['cinemas.read'] } },
);

describeCentral(
  'login rate limit behind a proxy',
  (central) => {
    it('counts each forwarded client address on its own', async () => {
      const attempt = (ip: string) =>
        fetch(`${central().url}/v1/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-forwarded-for': ip },
          body: JSON.stringify({ username: 'nobody', password: 'guess' }),
        }).then((r) => r.status);
      assert.deepEqual([await attempt('10.0.0.1'), await attempt('10.0.0.1'), await attempt('10.0.0.1')], [401, 401, 429]);
      assert.equal(await attempt('10.0.0.2'), 401);
    });
  },
  { trustProxy: true, login: { rateLimitMax: 2, rateLimitWindowSeconds: 600 } },
);
