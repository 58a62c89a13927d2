/**
 * Reports: the rollup at several grains (`report_rollup` replaces `report_daily`). A year of a
 * chain's redemptions is ~500,000 day × cinema × card type × consumption × cashier rows — too many
 * to sum within the 200 ms budget (DESIGN §7) — so each op is also added to a day row without the
 * cashier, and to month rows with and without it; a query reads the coarsest rows that answer it
 * (`central/reports/rollups.ts`, `grains`).
 *
 * `grain`: `d` (day, every key), `dc` (day, cashier ''), `m` (month, every key), `mc` (month,
 * cashier ''); `period`: `YYYY-MM-DD` or `YYYY-MM` in the chain's time zone. The other columns are
 * `report_daily`'s.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('report_rollup', (t) => {
    t.string('grain', 2).notNullable();
    t.string('period', 16).notNullable();
    t.string('cinema_id', 36).notNullable();
    t.string('card_type_id', 36).notNullable();
    t.string('kind', 16).notNullable();
    t.string('consumption_type', 16).notNullable();
    t.string('cashier', 64).notNullable();
    t.integer('ops').notNullable();
    t.bigInteger('uses').notNullable();
    t.bigInteger('amount_fen').notNullable();
    t.integer('exhausted').notNullable();
    t.primary(['grain', 'period', 'cinema_id', 'card_type_id', 'kind', 'consumption_type', 'cashier']);
    t.index(['grain', 'cinema_id', 'period']);
  });
  await knex.schema.dropTableIfExists('report_daily');
  const { rebuildRollups } = await import('../../reports/rollups.ts');
  await rebuildRollups(knex);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('report_rollup');
  await knex.schema.createTable('report_daily', (t) => {
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
}
