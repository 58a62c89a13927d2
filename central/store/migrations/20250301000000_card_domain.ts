/**
 * The card domain's tables: card types, the card registry with its issues, the per-card shadow
 * ledger and each cinema's redemption rules. Same conventions as the platform's migration: times
 * ISO-8601 UTC text, ids UUIDs, money integer fen.
 *
 * The ledger is shaped for the sync hub (DESIGN §4): `op_id` unique for exactly-once ingest, unique
 * (card_no, seq) for clone/replay detection, `status` keeps ops that arrived past a gap waiting, and
 * `anomaly` marks what a later fraud-alert step looks at.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('card_types', (t) => {
    t.uuid('id').primary();
    t.string('name', 100).notNullable().unique();
    t.integer('uses_per_card').notNullable();
    t.integer('settlement_price_fen').notNullable();
    t.integer('concession_value_fen').notNullable();
    t.integer('validity_days').notNullable();
    t.string('created_at', 24).notNullable();
    t.string('updated_at', 24).notNullable();
  });
  await knex.schema.createTable('card_batches', (t) => {
    t.uuid('id').primary();
    t.uuid('card_type_id').notNullable().references('id').inTable('card_types');
    t.integer('card_count').notNullable();
    t.uuid('made_by_user_id').nullable();
    t.string('made_at', 24).notNullable();
  });
  await knex.schema.createTable('cards', (t) => {
    t.string('card_no', 32).primary();
    t.string('uid', 20).notNullable().unique();
    t.uuid('card_type_id').notNullable().references('id').inTable('card_types');
    t.uuid('batch_id').notNullable().references('id').inTable('card_batches');
    t.string('state', 16).notNullable();
    t.string('blacklist_reason', 200).nullable();
    t.string('blacklisted_at', 24).nullable();
    t.integer('issue_epoch').notNullable();
    /** The first card `seq` of the current issue: the holder's history starts there. */
    t.integer('issue_from_seq').notNullable();
    t.string('issued_at', 24).nullable();
    t.integer('issued_uses').notNullable();
    /** Shadow balance: remaining uses after the last op applied without a gap. */
    t.integer('remaining_uses').notNullable();
    /** Highest `seq` applied without a gap (the card's seq at making is 0). */
    t.integer('applied_seq').notNullable();
    /** Highest `seq` seen at all, waiting ops included. */
    t.integer('max_seq').notNullable();
    t.string('expires_at', 24).notNullable();
    t.uuid('cinema_id').nullable().references('id').inTable('cinemas');
    t.string('activated_at', 24).nullable();
    t.string('recycled_at', 24).nullable();
    t.string('recycled_reason', 16).nullable();
    t.uuid('recycled_cinema_id').nullable();
    t.string('made_at', 24).notNullable();
    t.string('updated_at', 24).notNullable();
    t.index(['state', 'recycled_at']);
    t.index(['cinema_id']);
    t.index(['card_type_id']);
  });
  await knex.schema.createTable('card_issues', (t) => {
    t.string('card_no', 32).notNullable().references('card_no').inTable('cards');
    t.integer('epoch').notNullable();
    t.integer('from_seq').notNullable();
    t.uuid('card_type_id').notNullable();
    t.uuid('cinema_id').nullable();
    t.integer('uses').notNullable();
    t.string('issued_at', 24).notNullable();
    t.uuid('issued_by_user_id').nullable();
    t.uuid('issued_by_terminal_id').nullable();
    t.primary(['card_no', 'epoch']);
  });
  await knex.schema.createTable('ledger_entries', (t) => {
    t.uuid('op_id').primary();
    t.string('card_no', 32).notNullable().references('card_no').inTable('cards');
    t.integer('seq').notNullable();
    t.string('kind', 16).notNullable();
    t.integer('uses_delta').notNullable();
    t.integer('remaining_after').notNullable();
    t.string('consumption_type', 16).nullable();
    t.integer('amount_fen').nullable();
    t.uuid('cinema_id').nullable();
    t.uuid('terminal_id').nullable();
    t.uuid('user_id').nullable();
    t.string('cashier', 64).nullable();
    t.string('occurred_at', 24).notNullable();
    t.string('recorded_at', 24).notNullable();
    t.string('content_hash', 64).notNullable();
    t.string('status', 16).notNullable();
    t.string('anomaly', 32).nullable();
    t.integer('issue_epoch').notNullable();
    t.unique(['card_no', 'seq']);
    t.index(['cinema_id', 'occurred_at']);
  });
  await knex.schema.createTable('redemption_rules', (t) => {
    t.uuid('id').primary();
    t.uuid('cinema_id').notNullable().references('id').inTable('cinemas');
    t.string('kind', 16).notNullable();
    t.string('name', 100).notNullable();
    t.uuid('card_type_id').nullable().references('id').inTable('card_types');
    t.string('film', 100).nullable();
    t.string('format', 32).nullable();
    t.string('day_part_from', 5).nullable();
    t.string('day_part_to', 5).nullable();
    t.integer('uses_per_ticket').nullable();
    t.integer('value_per_use_fen').nullable();
    t.integer('priority').notNullable();
    t.string('created_at', 24).notNullable();
    t.string('updated_at', 24).notNullable();
    t.index(['cinema_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['redemption_rules', 'ledger_entries', 'card_issues', 'cards', 'card_batches', 'card_types']) {
    await knex.schema.dropTableIfExists(table);
  }
}
