/**
 * Rebuilding from the cards (issue 8; `spec/operations.md` § Rebuilding from the cards): when
 * central's database (and a terminal's) are lost, a tapped card's static data and last record are
 * the truth. One step, the same for a till's synced `rebuild` op and for the API (an HQ station):
 *
 * | central has | card's record vs central | what central does | outcome |
 * |---|---|---|---|
 * | no such card | — | recreates it from the card (its type by the card's type code; an unknown code gets a placeholder type HQ must name and price), with the record's uses, status and seq; the shadow ledger gets a `rebuild` row at that seq, so the next write (seq + 1) follows on with no gap and no fraud alert | `created` |
 * | the card | higher seq than central applied | takes the card's state (uses, status, expiry, seq) and writes the `rebuild` row (unless central holds the op at that seq, with the same balance); ops waiting at or below it become applied history (the gap before them was lost with a till), ops waiting right after it follow on | `took_card` |
 * | the card | the seq central applied last (nothing waiting) | nothing to change | `up_to_date` |
 * | the card | lower seq, or another balance at the card's seq | keeps central's state; the discrepancy goes to the audit log (not a clone case by itself: no hotlist) | `central_ahead` |
 *
 * A card whose state came from its record is marked (`rebuilt_at`, `rebuilt_by_op`). Every rebuild
 * op is kept in `card_rebuilds` under its op id (provenance, outcome): a resend is answered from
 * there, and the progress count (`GET /v1/rebuild/progress`) reads it.
 */
import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { z } from 'zod';
import type { components } from '../client/schema.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import { requireCinema, type Principal } from '../auth/principal.ts';
import { pricesFromTheBeginning, setPricesFrom } from '../card-types/card-type-prices.ts';
import { CentralError } from '../errors.ts';
import { cardMessages } from './messages.ts';
import { isUniqueViolation } from '../store/db-errors.ts';
import { newId } from '../store/ids.ts';
import { appendChanges, blacklistChange, cardChange } from '../sync/change-log.ts';
import type { LedgerRow, SyncedWrite } from '../ledger/shadow-ledger.ts';
import { addToRollups } from '../reports/rollups.ts';
import { dialectOf } from '../store/database.ts';
import { type CardRow, cardView } from './card-record.ts';
import type { CardState, RecycleReason } from './lifecycle.ts';

type S = components['schemas'];
export type CardRebuild = S['CardRebuild'];
export type CardRebuildResult = S['CardRebuildResult'];
export type RebuildOutcome = CardRebuildResult['outcome'];
/** The answer, and whether the op became the card's ledger row (else sync keeps it as a record only). */
export type RebuildApplied = CardRebuildResult & { readonly ledgerRow: boolean };

const u16 = z.number().int().min(0).max(0xffff);
const time = z.iso.datetime({ message: 'must be a UTC time like 2025-01-31T08:00:00.000Z' });

/** What the card holds, as a till or an HQ station read and verified it (`spec/card-format.md` §3, §4). */
export const CardRebuildBody = z.strictObject({
  opId: z.uuid({ message: 'must be a UUID' }),
  tappedAt: time,
  cashier: z.string().min(1).max(64).nullable().optional(),
  card: z.strictObject({
    cardNo: z.string().regex(/^[0-9]{4,20}$/, 'must be 4 to 20 digits'),
    uid: z.string().regex(/^([0-9A-F]{8}|[0-9A-F]{14}|[0-9A-F]{20})$/, 'must be 8, 14 or 20 upper-case hex digits'),
    cardTypeCode: z.number().int().min(0).max(255),
    keyVersion: z.number().int().min(1).max(255),
    blocked: z.boolean(),
    issuedAt: time,
    originalExpiry: time,
    initialUses: u16,
    chainId: u16,
    issuingCinema: u16,
  }),
  record: z.strictObject({
    seq: z.number().int().min(1).max(2_000_000_000),
    remainingUses: u16,
    lifetimeUsesLoaded: u16,
    expiresAt: time,
    status: z.enum(['made', 'active', 'recycled', 'cancelled']),
    lastTxAt: time,
    lastCinema: u16,
    lastTerminal: u16,
    lastAmount: z.number().int().min(-0x8000).max(0x7fff),
    lastTxKind: z.enum(['none', 'redeem', 'top_up', 'void', 'issue', 'activate', 'renew', 'recycle']),
  }),
});


