import assert from 'node:assert/strict';
import {
  MifareClassic1k,
  TRANSPORT_KEY,
  decodeAccessBits,
  encodeAccessBits,
} from './mifare-classic.ts';

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex').toUpperCase();
const sw = (r: Uint8Array) => toHex(r.subarray(r.length - 2));

function run(card: MifareClassic1k, apdu: string): Uint8Array {
  return card.process(hex(apdu));
}

describe('MIFARE Classic 1K emulator', () => {
  it('answers GET UID with the UID and 90 00', () => {
    const card = new MifareClassic1k({ uid: hex('04A1B2C3') });
    assert.equal(toHex(run(card, 'FFCA000000')), '04A1B2C39000');
  });

  it('encodes and decodes access bits (transport FF 07 80, ours 78 77 88)', () => {
    assert.deepEqual(decodeAccessBits(0xff, 0x07, 0x80), [0, 0, 0, 1]);
    assert.deepEqual(decodeAccessBits(0x78, 0x77, 0x88), [4, 4, 4, 3]);
    assert.equal(toHex(encodeAccessBits([4, 4, 4, 3])), '787788');
    assert.equal(decodeAccessBits(0x00, 0x00, 0x00), undefined);
  });

  it('reads and writes a data block after authenticating with the transport key A', () => {
    const card = new MifareClassic1k();
    assert.equal(sw(run(card, 'FF82000006FFFFFFFFFFFF')), '9000');
    assert.equal(sw(run(card, 'FF860000050100086000')), '9000');
    assert.equal(sw(run(card, 'FFD6000810' + '11'.repeat(16))), '9000');
    assert.equal(toHex(run(card, 'FFB0000810')), '11'.repeat(16) + '9000');
    // Another sector needs its own authentication.
    assert.equal(sw(run(card, 'FFB0000C10')), '6300');
  });

  it('halts after a failed authentication until reset', () => {
    const card = new MifareClassic1k();
    run(card, 'FF82000006A0A1A2A3A4A5');
    assert.equal(sw(run(card, 'FF860000050100086000')), '6300');
    run(card, 'FF82000006FFFFFFFFFFFF');
    assert.equal(sw(run(card, 'FF860000050100086000')), '6300', 'still halted');
    card.powerCycle();
    assert.equal(sw(run(card, 'FF860000050100086000')), '9000');
  });

  it('enforces access bits: with 78 77 88 data is written with key B only, and key A reads as zeros', () => {
    const card = new MifareClassic1k();
    const keyA = hex('A0A1A2A3A4A5');
    const keyB = hex('B0B1B2B3B4B5');
    run(card, 'FF82000006FFFFFFFFFFFF');
    assert.equal(sw(run(card, 'FF860000050100076000')), '9000');
    const trailer = toHex(keyA) + '78778869' + toHex(keyB);
    assert.equal(sw(run(card, 'FFD6000710' + trailer)), '9000');
    card.powerCycle();
    run(card, 'FF82000006' + toHex(keyA));
    assert.equal(sw(run(card, 'FF860000050100046000')), '9000');
    assert.equal(sw(run(card, 'FFB0000410')), '9000');
    assert.equal(sw(run(card, 'FFD6000410' + '22'.repeat(16))), '6300', 'key A may not write');
    assert.equal(toHex(run(card, 'FFB0000710')), '000000000000' + '78778869' + '000000000000' + '9000');
    run(card, 'FF82000106' + toHex(keyB));
    assert.equal(sw(run(card, 'FF860000050100046101')), '9000');
    assert.equal(sw(run(card, 'FFD6000410' + '22'.repeat(16))), '9000');
    assert.deepEqual(card.peekBlock(4), new Uint8Array(16).fill(0x22));
    assert.deepEqual(card.peekBlock(7).subarray(0, 6), keyA);
    // The old transport key no longer opens the sector.
    card.powerCycle();
    run(card, 'FF82000006' + toHex(TRANSPORT_KEY));
    assert.equal(sw(run(card, 'FF860000050100046000')), '6300');
  });

  it('never writes block 0 and rejects malformed APDUs with 63 00', () => {
    const card = new MifareClassic1k();
    run(card, 'FF82000006FFFFFFFFFFFF');
    run(card, 'FF860000050100006000');
    assert.equal(sw(run(card, 'FFD6000010' + '00'.repeat(16))), '6300');
    assert.equal(sw(run(card, 'FFD60001')), '6300');
    assert.equal(sw(run(card, '00A4040000')), '6E00');
  });

  it('tears: the k-th APDU is applied or not, then the card is gone', () => {
    for (const applied of [false, true]) {
      const card = new MifareClassic1k();
      card.setFaults({ tearAt: { apduIndex: 2, applied } });
      assert.equal(card.transmit(hex('FF82000006FFFFFFFFFFFF')).kind, 'response');
      assert.equal(card.transmit(hex('FF860000050100086000')).kind, 'response');
      assert.equal(card.transmit(hex('FFD6000810' + '33'.repeat(16))).kind, 'removed');
      assert.deepEqual(card.peekBlock(8), new Uint8Array(16).fill(applied ? 0x33 : 0));
    }
  });

  it('a mute card never answers', () => {
    const card = new MifareClassic1k();
    card.setFaults({ mute: true });
    assert.equal(card.transmit(hex('FFCA000000')).kind, 'mute');
  });
});
