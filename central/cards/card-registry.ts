/**
 * The card registry: made batches, and every administrative step of a card's life (sale, renewal,
 * blacklist, recycling, re-issue, type change). Each step checks the state machine
 * (`lifecycle.ts`), the caller's cinema, and writes its audit entry in the same transaction.
 * Balances move only through the shadow ledger (`central/ledger/`).
 */
import type { Knex } from 'knex';
import type { components } from '../client/schema.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import { requireCinema, type Principal } from '../auth/principal.ts';
import { CentralError } from '../errors.ts';
import { appendChanges, blacklistChange, cardChange } from '../sync/change-log.ts';
import { type Clock, isoTime, newId } from '../store/ids.ts';
import { type CardTypeStore, requireMinimumUses } from '../card-types/card-type-store.ts';
import { type Card, type CardRow, cardView, lifeStateOf, lockCard, findCard } from './card-record.ts';
import { type CardAction, type CardLifeState, transition } from './lifecycle.ts';
import { cardMessages } from './messages.ts';
import type { CinemaStore } from '../cinemas/cinema-store.ts';
import type { CardWriteKind, ShadowLedger, SyncedWrite } from '../ledger/shadow-ledger.ts';
import { cinemaMessages } from '../cinemas/messages.ts';
import { applyRebuild, type RebuildApplied } from './card-rebuild.ts';

type Schemas = components['schemas'];
export type CardBatchCreate = Schemas['CardBatchCreate'];
export type CardBatch = Schemas['CardBatch'];
export type CardPage = Schemas['CardPage'];

export interface CardQuery {
  readonly state?: Schemas['CardState'] | undefined;
  readonly cinemaId?: string | undefined;
  readonly cardTypeId?: string | undefined;
  readonly recycledSince?: string | undefined;
  readonly after?: string | undefined;
  readonly limit: number;
}

const dayMs = 86_400_000;
/** A card leaves personalisation with its record at seq 1 (`spec/card-format.md` §4). */
export const personalisedSeq = 1;
/** How many offending cards a 409 names; the rest are counted. */
const namedInConflict = 20;

export class CardRegistry {
  constructor(
    private readonly db: Knex,
    private readonly clock: Clock,
    private readonly audit: AuditLog,
    private readonly cardTypes: CardTypeStore,
    private readonly cinemas: CinemaStore,
    private readonly ledger: ShadowLedger,
    /** Set on a registry made by {@link forSyncedOp}. */
    private readonly synced?: SyncedWrite,
  ) {}

  /**
   * The same steps for a change a terminal made and synced (sync ingest): run inside the batch's
   * transaction `trx` (each step in a savepoint, so a refused one leaves nothing behind), the card
   * write recorded under the terminal's op id, hash, cashier and time.
   */
  forSyncedOp(trx: Knex.Transaction, synced: SyncedWrite): CardRegistry {
    return new CardRegistry(trx, this.clock, this.audit, this.cardTypes, this.cinemas, this.ledger, synced);
  }

  async get(cardNo: string): Promise<Card> {
    return cardView(await findCard(this.db, cardNo));
  }

  /** A page by card number; a cinema-bound principal sees only its cinema's cards. */
  async list(actor: Principal, query: CardQuery): Promise<CardPage> {
    if (query.cinemaId !== undefined) requireCinema(actor, query.cinemaId);
    const cinemaId = query.cinemaId ?? actor.cinemaId ?? undefined;
    const q = this.db<CardRow>('cards').orderBy('card_no').limit(query.limit + 1);
    if (cinemaId !== undefined) q.where((w) => w.where({ cinema_id: cinemaId }).orWhere({ recycled_cinema_id: cinemaId }));
    if (query.state) q.where({ state: query.state });
    if (query.cardTypeId) q.where({ card_type_id: query.cardTypeId });
    if (query.recycledSince) q.where('recycled_at', '>=', query.recycledSince);
    if (query.after) q.where('card_no', '>', query.after);
    const rows = await q;
    const page = rows.slice(0, query.limit);
    return { items: page.map(cardView), nextCursor: rows.length > query.limit ? (page.at(-1)?.card_no ?? null) : null };
  }

