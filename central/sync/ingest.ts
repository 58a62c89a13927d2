/**
 * Batch ingest (DESIGN §4, `spec/sync.md` § Upload): a terminal's batch of ops applied in ONE
 * transaction, each op exactly once. On SQLite (one writer) batches that arrive while others are
 * written share one transaction and are answered after its commit ({@link GroupCommit}): plain
 * batches are applied in memory on the group's cards and written behind as one script each
 * ({@link Staged}); any other batch writes its own rows in a savepoint.
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
 * The hot path reads per batch (terminal row, known op ids, the cards — per group on SQLite) and
 * writes per op one ledger row; per card touched one card update and one change-log row (bulk
 * statements, `bulk.ts`).
 */
import { stat } from 'node:fs/promises';
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
import { addToRollups, CardTypes, rollupStatements, rollupTimeZone } from '../reports/rollups.ts';
import { insertRows, selectByKeys, sqliteExec, SqliteScript, sqlQuery, updateRows, type Column } from './bulk.ts';
import { appendChanges, appendStatements, blacklistChange, cardChange, changeLogColumns, type ChangeEntry, type LogPosition, logPosition, pokeOnCommit } from './change-log.ts';
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

const noControl = /^[^\p{Cc}]*$/u;
const cardNoPattern = /^[0-9]{4,20}$/;
const isText = (v: unknown, min: number, max: number): boolean => typeof v === 'string' && v.length >= min && v.length <= max && noControl.test(v);
const isInt = (v: unknown, min: number, max: number): boolean => typeof v === 'number' && Number.isSafeInteger(v) && v >= min && v <= max;
const isString = (v: unknown, max: number): boolean => typeof v === 'string' && v.length <= max;
const absent = (v: unknown): boolean => v === undefined || v === null;

/**
 * The batch's ops, each with its envelope: checked by hand for the usual op (zod's object schema
 * copies every op, 500 of them per batch), by {@link OpEnvelope} — which says what is wrong — for
 * any other. The ops come through as they were sent.
 */
const BatchOps = z
  .array(z.unknown())
  .max(500, 'at most 500 ops per batch')
  .superRefine((ops, ctx) => {
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i] as Record<string, unknown> | null;
      if (op !== null && typeof op === 'object' && !Array.isArray(op) && isText(op['opId'], 1, 64) && isInt(op['termSeq'], 1, 2_000_000_000)) continue;
      const checked = OpEnvelope.safeParse(op);
      if (!checked.success) for (const issue of checked.error.issues) ctx.addIssue({ ...issue, path: [i, ...issue.path] } as Parameters<typeof ctx.addIssue>[0]);
    }
  });

