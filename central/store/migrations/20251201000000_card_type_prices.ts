/**
 * Card type prices over time: a settlement prices the uses and sales of each day at the prices in
 * force that day, so a price HQ changes today leaves last month's settlement as it was.
 *
 * A row of `card_type_prices` holds a card type's settlement price per use and sale price (nullable,
 * as on `card_types`) in force from `effective_from` — a chain-local day `YYYY-MM-DD` — until the next
 * row's. The first row of every type is effective from {@link fromTheBeginning}: no op predates its
 * type. `card_types.settlement_price_fen` / `sale_price_fen` keep holding the latest row's prices
 * (terminals and the liability read them). Each existing type gets that first row with its current
 * prices. Frozen like every migration: it imports nothing of the application (the application's name
 * for the same day is `pricesFromTheBeginning` in `central/card-types/card-type-prices.ts`).
 */
import type { Knex } from 'knex';

/** The `effective_from` of a type's first prices: before any day a card can be used. */
const fromTheBeginning = '0001-01-01';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('card_type_prices', (t) => {
    t.uuid('card_type_id').notNullable().references('id').inTable('card_types');
    t.string('effective_from', 10).notNullable();
    t.integer('settlement_price_fen').notNullable();
    t.integer('sale_price_fen').nullable();
    t.string('changed_at', 24).notNullable();
    t.primary(['card_type_id', 'effective_from']);
  });
  const types = (await knex('card_types').select('id', 'settlement_price_fen', 'sale_price_fen', 'updated_at')) as {
    id: string;
    settlement_price_fen: number;
    sale_price_fen: number | null;
    updated_at: string;
  }[];
  // In chunks, well under either database's limit of bound values per statement.
  for (let i = 0; i < types.length; i += 500) {
    await knex('card_type_prices').insert(
      types.slice(i, i + 500).map((t) => ({
        card_type_id: t.id,
        effective_from: fromTheBeginning,
        settlement_price_fen: t.settlement_price_fen,
        sale_price_fen: t.sale_price_fen,
        changed_at: t.updated_at,
      })),
    );
  }
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('card_type_prices');
}
