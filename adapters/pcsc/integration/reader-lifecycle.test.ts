/** What a PcscCardReader leaves behind when disposed, and a card on each of vpcd's two slots. */
import assert from 'node:assert/strict';
import { createHook } from 'node:async_hooks';
import { isCardIoError } from '../../card-reader.ts';
import { PcscCardReader } from '../pcsc-card-reader.ts';
import { nextPresentOn, readerListed, useCardLab, vpcdReaderName } from '../../../test-support/cardlab.ts';

const GET_UID = Uint8Array.of(0xff, 0xca, 0x00, 0x00, 0x00);
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex').toUpperCase();

describe('PcscCardReader lifecycle through pcscd + vpcd', function () {
  this.timeout(30_000);
  const lab = useCardLab();
  afterEach(async () => {
    await lab().daemon.remove(0);
    await lab().daemon.remove(1);
  });

  it('talks to cards on both slots independently, at the same time', async () => {
    const reader = new PcscCardReader();
    try {
      await reader.start();
      await readerListed(reader, vpcdReaderName(1));
      const s0 = await nextPresentOn(reader, vpcdReaderName(0), () => lab().daemon.insert(0, { uid: Uint8Array.of(0, 0, 0, 1) }));
      const s1 = await nextPresentOn(reader, vpcdReaderName(1), () => lab().daemon.insert(1, { uid: Uint8Array.of(0, 0, 0, 2) }));
      const answers = await Promise.all([s0, s1, s0, s1].map((s) => s.transmit(GET_UID)));
      assert.deepEqual(answers.map(toHex), ['000000019000', '000000029000', '000000019000', '000000029000']);
    } finally {
      reader.dispose();
    }
  });

  it('dispose ends sessions, stops the Client and leaves no timers behind', async () => {
    // Every timer created from here on, with where it was made, until it fires or is cleared.
    const live = new Map<number, Error>();
    const hook = createHook({
      init: (id, type) => {
        if (type !== 'Timeout') return;
        const limit = Error.stackTraceLimit;
        Error.stackTraceLimit = 50;
        live.set(id, new Error('timer made here'));
        Error.stackTraceLimit = limit;
      },
      destroy: (id) => void live.delete(id),
    }).enable();
    const reader = new PcscCardReader();
    try {
      await reader.start();
      const session = await nextPresentOn(reader, vpcdReaderName(0), () => lab().daemon.insert(0));
      assert.equal(toHex(await session.transmit(GET_UID)).length, 12);
      reader.dispose();
      assert.equal(session.present, false);
      assert.deepEqual(reader.readers, []);
      await assert.rejects(session.transmit(GET_UID), (e) => isCardIoError(e, 'card_removed'));
      await new Promise((r) => setImmediate(r)); // destroy hooks run after the clearing
      // Timers made by the reader (mocha and Node make their own, with none of our frames).
      const ours = [...live.values()].map((e) => e.stack!).filter((st) => /adapters\/(pcsc|emulator)\/[\w-]+\.ts/.test(st));
      assert.deepEqual(ours, []);
    } finally {
      hook.disable();
      reader.dispose(); // again, when a step above failed: its monitor process would keep mocha alive
    }
  });

  it('five presences in a row do not exhaust pcsc-mini\'s four card handles', async () => {
    const reader = new PcscCardReader();
    try {
      await reader.start();
      for (let i = 0; i < 5; i++) {
        const s = await nextPresentOn(reader, vpcdReaderName(0), () => lab().daemon.insert(0, { uid: Uint8Array.of(1, 1, 1, i) }));
        assert.equal(toHex(await s.transmit(GET_UID)), `0101010${i}9000`);
        const gone = new Promise<void>((resolve) => {
          const sub = reader.onCardRemoved((e) => e.sessionId === s.id && (sub.dispose(), resolve()));
        });
        await lab().daemon.remove(0);
        await gone;
      }
    } finally {
      reader.dispose();
    }
  });
});
