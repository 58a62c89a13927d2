/**
 * The card test suite: one set of behaviours, run against every {@link CardFixture} (the in-process
 * reader and the real pcsc-mini → pcscd → vpcd stack), so both prove the same things.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { CardSession } from '../../adapters/card-reader.ts';
import type { CardKeys } from '../../adapters/keys/card-keys.ts';
import { demoCardKeys } from '../../adapters/keys/demo-card-keys.ts';
import { SoftwareCardKeys } from '../../adapters/keys/software-card-keys.ts';
import type { CardFixture } from '../../test-support/card-fixture.ts';
import type { CardRecord, CardRecordInput, CardStaticInput } from './card-data.ts';
import { isCardError, isReadable, type CardReadable, type CardReadOutcome } from './card-outcome.ts';
import { InMemoryCardWriteJournal, resolvePending, type PendingCardWrite } from './card-write-journal.ts';
import { MifareClassicProfile } from './mifare-classic-profile.ts';

const ISSUED = 1_767_225_600; // 2026-01-01T00:00:00Z
const YEAR = 365 * 86_400;

export function cardStatic(cardNumber: bigint, over: Partial<CardStaticInput> = {}): CardStaticInput {
  return { cardType: 7, blocked: false, cardNumber, issuedAt: ISSUED, originalExpiry: ISSUED + YEAR, initialUses: 20, chainId: 12, issuingCinema: 301, ...over };
}

export const issueRecord: CardRecordInput = {
  remainingUses: 20, lifetimeUsesLoaded: 20, expiry: ISSUED + YEAR, status: 'made',
  lastTxTime: ISSUED, lastCinema: 301, lastTerminal: 1, lastAmount: -20, lastTxKind: 'issue',
};

/** The record after redeeming `uses` at cinema 302, terminal 4. */
export function redeemed(r: CardRecord, uses: number, at = ISSUED + 3600): CardRecordInput {
  const { seq: _seq, ...rest } = r;
  return { ...rest, status: 'active', remainingUses: r.remainingUses - uses, lastTxTime: at, lastCinema: 302, lastTerminal: 4, lastAmount: uses, lastTxKind: 'redeem' };
}

function readable(o: CardReadOutcome): CardReadable {
  assert.ok(isReadable(o), `expected a readable card, got ${JSON.stringify(o, (_k, v) => (typeof v === 'bigint' ? String(v) : v))}`);
  return o;
}

function otherKeys(): CardKeys {
  return new SoftwareCardKeys({ current: 1, versions: new Map([[1, { sector: randomBytes(16), mac: randomBytes(16) }]]) });
}

const BLOCK = 16;
function flipBit(image: Uint8Array, block: number, bit: number): Uint8Array {
  const copy = Uint8Array.from(image);
  copy[block * BLOCK + (bit >> 3)]! ^= 1 << (bit & 7);
  return copy;
}