interface RebuildRow {
  op_id: string;
  card_no: string;
  hash: string;
  outcome: RebuildOutcome;
  card_seq: number;
  card_remaining: number;
  central_seq: number | null;
  central_remaining: number | null;
  cinema_id: string | null;
  terminal_id: string | null;
  user_id: string | null;
  cashier: string | null;
  tapped_at: string;
  recorded_at: string;
  provenance: string;
}

export interface RebuildDeps {
  readonly audit: AuditLog;
}

/** The content hash of an API rebuild (a till's op brings its own). */
export function rebuildHash(input: CardRebuild): string {
  return createHash('sha256').update(JSON.stringify(['rebuild', input.opId, input.card, input.record, input.tappedAt, input.cashier ?? null])).digest('hex');
}

/** The card's status → central's state (central has no `cancelled`: such a card is recycled, handed back). */
function stateOf(record: CardRebuild['record']): { state: CardState; recycledReason: RecycleReason | null } {
  switch (record.status) {
    case 'made':
      return { state: 'made', recycledReason: null };
    case 'active':
      return record.remainingUses === 0 ? { state: 'recycled', recycledReason: 'exhausted' } : { state: 'active', recycledReason: null };
    default:
      return { state: 'recycled', recycledReason: 'returned' };
  }
}

/**
 * Applies one rebuild in `trx` (the caller's transaction or savepoint). `synced` is the till's op
 * (id, hash, cashier, time, term seq) when it came through sync.
 */
