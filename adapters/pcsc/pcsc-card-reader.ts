/**
 * {@link CardReader} over pcsc-mini → pcscd (real readers, and vpcd for the emulated card).
 *
 * What it guards against (reference §1 and §5):
 * - pcsc-mini's Card throws synchronously when a second call starts while one is pending
 *   (`CardIsBusy`) or the handle is gone: every call runs through a per-card {@link SerialQueue} and
 *   is awaited inside `try`, so nothing escapes as anything but a {@link CardIoError}.
 * - A card that never answers pins SCardTransmit, and a libuv worker with it: every call has a
 *   timeout (`card_mute`); after one the handle is poisoned — never called again, disconnected only
 *   once the stuck call has come back.
 * - The ATR in change events is wrong: it is read from `card.state()` after connecting.
 * - A removal can arrive as EMPTY|EXCLUSIVE: `!PRESENT` is handled before anything else.
 * - Stopping a monitoring pcsc-mini Client can block its thread until the next reader event, or
 *   for as long as pcscd does not answer (see reader-monitor.ts): reader events come from a Client
 *   in a child process ({@link ReaderMonitor}), which is killed, never stopped, when this reader
 *   is disposed. Cards are connected here, through a Client that is never started.
 * - pcsc-mini's Client cannot recover from pcscd dying: on a monitor error every Reader and Card is
 *   dropped, and a new monitoring Client started with backoff until pcscd is back.
 * - A card taken away and put back between two of pcscd's presence polls (vpcd: ~400 ms) never
 *   reads as absent: after a session ends in `card_removed` while pcscd still says PRESENT, the
 *   reader probes (connect + reset) and reports whatever card answers as a new tap.
 * - Another application resetting the card (`ResetCard`): one call fails (`transmit_failed`, code
 *   `ResetCard`: authenticate again), the handle reconnects, the session goes on.
 *
 * After `card_mute` the session stays until the card leaves, but every call on it rejects
 * `card_mute` at once: the cashier has to lift the card and tap it again.
 */
import { CardReaderEvents } from '../card-reader-events.ts';
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { CardDisposition, CardMode, Reader, ReaderStatus, ReaderStatusFlags, type Card, type Err } from 'pcsc-mini';
import pcscAddon from 'pcsc-mini/build/addon.node.js';
import {
  CardIoError,
  type CardIoErrorKind,
  type CardReader,
  type CardSession,
  type ReaderServiceState,
  type TransmitOptions,
} from '../card-reader.ts';
import { SerialQueue } from '../serial-queue.ts';
import { ReaderMonitor } from './reader-monitor.ts';

export interface PcscCardReaderOptions {
  /** Default timeout of every call to a card (transmit, reset, connect), ms. Default 2000. */
  readonly timeoutMs?: number;
  /** Backoff while the reader service is down: first and longest delay between attempts, ms. */
  readonly restartDelayMs?: { readonly initial: number; readonly max: number };
  /** How long `start()` waits for the first readers to be reported, ms. Default 500. */
  readonly startWaitMs?: number;
  /** How long starting to watch readers may take (the monitor process's start included), ms. Default 10000. */
  readonly monitorStartTimeoutMs?: number;
  /** Diagnostics (errors that were handled, service restarts). Default: none. */
  readonly log?: (message: string, detail?: Record<string, unknown>) => void;
}

/** While probing for a card pcscd may not have seen leave: interval and number of attempts. */
const PROBE_INTERVAL_MS = 100;
const PROBE_ATTEMPTS = 100;

/** Monitor errors that mean pcscd itself went away (pcsc-mini reports a shutdown as Shutdown/SystemCancelled). */
const SERVICE_GONE = new Set(['CommError', 'NoService', 'Shutdown', 'SystemCancelled']);

/** pcsc-mini error codes (its `Err.code`), mapped to the contract's closed set of kinds. */
const ERROR_KINDS: Record<string, CardIoErrorKind> = {
  RemovedCard: 'card_removed',
  NotTransacted: 'card_removed',
  NoSmartCard: 'card_removed',
  NoCardConnection: 'card_removed',
  ResetCard: 'transmit_failed',
  ReaderUnavailable: 'reader_gone',
  UnknownReader: 'reader_gone',
  NoService: 'service_down',
  CommError: 'service_down',
  SharingViolation: 'sharing_violation',
};

