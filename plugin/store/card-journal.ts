/**
 * The card write journal over the terminal database (`card_journal`), after `spec/card-format.md`
 * § Journal. `begin` makes the pending write durable — with the op it will commit — before the
 * first write APDU; `complete` records that op (ops + outbox), mirrors the write into the card cache
 * and deletes the journal row in ONE transaction, so a write is counted exactly once whatever dies
 * when. The op is read back from the row, so a restarted terminal completes a write that an earlier
 * process began.
 */
import type { Knex } from 'knex';
import type { CardRecord, RecordCopy } from '../card/card-data.ts';
import { CardError } from '../card/card-outcome.ts';
import type { CardWriteJournal, PendingCardWrite } from '../card/card-write-journal.ts';
import { sameRecord } from '../card/card-data.ts';
import type { CardCache } from './card-cache.ts';
import { crashPoint } from './crash-point.ts';
import type { Op, OpDraft, TerminalStore } from './terminal-store.ts';

/** What a journal row carries besides the pending write: the op and what the cache needs. */
export interface JournalledOp {
  readonly draft: OpDraft;
  /** The card's u8 type code, for the card cache. */
  readonly cardTypeCode: number | null;
}

interface JournalRow {
  card_no: string;
  uid: string;
  expected_seq: number;
  previous_seq: number;
  target_copy: RecordCopy;
  record: string;
  op: string;
  created_at: string;
}

const samePending = (a: PendingCardWrite, b: PendingCardWrite) =>
  a.cardNumber === b.cardNumber && a.uid === b.uid && a.expectedSeq === b.expectedSeq && a.targetCopy === b.targetCopy && sameRecord(a.record, b.record);

function toPending(r: JournalRow): PendingCardWrite {
  return {
    cardNumber: BigInt(r.card_no),
    uid: r.uid,
    previousSeq: r.previous_seq,
    expectedSeq: r.expected_seq,
    targetCopy: r.target_copy,
    record: JSON.parse(r.record) as CardRecord,
  };
}

export class TerminalCardJournal {
  /**
   * Card numbers with a journal row, loaded once: every tap asks and almost every answer is "none",
   * so a tap costs no query. Only this class writes `card_journal`; a row another process left (a
   * crashed terminal) is in the table when this index is loaded.
   */
  private pendingCards: Promise<Set<string>> | undefined;

  constructor(
    private readonly store: TerminalStore,
    private readonly cards: CardCache,
    private readonly now: () => number,
  ) {}

  /** The journal to hand to `CardProfile.writeRecord` for a write that records `op` once it lands. */
  forOp(op: JournalledOp): CardWriteJournal & { readonly committed: Op | undefined } {
    let committed: Op | undefined;
    return {
      begin: (pending) => this.begin(pending, op),
      complete: async (pending) => {
        committed = await this.complete(pending);
      },
      abandon: (pending) => this.abandon(pending),
      pendingFor: (cardNumber) => this.pendingFor(cardNumber),
      get committed() {
        return committed;
      },
    };
  }

  async begin(pending: PendingCardWrite, op: JournalledOp): Promise<void> {
    await this.store.write(async (trx) => {
      const existing = await this.row(pending.cardNumber, trx);
      if (existing) {
        if (samePending(toPending(existing), pending)) return; // a retry of the same write
        throw new CardError('pending_unresolved', `Card ${pending.cardNumber} has an unresolved write (seq ${existing.expected_seq}).`, {
          pending: toPending(existing),
        });
      }
      await trx('card_journal').insert({
        card_no: String(pending.cardNumber),
        uid: pending.uid,
        expected_seq: pending.expectedSeq,
        previous_seq: pending.previousSeq,
        target_copy: pending.targetCopy,
        record: JSON.stringify(pending.record),
        op: JSON.stringify(op),
        created_at: new Date(this.now()).toISOString(),
      } satisfies JournalRow);
    });
    (await this.index()).add(String(pending.cardNumber));
    crashPoint('card_write.after_begin');
  }

  /**
   * The write is on the card: records its op, updates the card cache and clears the entry, in one
   * transaction. Rejects (and records nothing) when the entry is not there — it was completed or
   * abandoned already — so a write is never counted twice.
   */
  async complete(pending: PendingCardWrite): Promise<Op> {
    crashPoint('card_write.after_read_back');
    const op = await this.store.write(async (trx) => {
      const row = await this.take(pending, trx);
      const journalled = JSON.parse(row.op) as JournalledOp;
      const recorded = await this.store.appendOp(trx, journalled.draft);
      await this.cards.applyWrite(trx, pending, recorded, journalled.cardTypeCode);
      return recorded;
    });
    (await this.index()).delete(String(pending.cardNumber));
    return op;
  }

  /** The write is known not to be on the card: forget it; nothing was deducted. */
  async abandon(pending: PendingCardWrite): Promise<void> {
    await this.store.write(async (trx) => {
      await this.take(pending, trx);
    });
    (await this.index()).delete(String(pending.cardNumber));
  }

  async pendingFor(cardNumber: bigint): Promise<PendingCardWrite | undefined> {
    if (!(await this.index()).has(String(cardNumber))) return undefined;
    const r = await this.row(cardNumber, this.store.db);
    return r && toPending(r);
  }

  private index(): Promise<Set<string>> {
    this.pendingCards ??= this.store.db('card_journal')
      .select<{ card_no: string }[]>('card_no')
      .then((rows) => new Set(rows.map((r) => r.card_no)))
      .catch((e: unknown) => {
        this.pendingCards = undefined; // ask the database again next time
        throw e;
      });
    return this.pendingCards;
  }

  /** The op a pending write will record when it lands (for telling the cashier what it was). */
  async pendingOp(cardNumber: bigint): Promise<JournalledOp | undefined> {
    const r = await this.row(cardNumber, this.store.db);
    return r && (JSON.parse(r.op) as JournalledOp);
  }

  private row(cardNumber: bigint, trx: Knex | Knex.Transaction): Promise<JournalRow | undefined> {
    return trx('card_journal').where({ card_no: String(cardNumber) }).first<JournalRow | undefined>();
  }

  private async take(pending: PendingCardWrite, trx: Knex.Transaction): Promise<JournalRow> {
    const row = await this.row(pending.cardNumber, trx);
    if (!row || !samePending(toPending(row), pending)) {
      throw new Error(`no such pending write for card ${pending.cardNumber} (seq ${pending.expectedSeq})`);
    }
    await trx('card_journal').where({ card_no: row.card_no }).del();
    return row;
  }
}
