/**
 * The card types this terminal knows, with their terms (uses per card, validity): what a sale, a
 * re-issue or an HQ batch offers by default. Central publishes the types; an HQ station maps each
 * type it makes to the u8 code written on the card.
 */
import type { Knex } from 'knex';
import type { CardType } from './card-cache.ts';

export interface CardTypeTerms extends CardType {
  readonly usesPerCard: number | null;
  readonly validityDays: number | null;
}

interface Row {
  code: number;
  card_type_id: string;
  name: string;
  price_per_use_fen: number | null;
  uses_per_card: number | null;
  validity_days: number | null;
}

const fromRow = (r: Row): CardTypeTerms => ({
  code: r.code, cardTypeId: r.card_type_id, name: r.name, pricePerUseFen: r.price_per_use_fen, usesPerCard: r.uses_per_card, validityDays: r.validity_days,
});

/** A card's validity when its type does not say (seed spec ⑹: one year from the sale). */
export const DEFAULT_VALIDITY_DAYS = 365;

export class CardTypeCatalogue {
  constructor(private readonly db: Knex) {}

  async all(): Promise<CardTypeTerms[]> {
    return (await this.db('card_types').orderBy('code').select<Row[]>('*')).map(fromRow);
  }

  async byCode(code: number): Promise<CardTypeTerms | undefined> {
    const r = await this.db('card_types').where({ code }).first<Row | undefined>();
    return r && fromRow(r);
  }

  async byId(cardTypeId: string): Promise<CardTypeTerms | undefined> {
    const r = await this.db('card_types').where({ card_type_id: cardTypeId }).first<Row | undefined>();
    return r && fromRow(r);
  }

  /** Adds or updates a type. A new type without a code gets the lowest free u8 code. */
  async put(t: Omit<CardTypeTerms, 'code'> & { readonly code?: number }): Promise<CardTypeTerms> {
    return this.db.transaction(async (trx) => {
      const existing = await trx('card_types').where({ card_type_id: t.cardTypeId }).first<Row | undefined>();
      let code = t.code ?? existing?.code;
      if (code === undefined) {
        const used = new Set((await trx('card_types').select<{ code: number }[]>('code')).map((r) => r.code));
        code = [...Array(255).keys()].map((i) => i + 1).find((c) => !used.has(c));
        if (code === undefined) throw new Error('every card type code (1–255) is taken');
      }
      const row: Row = {
        code, card_type_id: t.cardTypeId, name: t.name, price_per_use_fen: t.pricePerUseFen, uses_per_card: t.usesPerCard, validity_days: t.validityDays,
      };
      await trx('card_types').insert(row).onConflict('code').merge();
      return fromRow(row);
    });
  }
}
