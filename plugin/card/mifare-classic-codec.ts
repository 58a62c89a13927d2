/**
 * The CineCard layout on a MIFARE Classic 1K, byte for byte (`spec/card-format.md` is the normative
 * text; keep the two in step). Pure encode/decode of blocks, plus sealing and opening them with a
 * {@link CardKeys} MAC. Decoding never throws on bad bytes: it says what is wrong.
 */
import type { CardKeys, MacContext } from '../../adapters/keys/card-keys.ts';
import type { CardRecord, CardStatic, CardStatus, CardTxKind, RecordCopy } from './card-data.ts';

export const BLOCK_SIZE = 16;
/** "CNM1" */
export const MAGIC = Uint8Array.of(0x43, 0x4e, 0x4d, 0x31);
export const LAYOUT_VERSION = 1;
export const RECORD_VERSION = 1;
/** Flags bit 0: the card is hotlisted. The other bits are reserved: written 0, ignored on read. */
export const FLAG_BLOCKED = 0x01;
/** MAC domain bytes: static sector ('S') and dynamic record ('D'). */
export const MAC_DOMAIN_STATIC = 0x53;
export const MAC_DOMAIN_RECORD = 0x44;

/** Sector 1 holds the static data (blocks 4, 5, MAC in 6); sectors 2 and 3 the record copies A and B. */
export const STATIC_SECTOR = 1;
export const RECORD_SECTOR: Readonly<Record<RecordCopy, number>> = { A: 2, B: 3 };
export const firstBlock = (sector: number) => sector * 4;

/** Access bytes 6..9 of our data sectors' trailers: data read A|B, write B; keys writable with B. */
export const DATA_SECTOR_ACCESS = Uint8Array.of(0x78, 0x77, 0x88, 0x69);
/** Sector 0 (MAD): same access conditions; GPB C1 = MAD v1 present, multi-application card. */
export const MAD_SECTOR_ACCESS = Uint8Array.of(0x78, 0x77, 0x88, 0xc1);
/** The public MAD key A (MIFARE Application Directory, AN10787). */
export const MAD_KEY_A = Uint8Array.of(0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5);
/** Factory transport key. */
export const TRANSPORT_KEY = new Uint8Array(6).fill(0xff);
/**
 * CineCard's MAD application id (function cluster 0x43, application 0x43). NOT registered with NXP:
 * a chain that shares cards with other applications should register one and change it here.
 */
export const CINECARD_MAD_AID = { functionCluster: 0x43, application: 0x43 } as const;
/** Sectors listed under our AID in the MAD. */
export const CINECARD_SECTORS = [1, 2, 3] as const;

const STATUS_CODES: Readonly<Record<CardStatus, number>> = { made: 1, active: 2, recycled: 3, cancelled: 4 };
const TX_KIND_CODES: Readonly<Record<CardTxKind, number>> = {
  none: 0, redeem: 1, top_up: 2, void: 3, issue: 4, activate: 5, renew: 6, recycle: 7,
};
const byCode = <K extends string>(m: Readonly<Record<K, number>>) => new Map(Object.entries(m).map(([k, v]) => [v as number, k as K]));
const STATUS_BY_CODE = byCode(STATUS_CODES);
const TX_KIND_BY_CODE = byCode(TX_KIND_CODES);

/** Why bytes do not decode. */
export type DecodeProblem =
  /** No CineCard magic: not our layout at all. */
  | 'not_cinecard'
  /** Our magic, but a layout/record version or a code this software does not know (a newer card). */
  | 'unsupported';

export type Decoded<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly problem: DecodeProblem };

function checkUint(name: string, v: number, bits: 8 | 16 | 32): void {
  if (!Number.isInteger(v) || v < 0 || v >= 2 ** bits) throw new RangeError(`${name} must be a u${bits}, got ${v}`);
}

const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

