/**
 * The knex factory: SQLite in a data directory by default, PostgreSQL when a URL is given. Every
 * dialect difference of the central store lives in this folder.
 */
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import knexFactory, { type Knex } from 'knex';
import pg from 'pg';

export type Dialect = 'sqlite' | 'postgres';

// SQLite write transactions start with BEGIN IMMEDIATE (DESIGN §6): a deferred BEGIN that later
// writes can fail with SQLITE_BUSY without waiting when another process (the CLI, a second
// instance) writes meanwhile. knex has no option for it, so its SQLite transaction is subclassed
// here, the one place that knows (knex has no exports map; the files are reached by path).
const require = createRequire(import.meta.url);
type Constructor<T> = new (...args: any[]) => T;
const KnexSqliteTransaction: Constructor<{ query(conn: unknown, sql: string): Promise<unknown> }> = require(
  'knex/lib/dialects/sqlite3/execution/sqlite-transaction.js',
);
const KnexSqliteClient: Constructor<object> = require('knex/lib/dialects/sqlite3/index.js');

class ImmediateTransaction extends KnexSqliteTransaction {
  begin(conn: unknown) {
    return this.query(conn, 'BEGIN IMMEDIATE;');
  }
}

class SqliteClient extends KnexSqliteClient {
  transaction(...args: unknown[]) {
    return new ImmediateTransaction(this, ...args);
  }
}

export interface DatabaseSettings {
  /** Folder for the SQLite file; ignored with `databaseUrl`. */
  readonly dataDir: string;
  /** `postgres://…` selects PostgreSQL. */
  readonly databaseUrl?: string | undefined;
}

/** The SQLite file's name inside the data directory. */
export const sqliteFileName = 'central.sqlite';

// PostgreSQL returns int8 (counts, fen sums) as strings; our values stay far below 2^53, so a
// number is exact — and a value that is not is refused rather than silently rounded.
pg.types.setTypeParser(pg.types.builtins.INT8, (text: string) => {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new RangeError(`int8 value ${text} exceeds the safe integer range`);
  return value;
});

export function dialectOf(db: Knex): Dialect {
  return db.client.config.client === 'pg' ? 'postgres' : 'sqlite';
}

/** Where knex's own warnings go (by default it writes to the console). */
export interface DatabaseLog {
  warn(message: string): void;
  error(message: string): void;
}

function knexLog(log: DatabaseLog | undefined): Knex.Config['log'] {
  if (!log) return undefined;
  const text = (m: unknown) => (m instanceof Error ? m.message : String(m));
  return { warn: (m) => log.warn(text(m)), error: (m) => log.error(text(m)), deprecate: (m) => log.warn(text(m)), debug: () => {} };
}

export function createDatabase(settings: DatabaseSettings, log?: DatabaseLog): Knex {
  if (settings.databaseUrl) {
    return knexFactory({
      log: knexLog(log),
      client: 'pg',
      connection: settings.databaseUrl,
      pool: { min: 0, max: 10 },
    });
  }
  const dir = resolve(settings.dataDir);
  mkdirSync(dir, { recursive: true });
  return knexFactory({
    log: knexLog(log),
    client: SqliteClient as unknown as typeof Knex.Client,
    connection: { filename: join(dir, sqliteFileName) },
    useNullAsDefault: true,
    // Two connections: SQLite serialises writers anyway (every write transaction begins IMMEDIATE,
    // and busy_timeout makes a second writer wait its turn), but a read outside a transaction — a
    // request's authentication, a report — is served from WAL's last commit beside a long write
    // transaction (the sync ingest's group commit) instead of queueing behind it.
    pool: {
      min: 1,
      max: 2,
      afterCreate(conn: SqliteConnection, done: (error: Error | null, conn: SqliteConnection) => void) {
        conn.exec(
          'PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;',
          (error) => done(error, conn),
        );
      },
    },
  });
}

interface SqliteConnection {
  exec(sql: string, callback: (error: Error | null) => void): void;
}
