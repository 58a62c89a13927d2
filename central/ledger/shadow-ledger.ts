/**
 * The shadow ledger: central's copy of every op written to a card, one row per (card number, card
 * seq), and the card's balance as the ops say it is. The card is the authority on its balance (it
 * works offline); the ledger is how central notices when the card and the ops disagree.
 *
 * Recording an op (DESIGN §4):
 * - the same `opId` with the same content is a duplicate and changes nothing; with other content it
 *   is a conflict;
 * - a `seq` this card already has is a conflict (a clone or a replay: the fraud-alert step of the
 *   sync issue hooks in there);
 * - `seq` = applied + 1 is applied: the shadow balance becomes the op's `remainingAfter` (an op that
 *   does not follow from the previous balance is marked `balance_mismatch`), then any ops waiting
 *   right behind it are applied in order;
 * - `seq` further ahead waits (another terminal has the ops in between and is offline);
 * - a `seq` from before the card's current issue is kept, marked `previous_issue`, and moves nothing.
 * When the shadow balance reaches 0 the card is marked recycled (exhausted); a later top-up brings
 * it back.
 */
import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import type { components } from '../client/schema.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import type { Principal } from '../auth/principal.ts';
import { CentralError } from '../errors.ts';
import { isUniqueViolation } from '../store/db-errors.ts';
import { type Clock, isoTime, newId } from '../store/ids.ts';
import { type CardRow, cardView, findCard, lifeStateOf, lockCard } from '../cards/card-record.ts';
import { transition } from '../cards/lifecycle.ts';
import { cardMessages } from '../cards/messages.ts';
import { ledgerMessages } from './messages.ts';
import { appendChanges, cardChange } from '../sync/change-log.ts';
import { addToRollups } from '../reports/rollups.ts';

type Schemas = components['schemas'];
export type LedgerEntry = Schemas['LedgerEntry'];
export type LedgerOpResult = Schemas['LedgerOpResult'];
export type CardHistory = Schemas['CardHistory'];

/** An op as the ledger records it, whoever sent it. */
/** Card writes of the card's life (`spec/card-format.md` §4.2 tx kinds): they move no uses. */
export type CardWriteKind = 'activate' | 'renew' | 'recycle' | 'reissue';
/** `rebuild`: the card's state read back from the card after central lost it (`cards/card-rebuild.ts`). */
export type LedgerKind = 'redeem' | 'topup' | CardWriteKind | 'rebuild';

/** A card write a terminal made and synced (its op id and hash, who was at the till, when). */
export interface SyncedWrite {
  readonly opId: string;
  readonly hash: string;
  readonly cashier: string | null;
  readonly occurredAt: string;
  /** The op's place in its terminal's sequence (a restored terminal gets its ops back by it). */
  readonly termSeq: number;
}

export interface CardOp {
  readonly opId: string;
  readonly cardNo: string;
  readonly seq: number;
  readonly kind: 'redeem' | 'topup';
  /** Negative for a redemption, positive for a top-up. */
  readonly usesDelta: number;
  readonly remainingAfter: number;
  readonly consumptionType: Schemas['ConsumptionType'] | null;
  readonly amountFen: number | null;
  readonly cinemaId: string | null;
  readonly terminalId: string | null;
  readonly userId: string | null;
  readonly cashier: string | null;
  readonly occurredAt: string;
}

export type Anomaly = 'balance_mismatch' | 'previous_issue' | 'card_blacklisted' | 'seq_behind';

/** A `ledger_entries` row. */
export interface LedgerRow {
  op_id: string;
  card_no: string;
  seq: number;
  kind: LedgerKind;
  uses_delta: number;
  remaining_after: number;
  consumption_type: Schemas['ConsumptionType'] | null;
  amount_fen: number | null;
  cinema_id: string | null;
  terminal_id: string | null;
  user_id: string | null;
  cashier: string | null;
  occurred_at: string;
  recorded_at: string;
  content_hash: string;
  status: 'applied' | 'waiting';
  anomaly: Anomaly | null;
  issue_epoch: number;
  /** The uploading terminal's term seq (synced ops; null for ops recorded through the API). */
  term_seq?: number | null;
}

