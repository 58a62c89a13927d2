/**
 * dispose() (and start()) never block this thread, whatever pcscd does: the monitoring pcsc-mini
 * Client, whose stop() can wait for the next reader event or for pcscd to answer, lives in a child
 * process that dispose() kills (reader-monitor.ts). Each test watches the event loop with an
 * interval while it runs.
 */
import assert from 'node:assert/strict';
import { isCardIoError, type CardSession } from '../../card-reader.ts';
import { PcscCardReader } from '../pcsc-card-reader.ts';
import { nextPresentOn, readerListed, useCardLab, vpcdReaderName } from '../../../test-support/cardlab.ts';

const GET_UID = Uint8Array.of(0xff, 0xca, 0x00, 0x00, 0x00);
const NAME = vpcdReaderName(0);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex').toUpperCase();

/** Records the longest gap between ticks of a 10 ms interval: how long the event loop was held. */
function watchEventLoop(): { readonly longestGapMs: number; readonly ticks: number; stop(): void } {
  let last = performance.now();
  let longest = 0;
  let ticks = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
    ticks++;
  }, 10);
  return {
    get longestGapMs() {
      return Math.max(longest, performance.now() - last);
    },
    get ticks() {
      return ticks;
    },
    stop: () => clearInterval(timer),
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(what: string, ok: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!ok()) {
    if (performance.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(10);
  }
}

/** Resolves when `session`'s card is reported gone. */
function removed(reader: PcscCardReader, session: CardSession, timeoutMs = 5000): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!session.present) return resolve();
    const timer = setTimeout(() => (sub.dispose(), reject(new Error('no removal reported'))), timeoutMs);
    const sub = reader.onCardRemoved((e) => {
      if (e.sessionId !== session.id) return;
      clearTimeout(timer);
      sub.dispose();
      resolve();
    });
  });
}

