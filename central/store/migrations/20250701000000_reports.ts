/**
 * Reports (issue 7): the daily rollup that summaries and settlement read instead of the op table
 * (DESIGN §6: "reports read rollups kept up to date on ingest, not full scans"), and the chain
 * time zone the rollup's days were cut in.
 *
 * - `report_daily`: one row per chain-local day × cinema × card type × op kind × consumption type ×
 *   cashier, with the count of ops, the uses they moved, the amount paid with them and how many
 *   cards they used up. Maintained in the same transaction as the `ledger_entries` rows
 *   (`central/reports/rollups.ts`). Keys that can be absent are stored as '' (a NULL in a unique key
 *   would never conflict, so the upsert could not add to it).
 * - `report_settings`: one row; the IANA time zone of `report_daily.day`. Changing the configured
 *   zone rebuilds the rollup at start-up.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('report_daily', (t) => {
    /** `YYYY-MM-DD` in the chain's time zone (longer only for years past 9999). */
    t.string('day', 16).notNullable();
    t.string('cinema_id', 36).notNullable();
    t.string('card_type_id', 36).notNullable();
    t.string('kind', 16).notNullable();
    t.string('consumption_type', 16).notNullable();
    t.string('cashier', 64).notNullable();
    t.integer('ops').notNullable();
    t.bigInteger('uses').notNullable();
    t.bigInteger('amount_fen').notNullable();
    t.integer('exhausted').notNullable();
    t.primary(['day', 'cinema_id', 'card_type_id', 'kind', 'consumption_type', 'cashier']);
    t.index(['cinema_id', 'day']);
  });
  await knex.schema.createTable('report_settings', (t) => {
    t.integer('id').primary();
    t.string('time_zone', 64).notNullable();
  });
  await knex('report_settings').insert({ id: 1, time_zone: 'Asia/Shanghai' });
  // Redemption detail across every cinema pages by time.
  await knex.schema.alterTable('ledger_entries', (t) => {
    t.index(['occurred_at'], 'ledger_entries_occurred_at_index');
  });
  // The liability report sums the sold cards' balances: read from this index alone, not the table.
  await knex.schema.alterTable('cards', (t) => {
    t.index(['state', 'cinema_id', 'card_type_id', 'remaining_uses'], 'cards_liability_index');
  });
  // The rollup of ops already recorded is built by the next migration (report_rollup replaces this table).
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('cards', (t) => {
    t.dropIndex(['state', 'cinema_id', 'card_type_id', 'remaining_uses'], 'cards_liability_index');
  });
  await knex.schema.alterTable('ledger_entries', (t) => {
    t.dropIndex(['occurred_at'], 'ledger_entries_occurred_at_index');
  });
  await knex.schema.dropTableIfExists('report_settings');
  await knex.schema.dropTableIfExists('report_daily');
}