  /** All or nothing: any card number or UID already known (or repeated) refuses the whole batch. */
  async registerBatch(actor: Principal | null, input: CardBatchCreate): Promise<CardBatch> {
    return this.db.transaction(async (trx) => {
      const type = await this.cardTypes.get(input.cardTypeId, trx);
      const uses = input.uses ?? type.usesPerCard;
      requireMinimumUses(uses, this.cardTypes.minUsesPerCard);
      const now = this.clock.now();
      const expiresAt = this.futureExpiry(input.expiresAt, type.validityDays);
      await this.refuseDuplicates(trx, input.cards);
      const batchId = newId();
      const at = isoTime(now);
      await trx('card_batches').insert({
        id: batchId,
        card_type_id: type.id,
        card_count: input.cards.length,
        made_by_user_id: actor?.user?.id ?? null,
        made_at: at,
      });
      const rows: CardRow[] = input.cards.map((c) => ({
        card_no: c.cardNo,
        uid: c.uid,
        card_type_id: type.id,
        batch_id: batchId,
        state: 'made',
        blacklist_reason: null,
        blacklisted_at: null,
        issue_epoch: 1,
        issue_from_seq: personalisedSeq + 1,
        issued_at: null,
        issued_uses: uses,
        remaining_uses: uses,
        applied_seq: personalisedSeq,
        max_seq: personalisedSeq,
        expires_at: expiresAt,
        cinema_id: null,
        activated_at: null,
        recycled_at: null,
        recycled_reason: null,
        recycled_cinema_id: null,
        made_at: at,
        updated_at: at,
      }));
      // Chunks keep each statement under SQLite's bound-variable limit.
      for (let i = 0; i < rows.length; i += 40) await trx('cards').insert(rows.slice(i, i + 40));
      const issues = rows.map((r) => ({
        card_no: r.card_no,
        epoch: 1,
        from_seq: personalisedSeq + 1,
        card_type_id: type.id,
        cinema_id: null,
        uses,
        issued_at: at,
        issued_by_user_id: actor?.user?.id ?? null,
        issued_by_terminal_id: actor?.terminal?.id ?? null,
      }));
      for (let i = 0; i < issues.length; i += 100) await trx('card_issues').insert(issues.slice(i, i + 100));
      await this.audit.record(trx, actor, {
        action: 'card_batch.register',
        targetType: 'card_batch',
        targetId: batchId,
        cinemaId: null,
        details: { cardTypeId: type.id, count: rows.length, uses, expiresAt, first: rows[0]?.card_no, last: rows.at(-1)?.card_no },
      });
      return { id: batchId, cardTypeId: type.id, count: rows.length, madeAt: at, cards: rows.map(cardView) };
    });
  }

  /** Sale at a cinema: the caller must act for that cinema. */
  async activate(actor: Principal, cardNo: string, input: Schemas['CardActivate']): Promise<Card> {
    requireCinema(actor, input.cinemaId);
    const write = { kind: 'activate', seq: input.seq } as const;
    return this.change(actor, cardNo, 'activate', 'card.activate', input, write, async (_row, now, trx) => ({
      cinema_id: await this.existingCinema(trx, input.cinemaId),
      activated_at: now,
      issued_at: now,
      // The holder's history starts with the sale.
      issue_from_seq: input.seq,
      ...(input.expiresAt !== undefined ? { expires_at: this.futureExpiry(input.expiresAt, 0) } : {}),
    }), async (trx, row) => {
      await trx('card_issues').where({ card_no: cardNo, epoch: row.issue_epoch }).update({ cinema_id: input.cinemaId, from_seq: row.issue_from_seq });
    });
  }

  /** A new expiry, by the card's cinema (or HQ). */
  async renew(actor: Principal, cardNo: string, input: Schemas['CardRenew']): Promise<Card> {
    return this.change(actor, cardNo, 'renew', 'card.renew', input, { kind: 'renew', seq: input.seq }, (row) => {
      requireCinema(actor, row.cinema_id);
      return { expires_at: this.futureExpiry(input.expiresAt, 0) };
    });
  }

  /** The card's cinema's manager, or HQ (the only one for a card not sold yet). */
  async blacklist(actor: Principal, cardNo: string, reason: string): Promise<Card> {
    return this.change(actor, cardNo, 'blacklist', 'card.blacklist', { reason }, undefined, (row, now) => {
      requireCinema(actor, row.cinema_id);
      return { blacklist_reason: reason, blacklisted_at: now };
    });
  }

  async unblacklist(actor: Principal, cardNo: string, reason: string): Promise<Card> {
    return this.change(actor, cardNo, 'unblacklist', 'card.unblacklist', { reason }, undefined, (row) => {
      requireCinema(actor, row.cinema_id);
      return { blacklist_reason: null, blacklisted_at: null };
    });
  }

