/**
 * The {@link CardReader} contract as a test suite, run against every implementation through a
 * {@link CardFixture}: the in-process reader and pcsc-mini → pcscd → vpcd. Waits on events, never on
 * sleeps, so pcscd's ~400 ms presence polling only makes it slower, not flaky.
 */
import assert from 'node:assert/strict';
import { isCardIoError, type CardSession } from '../adapters/card-reader.ts';
import { CLASSIC_1K_ATR } from '../adapters/emulator/mifare-classic.ts';
import type { CardFixture } from './card-fixture.ts';

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex').toUpperCase();
const sw = (r: Uint8Array) => toHex(r.subarray(r.length - 2));

const UID = hex('A1B2C3D4');
const GET_UID = hex('FFCA000000');
const LOAD_TRANSPORT_KEY = hex('FF82000006FFFFFFFFFFFF');
const LOAD_WRONG_KEY = hex('FF82000006000000000000');
const AUTH_BLOCK4_KEY_A = hex('FF860000050100046000');
const READ_BLOCK4 = hex('FFB0000410');
const writeBlock4 = (fill: number) => Uint8Array.from([0xff, 0xd6, 0x00, 0x04, 0x10, ...new Array<number>(16).fill(fill)]);

/** Resolves when `session`'s card is reported gone. */
function removed(fixture: CardFixture, session: CardSession, timeoutMs = 5000): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!session.present) return resolve();
    const timer = setTimeout(() => (sub.dispose(), reject(new Error('no removal reported'))), timeoutMs);
    const sub = fixture.reader.onCardRemoved((e) => {
      if (e.sessionId !== session.id) return;
      clearTimeout(timer);
      sub.dispose();
      resolve();
    });
  });
}

export interface ContractOptions {
  /** Extra time pcscd may take to notice a card (its presence poll), ms. */
  readonly slack?: number;
}

export function cardReaderContract(label: string, makeFixture: () => Promise<CardFixture>, options: ContractOptions = {}): void {
  const slack = options.slack ?? 0;

  describe(`CardReader contract (${label})`, function () {
    this.timeout(10_000 + 4 * slack);
    let fx: CardFixture;

    before(async () => {
      fx = await makeFixture();
    });
    after(async () => {
      await fx?.dispose();
    });
    afterEach(async () => {
      await fx.remove();
    });

    it('lists its reader and reports the service up', () => {
      assert.ok(fx.reader.readers.length >= 1);
      assert.equal(fx.reader.serviceState, 'up');
    });

    it('reports a card present with its ATR, and removed when taken away', async () => {
      const session = await fx.insert({ uid: UID });
      assert.equal(session.present, true);
      assert.ok(fx.reader.readers.includes(session.reader));
      assert.equal(toHex(session.atr), toHex(CLASSIC_1K_ATR));
      const gone = removed(fx, session);
      await fx.remove();
      await gone;
      assert.equal(session.present, false);
      await assert.rejects(session.transmit(GET_UID), (e) => isCardIoError(e, 'card_removed'));
    });

    it('transmits an APDU and returns the response with its status word', async () => {
      const session = await fx.insert({ uid: UID });
      assert.equal(toHex(await session.transmit(GET_UID)), 'A1B2C3D49000');
      assert.equal(sw(await session.transmit(hex('00A4040000'))), '6E00'); // not a storage-card CLA
    });

    it('runs concurrent transmits one at a time, in order', async () => {
      const session = await fx.insert({ uid: UID });
      // Fired together: the answers only make sense if each ran after the one before it.
      const calls = [LOAD_TRANSPORT_KEY, AUTH_BLOCK4_KEY_A, writeBlock4(0x11), READ_BLOCK4, writeBlock4(0x22), READ_BLOCK4];
      for (let round = 0; round < 5; round++) calls.push(GET_UID);
      const answers = await Promise.all(calls.map((apdu) => session.transmit(apdu)));
      assert.deepEqual(answers.map(sw), calls.map(() => '9000'));
      assert.equal(toHex(answers[3]!), '11'.repeat(16) + '9000');
      assert.equal(toHex(answers[5]!), '22'.repeat(16) + '9000');
    });

    it('rejects with card_removed when the card is pulled mid-APDU, and a re-tap works', async () => {
      const session = await fx.insert({ uid: UID });
      await fx.setFaults({ tearAt: { apduIndex: 1, applied: false } });
      const gone = removed(fx, session, 5000 + slack);
      assert.equal(sw(await session.transmit(GET_UID)), '9000');
      await assert.rejects(session.transmit(GET_UID), (e) => isCardIoError(e, 'card_removed'));
      await gone;
      await assert.rejects(session.transmit(GET_UID), (e) => isCardIoError(e, 'card_removed'));
      const again = await fx.reinsert();
      assert.notEqual(again.id, session.id);
      assert.equal(toHex(await again.transmit(GET_UID)), 'A1B2C3D49000');
    });

    it('rejects with card_mute within the timeout when the card does not answer; the reader stays usable', async () => {
      const session = await fx.insert({ uid: UID });
      await fx.setFaults({ mute: true });
      const t0 = performance.now();
      await assert.rejects(session.transmit(GET_UID, { timeoutMs: 300 }), (e) => isCardIoError(e, 'card_mute'));
      const elapsed = performance.now() - t0;
      assert.ok(elapsed >= 290 && elapsed < 1000, `card_mute after ${elapsed.toFixed(0)} ms`);
      await fx.remove();
      const next = await fx.insert({ uid: hex('01020304') });
      assert.equal(toHex(await next.transmit(GET_UID)), '010203049000');
    });

    it('reset() clears a card halted by a failed authentication', async () => {
      const session = await fx.insert({ uid: UID });
      assert.equal(sw(await session.transmit(LOAD_WRONG_KEY)), '9000');
      assert.equal(sw(await session.transmit(AUTH_BLOCK4_KEY_A)), '6300');
      assert.equal(sw(await session.transmit(LOAD_TRANSPORT_KEY)), '9000');
      assert.equal(sw(await session.transmit(AUTH_BLOCK4_KEY_A)), '6300', 'halted until reset');
      await session.reset();
      assert.equal(sw(await session.transmit(AUTH_BLOCK4_KEY_A)), '9000');
      assert.equal(sw(await session.transmit(READ_BLOCK4)), '9000');
    });
  });
}
