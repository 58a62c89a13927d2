/**
 * Batch ingest (DESIGN §4, `spec/sync.md` § Upload): a terminal's batch of ops applied in ONE
 * transaction, each op exactly once. On SQLite (one writer) batches that arrive while others are
 * written share one transaction, each in a savepoint of its own, and are answered after its commit
 * ({@link GroupCommit}).
 *
 * Per op, in `term_seq` order:
 * - `termSeq` past the next expected one: this and the rest are `deferred` (the reply names the
 *   expected seq; the terminal sends again from there).
 * - an `opId` seen before: `duplicate` with the same hash, `rejected` (`op_id_conflict`, parked)
 *   with another; a `termSeq` already used by another op id: `term_seq_reused`, parked.
 * - otherwise the expected seq advances, and the op is checked (shape, terminal, card) and applied
 *   to the shadow ledger, or parked with the reason. A parked op never blocks the queue.
 *
 * Shadow ledger, per card: the op at applied_seq + 1 is applied and pulls in any ops waiting right
 * behind it; one further ahead waits (another terminal holds the gap); a seq the card already has
 * is a clone or a replay (`seq_reused` at the card's latest seq, `seq_backwards` below it) and a
 * chip UID other than the card's is `uid_mismatch` — each a fraud alert and, by policy
 * (`sync.hotlistOnFraud`), a hotlisted card.
 *
 * The hot path reads per batch (terminal row, known op ids, the cards) and writes per op one
 * ledger row; per card touched one card update and one change-log row (bulk statements, `bulk.ts`).
 */
import type { Knex } from 'knex';
import { z } from 'zod';
import type { components } from '../client/schema.ts';
import type { Principal } from '../auth/principal.ts';
import { CentralError } from '../errors.ts';
import { dialectOf } from '../store/database.ts';
import { isUniqueViolation } from '../store/db-errors.ts';
import { type Clock, isoTime, newId } from '../store/ids.ts';
import type { CardRow } from '../cards/card-record.ts';
import type { CardRegistry } from '../cards/card-registry.ts';
import { followBalance, issueEpochOf, type LedgerRow } from '../ledger/shadow-ledger.ts';
import { addToRollups, rollupTimeZone } from '../reports/rollups.ts';
import { insertRows, selectByKeys, sqlQuery, updateRows, type Column } from './bulk.ts';
import { appendChanges, blacklistChange, cardChange, type ChangeEntry, type LogPosition, logPosition } from './change-log.ts';
import { syncMessages } from './messages.ts';
import { text } from '../http/validation.ts';

type S = components['schemas'];
export type SyncBatch = S['SyncBatch'];
export type SyncBatchResult = S['SyncBatchResult'];
export type SyncOpResult = S['SyncOpResult'];
export type FraudKind = S['FraudAlert']['kind'];

export interface SyncPolicy {
  /** Hotlist (blacklist) a card when a fraud alert is raised on it. */
  readonly hotlistOnFraud: boolean;
}

/** The envelope every op must have for the batch to be read at all; the rest is checked per op. */
const OpEnvelope = z.looseObject({
  opId: text(1, 64),
  termSeq: z.number().int().min(1).max(2_000_000_000),
});

/** The batch as the route accepts it (each op's own fields are checked in {@link SyncIngest}). */
export const SyncBatchBody = z.strictObject({
  ops: z.array(OpEnvelope).max(500, 'at most 500 ops per batch'),
  deviceTime: z.string().max(40),
  pendingOps: z.number().int().min(0).optional(),
  cursor: z.number().int().min(0).optional(),
}) as unknown as z.ZodType<SyncBatch>;

const int = z.number().int();
export const FullOp = z.strictObject({
  opId: text(1, 64),
  termSeq: int.min(1).max(2_000_000_000),
  terminalId: z.string().max(64),
  cinemaId: z.string().max(64),
  kind: z.enum(['redeem', 'top_up', 'activate', 'renew', 'recycle', 'reissue', 'blacklist', 'unblacklist', 'rebuild']),
  cardNo: z.string().regex(/^[0-9]{4,20}$/),
  cardSeq: int.min(1).max(2_000_000_000).nullable().optional(),
  cardUid: z.string().max(20).nullable().optional(),
  operatorId: text(1, 64).nullable().optional(),
  consumption: z.enum(['ticket', 'concession']).nullable().optional(),
  uses: int.min(0).max(10_000).nullable().optional(),
  remainingAfter: int.min(0).max(1_000_000).nullable().optional(),
  deviceTime: z.string().max(40),
  payload: z.string().max(8000),
  hash: text(1, 64),
});
type WireOp = z.infer<typeof FullOp>;
type ParsedOp = { success: true; data: WireOp } | { success: false; error: z.ZodError };

