/**
 * One shape for "a reader with an emulated card on it", so a card test suite runs unchanged against
 * the in-process reader and against the real pcsc-mini → pcscd → vpcd stack (see `cardlab.ts`).
 */
import type { CardReader, CardSession } from '../adapters/card-reader.ts';
import { InProcessCardReader } from '../adapters/emulator/in-process-reader.ts';
import { MifareClassic1k, type FaultPlan, type MifareClassicInit } from '../adapters/emulator/mifare-classic.ts';

export interface CardFixture {
  /** Shown in test titles: "in-process" or "pcscd+vpcd". */
  readonly label: string;
  /** The started reader under test. */
  readonly reader: CardReader;
  /** Puts a new emulated card on the reader; resolves with its session once PRESENT was reported. */
  insert(init?: MifareClassicInit): Promise<CardSession>;
  /** Puts the last card back (same memory) as a new presence: a re-tap. */
  reinsert(): Promise<CardSession>;
  /** Takes the card away; resolves once the removal was reported (at once if it already left). */
  remove(): Promise<void>;
  /** Arms faults on the card now on the reader (APDU indices count from this call). */
  setFaults(plan: FaultPlan): Promise<void>;
  /** The card's memory and UID now (as a cloner would read it). */
  snapshot(): Promise<{ uid: Uint8Array; image: Uint8Array }>;
  dispose(): Promise<void>;
}

/** Waits for the next PRESENT on `reader`, after running `act`. */
export async function nextPresent(reader: CardReader, act: () => unknown, timeoutMs = 5000): Promise<CardSession> {
  return new Promise<CardSession>((resolve, reject) => {
    const timer = setTimeout(() => { sub.dispose(); reject(new Error(`no card PRESENT within ${timeoutMs} ms`)); }, timeoutMs);
    const sub = reader.onCardPresent((s) => { clearTimeout(timer); sub.dispose(); resolve(s); });
    Promise.resolve().then(act).catch((e) => { clearTimeout(timer); sub.dispose(); reject(e); });
  });
}

export async function inProcessFixture(): Promise<CardFixture> {
  const reader = new InProcessCardReader();
  await reader.start();
  let last: MifareClassic1k | undefined;
  const current = () => {
    if (!reader.card) throw new Error('no card on the reader');
    return reader.card;
  };
  return {
    label: 'in-process',
    reader,
    insert: (init) => nextPresent(reader, () => reader.insert((last = new MifareClassic1k(init)))),
    reinsert: () => {
      if (!last) throw new Error('no card was inserted before');
      const card = last;
      return nextPresent(reader, () => reader.insert(card));
    },
    remove: async () => reader.remove(),
    setFaults: async (plan) => current().setFaults(plan),
    snapshot: async () => {
      const card = reader.card ?? last;
      if (!card) throw new Error('no card was inserted');
      return { uid: Uint8Array.from(card.uid), image: card.image() };
    },
    dispose: async () => reader.dispose(),
  };
}

