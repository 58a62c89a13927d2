/**
 * The card profile seam: everything chip-specific about reading, making and writing a CineCard card.
 * `MifareClassicProfile` is the first; a CPU-card profile (DESFire EV2/EV3 AES, FM1208) plugs in here
 * and gets true anti-cloning (see `spec/card-format.md` § Limits).
 */
import type { CardSession } from '../../adapters/card-reader.ts';
import type { CardRecord, CardRecordInput, CardStaticInput } from './card-data.ts';
import type { CardReadable, CardReadOutcome } from './card-outcome.ts';
import type { CardWriteJournal, PendingCardWrite } from './card-write-journal.ts';

/** A confirmed write: on the card, read back, and completed in the journal. */
export interface CardWriteResult {
  readonly pending: PendingCardWrite;
  /** The card as it is now (the new record in force). */
  readonly card: CardReadable;
  readonly record: CardRecord;
  readonly apdus: number;
}

export interface CardPersonaliseResult {
  /** The card as read back after personalising. */
  readonly card: CardReadable;
  /** True when the card was already personalised with exactly this data (nothing written). */
  readonly alreadyDone: boolean;
  readonly apdus: number;
}

export interface CardProfile {
  /** e.g. `mifare-classic-1k/1`. */
  readonly id: string;
  /**
   * Reads and verifies the card. Never rejects for anything the card holds or the reader does:
   * every case is an outcome (see {@link CardReadOutcome}).
   */
  read(session: CardSession): Promise<CardReadOutcome>;
  /**
   * Makes a blank card ours: keys, static data, both record copies (`seq` 1), then reads it back.
   * Resumable: an interrupted personalisation is finished by calling again with the same data.
   * Rejects with a `CardError`.
   */
  personalise(session: CardSession, data: CardStaticInput, initial: CardRecordInput): Promise<CardPersonaliseResult>;
  /**
   * Writes `next` as record `seq + 1` with anti-tearing and the journal protocol; resolves once it is
   * read back and `journal.complete` has run. `current` must come from `read` in this session.
   * Rejects with a `CardError`; when `error.pending` is set the write may be on the card: resolve it
   * on the next tap with `resolvePending`. If `journal.complete` itself rejects, the record is on the
   * card and the pending entry stays: the next tap resolves it as `landed`.
   *
   * The profile does not judge business rules (blocked flag, status, expiry, enough uses): the
   * caller does, from the data `read` returned.
   */
  writeRecord(session: CardSession, current: CardReadable, next: CardRecordInput, journal: CardWriteJournal): Promise<CardWriteResult>;
}