/** The batch as the route accepts it (each op's own fields are checked in {@link SyncIngest}). */
export const SyncBatchBody = z.strictObject({
  ops: BatchOps,
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
  private readonly group: GroupCommit<IngestGroup, GroupHint> | undefined;
  /** What the group commit knows of the database from one group to the next. */
  private readonly view = new View();

  constructor(
    private readonly db: Knex,
    private readonly clock: Clock,
    private readonly policy: SyncPolicy,
    private readonly registry: CardRegistry,
  ) {
    // SQLite: a group reads the cards, terminals, card types, change-log head and rollup time zone
    // its batches need that the view does not hold already; the view lasts while the group commit
    // keeps its connection and no other connection commits (data_version), else it starts empty.
    this.group =
      dialectOf(db) === 'sqlite'
        ? new GroupCommit<IngestGroup, GroupHint>(
            db,
            async (trx, alone, hints, fresh) => {
              const { view } = this;
              // Another connection committed since this one's last group (or there was none, or it
              // failed): what the view holds may be stale.
              const dataVersion = await sqliteDataVersion(trx);
              if (alone || fresh || dataVersion !== view.dataVersion || view.cards.size > viewCardLimit) view.clear();
              const timeZone = (view.timeZone ??= await rollupTimeZone(trx));
              if (alone) return { timeZone, staged: undefined };
              const staged = new Staged(timeZone, true, view);
              await staged.prefetch(trx, hints);
              return { timeZone, staged };
            },
            {
              finish: async (trx, group) => {
                if (!group.staged) return;
                await group.staged.sync(trx);
                // This connection's own commit leaves its data_version as it is: the next group on it
                // finds the same number unless another connection committed in between.
                this.view.dataVersion = await sqliteDataVersion(trx);
              },
              // WAL checkpoints are taken off the groups' commits while they follow each other: a
              // passive checkpoint after each commit, on the pool's other connection, copies what
              // the group wrote back into the database file beside the next group's writes. The
              // connection checkpoints at commit again once given back.
              held: (connection) => {
                clearTimeout(this.walShrink);
                return sqliteExec(connection, 'PRAGMA wal_autocheckpoint = 0');
              },
              released: async (connection) => {
                await sqliteExec(connection, `PRAGMA wal_autocheckpoint = ${defaultAutoCheckpoint}`);
                this.shrinkWalWhenIdle();
              },
              committed: () => this.checkpointSoon(),
              // The WAL starts over only when a write begins on a log checkpointed to its end; with
              // groups back to back that needs a checkpoint between two of them, now and then.
              between: async (connection) => {
                if (this.walFrames < walRestartFrames) return;
                this.walFrames = 0;
                await sqliteExec(connection, 'PRAGMA wal_checkpoint(PASSIVE)');
              },
            },
          )
        : undefined;
  }

  private checkpointing = false;
  /** The WAL's length (frames) at the last passive checkpoint. */
  private walFrames = 0;
  private walShrink: NodeJS.Timeout | undefined;

  /**
   * A burst of uploads leaves the `-wal` file at its largest (some tens of MiB): once uploads have
   * paused for a while, a TRUNCATE checkpoint empties it. Not during a burst — cutting the file
   * back then costs the next groups its regrowth (8 % of the ingest rate, measured).
   */
  private shrinkWalWhenIdle(): void {
    clearTimeout(this.walShrink);
    this.walShrink = setTimeout(() => void this.shrinkWal().catch(() => {}), walShrinkIdleMs);
    this.walShrink.unref();
  }

  private async shrinkWal(): Promise<void> {
    const file = (this.db.client.config.connection as { filename: string }).filename;
    const { size } = await stat(`${file}-wal`);
    if (size > walShrinkBytes) await this.db.raw('PRAGMA wal_checkpoint(TRUNCATE)');
  }

  /** A passive WAL checkpoint on a pool connection, unless one is running; a failed one is left to the next. */
  private checkpointSoon(): void {
    if (this.checkpointing) return;
    this.checkpointing = true;
    void this.db
      .raw('PRAGMA wal_checkpoint(PASSIVE)')
      .then((rows: { log: number }[]) => (this.walFrames = Number(rows[0]?.log ?? 0)))
      .catch(() => {})
      .finally(() => (this.checkpointing = false));
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

    // A batch of redemptions and top-ups only is applied in memory on the group's cards and written
    // with the group's other batches (SQLite); any other kind goes through the card registry, which
    // reads and writes the database itself, so such a batch writes its own rows in a savepoint.
    const plain = ops.every((o) => o['kind'] === 'redeem' || o['kind'] === 'top_up');

    const attempt = (checkAll: boolean, staged: Staged) => async (trx: Knex.Transaction) => {
      const run = new BatchRun(trx, this.policy, principal, this.registry, now, staged);
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
      await run.finish(expected, expected - firstExpected, batch, nowDate);
      // A batch written on its own has its position now; one staged in a group gets the group's.
      const position = staged.shared ? undefined : await staged.writeAll(trx);
      return { expectedSeq: expected, results, position, staged };
    };
    // A batch writing its own rows: in a transaction of its own (PostgreSQL) or a savepoint in the
    // group's transaction (`scope` is then the group's transaction).
    const alone = async (scope: Knex, timeZone?: string) => {
      try {
        return await scope.transaction(attempt(false, new Staged(timeZone, false)));
      } catch (error) {
        if (!isUniqueViolation(error)) throw error;
        return scope.transaction(attempt(true, new Staged(timeZone, false)));
      }
    };
    const outcome = this.group
      ? await this.group.run(async (trx, group) => {
          const { staged } = group;
          if (staged && plain) {
            try {
              const outcome = await attempt(false, staged)(trx);
              staged.writeBehind(trx);
              return outcome;
            } catch (error) {
              // The group's transaction is used next only once the writes started behind are done.
              await staged.drained().catch(() => {});
              throw error;
            }
          }
          // What the group staged so far is written first: the registry reads the database.
          await group.staged?.sync(trx);
          try {
            return await alone(trx, group.timeZone);
          } finally {
            group.staged?.forget();
          }
        }, plain ? { terminalId, cardNos: parsedOps.flatMap((p) => (p.success ? [p.data.cardNo] : [])) } : undefined)
      : await alone(this.db);
    const { expectedSeq, results } = outcome;
    const position = outcome.position ?? outcome.staged.position;
    if (!position) throw new Error('the batch was written without a change-log position');
    return { expectedSeq, results, head: position.head, blacklistVersion: position.blacklistVersion, serverTime: now };
  }
}

/** What a plain batch will read: its terminal and cards (a group reads them for all its batches at once). */
interface GroupHint {
  readonly terminalId: string;
  readonly cardNos: readonly string[];
}

/** A WAL this long (frames, 4 KiB pages: 32 MiB) is checkpointed between two groups, so that it starts over. */
const walRestartFrames = 8192;
/** A `-wal` file larger than this is emptied once uploads have paused for {@link walShrinkIdleMs}. */
const walShrinkBytes = 4 * 1024 * 1024;
const walShrinkIdleMs = 2000;

/** SQLite's own default (pages): what a group commit's connection checkpoints at once given back. */
const defaultAutoCheckpoint = 1000;

export async function sqliteDataVersion(trx: Knex.Transaction): Promise<number> {
  const [row] = await sqlQuery<{ data_version: number }>(trx, 'PRAGMA data_version');
  return Number(row!.data_version);
}

/** A group's context: the rollup's time zone, and the rows its plain batches staged (none when each batch writes its own). */
interface IngestGroup {
  readonly timeZone: string;
  readonly staged: Staged | undefined;
}

/** A batch's write in a group: it runs in the group's transaction, and its outcome waits for the commit. */
type GroupWork<C, T> = (trx: Knex.Transaction, context: C) => Promise<T>;

interface GroupJob<C, H> {
  readonly work: GroupWork<C, unknown>;
  readonly hint: H | undefined;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * A write of what a group's batches staged failed: which batch it was is not known, so the group is
 * written again with each batch writing its own rows in its own savepoint.
 */
export class GroupWriteError extends Error {
  constructor(cause: unknown) {
    super('writing the batches staged in the group failed', { cause });
  }
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

export interface GroupCommitOptions<C> {
  /** The group's own write, after its batches and before the commit. */
  readonly finish?: (trx: Knex.Transaction, context: C) => Promise<void>;
  /** The connection the groups are written on, when it is taken from the pool and given back (driver level). */
  readonly held?: (connection: unknown) => Promise<void>;
  readonly released?: (connection: unknown) => Promise<void>;
  /** After each group's commit. */
  readonly committed?: () => void;
  /** On the connection between a committed group and the next one's BEGIN. */
  readonly between?: (connection: unknown) => Promise<void>;
  /** Batches per group (500 ops each at most; default 16). */
  readonly maxBatches?: number;
}

/**
 * Group commit for SQLite (DESIGN §7): SQLite has one writer, so concurrent batches wait for each
 * other anyway. Batches that queued up while a group was being written are written next in ONE
 * transaction, and every batch of the group is answered only after the group's COMMIT (a terminal
 * never gets an ack for an op that is not committed). Pokes follow the commit too (`appendChanges`
 * waits for the outermost transaction).
 *
 * A batch may stage its rows in the group's context for the group to write (behind it, and what is
 * left in `finish`), or write its own in a savepoint — a batch that fails is then rolled back to its
 * savepoint and gets its own error, its neighbours go on. If the group's own write fails
 * ({@link GroupWriteError}, or `finish` throws), the transaction is rolled back and the group is
 * written again with `context(trx, true)`: every batch on its own.
 */
export class GroupCommit<C, H = unknown> {
  private readonly queue: GroupJob<C, H>[] = [];
  private writing = false;

  constructor(
    private readonly db: Knex,
    /**
     * What every batch of a group needs, made at the group's start in its transaction; `alone`: each
     * batch writes its own rows; `hints`: what the batches said they will need (to read it at once);
     * `fresh`: no group committed on this connection right before (see {@link drain}).
     */
    private readonly context: (trx: Knex.Transaction, alone: boolean, hints: readonly H[], fresh: boolean) => Promise<C>,
    private readonly options: GroupCommitOptions<C> = {},
  ) {}

  private get maxBatches(): number {
    return this.options.maxBatches ?? 16;
  }

  /**
   * Runs `work` in the next group's transaction and settles with its outcome after that group's
   * commit. `work` stages its rows in the context or makes its own savepoint (`trx.transaction`), so
   * a failure leaves the group whole; it may run twice (the second time alone).
   */
  run<T>(work: GroupWork<C, T>, hint?: H): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, hint, resolve: resolve as (value: unknown) => void, reject });
      if (!this.writing) void this.drain();
    });
  }

  /**
   * Writes group after group while batches queue up, all on one connection held until the queue
   * is empty: a group that follows a committed one on the same connection is not `fresh`, and may
   * trust what it kept of the database if no other connection committed in between.
   */
  private async drain(): Promise<void> {
    this.writing = true;
    const client = this.db.client as unknown as { acquireConnection(): Promise<unknown>; releaseConnection(c: unknown): Promise<void> };
    let connection: unknown;
    // The first group is what is queued now (a batch that finds the writer idle goes at once).
    let group = this.queue.splice(0, this.maxBatches);
    try {
      connection = await client.acquireConnection();
      await this.options.held?.(connection);
      let fresh = true;
      while (group.length > 0) {
        const { settle, committed } = await this.commit(group, connection, fresh);
        fresh = !committed;
        if (committed) this.options.committed?.();
        // The next group's transaction begins first; the answers go out while SQLite works on it.
        setImmediate(settle);
        group = this.queue.splice(0, this.maxBatches);
        if (group.length > 0 && committed) await this.options.between?.(connection);
      }
    } catch (error) {
      // No connection: the batches taken are answered with the error (those queued try again).
      for (const job of group) job.reject(error);
    } finally {
      if (connection !== undefined) {
        await this.options.released?.(connection).catch(() => {});
        await client.releaseConnection(connection);
      }
      this.writing = false;
      if (this.queue.length > 0) void this.drain();
    }
  }

  /** Writes and commits one group; returns what answers its batches (call it after the commit only). */
  private async commit(group: readonly GroupJob<C, H>[], connection: unknown, fresh: boolean): Promise<{ settle: () => void; committed: boolean }> {
    let outcomes: Outcome[] = [];
    let retried = false;
    const write = (alone: boolean) =>
      this.db.transaction(async (trx) => {
        outcomes = [];
        const context = await this.context(trx, alone, group.flatMap((job) => (job.hint === undefined ? [] : [job.hint])), fresh || retried);
        for (const job of group) {
          try {
            outcomes.push({ ok: true, value: await job.work(trx, context) });
          } catch (error) {
            if (error instanceof GroupWriteError && !alone) throw error;
            outcomes.push({ ok: false, error });
            // Some errors (disk full, I/O) make SQLite roll the whole transaction back; what the
            // group wrote before is gone then, and none of it may be acknowledged.
            if (!(await stillInTransaction(trx))) throw new Error('the group transaction was rolled back', { cause: error });
          }
        }
        try {
          await this.options.finish?.(trx, context);
        } catch (error) {
          throw alone ? error : new GroupWriteError(error);
        }
        // Fault tests kill the process here: the group's batches written, nothing committed.
        if (process.env['CINECARD_CRASH_POINT'] === 'sync.ingest.group_before_commit' && group.length > 1) process.kill(process.pid, 'SIGKILL');
      }, { connection });
    try {
      try {
        await write(false);
      } catch (error) {
        if (!(error instanceof GroupWriteError)) throw error;
        retried = true;
        await write(true);
      }
    } catch (error) {
      // BEGIN or COMMIT failed, or the transaction was lost: nothing of the group is committed.
      const settle = () =>
        group.forEach((job, i) => {
          const outcome = outcomes[i];
          job.reject(outcome && !outcome.ok ? outcome.error : error);
        });
      return { settle, committed: false };
    }
    const settle = () =>
      group.forEach((job, i) => {
        const outcome = outcomes[i]!;
        if (outcome.ok) job.resolve(outcome.value);
        else job.reject(outcome.error);
      });
    return { settle, committed: !retried };
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

/** A terminal as the batches being written have left it, and what its row gets. */
interface TerminalState {
  nextSeq: number;
  opsReceived: number;
  /** Columns of `sync_terminals` to set (the latest batch's), beside next_seq and ops_received. */
  set: Record<string, unknown>;
  /** Whether it changed since the last write. */
  dirty: boolean;
}

const terminalKey: Column = { name: 'terminal_id', pg: 'uuid' };
const terminalColumns: Record<string, Column> = Object.fromEntries(
  (
    [
      ['next_seq', 'int4'], ['ops_received', 'int4'], ['last_seen_at', 'text'], ['last_upload_at', 'text'], ['device_time', 'text'],
      ['clock_skew_ms', 'int8'], ['pending_ops', 'int4'], ['cursor', 'int8'],
    ] as const
  ).map(([name, pg]) => [name, { name, pg }]),
);
const parkedColumns: Column[] = [
  { name: 'id', pg: 'uuid' }, { name: 'op_id', pg: 'text' }, { name: 'terminal_id', pg: 'uuid' }, { name: 'term_seq', pg: 'int4' },
  { name: 'hash', pg: 'text' }, { name: 'reason', pg: 'text' }, { name: 'detail', pg: 'text' }, { name: 'op', pg: 'text' }, { name: 'parked_at', pg: 'text' },
];
const alertColumns: Column[] = ['id', 'card_no', 'kind', 'op_id', 'other_op_id', 'terminal_id', 'cinema_id', 'detail', 'raised_at', 'hotlisted_at'].map((name) => ({ name, pg: 'text' }));
const cardKey: Column = { name: 'card_no', pg: 'text' };
const miscColumns: Column[] = [
  { name: 'op_id', pg: 'text' }, { name: 'terminal_id', pg: 'uuid' }, { name: 'term_seq', pg: 'int4' }, { name: 'kind', pg: 'text' },
  { name: 'card_no', pg: 'text' }, { name: 'hash', pg: 'text' }, { name: 'op', pg: 'text' }, { name: 'received_at', pg: 'text' },
];

/**
 * The cards, terminals, card types, change-log head and rollup time zone as the database has them
 * (with what is staged on top): one batch's, or the SQLite group commit's — kept from one group to
 * the next while the group commit holds its connection and no other connection commits (SQLite's
 * `data_version`), so that a group reads only what its predecessors did not.
 */
class View {
  readonly cards = new Map<string, CardRow>();
  readonly stored = new Map<string, CardRow>();
  readonly terminals = new Map<string, TerminalState>();
  types = new CardTypes();
  head: LogPosition | undefined;
  timeZone: string | undefined;
  /** SQLite's `data_version` on the group commit's connection when its last group ended. */
  dataVersion: number | undefined;

  clear(): void {
    this.cards.clear();
    this.stored.clear();
    this.terminals.clear();
    this.types = new CardTypes();
    this.head = undefined;
    this.timeZone = undefined;
    this.dataVersion = undefined;
  }
}

/** Cards a group commit keeps between its groups at most (they are read again after). */
const viewCardLimit = 20_000;

/**
 * What batches applied and have not written yet, and the cards and terminals as they stand with
 * it: one batch's (written at its end, in its transaction or savepoint), or — `shared` — a SQLite
 * group's, which its plain batches stage into one after another and which is written once at the
 * group's end, one statement per table. Cards and terminals missing here are read from the
 * database, which has them as they stand (only what is here is unwritten).
 */
class Staged {
  readonly ledgerRows: LedgerRow[] = [];
  /** Stored waiting rows applied since (status, maybe anomaly, to write back). */
  readonly promoted: LedgerRow[] = [];
  readonly parkedRows: unknown[][] = [];
  readonly miscRows: unknown[][] = [];
  readonly alertRows: Record<string, unknown>[] = [];
  /** Cards changed since the last write of rows. */
  readonly touched = new Set<string>();
  /** Cards written or to be written: each gets its change-log row at the end, the hotlisted ones a blacklist row first. */
  readonly changed = new Set<string>();
  readonly hotlisted = new Set<string>();
  /** The latest batch's time of receipt (the change log's). */
  now = '';
  /** The change log's position after the last write. */
  position: LogPosition | undefined;

  constructor(
    /** The rollup's time zone when the caller has read it already (a group reads it once). */
    readonly timeZone: string | undefined,
    readonly shared: boolean,
    /** The cards, terminals, types and head as they stand: the batch's own, or the group commit's. */
    readonly view: View = new View(),
  ) {}

  /** Cards as they stand, and as the database has them. */
  get cards(): Map<string, CardRow> {
    return this.view.cards;
  }
  get stored(): Map<string, CardRow> {
    return this.view.stored;
  }
  get terminals(): Map<string, TerminalState> {
    return this.view.terminals;
  }

  /** Writes started behind the batches (a group's), one after another on the transaction's connection. */
  private behind: Promise<void> = Promise.resolve();
  /** Writes behind whose script is made when their turn comes (after a read). */
  private lateScripts = 0;
  private behindFailed: { error: unknown } | undefined;

  private get empty(): boolean {
    return this.ledgerRows.length + this.promoted.length + this.parkedRows.length + this.miscRows.length + this.alertRows.length + this.changed.size + this.touched.size === 0 &&
      ![...this.terminals.values()].some((t) => t.dirty);
  }

  /** Reads the terminals and cards a group's batches will apply their ops to, each once. */
  async prefetch(trx: Knex.Transaction, hints: readonly GroupHint[]): Promise<void> {
    const ids = [...new Set(hints.map((h) => h.terminalId))].filter((id) => !this.terminals.has(id));
    for (const row of await selectByKeys<{ terminal_id: string; next_seq: number; ops_received: number }>(trx, 'sync_terminals', 'terminal_id', ids)) {
      this.terminals.set(row.terminal_id, { nextSeq: row.next_seq, opsReceived: Number(row.ops_received), set: {}, dirty: false });
    }
    const unread = [...new Set(hints.flatMap((h) => h.cardNos))].filter((no) => !this.cards.has(no));
    const cards = await selectByKeys<CardRow>(trx, 'cards', 'card_no', unread);
    for (const row of cards) {
      this.cards.set(row.card_no, row);
      this.stored.set(row.card_no, row);
    }
    await this.view.types.fromCards(trx, cards);
    this.view.head ??= await logPosition(trx);
  }

  /** Writes what is staged, so that a read of the database sees it (a group's; one batch's has nothing staged then). */
  async sync(trx: Knex.Transaction): Promise<void> {
    await this.drained();
    if (!this.empty) this.position = await this.writeAll(trx);
  }

  /**
   * Starts writing what is staged now, behind any such write still running, and returns at once:
   * SQLite writes one batch of a group while the next is applied on this thread. What is written
   * is taken now; a failure surfaces at {@link drained} (every later read and the group's end).
   */
  writeBehind(trx: Knex.Transaction): void {
    const plan = this.plan(true);
    // The script is made now, so that SQLite starts on it the moment the one before is done —
    // unless it needs a read first (types or head not known), and then so are the ones after it.
    const script = this.lateScripts === 0 && this.ready(plan) ? this.scriptOf(plan) : undefined;
    if (!script) this.lateScripts++;
    this.behind = this.behind.then(async () => {
      try {
        if (this.behindFailed) return;
        this.position = script ? await this.runScript(trx, script) : await this.execute(trx, plan);
      } catch (error) {
        this.behindFailed = { error };
      } finally {
        // Made (and run): the next scripts may be made at once again — after this one's head.
        if (!script) this.lateScripts--;
      }
    });
  }

  /** Waits for the writes started behind; throws (a {@link GroupWriteError}) if one failed. */
  async drained(): Promise<void> {
    await this.behind;
    if (this.behindFailed) throw new GroupWriteError(this.behindFailed.error);
  }

  /** After a batch that wrote its own rows through the registry: read cards and terminals afresh. */
  forget(): void {
    this.view.clear();
  }

  /** Writes the ledger rows and card rows staged so far (they stay in this transaction). */
  async writeRows(trx: Knex.Transaction): Promise<void> {
    await this.execute(trx, this.plan(false));
  }

  /** Writes everything staged, the terminals' rows, and the change log (last: it takes the head lock). */
  async writeAll(trx: Knex.Transaction): Promise<LogPosition> {
    return (await this.execute(trx, this.plan(true)))!;
  }

  /**
   * Takes what is staged into the statements' rows: the cards' changed columns (against the rows as
   * the database has them, which they then are), and — `all` — the parked and kept ops, alerts,
   * terminals and change-log entries too.
   */
  private plan(all: boolean): WritePlan {
    // Only the columns that changed are written (a redemption moves four), grouped by which they
    // are: one statement per group, and indexes over unchanged columns are left alone.
    const cardUpdates = new Map<string, { columns: Column[]; rows: unknown[][] }>();
    for (const no of [...this.touched].sort()) {
      const card = this.cards.get(no)!;
      const before = this.stored.get(no);
      const changed = cardColumns.filter((col) => before?.[col.name] !== card[col.name]);
      this.stored.set(no, card);
      this.changed.add(no);
      if (changed.length === 0) continue;
      const key = changed.map((col) => col.name).join(',');
      let update = cardUpdates.get(key);
      if (!update) cardUpdates.set(key, (update = { columns: changed, rows: [] }));
      update.rows.push([no, ...changed.map((col) => card[col.name])]);
    }
    const plan: WritePlan = {
      ledgerRows: this.ledgerRows.splice(0),
      promoted: this.promoted.splice(0),
      cardUpdates: [...cardUpdates.values()],
      timeZone: this.timeZone,
    };
    this.touched.clear();
    if (!all) return plan;
    const terminalUpdates = new Map<string, { columns: Column[]; rows: unknown[][] }>();
    for (const [id, t] of this.terminals) {
      if (!t.dirty) continue;
      t.dirty = false;
      const values: Record<string, unknown> = { next_seq: t.nextSeq, ops_received: t.opsReceived, ...t.set };
      const names = Object.keys(values).sort();
      const key = names.join(',');
      let update = terminalUpdates.get(key);
      if (!update) terminalUpdates.set(key, (update = { columns: names.map((n) => terminalColumns[n]!), rows: [] }));
      update.rows.push([id, ...names.map((n) => values[n])]);
    }
    plan.rest = {
      parkedRows: this.parkedRows.splice(0),
      miscRows: this.miscRows.splice(0),
      alertRows: this.alertRows.splice(0),
      terminalUpdates: [...terminalUpdates.values()],
      // Blacklist entries first: a terminal applies them before anything else in the same pull.
      entries: [
        ...[...this.hotlisted].sort().map((no) => blacklistChange(this.cards.get(no)!, this.now)),
        ...[...this.changed].sort().map((no) => cardChange(this.cards.get(no)!)),
      ],
      now: this.now,
    };
    this.hotlisted.clear();
    this.changed.clear();
    return plan;
  }

  private async execute(trx: Knex.Transaction, plan: WritePlan): Promise<LogPosition | undefined> {
    try {
      if (this.shared) return await this.executeScript(trx, plan);
      await insertRows(trx, 'ledger_entries', ledgerColumns, plan.ledgerRows.map((r) => ledgerColumns.map((c) => r[c.name])));
      // The rollup counts a row from its insert whatever its status (reports/rollups.ts), so rows
      // promoted from waiting change no rollup; only the new rows are added.
      await addToRollups(trx, plan.ledgerRows, plan.timeZone);
      // Gap fills are rare (another terminal was offline): one statement per promoted row is fine.
      for (const row of plan.promoted) {
        await trx('ledger_entries').where({ op_id: row.op_id }).update({ status: row.status, anomaly: row.anomaly });
      }
      for (const { columns, rows } of plan.cardUpdates) await updateRows(trx, 'cards', { name: 'card_no', pg: 'text' }, columns, rows);
      const { rest } = plan;
      if (!rest) return undefined;
      await insertRows(trx, 'sync_parked', parkedColumns, rest.parkedRows);
      await insertRows(trx, 'sync_misc_ops', miscColumns, rest.miscRows);
      if (rest.alertRows.length > 0) await trx('fraud_alerts').insert(rest.alertRows);
      for (const { columns, rows } of rest.terminalUpdates) await updateRows(trx, 'sync_terminals', terminalKey, columns, rows);
      const position = (await appendChanges(trx, rest.entries, rest.now)) ?? (await logPosition(trx));
      // Fault tests kill the process here: the batch's rows written, nothing committed.
      if (process.env['CINECARD_CRASH_POINT'] === 'sync.ingest.before_commit' && rest.entries.length > 0) process.kill(process.pid, 'SIGKILL');
      return position;
    } catch (error) {
      throw this.shared ? new GroupWriteError(error) : error;
    }
  }

  /**
   * A group's write (SQLite) as ONE script: the same statements as {@link execute}'s, run back to
   * back by SQLite while this thread applies the next batches. The change log's ids follow the head
   * this transaction holds (read once; the group holds the write lock).
   */
  private async executeScript(trx: Knex.Transaction, plan: WritePlan): Promise<LogPosition | undefined> {
    const { types } = this.view;
    const unread = [...new Set(plan.ledgerRows.map((r) => r.card_no))].filter((no) => !types.has(no));
    if (unread.length > 0) await types.read(trx, unread);
    if (plan.rest) this.view.head ??= await logPosition(trx);
    return this.runScript(trx, this.scriptOf(plan));
  }

  /** Whether {@link scriptOf} has what it needs: the card types of the plan's rows, and the head. */
  private ready(plan: WritePlan): boolean {
    const { types } = this.view;
    return (!plan.rest || this.view.head !== undefined) && plan.timeZone !== undefined && plan.ledgerRows.every((r) => types.has(r.card_no));
  }

  /**
   * The plan as one script, and the change log's position after it. The head moves on now: the
   * scripts run in the order they are made, and if one fails the group is written again from
   * scratch, its view forgotten.
   */
  private scriptOf(plan: WritePlan): { script: SqliteScript; position: LogPosition | undefined; appended: boolean } {
    const script = new SqliteScript();
    script.insert('ledger_entries', ledgerColumns, plan.ledgerRows.map((r) => ledgerColumns.map((c) => r[c.name])));
    if (plan.ledgerRows.length > 0) script.add(...rollupStatements(plan.ledgerRows, plan.timeZone!, this.view.types));
    for (const row of plan.promoted) {
      script.add({ sql: 'UPDATE ledger_entries SET status = ?, anomaly = ? WHERE op_id = ?', params: [row.status, row.anomaly, row.op_id] });
    }
    for (const { columns, rows } of plan.cardUpdates) script.update('cards', cardKey, columns, rows);
    const { rest } = plan;
    if (!rest) return { script, position: undefined, appended: false };
    script.insert('sync_parked', parkedColumns, rest.parkedRows);
    script.insert('sync_misc_ops', miscColumns, rest.miscRows);
    script.insert('fraud_alerts', alertColumns, rest.alertRows.map((a) => alertColumns.map((c) => a[c.name])));
    for (const { columns, rows } of rest.terminalUpdates) script.update('sync_terminals', terminalKey, columns, rows);
    const head = this.view.head!;
    if (rest.entries.length === 0) return { script, position: head, appended: false };
    const append = appendStatements(rest.entries, head, rest.now);
    script.add(append.head).insert('change_log', changeLogColumns, append.rows);
    this.view.head = append.position;
    return { script, position: append.position, appended: true };
  }

  private async runScript(trx: Knex.Transaction, made: { script: SqliteScript; position: LogPosition | undefined; appended: boolean }): Promise<LogPosition | undefined> {
    await made.script.run(trx);
    if (!made.appended) return made.position;
    pokeOnCommit(trx, made.position!);
    // Fault tests kill the process here: the batches' rows written, nothing committed.
    if (process.env['CINECARD_CRASH_POINT'] === 'sync.ingest.before_commit') process.kill(process.pid, 'SIGKILL');
    return made.position;
  }
}

/** What one write of {@link Staged} puts in the database: rows only, or everything (`rest`). */
interface WritePlan {
  readonly ledgerRows: LedgerRow[];
  readonly promoted: LedgerRow[];
  readonly cardUpdates: { columns: Column[]; rows: unknown[][] }[];
  readonly timeZone: string | undefined;
  rest?: {
    readonly parkedRows: unknown[][];
    readonly miscRows: unknown[][];
    readonly alertRows: Record<string, unknown>[];
    readonly terminalUpdates: { columns: Column[]; rows: unknown[][] }[];
    readonly entries: ChangeEntry[];
    readonly now: string;
  };
}

/**
 * One batch: what it read, and what it applied — staged at its end (`finish`) for its own write
 * or its group's. Until then nothing of it is in {@link Staged}, so a batch that fails midway
 * leaves its group as it was.
 */
class BatchRun {
  private readonly ledgerRows: LedgerRow[] = [];
  /** This batch's rows by card and seq (not yet in the database). */
  private readonly batchRows = new Map<string, Map<number, LedgerRow>>();
  /** Stored waiting rows this batch applied (status, maybe anomaly, to write back). */
  private readonly promoted: LedgerRow[] = [];
  private readonly parkedRows: unknown[][] = [];
  private readonly miscRows: unknown[][] = [];
  private readonly alerts: Alert[] = [];
  /** The batch's cards as they stand. */
  private readonly cards = new Map<string, CardRow>();
  private readonly touched = new Set<string>();
  private readonly hotlisted = new Set<string>();
  private readonly terminalId: string;
  private readonly cinemaId: string;
  private terminal: TerminalState | undefined;

  constructor(
    private readonly trx: Knex.Transaction,
    private readonly policy: SyncPolicy,
    private readonly principal: Principal,
    private readonly registry: CardRegistry,
    private readonly now: string,
    private readonly staged: Staged,
  ) {
    this.terminalId = principal.terminal!.id;
    this.cinemaId = principal.cinemaId!;
  }

  /** Locks (creating) the terminal's row; returns the next expected term seq. */
  async lockTerminal(): Promise<number> {
    const { trx } = this;
    const known = this.staged.terminals.get(this.terminalId);
    if (known) {
      this.terminal = { ...known };
      return known.nextSeq;
    }
    const lock = dialectOf(trx) === 'postgres' ? ' FOR UPDATE' : '';
    const select = async () =>
      (await sqlQuery<{ next_seq: number; ops_received: number }>(trx, `SELECT next_seq, ops_received FROM sync_terminals WHERE terminal_id = ?${lock}`, [this.terminalId]))[0];
    let row = await select();
    if (!row) {
      await trx('sync_terminals')
        .insert({ terminal_id: this.terminalId, cinema_id: this.cinemaId, next_seq: 1, ops_received: 0 })
        .onConflict('terminal_id')
        .ignore();
      row = (await select())!;
    }
    this.terminal = { nextSeq: row.next_seq, opsReceived: Number(row.ops_received), set: {}, dirty: false };
    return row.next_seq;
  }

  /** Every earlier upload of these op ids: accepted ones (ledger or kept) and parked ones. */
  async knownOps(opIds: readonly string[]): Promise<Map<string, Known[]>> {
    const known = new Map<string, Known[]>();
    if (opIds.length === 0) return known;
    await this.staged.sync(this.trx);
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
    const { staged } = this;
    const missing = cardNos.filter((no) => !staged.cards.has(no));
    // Locked in card-number order: two batches sharing cards cannot deadlock.
    for (const row of await selectByKeys<CardRow>(this.trx, 'cards', 'card_no', missing)) {
      staged.cards.set(row.card_no, row);
      staged.stored.set(row.card_no, row);
    }
    for (const no of cardNos) {
      const row = staged.cards.get(no);
      if (row) this.cards.set(no, row);
    }
    for (let i = 0; i < accepted.length; i++) {
      // Now and then the writes started behind (a group's) get the thread for their next statement.
      if (i > 0 && i % 100 === 0 && this.staged.shared) await new Promise((resolve) => setImmediate(resolve));
      const { op, result } = accepted[i]!;
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
    if (this.staged.shared) throw new Error(`a ${op.kind} op in a batch staged in its group`);
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
      this.staged.cards.set(op.cardNo, fresh);
      this.staged.stored.set(op.cardNo, fresh);
    }
    return undefined;
  }

  /** Stages what the batch applied so far for its own write (the registry writes the card next). */
  private async flush(): Promise<void> {
    this.stageRows();
    await this.staged.writeRows(this.trx);
  }

  /** Moves the batch's ledger rows and changed cards into {@link Staged}. */
  private stageRows(): void {
    const { staged } = this;
    staged.ledgerRows.push(...this.ledgerRows);
    staged.promoted.push(...this.promoted);
    for (const no of this.touched) {
      staged.cards.set(no, this.cards.get(no)!);
      staged.touched.add(no);
    }
    this.ledgerRows.length = 0;
    this.promoted.length = 0;
    this.touched.clear();
    this.batchRows.clear(); // staged: read back from the database (after a write) from now on
  }

  private keep(op: WireOp): void {
    this.miscRows.push([op.opId, this.terminalId, op.termSeq, op.kind, op.cardNo.slice(0, 32), op.hash, JSON.stringify(op), this.now]);
  }

  /** The ledger row at (card, seq): this batch's or a stored one. */
  private async opAt(cardNo: string, seq: number): Promise<Pick<LedgerRow, 'op_id' | 'kind'> | undefined> {
    const local = this.batchRows.get(cardNo)?.get(seq);
    if (local) return local;
    await this.staged.sync(this.trx);
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
      await this.staged.sync(this.trx);
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
        if (!stored) await this.staged.sync(this.trx);
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

  /** Stages everything the batch did, the terminal's advance included, for its own write or its group's. */
  async finish(expected: number, opsReceived: number, batch: SyncBatch, nowDate: Date): Promise<void> {
    const { staged } = this;
    this.stageRows();
    staged.parkedRows.push(...this.parkedRows);
    staged.miscRows.push(...this.miscRows);
    for (const a of this.alerts) {
      staged.alertRows.push({
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
      });
    }
    for (const no of this.hotlisted) staged.hotlisted.add(no);
    const deviceMs = Date.parse(batch.deviceTime);
    const terminal = this.terminal!;
    staged.terminals.set(this.terminalId, {
      nextSeq: expected,
      opsReceived: terminal.opsReceived + opsReceived,
      set: {
        ...terminal.set,
        last_seen_at: this.now,
        last_upload_at: this.now,
        ...(Number.isFinite(deviceMs) ? { device_time: new Date(deviceMs).toISOString(), clock_skew_ms: deviceMs - nowDate.getTime() } : {}),
        ...(batch.pendingOps !== undefined ? { pending_ops: batch.pendingOps } : {}),
        ...(batch.cursor !== undefined ? { cursor: batch.cursor } : {}),
      },
      dirty: true,
    });
    if (this.now > staged.now) staged.now = this.now;
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

/** The usual payload of a redemption: its amount alone. */
const amountOnly = /^\{"amountFen":(0|[1-9]\d{0,8})\}$/;

export function amountOf(payloadJson: string): number | null {
  const usual = amountOnly.exec(payloadJson);
  if (usual) {
    const fen = Number(usual[1]);
    return fen <= 100_000_000 ? fen : null;
  }
  try {
    const v = (JSON.parse(payloadJson) as Record<string, unknown> | null)?.['amountFen'];
    return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v <= 100_000_000 ? v : null;
  } catch {
    return null;
  }
}

/** `YYYY-MM-DDTHH:MM:SS.mmmZ`, as terminals write it. */
const canonicalTime = /^(\d{4})-(\d{2})-(\d{2})T([01]\d|2[0-3]):[0-5]\d:[0-5]\d\.\d{3}Z$/;

/** Device time is informational; a malformed one is recorded as central's time of receipt. */
export function isoOrNow(deviceTime: string, now: string): string {
  // The usual form is kept as it is once its date is a real one (what parsing and printing would give).
  const m = canonicalTime.exec(deviceTime);
  if (m) {
    const year = Number(m[1]);
    const month = Number(m[2]);
    const day = Number(m[3]);
    if (year >= 1 && month >= 1 && month <= 12 && day >= 1 && day <= new Date(Date.UTC(year, month, 0)).getUTCDate()) return deviceTime;
  }
  const ms = Date.parse(deviceTime);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : now;
}

