/**
 * The MIFARE Classic 1K card profile: read + verify, personalise, and anti-tearing record writes over
 * PC/SC storage-card pseudo-APDUs. Algorithms and layout: `spec/card-format.md`.
 */
import { isCardIoError, type CardSession } from '../../adapters/card-reader.ts';
import type { CardKeys } from '../../adapters/keys/card-keys.ts';
import { sameRecord, sameStatic, type CardRecord, type CardRecordInput, type CardStatic, type CardStaticInput, type RecordCopy } from './card-data.ts';
import { CardError, isReadable, type CardReadable, type CardReadOutcome } from './card-outcome.ts';
import type { CardPersonaliseResult, CardProfile, CardWriteResult } from './card-profile.ts';
import { uidHex, type CardWriteJournal, type PendingCardWrite } from './card-write-journal.ts';
import {
  DATA_SECTOR_ACCESS,
  LAYOUT_VERSION,
  MAD_KEY_A,
  MAD_SECTOR_ACCESS,
  RECORD_SECTOR,
  STATIC_SECTOR,
  TRANSPORT_KEY,
  classifyMad,
  encodeMad,
  firstBlock,
  hasMagic,
  openRecord,
  openStatic,
  sealRecord,
  sealStatic,
  trailer,
} from './mifare-classic-codec.ts';
import { StorageCardChannel, equal } from './storage-card-channel.ts';