const MESSAGES: Record<CardIoErrorKind, string> = {
  card_removed: 'The card was taken away.',
  reader_gone: 'The card reader is gone.',
  service_down: 'The smart card service is not running.',
  card_mute: 'The card did not answer in time.',
  sharing_violation: 'Another application holds the card.',
  transmit_failed: 'The card command failed.',
};

/** Maps anything pcsc-mini throws or rejects with to a {@link CardIoError}. */
export function toCardIoError(e: unknown): CardIoError {
  if (e instanceof CardIoError) return e;
  const code = typeof (e as Err | undefined)?.code === 'string' ? (e as Err).code : undefined;
  const kind = (code && ERROR_KINDS[code]) || 'transmit_failed';
  return new CardIoError(kind, MESSAGES[kind], code, { cause: e });
}

/** pcsc-lite keeps a per-reader card event counter in the upper 16 bits of the event state. */
const eventCounter = (status: ReaderStatusFlags) => status.raw >>> 16;

/** A deferred rejection that ends every pending call of a session at once. */
class Ending {
  readonly promise: Promise<never>;
  reject!: (e: CardIoError) => void;
  constructor() {
    this.promise = new Promise<never>((_, reject) => (this.reject = reject));
    this.promise.catch(() => {}); // observed by races only
  }
}

class PcscSession implements CardSession {
  readonly id = randomUUID();
  present = true;
  private readonly queue = new SerialQueue();
  private readonly ending = new Ending();
  /** The native call in flight, if any: a handle may be called again (or disconnected) only after it. */
  private inflight: Promise<unknown> = Promise.resolve();
  /** Set after a timeout: the handle is stuck in a native call and must not be used again. */
  private poisoned = false;
  /** A native call is running on the handle. */
  private busy = false;

  constructor(
    readonly reader: string,
    readonly atr: Uint8Array,
    /** pcsc-lite's card event counter when this card was connected. */
    readonly counter: number,
    private card: Card | undefined,
    private readonly timeoutMs: number,
    private readonly onFailure: (session: PcscSession, e: CardIoError) => void,
  ) {}

  transmit(apdu: Uint8Array, options?: TransmitOptions): Promise<Uint8Array> {
    const copy = Uint8Array.from(apdu);
    return this.call(async (card) => {
      const response = await card.transmit(copy);
      // No status word: the card gave no answer. vpcd reports a card that left mid-APDU this way.
      if (response.length < 2) throw new CardIoError('card_removed', 'The card did not answer; it was probably taken away.', 'NoResponse');
      return response;
    }, options?.timeoutMs);
  }

  reset(): Promise<void> {
    return this.call(async (card) => {
      await card.reconnect(CardMode.SHARED, CardDisposition.RESET);
    });
  }

  /** Ends the session: pending and later calls reject with `kind`; the handle is let go. */
  end(kind: CardIoErrorKind, code?: string, disposition = CardDisposition.LEAVE): void {
    if (!this.present) return;
    this.present = false;
    this.ending.reject(new CardIoError(kind, MESSAGES[kind], code));
    const card = this.card;
    this.card = undefined;
    if (!card) return;
    // Disconnect only after the call in flight (pcsc-mini throws CardIsBusy otherwise) — for a
    // poisoned handle, whenever its stuck call comes back, which frees its slot in pcsc-mini's pool.
    // With nothing in flight, start it now, synchronously: dispose() relies on that (see there).
    if (this.busy) void this.inflight.finally(() => disconnectQuietly(card, disposition));
    else void disconnectQuietly(card, disposition);
  }