function entryView(row: LedgerRow): LedgerEntry {
  return {
    opId: row.op_id,
    cardNo: row.card_no,
    seq: row.seq,
    kind: row.kind,
    usesDelta: row.uses_delta,
    remainingAfter: row.remaining_after,
    consumptionType: row.consumption_type,
    amountFen: row.amount_fen,
    cinemaId: row.cinema_id,
    terminalId: row.terminal_id,
    userId: row.user_id,
    cashier: row.cashier,
    occurredAt: row.occurred_at,
    recordedAt: row.recorded_at,
    status: row.status,
    anomaly: row.anomaly,
    issueEpoch: row.issue_epoch,
  };
}

/**
 * What makes two submissions the same op. The user logged in on the till is left out: a retry
 * after a re-login is still the same op.
 */
export function contentHash(op: Omit<CardOp, 'kind'> & { readonly kind: LedgerKind }): string {
  const canonical = [
    op.cardNo,
    op.seq,
    op.kind,
    op.usesDelta,
    op.remainingAfter,
    op.consumptionType,
    op.amountFen,
    op.cinemaId,
    op.terminalId,
    op.cashier,
    new Date(op.occurredAt).toISOString(),
  ];
  return createHash('sha256').update(JSON.stringify(canonical)).digest('hex');
}

export class ShadowLedger {
  constructor(
    private readonly db: Knex,
    private readonly clock: Clock,
    private readonly audit: AuditLog,
  ) {}

  /** A redemption made at a terminal; its cinema and terminal are the caller's. */
  async recordRedemption(actor: Principal, input: Schemas['LedgerOpCreate']): Promise<LedgerOpResult> {
    return this.record({
      opId: input.opId,
      cardNo: input.cardNo,
      seq: input.seq,
      kind: 'redeem',
      usesDelta: -input.uses,
      remainingAfter: input.remainingAfter,
      consumptionType: input.consumptionType,
      amountFen: input.amountFen ?? null,
      cinemaId: actor.cinemaId,
      terminalId: actor.terminal?.id ?? null,
      userId: actor.user?.id ?? null,
      cashier: input.cashier ?? null,
      occurredAt: input.occurredAt,
    });
  }

  /** A top-up written to the card at HQ; an administrative action, so audited. */
  async recordTopUp(actor: Principal, cardNo: string, input: Schemas['CardTopUp']): Promise<LedgerOpResult> {
    if (input.remainingAfter < input.uses) {
      throw new CentralError(ledgerMessages.remaining_mismatch, { uses: input.uses, remainingAfter: input.remainingAfter, cardNo });
    }
    const op: CardOp = {
      opId: input.opId,
      cardNo,
      seq: input.seq,
      kind: 'topup',
      usesDelta: input.uses,
      remainingAfter: input.remainingAfter,
      consumptionType: null,
      amountFen: null,
      cinemaId: actor.cinemaId,
      terminalId: actor.terminal?.id ?? null,
      userId: actor.user?.id ?? null,
      cashier: null,
      occurredAt: input.occurredAt,
    };
    return this.record(op, async (trx, card, result) => {
      const t = transition(lifeStateOf(card), 'topUp');
      if (!t.ok) {
        if (t.refusal === 'card_wrong_state' && card.state === 'made') throw new CentralError(ledgerMessages.card_not_sold, { cardNo });
        if (t.refusal === 'card_wrong_state') {
          throw new CentralError(cardMessages.card_wrong_state, { cardNo, state: card.state, allowed: t.allowedStates.join(' or ') });
        }
        throw new CentralError(cardMessages[t.refusal], { cardNo });
      }
      return async () => {
        await this.audit.record(trx, actor, {
          action: 'card.top_up',
          targetType: 'card',
          targetId: cardNo,
          cinemaId: result().cinemaId,
          details: { opId: op.opId, seq: op.seq, uses: input.uses, remainingAfter: input.remainingAfter },
        });
      };
    });
  }

