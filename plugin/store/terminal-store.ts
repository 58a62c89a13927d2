/**
 * The terminal's local store. Every op is recorded in the same transaction as its effect, with a
 * UUIDv7 `op_id`, a gapless per-terminal `term_seq` and a content hash, and queued in the outbox
 * until central acknowledges it (DESIGN §4).
 */
import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { v7 as uuidv7 } from 'uuid';
import { Emitter, type Event } from '../../adapters/lifecycle.ts';
import type { Logger } from '../../adapters/logger.ts';
import { terminalMigrationSource } from './migrations/index.ts';
import { openTerminalDb, type TerminalDbOptions } from './sqlite.ts';

export type OpKind =
  | 'activate'
  | 'redeem'
  | 'top_up'
  | 'renew'
  | 'blacklist'
  | 'unblacklist'
  | 'recycle'
  | 'reissue'
  | 'rebuild';

/** What a flow knows when it records an op; the store adds identity, sequence and hash. */
export interface OpDraft {
  readonly kind: OpKind;
  readonly cardNo: string;
  /** The card's tx counter after the op, when the op wrote the card. */
  readonly cardSeq?: number;
  readonly operatorId?: string;
  readonly consumption?: 'ticket' | 'concession';
  readonly uses?: number;
  readonly remainingAfter?: number;
  /** Anything else the op carries (sale lines, reason …), as JSON. */
  readonly payload?: Readonly<Record<string, unknown>>;
}

export interface Op extends OpDraft {
  readonly opId: string;
  readonly termSeq: number;
  readonly terminalId: string;
  readonly cinemaId: string;
  readonly deviceTime: string;
  /** The payload exactly as stored and hashed. */
  readonly payloadJson: string;
  readonly hash: string;
}

export interface TerminalIdentity {
  readonly terminalId: string;
  readonly cinemaId: string;
}

interface OpRow {
  op_id: string;
  term_seq: number;
  terminal_id: string;
  cinema_id: string;
  kind: OpKind;
  card_no: string;
  card_seq: number | null;
  operator_id: string | null;
  consumption: 'ticket' | 'concession' | null;
  uses: number | null;
  remaining_after: number | null;
  device_time: string;
  payload: string;
  hash: string;
}

/** The hash central compares to tell a duplicate upload (same hash) from a conflict (other hash). */
export function opHash(op: Omit<Op, 'hash' | 'payload'>): string {
  const fields = [
    op.opId, op.terminalId, op.cinemaId, op.termSeq, op.kind, op.cardNo, op.cardSeq ?? null, op.operatorId ?? null,
    op.consumption ?? null, op.uses ?? null, op.remainingAfter ?? null, op.deviceTime, op.payloadJson,
  ];
  return createHash('sha256').update(JSON.stringify(fields)).digest('hex');
}

function fromRow(r: OpRow): Op {
  return {
    opId: r.op_id,
    termSeq: r.term_seq,
    terminalId: r.terminal_id,
    cinemaId: r.cinema_id,
    kind: r.kind,
    cardNo: r.card_no,
    ...(r.card_seq !== null && { cardSeq: r.card_seq }),
    ...(r.operator_id !== null && { operatorId: r.operator_id }),
    ...(r.consumption !== null && { consumption: r.consumption }),
    ...(r.uses !== null && { uses: r.uses }),
    ...(r.remaining_after !== null && { remainingAfter: r.remaining_after }),
    deviceTime: r.device_time,
    payload: JSON.parse(r.payload) as Record<string, unknown>,
    payloadJson: r.payload,
    hash: r.hash,
  };
}

/** Restore: the highest term seq central had from this terminal before this store existed. */
const TERM_SEQ_FLOOR = 'sync.term_seq_floor';

export class TerminalStore {
  private readonly recorded = new Emitter<void>();
  /** Fires after a transaction that recorded an op has committed (sync uploads it soon). */
  readonly onOpRecorded: Event<void> = this.recorded.event;
  private readonly outboxChanged = new Emitter<number>();
  /** Fires with {@link pendingOpCount} whenever it changes. */
  readonly onPendingChanged: Event<number> = this.outboxChanged.event;

  /** The outbox's size, kept with every write of it: see {@link pendingOpCount}. */
  private outboxSize: number;
  /** Outbox changes each write transaction made, applied when it commits (before its caller goes on). */
  private readonly outboxDelta = new WeakMap<Knex.Transaction, number>();
  /** Write transactions running, and a counter bumped by each start and end (see {@link recountPending}). */
  private writing = 0;
  private writes = 0;

  private constructor(
    readonly db: Knex,
    private readonly now: () => number,
    outboxSize: number,
  ) {
    this.outboxSize = outboxSize;
  }