const fullOpKeys = new Set(Object.keys(FullOp.shape));
const noControl = /^[^\p{Cc}]*$/u;
const cardNoPattern = /^[0-9]{4,20}$/;
const isText = (v: unknown, min: number, max: number): boolean => typeof v === 'string' && v.length >= min && v.length <= max && noControl.test(v);
const isInt = (v: unknown, min: number, max: number): boolean => typeof v === 'number' && Number.isSafeInteger(v) && v >= min && v <= max;
const isString = (v: unknown, max: number): boolean => typeof v === 'string' && v.length <= max;
const absent = (v: unknown): boolean => v === undefined || v === null;

/**
 * The op of almost every batch — a redemption or top-up with every field well-formed — checked by
 * hand (zod costs several times more per op, and the event loop is what the writer waits on). It
 * accepts only what {@link FullOp} accepts, and zod's output for it equals the input; anything
 * else goes through {@link FullOp}, which says what is wrong.
 */
export function parseOp(raw: Record<string, unknown>): ParsedOp {
  const r = raw;
  const plain =
    (r['kind'] === 'redeem' || r['kind'] === 'top_up') &&
    Object.keys(r).every((k) => fullOpKeys.has(k)) &&
    isText(r['opId'], 1, 64) &&
    isInt(r['termSeq'], 1, 2_000_000_000) &&
    isString(r['terminalId'], 64) &&
    isString(r['cinemaId'], 64) &&
    typeof r['cardNo'] === 'string' &&
    cardNoPattern.test(r['cardNo']) &&
    (absent(r['cardSeq']) || isInt(r['cardSeq'], 1, 2_000_000_000)) &&
    (absent(r['cardUid']) || isString(r['cardUid'], 20)) &&
    (absent(r['operatorId']) || isText(r['operatorId'], 1, 64)) &&
    (absent(r['consumption']) || r['consumption'] === 'ticket' || r['consumption'] === 'concession') &&
    (absent(r['uses']) || isInt(r['uses'], 0, 10_000)) &&
    (absent(r['remainingAfter']) || isInt(r['remainingAfter'], 0, 1_000_000)) &&
    isString(r['deviceTime'], 40) &&
    isString(r['payload'], 8000) &&
    isText(r['hash'], 1, 64);
  return plain ? { success: true, data: raw as WireOp } : (FullOp.safeParse(raw) as ParsedOp);
}

const ledgerKinds = new Set(['redeem', 'top_up']);
/** Card writes the registry records (state machine, expiry, issue epochs) at their seq. */
const lifecycleKinds = new Set(['activate', 'renew', 'recycle', 'reissue']);
/** Changes with no card write: acted on through the registry, and kept as the terminal's record. */
const listKinds = new Set(['blacklist', 'unblacklist']);


const ledgerColumns: readonly (Column & { name: keyof LedgerRow })[] = [
  { name: 'op_id', pg: 'uuid' },
  { name: 'card_no', pg: 'text' },
  { name: 'seq', pg: 'int4' },
  { name: 'kind', pg: 'text' },
  { name: 'uses_delta', pg: 'int4' },
  { name: 'remaining_after', pg: 'int4' },
  { name: 'consumption_type', pg: 'text' },
  { name: 'amount_fen', pg: 'int4' },
  { name: 'cinema_id', pg: 'uuid' },
  { name: 'terminal_id', pg: 'uuid' },
  { name: 'user_id', pg: 'uuid' },
  { name: 'cashier', pg: 'text' },
  { name: 'occurred_at', pg: 'text' },
  { name: 'recorded_at', pg: 'text' },
  { name: 'content_hash', pg: 'text' },
  { name: 'status', pg: 'text' },
  { name: 'anomaly', pg: 'text' },
  { name: 'issue_epoch', pg: 'int4' },
  { name: 'term_seq', pg: 'int4' },
];

const cardColumns: readonly (Column & { name: keyof CardRow })[] = [
  { name: 'applied_seq', pg: 'int4' },
  { name: 'max_seq', pg: 'int4' },
  { name: 'remaining_uses', pg: 'int4' },
  { name: 'state', pg: 'text' },
  { name: 'recycled_reason', pg: 'text' },
  { name: 'recycled_at', pg: 'text' },
  { name: 'recycled_cinema_id', pg: 'uuid' },
  { name: 'blacklist_reason', pg: 'text' },
  { name: 'blacklisted_at', pg: 'text' },
  { name: 'updated_at', pg: 'text' },
];

interface Known {
  readonly hash: string;
  /** null: accepted (applied or kept); else the reason it was parked. */
  readonly reason: string | null;
}

