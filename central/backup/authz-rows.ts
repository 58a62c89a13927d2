/**
 * The backups' rows of the authorization matrix (`central/authz-matrix.test.ts`), from DESIGN §5:
 * backups are the HQ operator's ("operator: … backups"), and the admin may do everything — also
 * when logged in on a cinema's terminal, as backups belong to no cinema. Nobody else.
 */
import type { MatrixFixtures, MatrixRow } from '../authz-matrix.test.ts';
import { ok } from '../test-support/harness.ts';

const allowed: MatrixRow['allowed'] = ['admin', 'admin_on_terminal', 'operator'];

/** Waits until no backup runs, so each allowed actor's start gets 202 rather than 409 backup_in_progress. */
async function noBackupRunning(f: MatrixFixtures): Promise<void> {
  for (let i = 0; i < 600; i += 1) {
    const list = ok(await f.central.admin.client.GET('/v1/backups'));
    if (!list.items.some((b) => b.status === 'running')) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('a backup kept running');
}

export const backupRows: MatrixRow[] = [
  { operationId: 'listBackups', allowed, scoped: false, call: (c) => c.GET('/v1/backups') },
  {
    operationId: 'startBackup',
    allowed,
    scoped: false,
    call: async (c, _t, f) => {
      await noBackupRunning(f);
      return c.POST('/v1/backups');
    },
  },
];
