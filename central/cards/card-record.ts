/**
 * The stored card and its API view; shared by the registry (lifecycle) and the shadow ledger
 * (balance), which both update the one row under a lock.
 */
import type { Knex } from 'knex';
import type { components } from '../client/schema.ts';
import { CentralError } from '../errors.ts';
import { dialectOf } from '../store/database.ts';
import type { CardLifeState, CardState, RecycleReason } from './lifecycle.ts';
import { cardMessages } from './messages.ts';

export type Card = components['schemas']['Card'];

export interface CardRow {
  card_no: string;
  uid: string;
  card_type_id: string;
  batch_id: string;
  state: CardState;
  blacklist_reason: string | null;
  blacklisted_at: string | null;
  issue_epoch: number;
  issue_from_seq: number;
  issued_at: string | null;
  issued_uses: number;
  remaining_uses: number;
  applied_seq: number;
  max_seq: number;
  expires_at: string;
  cinema_id: string | null;
  activated_at: string | null;
  recycled_at: string | null;
  recycled_reason: RecycleReason | null;
  recycled_cinema_id: string | null;
  made_at: string;
  updated_at: string;
  /** When the card's state was taken from the card itself (rebuilding from the cards). */
  rebuilt_at?: string | null;
  rebuilt_by_op?: string | null;
}

export function cardView(row: CardRow): Card {
  return {
    cardNo: row.card_no,
    uid: row.uid,
    cardTypeId: row.card_type_id,
    batchId: row.batch_id,
    state: row.state,
    blacklisted: row.blacklisted_at !== null,
    blacklistReason: row.blacklist_reason,
    blacklistedAt: row.blacklisted_at,
    issueEpoch: row.issue_epoch,
    issueFromSeq: row.issue_from_seq,
    issuedAt: row.issued_at,
    issuedUses: row.issued_uses,
    remainingUses: row.remaining_uses,
    appliedSeq: row.applied_seq,
    maxSeq: row.max_seq,
    expiresAt: row.expires_at,
    cinemaId: row.cinema_id,
    activatedAt: row.activated_at,
    recycledAt: row.recycled_at,
    recycledReason: row.recycled_reason,
    recycledCinemaId: row.recycled_cinema_id,
    madeAt: row.made_at,
    updatedAt: row.updated_at,
    rebuiltAt: row.rebuilt_at ?? null,
    rebuiltByOp: row.rebuilt_by_op ?? null,
  };
}

export function lifeStateOf(row: CardRow): CardLifeState {
  return {
    state: row.state,
    blacklisted: row.blacklisted_at !== null,
    issueEpoch: row.issue_epoch,
    recycledReason: row.recycled_reason,
  };
}

/**
 * Reads a card inside a write transaction, locked against concurrent writers on PostgreSQL
 * (SQLite serialises writers already). Throws `not_found`.
 */
export async function lockCard(trx: Knex.Transaction, cardNo: string): Promise<CardRow> {
  const query = trx<CardRow>('cards').where({ card_no: cardNo }).first();
  const row = dialectOf(trx) === 'postgres' ? await query.forUpdate() : await query;
  if (!row) throw new CentralError(cardMessages.card_not_found, { cardNo });
  return row;
}

export async function findCard(db: Knex, cardNo: string): Promise<CardRow> {
  const row = await db<CardRow>('cards').where({ card_no: cardNo }).first();
  if (!row) throw new CentralError(cardMessages.card_not_found, { cardNo });
  return row;
}