interface Alert {
  readonly kind: FraudKind;
  readonly op: WireOp;
  readonly otherOpId: string | null;
  readonly detail: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class SyncIngest {
  /** SQLite: batches written through one group commit (one writer anyway); PostgreSQL: none. */
  private readonly group: GroupCommit<string> | undefined;

  constructor(
    private readonly db: Knex,
    private readonly clock: Clock,
    private readonly policy: SyncPolicy,
    private readonly registry: CardRegistry,
  ) {
    // The rollup's time zone is read once per group: only a transaction of its own changes it (a
    // rebuild), and none runs while the group's transaction holds the one connection.
    this.group = dialectOf(db) === 'sqlite' ? new GroupCommit(db, rollupTimeZone) : undefined;
  }

  async upload(principal: Principal, batch: SyncBatch): Promise<SyncBatchResult> {
    const terminal = principal.terminal;
    if (!terminal || !principal.cinemaId) throw new CentralError(syncMessages.sync_needs_terminal);
    const terminalId = terminal.id;
    const cinemaId = principal.cinemaId;
    const nowDate = this.clock.now();
    const now = isoTime(nowDate);
    const ops = [...batch.ops].sort((a, b) => a.termSeq - b.termSeq) as unknown as Record<string, unknown>[];
    // Validation is pure: done before the transaction, so it overlaps other batches' writes — in
    // slices, so the statements of the batch being written are not kept waiting on this thread.
    const parsedOps: ParsedOp[] = [];
    for (let i = 0; i < ops.length; i++) {
      if (i > 0 && i % 100 === 0) await new Promise((resolve) => setImmediate(resolve));
      parsedOps.push(parseOp(ops[i]!));
    }

    const attempt = (checkAll: boolean, timeZone: string | undefined) => async (trx: Knex.Transaction) => {
      const run = new BatchRun(trx, this.policy, principal, this.registry, now, timeZone);
      const firstExpected = await run.lockTerminal();
      let expected = firstExpected;
      // Ops at or past the expected seq are new unless the terminal reused an op id (a bug); the
      // unique op id catches that, and the batch is then retried looking every op id up.
      const lookUp = checkAll ? ops : ops.filter((o) => (o['termSeq'] as number) < firstExpected);
      const known = await run.knownOps(lookUp.map((o) => o['opId'] as string));
      const results: SyncOpResult[] = [];
      const accepted: { op: WireOp; result: SyncOpResult }[] = [];

      for (let i = 0; i < ops.length; i++) {
        const raw = ops[i]!;
        const opId = raw['opId'] as string;
        const termSeq = raw['termSeq'] as number;
        const hash = typeof raw['hash'] === 'string' ? raw['hash'] : '';
        if (termSeq > expected) {
          for (const rest of ops.slice(i)) results.push({ opId: rest['opId'] as string, termSeq: rest['termSeq'] as number, outcome: 'deferred', reason: null });
          break;
        }
        const seen = known.get(opId);
        if (termSeq < expected || seen) {
          if (termSeq === expected) expected++;
          const same = seen?.find((k) => k.hash === hash);
          if (same) {
            results.push({ opId, termSeq, outcome: same.reason === null ? 'duplicate' : 'rejected', reason: same.reason });
          } else {
            const reason = seen ? 'op_id_conflict' : 'term_seq_reused';
            results.push(run.park(raw, reason, seen ? 'this op id was uploaded before with other content' : `term seq ${termSeq} was used by another op`));
            remember(known, opId, hash, reason);
          }
          continue;
        }
        expected++;
        const parsed = parsedOps[i]!;
        if (!parsed.success) {
          const detail = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
          results.push(run.park(raw, 'invalid_op', detail));
          remember(known, opId, hash, 'invalid_op');
          continue;
        }
        const op = parsed.data;
        if (op.terminalId !== terminalId || op.cinemaId !== cinemaId) {
          results.push(run.park(raw, 'wrong_terminal', `the op names terminal ${op.terminalId} of cinema ${op.cinemaId}`));
          remember(known, opId, hash, 'wrong_terminal');
          continue;
        }
        const result: SyncOpResult = { opId, termSeq, outcome: 'applied', reason: null };
        results.push(result);
        accepted.push({ op, result });
        remember(known, opId, hash, null);
      }

      await run.applyToLedger(accepted);
      const position = await run.finish(expected, expected - firstExpected, batch, nowDate);
      return { expectedSeq: expected, results, position };
    };
    // `scope`: the database (a transaction of the batch's own) or a group's transaction (a savepoint).
    const write = async (scope: Knex, timeZone?: string) => {
      try {
        return await scope.transaction(attempt(false, timeZone));
      } catch (error) {
        if (!isUniqueViolation(error)) throw error;
        return scope.transaction(attempt(true, timeZone));
      }
    };
    const outcome = this.group ? await this.group.run(write) : await write(this.db);
    const { expectedSeq, results, position } = outcome;
    return { expectedSeq, results, head: position.head, blacklistVersion: position.blacklistVersion, serverTime: now };
  }
}

/** A batch's write in a group: it runs in the group's transaction, and its outcome waits for the commit. */
type GroupWork<C, T> = (trx: Knex.Transaction, context: C) => Promise<T>;

interface GroupJob<C> {
  readonly work: GroupWork<C, unknown>;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Group commit for SQLite (DESIGN §7): SQLite has one writer, so concurrent batches wait for each
 * other anyway. Batches that queued up while a group was being written are written next in ONE
 * transaction, each in its own savepoint — a batch that fails is rolled back to its savepoint and
 * gets its own error, its neighbours go on — and every batch of the group is answered only after
 * the group's COMMIT (a terminal never gets an ack for an op that is not committed). Pokes follow
 * the commit too (`appendChanges` waits for the outermost transaction).
 */
export class GroupCommit<C> {
  private readonly queue: GroupJob<C>[] = [];
  private writing = false;