export async function applyRebuild(
  deps: RebuildDeps,
  trx: Knex.Transaction,
  actor: Principal,
  raw: unknown,
  now: string,
  synced?: SyncedWrite,
): Promise<RebuildApplied> {
  const parsed = CardRebuildBody.safeParse(raw);
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new CentralError(cardMessages.rebuild_invalid, { detail });
  }
  const input = parsed.data;
  const hash = synced?.hash ?? rebuildHash(input);
  const before = await trx<RebuildRow>('card_rebuilds').where({ op_id: input.opId }).first();
  if (before) {
    if (before.hash !== hash) throw new CentralError(cardMessages.rebuild_op_conflict, { opId: input.opId });
    const card = await trx<CardRow>('cards').where({ card_no: before.card_no }).first();
    return { outcome: before.outcome, duplicate: true, card: card ? cardView(card) : null, discrepancy: null, placeholderCardType: false, ledgerRow: false };
  }
  const { card: c, record } = input;
  const q = trx<CardRow>('cards').where({ card_no: c.cardNo }).first();
  const existing = dialectOf(trx) === 'postgres' ? await q.forUpdate() : await q;
  if (existing && existing.cinema_id !== null) requireCinema(actor, existing.cinema_id);
  const cinemaId = actor.cinemaId ?? (await cinemaByCode(trx, record.lastCinema));
  let outcome: RebuildOutcome;
  let discrepancy: string | null = null;
  let placeholder = false;
  /** Whether the shadow ledger gets this op's `rebuild` row (not when central holds an op at that seq already). */
  let writeRow = true;
  let card: CardRow | undefined = existing;
  const life = stateOf(record);
  const ledgerRow = (row: CardRow): LedgerRow => ({
    op_id: input.opId,
    card_no: c.cardNo,
    seq: record.seq,
    kind: 'rebuild',
    uses_delta: 0,
    remaining_after: record.remainingUses,
    consumption_type: null,
    amount_fen: null,
    cinema_id: actor.cinemaId ?? row.cinema_id,
    terminal_id: actor.terminal?.id ?? null,
    user_id: actor.user?.id ?? null,
    cashier: synced?.cashier ?? input.cashier ?? null,
    occurred_at: synced?.occurredAt ?? input.tappedAt,
    recorded_at: now,
    content_hash: hash,
    term_seq: synced?.termSeq ?? null,
    status: 'applied',
    anomaly: null,
    issue_epoch: row.issue_epoch,
  });
  const fromCard = {
    remaining_uses: record.remainingUses,
    applied_seq: record.seq,
    max_seq: record.seq,
    state: life.state,
    recycled_reason: life.recycledReason,
    recycled_at: life.state === 'recycled' ? now : null,
    expires_at: record.expiresAt,
    rebuilt_at: now,
    rebuilt_by_op: input.opId,
    updated_at: now,
  };

  if (!existing) {
    const other = await trx<CardRow>('cards').where({ uid: c.uid }).first('card_no');
    if (other) throw new CentralError(cardMessages.rebuild_uid_taken, { cardNo: c.cardNo, uid: c.uid, other: other.card_no });
    const type = await cardTypeByCode(trx, c.cardTypeCode, c.initialUses, now);
    placeholder = type.placeholder;
    const batchId = newId();
    await trx('card_batches').insert({ id: batchId, card_type_id: type.id, card_count: 1, made_by_user_id: actor.user?.id ?? null, made_at: c.issuedAt });
    const sold = life.state !== 'made';
    card = {
      card_no: c.cardNo,
      uid: c.uid,
      card_type_id: type.id,
      batch_id: batchId,
      blacklist_reason: c.blocked ? 'blocked on the card (rebuilt)' : null,
      blacklisted_at: c.blocked ? now : null,
      issue_epoch: 1,
      // The rebuild row opens the holder's history: what came before it is not known any more.
      issue_from_seq: record.seq,
      issued_at: sold ? now : null,
      issued_uses: record.lifetimeUsesLoaded,
      cinema_id: sold ? cinemaId : null,
      activated_at: sold ? now : null,
      recycled_cinema_id: null,
      made_at: c.issuedAt,
      ...fromCard,
    } as CardRow;
    await trx('cards').insert(card);
    await trx('card_issues').insert({
      card_no: c.cardNo, epoch: 1, from_seq: record.seq, card_type_id: type.id, cinema_id: card.cinema_id, uses: record.lifetimeUsesLoaded,
      issued_at: now, issued_by_user_id: actor.user?.id ?? null, issued_by_terminal_id: actor.terminal?.id ?? null,
    });
    outcome = 'created';
  } else if (record.seq > existing.applied_seq) {
    const at = await trx<LedgerRow>('ledger_entries').where({ card_no: c.cardNo, seq: record.seq }).first();
    if (at && at.remaining_after !== record.remainingUses) {
      outcome = 'central_ahead';
      discrepancy = `central holds op ${at.op_id} at the card's seq ${record.seq} with ${at.remaining_after} uses; the card holds ${record.remainingUses}`;
    } else {
      card = await takeCard(trx, existing, fromCard, life, now);
      writeRow = !at;
      outcome = 'took_card';
    }
  } else if (record.seq === existing.applied_seq && existing.applied_seq === existing.max_seq) {
    outcome = 'up_to_date';
    if (record.remainingUses !== existing.remaining_uses) {
      discrepancy = `at seq ${record.seq} the card holds ${record.remainingUses} uses, central ${existing.remaining_uses}`;
    }
  } else {
    outcome = 'central_ahead';
    discrepancy = `the card is at seq ${record.seq} with ${record.remainingUses} uses; central has seq ${existing.max_seq} (applied ${existing.applied_seq}) with ${existing.remaining_uses}`;
  }

  const changed = outcome === 'created' || outcome === 'took_card';
  if (changed && writeRow) {
    const row = ledgerRow(card!);
    try {
      await trx('ledger_entries').insert(row);
    } catch (error) {
      if (isUniqueViolation(error)) throw new CentralError(cardMessages.rebuild_op_conflict, { opId: input.opId });
      throw error;
    }
    await addToRollups(trx, [row]);
  }
  await trx('card_rebuilds').insert({
    op_id: input.opId,
    card_no: c.cardNo,
    hash,
    outcome,
    card_seq: record.seq,
    card_remaining: record.remainingUses,
    central_seq: existing?.max_seq ?? null,
    central_remaining: existing?.remaining_uses ?? null,
    cinema_id: actor.cinemaId ?? card?.cinema_id ?? null,
    terminal_id: actor.terminal?.id ?? null,
    user_id: actor.user?.id ?? null,
    cashier: synced?.cashier ?? input.cashier ?? null,
    tapped_at: synced?.occurredAt ?? input.tappedAt,
    recorded_at: now,
    provenance: JSON.stringify({ card: c, record }),
  } satisfies RebuildRow);
  await deps.audit.record(trx, actor, {
    action: 'card.rebuild',
    targetType: 'card',
    targetId: c.cardNo,
    cinemaId: card?.cinema_id ?? actor.cinemaId,
    details: {
      outcome, placeholderCardType: placeholder, discrepancy, cardSeq: record.seq, cardRemaining: record.remainingUses,
      centralSeq: existing?.max_seq ?? null, centralRemaining: existing?.remaining_uses ?? null, cardTypeCode: c.cardTypeCode,
      ...(synced ? { syncedOpId: synced.opId, cashier: synced.cashier } : { opId: input.opId }),
    },
  });
  if (changed) {
    await appendChanges(trx, [...(card!.blacklisted_at !== null && !existing ? [blacklistChange(card!, now)] : []), cardChange(card!)], now);
  }
  return { outcome, duplicate: false, card: card ? cardView(card) : null, discrepancy, placeholderCardType: placeholder, ledgerRow: changed && writeRow };
}

