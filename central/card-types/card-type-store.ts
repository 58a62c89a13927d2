/**
 * Card types: how many uses a card of the type carries, what HQ pays a cinema per use
 * (settlement), what a use is worth at the concession stand, and how long a card is valid.
 */
import type { Knex } from 'knex';
import type { components } from '../client/schema.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import type { Principal } from '../auth/principal.ts';
import { CentralError } from '../errors.ts';
import { chainToday } from '../reports/chain-calendar.ts';
import { isUniqueViolation } from '../store/db-errors.ts';
import { type Clock, isoTime, newId } from '../store/ids.ts';
import { type CardTypePrice, latestPrices, pricesFromTheBeginning, pricesOn, priceHistory, setPricesFrom } from './card-type-prices.ts';
import { cardTypeMessages } from './messages.ts';

export type CardType = components['schemas']['CardType'];
export type CardTypeCreate = components['schemas']['CardTypeCreate'];
export type CardTypeUpdate = components['schemas']['CardTypeUpdate'];

/** The seed spec: a card carries at least 10 uses unless the chain sets another minimum. */
export const defaultMinUsesPerCard = 10;
export const defaultValidityDays = 365;

interface CardTypeRow {
  id: string;
  name: string;
  uses_per_card: number;
  settlement_price_fen: number;
  sale_price_fen: number | null;
  concession_value_fen: number;
  validity_days: number;
  created_at: string;
  updated_at: string;
}

