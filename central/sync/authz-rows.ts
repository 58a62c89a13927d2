/**
 * The sync hub's rows of the authorization matrix (`central/authz-matrix.test.ts`), written from
 * DESIGN §5: only an enrolled terminal by itself uploads and pulls (`sync.*` is the terminal's
 * own permission, not its users'); sync health and parked ops are read by whoever reads terminals
 * (HQ admin, the cinema's manager), fraud alerts by whoever manages the blacklist.
 */
import type { MatrixFixtures, MatrixRow } from '../authz-matrix.test.ts';

type Target = 'A' | 'B';
const admins: MatrixRow['allowed'][number][] = ['admin', 'admin_on_terminal'];
const ofCinema = (f: MatrixFixtures, t: Target) => ({ params: { query: { cinemaId: f.cinemas[t].id } } });

export const syncRows: MatrixRow[] = [
  {
    operationId: 'uploadSyncBatch',
    allowed: ['terminal'],
    scoped: false,
    call: (c) => c.POST('/v1/sync/batches', { body: { ops: [], deviceTime: new Date().toISOString() } }),
  },
  { operationId: 'pullSyncChanges', allowed: ['terminal'], scoped: false, call: (c) => c.GET('/v1/sync/changes', { params: { query: { cursor: 0 } } }) },
  { operationId: 'getSyncSnapshot', allowed: ['terminal'], scoped: false, call: (c) => c.GET('/v1/sync/snapshot', { params: { query: { limit: 10 } } }) },
  { operationId: 'getTerminalOps', allowed: ['terminal'], scoped: false, call: (c) => c.GET('/v1/sync/terminal-ops', { params: { query: { after: 0 } } }) },
  { operationId: 'getSyncHealth', allowed: [...admins, 'manager'], scoped: true, call: (c, t, f) => c.GET('/v1/sync/health', ofCinema(f, t)) },
  { operationId: 'listFraudAlerts', allowed: [...admins, 'manager'], scoped: true, call: (c, t, f) => c.GET('/v1/sync/fraud-alerts', ofCinema(f, t)) },
  { operationId: 'listParkedOps', allowed: [...admins, 'manager'], scoped: true, call: (c, t, f) => c.GET('/v1/sync/parked', ofCinema(f, t)) },
];