  /**
   * Records one op exactly once. `check` may refuse the op after the card is locked (before
   * anything is written) and returns what to do once it is written.
   */
  async record(
    op: CardOp,
    check?: (trx: Knex.Transaction, card: CardRow, result: () => ReturnType<typeof cardView>) => Promise<() => Promise<void>>,
  ): Promise<LedgerOpResult> {
    const hash = contentHash(op);
    try {
      return await this.db.transaction(async (trx) => {
        // Lock first, then look for the op: a concurrent copy of this op commits before we get the
        // lock, and must be found as a duplicate rather than as its own seq taken.
        let card = await lockCard(trx, op.cardNo);
        const seen = await this.sameOp(trx, op.opId, hash);
        if (seen) return seen;
        if (card.state === 'made') throw new CentralError(ledgerMessages.card_not_sold, { cardNo: op.cardNo });
        const after = check ? await check(trx, card, () => cardView(card)) : undefined;
        const taken = await trx<LedgerRow>('ledger_entries').where({ card_no: op.cardNo, seq: op.seq }).first('op_id');
        if (taken) throw new CentralError(ledgerMessages.seq_taken, { cardNo: op.cardNo, seq: op.seq, otherOpId: taken.op_id });

        const now = isoTime(this.clock.now());
        const row: LedgerRow = {
          op_id: op.opId,
          card_no: op.cardNo,
          seq: op.seq,
          kind: op.kind,
          uses_delta: op.usesDelta,
          remaining_after: op.remainingAfter,
          consumption_type: op.consumptionType,
          amount_fen: op.amountFen,
          cinema_id: op.cinemaId,
          terminal_id: op.terminalId,
          user_id: op.userId,
          cashier: op.cashier,
          occurred_at: new Date(op.occurredAt).toISOString(),
          recorded_at: now,
          content_hash: hash,
          status: 'waiting',
          anomaly: card.blacklisted_at !== null ? 'card_blacklisted' : null,
          issue_epoch: card.issue_epoch,
        };
        const cardChanges: Partial<CardRow> = { max_seq: Math.max(card.max_seq, op.seq), updated_at: now };
        if (op.seq < card.issue_from_seq) {
          // The previous holder's op, arriving after the re-issue: kept in its issue; it moves the
          // shadow balance only while it fills a gap behind the re-issue write.
          row.anomaly = 'previous_issue';
          row.issue_epoch = await this.epochOf(trx, op.cardNo, op.seq);
        }
        if (op.seq <= card.applied_seq) {
          row.status = 'applied';
          row.anomaly = 'seq_behind';
        }
        await trx('ledger_entries').insert(row);
        await addToRollups(trx, [row]);
        card = { ...card, ...cardChanges };
        if (op.seq === card.applied_seq + 1) card = await this.applyFrom(trx, card, now);
        const { card_no: _key, ...columns } = card;
        await trx('cards').where({ card_no: op.cardNo }).update(columns);
        if (after) await after();
        await appendChanges(trx, [cardChange(card)], now);
        const entry = await trx<LedgerRow>('ledger_entries').where({ op_id: op.opId }).first();
        return { outcome: 'recorded' as const, entry: entryView(entry!), card: cardView(card) };
      });
    } catch (error) {
      // Two submissions of one op raced; the loser answers like a later retry would.
      if (isUniqueViolation(error)) {
        const seen = await this.sameOp(this.db, op.opId, hash);
        if (seen) return seen;
      }
      throw error;
    }
  }

  /**
   * Records a lifecycle write of the registry (sale, renewal, recycling, re-issue) as the card's op
   * at `seq`, inside the registry's transaction, and returns the card row with the ledger applied.
   * A re-issue's op carries the new uses as its `remainingAfter`. A write a terminal synced keeps
   * the terminal's op id and hash (so a re-upload is a duplicate), cashier and time.
   */
  async appendCardWrite(
    trx: Knex.Transaction,
    card: CardRow,
    write: { readonly kind: CardWriteKind; readonly seq: number; readonly actor: Principal; readonly at: string; readonly synced?: SyncedWrite | undefined },
  ): Promise<CardRow> {
    const { synced } = write;
    const op: Omit<CardOp, 'kind'> & { kind: LedgerKind } = {
      opId: synced?.opId ?? newId(),
      cardNo: card.card_no,
      seq: write.seq,
      kind: write.kind,
      usesDelta: 0,
      remainingAfter: card.remaining_uses,
      consumptionType: null,
      amountFen: null,
      cinemaId: write.actor.cinemaId ?? card.cinema_id,
      terminalId: write.actor.terminal?.id ?? null,
      userId: write.actor.user?.id ?? null,
      cashier: synced?.cashier ?? null,
      occurredAt: synced?.occurredAt ?? write.at,
    };
    const row: LedgerRow = {
      op_id: op.opId,
      card_no: op.cardNo,
      seq: op.seq,
      kind: write.kind,
      uses_delta: 0,
      remaining_after: op.remainingAfter,
      consumption_type: null,
      amount_fen: null,
      cinema_id: op.cinemaId,
      terminal_id: op.terminalId,
      user_id: op.userId,
      cashier: op.cashier,
      occurred_at: op.occurredAt,
      recorded_at: write.at,
      content_hash: synced?.hash ?? contentHash(op),
      term_seq: synced?.termSeq ?? null,
      status: 'waiting',
      anomaly: null,
      issue_epoch: card.issue_epoch,
    };
    await trx('ledger_entries').insert(row);
    await addToRollups(trx, [row]);
    const updated = { ...card, max_seq: Math.max(card.max_seq, write.seq) };
    return write.seq === updated.applied_seq + 1 ? this.applyFrom(trx, updated, write.at) : updated;
  }