  constructor(
    private readonly db: Knex,
    /** What every batch of a group needs, read once at the group's start in its transaction. */
    private readonly context: (trx: Knex.Transaction) => Promise<C>,
    /** Batches per group (500 ops each at most). */
    private readonly maxBatches = 16,
  ) {}

  /**
   * Runs `work` in the next group's transaction and settles with its outcome after that group's
   * commit. `work` makes its own savepoint (`trx.transaction`), so a failure leaves the group whole.
   */
  run<T>(work: GroupWork<C, T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (!this.writing) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.writing = true;
    try {
      while (this.queue.length > 0) {
        const settle = await this.commit(this.queue.splice(0, this.maxBatches));
        // The next group's transaction begins first; the answers go out while SQLite works on it.
        setImmediate(settle);
      }
    } finally {
      this.writing = false;
    }
  }

  /** Writes and commits one group; returns what answers its batches (call it after the commit only). */
  private async commit(group: readonly GroupJob<C>[]): Promise<() => void> {
    const outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = [];
    try {
      await this.db.transaction(async (trx) => {
        const context = await this.context(trx);
        for (const job of group) {
          try {
            outcomes.push({ ok: true, value: await job.work(trx, context) });
          } catch (error) {
            outcomes.push({ ok: false, error });
            // Some errors (disk full, I/O) make SQLite roll the whole transaction back; what the
            // group wrote before is gone then, and none of it may be acknowledged.
            if (!(await stillInTransaction(trx))) throw new Error('the group transaction was rolled back', { cause: error });
          }
        }
        // Fault tests kill the process here: the group's batches written, nothing committed.
        if (process.env['CINECARD_CRASH_POINT'] === 'sync.ingest.group_before_commit' && group.length > 1) process.kill(process.pid, 'SIGKILL');
      });
    } catch (error) {
      // BEGIN or COMMIT failed, or the transaction was lost: nothing of the group is committed.
      return () =>
        group.forEach((job, i) => {
          const outcome = outcomes[i];
          job.reject(outcome && !outcome.ok ? outcome.error : error);
        });
    }
    return () =>
      group.forEach((job, i) => {
        const outcome = outcomes[i]!;
        if (outcome.ok) job.resolve(outcome.value);
        else job.reject(outcome.error);
      });
  }
}

/**
 * Whether the group's (SQLite) transaction is still open: BEGIN inside a transaction is an error. If it
 * succeeds, SQLite had rolled the transaction back; the new empty one is rolled back by knex when
 * the caller throws.
 */
async function stillInTransaction(trx: Knex.Transaction): Promise<boolean> {
  try {
    await trx.raw('BEGIN');
    return false;
  } catch {
    return true;
  }
}

function remember(known: Map<string, Known[]>, opId: string, hash: string, reason: string | null): void {
  const list = known.get(opId) ?? [];
  list.push({ hash, reason });
  known.set(opId, list);
}

/** One batch's transaction: what it read, and what it will write at the end. */
class BatchRun {
  private readonly ledgerRows: LedgerRow[] = [];
  /** This batch's rows by card and seq (not yet in the database). */
  private readonly batchRows = new Map<string, Map<number, LedgerRow>>();
  /** Stored waiting rows this batch applied (status, maybe anomaly, to write back). */
  private readonly promoted: LedgerRow[] = [];
  private readonly parkedRows: unknown[][] = [];
  private readonly miscRows: unknown[][] = [];
  private readonly alerts: Alert[] = [];
  private readonly cards = new Map<string, CardRow>();
  /** Each card as the database has it in this transaction (read, or last written by {@link flush}). */
  private readonly stored = new Map<string, CardRow>();
  private readonly touched = new Set<string>();
  private readonly hotlisted = new Set<string>();
  /** Cards written by {@link flush} already: each gets its change-log row at the end. */
  private readonly flushed = new Set<string>();
  private readonly terminalId: string;
  private readonly cinemaId: string;

  constructor(
    private readonly trx: Knex.Transaction,
    private readonly policy: SyncPolicy,
    private readonly principal: Principal,
    private readonly registry: CardRegistry,
    private readonly now: string,
    /** The rollup's time zone when the caller read it already (a group reads it once). */
    private readonly timeZone: string | undefined,
  ) {
    this.terminalId = principal.terminal!.id;
    this.cinemaId = principal.cinemaId!;
  }

