/**
 * Lists the migrations in `central/store/migrations/` (TypeScript, loaded with dynamic import so it
 * works under tsx). A file is `<14-digit timestamp>_<name>.ts` exporting `up(knex)` and `down(knex)`;
 * the timestamp orders them. Names are recorded without the extension.
 */
import { readdir } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join } from 'node:path';
import type { Knex } from 'knex';

const migrationFile = /^\d{14}_[a-z0-9_-]+\.ts$/;

export class MigrationDirectory implements Knex.MigrationSource<string> {
  constructor(private readonly dir = fileURLToPath(new URL('./migrations/', import.meta.url))) {}

  async getMigrations(): Promise<string[]> {
    const files = await readdir(this.dir);
    return files.filter((f) => migrationFile.test(f)).sort();
  }

  getMigrationName(file: string): string {
    return file.replace(/\.ts$/, '');
  }

  async getMigration(file: string): Promise<Knex.Migration> {
    return (await import(pathToFileURL(join(this.dir, file)).href)) as Knex.Migration;
  }
}

const migrationConfig = (): Knex.MigratorConfig => ({ migrationSource: new MigrationDirectory() });

/** Brings the schema up to date; returns the names of the migrations it ran. */
export async function migrateToLatest(db: Knex): Promise<string[]> {
  const [, names] = (await db.migrate.latest(migrationConfig())) as [number, string[]];
  return names;
}

/**
 * Runs, one by one on an empty database, the migrations before `name` (a migration's name without
 * the extension): a database as central left it before that migration existed (migration tests).
 */
export async function migrateToBefore(db: Knex, name: string): Promise<void> {
  const source = new MigrationDirectory();
  for (const file of await source.getMigrations()) {
    if (source.getMigrationName(file) >= name) break;
    await db.migrate.up({ migrationSource: source, name: source.getMigrationName(file) });
  }
}

/** Undoes every migration (tests use this to prove `down` works). */
export async function migrateDownAll(db: Knex): Promise<void> {
  await db.migrate.rollback(migrationConfig(), true);
}

/** Migrations not yet run. */
export async function pendingMigrations(db: Knex): Promise<string[]> {
  const [, pending] = (await db.migrate.list(migrationConfig())) as [unknown[], { file: string }[]];
  return pending.map((p) => p.file);
}