  /** Opens (creating if needed) and migrates the terminal database. */
  static async open(options: TerminalDbOptions & { now?: () => number; logger?: Logger }): Promise<TerminalStore> {
    const db = openTerminalDb(options);
    try {
      await db.migrate.latest({ migrationSource: terminalMigrationSource });
      return new TerminalStore(db, options.now ?? Date.now, await countOutbox(db));
    } catch (err) {
      await db.destroy();
      throw err;
    }
  }

  /**
   * Ops recorded here and not yet acknowledged by central, right now: the outbox's size as of the
   * last committed write — an op counts from the moment its transaction commits (before whoever
   * recorded it goes on) until the transaction that removes it on central's ack commits.
   */
  get pendingOpCount(): number {
    return this.outboxSize;
  }

  /**
   * Reads the outbox's size from the database again (another process may have written it); a read
   * that overlapped a write of this process is retried, so it never undoes a count that write kept.
   */
  async recountPending(): Promise<number> {
    for (;;) {
      const before = this.writes;
      if (this.writing === 0) {
        const n = await countOutbox(this.db);
        if (this.writes === before && this.writing === 0) {
          this.setOutboxSize(n);
          return n;
        }
      } else {
        await this.db.raw('select 1'); // waits behind the write on the one connection
      }
    }
  }

  /** Counts `delta` outbox rows added (or removed) by `trx`, to apply when it commits. */
  private outboxChange(trx: Knex.Transaction, delta: number): void {
    this.outboxDelta.set(trx, (this.outboxDelta.get(trx) ?? 0) + delta);
  }

  private setOutboxSize(n: number): void {
    if (n === this.outboxSize) return;
    this.outboxSize = n;
    this.outboxChanged.fire(n);
  }

  /** Runs `fn` in one write transaction (BEGIN IMMEDIATE): all of it commits, or none. */
  async write<T>(fn: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
    this.writing += 1;
    this.writes += 1;
    let delta = 0;
    try {
      const result = await this.db.transaction(async (trx) => {
        const r = await fn(trx);
        delta = this.outboxDelta.get(trx) ?? 0;
        return r;
      });
      if (delta !== 0) this.setOutboxSize(this.outboxSize + delta);
      return result;
    } finally {
      this.writing -= 1;
      this.writes += 1;
    }
  }

  async getMeta(key: string, trx: Knex | Knex.Transaction = this.db): Promise<string | undefined> {
    const row = await trx('meta').where({ key }).first<{ value: string } | undefined>('value');
    return row?.value;
  }

  async setMeta(key: string, value: string, trx: Knex | Knex.Transaction = this.db): Promise<void> {
    await trx('meta').insert({ key, value }).onConflict('key').merge();
  }

  /** The identity this terminal was enrolled with, if it has been. */
  async identity(): Promise<TerminalIdentity | undefined> {
    const [terminalId, cinemaId] = await Promise.all([this.getMeta('terminal_id'), this.getMeta('cinema_id')]);
    return terminalId && cinemaId ? { terminalId, cinemaId } : undefined;
  }

  async setIdentity(id: TerminalIdentity): Promise<void> {
    await this.write(async (trx) => {
      await this.setMeta('terminal_id', id.terminalId, trx);
      await this.setMeta('cinema_id', id.cinemaId, trx);
    });
  }

  /**
   * Records an op inside the caller's transaction — the same one that applies its effect — and
   * queues it for upload. `term_seq` is the next after the highest ever used, so it has no gaps.
   */
  async appendOp(trx: Knex.Transaction, draft: OpDraft): Promise<Op> {
    const terminalId = await this.getMeta('terminal_id', trx);
    const cinemaId = await this.getMeta('cinema_id', trx);
    if (!terminalId || !cinemaId) throw new Error('this terminal is not enrolled: no terminal or cinema id');
    const last = await trx('ops').max<{ m: number | null }>('term_seq as m').first();
    const floor = Number((await this.getMeta(TERM_SEQ_FLOOR, trx)) ?? 0);
    const base = {
      ...draft,
      opId: uuidv7(),
      termSeq: Math.max(last?.m ?? 0, floor) + 1,
      terminalId,
      cinemaId,
      deviceTime: new Date(this.now()).toISOString(),
      payloadJson: JSON.stringify(draft.payload ?? {}),
    };
    const op: Op = { ...base, payload: draft.payload ?? {}, hash: opHash(base) };
    await trx('ops').insert({
      op_id: op.opId,
      term_seq: op.termSeq,
      terminal_id: op.terminalId,
      cinema_id: op.cinemaId,
      kind: op.kind,
      card_no: op.cardNo,
      card_seq: op.cardSeq ?? null,
      operator_id: op.operatorId ?? null,
      consumption: op.consumption ?? null,
      uses: op.uses ?? null,
      remaining_after: op.remainingAfter ?? null,
      device_time: op.deviceTime,
      payload: op.payloadJson,
      hash: op.hash,
    } satisfies OpRow);
    await trx('outbox').insert({ op_id: op.opId, term_seq: op.termSeq });
    this.outboxChange(trx, 1);
    // Once committed (a rollback fires nothing): the uploader may go now.
    trx.executionPromise.then(() => this.recorded.fire(), () => {});
    return op;
  }

