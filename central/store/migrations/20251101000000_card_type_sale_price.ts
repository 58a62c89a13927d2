/**
 * A card type's sale price (issue 7: settlement values card sales "at their price"): what a cinema
 * takes for one card of this type. Nullable: a type HQ has not priced is valued, as before, at its
 * uses × settlement price per use — the settlement line says which (`salePriceFen` null).
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('card_types', (t) => {
    t.integer('sale_price_fen').nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  // In place (not knex's copy-and-drop, which the foreign keys pointing at card_types refuse on SQLite).
  await knex.raw('ALTER TABLE card_types DROP COLUMN sale_price_fen');
}
