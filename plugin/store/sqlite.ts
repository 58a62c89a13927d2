/**
 * The terminal's SQLite database through knex. The terminal may hold the only copy of an op, so:
 * WAL with `synchronous=FULL` (a commit survives a power cut), a busy timeout, foreign keys on, and
 * write transactions that start with `BEGIN IMMEDIATE` — a deferred BEGIN that upgrades to a write
 * can fail with SQLITE_BUSY without the busy handler running, when the POS and the sync worker are
 * separate processes (reference: offline-sync §5).
 */
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import knexFactory, { type Knex } from 'knex';
import type { Logger } from '../../adapters/logger.ts';
// knex has no option for BEGIN IMMEDIATE; its SQLite client and transaction are subclassed here, the
// one place that knows. (knex publishes no exports map: these files are reachable by path.)
const require = createRequire(import.meta.url);
type Ctor<T> = new (...args: any[]) => T;
const SqliteTransaction: Ctor<{ query(conn: unknown, sql: string): Promise<unknown> }> = require(
  'knex/lib/dialects/sqlite3/execution/sqlite-transaction.js',
);
const SqliteClient: Ctor<object> = require('knex/lib/dialects/sqlite3/index.js');

class ImmediateTransaction extends SqliteTransaction {
  begin(conn: unknown) {
    return this.query(conn, 'BEGIN IMMEDIATE;');
  }
}

class ImmediateSqliteClient extends SqliteClient {
  transaction(...args: unknown[]) {
    return new ImmediateTransaction(this, ...args);
  }
}

interface SqliteConnection {
  run(sql: string, cb: (err: Error | null) => void): void;
  configure(option: 'busyTimeout', ms: number): void;
}

export interface TerminalDbOptions {
  /** The database file; its directory is created if missing. `:memory:` for throwaway tests. */
  readonly filename: string;
  /** How long a write waits for another process's lock, ms. */
  readonly busyTimeoutMs?: number;
  /** Where knex's own warnings go (e.g. "Acquire connection error"); default: knex prints them to the console. */
  readonly logger?: Logger;
}

export function openTerminalDb(options: TerminalDbOptions): Knex {
  if (options.filename !== ':memory:') mkdirSync(dirname(options.filename), { recursive: true });
  const pragmas = [
    'PRAGMA journal_mode = WAL',
    'PRAGMA synchronous = FULL',
    'PRAGMA foreign_keys = ON',
  ];
  return knexFactory({
    client: ImmediateSqliteClient,
    connection: { filename: options.filename },
    useNullAsDefault: true,
    ...(options.logger && { log: knexLog(options.logger.child({ part: 'knex' })) }),
    // One connection: SQLite has one writer anyway, and it keeps the pragmas in force.
    pool: {
      min: 1,
      max: 1,
      afterCreate(conn: SqliteConnection, done: (err: Error | null, conn: SqliteConnection) => void) {
        conn.configure('busyTimeout', options.busyTimeoutMs ?? 5000);
        const next = (i: number): void => {
          if (i === pragmas.length) return done(null, conn);
          conn.run(pragmas[i]!, (err) => (err ? done(err, conn) : next(i + 1)));
        };
        next(0);
      },
    },
  } as unknown as Knex.Config);
}

function knexLog(logger: Logger): Knex.Config['log'] {
  const text = (m: unknown) => (typeof m === 'string' ? m : String((m as Error)?.message ?? m));
  return {
    warn: (m: unknown) => logger.warn(text(m)),
    error: (m: unknown) => logger.error(text(m)),
    debug: (m: unknown) => logger.debug(text(m)),
    deprecate: (method: string, alternative: string) => logger.warn(`${method} is deprecated; use ${alternative}`),
  };
}