  private call<T>(op: (card: Card) => Promise<T>, timeoutMs = this.timeoutMs): Promise<T> {
    return this.queue.run(async () => {
      try {
        return await this.runNative(op, timeoutMs);
      } catch (e) {
        const err = toCardIoError(e);
        if (err.code === 'ResetCard' && this.present) {
          // Another application reset the card: this handle must reconnect before anything else
          // works, and the caller must authenticate again (the reset ended its MIFARE session).
          try {
            await this.runNative((card) => card.reconnect(CardMode.SHARED, CardDisposition.LEAVE), timeoutMs);
          } catch (e2) {
            this.fail(toCardIoError(e2));
          }
          throw new CardIoError('transmit_failed', 'Another application reset the card; authenticate again.', 'ResetCard', { cause: e });
        }
        this.fail(err);
        throw err;
      }
    });
  }

  private fail(err: CardIoError): void {
    if (err.kind === 'card_mute') this.poisoned = true;
    else if (this.present) this.onFailure(this, err);
  }

  /** One native call on the handle, with the timeout, ended early when the session ends. */
  private async runNative<T>(op: (card: Card) => Promise<T>, timeoutMs: number): Promise<T> {
    if (!this.present) throw new CardIoError('card_removed', MESSAGES.card_removed);
    if (this.poisoned || !this.card) throw new CardIoError('card_mute', 'The card stopped answering; take it away and tap it again.');
    const card = this.card;
    let timer: NodeJS.Timeout | undefined;
    try {
      const native = op(card); // may throw synchronously (CardIsBusy, NoCardConnection)
      this.busy = true;
      this.inflight = native.then(
        () => void (this.busy = false),
        () => void (this.busy = false),
      );
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new CardIoError('card_mute', `The card did not answer within ${timeoutMs} ms.`)), timeoutMs);
      });
      return await Promise.race([native, timeout, this.ending.promise]);
    } finally {
      clearTimeout(timer);
    }
  }
}

interface ReaderSlot {
  readonly name: string;
  session: PcscSession | undefined;
  /** Last status seen: whether a card is present, and pcsc-lite's event counter. */
  present: boolean;
  counter: number;
  /** Connects run one at a time per reader. */
  readonly connects: SerialQueue;
}

/** pcsc-mini's native Client: here only ever used to connect cards, never started. */
type Connector = ReturnType<typeof pcscAddon.newClient>;

/**
 * Every connector made, kept for the life of the process: pcsc-mini keeps a Client's card handles
 * (4) inside the Client, and frees them with it when it is collected — under any card call still in
 * flight, a stuck one included. One small object per reader, and per exhausted pool.
 */
const connectors: Connector[] = [];

function newConnector(): Connector {
  const connector = pcscAddon.newClient(); // no PC/SC context until a card is connected
  connectors.push(connector);
  return connector;
}

export class PcscCardReader extends CardReaderEvents implements CardReader {
  private readonly timeoutMs: number;
  private readonly restartDelay: { initial: number; max: number };
  private readonly startWaitMs: number;
  private readonly log: (message: string, detail?: Record<string, unknown>) => void;
  private readonly monitor: ReaderMonitor;
  /** Connects cards; replaced when its handles run out (one leaked per failed disconnect). */
  private connector: Connector = newConnector();
  /** The monitor has a running Client: its reader events are current. */
  private monitoring = false;
  /** Counts the monitor's successful starts: which run a deferred recycle was meant for. */
  private monitorRun = 0;
  /** A start of the monitor is waiting for its answer. */
  private monitorStarting = false;
  private readonly slots = new Map<string, ReaderSlot>();
  private restartTimer: NodeJS.Timeout | undefined;
  private restartDelayNow: number;
  private started = false;
  private disposed = false;
  private state: ReaderServiceState = 'down';
  private readerSeen: (() => void) | undefined;
  /** Ends `start()`'s wait for the first readers (also on dispose, so no timer is left behind). */
  private endStartWait: (() => void) | undefined;
  /** Resolves `start()`'s wait for the first answer of the monitor. */
  private monitorAnswered: (() => void) | undefined;
  private readonly disposal = new AbortController();

