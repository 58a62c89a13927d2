/**
 * The terminal's sync (DESIGN §4, `spec/sync.md` § Terminal): uploads the outbox, pulls the change
 * log into the terminal store, listens for pokes, and reports its state as an Event.
 *
 * - Upload: batches of ≤ 500 in term_seq order, one in flight; ops leave the outbox only once
 *   central answered for them (applied, duplicate or rejected — a rejected op is parked centrally
 *   and never retried, so it cannot wedge the queue). A failure backs off exponentially on the
 *   uploader's own timer; a local write may `kick()` it sooner, but nothing depends on that.
 * - Pull: pages of changes applied and the cursors saved in ONE local transaction, so a crash
 *   in between replays the page (items are full states: replaying is harmless). A reset answer
 *   replaces the replica from the snapshot, again in one transaction.
 * - Pokes: a WebSocket to central; a poke past our cursor triggers a pull. Pulls also run every
 *   60 s, so a lost poke (or a dead socket) costs latency, not data. A blacklist change sent on the
 *   socket ahead of its poke is applied at once when it follows on from our blacklist cursor.
 * - Several central URLs: a network failure moves to the next one (another instance).
 */
import type { Knex } from 'knex';
import { WebSocket } from 'ws';
import { createCentralClient, fetchTrusting, parseSyncMessage, SYNC_SOCKET_PATH, type CentralClient, type Schemas, type SyncBlacklistDelta } from '../../central/client/index.ts';
import { type Clock, systemClock } from '../../adapters/clock.ts';
import { Emitter, type Disposable, type Event } from '../../adapters/lifecycle.ts';
import { type Logger, silentLogger } from '../../adapters/logger.ts';
import type { Op, TerminalStore } from '../store/terminal-store.ts';
import { systemTimers, type SyncOptions, type SyncProblem, type SyncStatus, type Timers } from './sync-contract.ts';

const CURSOR = 'sync.cursor';
const BLACKLIST_CURSOR = 'sync.blacklist_cursor';
/** The id of central's change log the cursors belong to (`spec/sync.md` § Central restored from a backup). */
const LOG_ID = 'sync.log_id';
/** Set once this store has asked central whether it is a restored terminal (`restoreOnce`). */
const RESTORE_CHECKED = 'sync.restore_checked';

/** A failed call to central: `network` (unreachable, 5xx) is retried on another URL. */
/** What a failed round tells the staff: no answer, this terminal refused, or an error on either side. */
function problemOf(error: unknown): SyncProblem {
  if (!(error instanceof CentralCallError)) return 'error';
  if (error.status === null) return 'unreachable';
  return error.status === 401 || error.status === 403 ? 'refused' : 'error';
}

class CentralCallError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
  ) {
    super(message);
  }
}

export function toWireOp(op: Op): Schemas['SyncOp'] {
  return {
    opId: op.opId,
    termSeq: op.termSeq,
    terminalId: op.terminalId,
    cinemaId: op.cinemaId,
    kind: op.kind,
    cardNo: op.cardNo,
    cardSeq: op.cardSeq ?? null,
    cardUid: typeof op.payload?.['uid'] === 'string' ? (op.payload['uid'] as string) : null,
    operatorId: op.operatorId ?? null,
    consumption: op.consumption ?? null,
    uses: op.uses ?? null,
    remainingAfter: op.remainingAfter ?? null,
    deviceTime: op.deviceTime,
    payload: op.payloadJson,
    hash: op.hash,
  };
}

