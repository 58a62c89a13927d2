/**
 * The write journal: how a torn card write is finished or retried on the next tap, never applied
 * twice. The plugin's local database implements {@link CardWriteJournal} (in the same transaction as
 * the op and its outbox row); {@link InMemoryCardWriteJournal} serves tests and the demo.
 *
 * Protocol (`spec/card-format.md` § Journal): `begin` is durable before the first APDU of a write;
 * after the read-back confirms the write the profile calls `complete`. When the write fails or the
 * card leaves, the pending write stays; on the next tap of that card, read it and
 * {@link resolvePending}: `landed` → `complete`; `not_landed` → write again (same record) or `abandon`.
 */
import { sameRecord, type CardRecord, type RecordCopy } from './card-data.ts';
import { CardError, isReadable, type CardReadOutcome } from './card-outcome.ts';

/** A card write that has begun and is not yet known to be on the card. Plain data: store it as is. */
export interface PendingCardWrite {
  readonly cardNumber: bigint;
  /** The card's UID, upper-case hex. */
  readonly uid: string;
  /** The `seq` the card had when the write began. */
  readonly previousSeq: number;
  /** The `seq` the write puts on the card: `previousSeq + 1`. */
  readonly expectedSeq: number;
  /** The copy being written (the one not holding the record in force). */
  readonly targetCopy: RecordCopy;
  /** The full record being written. */
  readonly record: CardRecord;
}

export interface CardWriteJournal {
  /**
   * Durably records the intent to write; resolves before the first write APDU is sent. Rejects with
   * `CardError('pending_unresolved')` when another write to the card is unresolved; beginning the
   * same write again (same card, `expectedSeq` and record: a retry) is accepted.
   */
  begin(pending: PendingCardWrite): Promise<void>;
  /** The write is on the card (read back, or found `landed` on a re-tap): the op takes effect. */
  complete(pending: PendingCardWrite): Promise<void>;
  /** The write is known not to be on the card and will not be retried. */
  abandon(pending: PendingCardWrite): Promise<void>;
  /** The unresolved write for a card, if any: ask on every tap. */
  pendingFor(cardNumber: bigint): Promise<PendingCardWrite | undefined>;
}

/**
 * What a re-tap says about a pending write.
 * - `landed`: a valid copy holds the expected `seq` with our record. Complete the op.
 * - `not_landed`: the card still shows the previous `seq`. Write again or abandon; no deduction yet.
 * - `superseded`: our record is not on the card and another write took its `seq`: it can no longer
 *   land. Abandon (the customer was not charged by this op).
 * - `undetermined`: the card moved on by more than one write and our record is not visible: leave it
 *   to central's shadow ledger to decide.
 * - `other_card`: the card read is not the card of the pending write.
 * - `unreadable`: the read did not give a usable card; try again.
 */
export type PendingResolution = 'landed' | 'not_landed' | 'superseded' | 'undetermined' | 'other_card' | 'unreadable';

export const uidHex = (uid: Uint8Array) => Buffer.from(uid).toString('hex').toUpperCase();

export function resolvePending(outcome: CardReadOutcome, pending: PendingCardWrite): PendingResolution {
  if (!isReadable(outcome)) return 'unreadable';
  if (outcome.static.cardNumber !== pending.cardNumber || uidHex(outcome.uid) !== pending.uid) return 'other_card';
  const valid = [outcome.copies.A, outcome.copies.B].filter((r): r is CardRecord => r !== undefined);
  if (valid.some((r) => r.seq === pending.expectedSeq && sameRecord(r, pending.record))) return 'landed';
  const top = Math.max(...valid.map((r) => r.seq));
  if (top === pending.previousSeq) return 'not_landed';
  if (top === pending.expectedSeq) return 'superseded';
  return 'undetermined';
}

const samePending = (a: PendingCardWrite, b: PendingCardWrite) =>
  a.cardNumber === b.cardNumber && a.uid === b.uid && a.expectedSeq === b.expectedSeq && a.targetCopy === b.targetCopy && sameRecord(a.record, b.record);

/** A {@link CardWriteJournal} in memory: for tests and the demo. It remembers what it completed. */
export class InMemoryCardWriteJournal implements CardWriteJournal {
  private readonly open = new Map<bigint, PendingCardWrite>();
  /** Completed writes, in order: each is one op that took effect. */
  readonly completed: PendingCardWrite[] = [];
  readonly abandoned: PendingCardWrite[] = [];

  async begin(pending: PendingCardWrite): Promise<void> {
    const existing = this.open.get(pending.cardNumber);
    if (existing) {
      if (samePending(existing, pending)) return; // a retry of the same write
      throw new CardError('pending_unresolved', `Card ${pending.cardNumber} has an unresolved write (seq ${existing.expectedSeq}).`, { pending: existing });
    }
    this.open.set(pending.cardNumber, pending);
  }

  async complete(pending: PendingCardWrite): Promise<void> {
    this.take(pending);
    this.completed.push(pending);
  }

  async abandon(pending: PendingCardWrite): Promise<void> {
    this.take(pending);
    this.abandoned.push(pending);
  }

  async pendingFor(cardNumber: bigint): Promise<PendingCardWrite | undefined> {
    return this.open.get(cardNumber);
  }

  private take(pending: PendingCardWrite): void {
    const existing = this.open.get(pending.cardNumber);
    if (!existing || !samePending(existing, pending)) throw new Error(`no such pending write for card ${pending.cardNumber} (seq ${pending.expectedSeq})`);
    this.open.delete(pending.cardNumber);
  }
}
