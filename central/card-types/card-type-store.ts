/**
 * Card types: how many uses a card of the type carries, what HQ pays a cinema per use
 * (settlement), what a use is worth at the concession stand, and how long a card is valid.
 */
import type { Knex } from 'knex';
import type { components } from '../client/schema.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import type { Principal } from '../auth/principal.ts';
import { CentralError } from '../errors.ts';
import { isUniqueViolation } from '../store/db-errors.ts';
import { type Clock, isoTime, newId } from '../store/ids.ts';
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

  async update(actor: Principal | null, id: string, patch: CardTypeUpdate): Promise<CardType> {
    if (patch.usesPerCard !== undefined) requireMinimumUses(patch.usesPerCard, this.minUsesPerCard);
    return this.write(patch.name ?? '', async (trx) => {
      const before = await this.get(id, trx);
      const changes: Partial<CardTypeRow> = { updated_at: isoTime(this.clock.now()) };
      if (patch.name !== undefined) changes.name = patch.name;
      if (patch.usesPerCard !== undefined) changes.uses_per_card = patch.usesPerCard;
      if (patch.settlementPricePerUseFen !== undefined) changes.settlement_price_fen = patch.settlementPricePerUseFen;
      if (patch.salePriceFen !== undefined) changes.sale_price_fen = patch.salePriceFen;
      if (patch.concessionValuePerUseFen !== undefined) changes.concession_value_fen = patch.concessionValuePerUseFen;
      if (patch.validityDays !== undefined) changes.validity_days = patch.validityDays;
      // A placeholder made by rebuilding from the cards is set up once HQ names or prices it.
      if (patch.name !== undefined || patch.settlementPricePerUseFen !== undefined) (changes as Record<string, unknown>)['needs_setup'] = false;
      await trx('card_types').where({ id }).update(changes);
      await this.audit.record(trx, actor, {
        action: 'card_type.update',
        targetType: 'card_type',
        targetId: id,
        cinemaId: null,
        details: { before, changes: { ...patch } },
      });
      return this.get(id, trx);
    });
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