/** An op central gave back (terminal restore) as the store keeps it. */
export function fromWireOp(w: Schemas['SyncOp']): Op {
  let payload: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(w.payload);
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) payload = parsed as Record<string, unknown>;
  } catch {
    // central keeps what it could read; an unreadable payload comes back empty
  }
  return {
    opId: w.opId,
    termSeq: w.termSeq,
    terminalId: w.terminalId,
    cinemaId: w.cinemaId,
    kind: w.kind as Op['kind'],
    cardNo: w.cardNo,
    ...(w.cardSeq !== null && w.cardSeq !== undefined && { cardSeq: w.cardSeq }),
    ...(w.operatorId && { operatorId: w.operatorId }),
    ...(w.consumption && { consumption: w.consumption }),
    ...(w.uses !== null && w.uses !== undefined && { uses: w.uses }),
    ...(w.remainingAfter !== null && w.remainingAfter !== undefined && { remainingAfter: w.remainingAfter }),
    deviceTime: w.deviceTime,
    payload,
    payloadJson: w.payload,
    hash: w.hash,
  };
}

export class SyncService {
  private readonly statusEmitter = new Emitter<SyncStatus>();
  /** Fires whenever the sync state changes (pending count, success, offline). */
  readonly onStatus: Event<SyncStatus> = this.statusEmitter.event;

  private readonly timers: Timers;
  /** The fetch every call goes through (trusting `options.ca` when given). */
  private readonly fetchFn: typeof fetch;
  /** Aborts the requests still running when dispose has waited long enough for them. */
  private readonly abort = new AbortController();
  /** Every round and local read/write in flight (uploads, pulls, syncNow, status, pokes): dispose waits for them. */
  private readonly work = new Set<Promise<unknown>>();
  private pendingSubscription: Disposable | undefined;
  private readonly batchSize: number;
  /** The batch size now: halved each time central refuses a batch as too large, whole again once the queue is empty. */
  private batchLimit: number;
  private urlIndex = 0;
  private started = false;
  private disposed = false;
  private restoreChecked = false;

  private uploadTimer: unknown;
  private uploading: Promise<void> | undefined;
  private uploadFailures = 0;
  private pullTimer: unknown;
  private pulling: Promise<void> | undefined;
  private pullAgain = false;
  private pullFailures = 0;

  private socket: WebSocket | undefined;
  private socketTimer: unknown;
  private socketFailures = 0;

  private state: SyncStatus = { pendingOps: 0, lastSuccessAt: null, offline: false, problem: null, lastError: null, cursor: 0, head: 0 };

  constructor(
    private readonly store: TerminalStore,
    private readonly options: SyncOptions,
    private readonly clock: Clock = systemClock,
    private readonly log: Logger = silentLogger,
    timers: Timers = systemTimers,
  ) {
    if (options.centralUrls.length === 0) throw new Error('SyncService needs at least one central URL');
    const base = options.ca !== undefined ? fetchTrusting(options.ca, options.fetch ?? fetch) : (options.fetch ?? fetch);
    this.fetchFn = (input, init) => base(input, { ...init, signal: this.abort.signal });
    this.timers = timers;
    this.batchSize = Math.min(500, options.batchSize ?? 500);
    this.batchLimit = this.batchSize;
  }

  /** The state as last heard; `pendingOps` is the store's count now (every recorded op central has not acknowledged). */
  get status(): SyncStatus {
    return { ...this.state, pendingOps: this.store.pendingOpCount };
  }

  /** Starts uploading, pulling and listening; call once. */
  start(): void {
    if (this.started || this.disposed) return;
    this.started = true;
    this.pendingSubscription = this.store.onPendingChanged(() => this.fireStatus());
    void this.track(this.refreshStatus()).catch(() => {});
    this.scheduleUpload(0);
    this.schedulePull(0);
    if (this.options.pokes !== false) this.connectSocket();
  }

  /** A local write happened: upload soon (the idle timer would get there anyway). */
  kick(): void {
    if (!this.started || this.disposed) return;
    if (!this.uploading) this.scheduleUpload(0);
  }

  /** Uploads everything pending and pulls to the head (tests, a "sync now" button). Throws if central is unreachable. */
  syncNow(): Promise<void> {
    if (this.disposed) return Promise.reject(new Error('sync has been disposed'));
    return this.track(this.syncRound());
  }

  private async syncRound(): Promise<void> {
    try {
      await this.syncSteps();
    } catch (error) {
      this.failed(error); // the status says offline, as after a failed background round
      throw error;
    }
  }

