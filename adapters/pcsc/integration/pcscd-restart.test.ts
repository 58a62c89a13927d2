/**
 * pcscd killed and started again under a running PcscCardReader: pcsc-mini's Client cannot recover
 * from that (reference §1, pitfall 3), so the reader must drop it and start a new one — without the
 * process restarting.
 */
import assert from 'node:assert/strict';
import { isCardIoError, type CardReader, type ReaderServiceState } from '../../card-reader.ts';
import { PcscCardReader } from '../pcsc-card-reader.ts';
import { nextPresentOn, pcscFixture, readerListed, useCardLab, type CardLab } from '../../../test-support/cardlab.ts';
import type { CardFixture } from '../../../test-support/card-fixture.ts';

const GET_UID = Uint8Array.of(0xff, 0xca, 0x00, 0x00, 0x00);
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex').toUpperCase();

function serviceBecomes(reader: CardReader, state: ReaderServiceState, timeoutMs = 10_000): Promise<void> {
  if (reader.serviceState === state) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => (sub.dispose(), reject(new Error(`service not ${state} within ${timeoutMs} ms`))), timeoutMs);
    const sub = reader.onServiceStateChanged((s) => {
      if (s !== state) return;
      clearTimeout(timer);
      sub.dispose();
      resolve();
    });
  });
}

describe('PcscCardReader survives pcscd being killed and started again', function () {
  this.timeout(60_000);
  const labOf = useCardLab();
  let lab: CardLab;
  let fx: CardFixture & { readerName: string };

  before(async () => {
    lab = labOf();
    fx = await pcscFixture(lab, { restartDelayMs: { initial: 50, max: 500 } });
  });
  after(async () => {
    await fx?.dispose();
  });

  for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
    it(`comes back after pcscd dies by ${signal}: service down → up, the reader re-listed, the card transmits again`, async () => {
      const session = await fx.insert({ uid: Uint8Array.of(0xde, 0xad, 0xbe, 0xef) });
      assert.equal(toHex(await session.transmit(GET_UID)), 'DEADBEEF9000');

      const removed = new Promise<void>((resolve) => {
        const sub = fx.reader.onCardRemoved((e) => e.sessionId === session.id && (sub.dispose(), resolve()));
      });
      const down = serviceBecomes(fx.reader, 'down');
      await lab.killPcscd(signal);
      await down;
      await removed;
      assert.equal(session.present, false);
      assert.deepEqual(fx.reader.readers, []);
      await assert.rejects(session.transmit(GET_UID), (e) => isCardIoError(e));

      // The card still lies on the reader: when pcscd is back, it is reported again by itself.
      const again = nextPresentOn(fx.reader, fx.readerName, () => lab.startPcscd(), 15_000);
      await serviceBecomes(fx.reader, 'up');
      await readerListed(fx.reader, fx.readerName);
      const session2 = await again;
      assert.notEqual(session2.id, session.id);
      assert.equal(toHex(await session2.transmit(GET_UID)), 'DEADBEEF9000');
    });
  }

  it('starts while pcscd is down, says so, and comes up when pcscd does', async () => {
    await fx.insert({ uid: Uint8Array.of(0xca, 0xfe, 0xf0, 0x0d) });
    await lab.killPcscd();
    const reader = new PcscCardReader({ restartDelayMs: { initial: 50, max: 200 } });
    try {
      await reader.start(); // resolves: a reader service that is down is a state, not an error
      assert.equal(reader.serviceState, 'down');
      assert.deepEqual(reader.readers, []);
      const present = nextPresentOn(reader, fx.readerName, () => lab.startPcscd(), 15_000);
      await serviceBecomes(reader, 'up');
      const session = await present;
      assert.equal(toHex(await session.transmit(GET_UID)), 'CAFEF00D9000');
    } finally {
      reader.dispose();
    }
  });
});
