/**
 * AES-128 CMAC (RFC 4493) and NXP AN10922 AES-128 key diversification, over node:crypto.
 *
 * Why hand-written: AN10922 is CMAC with a different padding rule (the input is always padded to
 * 32 bytes, so it uses subkey K2 unless it is exactly 32 bytes), which the npm CMAC packages do not
 * offer. Both share the subkey generation and the CBC-MAC below, and are checked against the
 * RFC 4493 and libfreefare AN10922 vectors in `aes-cmac.test.ts`.
 */
import { createCipheriv, timingSafeEqual } from 'node:crypto';

const BLOCK = 16;
const RB = 0x87;
const ZERO_IV = Buffer.alloc(BLOCK);

function assertKey(key: Uint8Array): void {
  if (key.length !== 16) throw new RangeError(`an AES-128 key is 16 bytes, got ${key.length}`);
}

/** One ECB block encryption (for the subkeys). */
function encryptBlock(key: Uint8Array, block: Uint8Array): Buffer {
  const c = createCipheriv('aes-128-ecb', key, null);
  c.setAutoPadding(false);
  return Buffer.concat([c.update(block), c.final()]);
}

/** Left shift by one bit of a 16-byte block, XOR Rb when the top bit fell out (RFC 4493 §2.3). */
function dbl(block: Buffer): Buffer {
  const out = Buffer.alloc(BLOCK);
  for (let i = 0; i < BLOCK; i++) out[i] = ((block[i]! << 1) | (i + 1 < BLOCK ? block[i + 1]! >> 7 : 0)) & 0xff;
  if (block[0]! & 0x80) out[BLOCK - 1] = out[BLOCK - 1]! ^ RB;
  return out;
}

/** CMAC subkeys K1 and K2. */
export function cmacSubkeys(key: Uint8Array): { k1: Buffer; k2: Buffer } {
  assertKey(key);
  const k1 = dbl(encryptBlock(key, ZERO_IV));
  return { k1, k2: dbl(k1) };
}

/**
 * The CMAC of `blocks` (a non-empty multiple of 16 bytes, already padded by the caller): the last
 * block is XORed with K1 when the message was complete, else with K2, then CBC-MAC.
 */
function cmacOfBlocks(key: Uint8Array, blocks: Buffer, complete: boolean): Uint8Array {
  const { k1, k2 } = cmacSubkeys(key);
  const sub = complete ? k1 : k2;
  const last = blocks.length - BLOCK;
  for (let i = 0; i < BLOCK; i++) blocks[last + i] = blocks[last + i]! ^ sub[i]!;
  const c = createCipheriv('aes-128-cbc', key, ZERO_IV);
  c.setAutoPadding(false);
  const out = Buffer.concat([c.update(blocks), c.final()]);
  return new Uint8Array(out.subarray(out.length - BLOCK));
}

/** `data ‖ 80 00…` up to `length` bytes. */
function pad(data: Uint8Array, length: number): Buffer {
  const out = Buffer.alloc(length);
  out.set(data, 0);
  out[data.length] = 0x80;
  return out;
}

/** AES-128 CMAC per RFC 4493: a 16-byte tag. */
export function aesCmac(key: Uint8Array, message: Uint8Array): Uint8Array {
  const complete = message.length > 0 && message.length % BLOCK === 0;
  const blocks = complete ? Buffer.from(message) : pad(message, (Math.floor(message.length / BLOCK) + 1) * BLOCK);
  return cmacOfBlocks(key, blocks, complete);
}

/**
 * NXP AN10922 AES-128 key diversification: `CMAC′(master, 01 ‖ input)`, where CMAC′ always pads
 * `01 ‖ input` to 32 bytes (subkey K2), except when it is exactly 32 bytes (subkey K1).
 * `input` (the diversification data, e.g. UID ‖ application id ‖ system id) is 1 to 31 bytes.
 */
export function an10922Diversify(master: Uint8Array, input: Uint8Array): Uint8Array {
  assertKey(master);
  if (input.length < 1 || input.length > 31) throw new RangeError(`AN10922 diversification input is 1..31 bytes, got ${input.length}`);
  const d = Buffer.alloc(1 + input.length);
  d[0] = 0x01;
  d.set(input, 1);
  const complete = d.length === 2 * BLOCK;
  return cmacOfBlocks(master, complete ? d : pad(d, 2 * BLOCK), complete);
}

/** Constant-time comparison of two MACs. */
export function macEquals(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