describe('PcscCardReader dispose never blocks the event loop', function () {
  this.timeout(120_000);
  const lab = useCardLab();
  afterEach(async () => {
    lab().resumePcscd();
    await lab().daemon.remove(0);
    // pcscd polls vpcd every ~400 ms: a card put on before it saw this one leave would read as the
    // same card still there (and get its power-down).
    await sleep(1000);
  });

  it('dispose() with a card present and idle returns at once, 20 times in a row', async () => {
    await lab().daemon.insert(0, { uid: Uint8Array.of(0xd1, 0x59, 0x05, 0xe0) });
    for (let round = 0; round < 20; round++) {
      const reader = new PcscCardReader();
      let pid: number | undefined;
      try {
        // The card already lies there: the reader's first status of it makes the session.
        const session = await nextPresentOn(reader, NAME, () => reader.start());
        assert.equal(toHex(await session.transmit(GET_UID)), 'D15905E09000');
        pid = reader.monitorPid;
        assert.ok(pid !== undefined && alive(pid), 'the monitor process runs');
        // Idle: past pcscd's next presence poll, which reports our own connection (IN_USE); after
        // that no reader event is coming while the card lies still.
        await sleep(500);
        const loop = watchEventLoop();
        try {
          const t0 = performance.now();
          reader.dispose();
          const took = performance.now() - t0;
          assert.ok(took < 100, `round ${round}: dispose() took ${took.toFixed(0)} ms`);
          assert.equal(session.present, false);
          await assert.rejects(session.transmit(GET_UID), (e) => isCardIoError(e, 'card_removed'));
          const ticks = loop.ticks;
          await until(`round ${round}: the monitor process exits`, () => !alive(pid!));
          await sleep(50);
          assert.ok(loop.ticks > ticks, 'the interval kept ticking after dispose()');
          assert.ok(loop.longestGapMs < 500, `round ${round}: the event loop was held for ${loop.longestGapMs.toFixed(0)} ms`);
        } finally {
          loop.stop();
        }
      } finally {
        reader.dispose();
        if (pid !== undefined && alive(pid)) process.kill(pid, 'SIGKILL');
      }
    }
  });

  it('dispose() while pcscd answers nothing (stopped) returns at once; pcscd carries on afterwards', async () => {
    const reader = new PcscCardReader();
    let pid: number | undefined;
    const loop = watchEventLoop();
    try {
      await reader.start();
      await readerListed(reader, NAME);
      const session = await nextPresentOn(reader, NAME, () => lab().daemon.insert(0, { uid: Uint8Array.of(1, 2, 3, 4) }));
      assert.equal(toHex(await session.transmit(GET_UID)), '010203049000');
      pid = reader.monitorPid;
      await sleep(500);
      // With pcscd frozen, pcsc-mini's stop() waits in SCardCancel (or SCardReleaseContext) until
      // pcscd answers: in this thread that held the event loop for as long as pcscd was stopped.
      lab().pausePcscd();
      const t0 = performance.now();
      reader.dispose();
      const took = performance.now() - t0;
      assert.ok(took < 100, `dispose() took ${took.toFixed(0)} ms`);
      assert.equal(session.present, false);
      await until('the monitor process exits while pcscd is stopped', () => !alive(pid!));
      await sleep(300);
      assert.ok(loop.longestGapMs < 500, `the event loop was held for ${loop.longestGapMs.toFixed(0)} ms`);
    } finally {
      loop.stop();
      lab().resumePcscd();
      reader.dispose();
    }
    // pcscd lost nothing by it: a new reader sees the card and talks to it.
    const next = new PcscCardReader();
    try {
      const again = await nextPresentOn(next, NAME, () => next.start());
      assert.equal(toHex(await again.transmit(GET_UID)), '010203049000');
    } finally {
      next.dispose();
    }
  });

  it('start() while pcscd answers nothing does not hold the event loop, and comes up once pcscd does', async () => {
    // The card lies there, seen and let go by pcscd, before pcscd is frozen: nothing of it is pending.
    const first = new PcscCardReader();
    try {
      await nextPresentOn(first, NAME, async () => {
        await first.start();
        await lab().daemon.insert(0, { uid: Uint8Array.of(5, 6, 7, 8) });
      });
    } finally {
      first.dispose();
    }
    await sleep(1500); // past pcscd's power-down of a card nobody holds (~0.6 s after the last handle)
    const reader = new PcscCardReader({ startWaitMs: 200 });
    const loop = watchEventLoop();
    try {
      lab().pausePcscd();
      const starting = reader.start();
      await sleep(1000);
      assert.equal(reader.serviceState, 'down');
      assert.ok(loop.longestGapMs < 500, `the event loop was held for ${loop.longestGapMs.toFixed(0)} ms`);
      const session = await nextPresentOn(reader, NAME, () => lab().resumePcscd());
      await starting;
      assert.equal(reader.serviceState, 'up');
      assert.equal(toHex(await session.transmit(GET_UID)), '050607089000');
    } finally {
      loop.stop();
      lab().resumePcscd();
      reader.dispose();
    }
  });

  it('a monitor start pcscd leaves unanswered is given up after monitorStartTimeoutMs, its process killed, and tried again', async () => {
    // Long enough for a process to start and answer on a loaded machine once pcscd runs again.
    const reader = new PcscCardReader({ monitorStartTimeoutMs: 1500, restartDelayMs: { initial: 50, max: 100 }, startWaitMs: 200 });
    const loop = watchEventLoop();
    try {
      lab().pausePcscd();
      const starting = reader.start();
      await until('the first monitor process', () => reader.monitorPid !== undefined);
      const stuck = reader.monitorPid!;
      await until('the stuck monitor process is killed', () => !alive(stuck), 5000);
      await starting; // a start that timed out is an answer: the service is down
      assert.equal(reader.serviceState, 'down');
      await until('another monitor process is tried', () => reader.monitorPid !== undefined && reader.monitorPid !== stuck);
      lab().resumePcscd();
      await readerListed(reader, NAME, 5000);
      assert.equal(reader.serviceState, 'up');
      assert.ok(loop.longestGapMs < 500, `the event loop was held for ${loop.longestGapMs.toFixed(0)} ms`);
    } finally {
      loop.stop();
      lab().resumePcscd();
      reader.dispose();
    }
  });

  it('a monitor process that dies is replaced: the card is reported again and talks', async () => {
    const reader = new PcscCardReader({ restartDelayMs: { initial: 50, max: 500 } });
    try {
      await reader.start();
      await readerListed(reader, NAME);
      const session = await nextPresentOn(reader, NAME, () => lab().daemon.insert(0, { uid: Uint8Array.of(9, 9, 9, 9) }));
      const pid = reader.monitorPid!;
      const gone = removed(reader, session);
      const again = nextPresentOn(reader, NAME, () => process.kill(pid, 'SIGKILL'), 10_000);
      await gone;
      const session2 = await again;
      assert.notEqual(session2.id, session.id);
      assert.notEqual(reader.monitorPid, pid);
      assert.equal(reader.serviceState, 'up');
      assert.equal(toHex(await session2.transmit(GET_UID)), '090909099000');
    } finally {
      reader.dispose();
    }
  });
});