/** Blocks 4 and 5 (the MAC block 6 comes from {@link sealStatic}). */
export function encodeStatic(s: CardStatic): [Uint8Array, Uint8Array] {
  checkUint('layoutVersion', s.layoutVersion, 8);
  checkUint('cardType', s.cardType, 8);
  checkUint('keyVersion', s.keyVersion, 8);
  if (s.keyVersion === 0) throw new RangeError('keyVersion 0 is not a key version');
  if (s.cardNumber < 0n || s.cardNumber >= 2n ** 64n) throw new RangeError(`cardNumber must be a u64, got ${s.cardNumber}`);
  checkUint('issuedAt', s.issuedAt, 32);
  checkUint('originalExpiry', s.originalExpiry, 32);
  checkUint('initialUses', s.initialUses, 16);
  checkUint('chainId', s.chainId, 16);
  checkUint('issuingCinema', s.issuingCinema, 16);
  const b4 = new Uint8Array(BLOCK_SIZE);
  const d4 = view(b4);
  b4.set(MAGIC, 0);
  d4.setUint8(4, s.layoutVersion);
  d4.setUint8(5, s.cardType);
  d4.setUint8(6, s.keyVersion);
  d4.setUint8(7, s.blocked ? FLAG_BLOCKED : 0);
  d4.setBigUint64(8, s.cardNumber);
  const b5 = new Uint8Array(BLOCK_SIZE);
  const d5 = view(b5);
  d5.setUint32(0, s.issuedAt);
  d5.setUint32(4, s.originalExpiry);
  d5.setUint16(8, s.initialUses);
  d5.setUint16(10, s.chainId);
  d5.setUint16(12, s.issuingCinema);
  return [b4, b5];
}

export function hasMagic(b4: Uint8Array): boolean {
  return MAGIC.every((v, i) => b4[i] === v);
}

export function decodeStatic(b4: Uint8Array, b5: Uint8Array): Decoded<CardStatic> {
  if (b4.length !== BLOCK_SIZE || b5.length !== BLOCK_SIZE || !hasMagic(b4)) return { ok: false, problem: 'not_cinecard' };
  const d4 = view(b4);
  const d5 = view(b5);
  if (d4.getUint8(4) !== LAYOUT_VERSION || d4.getUint8(6) === 0) return { ok: false, problem: 'unsupported' };
  return {
    ok: true,
    value: {
      layoutVersion: d4.getUint8(4),
      cardType: d4.getUint8(5),
      keyVersion: d4.getUint8(6),
      blocked: (d4.getUint8(7) & FLAG_BLOCKED) !== 0,
      cardNumber: d4.getBigUint64(8),
      issuedAt: d5.getUint32(0),
      originalExpiry: d5.getUint32(4),
      initialUses: d5.getUint16(8),
      chainId: d5.getUint16(10),
      issuingCinema: d5.getUint16(12),
    },
  };
}

/** The two data blocks of a record copy (the MAC block comes from {@link sealRecord}). */
export function encodeRecord(r: CardRecord): [Uint8Array, Uint8Array] {
  checkUint('seq', r.seq, 32);
  checkUint('remainingUses', r.remainingUses, 16);
  checkUint('lifetimeUsesLoaded', r.lifetimeUsesLoaded, 16);
  checkUint('expiry', r.expiry, 32);
  checkUint('lastTxTime', r.lastTxTime, 32);
  checkUint('lastCinema', r.lastCinema, 16);
  checkUint('lastTerminal', r.lastTerminal, 16);
  if (!Number.isInteger(r.lastAmount) || r.lastAmount < -32768 || r.lastAmount > 32767) throw new RangeError(`lastAmount must be an i16, got ${r.lastAmount}`);
  const status = STATUS_CODES[r.status];
  const kind = TX_KIND_CODES[r.lastTxKind];
  if (status === undefined) throw new RangeError(`unknown status ${String(r.status)}`);
  if (kind === undefined) throw new RangeError(`unknown tx kind ${String(r.lastTxKind)}`);
  const b0 = new Uint8Array(BLOCK_SIZE);
  const d0 = view(b0);
  d0.setUint32(0, r.seq);
  d0.setUint16(4, r.remainingUses);
  d0.setUint16(6, r.lifetimeUsesLoaded);
  d0.setUint32(8, r.expiry);
  d0.setUint8(12, status);
  d0.setUint8(13, RECORD_VERSION);
  const b1 = new Uint8Array(BLOCK_SIZE);
  const d1 = view(b1);
  d1.setUint32(0, r.lastTxTime);
  d1.setUint16(4, r.lastCinema);
  d1.setUint16(6, r.lastTerminal);
  d1.setInt16(8, r.lastAmount);
  d1.setUint8(10, kind);
  return [b0, b1];
}

