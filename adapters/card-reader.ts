/**
 * The card reader contract: what the plugin needs from a contactless reader. Implementations:
 * `PcscCardReader` (pcsc-mini → pcscd, real readers and vpcd) and `InProcessCardReader` (emulated
 * cards, for the demo and fast tests). Documented for vendors in `spec/host-contract.md`.
 */
import type { InjectionToken } from 'tsyringe';
import type { Disposable, Event } from './lifecycle.ts';

/** Bumped when this contract changes in a way that breaks its users. */
export const CARD_READER_API_VERSION = 1;

/** A card on a reader, connected and ready for APDUs. Valid until the card leaves. */
export interface CardSession {
  /** Unique per presence: a re-tap of the same card is a new session with a new id. */
  readonly id: string;
  /** The reader's name, as its driver reports it. */
  readonly reader: string;
  /** Answer-to-reset, read after connecting (pcsc-mini's change-event ATR is unreliable). */
  readonly atr: Uint8Array;
  /** False once the card has been removed or its reader has gone. */
  readonly present: boolean;
  /**
   * Sends one command APDU and resolves with the response including SW1 SW2. Calls are queued and
   * run one at a time for this card. Rejects with {@link CardIoError}: `card_removed`,
   * `reader_gone`, `service_down`, `card_mute` (no answer within the timeout), `sharing_violation`
   * or `transmit_failed`. A write whose transmit rejected has an unknown outcome: read it back.
   */
  transmit(apdu: Uint8Array, options?: TransmitOptions): Promise<Uint8Array>;
  /**
   * Resets the card (reconnect with reset) so it answers again, e.g. after a failed MIFARE
   * authentication halted it. Queued like `transmit`.
   */
  reset(): Promise<void>;
}

export interface TransmitOptions {
  /** Milliseconds before the call gives up with `card_mute`. Default: the reader's, usually 2000. */
  readonly timeoutMs?: number;
}

/** A card left a reader (taken away, or its reader or the reader service went away). */
export interface CardRemovedEvent {
  readonly sessionId: string;
  readonly reader: string;
}

/** The reader service as a whole: `down` while pcscd (or the Windows smart card service) is gone. */
export type ReaderServiceState = 'up' | 'down';

/** Contactless readers and the cards put on them. */
export interface CardReader extends Disposable {
  /** Readers attached now, by name. */
  readonly readers: readonly string[];
  /** Current state of the reader service. */
  readonly serviceState: ReaderServiceState;
  readonly onReaderAdded: Event<string>;
  readonly onReaderRemoved: Event<string>;
  readonly onServiceStateChanged: Event<ReaderServiceState>;
  /** A card came to a reader and has been connected; talk to it through the session. */
  readonly onCardPresent: Event<CardSession>;
  /** The card of a session left its reader; that session's calls now reject with `card_removed`. */
  readonly onCardRemoved: Event<CardRemovedEvent>;
  /** Starts watching readers. Resolves once the readers present at start have been reported. */
  start(): Promise<void>;
}

/** DI token for {@link CardReader}. */
export const CardReader: InjectionToken<CardReader> = Symbol.for('cinecard.CardReader');

/** Why a card conversation failed. A closed set: callers switch on it. */
export type CardIoErrorKind =
  | 'card_removed'
  | 'reader_gone'
  | 'service_down'
  | 'card_mute'
  | 'sharing_violation'
  | 'transmit_failed';

/** A failure talking to a card; `kind` says what happened, `code` carries the driver's own code. */
export class CardIoError extends Error {
  override readonly name = 'CardIoError';
  constructor(
    readonly kind: CardIoErrorKind,
    message: string,
    readonly code?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isCardIoError(e: unknown, kind?: CardIoErrorKind): e is CardIoError {
  return e instanceof CardIoError && (kind === undefined || e.kind === kind);
}
