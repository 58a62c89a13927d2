/**
 * What a backup needs from a database kind (`sqlite-engine.ts`, `postgres-engine.ts`): a
 * consistent copy in one file, a trial restore into a scratch database, and a restore in place.
 */
import type { Dialect } from '../store/database.ts';
import type { DatabaseContents } from './manifest.ts';

export interface BackupEngine {
  readonly dialect: Dialect;
  /** The backup file's extension: `sqlite` (a database file) or `pgdump` (pg_dump's custom format). */
  readonly extension: 'sqlite' | 'pgdump';
  /** The name a restore must be confirmed with (`--overwrite <name>`). */
  readonly databaseName: string;
  /** Writes a consistent copy of the live database to `file`; returns what it holds, counted in the same snapshot. */
  dump(file: string): Promise<DatabaseContents>;
  /**
   * Restores `file` into a new scratch database, reads what it holds and the migrations this code
   * has that it lacks, then drops the scratch database.
   */
  inspect(file: string): Promise<DatabaseContents & { readonly pending: readonly string[]; readonly problems: readonly string[] }>;
  /** Replaces the configured database's contents with `file`'s, all or nothing. */
  restoreLive(file: string): Promise<void>;
  /**
   * Claims the right to back up among all instances on this database: resolves with the release,
   * or null while another instance holds it.
   */
  exclusive(): Promise<(() => Promise<void>) | null>;
}

/** A query runner: the rows of one SQL statement. */
export type RunQuery = (sql: string) => Promise<Record<string, unknown>[]>;

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** Every table's row count and the applied migrations, read through `query` (one snapshot if the caller holds one). */
export async function readContents(query: RunQuery, dialect: Dialect): Promise<DatabaseContents> {
  const list =
    dialect === 'sqlite'
      ? "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
      : 'SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename';
  const names = (await query(list)).map((r) => String(r['name']));
  const tables: Record<string, number> = {};
  for (const name of names) {
    const [row] = await query(`SELECT count(*) AS n FROM ${quote(name)}`);
    tables[name] = Number(row?.['n'] ?? 0);
  }
  const migrations = names.includes('knex_migrations')
    ? (await query('SELECT name FROM knex_migrations ORDER BY id')).map((r) => String(r['name']))
    : [];
  return { tables, migrations };
}
