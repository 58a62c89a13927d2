/**
 * A MIFARE Classic 1K card as seen through an ACR122U-style reader's PC/SC part 3 pseudo-APDUs
 * (reference §2): get UID, load key, authenticate (key A/B against the sector trailer's keys and
 * access bits), read and update a block. Every failure answers `63 00`, like ACS readers; a failed
 * authentication halts the card until it is reset or powered again.
 *
 * The model plays both the reader firmware (volatile key slots) and the card (blocks, trailers,
 * authentication state). It is presented either in-process (`InProcessCardReader`) or to pcscd
 * through vpcd (`VpcdCard`), both of which also honour the {@link FaultPlan}.
 */
import { randomBytes } from 'node:crypto';

export const BLOCKS = 64;
export const BLOCK_SIZE = 16;
export const TRANSPORT_KEY = new Uint8Array(6).fill(0xff);
/** Transport access bytes: data blocks free with A|B, trailer writable with key A, key B readable. */
export const TRANSPORT_ACCESS = Uint8Array.of(0xff, 0x07, 0x80, 0x69);
/** Storage-card ATR for a Classic 1K (SS=03, NN=0001), TCK 6A. */
export const CLASSIC_1K_ATR = Uint8Array.from([
  0x3b, 0x8f, 0x80, 0x01, 0x80, 0x4f, 0x0c, 0xa0, 0x00, 0x00, 0x03, 0x06, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
  0x6a,
]);

export const SW_OK = Uint8Array.of(0x90, 0x00);
export const SW_FAIL = Uint8Array.of(0x63, 0x00);
const SW_CLA_NOT_SUPPORTED = Uint8Array.of(0x6e, 0x00);
const SW_NOT_SUPPORTED = Uint8Array.of(0x6a, 0x81);

type KeyType = 'A' | 'B';

/** What the card does with one APDU once faults are taken into account. */
export type CardReply =
  | { readonly kind: 'response'; readonly data: Uint8Array }
  /** The card left the field while handling (or before) this APDU: no answer. */
  | { readonly kind: 'removed' }
  /** The card does not answer at all. */
  | { readonly kind: 'mute' };

/**
 * Faults to inject. APDU indices count from 0 since the plan was armed.
 * `tearAt.applied` decides whether the torn APDU took effect before the card left.
 */
export interface FaultPlan {
  tearAt?: { readonly apduIndex: number; readonly applied: boolean };
  mute?: boolean;
}

export const sectorOf = (block: number) => Math.floor(block / 4);
export const trailerOf = (sector: number) => sector * 4 + 3;
export const isTrailer = (block: number) => block % 4 === 3;

/** Packs per-block access conditions (C1C2C3 as a 3-bit number per block 0..3) into bytes 6..8. */
export function encodeAccessBits(conds: readonly [number, number, number, number]): Uint8Array {
  let c1 = 0, c2 = 0, c3 = 0;
  conds.forEach((c, i) => {
    if (c & 0b100) c1 |= 1 << i;
    if (c & 0b010) c2 |= 1 << i;
    if (c & 0b001) c3 |= 1 << i;
  });
  return Uint8Array.of((((~c2 & 0xf) << 4) | (~c1 & 0xf)) & 0xff, ((c1 << 4) | (~c3 & 0xf)) & 0xff, ((c3 << 4) | c2) & 0xff);
}

/** Unpacks bytes 6..8 of a trailer into C1C2C3 per block, or undefined when they are inconsistent. */
export function decodeAccessBits(b6: number, b7: number, b8: number): [number, number, number, number] | undefined {
  const c1 = b7 >> 4, c2 = b8 & 0xf, c3 = b8 >> 4;
  if ((~b6 & 0xf) !== c1 || ((~b6 >> 4) & 0xf) !== c2 || (~b7 & 0xf) !== c3) return undefined;
  const out: number[] = [];
  for (let i = 0; i < 4; i++) out.push((((c1 >> i) & 1) << 2) | (((c2 >> i) & 1) << 1) | ((c3 >> i) & 1));
  return out as [number, number, number, number];
}

// Data block conditions (C1C2C3 → who may read / write). 'AB' = either key, '' = never.
const DATA_READ = ['AB', 'AB', 'AB', 'B', 'AB', 'B', 'AB', ''] as const;
const DATA_WRITE = ['AB', '', '', 'B', 'B', '', 'B', ''] as const;
// Trailer conditions, indexed by C1C2C3: write key A, read access bits, write access bits, read key B, write key B.
const TRAILER = [
  { wKeyA: 'A', rAcc: 'A', wAcc: '', rKeyB: 'A', wKeyB: 'A' }, // 000
  { wKeyA: 'A', rAcc: 'A', wAcc: 'A', rKeyB: 'A', wKeyB: 'A' }, // 001 (transport)
  { wKeyA: '', rAcc: 'A', wAcc: '', rKeyB: 'A', wKeyB: '' }, // 010
  { wKeyA: 'B', rAcc: 'AB', wAcc: 'B', rKeyB: '', wKeyB: 'B' }, // 011
  { wKeyA: 'B', rAcc: 'AB', wAcc: '', rKeyB: '', wKeyB: 'B' }, // 100
  { wKeyA: '', rAcc: 'AB', wAcc: 'B', rKeyB: '', wKeyB: '' }, // 101
  { wKeyA: '', rAcc: 'AB', wAcc: '', rKeyB: '', wKeyB: '' }, // 110
  { wKeyA: '', rAcc: 'AB', wAcc: '', rKeyB: '', wKeyB: '' }, // 111
] as const;

