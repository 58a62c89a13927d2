/**
 * PC/SC part 3 storage-card pseudo-APDUs (ACR122U style, reference §2) over a {@link CardSession},
 * counting APDUs and tracking what the reader's key slots hold and whether the card is halted.
 */
import type { CardSession } from '../../adapters/card-reader.ts';
import type { SectorKeyType } from '../../adapters/keys/card-keys.ts';
import { BLOCK_SIZE } from './mifare-classic-codec.ts';

/** Reader key slot per key type: key A lives in slot 0, key B in slot 1. */
const SLOT: Readonly<Record<SectorKeyType, number>> = { A: 0x00, B: 0x01 };

/**
 * Sessions whose card a failed authentication halted. Kept per session, not per channel, because the
 * halt outlives the operation that caused it (a refused write, then a read to resolve it).
 */
const haltedSessions = new WeakSet<CardSession>();

const ok = (r: Uint8Array) => r.length >= 2 && r[r.length - 2] === 0x90 && r[r.length - 1] === 0x00;

export class StorageCardChannel {
  /** APDUs sent so far. */
  apdus = 0;
  /** Card resets so far (each a reconnect, not an APDU). */
  resets = 0;
  private readonly slots: (Uint8Array | undefined)[] = [undefined, undefined];

  constructor(readonly session: CardSession) {}

  /** Sends an APDU; the response data without SW, or undefined unless SW = 90 00. */
  async send(apdu: Uint8Array): Promise<Uint8Array | undefined> {
    this.apdus++;
    const r = await this.session.transmit(apdu);
    return ok(r) ? r.subarray(0, r.length - 2) : undefined;
  }

  async getUid(): Promise<Uint8Array | undefined> {
    return this.send(Uint8Array.of(0xff, 0xca, 0x00, 0x00, 0x00));
  }

  /**
   * Authenticates `block`'s sector with `key` as key A or B: loads the key into the slot first
   * unless it is there already, and resets a halted card first. False when the card refused.
   */
  async authenticate(block: number, keyType: SectorKeyType, key: Uint8Array): Promise<boolean> {
    if (haltedSessions.has(this.session)) await this.reset();
    const slot = SLOT[keyType];
    const loaded = this.slots[slot];
    if (!loaded || !equal(loaded, key)) {
      this.slots[slot] = undefined;
      if (!(await this.send(Uint8Array.of(0xff, 0x82, 0x00, slot, 0x06, ...key)))) return false;
      this.slots[slot] = Uint8Array.from(key);
    }
    const done = await this.send(Uint8Array.of(0xff, 0x86, 0x00, 0x00, 0x05, 0x01, 0x00, block, keyType === 'A' ? 0x60 : 0x61, slot));
    if (!done) haltedSessions.add(this.session);
    return done !== undefined;
  }

  /** Reads consecutive blocks of the authenticated sector; undefined if any read fails. */
  async readBlocks(first: number, count: number): Promise<Uint8Array[] | undefined> {
    const out: Uint8Array[] = [];
    for (let b = first; b < first + count; b++) {
      const data = await this.send(Uint8Array.of(0xff, 0xb0, 0x00, b, BLOCK_SIZE));
      if (!data || data.length !== BLOCK_SIZE) return undefined;
      out.push(Uint8Array.from(data));
    }
    return out;
  }

  /** Writes one block; false when the card refused (the outcome is then unknown: read back). */
  async writeBlock(block: number, data: Uint8Array): Promise<boolean> {
    if (data.length !== BLOCK_SIZE) throw new RangeError('a block is 16 bytes');
    return (await this.send(Uint8Array.of(0xff, 0xd6, 0x00, block, BLOCK_SIZE, ...data))) !== undefined;
  }

  /**
   * Resets the card (clears a halt). Key slots are reader memory, but not every reader keeps them
   * across a reconnect, so they are loaded again after a reset.
   */
  async reset(): Promise<void> {
    this.resets++;
    await this.session.reset();
    haltedSessions.delete(this.session);
    this.slots.fill(undefined);
  }
}

export function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