  /** Ops awaiting acknowledgement, oldest first. */
  async pendingOps(limit = 500): Promise<Op[]> {
    const rows = await this.db('outbox')
      .join('ops', 'ops.op_id', 'outbox.op_id')
      .orderBy('outbox.term_seq')
      .limit(limit)
      .select<OpRow[]>('ops.*');
    return rows.map(fromRow);
  }

  /** Whether central has acknowledged any op of this store (a store never synced, or wiped, has none). */
  async hasAcknowledgedOps(): Promise<boolean> {
    const row = await this.db('ops').whereNotIn('op_id', this.db('outbox').select('op_id')).first('op_id');
    return row !== undefined;
  }

  /**
   * Terminal restore (`spec/sync.md` §6): central expects `nextSeq` from this terminal, so ops
   * recorded here before that was known — none uploaded yet — move up to follow it (their hashes
   * recomputed), and no new op can take a seq central already has.
   */
  async continueFrom(trx: Knex.Transaction, nextSeq: number): Promise<void> {
    const pending = (await trx('ops').whereIn('op_id', trx('outbox').select('op_id')).orderBy('term_seq', 'desc').select<OpRow[]>('*')).map(fromRow);
    const first = pending.at(-1)?.termSeq;
    const shift = first === undefined ? 0 : Math.max(0, nextSeq - first);
    for (const op of pending) {
      if (shift === 0) break;
      const { hash: _old, payload: _p, ...rest } = op;
      const termSeq = op.termSeq + shift;
      // Highest first: the unique term seq never sees two rows at once.
      await trx('ops').where({ op_id: op.opId }).update({ term_seq: termSeq, hash: opHash({ ...rest, termSeq }) });
      await trx('outbox').where({ op_id: op.opId }).update({ term_seq: termSeq });
    }
    await this.setMeta(TERM_SEQ_FLOOR, String(nextSeq - 1), trx);
  }

  /** Ops central gave back after a restore: kept for local statistics and history, not queued. */
  async restoreOps(trx: Knex.Transaction, ops: readonly Op[]): Promise<void> {
    for (const op of ops) {
      await trx('ops')
        .insert({
          op_id: op.opId, term_seq: op.termSeq, terminal_id: op.terminalId, cinema_id: op.cinemaId, kind: op.kind, card_no: op.cardNo,
          card_seq: op.cardSeq ?? null, operator_id: op.operatorId ?? null, consumption: op.consumption ?? null, uses: op.uses ?? null,
          remaining_after: op.remainingAfter ?? null, device_time: op.deviceTime, payload: op.payloadJson, hash: op.hash,
        } satisfies OpRow)
        .onConflict('op_id')
        .ignore();
    }
  }

  async pendingCount(): Promise<number> {
    return countOutbox(this.db);
  }

  /** Removes acknowledged ops from the outbox (the ops themselves stay for local statistics). */
  async ack(opIds: readonly string[]): Promise<void> {
    if (opIds.length === 0) return;
    await this.write(async (trx) => {
      let removed = 0;
      for (let i = 0; i < opIds.length; i += 400) removed += await trx('outbox').whereIn('op_id', opIds.slice(i, i + 400)).del();
      this.outboxChange(trx, -removed);
    });
  }

  /** Queues again every op from `termSeq` on that is not queued (central lost them: it was restored from a backup). */
  async requeueFrom(termSeq: number): Promise<void> {
    await this.write(async (trx) => {
      const before = await countOutbox(trx);
      await trx.raw('INSERT INTO outbox (op_id, term_seq) SELECT op_id, term_seq FROM ops WHERE term_seq >= ? AND op_id NOT IN (SELECT op_id FROM outbox)', [termSeq]);
      this.outboxChange(trx, (await countOutbox(trx)) - before);
    });
  }

  /** The ops of one card, in the order this terminal made them. */
  async opsOfCard(cardNo: string): Promise<Op[]> {
    const rows = await this.db('ops').where({ card_no: cardNo }).orderBy('term_seq').select<OpRow[]>('*');
    return rows.map(fromRow);
  }

  async close(): Promise<void> {
    this.recorded.dispose();
    this.outboxChanged.dispose();
    await this.db.destroy();
  }
}

async function countOutbox(db: Knex | Knex.Transaction): Promise<number> {
  const row = await db('outbox').count<{ n: number }>('* as n').first();
  return Number(row?.n ?? 0);
}