  private async syncSteps(): Promise<void> {
    await this.uploading?.catch(() => {});
    for (;;) {
      const more = await this.uploadBatch();
      if (!more) break;
    }
    await this.pulling?.catch(() => {});
    await this.pullAll();
  }

  /**
   * Stops: no new round starts, the socket closes, and the rounds in flight (an upload, a pull, a
   * `syncNow`) finish against the still-open store — after `waitMs` their requests are aborted.
   * Resolves when none is left: the store may be closed then.
   */
  async dispose(waitMs = this.options.disposeWaitMs ?? 10_000): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.timers.clearTimeout(this.uploadTimer);
    this.timers.clearTimeout(this.pullTimer);
    this.timers.clearTimeout(this.socketTimer);
    this.socket?.terminate();
    this.socket = undefined;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), waitMs)));
    if ((await Promise.race([this.idle().then(() => 'idle' as const), late])) === 'late') {
      this.log.warn({ waitedMs: waitMs }, 'sync still running at dispose: its requests are aborted');
      this.abort.abort();
      await this.idle();
    }
    clearTimeout(timer);
    this.pendingSubscription?.dispose();
    this.statusEmitter.dispose();
  }

  /** Resolves when no work is in flight. */
  private async idle(): Promise<void> {
    while (this.work.size > 0) await Promise.allSettled([...this.work]);
  }

  /** Counts `p` as work in flight until it settles. */
  private track<T>(p: Promise<T>): Promise<T> {
    const settled = p.then(() => {}, () => {}).finally(() => this.work.delete(settled));
    this.work.add(settled);
    return p;
  }

  // ── central ────────────────────────────────────────────────────────────────────────────────

  private get baseUrl(): string {
    return this.options.centralUrls[this.urlIndex % this.options.centralUrls.length]!;
  }

  private async client(): Promise<CentralClient> {
    const baseUrl = this.baseUrl;
    const token = await this.options.auth.token(baseUrl);
    return createCentralClient(baseUrl, { token, fetch: this.fetchFn });
  }

  /** Runs a call; maps failures to {@link CentralCallError}, rotating URLs on network failures. */
  private async call<T>(fn: (c: CentralClient) => Promise<{ data?: T; error?: unknown; response: Response }>, retried = false): Promise<T> {
    let result: { data?: T; error?: unknown; response: Response };
    try {
      result = await fn(await this.client());
    } catch (error) {
      if (error instanceof CentralCallError) throw error;
      this.urlIndex++;
      throw new CentralCallError(`central unreachable: ${(error as Error).message}`, null);
    }
    if (result.response.ok && result.data !== undefined) return result.data;
    const status = result.response.status;
    if (status === 401) {
      // The token ran out or central's signing key changed: once more with a new one (a terminal
      // central no longer takes is refused the new token, which says so).
      this.options.auth.invalidate();
      if (!retried) return this.call(fn, true);
    }
    if (status >= 500) this.urlIndex++;
    throw new CentralCallError(`central answered ${status}: ${JSON.stringify(result.error)}`, status);
  }

  // ── upload ─────────────────────────────────────────────────────────────────────────────────

  private scheduleUpload(ms: number): void {
    if (this.disposed || !this.started) return;
    this.timers.clearTimeout(this.uploadTimer);
    this.uploadTimer = this.timers.setTimeout(() => void this.track(this.runUpload()), ms);
  }

  private async runUpload(): Promise<void> {
    if (this.disposed || this.uploading) return;
    let next = this.options.idleCheckMs ?? 5000;
    this.uploading = (async () => {
      try {
        const more = await this.uploadBatch();
        this.uploadFailures = 0;
        if (more) next = 0;
      } catch (error) {
        next = this.backoff(++this.uploadFailures);
        this.failed(error);
      }
    })();
    await this.uploading;
    this.uploading = undefined;
    this.scheduleUpload(next);
  }

  /**
   * Terminal restore, once per store before its first upload: a store central has acknowledged
   * nothing from, for a terminal central already knows (`nextSeq` > 1), was wiped or replaced. Its
   * new ops must follow central's sequence, and its own ops come back for local statistics and
   * history; ops recorded meanwhile stay queued (moved up behind central's). `spec/sync.md` §6.
   */
  private async restoreOnce(): Promise<void> {
    if (this.restoreChecked || (await this.store.getMeta(RESTORE_CHECKED)) !== undefined) {
      this.restoreChecked = true;
      return;
    }
    if (!(await this.store.hasAcknowledgedOps())) {
      const first = await this.call((c) => c.GET('/v1/sync/terminal-ops', { params: { query: { after: 0, limit: 1 } } }));
      if (first.nextSeq > 1) {
        await this.store.write((trx) => this.store.continueFrom(trx, first.nextSeq));
        let after = 0;
        let restored = 0;
        for (;;) {
          const page = await this.call((c) => c.GET('/v1/sync/terminal-ops', { params: { query: { after, limit: 1000 } } }));
          await this.store.write((trx) => this.store.restoreOps(trx, page.items.map(fromWireOp)));
          restored += page.items.length;
          if (!page.hasMore || page.items.length === 0) break;
          after = page.items.at(-1)!.termSeq;
        }
        this.log.info({ nextSeq: first.nextSeq, restored }, 'terminal restored from central: its ops are back and new ones follow central');
      }
    }
    await this.store.setMeta(RESTORE_CHECKED, new Date(this.clock.now()).toISOString());
    this.restoreChecked = true;
  }

  /** One batch; true if more may be waiting. */
  private async uploadBatch(): Promise<boolean> {
    await this.restoreOnce();
    const limit = this.batchLimit;
    const ops = await this.store.pendingOps(limit);
    if (ops.length === 0) {
      this.batchLimit = this.batchSize;
      await this.refreshStatus();
      return false;
    }
    const pending = await this.store.pendingCount();
    const cursor = Number((await this.store.getMeta(CURSOR)) ?? 0);
    let result: Schemas['SyncBatchResult'];
    try {
      result = await this.call((c) =>
        c.POST('/v1/sync/batches', {
          body: { ops: ops.map(toWireOp), deviceTime: new Date(this.clock.now()).toISOString(), pendingOps: pending, cursor },
        }),
      );
    } catch (error) {
      // Ops with large payloads can make a batch larger than central takes: the same batch would be
      // refused forever, so smaller ones go at once instead (down to a single op).
      if (error instanceof CentralCallError && error.status === 413 && ops.length > 1) {
        this.batchLimit = Math.max(1, Math.floor(ops.length / 2));
        this.log.warn({ ops: ops.length, next: this.batchLimit }, 'central refused the batch as too large: sending smaller ones');
        return true;
      }
      throw error;
    }
    const answered = result.results.filter((r) => r.outcome !== 'deferred').map((r) => r.opId);
    for (const r of result.results) {
      if (r.outcome === 'rejected') this.log.warn({ opId: r.opId, termSeq: r.termSeq, reason: r.reason }, 'central parked an op');
    }
    // Acknowledged ops leave the outbox even when dispose came meanwhile: it waits for this round.
    await this.store.ack(answered);
    // Central expects a seq below our oldest queued op: it lost ops we had (it was restored from a
    // backup). Queue them again from the ops table, which keeps every op.
    if (result.expectedSeq < ops[0]!.termSeq) await this.requeueFrom(result.expectedSeq);
    this.succeeded(result.head);
    if (result.head > this.state.cursor) this.schedulePull(0);
    await this.refreshStatus();
    if (this.disposed) return false;
    return ops.length === limit || result.results.some((r) => r.outcome === 'deferred') || result.expectedSeq < ops[0]!.termSeq;
  }

  private requeueFrom(termSeq: number): Promise<void> {
    return this.store.requeueFrom(termSeq);
  }

  // ── pull ───────────────────────────────────────────────────────────────────────────────────

  private schedulePull(ms: number): void {
    if (this.disposed || !this.started) return;
    if (this.pulling) {
      this.pullAgain = true;
      return;
    }
    this.timers.clearTimeout(this.pullTimer);
    this.pullTimer = this.timers.setTimeout(() => void this.track(this.runPull()), ms);
  }

  private async runPull(): Promise<void> {
    if (this.disposed || this.pulling) return;
    let next = this.options.pullIntervalMs ?? 60_000;
    this.pulling = (async () => {
      try {
        await this.pullAll();
        this.pullFailures = 0;
      } catch (error) {
        next = Math.min(next, this.backoff(++this.pullFailures));
        this.failed(error);
      }
    })();
    await this.pulling;
    this.pulling = undefined;
    if (this.pullAgain) {
      this.pullAgain = false;
      next = 0;
    }
    this.schedulePull(next);
  }

  /** Pulls pages until the head; a reset replaces the replica from the snapshot. */
  private async pullAll(): Promise<void> {
    const limit = this.options.pullLimit ?? 1000;
    let extra = 0;
    for (;;) {
      const cursor = Number((await this.store.getMeta(CURSOR)) ?? 0);
      const blacklistCursor = Number((await this.store.getMeta(BLACKLIST_CURSOR)) ?? 0);
      const page = await this.call((c) => c.GET('/v1/sync/changes', { params: { query: { cursor, blacklistCursor, limit } } }));
      // Another log id: central was restored from a backup and our cursors point into a log it no
      // longer has (ids past its restored head are being used again). None stored yet (a terminal
      // from before log ids): adopt this one with the page.
      const logId = await this.store.getMeta(LOG_ID);
      if (page.reset || (logId !== undefined && logId !== page.logId)) {
        if (!page.reset) this.log.warn({ stored: logId, central: page.logId }, "central's change log is another one (restored from a backup): resetting");
        await this.resetFromSnapshot();
        continue;
      }
      await this.store.write(async (trx) => {
        // The blacklist first: it is what a till must enforce soonest.
        for (const change of [...page.blacklist, ...page.items]) await applyChange(trx, change, await this.cinemaId(trx));
        this.options.beforeCursorSave?.();
        await this.store.setMeta(CURSOR, String(page.cursor), trx);
        await this.store.setMeta(BLACKLIST_CURSOR, String(page.blacklistCursor), trx);
        await this.store.setMeta(LOG_ID, page.logId, trx);
      });
      this.state = { ...this.state, cursor: page.cursor };
      this.succeeded(page.head);
      if (this.disposed) return; // dispose waits for this page, not for the rest
      // A poke may have announced more than this page's answer knew of: pull again (bounded).
      if (!page.hasMore && (this.state.head <= page.cursor || ++extra > 3)) return;
    }
  }

  private async resetFromSnapshot(): Promise<void> {
    const pages: Schemas['SyncSnapshot'][] = [];
    let after: string | undefined;
    do {
      const page = await this.call((c) => c.GET('/v1/sync/snapshot', { params: { query: { ...(after ? { after } : {}), limit: 2000 } } }));
      pages.push(page);
      after = page.nextAfter ?? undefined;
    } while (after);
    const first = pages[0]!;
    await this.store.write(async (trx) => {
      await trx('blacklist').del();
      for (const entry of first.blacklist) await applyBlacklist(trx, entry);
      const cinemaId = await this.cinemaId(trx);
      if (first.rules.cinemaId === cinemaId) await applyRules(trx, first.rules);
      for (const page of pages) for (const card of page.cards) await applyCard(trx, card);
      await this.store.setMeta(CURSOR, String(first.cursor), trx);
      await this.store.setMeta(BLACKLIST_CURSOR, String(first.blacklistCursor), trx);
      await this.store.setMeta(LOG_ID, first.logId, trx);
    });
    this.log.info({ cursor: first.cursor }, 'replica reset from the snapshot');
  }

  private async cinemaId(trx: Knex.Transaction): Promise<string | undefined> {
    return this.store.getMeta('cinema_id', trx);
  }

  // ── pokes ──────────────────────────────────────────────────────────────────────────────────

  private connectSocket(): void {
    if (this.disposed) return;
    const baseUrl = this.baseUrl;
    void this.track(this.options.auth.token(baseUrl))
      .then((token) => {
        if (this.disposed) return;
        const ws = new WebSocket(baseUrl.replace(/^http/, 'ws') + SYNC_SOCKET_PATH, {
          headers: { authorization: `Bearer ${token}` },
          ...(this.options.ca !== undefined ? { ca: this.options.ca } : {}),
        });
        this.socket = ws;
        ws.on('open', () => (this.socketFailures = 0));
        ws.on('message', (data) => {
          const message = parseSyncMessage(String(data));
          if (!message) return;
          if (message.type === 'blacklist') {
            void this.track(this.applyBlacklistDelta(message)).catch((error: unknown) => this.log.warn({ error: String(error) }, 'blacklist delta not applied; the pull brings it'));
            return;
          }
          this.state = { ...this.state, head: Math.max(this.state.head, message.head) };
          if (this.disposed) return;
          void this.track(Promise.all([this.store.getMeta(BLACKLIST_CURSOR), this.store.getMeta(LOG_ID)])).then(([bl, logId]) => {
            const otherLog = message.type === 'welcome' && message.logId !== undefined && logId !== undefined && logId !== message.logId;
            if (otherLog || message.head > this.state.cursor || message.blacklistVersion > Number(bl ?? 0)) this.schedulePull(0);
          }, () => {});
        });
        ws.on('unexpected-response', () => this.options.auth.invalidate());
        ws.on('error', () => {});
        ws.on('close', () => {
          if (this.socket !== ws || this.disposed) return;
          this.socket = undefined;
          this.urlIndex++;
          this.socketTimer = this.timers.setTimeout(() => this.connectSocket(), this.backoff(++this.socketFailures));
        });
      })
      .catch(() => {
        this.urlIndex++;
        this.socketTimer = this.timers.setTimeout(() => this.connectSocket(), this.backoff(++this.socketFailures));
      });
  }

  /**
   * A blacklist change carried by the socket (`spec/sync.md` §5): applied with the blacklist cursor
   * in one local transaction when it follows on from that cursor; otherwise the pull brings it.
   */
  private async applyBlacklistDelta(delta: SyncBlacklistDelta): Promise<void> {
    if (this.disposed) return;
    await this.store.write(async (trx) => {
      const cursor = Number((await this.store.getMeta(BLACKLIST_CURSOR, trx)) ?? 0);
      if (cursor < delta.after || cursor >= delta.upTo) return;
      for (const { id, ...entry } of delta.entries) if (id > cursor) await applyBlacklist(trx, entry);
      await this.store.setMeta(BLACKLIST_CURSOR, String(delta.upTo), trx);
    });
  }

  // ── status ─────────────────────────────────────────────────────────────────────────────────

  private backoff(failures: number): number {
    const initial = this.options.backoffInitialMs ?? 1000;
    const max = this.options.backoffMaxMs ?? 60_000;
    const delay = Math.min(max, initial * 2 ** Math.min(failures - 1, 20));
    return Math.round(delay / 2 + (Math.random() * delay) / 2);
  }

  private succeeded(head: number): void {
    this.state = {
      ...this.state,
      offline: false,
      problem: null,
      lastError: null,
      lastSuccessAt: new Date(this.clock.now()).toISOString(),
      head: Math.max(this.state.head, head),
    };
    this.fireStatus();
  }

  private fireStatus(): void {
    this.statusEmitter.fire(this.status);
  }

  private failed(error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    this.log.warn({ error: message }, 'sync attempt failed');
    this.state = { ...this.state, offline: true, problem: problemOf(error), lastError: message };
    this.fireStatus();
  }

  /** Reads the outbox's size (another process may have written it) and the cursor again. */
  private async refreshStatus(): Promise<void> {
    const pendingOps = await this.store.recountPending(); // fires through onPendingChanged if it changed
    const cursor = Number((await this.store.getMeta(CURSOR)) ?? 0);
    if (cursor === this.state.cursor) return;
    this.state = { ...this.state, pendingOps, cursor };
    this.fireStatus();
  }
}