  /** A card handed back before its uses ran out; the collecting cinema is the caller's. */
  async recycle(actor: Principal, cardNo: string, input: Schemas['CardRecycle']): Promise<Card> {
    const write = input.seq === undefined ? undefined : ({ kind: 'recycle', seq: input.seq } as const);
    return this.change(actor, cardNo, 'recycle', 'card.recycle', input, write, (row, now) => ({
      recycled_at: now,
      recycled_cinema_id: actor.cinemaId ?? row.cinema_id,
    }));
  }

  /**
   * A recycled card to a new holder: same card number, issue epoch + 1, fresh uses and expiry;
   * the new holder's history starts with this write (ops of the previous holder that arrive later,
   * with lower seqs, stay in the previous issue).
   */
  async reissue(actor: Principal, cardNo: string, input: Schemas['CardReissue']): Promise<Card> {
    requireCinema(actor, input.cinemaId);
    let uses = 0;
    return this.change(
      actor,
      cardNo,
      'reissue',
      'card.reissue',
      input,
      { kind: 'reissue', seq: input.seq },
      async (row, now, trx) => {
        await this.existingCinema(trx, input.cinemaId);
        const type = await this.cardTypes.get(row.card_type_id, trx);
        uses = input.uses ?? type.usesPerCard;
        requireMinimumUses(uses, this.cardTypes.minUsesPerCard);
        return {
          cinema_id: input.cinemaId,
          issued_at: now,
          issued_uses: uses,
          remaining_uses: uses,
          issue_from_seq: input.seq,
          expires_at: this.futureExpiry(input.expiresAt, type.validityDays),
          recycled_at: null,
          recycled_cinema_id: null,
        };
      },
      async (trx, row, next) => {
        await trx('card_issues').insert({
          card_no: cardNo,
          epoch: next.issueEpoch,
          from_seq: row.issue_from_seq,
          card_type_id: row.card_type_id,
          cinema_id: input.cinemaId,
          uses,
          issued_at: row.issued_at,
          issued_by_user_id: actor.user?.id ?? null,
          issued_by_terminal_id: actor.terminal?.id ?? null,
        });
      },
    );
  }

  /**
   * Rebuilding from the cards (`card-rebuild.ts`): a tapped card's static data and last record
   * recreate the card, or bring central's state up to the card's. `raw` is the `CardRebuild` body
   * (from the API, or a till's `rebuild` op payload with its op id); a synced op must name the
   * same card and seq as its payload.
   */
  async rebuild(actor: Principal, raw: unknown, expect?: { readonly cardNo: string; readonly seq: number | null | undefined }): Promise<RebuildApplied> {
    if (expect) {
      // A till's payload carries the chip UID twice: `uid` for sync (every op's), and in `card`.
      const { uid: _uid, ...body } = (raw ?? {}) as { uid?: unknown; card?: { cardNo?: unknown }; record?: { seq?: unknown } };
      if (body.card?.cardNo !== expect.cardNo || body.record?.seq !== expect.seq) {
        throw new CentralError(cardMessages.rebuild_invalid, { detail: `the payload's card and seq must be the op's (${expect.cardNo} at ${expect.seq ?? 'no seq'})` });
      }
      raw = body;
    }
    return this.db.transaction((trx) => applyRebuild({ audit: this.audit }, trx, actor, raw, isoTime(this.clock.now()), this.synced));
  }

  /** A recycled card made into another type (HQ operator); its uses follow at re-issue. */
  async changeType(actor: Principal, cardNo: string, input: Schemas['CardTypeChange']): Promise<Card> {
    return this.change(actor, cardNo, 'changeType', 'card.change_type', input, undefined, async (_row, _now, trx) => {
      await this.cardTypes.get(input.cardTypeId, trx);
      return { card_type_id: input.cardTypeId };
    });
  }