  constructor(options: PcscCardReaderOptions = {}) {
    super();
    this.timeoutMs = options.timeoutMs ?? 2000;
    this.restartDelay = { initial: 100, max: 2000, ...options.restartDelayMs };
    this.restartDelayNow = this.restartDelay.initial;
    this.startWaitMs = options.startWaitMs ?? 500;
    this.log = options.log ?? (() => {});
    this.monitor = new ReaderMonitor(
      {
        started: (code) => this.onMonitorStarted(code),
        reader: (name) => this.onReader(name),
        change: (name, raw) => this.onChange(name, new ReaderStatusFlags(raw)),
        gone: (name) => {
          const slot = this.slots.get(name);
          if (slot) this.removeSlot(slot, 'reader_gone');
        },
        failed: (code) => this.onMonitorFailed(code),
      },
      { startTimeoutMs: options.monitorStartTimeoutMs, log: this.log },
    );
  }

  get readers(): readonly string[] {
    return [...this.slots.keys()];
  }

  get serviceState(): ReaderServiceState {
    return this.state;
  }

  /** The session of the card on `reader` now, if any. */
  sessionOn(reader: string): CardSession | undefined {
    const s = this.slots.get(reader)?.session;
    return s?.present ? s : undefined;
  }

  /** The pid of the process that watches the readers, while there is one (for tests). */
  get monitorPid(): number | undefined {
    return this.monitor.pid;
  }

  async start(): Promise<void> {
    if (this.started || this.disposed) return;
    this.started = true;
    // Resolve once the first batch of readers has been reported: pcsc-mini reports the readers
    // present at start together, right after it started; with none (or pcscd down) give up after a while.
    let quiet: NodeJS.Timeout | undefined;
    let limit: NodeJS.Timeout | undefined;
    const seen = new Promise<void>((resolve) => {
      this.endStartWait = () => {
        clearTimeout(limit);
        clearTimeout(quiet);
        resolve();
      };
    });
    this.readerSeen = () => {
      clearTimeout(quiet);
      quiet = setTimeout(() => this.endStartWait?.(), 30);
    };
    // First the monitor's answer (its process starts meanwhile), then the readers it reports.
    await new Promise<void>((resolve) => {
      this.monitorAnswered = resolve;
      this.startMonitor();
    });
    this.monitorAnswered = undefined;
    if (!this.disposed) limit = setTimeout(() => this.endStartWait?.(), this.startWaitMs);
    await seen;
    this.readerSeen = undefined;
    this.endStartWait = undefined;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.disposal.abort();
    clearTimeout(this.restartTimer);
    this.monitoring = false;
    // Our cards are let go with a reset, so that whoever uses the card next finds no
    // authentication of ours still open on it. The disconnects run on the thread pool.
    this.dropReaders('reader_gone', CardDisposition.RESET);
    // Killed, not stopped: nothing here waits for pcscd (reader-monitor.ts).
    this.monitor.dispose();
    this.endStartWait?.();
    this.monitorAnswered?.();
    this.disposeEvents();
  }

  private setService(state: ReaderServiceState): void {
    if (this.state === state) return;
    this.state = state;
    this.log(`reader service ${state}`);
    this.serviceChanged.fire(state);
  }

  private startMonitor(): void {
    if (this.disposed || this.monitoring || this.monitorStarting) return;
    this.monitorStarting = true;
    this.monitor.start();
  }

  /** The monitor's answer to a start: runs before any reader event of the new Client. */
  private onMonitorStarted(code: string | undefined): void {
    this.monitorStarting = false;
    if (!this.disposed) {
      if (code === undefined) {
        this.monitoring = true;
        this.monitorRun++;
        this.restartDelayNow = this.restartDelay.initial;
        this.setService('up');
      } else {
        this.log('reader service unavailable', { code });
        this.setService('down');
        this.scheduleRestart();
      }
    }
    this.monitorAnswered?.();
  }

