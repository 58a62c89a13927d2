/**
 * What a card operation can come to: one closed set of codes, so the cashier UI maps each to a
 * catalogue message (zh-CN / en) and never shows a raw error. Reads return a {@link CardReadOutcome};
 * writes and personalisation resolve, or reject with a {@link CardError} carrying one of these codes.
 */
import type { CardIoErrorKind } from '../../adapters/card-reader.ts';
import type { CardRecord, CardStatic, RecordCopy } from './card-data.ts';
import type { PendingCardWrite } from './card-write-journal.ts';

/** Every problem a card operation can report. The catalogue must have a message for each. */
export const CARD_PROBLEM_CODES = [
  /** A factory card (transport keys): not personalised yet. */
  'blank',
  /** A card of another system, or of ours with keys this terminal does not hold. */
  'not_ours',
  /** Our card, but a MAC does not verify: tampered, or written with other keys. Flag it. */
  'mac_invalid',
  /** Nothing sensible on the card: auth failures, garbage, a layout we do not know. */
  'unreadable',
  /** The card left the reader during the operation: put it back. */
  'card_removed',
  /** The reader or the reader service failed (gone, mute card, sharing violation…). */
  'reader_error',
  /** A write was sent but not confirmed: it may or may not be on the card. Re-tap to resolve. */
  'write_unconfirmed',
  /** The card data given to a write was not read in this card session: read again. */
  'stale_read',
  /** An earlier write to this card is unresolved: re-tap resolves it before anything else. */
  'pending_unresolved',
  /** Personalising a card that already carries other CineCard data. */
  'already_personalised',
  /** Personalisation finished but the card does not read back as written. */
  'verify_failed',
] as const;

export type CardProblemCode = (typeof CARD_PROBLEM_CODES)[number];

/** A failed card operation. `pending` is set when a write may be on the card: keep it for the re-tap. */
export class CardError extends Error {
  override readonly name = 'CardError';
  constructor(
    readonly code: CardProblemCode,
    message: string,
    readonly details: { readonly pending?: PendingCardWrite; readonly io?: CardIoErrorKind; readonly cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
  }

  get pending(): PendingCardWrite | undefined {
    return this.details.pending;
  }
}

export function isCardError(e: unknown, code?: CardProblemCode): e is CardError {
  return e instanceof CardError && (code === undefined || e.code === code);
}

/** A card read and verified: its data and where it came from. */
export interface CardView {
  /** The card session the read was made in; a write needs a read from the same session. */
  readonly sessionId: string;
  readonly uid: Uint8Array;
  readonly static: CardStatic;
  /** The record in force: the valid copy with the highest `seq`. */
  readonly record: CardRecord;
  /** Which copy holds {@link record}. */
  readonly copy: RecordCopy;
  /** Both copies as read; `undefined` where the copy's MAC does not verify. */
  readonly copies: Readonly<Record<RecordCopy, CardRecord | undefined>>;
}

export type UnreadableReason =
  /** GET UID failed or gave no 4- or 7-byte UID. */
  | 'no_uid'
  /** No key we know (ours, transport, MAD) opens the card. */
  | 'auth_failed'
  /** A sector opened but a block read failed. */
  | 'read_failed'
  /** Our keys open it but the bytes are not our layout. */
  | 'bad_layout'
  /** Our layout, but a version or code this software does not know (a newer card). */
  | 'unsupported_layout';

/** The result of reading a card. `apdus` counts the APDUs sent (for benches and logs). */
export type CardReadOutcome = (
  | ({ readonly kind: 'ok' } & CardView)
  /** One copy is valid, the other is not (a write was torn): usable; the next write repairs it. */
  | ({ readonly kind: 'torn'; readonly invalidCopy: RecordCopy } & CardView)
  | { readonly kind: 'blank'; readonly uid: Uint8Array }
  | { readonly kind: 'not_ours'; readonly uid: Uint8Array; readonly reason: 'foreign_keys' | 'other_application' }
  | { readonly kind: 'mac_invalid'; readonly uid: Uint8Array; readonly part: 'static' | 'records'; readonly cardNumber: bigint }
  | { readonly kind: 'unreadable'; readonly uid?: Uint8Array; readonly reason: UnreadableReason }
  | { readonly kind: 'card_removed' }
  | { readonly kind: 'reader_error'; readonly io: CardIoErrorKind }
) & { readonly apdus: number };

/** A read that found a usable card (`ok` or `torn`). */
export type CardReadable = Extract<CardReadOutcome, { kind: 'ok' | 'torn' }>;

export function isReadable<T extends { readonly kind: CardReadOutcome['kind'] }>(o: T): o is Extract<T, { kind: 'ok' | 'torn' }> {
  return o.kind === 'ok' || o.kind === 'torn';
}
