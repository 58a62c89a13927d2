import assert from 'node:assert/strict';
import { aesCmac, an10922Diversify, cmacSubkeys } from './aes-cmac.ts';

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex').toUpperCase();

describe('AES-128 CMAC (RFC 4493 vectors)', () => {
  const key = hex('2b7e1516 28aed2a6 abf71588 09cf4f3c');
  const msg = hex(
    '6bc1bee2 2e409f96 e93d7e11 7393172a ae2d8a57 1e03ac9c 9eb76fac 45af8e51' +
      '30c81c46 a35ce411 e5fbc119 1a0a52ef f69f2445 df4f9b17 ad2b417b e66c3710',
  );

  it('derives the subkeys K1 and K2', () => {
    const { k1, k2 } = cmacSubkeys(key);
    assert.equal(toHex(k1), 'FBEED618357133667C85E08F7236A8DE');
    assert.equal(toHex(k2), 'F7DDAC306AE266CCF90BC11EE46D513B');
  });

  for (const [len, tag] of [
    [0, 'BB1D6929E95937287FA37D129B756746'],
    [16, '070A16B46B4D4144F79BDD9DD04A287C'],
    [40, 'DFA66747DE9AE63030CA32611497C827'],
    [64, '51F0BEBF7E3B9D92FC49741779363CFE'],
  ] as const) {
    it(`example with a ${len}-byte message`, () => {
      assert.equal(toHex(aesCmac(key, msg.subarray(0, len))), tag);
    });
  }
});

describe('AN10922 AES-128 key diversification', () => {
  it('reproduces the libfreefare vector', () => {
    const master = hex('00112233445566778899AABBCCDDEEFF');
    const m = hex('04782E21801D80' + '3042F5' + '4E585020416275');
    assert.equal(toHex(an10922Diversify(master, m)), 'A8DD63A3B89D54B37CA802473FDA9175');
  });

  it('uses K1 without padding at exactly 32 bytes, and pads a short input to 32 where plain CMAC pads to 16', () => {
    const master = hex('00112233445566778899AABBCCDDEEFF');
    const m31 = new Uint8Array(31).fill(0x5a);
    const d = new Uint8Array(32);
    d[0] = 0x01;
    d.set(m31, 1);
    assert.deepEqual(an10922Diversify(master, m31), aesCmac(master, d));
    const m7 = m31.subarray(0, 7);
    assert.notDeepEqual(an10922Diversify(master, m7), aesCmac(master, Uint8Array.of(0x01, ...m7)));
  });

  it('refuses an empty or over-long input and a wrong-size key', () => {
    const master = new Uint8Array(16);
    assert.throws(() => an10922Diversify(master, new Uint8Array(0)), RangeError);
    assert.throws(() => an10922Diversify(master, new Uint8Array(32)), RangeError);
    assert.throws(() => an10922Diversify(new Uint8Array(8), new Uint8Array(4)), RangeError);
  });
});
