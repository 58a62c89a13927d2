/**
 * The terminal's local knowledge of cards: the `cards` cache (what this terminal last saw on or did
 * to a card), the `blacklist`, and the card types central publishes. Reads take an optional
 * transaction so a flow can read and write in one.
 */
import type { Knex } from 'knex';
import type { CardRecord, CardStatus } from '../card/card-data.ts';
import type { PendingCardWrite } from '../card/card-write-journal.ts';
import type { Op } from './terminal-store.ts';

export interface CachedCard {
  readonly cardNo: string;
  readonly uid: string | null;
  readonly state: CardStatus;
  readonly remaining: number | null;
  readonly expiry: string | null;
  readonly lastSeq: number | null;
  readonly cardTypeCode: number | null;
  /** Set while the card waits to be collected (its uses ran out, or it was handed back). */
  readonly recycledReason: 'exhausted' | 'returned' | null;
  readonly recycledAt: string | null;
  readonly updatedAt: string;
}

export interface CardType {
  readonly code: number;
  readonly cardTypeId: string;
  readonly name: string;
  readonly pricePerUseFen: number | null;
}

interface CardRow {
  card_no: string;
  uid: string | null;
  state: CardStatus;
  remaining: number | null;
  expiry: string | null;
  last_seq: number | null;
  card_type_code: number | null;
  recycled_reason: 'exhausted' | 'returned' | null;
  recycled_at: string | null;
  updated_at: string;
}

const iso = (unixSeconds: number) => new Date(unixSeconds * 1000).toISOString();

export class CardCache {
  /** Card types change rarely and every tap asks: kept in memory, refreshed by {@link putCardType}. */
  private readonly types = new Map<number, CardType | undefined>();

  constructor(private readonly db: Knex) {}

  async card(cardNo: string, trx: Knex | Knex.Transaction = this.db): Promise<CachedCard | undefined> {
    const r = await trx('cards').where({ card_no: cardNo }).first<CardRow | undefined>();
    return r && {
      cardNo: r.card_no, uid: r.uid, state: r.state, remaining: r.remaining, expiry: r.expiry, lastSeq: r.last_seq,
      cardTypeCode: r.card_type_code, recycledReason: r.recycled_reason, recycledAt: r.recycled_at, updatedAt: r.updated_at,
    };
  }

  async isBlacklisted(cardNo: string, trx: Knex | Knex.Transaction = this.db): Promise<boolean> {
    return (await trx('blacklist').where({ card_no: cardNo }).first('card_no')) !== undefined;
  }

  async cardType(code: number, trx: Knex | Knex.Transaction = this.db): Promise<CardType | undefined> {
    if (this.types.has(code)) return this.types.get(code);
    const r = await trx('card_types').where({ code }).first<{ code: number; card_type_id: string; name: string; price_per_use_fen: number | null } | undefined>();
    const type = r && { code: r.code, cardTypeId: r.card_type_id, name: r.name, pricePerUseFen: r.price_per_use_fen };
    this.types.set(code, type);
    return type;
  }

  async putCardType(t: CardType, trx: Knex | Knex.Transaction = this.db): Promise<void> {
    this.types.delete(t.code);
    await trx('card_types')
      .insert({ code: t.code, card_type_id: t.cardTypeId, name: t.name, price_per_use_fen: t.pricePerUseFen })
      .onConflict('code')
      .merge();
    this.types.delete(t.code);
  }

  async blacklist(cardNo: string, reason: string, at: string, trx: Knex | Knex.Transaction = this.db): Promise<void> {
    await trx('blacklist').insert({ card_no: cardNo, reason, listed_at: at }).onConflict('card_no').merge();
  }

  /** The blacklist, most recent first. */
  async blacklistEntries(trx: Knex | Knex.Transaction = this.db): Promise<{ cardNo: string; reason: string | null; listedAt: string }[]> {
    const rows = await trx('blacklist').orderBy('listed_at', 'desc').orderBy('card_no').select<{ card_no: string; reason: string | null; listed_at: string }[]>('*');
    return rows.map((r) => ({ cardNo: r.card_no, reason: r.reason, listedAt: r.listed_at }));
  }

  async unblacklist(cardNo: string, trx: Knex | Knex.Transaction = this.db): Promise<void> {
    await trx('blacklist').where({ card_no: cardNo }).del();
  }

  /** Cards whose uses ran out or that were handed back, since `sinceIso`: the recycle list. */
  async awaitingRecycling(sinceIso: string, trx: Knex | Knex.Transaction = this.db): Promise<CachedCard[]> {
    const rows = await trx('cards').whereNotNull('recycled_reason').where('recycled_at', '>=', sinceIso).orderBy('recycled_at').select<CardRow[]>('card_no');
    const out: CachedCard[] = [];
    for (const r of rows) out.push((await this.card(r.card_no, trx))!);
    return out;
  }

  /**
   * Mirrors a confirmed card write into the cache, inside the transaction that records its op. A
   * redemption that takes the last use marks the card for recycling (central's ledger does the same
   * when the op arrives: remaining 0 → recycled, reason `exhausted`).
   */
  async applyWrite(trx: Knex.Transaction, pending: PendingCardWrite, op: Op, cardTypeCode: number | null): Promise<void> {
    const record: CardRecord = pending.record;
    const exhausted = op.kind === 'redeem' && record.remainingUses === 0;
    const row: CardRow = {
      card_no: String(pending.cardNumber),
      uid: pending.uid,
      state: record.status,
      remaining: record.remainingUses,
      expiry: iso(record.expiry),
      last_seq: record.seq,
      card_type_code: cardTypeCode,
      recycled_reason: exhausted ? 'exhausted' : null,
      recycled_at: exhausted ? op.deviceTime : null,
      updated_at: op.deviceTime,
    };
    await trx('cards').insert(row).onConflict('card_no').merge();
  }

  /**
   * Rebuilding from the cards: the card's own record becomes what this terminal knows of it, unless
   * the cache already holds the same or a later seq. Returns whether the cache changed.
   */
  async applyRebuild(trx: Knex.Transaction, card: { cardNo: string; uid: string; cardTypeCode: number; record: CardRecord }, at: string): Promise<boolean> {
    const cached = await this.card(card.cardNo, trx);
    if (cached?.lastSeq != null && cached.lastSeq >= card.record.seq) return false;
    const exhausted = card.record.status === 'active' && card.record.remainingUses === 0;
    const row: CardRow = {
      card_no: card.cardNo,
      uid: card.uid,
      state: card.record.status,
      remaining: card.record.remainingUses,
      expiry: iso(card.record.expiry),
      last_seq: card.record.seq,
      card_type_code: card.cardTypeCode,
      recycled_reason: exhausted ? 'exhausted' : null,
      recycled_at: exhausted ? at : null,
      updated_at: at,
    };
    await trx('cards').insert(row).onConflict('card_no').merge();
    return true;
  }
}