  /** Locks (creating) the terminal's row; returns the next expected term seq. */
  async lockTerminal(): Promise<number> {
    const { trx } = this;
    const lock = dialectOf(trx) === 'postgres' ? ' FOR UPDATE' : '';
    const select = async () =>
      (await sqlQuery<{ next_seq: number }>(trx, `SELECT next_seq FROM sync_terminals WHERE terminal_id = ?${lock}`, [this.terminalId]))[0];
    const row = await select();
    if (row) return row.next_seq;
    await trx('sync_terminals')
      .insert({ terminal_id: this.terminalId, cinema_id: this.cinemaId, next_seq: 1, ops_received: 0 })
      .onConflict('terminal_id')
      .ignore();
    return (await select())!.next_seq;
  }

  /** Every earlier upload of these op ids: accepted ones (ledger or kept) and parked ones. */
  async knownOps(opIds: readonly string[]): Promise<Map<string, Known[]>> {
    const known = new Map<string, Known[]>();
    if (opIds.length === 0) return known;
    const uuids = opIds.filter((id) => UUID.test(id));
    const { trx } = this;
    // One after another: a transaction is one connection.
    const ledger: { op_id: string; content_hash: string }[] =
      uuids.length > 0 ? await trx('ledger_entries').whereIn('op_id', uuids).select('op_id', 'content_hash') : [];
    const misc: { op_id: string; hash: string }[] = await trx('sync_misc_ops').whereIn('op_id', opIds).select('op_id', 'hash');
    const parked: { op_id: string; hash: string; reason: string }[] = await trx('sync_parked').whereIn('op_id', opIds).select('op_id', 'hash', 'reason');
    for (const r of ledger) remember(known, r.op_id, r.content_hash, null);
    for (const r of misc) remember(known, r.op_id, r.hash, null);
    for (const r of parked) remember(known, r.op_id, r.hash, r.reason);
    return known;
  }

  park(raw: Record<string, unknown>, reason: string, detail: string | null): SyncOpResult {
    const opId = String(raw['opId']);
    const termSeq = Number(raw['termSeq']);
    const hash = typeof raw['hash'] === 'string' ? printable(raw['hash']).slice(0, 64) : '';
    this.parkedRows.push([newId(), opId, this.terminalId, termSeq, hash, reason, detail === null ? null : printable(detail), JSON.stringify(raw), this.now]);
    return { opId, termSeq, outcome: 'rejected', reason };
  }

  async applyToLedger(accepted: readonly { op: WireOp; result: SyncOpResult }[]): Promise<void> {
    const cardNos = [...new Set(accepted.filter((a) => !isKeptOnly(a.op.kind)).map((a) => a.op.cardNo))].sort();
    if (cardNos.length > 0) {
      // Locked in card-number order: two batches sharing cards cannot deadlock.
      for (const row of await selectByKeys<CardRow>(this.trx, 'cards', 'card_no', cardNos)) {
        this.cards.set(row.card_no, row);
        this.stored.set(row.card_no, row);
      }
    }
    for (const { op, result } of accepted) {
      const reject = (reason: string, detail: string) => Object.assign(result, this.park(op, reason, detail));
      if (!UUID.test(op.opId)) {
        reject('invalid_op', 'opId must be a UUID');
        continue;
      }
      if (op.kind === 'rebuild') {
        // Rebuilding from the cards (cards/card-rebuild.ts); kept here when it wrote no ledger row.
        let inLedger = false;
        const refusal = await this.viaRegistry(op, async (registry) => {
          const r = await registry.rebuild(this.principal, { ...payloadOf(op.payload), opId: op.opId }, { cardNo: op.cardNo, seq: op.cardSeq });
          inLedger = r.ledgerRow;
        });
        if (refusal) reject('refused', refusal);
        else if (!inLedger) this.keep(op);
        continue;
      }
      if (isKeptOnly(op.kind)) {
        // Kept for the record (a rebuild note): central acts on these through its API.
        this.keep(op);
        continue;
      }
      const card = this.cards.get(op.cardNo);
      if (!card) {
        reject('card_unknown', `card ${op.cardNo} is not registered`);
        continue;
      }
      if (listKinds.has(op.kind)) {
        const refusal = await this.applyListChange(op);
        if (refusal) reject('refused', refusal);
        else this.keep(op);
        continue;
      }
      if (op.cardSeq == null) {
        reject('invalid_op', `a ${op.kind} op needs cardSeq`);
        continue;
      }
      if (lifecycleKinds.has(op.kind)) {
        const there = await this.opAt(op.cardNo, op.cardSeq);
        if (there?.kind === op.kind && there.op_id !== op.opId) {
          this.keep(op); // recorded online through the API at this seq (an HQ station): the same write
          continue;
        }
        const refusal = await this.applyCardWrite(op);
        if (refusal) reject('refused', refusal);
        continue;
      }
      if (card.state === 'made') {
        reject('card_not_sold', `card ${op.cardNo} has not been sold`);
        continue;
      }
      if (op.uses == null || op.remainingAfter == null) {
        reject('invalid_op', `a ${op.kind} op needs uses and remainingAfter`);
        continue;
      }
      if (op.cardUid && op.cardUid.toUpperCase() !== card.uid) {
        this.raise({ kind: 'uid_mismatch', op, otherOpId: null, detail: `card ${op.cardNo} is registered on chip ${card.uid}, the op was written to ${op.cardUid}` });
      }
      const taken = op.cardSeq <= card.max_seq ? await this.opAt(op.cardNo, op.cardSeq) : undefined;
      if (taken) {
        const kind: FraudKind = op.cardSeq < card.max_seq ? 'seq_backwards' : 'seq_reused';
        this.raise({ kind, op, otherOpId: taken.op_id, detail: `card ${op.cardNo} already has op ${taken.op_id} at seq ${op.cardSeq} (its highest seq is ${card.max_seq})` });
        reject('seq_taken', `card ${op.cardNo} already has an op at seq ${op.cardSeq}`);
        continue;
      }
      await this.record(card, op);
    }
  }

