/**
 * The reports' rows of the authorization matrix (`central/authz-matrix.test.ts`), from DESIGN §5:
 * global statistics and settlement for HQ's statistician and the admin; a cinema's own statistics
 * for its manager and local statistician (and the admin), and for the cinema's terminals by
 * themselves (the till's statistics screen). An admin logged in on cinema A's till is bound to A on
 * the HQ routes too.
 */
import type { MatrixFixtures, MatrixRow } from '../authz-matrix.test.ts';

type Target = 'A' | 'B';
type Actor = MatrixRow['allowed'][number];

const hqStats: Actor[] = ['admin', 'admin_on_terminal', 'statistician'];
/** The terminal too: the till's statistics screen asks as the terminal (its cashier's role is checked at the till). */
const localStats: Actor[] = ['admin', 'admin_on_terminal', 'manager', 'local_statistician', 'terminal'];
const ofCinema = (f: MatrixFixtures, t: Target) => ({ params: { query: { cinemaId: f.cinemas[t].id } } });
const cinemaPath = (f: MatrixFixtures, t: Target) => ({ params: { path: { cinemaId: f.cinemas[t].id } } });

export const reportRows: MatrixRow[] = [
  { operationId: 'listRedemptions', allowed: hqStats, scoped: true, call: (c, t, f) => c.GET('/v1/reports/redemptions', ofCinema(f, t)) },
  { operationId: 'summarizeRedemptions', allowed: hqStats, scoped: true, call: (c, t, f) => c.GET('/v1/reports/redemptions/summary', ofCinema(f, t)) },
  { operationId: 'getSettlement', allowed: hqStats, scoped: true, call: (c, t, f) => c.GET('/v1/reports/settlement', ofCinema(f, t)) },
  { operationId: 'getLiability', allowed: hqStats, scoped: true, call: (c, t, f) => c.GET('/v1/reports/liability', ofCinema(f, t)) },
  { operationId: 'listRecycledCards', allowed: hqStats, scoped: true, call: (c, t, f) => c.GET('/v1/reports/recycled', ofCinema(f, t)) },
  {
    operationId: 'listCinemaRedemptions',
    allowed: localStats,
    scoped: true,
    call: (c, t, f) => c.GET('/v1/cinemas/{cinemaId}/reports/redemptions', cinemaPath(f, t)),
  },
  {
    operationId: 'summarizeCinemaRedemptions',
    allowed: localStats,
    scoped: true,
    call: (c, t, f) => c.GET('/v1/cinemas/{cinemaId}/reports/redemptions/summary', cinemaPath(f, t)),
  },
  { operationId: 'getCinemaLiability', allowed: localStats, scoped: true, call: (c, t, f) => c.GET('/v1/cinemas/{cinemaId}/reports/liability', cinemaPath(f, t)) },
  {
    operationId: 'exportReport',
    allowed: hqStats,
    scoped: true,
    call: (c, t, f) => c.GET('/v1/reports/export', { params: { query: { report: 'liability', format: 'csv', cinemaId: f.cinemas[t].id } }, parseAs: 'text' }),
  },
  {
    operationId: 'exportCinemaReport',
    allowed: localStats,
    scoped: true,
    call: (c, t, f) =>
      c.GET('/v1/cinemas/{cinemaId}/reports/export', { params: { path: { cinemaId: f.cinemas[t].id }, query: { report: 'recycled', format: 'xlsx' } }, parseAs: 'arrayBuffer' }),
  },
  { operationId: 'listCinemaRecycledCards', allowed: localStats, scoped: true, call: (c, t, f) => c.GET('/v1/cinemas/{cinemaId}/reports/recycled', cinemaPath(f, t)) },
];
