/**
 * A card type's prices over time (`card_type_prices`, migration 20251201): each row holds the
 * settlement price per use and the sale price in force from its chain-local day (`effective_from`,
 * `YYYY-MM-DD` in config `reports.timeZone`) until the day of the type's next row. Settlement prices
 * each day's uses and sales at the row in force that day (`central/reports/statistics.ts`), so a
 * price changed today leaves earlier periods as they were; HQ backdates a change on purpose.
 *
 * Every type has a first row effective {@link pricesFromTheBeginning}. `card_types`'s own price
 * columns hold the latest row's prices: what terminals show and the liability ("as of now") uses.
 */
import type { Knex } from 'knex';
import type { components } from '../client/schema.ts';

export type CardTypePrice = components['schemas']['CardTypePrice'];

/**
 * The `effective_from` of a type's first prices: before any day a card can be used (a type's uses
 * never predate it). Shown as a null `effectiveFrom` on the API.
 */
export const pricesFromTheBeginning = '0001-01-01';

/** The two prices a row holds. */
export interface Prices {
  readonly settlementPricePerUseFen: number;
  /** Null until HQ sets a sale price (sales are then valued at uses × settlement price). */
  readonly salePriceFen: number | null;
}

interface PriceRow {
  card_type_id: string;
  effective_from: string;
  settlement_price_fen: number;
  sale_price_fen: number | null;
  changed_at: string;
}

const pricesOf = (r: PriceRow): Prices => ({
  settlementPricePerUseFen: Number(r.settlement_price_fen),
  salePriceFen: r.sale_price_fen === null ? null : Number(r.sale_price_fen),
});

/** Sets the type's prices from `day` on (inserted, or replacing the row already on that day), in `trx`. */
export async function setPricesFrom(trx: Knex, cardTypeId: string, day: string, prices: Prices, changedAt: string): Promise<void> {
  await trx('card_type_prices')
    .insert({
      card_type_id: cardTypeId,
      effective_from: day,
      settlement_price_fen: prices.settlementPricePerUseFen,
      sale_price_fen: prices.salePriceFen,
      changed_at: changedAt,
    })
    .onConflict(['card_type_id', 'effective_from'])
    .merge(['settlement_price_fen', 'sale_price_fen', 'changed_at']);
}

/** The type's prices in force on `day` (the latest row on or before it), if it has any row by then. */
export async function pricesOn(trx: Knex, cardTypeId: string, day: string): Promise<Prices | undefined> {
  const row = await trx<PriceRow>('card_type_prices').where({ card_type_id: cardTypeId }).andWhere('effective_from', '<=', day).orderBy('effective_from', 'desc').first();
  return row && pricesOf(row);
}

/** The type's latest prices (those in force from its last change on), if it has any row. */
export async function latestPrices(trx: Knex, cardTypeId: string): Promise<Prices | undefined> {
  const row = await trx<PriceRow>('card_type_prices').where({ card_type_id: cardTypeId }).orderBy('effective_from', 'desc').first();
  return row && pricesOf(row);
}

/** The type's price history, oldest first; the first row's `effectiveFrom` is null (from the beginning). */
export async function priceHistory(db: Knex, cardTypeId: string): Promise<CardTypePrice[]> {
  const rows = await db<PriceRow>('card_type_prices').where({ card_type_id: cardTypeId }).orderBy('effective_from');
  return rows.map((r) => ({
    effectiveFrom: r.effective_from <= pricesFromTheBeginning ? null : r.effective_from,
    ...pricesOf(r),
    changedAt: r.changed_at,
  }));
}

/**
 * Every card type's price rows (or one type's), read once for a report: the prices in force on a
 * day, and the days within a period on which some type's prices change.
 */
export class PriceBook {
  private constructor(private readonly byType: ReadonlyMap<string, readonly PriceRow[]>) {}

  /** Reads the rows of `cardTypeId`, or of every type (a chain has tens: the table is small). */
  static async read(db: Knex, cardTypeId?: string): Promise<PriceBook> {
    const q = db<PriceRow>('card_type_prices').orderBy([{ column: 'card_type_id' }, { column: 'effective_from' }]);
    if (cardTypeId !== undefined) q.where({ card_type_id: cardTypeId });
    const byType = new Map<string, PriceRow[]>();
    for (const row of await q) {
      const rows = byType.get(row.card_type_id) ?? [];
      rows.push(row);
      byType.set(row.card_type_id, rows);
    }
    return new PriceBook(byType);
  }

  /** The type's prices in force on `day`; undefined for a type without a row by then. */
  on(cardTypeId: string, day: string): Prices | undefined {
    const rows = this.byType.get(cardTypeId);
    let found: PriceRow | undefined;
    for (const row of rows ?? []) {
      if (row.effective_from > day) break;
      found = row;
    }
    return found && pricesOf(found);
  }

  /**
   * The days after `from` and up to `to` (inclusive; an open end takes in every day) on which the
   * prices of a type read change, ascending: where a period must be cut so that each part has one
   * price per type.
   */
  changesWithin(from: string | undefined, to: string | undefined): string[] {
    const after = from ?? pricesFromTheBeginning;
    const days = new Set<string>();
    for (const rows of this.byType.values()) {
      for (const row of rows) if (row.effective_from > after && (to === undefined || row.effective_from <= to)) days.add(row.effective_from);
    }
    return [...days].sort();
  }
}