  /**
   * A sale, renewal, recycling or re-issue made at this terminal: the registry's own step (state
   * machine, cinema, expiry, issue epoch, audit) inside this transaction, recorded under the
   * terminal's op id. Returns why central refused it (the op is then parked), else undefined.
   */
  private async applyCardWrite(op: WireOp): Promise<string | undefined> {
    const payload = payloadOf(op.payload);
    const expiresAt = typeof payload['expiresAt'] === 'string' ? payload['expiresAt'] : undefined;
    const seq = op.cardSeq!;
    return this.viaRegistry(op, (registry) => {
      switch (op.kind) {
        case 'activate':
          return registry.activate(this.principal, op.cardNo, { cinemaId: this.cinemaId, seq, ...(expiresAt ? { expiresAt } : {}) });
        case 'renew':
          if (!expiresAt) throw new TypeError('a renew op needs payload.expiresAt');
          return registry.renew(this.principal, op.cardNo, { seq, expiresAt });
        case 'reissue':
          return registry.reissue(this.principal, op.cardNo, { cinemaId: this.cinemaId, seq, ...(op.uses ? { uses: op.uses } : {}), ...(expiresAt ? { expiresAt } : {}) });
        default:
          return registry.recycle(this.principal, op.cardNo, { seq });
      }
    });
  }

  /** A blacklist change made at this terminal (its manager's, checked there): the registry's step. */
  private async applyListChange(op: WireOp): Promise<string | undefined> {
    const card = this.cards.get(op.cardNo)!;
    const listed = card.blacklisted_at !== null;
    if ((op.kind === 'blacklist') === listed) return undefined; // already so: nothing to do
    const payload = payloadOf(op.payload);
    const reason = typeof payload['reason'] === 'string' && payload['reason'] ? payload['reason'].slice(0, 200) : op.kind;
    return this.viaRegistry(op, (registry) =>
      op.kind === 'blacklist' ? registry.blacklist(this.principal, op.cardNo, reason) : registry.unblacklist(this.principal, op.cardNo, reason));
  }

  /**
   * Runs one registry step in a savepoint after writing what the batch holds so far (the step reads
   * and writes the card itself), then takes the card row back. A CentralError is the refusal.
   */
  private async viaRegistry(op: WireOp, step: (registry: CardRegistry) => Promise<unknown>): Promise<string | undefined> {
    await this.flush();
    const registry = this.registry.forSyncedOp(this.trx, {
      opId: op.opId,
      hash: op.hash,
      cashier: op.operatorId ?? null,
      occurredAt: isoOrNow(op.deviceTime, this.now),
      termSeq: op.termSeq,
    });
    try {
      await step(registry);
    } catch (error) {
      if (error instanceof CentralError) return `${error.code}: ${error.message}`;
      if (error instanceof TypeError) return error.message;
      throw error;
    }
    const fresh = await this.trx<CardRow>('cards').where({ card_no: op.cardNo }).first();
    if (fresh) {
      this.cards.set(op.cardNo, fresh);
      this.stored.set(op.cardNo, fresh);
    }
    return undefined;
  }