const allows = (who: string, key: KeyType) => who.includes(key);
const equal = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((v, i) => v === b[i]);

export interface MifareClassicInit {
  /** 4-byte UID; random when omitted. */
  uid?: Uint8Array;
  /** The 64 blocks' bytes (1024); a factory-fresh card when omitted. */
  image?: Uint8Array;
}

export class MifareClassic1k {
  readonly uid: Uint8Array;
  readonly atr = CLASSIC_1K_ATR;
  private readonly mem: Uint8Array;
  /** Reader firmware's volatile key slots (00 and 01). */
  private readonly keySlots: (Uint8Array | undefined)[] = [undefined, undefined];
  private auth: { sector: number; key: KeyType } | undefined;
  private halted = false;
  private faults: FaultPlan = {};
  private apduCount = 0;
  /** Counts every APDU the card has been sent since creation (for tests and benches). */
  totalApdus = 0;

  constructor(init: MifareClassicInit = {}) {
    this.uid = init.uid ? Uint8Array.from(init.uid) : randomUid();
    if (this.uid.length !== 4) throw new RangeError('a Classic 1K emulator takes a 4-byte UID');
    if (init.image) {
      if (init.image.length !== BLOCKS * BLOCK_SIZE) throw new RangeError('a Classic 1K image is 1024 bytes');
      this.mem = Uint8Array.from(init.image);
    } else {
      this.mem = new Uint8Array(BLOCKS * BLOCK_SIZE);
      for (let s = 0; s < 16; s++) {
        const t = trailerOf(s) * BLOCK_SIZE;
        this.mem.set(TRANSPORT_KEY, t);
        this.mem.set(TRANSPORT_ACCESS, t + 6);
        this.mem.set(TRANSPORT_KEY, t + 10);
      }
    }
    // Block 0: UID, BCC, SAK 08, ATQA 00 04, then manufacturer bytes.
    const b0 = new Uint8Array(BLOCK_SIZE);
    b0.set(this.uid, 0);
    b0[4] = this.uid.reduce((x, v) => x ^ v, 0);
    b0.set([0x08, 0x04, 0x00, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69], 5);
    this.mem.set(b0, 0);
  }

  /** A card whose every byte outside block 0 is random: "garbage content". */
  static withRandomContent(uid?: Uint8Array): MifareClassic1k {
    return new MifareClassic1k({ uid, image: randomBytes(BLOCKS * BLOCK_SIZE) });
  }

  /** A copy of the card's memory, as a cloner would read it. */
  image(): Uint8Array {
    return Uint8Array.from(this.mem);
  }

  /** Raw block access for tests and cloning, bypassing keys. */
  peekBlock(block: number): Uint8Array {
    return this.mem.slice(block * BLOCK_SIZE, (block + 1) * BLOCK_SIZE);
  }

  /** Arms faults; APDU indices count from now. */
  setFaults(plan: FaultPlan): void {
    this.faults = { ...plan };
    this.apduCount = 0;
  }

  /** Power off, power on and reset all end the authenticated session and clear a halt. */
  powerCycle(): void {
    this.auth = undefined;
    this.halted = false;
  }

  /** Handles one APDU with faults applied. */
  transmit(apdu: Uint8Array): CardReply {
    const index = this.apduCount++;
    this.totalApdus++;
    if (this.faults.mute) return { kind: 'mute' };
    const tear = this.faults.tearAt;
    if (tear && tear.apduIndex === index) {
      this.faults = {};
      if (tear.applied) this.process(apdu);
      this.powerCycle();
      return { kind: 'removed' };
    }
    return { kind: 'response', data: this.process(apdu) };
  }

