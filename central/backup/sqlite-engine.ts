/**
 * SQLite backups through SQLite's online backup API (node-sqlite3's `Database#backup`): a
 * page-by-page copy that is consistent while the service keeps writing — never a file copy of a
 * live database, which can catch a half-applied transaction or miss the WAL.
 */
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sqlite3 from 'sqlite3';
import { createDatabase, sqliteFileName } from '../store/database.ts';
import { pendingMigrations } from '../store/migration-source.ts';
import type { BackupEngine, RunQuery } from './engine.ts';
import { readContents } from './engine.ts';
import type { DatabaseContents } from './manifest.ts';

/** node-sqlite3's backup handle (its type declarations leave it out). */
interface SqliteBackup {
  step(pages: number, callback: (error: Error | null) => void): void;
  finish(callback?: (error: Error | null) => void): void;
  readonly completed: boolean;
  readonly failed: boolean;
}
interface BackupCapable {
  backup(filename: string, destName: string, sourceName: string, filenameIsDest: boolean, callback: (error: Error | null) => void): SqliteBackup;
}

function openDatabase(file: string, mode = sqlite3.OPEN_READWRITE | sqlite3.OPEN_CREATE): Promise<sqlite3.Database> {
  return new Promise((resolveOpen, reject) => {
    const db = new sqlite3.Database(file, mode, (error) => (error ? reject(error) : resolveOpen(db)));
  });
}

function close(db: sqlite3.Database): Promise<void> {
  return new Promise((done, reject) => db.close((error) => (error ? reject(error) : done())));
}

const queryOn =
  (db: sqlite3.Database): RunQuery =>
  (sql) =>
    new Promise((done, reject) => db.all(sql, (error: Error | null, rows: Record<string, unknown>[]) => (error ? reject(error) : done(rows))));

/**
 * Copies between `db` and `file` with the backup API: into `file` (`toFile`) or from it. A step
 * that meets a busy or locked database is retried (the copy restarts if the source changed
 * meanwhile — that is what makes it consistent); the whole copy gives up after `timeoutMs`.
 */
function copy(db: sqlite3.Database, file: string, toFile: boolean, timeoutMs = 120_000): Promise<void> {
  return new Promise((done, reject) => {
    const deadline = Date.now() + timeoutMs;
    let backup: SqliteBackup;
    const step = () =>
      backup.step(-1, (error) => {
        if (backup.completed) return backup.finish(() => done());
        if (error || backup.failed) return backup.finish(() => reject(error ?? new Error('the SQLite backup failed')));
        if (Date.now() > deadline) return backup.finish(() => reject(new Error('the database stayed busy; the SQLite backup gave up')));
        setTimeout(step, 50);
      });
    backup = (db as unknown as BackupCapable).backup(file, 'main', 'main', toFile, (error) => (error ? reject(error) : step()));
  });
}

export class SqliteEngine implements BackupEngine {
  readonly dialect = 'sqlite' as const;
  readonly extension = 'sqlite' as const;
  readonly databaseName = sqliteFileName;
  private readonly livePath: string;

  constructor(dataDir: string) {
    this.livePath = join(resolve(dataDir), sqliteFileName);
  }

  async dump(file: string): Promise<DatabaseContents> {
    const live = await openDatabase(this.livePath, sqlite3.OPEN_READWRITE);
    try {
      await queryOn(live)('PRAGMA busy_timeout = 5000');
      await copy(live, file, true);
    } finally {
      await close(live);
    }
    // The copy keeps the live database's WAL mode; make it one self-contained file, then count it.
    const copyDb = await openDatabase(file, sqlite3.OPEN_READWRITE);
    try {
      const query = queryOn(copyDb);
      await query('PRAGMA journal_mode = DELETE');
      return await readContents(query, 'sqlite');
    } finally {
      await close(copyDb);
    }
  }

  async inspect(file: string) {
    const scratch = mkdtempSync(join(tmpdir(), 'cinecard-verify-'));
    try {
      const target = await openDatabase(join(scratch, sqliteFileName));
      try {
        await copy(target, file, false);
      } finally {
        await close(target);
      }
      const db = createDatabase({ dataDir: scratch });
      try {
        const query: RunQuery = async (sql) => (await db.raw(sql)) as Record<string, unknown>[];
        const integrity = (await query('PRAGMA integrity_check')).map((r) => String(Object.values(r)[0]));
        const problems = integrity.join() === 'ok' ? [] : integrity.map((line) => `integrity check: ${line}`);
        return { ...(await readContents(query, 'sqlite')), pending: await pendingMigrations(db), problems };
      } finally {
        await db.destroy();
      }
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }

  /** One SQLite file has one machine: the backup directory's lock file is enough. */
  async exclusive(): Promise<() => Promise<void>> {
    return async () => {};
  }

  async restoreLive(file: string): Promise<void> {
    const live = await openDatabase(this.livePath);
    try {
      await queryOn(live)('PRAGMA busy_timeout = 5000');
      await copy(live, file, false);
      await queryOn(live)('PRAGMA journal_mode = WAL');
    } finally {
      await close(live);
    }
  }
}