/**
 * Central takes the card's state at the card's seq. Ops waiting at or below it (their terminal's
 * earlier ops were lost: the gap can never fill) are in the card's record already and become applied
 * history; ops waiting right after it follow on, as the shadow ledger would apply them.
 */
async function takeCard(
  trx: Knex.Transaction,
  existing: CardRow,
  fromCard: Partial<CardRow> & { applied_seq: number; remaining_uses: number },
  life: { state: CardState; recycledReason: RecycleReason | null },
  now: string,
): Promise<CardRow> {
  const cardNo = existing.card_no;
  await trx('ledger_entries').where({ card_no: cardNo, status: 'waiting' }).where('seq', '<=', fromCard.applied_seq).update({ status: 'applied' });
  let seq = fromCard.applied_seq;
  let remaining = fromCard.remaining_uses;
  const following = await trx<LedgerRow>('ledger_entries').where({ card_no: cardNo, status: 'waiting' }).where('seq', '>', seq).orderBy('seq').select('op_id', 'seq', 'remaining_after');
  const promoted: string[] = [];
  for (const r of following) {
    if (r.seq !== seq + 1) break;
    seq = r.seq;
    remaining = r.remaining_after;
    promoted.push(r.op_id);
  }
  if (promoted.length > 0) await trx('ledger_entries').whereIn('op_id', promoted).update({ status: 'applied' });
  const exhausted = life.state === 'active' && remaining === 0;
  const state = exhausted ? { state: 'recycled' as const, recycledReason: 'exhausted' as const } : life;
  const changes: Partial<CardRow> = {
    ...fromCard,
    applied_seq: seq,
    max_seq: Math.max(existing.max_seq, fromCard.applied_seq),
    remaining_uses: remaining,
    state: state.state,
    recycled_reason: state.recycledReason,
    recycled_at: state.state === 'recycled' ? (existing.recycled_at ?? now) : null,
  };
  await trx('cards').where({ card_no: cardNo }).update(changes);
  return { ...existing, ...changes } as CardRow;
}