function view(row: CardTypeRow): CardType {
  return {
    id: row.id,
    name: row.name,
    usesPerCard: row.uses_per_card,
    settlementPricePerUseFen: row.settlement_price_fen,
    salePriceFen: row.sale_price_fen ?? null,
    concessionValuePerUseFen: row.concession_value_fen,
    validityDays: row.validity_days,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** Throws `invalid_data` when `uses` is below the chain's minimum. */
export function requireMinimumUses(uses: number, minimum: number): void {
  if (uses < minimum) throw new CentralError(cardTypeMessages.uses_below_minimum, { minimum, uses });
}

export class CardTypeStore {
  constructor(
    private readonly db: Knex,
    private readonly clock: Clock,
    private readonly audit: AuditLog,
    /** The chain's time zone (config `reports.timeZone`): price changes take effect on its days. */
    private readonly timeZone: string,
    readonly minUsesPerCard: number = defaultMinUsesPerCard,
  ) {}

  async list(): Promise<CardType[]> {
    const rows = await this.db<CardTypeRow>('card_types').orderBy('name');
    return rows.map(view);
  }

  /** The card type, or `not_found`. Pass a transaction to read inside it. */
  async get(id: string, trx: Knex = this.db): Promise<CardType> {
    const row = await trx<CardTypeRow>('card_types').where({ id }).first();
    if (!row) throw new CentralError(cardTypeMessages.card_type_not_found, { cardTypeId: id });
    return view(row);
  }

  async create(actor: Principal | null, input: CardTypeCreate): Promise<CardType> {
    requireMinimumUses(input.usesPerCard, this.minUsesPerCard);
    const now = isoTime(this.clock.now());
    const row: CardTypeRow = {
      id: newId(),
      name: input.name,
      uses_per_card: input.usesPerCard,
      settlement_price_fen: input.settlementPricePerUseFen,
      sale_price_fen: input.salePriceFen ?? null,
      concession_value_fen: input.concessionValuePerUseFen,
      validity_days: input.validityDays ?? defaultValidityDays,
      created_at: now,
      updated_at: now,
    };
    await this.write(input.name, async (trx) => {
      await trx('card_types').insert(row);
      await setPricesFrom(trx, row.id, pricesFromTheBeginning, { settlementPricePerUseFen: row.settlement_price_fen, salePriceFen: row.sale_price_fen }, now);
      await this.audit.record(trx, actor, {
        action: 'card_type.create',
        targetType: 'card_type',
        targetId: row.id,
        cinemaId: null,
        details: { ...input },
      });
    });
    return view(row);
  }

  /**
   * Changes a card type. A change of `settlementPricePerUseFen` and/or `salePriceFen` is a price
   * change effective from `pricesEffectiveFrom` (default: the chain's today) until the type's next
   * later change: the price row on that day is inserted or replaced, a price the patch does not name
   * keeps the value in force that day, and the type's own price columns follow its latest row (so a
   * backdated change leaves them as they were when a later change exists).
   */
  async update(actor: Principal | null, id: string, patch: CardTypeUpdate): Promise<CardType> {
    if (patch.usesPerCard !== undefined) requireMinimumUses(patch.usesPerCard, this.minUsesPerCard);
    const { pricesEffectiveFrom, ...fields } = patch;
    const changesPrices = fields.settlementPricePerUseFen !== undefined || fields.salePriceFen !== undefined;
    if (pricesEffectiveFrom !== undefined && !changesPrices) throw new CentralError(cardTypeMessages.prices_effective_without_price, { day: pricesEffectiveFrom });
    const now = this.clock.now();
    const today = chainToday(now, this.timeZone);
    if (pricesEffectiveFrom !== undefined && pricesEffectiveFrom > today) {
      throw new CentralError(cardTypeMessages.prices_effective_in_future, { day: pricesEffectiveFrom, today });
    }
    // A day before the first row's is the first row's: from the beginning.
    const effectiveFrom = pricesEffectiveFrom === undefined ? today : pricesEffectiveFrom < pricesFromTheBeginning ? pricesFromTheBeginning : pricesEffectiveFrom;
    return this.write(fields.name ?? '', async (trx) => {
      const before = await this.get(id, trx);
      const changes: Partial<CardTypeRow> = { updated_at: isoTime(now) };
      if (fields.name !== undefined) changes.name = fields.name;
      if (fields.usesPerCard !== undefined) changes.uses_per_card = fields.usesPerCard;
      if (fields.concessionValuePerUseFen !== undefined) changes.concession_value_fen = fields.concessionValuePerUseFen;
      if (fields.validityDays !== undefined) changes.validity_days = fields.validityDays;
      // A placeholder made by rebuilding from the cards is set up once HQ names or prices it.
      if (fields.name !== undefined || fields.settlementPricePerUseFen !== undefined) (changes as Record<string, unknown>)['needs_setup'] = false;
      // Written first: on PostgreSQL the row lock orders concurrent changes of this type's prices.
      await trx('card_types').where({ id }).update(changes);
      let prices: Record<string, unknown> = {};
      if (changesPrices) {
        // A type always has its first row; the fallback covers one written around this service.
        const inForce = (await pricesOn(trx, id, effectiveFrom)) ?? { settlementPricePerUseFen: before.settlementPricePerUseFen, salePriceFen: before.salePriceFen };
        const set = {
          settlementPricePerUseFen: fields.settlementPricePerUseFen ?? inForce.settlementPricePerUseFen,
          salePriceFen: fields.salePriceFen !== undefined ? fields.salePriceFen : inForce.salePriceFen,
        };
        await setPricesFrom(trx, id, effectiveFrom, set, isoTime(now));
        const latest = (await latestPrices(trx, id))!;
        await trx('card_types').where({ id }).update({ settlement_price_fen: latest.settlementPricePerUseFen, sale_price_fen: latest.salePriceFen });
        prices = { prices: { effectiveFrom: effectiveFrom === pricesFromTheBeginning ? null : effectiveFrom, before: inForce, after: set } };
      }
      await this.audit.record(trx, actor, {
        action: 'card_type.update',
        targetType: 'card_type',
        targetId: id,
        cinemaId: null,
        details: { before, changes: { ...patch }, ...prices },
      });
      return this.get(id, trx);
    });
  }

  /** The type's price history, oldest first (`not_found` for an unknown type). */
  async prices(id: string): Promise<CardTypePrice[]> {
    await this.get(id);
    return priceHistory(this.db, id);
  }

  /** Runs a write in a transaction; a duplicate name becomes a clear 409. */
  private async write<T>(name: string, work: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
    try {
      return await this.db.transaction(work);
    } catch (error) {
      if (isUniqueViolation(error)) throw new CentralError(cardTypeMessages.card_type_name_taken, { name }, undefined, { cause: error });
      throw error;
    }
  }
}