export function defineCardSuite(makeFixture: () => Promise<CardFixture>): void {
  let fx: CardFixture;
  const keys = demoCardKeys(2);
  const profile = new MifareClassicProfile(keys);
  let nextNumber = 880_000_000_001n;

  before(async function () {
    this.timeout(60_000);
    fx = await makeFixture();
  });
  after(async () => {
    await fx?.dispose();
  });

  /** A new card on the reader, personalised with `by` (default: the terminal's own keys). */
  async function personalisedCard(by: CardKeys = keys, over: Partial<CardStaticInput> = {}): Promise<{ session: CardSession; cardNumber: bigint }> {
    const cardNumber = nextNumber++;
    const session = await fx.insert();
    await new MifareClassicProfile(by).personalise(session, cardStatic(cardNumber, over), issueRecord);
    return { session, cardNumber };
  }

  /**
   * Presents a modified copy of the card now on the reader (same UID), as a tamperer or cloner
   * would; every call edits the image of the card as it was at the first call after `personalisedCard`.
   */
  let original: { uid: Uint8Array; image: Uint8Array } | undefined;
  async function tampered(edit: (image: Uint8Array) => Uint8Array): Promise<CardSession> {
    original ??= await fx.snapshot();
    return fx.insert({ uid: original.uid, image: edit(Uint8Array.from(original.image)) });
  }
  beforeEach(() => {
    original = undefined;
  });

  it('personalises a blank card, reads it, writes several records and reads the last one after a re-tap', async () => {
    let session = await fx.insert();
    const blank = await profile.read(session);
    assert.equal(blank.kind, 'blank');
    const cardNumber = nextNumber++;
    const made = await profile.personalise(session, cardStatic(cardNumber), issueRecord);
    assert.equal(made.alreadyDone, false);
    assert.equal(made.card.kind, 'ok');

    let card = readable(await profile.read(session));
    assert.equal(card.kind, 'ok');
    assert.equal(card.static.cardNumber, cardNumber);
    assert.equal(card.static.keyVersion, keys.currentVersion);
    assert.equal(card.static.blocked, false);
    assert.deepEqual(card.record, { ...issueRecord, seq: 1 });
    assert.deepEqual(card.copies.A, card.copies.B);
    // spec/card-format.md § Read: GET UID, load key A, 3 × (authenticate + 3 reads).
    assert.equal(card.apdus, 14);

    const journal = new InMemoryCardWriteJournal();
    const copies: string[] = [];
    for (let i = 1; i <= 3; i++) {
      const result = await profile.writeRecord(session, card, redeemed(card.record, 1), journal);
      // spec/card-format.md § Write: load key B, authenticate, 3 writes, 3 read-backs.
      assert.equal(result.apdus, 8);
      assert.equal(result.record.seq, card.record.seq + 1);
      copies.push(result.card.copy);
      card = result.card;
    }
    assert.deepEqual(copies, ['B', 'A', 'B'], 'each write goes to the copy not in force');
    assert.equal(journal.completed.length, 3);
    assert.equal(await journal.pendingFor(cardNumber), undefined);

    await fx.remove();
    session = await fx.reinsert();
    const again = readable(await profile.read(session));
    assert.equal(again.kind, 'ok');
    assert.deepEqual(again.record, card.record);
    assert.equal(again.record.seq, 4);
    assert.equal(again.record.remainingUses, 17);
    assert.equal(again.record.lastTxKind, 'redeem');
  });

  it('personalising again with the same data is a no-op; with other data it is refused', async () => {
    const { session, cardNumber } = await personalisedCard();
    const again = await profile.personalise(session, cardStatic(cardNumber), issueRecord);
    assert.equal(again.alreadyDone, true);
    await assert.rejects(profile.personalise(session, cardStatic(cardNumber + 1n), issueRecord), (e) => isCardError(e, 'already_personalised'));
  });

  it('finishes a personalisation interrupted at any APDU', async function () {
    this.timeout(300_000);
    for (let k = 0; ; k++) {
      const cardNumber = nextNumber++;
      let session = await fx.insert();
      await fx.setFaults({ tearAt: { apduIndex: k, applied: k % 2 === 0 } });
      try {
        await profile.personalise(session, cardStatic(cardNumber), issueRecord);
        await fx.setFaults({});
        assert.ok(k > 10, `personalisation took only ${k} APDUs`);
        break;
      } catch (e) {
        assert.ok(isCardError(e, 'card_removed'), String(e));
      }
      session = await fx.reinsert();
      const midway = await profile.read(session);
      assert.ok(['blank', 'ok'].includes(midway.kind), `torn at ${k}: ${midway.kind}`);
      const done = await profile.personalise(session, cardStatic(cardNumber), issueRecord);
      assert.equal(done.card.record.seq, 1);
      assert.equal(readable(await profile.read(session)).static.cardNumber, cardNumber);
    }
  });

  it('reports a factory card as blank', async () => {
    const session = await fx.insert();
    const o = await profile.read(session);
    assert.equal(o.kind, 'blank');
    assert.ok(o.apdus > 0);
  });

  it('reports a card made with another master key as not ours', async () => {
    const { session } = await personalisedCard(otherKeys());
    const o = await profile.read(session);
    assert.equal(o.kind, 'not_ours');
    assert.equal(o.kind === 'not_ours' && o.reason, 'foreign_keys');
  });

  it("reports another application's transport-key card as not ours", async () => {
    await fx.insert();
    const session = await tampered((image) => {
      const copy = Uint8Array.from(image);
      copy.set(Buffer.from('SOMEONE ELSE 123'), 4 * BLOCK);
      return copy;
    });
    const o = await profile.read(session);
    assert.equal(o.kind, 'not_ours');
    assert.equal(o.kind === 'not_ours' && o.reason, 'other_application');
  });

  it('detects tampering: one record copy torn, both copies or the static sector MAC-invalid', async () => {
    const { cardNumber } = await personalisedCard();
    // Copy A's remaining uses (block 8, byte 4..5) edited: copy B still rules, reported as torn.
    let session = await tampered((img) => flipBit(img, 8, 5 * 8));
    const torn = await profile.read(session);
    assert.equal(torn.kind, 'torn');
    assert.equal(torn.kind === 'torn' && torn.invalidCopy, 'A');
    assert.equal(readable(torn).record.remainingUses, 20);

    session = await tampered((img) => flipBit(flipBit(img, 8, 5 * 8), 12, 5 * 8));
    const both = await profile.read(session);
    assert.equal(both.kind, 'mac_invalid');
    assert.equal(both.kind === 'mac_invalid' && both.part, 'records');
    assert.equal(both.kind === 'mac_invalid' && both.cardNumber, cardNumber);

    session = await tampered((img) => flipBit(img, 5, 0)); // issue epoch
    const st = await profile.read(session);
    assert.equal(st.kind, 'mac_invalid');
    assert.equal(st.kind === 'mac_invalid' && st.part, 'static');

    session = await tampered((img) => flipBit(img, 14, 127)); // copy B's MAC itself
    assert.equal((await profile.read(session)).kind, 'torn');
  });

  it('shows the blocked flag in the data it reads', async () => {
    const { session } = await personalisedCard(keys, { blocked: true });
    assert.equal(readable(await profile.read(session)).static.blocked, true);
  });

  it('reports random bytes as unreadable, never crashing', async () => {
    for (let i = 0; i < 4; i++) {
      const session = await fx.insert({ image: randomBytes(1024) });
      const o = await profile.read(session);
      assert.equal(o.kind, 'unreadable');
      assert.equal(o.kind === 'unreadable' && o.reason, 'auth_failed');
    }
    // Our keys, garbage content: unreadable (bad layout), also no crash.
    await personalisedCard();
    const session = await tampered((img) => {
      const copy = Uint8Array.from(img);
      copy.set(randomBytes(3 * BLOCK), 4 * BLOCK);
      return copy;
    });
    const o = await profile.read(session);
    assert.ok(o.kind === 'unreadable' || o.kind === 'mac_invalid', o.kind);
  });

  it('reads and writes a card of an older key version (rotation), and a newer version is not ours to an old terminal', async () => {
    const { session, cardNumber } = await personalisedCard(demoCardKeys(1));
    const o = readable(await profile.read(session)); // this terminal: versions 2 and 1
    assert.equal(o.static.keyVersion, 1);
    assert.equal(o.static.cardNumber, cardNumber);
    assert.ok(o.apdus > 14, 'the version-2 attempt cost extra APDUs');
    const written = await profile.writeRecord(session, o, redeemed(o.record, 2), new InMemoryCardWriteJournal());
    const oldTerminal = new MifareClassicProfile(demoCardKeys(1));
    assert.deepEqual(readable(await oldTerminal.read(session)).record, written.record);

    const newer = await personalisedCard(demoCardKeys(2));
    const seen = await oldTerminal.read(newer.session);
    assert.equal(seen.kind, 'not_ours');
  });

  it('refuses a write based on a read from another card session', async () => {
    const { session } = await personalisedCard();
    const o = readable(await profile.read(session));
    await fx.remove();
    const retap = await fx.reinsert();
    await assert.rejects(profile.writeRecord(retap, o, redeemed(o.record, 1), new InMemoryCardWriteJournal()), (e) => isCardError(e, 'stale_read'));
  });

  it('reports a card taken away during a read as card_removed', async () => {
    const { session } = await personalisedCard();
    await fx.setFaults({ tearAt: { apduIndex: 3, applied: false } });
    const o = await profile.read(session);
    assert.equal(o.kind, 'card_removed');
  });

  it('a write the card refuses is unconfirmed, keeps its pending entry, and resolves as not landed', async () => {
    await personalisedCard();
    // Copy B's sector now has a key B we do not derive (a damaged or doctored trailer).
    const session = await tampered((img) => flipBit(img, 15, 10 * 8));
    const card = readable(await profile.read(session));
    assert.equal(card.copy, 'A');
    const journal = new InMemoryCardWriteJournal();
    let pending: PendingCardWrite | undefined;
    await assert.rejects(profile.writeRecord(session, card, redeemed(card.record, 1), journal), (e) => {
      assert.ok(isCardError(e, 'write_unconfirmed'), String(e));
      pending = e.pending;
      return true;
    });
    assert.ok(pending);
    assert.equal(await journal.pendingFor(card.static.cardNumber), pending);
    const again = await profile.read(session); // the failed authentication halted the card: read resets it
    assert.equal(resolvePending(again, pending), 'not_landed');
    await journal.abandon(pending);
    assert.equal(readable(again).record.remainingUses, 20);
  });

  it('a card that stops answering during a read gives a reader outcome, not a crash', async function () {
    this.timeout(20_000);
    const { session } = await personalisedCard();
    await fx.setFaults({ mute: true });
    const o = await profile.read(session);
    assert.ok(o.kind === 'reader_error' || o.kind === 'card_removed', o.kind);
    await fx.remove();
  });

  for (const applied of [false, true]) {
    it(`tearing: removal at every APDU of a write (torn APDU ${applied ? 'applied' : 'not applied'}) resolves to exactly one deduction`, async function () {
      this.timeout(300_000);
      const journal = new InMemoryCardWriteJournal();
      let { session, cardNumber } = await personalisedCard();
      let card = readable(await profile.read(session));
      const startSeq = card.record.seq;
      let remaining = card.record.remainingUses;
      const seen = new Set<string>();
      for (let k = 0; ; k++) {
        const next = redeemed(card.record, 1, ISSUED + 3600 + k);
        await fx.setFaults({ tearAt: { apduIndex: k, applied } });
        let pending: PendingCardWrite | undefined;
        try {
          const result = await profile.writeRecord(session, card, next, journal);
          // No tear: k is past the write's last APDU, so every APDU index has been torn.
          await fx.setFaults({});
          assert.equal(k, result.apdus);
          card = result.card;
          remaining -= 1;
          assert.equal(card.record.remainingUses, remaining);
          break;
        } catch (e) {
          assert.ok(isCardError(e, 'card_removed'), String(e));
          pending = e.pending;
        }
        assert.ok(pending, 'a torn write leaves its pending entry');
        assert.deepEqual(await journal.pendingFor(cardNumber), pending);

        session = await fx.reinsert();
        const after = readable(await profile.read(session));
        assert.ok([card.record.remainingUses, pending.record.remainingUses].includes(after.record.remainingUses), 'old or new balance');
        const resolution = resolvePending(after, pending);
        seen.add(resolution);
        if (after.record.remainingUses === pending.record.remainingUses) {
          assert.equal(resolution, 'landed', `tear at ${k}`);
          await journal.complete(pending);
          card = after;
        } else {
          assert.equal(resolution, 'not_landed', `tear at ${k}`);
          const retried = await profile.writeRecord(session, after, next, journal);
          assert.equal(retried.record.seq, pending.expectedSeq);
          card = retried.card;
        }
        remaining -= 1;
        assert.equal(card.record.remainingUses, remaining, `exactly one deduction after a tear at ${k}`);
        assert.equal(journal.completed.length, k + 1);
        assert.equal(await journal.pendingFor(cardNumber), undefined);
      }
      assert.ok(seen.has('not_landed'));
      if (applied) assert.ok(seen.has('landed'), 'a tear after the MAC block landed resolves as landed');

      await fx.remove();
      const final = readable(await profile.read(await fx.reinsert()));
      assert.equal(final.record.remainingUses, remaining);
      assert.equal(final.record.seq, startSeq + journal.completed.length);
      assert.equal(20 - final.record.remainingUses, journal.completed.length, 'one use per completed op, none twice');
    });
  }
}