  /** The current holder's ops (since the latest issue), or every op of the card. */
  async history(cardNo: string, scope: 'current' | 'all'): Promise<CardHistory> {
    const card = await findCard(this.db, cardNo);
    const q = this.db<LedgerRow>('ledger_entries').where({ card_no: cardNo }).orderBy('seq');
    if (scope === 'current') q.where('seq', '>=', card.issue_from_seq);
    const rows = await q;
    return { card: cardView(card), scope, items: rows.map(entryView) };
  }

  /** A duplicate's answer, a conflict, or undefined for an op not seen before. */
  private async sameOp(db: Knex, opId: string, hash: string): Promise<LedgerOpResult | undefined> {
    const existing = await db<LedgerRow>('ledger_entries').where({ op_id: opId }).first();
    if (!existing) return undefined;
    if (existing.content_hash !== hash) throw new CentralError(ledgerMessages.op_id_conflict, { opId });
    return { outcome: 'duplicate', entry: entryView(existing), card: cardView(await findCard(db, existing.card_no)) };
  }

  /** Applies the op at applied_seq + 1 and every waiting op right behind it, in seq order. */
  private async applyFrom(trx: Knex.Transaction, card: CardRow, now: string): Promise<CardRow> {
    let current = card;
    for (;;) {
      const next = await trx<LedgerRow>('ledger_entries')
        .where({ card_no: current.card_no, seq: current.applied_seq + 1 })
        .first();
      if (!next) return current;
      const changes: Partial<LedgerRow> = { status: 'applied' };
      if (next.kind === 'redeem' || next.kind === 'topup') {
        const expected = current.remaining_uses + next.uses_delta;
        if (next.remaining_after !== expected && next.anomaly === null) changes.anomaly = 'balance_mismatch';
        current = { ...current, applied_seq: next.seq, remaining_uses: next.remaining_after };
        // Only the current holder's ops move the card's state; a late op of a previous holder
        // filling a gap must not mark a re-issued card exhausted.
        if (next.seq >= current.issue_from_seq) current = this.followBalance(current, next, now);
      } else {
        // A lifecycle write moves no uses; a re-issue loads them.
        current = { ...current, applied_seq: next.seq, ...(next.kind === 'reissue' ? { remaining_uses: next.remaining_after } : {}) };
      }
      await trx('ledger_entries').where({ op_id: next.op_id }).update(changes);
    }
  }

  private followBalance(card: CardRow, op: LedgerRow, now: string): CardRow {
    return followBalance(card, op.cinema_id, now);
  }

  private async epochOf(trx: Knex.Transaction, cardNo: string, seq: number): Promise<number> {
    return issueEpochOf(trx, cardNo, seq);
  }
}

/** The card's state follows its balance: 0 left → recycled (exhausted); uses again → active. */
export function followBalance(card: CardRow, opCinemaId: string | null, now: string): CardRow {
  // An active card with uses left stays as it is (the common redemption): no transition to make.
  if (card.remaining_uses > 0 && card.state === 'active' && card.recycled_reason === null && card.recycled_at === null && card.recycled_cinema_id === null) return card;
  const life = lifeStateOf(card);
  if (card.remaining_uses === 0) {
    const t = transition(life, 'exhaust');
    if (t.ok) return { ...card, state: t.next.state, recycled_reason: t.next.recycledReason, recycled_at: now, recycled_cinema_id: opCinemaId ?? card.cinema_id };
  } else {
    const t = transition(life, 'replenish');
    if (t.ok) return { ...card, state: t.next.state, recycled_reason: null, recycled_at: null, recycled_cinema_id: null };
  }
  return card;
}

/** The issue (epoch) a seq of the card belongs to. */
export async function issueEpochOf(trx: Knex.Transaction, cardNo: string, seq: number): Promise<number> {
  const issue = await trx('card_issues')
    .where({ card_no: cardNo })
    .andWhere('from_seq', '<=', seq)
    .orderBy('epoch', 'desc')
    .first('epoch');
  return (issue as { epoch: number } | undefined)?.epoch ?? 1;
}