// ── applying pulled items to the terminal store ──────────────────────────────────────────────

async function applyChange(trx: Knex.Transaction, change: Schemas['SyncChange'], cinemaId: string | undefined): Promise<void> {
  if (change.blacklist) await applyBlacklist(trx, change.blacklist);
  else if (change.card) await applyCard(trx, change.card);
  else if (change.rules && change.rules.cinemaId === cinemaId) await applyRules(trx, change.rules);
}

async function applyBlacklist(trx: Knex.Transaction, entry: Schemas['SyncBlacklistEntry']): Promise<void> {
  if (entry.listed) {
    await trx('blacklist').insert({ card_no: entry.cardNo, reason: entry.reason, listed_at: entry.at }).onConflict('card_no').merge();
  } else {
    await trx('blacklist').where({ card_no: entry.cardNo }).del();
  }
}

/** Central's state of a card, unless this terminal has seen the card at a later seq itself. */
async function applyCard(trx: Knex.Transaction, card: Schemas['SyncCardState']): Promise<void> {
  await trx.raw(
    `INSERT INTO cards (card_no, uid, card_type_id, state, remaining, expiry, issue_epoch, last_seq, recycled_reason, recycled_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (card_no) DO UPDATE SET uid = excluded.uid, card_type_id = excluded.card_type_id, state = excluded.state,
       remaining = excluded.remaining, expiry = excluded.expiry, issue_epoch = excluded.issue_epoch, last_seq = excluded.last_seq,
       recycled_reason = excluded.recycled_reason, recycled_at = excluded.recycled_at, updated_at = excluded.updated_at
     WHERE cards.last_seq IS NULL OR cards.last_seq <= excluded.last_seq`,
    [card.cardNo, card.uid, card.cardTypeId, card.state, card.remainingUses, card.expiresAt, card.issueEpoch, card.appliedSeq, card.recycledReason, card.recycledAt, new Date().toISOString()],
  );
}