/** The cinema whose code is the card's u16 cinema code, if central has one so named. */
async function cinemaByCode(trx: Knex.Transaction, code: number): Promise<string | null> {
  const row = await trx('cinemas').where({ code: String(code) }).first<{ id: string } | undefined>('id');
  return row?.id ?? null;
}

/**
 * The card type written on the card as `code`. Central lost its types too: a placeholder is made
 * (named after the code, settlement price 0, `needs_setup`) so the card's uses are not lost; HQ sets
 * its name and price (`PATCH /v1/card-types/{id}`, the price backdated with `pricesEffectiveFrom`
 * to the cards' first use), which clears the mark.
 */
async function cardTypeByCode(trx: Knex.Transaction, code: number, uses: number, now: string): Promise<{ id: string; placeholder: boolean }> {
  const known = await trx('card_types').where({ card_code: code }).first<{ id: string; needs_setup: boolean | number } | undefined>('id', 'needs_setup');
  if (known) return { id: known.id, placeholder: Boolean(known.needs_setup) };
  const id = newId();
  await trx('card_types').insert({
    id,
    name: `Card type ${code} (rebuilt: set name and price) ${id.slice(-6)}`,
    uses_per_card: Math.max(uses, 1),
    settlement_price_fen: 0,
    concession_value_fen: 0,
    validity_days: 365,
    card_code: code,
    needs_setup: true,
    created_at: now,
    updated_at: now,
  });
  // Priced at 0 from the beginning; HQ backdates its real prices to the cards' first use.
  await setPricesFrom(trx, id, pricesFromTheBeginning, { settlementPricePerUseFen: 0, salePriceFen: null }, now);
  return { id, placeholder: true };
}

/** Progress of a rebuild: cards known (in scope), cards seen since `since`, those not seen yet. */
export async function rebuildProgress(db: Knex, actor: Principal, query: { cinemaId?: string | undefined; since?: string | undefined }, now: string): Promise<S['RebuildProgress']> {
  if (query.cinemaId !== undefined) requireCinema(actor, query.cinemaId);
  const cinemaId = query.cinemaId ?? actor.cinemaId ?? null;
  const since = query.since ?? '1970-01-01T00:00:00.000Z';
  const scoped = <T extends Knex.QueryBuilder>(q: T, column: string): T => (cinemaId === null ? q : (q.where(column, cinemaId) as T));
  const known = Number((await scoped(db('cards').count<{ n: number | string }[]>({ n: '*' }), 'cinema_id'))[0]?.n ?? 0);
  const seenRows = scoped(db('card_rebuilds').where('recorded_at', '>=', since).distinct('card_no'), 'cinema_id');
  const seen = Number((await db.count<{ n: number | string }[]>({ n: '*' }).from(seenRows.as('s')))[0]?.n ?? 0);
  const byOutcome = await scoped(
    db('card_rebuilds').where('recorded_at', '>=', since).select('outcome').count<{ outcome: RebuildOutcome; n: number | string }[]>({ n: '*' }).groupBy('outcome'),
    'cinema_id',
  );
  const notSeen = Number(
    (await scoped(db('cards').whereNotIn('card_no', db('card_rebuilds').where('recorded_at', '>=', since).select('card_no')).count<{ n: number | string }[]>({ n: '*' }), 'cinema_id'))[0]?.n ?? 0,
  );
  const placeholders = await db('card_types').where({ needs_setup: true }).orderBy('card_code').select<{ id: string; card_code: number; name: string }[]>('id', 'card_code', 'name');
  const outcomes = { created: 0, took_card: 0, up_to_date: 0, central_ahead: 0 };
  for (const r of byOutcome) outcomes[r.outcome] = Number(r.n);
  return {
    cinemaId,
    since,
    cardsKnown: known,
    cardsSeen: seen,
    cardsNotSeen: notSeen,
    outcomes,
    placeholderCardTypes: placeholders.map((p) => ({ id: p.id, cardTypeCode: p.card_code, name: p.name })),
    at: now,
  };
}