  private scheduleRestart(): void {
    if (this.disposed || this.restartTimer) return;
    const delay = this.restartDelayNow;
    this.restartDelayNow = Math.min(this.restartDelay.max, delay * 2);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      this.startMonitor();
    }, delay);
  }

  /** The monitor loop died (pcscd gone, or an event overflow, or its process): that Client is done for. */
  private onMonitorFailed(code: string): void {
    if (!this.monitoring) return;
    this.log('reader monitor failed', { code });
    this.recycleMonitor(SERVICE_GONE.has(code));
  }

  private recycleMonitor(serviceDown: boolean): void {
    if (!this.monitoring) return;
    this.monitoring = false;
    this.dropReaders(serviceDown ? 'service_down' : 'reader_gone');
    this.monitor.recycle();
    if (serviceDown) this.setService('down');
    this.scheduleRestart();
  }

  private dropReaders(kind: CardIoErrorKind, disposition?: CardDisposition): void {
    for (const slot of [...this.slots.values()]) this.removeSlot(slot, kind, disposition);
  }

  private removeSlot(slot: ReaderSlot, kind: CardIoErrorKind, disposition?: CardDisposition): void {
    if (this.slots.get(slot.name) !== slot) return;
    this.slots.delete(slot.name);
    slot.present = false;
    this.endSession(slot, kind, undefined, disposition);
    this.readerRemoved.fire(slot.name);
  }

  private onReader(name: string): void {
    if (!this.monitoring) return;
    const old = this.slots.get(name);
    if (old) this.removeSlot(old, 'reader_gone');
    const slot: ReaderSlot = { name, session: undefined, present: false, counter: -1, connects: new SerialQueue() };
    this.slots.set(name, slot);
    this.readerAdded.fire(name);
    this.readerSeen?.();
  }

  private onChange(name: string, status: ReaderStatusFlags): void {
    const slot = this.slots.get(name);
    if (!this.monitoring || !slot) return;
    this.log('reader status', { reader: slot.name, status: status.toString(), counter: eventCounter(status) });
    // Absence first: after an EXCLUSIVE connection, removal reads EMPTY|EXCLUSIVE.
    if (!status.has(ReaderStatus.PRESENT)) {
      slot.present = false;
      this.endSession(slot, 'card_removed');
      return;
    }
    if (status.has(ReaderStatus.MUTE)) {
      // A card that gave no ATR: nothing to talk to until it is presented again.
      slot.present = false;
      this.endSession(slot, 'card_removed');
      return;
    }
    const counter = eventCounter(status);
    slot.present = true;
    if (slot.session?.present && slot.session.counter === counter) return; // our own IN_USE etc.
    if (slot.counter === counter && !slot.session) return; // its session ended in an error: probing
    slot.counter = counter;
    if (slot.session?.present) this.endSession(slot, 'card_removed'); // swapped within one poll
    void slot.connects.run(() => this.connect(slot, counter, false));
  }

  /**
   * Connects to the card and reports it. `probing`: the previous session of this presence ended in
   * an error saying the card left, but pcscd still says PRESENT — it polls some readers (vpcd every
   * ~400 ms) and a card taken away and put back between two polls never reads as absent. So keep
   * trying until a card answers (reported as a new tap) or pcscd reports the reader empty.
   */
  private async connect(slot: ReaderSlot, counter: number, probing: boolean): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      if (probing) await this.sleep(PROBE_INTERVAL_MS);
      if (!this.isCurrent(slot, counter) || slot.session) return;
      let card: Card | undefined;
      const connecting = new Reader(this.connector, slot.name).connect(CardMode.SHARED);
      try {
        card = await withDeadline(connecting, this.timeoutMs, this.disposal.signal);
        // Probing, connect alone proves nothing: pcscd still believes the old card is powered and
        // lets us in without asking the reader. A reset has to reach the card.
        if (probing) await withDeadline(card.reconnect(CardMode.SHARED, CardDisposition.RESET), this.timeoutMs, this.disposal.signal);
        const state = await withDeadline(card.state(), this.timeoutMs, this.disposal.signal);
        if (!this.isCurrent(slot, counter)) {
          await disconnectQuietly(card);
          return;
        }
        const session = new PcscSession(slot.name, Uint8Array.from(state.atr), counter, card, this.timeoutMs, (s, e) =>
          this.onSessionFailure(slot, s, e),
        );
        slot.session = session;
        this.cardPresent.fire(session);
        return;
      } catch (e) {
        const err = toCardIoError(e);
        this.log('connect failed', { reader: slot.name, code: err.code ?? err.kind });
        if (err.code === 'timeout' || err.code === 'disposed') {
          // The native call is still running: let go of its card whenever it comes back.
          void connecting.then((c) => disconnectQuietly(c), () => {});
        } else if (card) {
          await disconnectQuietly(card);
        }
        if (err.kind === 'service_down') return this.recycleSoon();
        // pcsc-mini holds 4 card handles per Client, and a handle whose disconnect failed is never
        // freed: a fresh connector has a fresh pool (the old one's cards go on as they are).
        if (err.code === 'TooManyCardConnections' || err.code === 'TooManyConnectRequests') {
          this.connector = newConnector();
          if (attempt < PROBE_ATTEMPTS) continue;
          return;
        }
        if (probing && err.kind !== 'sharing_violation' && attempt < PROBE_ATTEMPTS) continue;
        // The first connect to a card pcscd reports present failed (it answered late on a loaded
        // machine, or left and came back mid-power-up): no status change may follow while it lies
        // there, so probe it like a card whose session failed — until one answers or the reader
        // reads empty — rather than leave a tap unanswered.
        if (!probing && err.kind !== 'sharing_violation') {
          probing = true;
          continue;
        }
        // Another application holds the card exclusively: try again while it lies there.
        if (err.kind === 'sharing_violation' && attempt < 40) {
          await this.sleep(250);
          continue;
        }
        return;
      }
    }
  }

  /** A pause that ends early, without leaving a timer behind, when the reader is disposed. */
  private sleep(ms: number): Promise<void> {
    return delay(ms, undefined, { signal: this.disposal.signal }).catch(() => undefined);
  }

  private isCurrent(slot: ReaderSlot, counter: number): boolean {
    return !this.disposed && this.slots.get(slot.name) === slot && slot.present && slot.counter === counter;
  }

  private onSessionFailure(slot: ReaderSlot, session: PcscSession, err: CardIoError): void {
    if (slot.session !== session) return;
    switch (err.kind) {
      case 'card_removed':
      case 'reader_gone':
      case 'service_down':
        this.endSession(slot, err.kind, err.code);
        if (err.kind === 'service_down') this.recycleSoon();
        else if (err.kind === 'card_removed' && slot.present) void slot.connects.run(() => this.connect(slot, slot.counter, true));
        return;
      default:
        return; // the card is still there: the caller decides (re-read, reset, retry)
    }
  }

  /** Replaces the monitor's Client soon (not from inside a card call's failure). A card call that saw
   * the service gone triggers this: the monitor will say so as well, but do not depend on it. */
  private recycleSoon(): void {
    if (!this.monitoring) return;
    const run = this.monitorRun;
    setImmediate(() => {
      if (run === this.monitorRun) this.recycleMonitor(true);
    });
  }

  private endSession(slot: ReaderSlot, kind: CardIoErrorKind, code?: string, disposition?: CardDisposition): void {
    const session = slot.session;
    if (!session) return;
    slot.session = undefined;
    if (!session.present) return;
    session.end(kind, code, disposition);
    this.cardRemoved.fire({ sessionId: session.id, reader: slot.name });
  }
}

/** Lets go of a handle; it may already be gone with the card, the reader or the service. */
async function disconnectQuietly(card: Card, disposition = CardDisposition.LEAVE): Promise<void> {
  try {
    await card.disconnect(disposition); // may also throw synchronously
  } catch {
    // nothing left to release
  }
}

/**
 * Awaits a native call with a deadline; a call that misses it rejects `card_mute` (code `timeout`).
 * Disposal ends the wait at once, so no timer outlives the reader.
 */
async function withDeadline<T>(native: Promise<T>, ms: number, signal: AbortSignal): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    return await Promise.race([
      native,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new CardIoError('card_mute', `No answer within ${ms} ms.`, 'timeout')), ms);
        onAbort = () => reject(new CardIoError('reader_gone', MESSAGES.reader_gone, 'disposed'));
        if (signal.aborted) onAbort();
        else signal.addEventListener('abort', onAbort, { once: true });
      }),
    ]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}