async function applyRules(trx: Knex.Transaction, rules: Schemas['SyncRulesState']): Promise<void> {
  await trx.raw(
    `INSERT INTO redemption_rules (cinema_id, version, rules) VALUES (?, ?, ?)
     ON CONFLICT (cinema_id) DO UPDATE SET version = excluded.version, rules = excluded.rules WHERE redemption_rules.version <= excluded.version`,
    [rules.cinemaId, rules.version, JSON.stringify(rules.rules)],
  );
}

/** A {@link TerminalAuth} from the terminal's enrolment credential (`POST /v1/auth/terminal-token`). */
export class TerminalCredentialAuth {
  private cached: { token: string; url: string; until: number } | undefined;

  constructor(
    private readonly terminalId: string,
    private readonly secret: string,
    private readonly clock: Clock = systemClock,
    private readonly fetchFn?: typeof fetch,
  ) {}

  async token(baseUrl: string): Promise<string> {
    const now = this.clock.now();
    if (this.cached && this.cached.url === baseUrl && this.cached.until > now) return this.cached.token;
    const client = createCentralClient(baseUrl, this.fetchFn ? { fetch: this.fetchFn } : {});
    const { data, response } = await client.POST('/v1/auth/terminal-token', { body: { terminalId: this.terminalId, secret: this.secret } });
    if (!data) throw new CentralCallError(`terminal token refused: ${response.status}`, response.status);
    // Renew a minute before it runs out.
    this.cached = { token: data.accessToken, url: baseUrl, until: now + Math.max(0, data.expiresIn * 1000 - 60_000) };
    return data.accessToken;
  }

  invalidate(): void {
    this.cached = undefined;
  }
}
