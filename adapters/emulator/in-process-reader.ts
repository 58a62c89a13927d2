/**
 * A {@link CardReader} whose cards are emulated in this process: for the demo's card panel and for
 * fast tests. It behaves like the PC/SC one — serialized transmits with timeouts, removal events,
 * typed errors — so code tested against it behaves the same on a real reader.
 */
import { CardReaderEvents } from '../card-reader-events.ts';
import { randomUUID } from 'node:crypto';
import {
  CardIoError,
  type CardReader,
  type CardSession,
  type ReaderServiceState,
  type TransmitOptions,
} from '../card-reader.ts';
import { SerialQueue, withTimeout } from '../serial-queue.ts';
import type { MifareClassic1k } from './mifare-classic.ts';

export const IN_PROCESS_READER_NAME = 'CineCard Emulated Reader 0';

export interface InProcessReaderOptions {
  /** Reader name; default {@link IN_PROCESS_READER_NAME}. */
  readonly name?: string;
  /** Default transmit timeout, ms. */
  readonly timeoutMs?: number;
  /** Simulated latency per APDU, ms (0: answer on the next microtask). */
  readonly apduLatencyMs?: number;
}

class InProcessSession implements CardSession {
  readonly id = randomUUID();
  present = true;
  private readonly queue = new SerialQueue();

  constructor(
    readonly reader: string,
    readonly card: MifareClassic1k,
    private readonly owner: InProcessCardReader,
    private readonly timeoutMs: number,
    private readonly latencyMs: number,
  ) {}

  get atr(): Uint8Array {
    return this.card.atr;
  }

  transmit(apdu: Uint8Array, options?: TransmitOptions): Promise<Uint8Array> {
    const copy = Uint8Array.from(apdu);
    return this.queue.run(() => {
      this.assertPresent();
      const reply = this.card.transmit(copy);
      if (reply.kind === 'removed') {
        this.owner.removeSession(this);
        throw new CardIoError('card_removed', 'The card was taken away during the operation.');
      }
      const answer =
        reply.kind === 'mute'
          ? new Promise<Uint8Array>(() => {}) // a mute card never answers; the timeout decides
          : this.latencyMs > 0
            ? new Promise<Uint8Array>((r) => setTimeout(() => r(reply.data), this.latencyMs))
            : Promise.resolve(reply.data);
      const ms = options?.timeoutMs ?? this.timeoutMs;
      return withTimeout(answer, ms, () => new CardIoError('card_mute', `The card did not answer within ${ms} ms.`));
    });
  }

  reset(): Promise<void> {
    return this.queue.run(() => {
      this.assertPresent();
      this.card.powerCycle();
    });
  }

  private assertPresent(): void {
    if (!this.present) throw new CardIoError('card_removed', 'The card is no longer on the reader.');
  }
}

export class InProcessCardReader extends CardReaderEvents implements CardReader {
  readonly name: string;
  private readonly timeoutMs: number;
  private readonly latencyMs: number;
  private started = false;
  private disposed = false;
  private session: InProcessSession | undefined;

  readonly serviceState: ReaderServiceState = 'up';

  constructor(options: InProcessReaderOptions = {}) {
    super();
    this.name = options.name ?? IN_PROCESS_READER_NAME;
    this.timeoutMs = options.timeoutMs ?? 2000;
    this.latencyMs = options.apduLatencyMs ?? 0;
  }

  get readers(): readonly string[] {
    return this.started && !this.disposed ? [this.name] : [];
  }

  /** The card on the reader now, if any. */
  get card(): MifareClassic1k | undefined {
    return this.session?.card;
  }

  async start(): Promise<void> {
    if (this.started || this.disposed) return;
    this.started = true;
    this.readerAdded.fire(this.name);
    if (this.session) this.cardPresent.fire(this.session);
  }

  /** Puts a card on the reader (taking away the one there). Returns its session. */
  insert(card: MifareClassic1k): CardSession {
    if (this.disposed) throw new Error('the reader has been disposed');
    this.remove();
    card.powerCycle();
    const session = new InProcessSession(this.name, card, this, this.timeoutMs, this.latencyMs);
    this.session = session;
    if (this.started) this.cardPresent.fire(session);
    return session;
  }

  /** Takes the card away, if there is one. */
  remove(): void {
    if (this.session) this.removeSession(this.session);
  }

  /** @internal Called by a session whose card left mid-APDU. */
  removeSession(session: InProcessSession): void {
    if (!session.present) return;
    session.present = false;
    session.card.powerCycle();
    if (this.session === session) this.session = undefined;
    if (this.started) this.cardRemoved.fire({ sessionId: session.id, reader: this.name });
  }

  dispose(): void {
    if (this.disposed) return;
    this.remove();
    if (this.started) this.readerRemoved.fire(this.name);
    this.disposed = true;
    this.disposeEvents();
  }
}
