/**
 * Scratch databases for tests: a fresh SQLite file in a temp folder, and a fresh, uniquely named
 * PostgreSQL database (dropped afterwards). Every central suite runs on both.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Knex } from 'knex';
import { createDatabase, type DatabaseSettings, type Dialect } from '../store/database.ts';

/** The server where scratch PostgreSQL databases are made (trust auth on this machine kind). */
export const postgresAdminUrl = process.env['CINECARD_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface ScratchDatabase {
  readonly settings: DatabaseSettings;
  drop(): Promise<void>;
}

export interface TestDatabase {
  readonly name: Dialect;
  create(): Promise<ScratchDatabase>;
}

const sqlite: TestDatabase = {
  name: 'sqlite',
  async create() {
    const dataDir = mkdtempSync(join(tmpdir(), 'cinecard-central-'));
    return {
      settings: { dataDir },
      async drop() {
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  },
};

async function withAdmin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: postgresAdminUrl });
  try {
    await client.connect();
  } catch (error) {
    throw new Error(
      `Cannot reach PostgreSQL at ${postgresAdminUrl} for the PostgreSQL half of the central tests ` +
        `(set CINECARD_TEST_PG_URL to another server): ${(error as Error).message}`,
    );
  }
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

const postgres: TestDatabase = {
  name: 'postgres',
  async create() {
    const name = `cinecard_t_${process.pid}_${randomBytes(4).toString('hex')}`;
    await withAdmin((c) => c.query(`CREATE DATABASE ${name}`));
    const url = new URL(postgresAdminUrl);
    url.pathname = `/${name}`;
    return {
      settings: { dataDir: tmpdir(), databaseUrl: url.toString() },
      async drop() {
        await withAdmin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
      },
    };
  },
};

/** The databases every central suite runs on: `for (const db of testDatabases()) describe(…)`. */
export function testDatabases(): readonly TestDatabase[] {
  return [sqlite, postgres];
}

/** Runs `work` with a knex instance on a fresh scratch database, then closes and drops it. */
export async function withScratchDatabase<T>(database: TestDatabase, work: (db: Knex) => Promise<T>): Promise<T> {
  const scratch = await database.create();
  const db = createDatabase(scratch.settings);
  try {
    return await work(db);
  } finally {
    await db.destroy();
    await scratch.drop();
  }
}