export function decodeRecord(b0: Uint8Array, b1: Uint8Array): Decoded<CardRecord> {
  if (b0.length !== BLOCK_SIZE || b1.length !== BLOCK_SIZE) return { ok: false, problem: 'unsupported' };
  const d0 = view(b0);
  const d1 = view(b1);
  const status = STATUS_BY_CODE.get(d0.getUint8(12));
  const kind = TX_KIND_BY_CODE.get(d1.getUint8(10));
  if (d0.getUint8(13) !== RECORD_VERSION || !status || !kind) return { ok: false, problem: 'unsupported' };
  return {
    ok: true,
    value: {
      seq: d0.getUint32(0),
      remainingUses: d0.getUint16(4),
      lifetimeUsesLoaded: d0.getUint16(6),
      expiry: d0.getUint32(8),
      status,
      lastTxTime: d1.getUint32(0),
      lastCinema: d1.getUint16(4),
      lastTerminal: d1.getUint16(6),
      lastAmount: d1.getInt16(8),
      lastTxKind: kind,
    },
  };
}


function u64(v: bigint): Uint8Array {
  const b = new Uint8Array(8);
  view(b).setBigUint64(0, v);
  return b;
}

/** MAC_S input: `53 ‖ UID ‖ block 4 ‖ block 5`. */
export const staticMacInput = (uid: Uint8Array, b4: Uint8Array, b5: Uint8Array) => Buffer.concat([Uint8Array.of(MAC_DOMAIN_STATIC), uid, b4, b5]);

/** MAC_D input: `44 ‖ UID ‖ card number ‖ record block 0 ‖ record block 1`. */
export const recordMacInput = (uid: Uint8Array, cardNumber: bigint, b0: Uint8Array, b1: Uint8Array) =>
  Buffer.concat([Uint8Array.of(MAC_DOMAIN_RECORD), uid, u64(cardNumber), b0, b1]);

/** The three blocks of sector 1: static data and its MAC. */
export async function sealStatic(keys: CardKeys, uid: Uint8Array, s: CardStatic): Promise<[Uint8Array, Uint8Array, Uint8Array]> {
  const [b4, b5] = encodeStatic(s);
  const mac = await keys.mac({ uid, cardNumber: s.cardNumber, keyVersion: s.keyVersion }, staticMacInput(uid, b4, b5));
  return [b4, b5, mac];
}

/** What opening a sealed sector gives. */
export type Opened<T> =
  | { readonly kind: 'ok'; readonly value: T }
  | { readonly kind: 'mac_invalid' }
  | { readonly kind: 'not_cinecard' }
  | { readonly kind: 'unsupported' };

/**
 * Opens sector 1's blocks. `keyVersion` is the version whose key A opened the sector; the MAC is
 * checked with it, and the static data must name the same version.
 */
export async function openStatic(keys: CardKeys, uid: Uint8Array, blocks: readonly Uint8Array[], keyVersion: number): Promise<Opened<CardStatic> & { cardNumber?: bigint }> {
  const [b4, b5, mac] = blocks;
  if (!b4 || !b5 || !mac || !hasMagic(b4)) return { kind: 'not_cinecard' };
  const cardNumber = view(b4).getBigUint64(8);
  if (!(await keys.verifyMac({ uid, cardNumber, keyVersion }, staticMacInput(uid, b4, b5), mac))) return { kind: 'mac_invalid', cardNumber };
  const decoded = decodeStatic(b4, b5);
  if (!decoded.ok) return { kind: decoded.problem, cardNumber };
  if (decoded.value.keyVersion !== keyVersion) return { kind: 'mac_invalid', cardNumber };
  return { kind: 'ok', value: decoded.value, cardNumber };
}

