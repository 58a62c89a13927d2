/**
 * Rebuilding from the cards (issue 8, `spec/operations.md` § Rebuilding from the cards): when
 * central and a terminal both lost their databases, each tapped card's static data and last record
 * recreate it. A card whose state came from its own record says so (`rebuilt_at`, `rebuilt_by_op`);
 * every rebuild op is kept in `card_rebuilds` (provenance, what central did with it) for the
 * progress count; a card type recreated from a card's type code alone is a placeholder HQ must name
 * and price (`needs_setup`).
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('cards', (t) => {
    t.string('rebuilt_at', 24).nullable();
    t.string('rebuilt_by_op', 64).nullable();
  });
  await knex.schema.alterTable('card_types', (t) => {
    /** The u8 card product code written on the card (`spec/card-format.md` §3), when central knows it. */
    t.integer('card_code').nullable().unique();
    t.boolean('needs_setup').notNullable().defaultTo(false);
  });
  await knex.schema.createTable('card_rebuilds', (t) => {
    t.string('op_id', 64).primary();
    t.string('card_no', 32).notNullable();
    t.string('hash', 64).notNullable();
    /** created | took_card | up_to_date | central_ahead */
    t.string('outcome', 16).notNullable();
    t.integer('card_seq').notNullable();
    t.integer('card_remaining').notNullable();
    t.integer('central_seq').nullable();
    t.integer('central_remaining').nullable();
    t.uuid('cinema_id').nullable();
    t.uuid('terminal_id').nullable();
    t.uuid('user_id').nullable();
    t.string('cashier', 64).nullable();
    t.string('tapped_at', 24).notNullable();
    t.string('recorded_at', 24).notNullable();
    t.text('provenance').notNullable();
    t.index(['recorded_at']);
    t.index(['card_no']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('card_rebuilds');
  // Not knex's dropColumn: on SQLite that copies the table into a new one and drops the old one,
  // which the foreign keys pointing at cards and card_types refuse. Both databases drop a column in place.
  await knex.schema.alterTable('card_types', (t) => t.dropUnique(['card_code']));
  await knex.raw('ALTER TABLE card_types DROP COLUMN card_code');
  await knex.raw('ALTER TABLE card_types DROP COLUMN needs_setup');
  await knex.raw('ALTER TABLE cards DROP COLUMN rebuilt_at');
  await knex.raw('ALTER TABLE cards DROP COLUMN rebuilt_by_op');
}
