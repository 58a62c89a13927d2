import assert from 'node:assert/strict';
import fc from 'fast-check';
import { demoCardKeys } from '../../adapters/keys/demo-card-keys.ts';
import type { CardRecord, CardStatic } from './card-data.ts';
import {
  BLOCK_SIZE,
  classifyMad,
  decodeRecord,
  decodeStatic,
  encodeMad,
  encodeRecord,
  encodeStatic,
  madCrc,
  openRecord,
  openStatic,
  sealRecord,
  sealStatic,
} from './mifare-classic-codec.ts';

const u8 = fc.integer({ min: 0, max: 0xff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });

const staticArb: fc.Arbitrary<CardStatic> = fc.record({
  layoutVersion: fc.constant(1),
  cardType: u8,
  keyVersion: fc.integer({ min: 1, max: 2 }),
  blocked: fc.boolean(),
  cardNumber: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
  issuedAt: u32,
  originalExpiry: u32,
  initialUses: u16,
  chainId: u16,
  issuingCinema: u16,
});

const recordArb: fc.Arbitrary<CardRecord> = fc.record({
  seq: u32,
  remainingUses: u16,
  lifetimeUsesLoaded: u16,
  expiry: u32,
  status: fc.constantFrom('made', 'active', 'recycled', 'cancelled'),
  lastTxTime: u32,
  lastCinema: u16,
  lastTerminal: u16,
  lastAmount: fc.integer({ min: -32768, max: 32767 }),
  lastTxKind: fc.constantFrom('none', 'redeem', 'top_up', 'void', 'issue', 'activate', 'renew', 'recycle'),
});

const uidArb = fc.oneof(fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.uint8Array({ minLength: 7, maxLength: 7 }));
const keys = demoCardKeys();

function flip(blocks: readonly Uint8Array[], bit: number): Uint8Array[] {
  const out = blocks.map((b) => Uint8Array.from(b));
  const block = Math.floor(bit / (BLOCK_SIZE * 8));
  const within = bit % (BLOCK_SIZE * 8);
  out[block]![within >> 3]! ^= 1 << (within & 7);
  return out;
}