const otherCopy = (c: RecordCopy): RecordCopy => (c === 'A' ? 'B' : 'A');
/** A read outcome before the APDU count is attached. */
type ReadResult = DistributiveOmit<Exclude<CardReadOutcome, { kind: 'card_removed' | 'reader_error' }>, 'apdus'>;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export class MifareClassicProfile implements CardProfile {
  readonly id = `mifare-classic-1k/${LAYOUT_VERSION}`;

  constructor(private readonly keys: CardKeys) {}

  async read(session: CardSession): Promise<CardReadOutcome> {
    const ch = new StorageCardChannel(session);
    try {
      return { ...(await this.readOn(ch)), apdus: ch.apdus } as CardReadOutcome;
    } catch (e) {
      if (!isCardIoError(e)) throw e;
      return e.kind === 'card_removed' ? { kind: 'card_removed', apdus: ch.apdus } : { kind: 'reader_error', io: e.kind, apdus: ch.apdus };
    }
  }

  async personalise(session: CardSession, data: CardStaticInput, initial: CardRecordInput): Promise<CardPersonaliseResult> {
    const ch = new StorageCardChannel(session);
    const staticData: CardStatic = { ...data, layoutVersion: LAYOUT_VERSION, keyVersion: this.keys.currentVersion };
    const record: CardRecord = { ...initial, seq: 1 };
    try {
      const before = await this.readOn(ch);
      if (isReadable(before)) {
        if (sameStatic(before.static, staticData) && sameRecord(before.record, record) && before.kind === 'ok') {
          return { card: { ...before, apdus: ch.apdus }, alreadyDone: true, apdus: ch.apdus };
        }
        throw new CardError('already_personalised', `Card ${before.static.cardNumber} is already personalised.`);
      }
      if (before.kind !== 'blank') throw new CardError(before.kind, `Cannot personalise this card: ${before.kind}.`);
      const uid = before.uid;
      const macContext = { uid, cardNumber: staticData.cardNumber, keyVersion: staticData.keyVersion };
      const keyA = await this.dataKeyA(uid, staticData.keyVersion);
      const recordBlocks = await sealRecord(this.keys, macContext, record);
      // Sector 1 goes last: while it still has transport keys the card reads as blank, so an
      // interrupted personalisation is found and finished by calling again.
      const plan = [
        { sector: 0, blocks: encodeMad(), first: 1, keyA: MAD_KEY_A, access: MAD_SECTOR_ACCESS },
        { sector: RECORD_SECTOR.A, blocks: recordBlocks, first: firstBlock(RECORD_SECTOR.A), keyA, access: DATA_SECTOR_ACCESS },
        { sector: RECORD_SECTOR.B, blocks: recordBlocks, first: firstBlock(RECORD_SECTOR.B), keyA, access: DATA_SECTOR_ACCESS },
        { sector: STATIC_SECTOR, blocks: await sealStatic(this.keys, uid, staticData), first: firstBlock(STATIC_SECTOR), keyA, access: DATA_SECTOR_ACCESS },
      ];
      for (const step of plan) {
        const keyB = await this.keys.sectorKey({ uid, sector: step.sector, keyType: 'B', keyVersion: staticData.keyVersion });
        const trailerBlock = firstBlock(step.sector) + 3;
        const fresh = await ch.authenticate(trailerBlock, 'A', TRANSPORT_KEY);
        if (!fresh && !(await ch.authenticate(trailerBlock, 'B', keyB))) {
          throw new CardError('not_ours', `Sector ${step.sector} opens with neither the transport key nor ours.`);
        }
        for (const [i, block] of step.blocks.entries()) await this.mustWrite(ch, step.first + i, block);
        if (fresh) await this.mustWrite(ch, trailerBlock, trailer(step.keyA, step.access, keyB));
      }
      const after = await this.readOn(ch);
      if (after.kind !== 'ok' || !sameStatic(after.static, staticData) || !sameRecord(after.record, record)) {
        throw new CardError('verify_failed', `The card does not read back as personalised (${after.kind}).`);
      }
      return { card: { ...after, apdus: ch.apdus }, alreadyDone: false, apdus: ch.apdus };
    } catch (e) {
      throw asCardError(e);
    }
  }

  async writeRecord(session: CardSession, current: CardReadable, next: CardRecordInput, journal: CardWriteJournal): Promise<CardWriteResult> {
    if (current.sessionId !== session.id) throw new CardError('stale_read', 'The card data was not read in this card session: read the card again.');
    const { uid, static: s } = current;
    const target = otherCopy(current.copy);
    const record: CardRecord = { ...next, seq: current.record.seq + 1 };
    const blocks = await sealRecord(this.keys, { uid, cardNumber: s.cardNumber, keyVersion: s.keyVersion }, record);
    const sector = RECORD_SECTOR[target];
    const keyB = await this.keys.sectorKey({ uid, sector, keyType: 'B', keyVersion: s.keyVersion });
    const pending: PendingCardWrite = {
      cardNumber: s.cardNumber,
      uid: uidHex(uid),
      previousSeq: current.record.seq,
      expectedSeq: record.seq,
      targetCopy: target,
      record,
    };
    await journal.begin(pending);
    const ch = new StorageCardChannel(session);
    try {
      const first = firstBlock(sector);
      if (!(await ch.authenticate(first, 'B', keyB))) throw new CardError('write_unconfirmed', `Sector ${sector} refused our key B.`);
      // Data blocks first, MAC last: until the MAC lands the copy is invalid and the other copy rules.
      for (const [i, block] of blocks.entries()) await this.mustWrite(ch, first + i, block);
      const back = await ch.readBlocks(first, blocks.length);
      if (!back || !back.every((b, i) => equal(b, blocks[i]!))) throw new CardError('write_unconfirmed', 'The record did not read back as written.');
    } catch (e) {
      throw asCardError(e, pending);
    }
    await journal.complete(pending);
    const card: CardReadable = {
      kind: 'ok',
      sessionId: current.sessionId,
      uid,
      static: s,
      record,
      copy: target,
      copies: { ...current.copies, [target]: record },
      apdus: ch.apdus,
    };
    return { pending, card, record, apdus: ch.apdus };
  }

  /** Key A is the same for sectors 1–3 of a card (derived for sector 1): one load key per read. */
  private dataKeyA(uid: Uint8Array, keyVersion: number): Promise<Uint8Array> {
    return this.keys.sectorKey({ uid, sector: STATIC_SECTOR, keyType: 'A', keyVersion });
  }

  private async mustWrite(ch: StorageCardChannel, block: number, data: Uint8Array): Promise<void> {
    if (!(await ch.writeBlock(block, data))) throw new CardError('write_unconfirmed', `Writing block ${block} was refused; its outcome is unknown.`);
  }

  private async readOn(ch: StorageCardChannel): Promise<ReadResult> {
    const sessionId = ch.session.id;
    const uid = await ch.getUid();
    if (!uid || (uid.length !== 4 && uid.length !== 7)) return { kind: 'unreadable', reason: 'no_uid' };
    // Current key version first, then older ones (a failed attempt halts the card: the channel resets it).
    let keyVersion: number | undefined;
    let keyA: Uint8Array | undefined;
    for (const v of this.keys.versions) {
      const k = await this.dataKeyA(uid, v);
      if (await ch.authenticate(firstBlock(STATIC_SECTOR), 'A', k)) {
        keyVersion = v;
        keyA = k;
        break;
      }
    }
    if (keyVersion === undefined || !keyA) return this.classifyUnknown(ch, uid);
    const staticBlocks = await ch.readBlocks(firstBlock(STATIC_SECTOR), 3);
    if (!staticBlocks) return { kind: 'unreadable', uid, reason: 'read_failed' };
    const st = await openStatic(this.keys, uid, staticBlocks, keyVersion);
    if (st.kind === 'mac_invalid') return { kind: 'mac_invalid', uid, part: 'static', cardNumber: st.cardNumber ?? 0n };
    if (st.kind === 'not_cinecard') return { kind: 'unreadable', uid, reason: 'bad_layout' };
    if (st.kind === 'unsupported') return { kind: 'unreadable', uid, reason: 'unsupported_layout' };
    const s = st.value;
    const context = { uid, cardNumber: s.cardNumber, keyVersion };
    const copies: Record<RecordCopy, CardRecord | undefined> = { A: undefined, B: undefined };
    for (const copy of ['A', 'B'] as const) {
      const first = firstBlock(RECORD_SECTOR[copy]);
      if (!(await ch.authenticate(first, 'A', keyA))) continue; // a sector we cannot open counts as an invalid copy
      const blocks = await ch.readBlocks(first, 3);
      if (!blocks) return { kind: 'unreadable', uid, reason: 'read_failed' };
      const opened = await openRecord(this.keys, context, blocks);
      if (opened.kind === 'unsupported') return { kind: 'unreadable', uid, reason: 'unsupported_layout' };
      if (opened.kind === 'ok') copies[copy] = opened.value;
    }
    const { A, B } = copies;
    if (!A && !B) return { kind: 'mac_invalid', uid, part: 'records', cardNumber: s.cardNumber };
    // The valid copy with the highest seq; on a tie (a fresh card: both seq 1) copy A.
    const copy: RecordCopy = !B || (A && A.seq >= B.seq) ? 'A' : 'B';
    const record = copies[copy]!;
    const view = { sessionId, uid, static: s, record, copy, copies };
    return A && B ? { kind: 'ok', ...view } : { kind: 'torn', invalidCopy: otherCopy(copy), ...view };
  }

  /**
   * None of our key versions opens sector 1. Blank (transport keys), ours with keys we lack (the MAD
   * names CineCard), another application, or nothing we can open at all.
   */
  private async classifyUnknown(ch: StorageCardChannel, uid: Uint8Array): Promise<ReadResult> {
    if (await ch.authenticate(firstBlock(STATIC_SECTOR), 'A', TRANSPORT_KEY)) {
      const b4 = await ch.readBlocks(firstBlock(STATIC_SECTOR), 1);
      if (!b4) return { kind: 'unreadable', uid, reason: 'read_failed' };
      // Zeros: factory fresh. Our magic: a personalisation that stopped before sector 1 was keyed.
      return b4[0]!.every((v) => v === 0) || hasMagic(b4[0]!) ? { kind: 'blank', uid } : { kind: 'not_ours', uid, reason: 'other_application' };
    }
    if (await ch.authenticate(1, 'A', MAD_KEY_A)) {
      const mad = await ch.readBlocks(1, 2);
      if (!mad) return { kind: 'unreadable', uid, reason: 'read_failed' };
      const kind = classifyMad(mad[0]!, mad[1]!);
      if (kind === 'cinecard') return { kind: 'not_ours', uid, reason: 'foreign_keys' };
      if (kind === 'other') return { kind: 'not_ours', uid, reason: 'other_application' };
      return { kind: 'unreadable', uid, reason: 'bad_layout' };
    }
    return { kind: 'unreadable', uid, reason: 'auth_failed' };
  }
}

/** Reader failures become card problems; a pending write rides along when one may be on the card. */
function asCardError(e: unknown, pending?: PendingCardWrite): CardError {
  if (e instanceof CardError) return pending && !e.pending ? new CardError(e.code, e.message, { ...e.details, pending }) : e;
  if (isCardIoError(e)) {
    const code = e.kind === 'card_removed' ? 'card_removed' : 'reader_error';
    return new CardError(code, e.message, { pending, io: e.kind, cause: e });
  }
  throw e;
}
