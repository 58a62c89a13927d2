/**
 * The terminal database's migrations, listed in code so they run the same under tsx and when
 * bundled. Append; never edit a migration that has shipped.
 */
import type { Knex } from 'knex';
import * as m001 from './001_initial.ts';
import * as m002 from './002_redemption.ts';
import * as m003 from './003_management.ts';

interface Migration {
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

const migrations: Record<string, Migration> = {
  '001_initial': m001,
  '002_redemption': m002,
  '003_management': m003,
};

export const terminalMigrationSource: Knex.MigrationSource<string> = {
  getMigrations: async () => Object.keys(migrations),
  getMigrationName: (name) => name,
  getMigration: async (name) => migrations[name]!,
};
