/**
 * The authorization matrix: every operation × every actor, on the actor's own cinema and on another
 * one. The expected outcomes are written here by hand from DESIGN §5 — not derived from
 * `central/auth/permissions.ts` — so a wrong entry in the permission table fails this test.
 *
 * A module adds one row per operation to `rows`; the last test fails while a spec operation has none.
 */
import assert from 'node:assert/strict';
import type { CentralClient, Schemas } from './client/index.ts';
import { describeCentral, ok, type EnrolledTerminal, type TestCentral } from './test-support/harness.ts';
import { specOperations } from './test-support/spec-validator.ts';
import { cardDomainRows } from './cards/authz-rows.ts';
import { syncRows } from './sync/authz-rows.ts';
import { backupRows } from './backup/authz-rows.ts';
import { reportRows } from './reports/authz-rows.ts';

const actors = [
  'anonymous',
  'terminal',
  'admin',
  'admin_on_terminal',
  'operator',
  'statistician',
  'manager',
  'local_statistician',
  'customer_query',
  'salesperson',
] as const;
type Actor = (typeof actors)[number];

/** Actors whose scope is cinema A: the terminal, cinema staff on it, and an admin logged in on it. */
const boundToCinemaA: ReadonlySet<Actor> = new Set(['terminal', 'admin_on_terminal', 'manager', 'local_statistician', 'customer_query', 'salesperson']);
const everyone = actors;
const principals = actors.filter((a) => a !== 'anonymous');
const admins: Actor[] = ['admin', 'admin_on_terminal'];

/** What a matrix call gets: the two cinemas, a terminal of A, and the admin to make fixtures. */
export interface MatrixFixtures {
  readonly central: TestCentral;
  readonly cinemas: { readonly A: Schemas['Cinema']; readonly B: Schemas['Cinema'] };
  readonly terminals: { readonly A: EnrolledTerminal; readonly B: EnrolledTerminal };
  /** A cinema user of each cinema (targets of user operations). */
  readonly users: { readonly A: Schemas['User']; readonly B: Schemas['User'] };
  /** An HQ user with a known password (the login row logs it in). */
  readonly hqLogin: { readonly username: string; readonly password: string };
  /** Each user actor's current password (the password-change row changes it). */
  readonly passwords: Map<Actor, string>;
}

type Call = (client: CentralClient, target: 'A' | 'B', f: MatrixFixtures, actor: Actor) => Promise<{ response: Response; error?: unknown }>;

export interface MatrixRow {
  readonly operationId: string;
  /** Who succeeds (2xx) on its own cinema / on HQ-wide things. Everyone else: 401 or 403. */
  readonly allowed: readonly Actor[];
  /** The operation acts for a cinema: run it on A and on B; on B, cinema-A-bound actors get 403. */
  readonly scoped: boolean;
  /** Other expected outcomes for some actors (status and error code). */
  readonly outcomes?: Partial<Record<Actor, readonly [number, string]>>;
  readonly call: Call;
}

/** A refresh token of a fresh login session of the HQ test user. */
async function newRefreshToken(f: MatrixFixtures): Promise<string> {
  return ok(await f.central.client().POST('/v1/auth/login', { body: f.hqLogin })).refreshToken!;
}

const path = (f: MatrixFixtures, t: 'A' | 'B') => ({ params: { path: { cinemaId: f.cinemas[t].id } } });

