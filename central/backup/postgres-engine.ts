/**
 * PostgreSQL backups with the PostgreSQL tools: `pg_dump -Fc` in the snapshot the row counts were
 * read in (`--snapshot`), `pg_restore` into a scratch database for verification, and a restore in
 * place that runs as one transaction (`pg_restore` → `psql --single-transaction`), so a failed
 * restore leaves the database as it was.
 *
 * The password of the database URL travels in PGPASSWORD, never on a command line (which other
 * users of the machine can read in the process list).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import knexFactory from 'knex';
import pg from 'pg';
import { CentralError } from '../errors.ts';
import { pendingMigrations } from '../store/migration-source.ts';
import type { BackupEngine } from './engine.ts';
import { readContents } from './engine.ts';
import type { DatabaseContents } from './manifest.ts';
import { backupMessages } from './messages.ts';

interface Connection {
  /** The URL without its password. */
  readonly url: string;
  readonly env: NodeJS.ProcessEnv;
  readonly database: string;
}

function connection(databaseUrl: string, database?: string): Connection {
  const url = new URL(databaseUrl);
  const password = decodeURIComponent(url.password);
  url.password = '';
  if (database) url.pathname = `/${database}`;
  const env: NodeJS.ProcessEnv = { ...process.env, PGCONNECT_TIMEOUT: '10' };
  delete env['PGPASSWORD'];
  if (password) env['PGPASSWORD'] = password;
  return { url: url.toString(), env, database: decodeURIComponent(url.pathname.replace(/^\//, '')) };
}

/** The last lines of a tool's error output, for the error message. */
const tail = (text: string) => text.trim().split('\n').slice(-5).join(' | ').slice(0, 800) || 'no output';

const scratchPrefix = 'cinecard_verify_';

/**
 * Scratch databases a verification left behind when its process died: named with their creation
 * time, those over an hour old that nobody is connected to (a verification running elsewhere —
 * `restore --check`, another test run — is young, and connected to its own).
 */
async function dropLeftovers(admin: pg.Client): Promise<void> {
  const { rows } = await admin.query<{ datname: string }>(
    `SELECT datname FROM pg_database d WHERE datname LIKE '${scratchPrefix.replace(/_/g, '\\_')}%'
       AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.datname = d.datname)`,
  );
  for (const { datname } of rows) {
    const made = /^cinecard_verify_([0-9a-f]+)_[0-9a-f]+$/.exec(datname);
    if (made && Date.now() - parseInt(made[1]!, 16) > 3_600_000) await admin.query(`DROP DATABASE IF EXISTS ${datname}`);
  }
}

export class PostgresEngine implements BackupEngine {
  readonly dialect = 'postgres' as const;
  readonly extension = 'pgdump' as const;
  private readonly live: Connection;

  constructor(
    private readonly databaseUrl: string,
    private readonly binDir: string | undefined,
  ) {
    this.live = connection(databaseUrl);
  }

  get databaseName(): string {
    return this.live.database;
  }

  async dump(file: string): Promise<DatabaseContents> {
    const client = new pg.Client({ connectionString: this.databaseUrl });
    await client.connect();
    try {
      // Count the rows in the snapshot pg_dump will copy, so the manifest describes the dump exactly.
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const snapshot = (await client.query<{ s: string }>('SELECT pg_export_snapshot() AS s')).rows[0]!.s;
      const contents = await readContents(async (sql) => (await client.query(sql)).rows, 'postgres');
      await this.run('pg_dump', ['--format=custom', `--snapshot=${snapshot}`, `--file=${file}`, `--dbname=${this.live.url}`], this.live.env);
      await client.query('COMMIT');
      return contents;
    } finally {
      await client.end().catch(() => {});
    }
  }

  async inspect(file: string) {
    const name = `${scratchPrefix}${Date.now().toString(16)}_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: this.databaseUrl });
    await admin.connect();
    try {
      await dropLeftovers(admin);
      await admin.query(`CREATE DATABASE ${name}`);
      try {
        const scratch = connection(this.databaseUrl, name);
        await this.run(
          'pg_restore',
          ['--no-owner', '--no-privileges', '--exit-on-error', '--single-transaction', `--dbname=${scratch.url}`, file],
          scratch.env,
        );
        const url = new URL(this.databaseUrl);
        url.pathname = `/${name}`;
        const db = knexFactory({ client: 'pg', connection: url.toString(), pool: { min: 0, max: 1 } });
        try {
          const contents = await readContents(async (sql) => (await db.raw(sql)).rows as Record<string, unknown>[], 'postgres');
          return { ...contents, pending: await pendingMigrations(db), problems: [] };
        } finally {
          await db.destroy();
        }
      } finally {
        await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      }
    } finally {
      await admin.end().catch(() => {});
    }
  }

  /** A session-level advisory lock on a connection of its own, held until released. */
  async exclusive(): Promise<(() => Promise<void>) | null> {
    const client = new pg.Client({ connectionString: this.databaseUrl });
    client.on('error', () => {}); // a dropped connection frees the lock; the backup's own steps report errors
    await client.connect();
    try {
      const { rows } = await client.query<{ ok: boolean }>("SELECT pg_try_advisory_lock(hashtext('cinecard_backup')) AS ok");
      if (!rows[0]?.ok) {
        await client.end();
        return null;
      }
    } catch (error) {
      await client.end().catch(() => {});
      throw error;
    }
    return async () => {
      await client.end().catch(() => {});
    };
  }

  async restoreLive(file: string): Promise<void> {
    // Empty the schema and load the dump in one transaction: psql runs the whole script or nothing.
    const prelude = `
SET client_min_messages = warning;
DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT tablename FROM pg_tables WHERE schemaname = current_schema() LOOP
    EXECUTE format('DROP TABLE IF EXISTS %I CASCADE', r.tablename);
  END LOOP;
  FOR r IN SELECT sequence_name FROM information_schema.sequences WHERE sequence_schema = current_schema() LOOP
    EXECUTE format('DROP SEQUENCE IF EXISTS %I CASCADE', r.sequence_name);
  END LOOP;
END $$;
`;
    // The script goes to a private scratch folder first: psql given half a script (pg_restore dying
    // midway) would commit that half.
    const folder = await mkdtemp(join(tmpdir(), 'cinecard-restore-'));
    try {
      const script = join(folder, 'restore.sql');
      await writeFile(script, prelude, { mode: 0o600 });
      const appended = join(folder, 'data.sql');
      await this.run('pg_restore', ['--no-owner', '--no-privileges', `--file=${appended}`, file], this.live.env);
      await this.run(
        'psql',
        ['--no-psqlrc', '--quiet', '--single-transaction', '--set=ON_ERROR_STOP=1', `--file=${script}`, `--file=${appended}`, `--dbname=${this.live.url}`],
        this.live.env,
      );
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  }

  private run(tool: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
    const { child, done } = this.spawnTool(tool, args, env);
    child.stdin?.end();
    return done;
  }

  private spawnTool(tool: string, args: string[], env: NodeJS.ProcessEnv) {
    const command = this.binDir ? join(this.binDir, tool) : tool;
    const child = spawn(command, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let errors = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      if (errors.length < 64_000) errors += chunk.toString('utf8');
    });
    child.stdout!.resume();
    child.stdin!.on('error', () => {}); // a tool that exits early closes its input; its exit status says why
    const done = new Promise<void>((resolveDone, reject) => {
      child.once('error', (error: NodeJS.ErrnoException) =>
        reject(
          error.code === 'ENOENT'
            ? new CentralError(backupMessages.backup_tool_missing, { tool: command, reason: error.message })
            : error,
        ),
      );
      child.once('close', (status, signal) => {
        if (status === 0) resolveDone();
        else reject(new CentralError(backupMessages.backup_tool_failed, { tool, status: status ?? String(signal), detail: tail(errors) }));
      });
    });
    return { child, done };
  }
}