  /** Writes the ledger rows and card rows gathered so far (they stay in this transaction). */
  private async flush(): Promise<void> {
    const { trx } = this;
    await insertRows(trx, 'ledger_entries', ledgerColumns, this.ledgerRows.map((r) => ledgerColumns.map((c) => r[c.name])));
    // The rollup counts a row from its insert whatever its status (reports/rollups.ts), so rows this
    // batch promotes from waiting below change no rollup; only the new rows are added.
    await addToRollups(trx, this.ledgerRows, this.timeZone);
    // Gap fills are rare (another terminal was offline): one statement per promoted row is fine.
    for (const row of this.promoted) {
      await trx('ledger_entries').where({ op_id: row.op_id }).update({ status: row.status, anomaly: row.anomaly });
    }
    // Only the columns that changed are written (a redemption moves four), grouped by which they
    // are: one statement per group, and indexes over unchanged columns are left alone.
    const groups = new Map<string, { columns: typeof cardColumns; rows: unknown[][] }>();
    for (const no of [...this.touched].sort()) {
      const card = this.cards.get(no)!;
      const before = this.stored.get(no);
      const changed = cardColumns.filter((col) => before?.[col.name] !== card[col.name]);
      this.stored.set(no, card);
      this.flushed.add(no);
      if (changed.length === 0) continue;
      const key = changed.map((col) => col.name).join(',');
      let group = groups.get(key);
      if (!group) groups.set(key, (group = { columns: changed, rows: [] }));
      group.rows.push([no, ...changed.map((col) => card[col.name])]);
    }
    for (const { columns, rows } of groups.values()) await updateRows(trx, 'cards', { name: 'card_no', pg: 'text' }, columns, rows);
    this.ledgerRows.length = 0;
    this.promoted.length = 0;
    this.touched.clear();
    this.batchRows.clear(); // written: read back from the database from now on
  }

  private keep(op: WireOp): void {
    this.miscRows.push([op.opId, this.terminalId, op.termSeq, op.kind, op.cardNo.slice(0, 32), op.hash, JSON.stringify(op), this.now]);
  }

  /** The ledger row at (card, seq): this batch's or a stored one. */
  private async opAt(cardNo: string, seq: number): Promise<Pick<LedgerRow, 'op_id' | 'kind'> | undefined> {
    const local = this.batchRows.get(cardNo)?.get(seq);
    if (local) return local;
    return this.trx<LedgerRow>('ledger_entries').where({ card_no: cardNo, seq }).first('op_id', 'kind');
  }

  private async record(card: CardRow, op: WireOp): Promise<void> {
    const seq = op.cardSeq!;
    const redeem = op.kind === 'redeem';
    const row: LedgerRow = {
      op_id: op.opId,
      card_no: op.cardNo,
      seq,
      kind: redeem ? 'redeem' : 'topup',
      uses_delta: redeem ? -op.uses! : op.uses!,
      remaining_after: op.remainingAfter!,
      consumption_type: redeem ? (op.consumption ?? null) : null,
      amount_fen: amountOf(op.payload),
      cinema_id: this.cinemaId,
      terminal_id: this.terminalId,
      user_id: null,
      cashier: op.operatorId ?? null,
      occurred_at: isoOrNow(op.deviceTime, this.now),
      recorded_at: this.now,
      content_hash: op.hash,
      term_seq: op.termSeq,
      status: 'waiting',
      anomaly: card.blacklisted_at !== null ? 'card_blacklisted' : null,
      issue_epoch: card.issue_epoch,
    };
    if (seq < card.issue_from_seq) {
      row.anomaly = 'previous_issue';
      row.issue_epoch = await issueEpochOf(this.trx, op.cardNo, seq);
    }
    if (seq <= card.applied_seq) {
      row.status = 'applied';
      row.anomaly = 'seq_behind';
    }
    this.ledgerRows.push(row);
    let local = this.batchRows.get(op.cardNo);
    if (!local) this.batchRows.set(op.cardNo, (local = new Map()));
    local.set(seq, row);
    let next: CardRow = { ...card, max_seq: Math.max(card.max_seq, seq), updated_at: this.now };
    if (seq === card.applied_seq + 1) next = await this.applyFrom(next, row);
    this.cards.set(op.cardNo, next);
    this.touched.add(op.cardNo);
  }

  /** Applies `first` and every op waiting right behind it (this batch's or stored), in seq order. */
  private async applyFrom(card: CardRow, first: LedgerRow): Promise<CardRow> {
    let current = card;
    let row: LedgerRow | undefined = first;
    // Stored waiting rows are read once, and only when some exist past this seq.
    let stored: Map<number, LedgerRow> | undefined;
    while (row) {
      current = this.applyRow(current, row);
      const seq: number = current.applied_seq + 1;
      if (seq > current.max_seq) break;
      row = this.batchRows.get(current.card_no)?.get(seq);
      if (!row) {
        stored ??= new Map(
          (await this.trx<LedgerRow>('ledger_entries').where({ card_no: current.card_no, status: 'waiting' }).where('seq', '>=', seq)).map((r) => [r.seq, r]),
        );
        row = stored.get(seq);
        if (row) this.promoted.push(row);
      }
    }
    return current;
  }

  private applyRow(card: CardRow, row: LedgerRow): CardRow {
    row.status = 'applied';
    if (row.kind === 'redeem' || row.kind === 'topup') {
      if (row.remaining_after !== card.remaining_uses + row.uses_delta && row.anomaly === null) row.anomaly = 'balance_mismatch';
      let next: CardRow = { ...card, applied_seq: row.seq, remaining_uses: row.remaining_after };
      if (row.seq >= next.issue_from_seq) next = followBalance(next, row.cinema_id, this.now);
      return next;
    }
    return { ...card, applied_seq: row.seq, ...(row.kind === 'reissue' ? { remaining_uses: row.remaining_after } : {}) };
  }