describe('MIFARE Classic codec', () => {
  it('decode(encode(static)) = static', () => {
    fc.assert(
      fc.property(staticArb, (s) => {
        const [b4, b5] = encodeStatic(s);
        assert.deepEqual(decodeStatic(b4, b5), { ok: true, value: { ...s } });
      }),
    );
  });

  it('decode(encode(record)) = record', () => {
    fc.assert(
      fc.property(recordArb, (r) => {
        const [b0, b1] = encodeRecord(r);
        assert.deepEqual(decodeRecord(b0, b1), { ok: true, value: { ...r } });
      }),
    );
  });

  it('lays out the static blocks as the spec says', () => {
    const [b4, b5] = encodeStatic({
      layoutVersion: 1, cardType: 7, keyVersion: 2, blocked: true, cardNumber: 0x0102030405060708n,
      issuedAt: 0x11223344, originalExpiry: 0x55667788, initialUses: 0x0014, chainId: 0x000c, issuingCinema: 0x012d,
    });
    assert.equal(Buffer.from(b4).toString('hex'), '434e4d3101070201' + '0102030405060708');
    assert.equal(Buffer.from(b5).toString('hex'), '11223344' + '55667788' + '0014' + '000c' + '012d' + '0000');
  });

  it('lays out the record blocks as the spec says', () => {
    const [b0, b1] = encodeRecord({
      seq: 5, remainingUses: 17, lifetimeUsesLoaded: 20, expiry: 0x6a000000, status: 'active',
      lastTxTime: 0x69560000, lastCinema: 302, lastTerminal: 4, lastAmount: -3, lastTxKind: 'top_up',
    });
    assert.equal(Buffer.from(b0).toString('hex'), '00000005' + '0011' + '0014' + '6a000000' + '02' + '01' + '0000');
    assert.equal(Buffer.from(b1).toString('hex'), '69560000' + '012e' + '0004' + 'fffd' + '02' + '0000000000');
  });

  it('refuses to encode out-of-range fields', () => {
    const r: CardRecord = { seq: 1, remainingUses: 1, lifetimeUsesLoaded: 1, expiry: 1, status: 'made', lastTxTime: 1, lastCinema: 1, lastTerminal: 1, lastAmount: 1, lastTxKind: 'issue' };
    assert.throws(() => encodeRecord({ ...r, remainingUses: 70_000 }), RangeError);
    assert.throws(() => encodeRecord({ ...r, lastAmount: 40_000 }), RangeError);
    assert.throws(() => encodeRecord({ ...r, seq: -1 }), RangeError);
  });

  it('never throws decoding random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.uint8Array({ minLength: 16, maxLength: 16 }), (a, b) => {
        decodeStatic(a, b);
        decodeRecord(a, b);
      }),
    );
  });

  it('a sealed record opens; any single bit flip in its three blocks makes the MAC invalid', async () => {
    await fc.assert(
      fc.asyncProperty(recordArb, uidArb, fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.integer({ min: 0, max: 3 * 128 - 1 }), async (r, uid, cardNumber, bit) => {
        const ctx = { uid, cardNumber, keyVersion: 2 };
        const blocks = await sealRecord(keys, ctx, r);
        assert.deepEqual(await openRecord(keys, ctx, blocks), { kind: 'ok', value: { ...r } });
        assert.equal((await openRecord(keys, ctx, flip(blocks, bit))).kind, 'mac_invalid');
      }),
      { numRuns: 300 },
    );
  });

  it('a record MAC is bound to the UID and the card number', async () => {
    await fc.assert(
      fc.asyncProperty(recordArb, uidArb, fc.bigInt({ min: 0n, max: 2n ** 64n - 2n }), async (r, uid, cardNumber) => {
        const blocks = await sealRecord(keys, { uid, cardNumber, keyVersion: 1 }, r);
        assert.equal((await openRecord(keys, { uid, cardNumber: cardNumber + 1n, keyVersion: 1 }, blocks)).kind, 'mac_invalid');
        const otherUid = Uint8Array.from(uid);
        otherUid[0]! ^= 1;
        assert.equal((await openRecord(keys, { uid: otherUid, cardNumber, keyVersion: 1 }, blocks)).kind, 'mac_invalid');
      }),
      { numRuns: 100 },
    );
  });

  it('a sealed static sector opens; any single bit flip makes it fail (MAC invalid or not ours)', async () => {
    await fc.assert(
      fc.asyncProperty(staticArb, uidArb, fc.integer({ min: 0, max: 3 * 128 - 1 }), async (s, uid, bit) => {
        const blocks = await sealStatic(keys, uid, s);
        assert.deepEqual((await openStatic(keys, uid, blocks, s.keyVersion)).kind, 'ok');
        const opened = await openStatic(keys, uid, flip(blocks, bit), s.keyVersion);
        // A flip inside the magic makes it not ours at all; anywhere else the MAC fails.
        assert.equal(opened.kind, bit < 32 ? 'not_cinecard' : 'mac_invalid');
      }),
      { numRuns: 300 },
    );
  });

  describe('MAD', () => {
    it('computes the MAD CRC of the NFC Forum MAD (CRC 14 over 01 ‖ 15 × 03 E1)', () => {
      const body = Uint8Array.from([0x01, ...Array.from({ length: 15 }, () => [0x03, 0xe1]).flat()]);
      assert.equal(madCrc(body), 0x14);
    });

    it('recognises its own MAD and rejects a corrupted one', () => {
      const [b1, b2] = encodeMad();
      assert.equal(classifyMad(b1, b2), 'cinecard');
      const bad = Uint8Array.from(b1);
      bad[3]! ^= 0x01;
      assert.equal(classifyMad(bad, b2), 'invalid');
      const ndef = Uint8Array.from([0x14, 0x01, ...Array.from({ length: 7 }, () => [0x03, 0xe1]).flat()]);
      const ndef2 = Uint8Array.from(Array.from({ length: 8 }, () => [0x03, 0xe1]).flat());
      assert.equal(classifyMad(ndef, ndef2), 'other');
    });
  });
});