/** The three blocks of a record copy: data, data, MAC (written in that order: MAC last). */
export async function sealRecord(keys: CardKeys, context: MacContext, r: CardRecord): Promise<[Uint8Array, Uint8Array, Uint8Array]> {
  const [b0, b1] = encodeRecord(r);
  const mac = await keys.mac(context, recordMacInput(context.uid, context.cardNumber, b0, b1));
  return [b0, b1, mac];
}

export async function openRecord(keys: CardKeys, context: MacContext, blocks: readonly Uint8Array[]): Promise<Opened<CardRecord>> {
  const [b0, b1, mac] = blocks;
  if (!b0 || !b1 || !mac) return { kind: 'mac_invalid' };
  if (!(await keys.verifyMac(context, recordMacInput(context.uid, context.cardNumber, b0, b1), mac))) return { kind: 'mac_invalid' };
  const decoded = decodeRecord(b0, b1);
  return decoded.ok ? { kind: 'ok', value: decoded.value } : { kind: decoded.problem };
}

/** A sector trailer: key A ‖ access bytes ‖ key B. */
export function trailer(keyA: Uint8Array, access: Uint8Array, keyB: Uint8Array): Uint8Array {
  if (keyA.length !== 6 || keyB.length !== 6 || access.length !== 4) throw new RangeError('a trailer is key A (6) ‖ access (4) ‖ key B (6)');
  return Buffer.concat([keyA, access, keyB]);
}

// ---- MIFARE Application Directory (MAD v1, sector 0) -----------------------------------------

/** CRC-8 of the MAD (polynomial x⁸+x⁴+x³+x²+1, preset C7), as in NXP AN10787 and libfreefare. */
export function madCrc(bytes: Uint8Array): number {
  let crc = 0xc7;
  for (const v of bytes) {
    crc ^= v;
    for (let i = 0; i < 8; i++) crc = crc & 0x80 ? ((crc << 1) ^ 0x1d) & 0xff : (crc << 1) & 0xff;
  }
  return crc;
}

/** Blocks 1 and 2 of a MAD v1 that lists CineCard in {@link CINECARD_SECTORS} and nothing else. */
export function encodeMad(): [Uint8Array, Uint8Array] {
  const body = new Uint8Array(31); // info byte, then 15 AIDs (application code, function cluster)
  body[0] = 0x00; // no card publisher sector
  for (const s of CINECARD_SECTORS) {
    body[1 + (s - 1) * 2] = CINECARD_MAD_AID.application;
    body[2 + (s - 1) * 2] = CINECARD_MAD_AID.functionCluster;
  }
  const mad = Buffer.concat([Uint8Array.of(madCrc(body)), body]);
  return [Uint8Array.from(mad.subarray(0, 16)), Uint8Array.from(mad.subarray(16, 32))];
}

/** Reads a MAD v1: `invalid` (bad CRC), `cinecard` (our AID on all our sectors) or `other`. */
export function classifyMad(b1: Uint8Array, b2: Uint8Array): 'invalid' | 'cinecard' | 'other' {
  if (b1.length !== 16 || b2.length !== 16) return 'invalid';
  const mad = Buffer.concat([b1, b2]);
  if (madCrc(mad.subarray(1)) !== mad[0]) return 'invalid';
  const ours = CINECARD_SECTORS.every(
    (s) => mad[2 + (s - 1) * 2] === CINECARD_MAD_AID.application && mad[3 + (s - 1) * 2] === CINECARD_MAD_AID.functionCluster,
  );
  return ours ? 'cinecard' : 'other';
}