  /**
   * One lifecycle step in one transaction: lock, check the state machine, apply `changes`, record
   * the card `write` (if the step wrote the card) in the shadow ledger, run `after` with the
   * updated row, write the audit entry.
   */
  private async change(
    actor: Principal,
    cardNo: string,
    action: CardAction,
    auditAction: string,
    details: object,
    write: { readonly kind: CardWriteKind; readonly seq: number } | undefined,
    changes: (row: CardRow, now: string, trx: Knex.Transaction) => Partial<CardRow> | Promise<Partial<CardRow>>,
    after?: (trx: Knex.Transaction, row: CardRow, next: CardLifeState) => Promise<void>,
  ): Promise<Card> {
    return this.db.transaction(async (trx) => {
      const row = await lockCard(trx, cardNo);
      const next = this.allowed(row, action);
      const now = isoTime(this.clock.now());
      if (write && write.seq <= row.max_seq) {
        throw new CentralError(cardMessages.card_seq_behind, { cardNo, maxSeq: row.max_seq, seq: write.seq });
      }
      let updated: CardRow = {
        ...row,
        ...(await changes(row, now, trx)),
        state: next.state,
        issue_epoch: next.issueEpoch,
        recycled_reason: next.recycledReason,
        updated_at: now,
      };
      if (write) updated = await this.ledger.appendCardWrite(trx, updated, { ...write, actor, at: now, synced: this.synced });
      const { card_no: _key, ...columns } = updated;
      await trx('cards').where({ card_no: cardNo }).update(columns);
      if (after) await after(trx, updated, next);
      await this.audit.record(trx, actor, {
        action: auditAction,
        targetType: 'card',
        targetId: cardNo,
        cinemaId: updated.cinema_id ?? row.cinema_id,
        details: {
          ...details, from: row.state, to: updated.state, issueEpoch: updated.issue_epoch,
          ...(this.synced ? { syncedOpId: this.synced.opId, cashier: this.synced.cashier } : {}),
        },
      });
      // Terminals replicate the card (and the blacklist, first); last, as it takes the head lock.
      const listedChanged = (updated.blacklisted_at === null) !== (row.blacklisted_at === null);
      await appendChanges(trx, [...(listedChanged ? [blacklistChange(updated, now)] : []), cardChange(updated)], now);
      return cardView(updated);
    });
  }

  private allowed(row: CardRow, action: CardAction): CardLifeState {
    const t = transition(lifeStateOf(row), action);
    if (t.ok) return t.next;
    const cardNo = row.card_no;
    if (t.refusal === 'card_wrong_state') {
      throw new CentralError(cardMessages.card_wrong_state, { cardNo, state: row.state, allowed: t.allowedStates.join(' or ') });
    }
    throw new CentralError(cardMessages[t.refusal], { cardNo });
  }

  private async existingCinema(trx: Knex.Transaction, cinemaId: string): Promise<string> {
    if (!(await this.cinemas.findById(cinemaId, trx))) throw new CentralError(cinemaMessages.cinema_not_found, { cinemaId });
    return cinemaId;
  }

  /** `given` (which must be in the future), or now + `days`. */
  private futureExpiry(given: string | undefined, days: number): string {
    const now = this.clock.now();
    if (given === undefined) return isoTime(new Date(now.getTime() + days * dayMs));
    const at = new Date(given);
    if (!(at.getTime() > now.getTime())) throw new CentralError(cardMessages.expiry_in_past, { expiresAt: given });
    return isoTime(at);
  }

  private async refuseDuplicates(trx: Knex.Transaction, cards: CardBatchCreate['cards']): Promise<void> {
    const offenders = new Set<string>();
    const seenNo = new Set<string>();
    const seenUid = new Set<string>();
    for (const c of cards) {
      if (seenNo.has(c.cardNo)) offenders.add(`card ${c.cardNo}`);
      if (seenUid.has(c.uid)) offenders.add(`UID ${c.uid}`);
      seenNo.add(c.cardNo);
      seenUid.add(c.uid);
    }
    const nos = [...seenNo];
    const uids = [...seenUid];
    for (let i = 0; i < nos.length; i += 400) {
      const found = await trx<CardRow>('cards').whereIn('card_no', nos.slice(i, i + 400)).select('card_no');
      for (const r of found) offenders.add(`card ${r.card_no}`);
    }
    for (let i = 0; i < uids.length; i += 400) {
      const found = await trx<CardRow>('cards').whereIn('uid', uids.slice(i, i + 400)).select('uid', 'card_no');
      for (const r of found) offenders.add(`UID ${r.uid} (card ${r.card_no})`);
    }
    if (offenders.size === 0) return;
    const named = [...offenders].slice(0, namedInConflict);
    const more = offenders.size - named.length;
    throw new CentralError(cardMessages.cards_already_registered, {
      list: named.join(', ') + (more > 0 ? ` and ${more} more` : ''),
    });
  }
}