export const rows: MatrixRow[] = [
  { operationId: 'getHealth', allowed: everyone, scoped: false, call: (c) => c.GET('/v1/health') },
  // No metrics token in the harness: this machine (every actor here) may scrape; API tokens do not matter.
  { operationId: 'getMetrics', allowed: everyone, scoped: false, call: (c) => c.GET('/metrics', { parseAs: 'text' }) },
  {
    operationId: 'login',
    allowed: ['anonymous', 'terminal'],
    scoped: false,
    // Logging in while holding a user token is a malformed request, whoever the user is.
    outcomes: Object.fromEntries(principals.filter((a) => a !== 'terminal').map((a) => [a, [400, 'login_on_user_token']])),
    call: (c, _t, f) => c.POST('/v1/auth/login', { body: f.hqLogin }),
  },
  {
    operationId: 'createTerminalToken',
    allowed: everyone,
    scoped: false,
    call: (c, _t, f) => c.POST('/v1/auth/terminal-token', { body: { terminalId: f.terminals.A.terminalId, secret: f.terminals.A.secret } }),
  },
  { operationId: 'getSession', allowed: principals, scoped: false, call: (c) => c.GET('/v1/auth/session') },
  {
    operationId: 'refreshSession',
    allowed: everyone,
    scoped: false,
    call: async (c, _t, f) => c.POST('/v1/auth/refresh', { body: { refreshToken: await newRefreshToken(f) } }),
  },
  {
    operationId: 'logout',
    allowed: everyone,
    scoped: false,
    call: async (c, _t, f) => c.POST('/v1/auth/logout', { body: { refreshToken: await newRefreshToken(f) } }),
  },
  {
    operationId: 'changeOwnPassword',
    allowed: principals,
    scoped: false,
    // A terminal by itself has no password.
    outcomes: { terminal: [403, 'password_needs_user'] },
    call: async (c, _t, f, actor) => {
      const newPassword = f.central.unique('new password ');
      const result = await c.POST('/v1/auth/password', { body: { currentPassword: f.passwords.get(actor) ?? 'no password', newPassword } });
      if (result.response.ok) f.passwords.set(actor, newPassword);
      return result;
    },
  },
  {
    operationId: 'enrolTerminal',
    allowed: everyone,
    scoped: false,
    call: async (c, t, f) => {
      const code = ok(await f.central.admin.client.POST('/v1/cinemas/{cinemaId}/enrolment-codes', path(f, t)));
      return c.POST('/v1/terminals/enrol', { body: { code: code.code, name: 'Matrix till' } });
    },
  },
  {
    operationId: 'revokeTerminal',
    allowed: admins,
    scoped: true,
    call: async (c, t, f) => {
      const victim = await f.central.enrolTerminal(f.cinemas[t].id);
      return c.POST('/v1/terminals/{terminalId}/revoke', { params: { path: { terminalId: victim.terminalId } } });
    },
  },
  { operationId: 'listCinemas', allowed: principals, scoped: false, call: (c) => c.GET('/v1/cinemas') },
  {
    operationId: 'createCinema',
    allowed: admins,
    scoped: false,
    call: (c, _t, f) => c.POST('/v1/cinemas', { body: { code: f.central.unique('M'), name: 'Matrix cinema' } }),
  },
  { operationId: 'getCinema', allowed: principals, scoped: true, call: (c, t, f) => c.GET('/v1/cinemas/{cinemaId}', path(f, t)) },
  {
    operationId: 'updateCinema',
    allowed: admins,
    scoped: true,
    call: (c, t, f) => c.PATCH('/v1/cinemas/{cinemaId}', { ...path(f, t), body: { name: `Cinema ${t}` } }),
  },
  {
    operationId: 'createEnrolmentCode',
    allowed: admins,
    scoped: true,
    call: (c, t, f) => c.POST('/v1/cinemas/{cinemaId}/enrolment-codes', path(f, t)),
  },
  {
    operationId: 'listTerminals',
    allowed: [...admins, 'manager'],
    scoped: true,
    call: (c, t, f) => c.GET('/v1/cinemas/{cinemaId}/terminals', path(f, t)),
  },
  {
    operationId: 'listUsers',
    allowed: [...admins, 'manager'],
    scoped: true,
    call: (c, t, f) => c.GET('/v1/users', { params: { query: { cinemaId: f.cinemas[t].id } } }),
  },
  {
    operationId: 'createUser',
    allowed: [...admins, 'manager'],
    scoped: true,
    call: (c, t, f) =>
      c.POST('/v1/users', {
        body: { username: f.central.unique('mx'), displayName: 'Matrix', password: 'long enough pw', roles: ['salesperson'], cinemaId: f.cinemas[t].id },
      }),
  },
  {
    operationId: 'getUser',
    allowed: [...admins, 'manager'],
    scoped: true,
    call: (c, t, f) => c.GET('/v1/users/{userId}', { params: { path: { userId: f.users[t].id } } }),
  },
  {
    operationId: 'updateUser',
    allowed: [...admins, 'manager'],
    scoped: true,
    call: (c, t, f) => c.PATCH('/v1/users/{userId}', { params: { path: { userId: f.users[t].id } }, body: { displayName: 'Renamed' } }),
  },
  {
    operationId: 'listAuditEntries',
    allowed: admins,
    scoped: true,
    call: (c, t, f) => c.GET('/v1/audit-log', { params: { query: { cinemaId: f.cinemas[t].id, limit: 5 } } }),
  },
  ...cardDomainRows,
  ...syncRows,
  ...backupRows,
  ...reportRows,
];

