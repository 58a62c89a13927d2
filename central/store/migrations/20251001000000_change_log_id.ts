/**
 * The change log's id (issue 8, `spec/sync.md` § Central restored from a backup): a random uuid in
 * the `sync_head` row, made when this migration runs and made again by every restore
 * (`central/backup/restore.ts`). Change-log ids are only comparable under the same log id: a
 * terminal whose stored log id differs from the one a pull, a snapshot or the socket's welcome
 * carries resets from the snapshot. It lives in the database, so every central instance on one
 * PostgreSQL answers the same.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('sync_head', (t) => {
    t.string('log_id', 36).nullable();
  });
  await knex('sync_head').update({ log_id: randomUUID() });
}

export async function down(knex: Knex): Promise<void> {
  // In place on both databases (knex's SQLite dropColumn copies the table).
  await knex.raw('ALTER TABLE sync_head DROP COLUMN log_id');
}