  private raise(alert: Alert): void {
    this.alerts.push(alert);
    if (!this.policy.hotlistOnFraud) return;
    const card = this.cards.get(alert.op.cardNo);
    if (!card) return;
    if (card.blacklisted_at === null) {
      this.cards.set(card.card_no, { ...card, blacklisted_at: this.now, blacklist_reason: `fraud: ${alert.kind}`, updated_at: this.now });
      this.hotlisted.add(card.card_no);
    }
    this.touched.add(card.card_no);
  }

  /** Writes everything, advances the terminal, appends the change log (last: it takes the head lock). */
  async finish(expected: number, opsReceived: number, batch: SyncBatch, nowDate: Date): Promise<LogPosition> {
    const { trx } = this;
    await this.flush();
    const touched = [...this.flushed].sort().map((no) => this.cards.get(no)!);
    await insertRows(
      trx,
      'sync_parked',
      [
        { name: 'id', pg: 'uuid' }, { name: 'op_id', pg: 'text' }, { name: 'terminal_id', pg: 'uuid' }, { name: 'term_seq', pg: 'int4' },
        { name: 'hash', pg: 'text' }, { name: 'reason', pg: 'text' }, { name: 'detail', pg: 'text' }, { name: 'op', pg: 'text' }, { name: 'parked_at', pg: 'text' },
      ],
      this.parkedRows,
    );
    await insertRows(
      trx,
      'sync_misc_ops',
      [
        { name: 'op_id', pg: 'text' }, { name: 'terminal_id', pg: 'uuid' }, { name: 'term_seq', pg: 'int4' }, { name: 'kind', pg: 'text' },
        { name: 'card_no', pg: 'text' }, { name: 'hash', pg: 'text' }, { name: 'op', pg: 'text' }, { name: 'received_at', pg: 'text' },
      ],
      this.miscRows,
    );
    if (this.alerts.length > 0) {
      await trx('fraud_alerts').insert(
        this.alerts.map((a) => ({
          id: newId(),
          card_no: a.op.cardNo,
          kind: a.kind,
          op_id: a.op.opId,
          other_op_id: a.otherOpId,
          terminal_id: this.terminalId,
          cinema_id: this.cinemaId,
          detail: a.detail,
          raised_at: this.now,
          hotlisted_at: this.hotlisted.has(a.op.cardNo) ? this.now : null,
        })),
      );
    }
    const deviceMs = Date.parse(batch.deviceTime);
    const set: Record<string, unknown> = {
      next_seq: expected,
      last_seen_at: this.now,
      last_upload_at: this.now,
      ...(Number.isFinite(deviceMs) ? { device_time: new Date(deviceMs).toISOString(), clock_skew_ms: deviceMs - nowDate.getTime() } : {}),
      ...(batch.pendingOps !== undefined ? { pending_ops: batch.pendingOps } : {}),
      ...(batch.cursor !== undefined ? { cursor: batch.cursor } : {}),
    };
    await sqlQuery(
      trx,
      `UPDATE sync_terminals SET ops_received = ops_received + ?, ${Object.keys(set).map((k) => `${k} = ?`).join(', ')} WHERE terminal_id = ?`,
      [opsReceived, ...Object.values(set), this.terminalId],
    );
    // Blacklist entries first: a terminal applies them before anything else in the same pull.
    const entries: ChangeEntry[] = [
      ...[...this.hotlisted].map((no) => blacklistChange(this.cards.get(no)!, this.now)),
      ...touched.map(cardChange),
    ];
    const position = (await appendChanges(trx, entries, this.now)) ?? (await logPosition(trx));
    // Fault tests kill the process here: everything written, nothing committed.
    if (process.env['CINECARD_CRASH_POINT'] === 'sync.ingest.before_commit' && touched.length > 0) process.kill(process.pid, 'SIGKILL');
    return position;
  }
}

/** PostgreSQL text refuses NUL; a parked op's reason and hash are shown, so drop control characters. */
function printable(value: string): string {
  return value.replace(/[\u0000-\u001f\u007f]/g, '?');
}

/** Kinds with no step of their own (none today besides those above); every other kind is acted on. */
function isKeptOnly(kind: string): boolean {
  return !ledgerKinds.has(kind) && !lifecycleKinds.has(kind) && !listKinds.has(kind);
}

function payloadOf(payloadJson: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(payloadJson);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function amountOf(payloadJson: string): number | null {
  try {
    const v = (JSON.parse(payloadJson) as Record<string, unknown> | null)?.['amountFen'];
    return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v <= 100_000_000 ? v : null;
  } catch {
    return null;
  }
}

/** Device time is informational; a malformed one is recorded as central's time of receipt. */
function isoOrNow(deviceTime: string, now: string): string {
  const ms = Date.parse(deviceTime);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : now;
}