type Outcome = 'ok' | readonly [number, string];

function expected(row: MatrixRow, actor: Actor, target: 'A' | 'B'): Outcome {
  const publicOp = row.allowed.includes('anonymous');
  if (actor === 'anonymous' && !publicOp) return [401, 'token_missing'];
  const special = row.outcomes?.[actor];
  if (special) return special;
  if (!row.allowed.includes(actor)) return [403, 'permission_denied'];
  if (row.scoped && target === 'B' && boundToCinemaA.has(actor)) return [403, 'cinema_out_of_scope'];
  return 'ok';
}

describeCentral('authorization matrix', (central) => {
  let fixtures: MatrixFixtures;
  const clients = new Map<Actor, CentralClient>();

  before(async function () {
    this.timeout(60_000);
    const c = central();
    const A = await c.createCinema('Cinema A');
    const B = await c.createCinema('Cinema B');
    const terminals = { A: await c.enrolTerminal(A.id), B: await c.enrolTerminal(B.id) };
    const hq = await c.createUser(['statistician']);
    fixtures = {
      central: c,
      cinemas: { A, B },
      terminals,
      users: { A: (await c.createUser(['salesperson'], A.id)).user, B: (await c.createUser(['salesperson'], B.id)).user },
      hqLogin: { username: hq.user.username, password: hq.password },
      passwords: new Map([['admin', c.adminPassword]]),
    };
    clients.set('anonymous', c.client());
    clients.set('terminal', terminals.A.client);
    clients.set('admin', c.admin.client);
    const adminOnTerminal = await c.loginAs('admin', { terminal: terminals.A });
    clients.set('admin_on_terminal', adminOnTerminal.client);
    fixtures.passwords.set('admin_on_terminal', adminOnTerminal.password);
    for (const role of ['operator', 'statistician'] as const) {
      const session = await c.loginAs(role);
      clients.set(role, session.client);
      fixtures.passwords.set(role, session.password);
    }
    for (const role of ['manager', 'local_statistician', 'customer_query', 'salesperson'] as const) {
      const session = await c.loginAs(role, { terminal: terminals.A });
      clients.set(role, session.client);
      fixtures.passwords.set(role, session.password);
    }
  });

  for (const row of rows) {
    it(`${row.operationId}: ${row.allowed.length === actors.length ? 'everyone' : row.allowed.join(', ')}${row.scoped ? ' (own cinema only)' : ''}`, async () => {
      const wrong: string[] = [];
      for (const actor of actors) {
        for (const target of row.scoped ? (['A', 'B'] as const) : (['A'] as const)) {
          const want = expected(row, actor, target);
          const { response, error } = await row.call(clients.get(actor)!, target, fixtures, actor);
          const code = (error as { code?: string } | undefined)?.code;
          const got = response.ok ? 'ok' : `${response.status} ${code}`;
          const wanted = want === 'ok' ? 'ok' : `${want[0]} ${want[1]}`;
          if (got !== wanted) wrong.push(`${actor} on cinema ${target}: expected ${wanted}, got ${got}${response.ok ? '' : ` (${JSON.stringify(error)})`}`);
        }
      }
      assert.deepEqual(wrong, []);
    });
  }

  it('has a row for every operation in the spec', () => {
    const covered = new Set(rows.map((r) => r.operationId));
    const missing = specOperations().map((op) => op.operationId).filter((id) => !covered.has(id));
    assert.deepEqual(missing, [], `operations without an authorization-matrix row: ${missing.join(', ')}`);
  });
});
