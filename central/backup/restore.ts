/**
 * Restoring a backup into the configured database (`npm run central -- restore <backup>`):
 *
 *   1. find the backup (an id in the backup directory or off-site, or the path of its file or manifest);
 *   2. refuse it unless it is of this database kind and its file's SHA-256 is the manifest's;
 *   3. refuse unless the operator confirmed with the database's name (`--overwrite <name>`);
 *   4. restore it into a scratch database first and check it against the manifest — a backup that
 *      does not restore cleanly never touches the live database;
 *   5. (the CLI: save the current database beside the backups, in case the wrong backup was picked;)
 *   6. replace the live database's contents (all or nothing), give its change log a new log id (so
 *      every terminal resets: `spec/sync.md` § Central restored from a backup), then count its rows again.
 */
import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Knex } from 'knex';
import { CentralError } from '../errors.ts';
import type { BackupDirectory } from './backup-directory.ts';
import { readManifest } from './backup-directory.ts';
import type { BackupEngine } from './engine.ts';
import { readContents } from './engine.ts';
import { backupIdPattern, contentsDifference, sha256Of, type BackupManifest, type DatabaseContents } from './manifest.ts';
import { backupMessages } from './messages.ts';
import type { OffsiteTarget } from './offsite.ts';
import { dialectOf } from '../store/database.ts';
import { renewLogId } from '../sync/change-log.ts';

export interface LocatedBackup {
  readonly manifest: BackupManifest;
  readonly manifestPath: string;
  /** The database file (beside the manifest). */
  readonly file: string;
}

/** Finds a backup by id (locally, then off-site) or by the path of its file or manifest. */
export async function locateBackup(reference: string, directory: BackupDirectory, offsite?: OffsiteTarget): Promise<LocatedBackup> {
  let manifestPath: string | undefined;
  if (existsSync(reference) && !backupIdPattern.test(reference)) {
    const name = basename(reference);
    const id = name.replace(/\.(manifest\.json|sqlite|pgdump)$/, '');
    if (id !== name) manifestPath = join(dirname(reference), `${id}.manifest.json`);
  } else if (backupIdPattern.test(reference)) {
    const candidates = [directory.manifestFile(reference), offsite?.localPath?.(reference, `${reference}.manifest.json`)];
    manifestPath = candidates.find((p): p is string => p !== undefined && existsSync(p));
  }
  if (!manifestPath || !existsSync(manifestPath)) throw new CentralError(backupMessages.backup_not_found, { backup: reference });
  const manifest = await readManifest(manifestPath);
  const file = join(dirname(manifestPath), manifest.file);
  if (!existsSync(file)) throw new CentralError(backupMessages.backup_not_found, { backup: file });
  return { manifest, manifestPath, file };
}

/** Refuses a backup of another database kind or whose file does not match its manifest's checksum. */
export async function checkBackup(located: LocatedBackup, engine: BackupEngine): Promise<void> {
  const { manifest, file } = located;
  if (manifest.dialect !== engine.dialect) {
    throw new CentralError(backupMessages.backup_dialect_mismatch, { backup: manifest.id, backupDialect: manifest.dialect, dialect: engine.dialect });
  }
  const actual = await sha256Of(file);
  if (actual !== manifest.sha256) {
    throw new CentralError(backupMessages.backup_checksum_mismatch, { backup: manifest.id, file, actual, expected: manifest.sha256 });
  }
}

export interface RestoreOptions {
  /** Must equal the engine's database name: the operator's confirmation. */
  readonly overwrite?: string | undefined;
  /**
   * Runs after the trial restore passed, just before the live database is overwritten (the CLI
   * saves the current database there); throwing stops the restore.
   */
  readonly beforeOverwrite?: (() => Promise<void>) | undefined;
}

/** Restores a located, checked backup into the live database; returns what the live database then holds. */
export async function restoreBackup(
  located: LocatedBackup,
  engine: BackupEngine,
  live: Knex,
  options: RestoreOptions,
): Promise<DatabaseContents> {
  await checkBackup(located, engine);
  if (options.overwrite !== engine.databaseName) {
    throw new CentralError(backupMessages.restore_needs_confirmation, { database: engine.databaseName });
  }
  const { manifest, file } = located;
  const trial = await engine.inspect(file);
  const trialProblem = trial.problems.join('; ') || contentsDifference(manifest, trial);
  if (trialProblem) throw new CentralError(backupMessages.backup_verification_failed, { backup: manifest.id, detail: trialProblem });
  await options.beforeOverwrite?.();
  await engine.restoreLive(file);
  // The restored change log's head went back: a new log id tells every terminal to reset.
  await renewLogId(live);
  const dialect = dialectOf(live);
  const restored = await readContents(async (sql) => {
    const result = await live.raw(sql);
    return (dialect === 'postgres' ? result.rows : result) as Record<string, unknown>[];
  }, dialect);
  const difference = contentsDifference(manifest, restored);
  if (difference) throw new CentralError(backupMessages.backup_verification_failed, { backup: manifest.id, detail: `after the restore, ${difference}` });
  return restored;
}