  /** The card's answer to one APDU, without faults. */
  process(apdu: Uint8Array): Uint8Array {
    if (apdu.length < 4) return SW_FAIL;
    if (apdu[0] !== 0xff) return SW_CLA_NOT_SUPPORTED;
    const [, ins, p1, p2] = apdu as unknown as [number, number, number, number];
    switch (ins) {
      case 0xca: // get data
        if (p1 !== 0x00 || p2 !== 0x00) return SW_NOT_SUPPORTED;
        return concat(this.uid, SW_OK);
      case 0x82: // load key into a volatile slot
        if (apdu.length !== 11 || apdu[4] !== 0x06 || p2 > 1) return SW_FAIL;
        this.keySlots[p2] = apdu.slice(5, 11);
        return SW_OK;
      case 0x86: // general authenticate
        if (apdu.length !== 10 || apdu[4] !== 0x05 || apdu[5] !== 0x01) return SW_FAIL;
        return this.authenticate(apdu[7]!, apdu[8]!, apdu[9]!);
      case 0x88: // obsolete authenticate
        if (apdu.length < 6) return SW_FAIL;
        return this.authenticate(p2, apdu[4]!, apdu[5]!);
      case 0xb0: // read binary
        return this.read(p2, apdu.length === 5 ? apdu[4]! : -1);
      case 0xd6: // update binary
        if (apdu.length !== 5 + BLOCK_SIZE || apdu[4] !== BLOCK_SIZE) return SW_FAIL;
        return this.write(p2, apdu.subarray(5));
      default:
        return SW_NOT_SUPPORTED;
    }
  }

  private authenticate(block: number, keyCode: number, slot: number): Uint8Array {
    if (this.halted || block >= BLOCKS || (keyCode !== 0x60 && keyCode !== 0x61) || slot > 1) return this.halt();
    const key = this.keySlots[slot];
    if (!key) return this.halt();
    const sector = sectorOf(block);
    const t = trailerOf(sector) * BLOCK_SIZE;
    const conds = this.conditions(sector);
    if (!conds) return this.halt(); // corrupt access bits: the sector is unusable
    const keyType: KeyType = keyCode === 0x60 ? 'A' : 'B';
    const expected = keyType === 'A' ? this.mem.subarray(t, t + 6) : this.mem.subarray(t + 10, t + 16);
    // When key B is readable it is data, and cannot be used to authenticate.
    if (keyType === 'B' && TRAILER[conds[3]]!.rKeyB !== '') return this.halt();
    if (!equal(key, expected)) return this.halt();
    this.auth = { sector, key: keyType };
    return SW_OK;
  }

  private halt(): Uint8Array {
    this.halted = true;
    this.auth = undefined;
    return SW_FAIL;
  }

  private conditions(sector: number) {
    const t = trailerOf(sector) * BLOCK_SIZE;
    return decodeAccessBits(this.mem[t + 6]!, this.mem[t + 7]!, this.mem[t + 8]!);
  }

  private authorised(block: number): { key: KeyType; conds: [number, number, number, number] } | undefined {
    if (this.halted || !this.auth || block >= BLOCKS || this.auth.sector !== sectorOf(block)) return undefined;
    const conds = this.conditions(this.auth.sector);
    return conds ? { key: this.auth.key, conds } : undefined;
  }

  private read(block: number, le: number): Uint8Array {
    if (le !== 0x10 && le !== 0x00) return SW_FAIL;
    const a = this.authorised(block);
    if (!a) return SW_FAIL;
    const off = block * BLOCK_SIZE;
    if (!isTrailer(block)) {
      if (!allows(DATA_READ[a.conds[block % 4]!]!, a.key)) return SW_FAIL;
      return concat(this.mem.subarray(off, off + BLOCK_SIZE), SW_OK);
    }
    const tc = TRAILER[a.conds[3]]!;
    const out = new Uint8Array(BLOCK_SIZE); // key A always reads as zeros
    if (allows(tc.rAcc, a.key)) out.set(this.mem.subarray(off + 6, off + 10), 6);
    if (allows(tc.rKeyB, a.key)) out.set(this.mem.subarray(off + 10, off + 16), 10);
    return concat(out, SW_OK);
  }

  private write(block: number, data: Uint8Array): Uint8Array {
    if (block === 0) return SW_FAIL; // manufacturer block
    const a = this.authorised(block);
    if (!a) return SW_FAIL;
    const off = block * BLOCK_SIZE;
    if (!isTrailer(block)) {
      if (!allows(DATA_WRITE[a.conds[block % 4]!]!, a.key)) return SW_FAIL;
      this.mem.set(data, off);
      return SW_OK;
    }
    // A trailer write changes only the parts the current key may change; the rest stays as it was.
    const tc = TRAILER[a.conds[3]]!;
    if (!allows(tc.wKeyA, a.key) && !allows(tc.wAcc, a.key) && !allows(tc.wKeyB, a.key)) return SW_FAIL;
    if (allows(tc.wKeyA, a.key)) this.mem.set(data.subarray(0, 6), off);
    if (allows(tc.wAcc, a.key)) this.mem.set(data.subarray(6, 10), off + 6);
    if (allows(tc.wKeyB, a.key)) this.mem.set(data.subarray(10, 16), off + 10);
    return SW_OK;
  }
}

function randomUid(): Uint8Array {
  const uid = randomBytes(4);
  if (uid[0] === 0x88) uid[0] = 0x08; // 0x88 is the cascade tag, never a first UID byte
  return uid;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
