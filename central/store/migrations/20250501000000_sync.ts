/**
 * The sync hub's tables (DESIGN §4, `spec/sync.md`).
 *
 * - `sync_head`: one row; the change log's head. Every writer allocates change-log ids by updating
 *   it inside its transaction, so the row lock serialises allocation in commit order (PostgreSQL;
 *   SQLite has one writer anyway) and a cursor `id > n` never skips a row committed later.
 * - `change_log`: what terminals pull, full-state items (idempotent to re-apply); `stream`
 *   `blacklist` is pulled ahead of `data`.
 * - `sync_terminals`: per terminal, the next expected `term_seq` and its health.
 * - `sync_parked`: ops refused with a reason; they never block a terminal's queue.
 * - `sync_misc_ops`: uploaded ops that are not card writes of the ledger (kept, not applied).
 * - `fraud_alerts`: clone / replay / two-UID findings of the shadow ledger.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('sync_head', (t) => {
    t.integer('id').primary();
    t.bigInteger('head').notNullable();
    /** The id of the latest blacklist-stream row (what pokes call the blacklist version). */
    t.bigInteger('blacklist_version').notNullable();
    /** Rows with id ≤ this were pruned (retention): an older cursor must reset to a snapshot. */
    t.bigInteger('pruned_through').notNullable();
  });
  await knex('sync_head').insert({ id: 1, head: 0, blacklist_version: 0, pruned_through: 0 });
  await knex.schema.createTable('change_log', (t) => {
    t.bigInteger('id').primary();
    t.string('stream', 16).notNullable();
    t.string('entity', 16).notNullable();
    t.string('entity_key', 64).notNullable();
    /** Rules are per cinema; null = for every terminal. */
    t.uuid('cinema_id').nullable();
    t.text('payload').notNullable();
    t.string('created_at', 24).notNullable();
    t.index(['stream', 'id']);
  });
  await knex.schema.createTable('sync_terminals', (t) => {
    t.uuid('terminal_id').primary();
    t.uuid('cinema_id').notNullable();
    t.integer('next_seq').notNullable();
    t.integer('ops_received').notNullable();
    t.string('last_seen_at', 24).nullable();
    t.string('last_upload_at', 24).nullable();
    t.string('last_pull_at', 24).nullable();
    t.string('device_time', 24).nullable();
    t.bigInteger('clock_skew_ms').nullable();
    t.integer('pending_ops').nullable();
    t.bigInteger('cursor').nullable();
  });
  await knex.schema.createTable('sync_parked', (t) => {
    t.uuid('id').primary();
    t.string('op_id', 64).notNullable();
    t.uuid('terminal_id').notNullable();
    t.integer('term_seq').notNullable();
    t.string('hash', 64).notNullable();
    t.string('reason', 32).notNullable();
    t.text('detail').nullable();
    t.text('op').notNullable();
    t.string('parked_at', 24).notNullable();
    t.index(['op_id']);
    t.index(['terminal_id', 'term_seq']);
  });
  await knex.schema.createTable('sync_misc_ops', (t) => {
    t.string('op_id', 64).primary();
    t.uuid('terminal_id').notNullable();
    t.integer('term_seq').notNullable();
    t.string('kind', 16).notNullable();
    t.string('card_no', 32).notNullable();
    t.string('hash', 64).notNullable();
    t.text('op').notNullable();
    t.string('received_at', 24).notNullable();
  });
  await knex.schema.createTable('fraud_alerts', (t) => {
    t.uuid('id').primary();
    t.string('card_no', 32).notNullable();
    t.string('kind', 24).notNullable();
    t.string('op_id', 64).notNullable();
    t.string('other_op_id', 64).nullable();
    t.uuid('terminal_id').nullable();
    t.uuid('cinema_id').nullable();
    t.text('detail').notNullable();
    t.string('raised_at', 24).notNullable();
    t.string('hotlisted_at', 24).nullable();
    t.index(['card_no']);
    t.index(['raised_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['fraud_alerts', 'sync_misc_ops', 'sync_parked', 'sync_terminals', 'change_log', 'sync_head']) {
    await knex.schema.dropTableIfExists(table);
  }
}
