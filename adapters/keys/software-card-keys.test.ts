import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { aesCmac, an10922Diversify } from './aes-cmac.ts';
import { CardKeysError } from './card-keys.ts';
import { DEMO_CARD_KEY_FILE, demoCardKeys } from './demo-card-keys.ts';
import { loadCardKeysFile, SoftwareCardKeys } from './software-card-keys.ts';

const hex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));
const uid = hex('04A1B2C3');

async function rejectsWith(p: Promise<unknown>, kind: CardKeysError['kind'], text?: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof CardKeysError, String(e));
    assert.equal(e.kind, kind);
    if (text) assert.match(e.message, text);
    return true;
  });
}

describe('SoftwareCardKeys', () => {
  it('derives 6-byte sector keys that differ per UID, sector, key type and version', async () => {
    const keys = demoCardKeys();
    const base = { uid, sector: 1, keyType: 'A' as const, keyVersion: 1 };
    const k = await keys.sectorKey(base);
    assert.equal(k.length, 6);
    const variants = [
      { ...base, uid: hex('04A1B2C4') },
      { ...base, sector: 2 },
      { ...base, keyType: 'B' as const },
      { ...base, keyVersion: 2 },
    ];
    for (const v of variants) assert.notDeepEqual(await keys.sectorKey(v), k, JSON.stringify(v));
    assert.deepEqual(await keys.sectorKey(base), k, 'deterministic');
  });

  it('diversifies exactly as spec/card-format.md § 6.1 says', async () => {
    const sector = hex('0123456789ABCDEF0123456789ABCDEF');
    const mac = hex('FEDCBA9876543210FEDCBA9876543210');
    const keys = new SoftwareCardKeys({ current: 3, versions: new Map([[3, { sector, mac }]]) });
    const cineCard = hex('43696E6543617264');
    // K_B(2): 4B ‖ 42 ‖ 02 ‖ 03 ‖ UID ‖ "CineCard", first 6 bytes.
    const dB = Uint8Array.of(0x4b, 0x42, 0x02, 0x03, ...uid, ...cineCard);
    assert.deepEqual(await keys.sectorKey({ uid, sector: 2, keyType: 'B', keyVersion: 3 }), an10922Diversify(sector, dB).slice(0, 6));
    // K_mac: 4D ‖ 03 ‖ UID ‖ card number u64 ‖ "CineCard"; the MAC is plain CMAC with it.
    const dMac = Uint8Array.of(0x4d, 0x03, ...uid, ...hex('0000000000BC614E'), ...cineCard);
    const msg = hex('44AABBCC');
    assert.deepEqual(await keys.mac({ uid, cardNumber: 12_345_678n, keyVersion: 3 }, msg), aesCmac(an10922Diversify(mac, dMac), msg));
  });

  it('MACs bind the UID and the card number, and verify in constant time', async () => {
    const keys = demoCardKeys();
    const ctx = { uid, cardNumber: 1234567890123n, keyVersion: 2 };
    const msg = hex('00112233');
    const tag = await keys.mac(ctx, msg);
    assert.equal(tag.length, 16);
    assert.equal(await keys.verifyMac(ctx, msg, tag), true);
    assert.equal(await keys.verifyMac({ ...ctx, cardNumber: 1234567890124n }, msg, tag), false);
    assert.equal(await keys.verifyMac({ ...ctx, uid: hex('04A1B2C4') }, msg, tag), false);
    assert.equal(await keys.verifyMac(ctx, msg, tag.subarray(0, 8)), false);
  });

  it('lists versions current first and rejects an unknown version', async () => {
    assert.deepEqual(demoCardKeys(2).versions, [2, 1]);
    assert.deepEqual(demoCardKeys(1).versions, [1]);
    assert.equal(demoCardKeys().demo, true);
    await rejectsWith(demoCardKeys(1).sectorKey({ uid, sector: 1, keyType: 'A', keyVersion: 2 }), 'unknown_key_version');
    assert.throws(() => new SoftwareCardKeys({ current: 3, versions: new Map() }), RangeError);
  });

  describe('key file', () => {
    let dir: string;
    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), 'cinecard-keys-'));
    });
    afterEach(async () => {
      await rm(dir, { recursive: true, force: true });
    });
    const realFile = {
      format: 'cinecard.card-keys.v1',
      current: 1,
      versions: { '1': { sector: '0123456789ABCDEF0123456789ABCDEF', mac: 'FEDCBA9876543210FEDCBA9876543210' } },
    };
    const write = async (content: unknown, mode: number) => {
      const p = join(dir, 'keys.json');
      await writeFile(p, typeof content === 'string' ? content : JSON.stringify(content));
      await chmod(p, mode);
      return p;
    };

    it('loads a mode-600 key file', async () => {
      const keys = await loadCardKeysFile(await write(realFile, 0o600));
      assert.equal(keys.currentVersion, 1);
      assert.equal(keys.demo, false);
    });

    it('refuses a key file readable by group or others, saying how to fix it', async () => {
      const p = await write(realFile, 0o644);
      await rejectsWith(loadCardKeysFile(p), 'key_file_exposed', /mode 644.*chmod 600/s);
    });

    it('accepts the demo key file however readable', async () => {
      const keys = await loadCardKeysFile(await write(DEMO_CARD_KEY_FILE, 0o644));
      assert.equal(keys.demo, true);
    });

    it('explains what is wrong with an invalid key file', async () => {
      await rejectsWith(loadCardKeysFile(join(dir, 'missing.json')), 'key_file_unreadable', /missing\.json/);
      await rejectsWith(loadCardKeysFile(await write('{not json', 0o600)), 'key_file_invalid', /not valid JSON/);
      const badHex = { ...realFile, versions: { '1': { sector: 'XYZ', mac: realFile.versions['1'].mac } } };
      await rejectsWith(loadCardKeysFile(await write(badHex, 0o600)), 'key_file_invalid', /32 hex digits/);
      await rejectsWith(loadCardKeysFile(await write({ ...realFile, current: 2 }, 0o600)), 'key_file_invalid', /current key version/);
      const same = { ...realFile, versions: { '1': { sector: realFile.versions['1'].sector, mac: realFile.versions['1'].sector } } };
      await rejectsWith(loadCardKeysFile(await write(same, 0o600)), 'key_file_invalid', /must differ/);
      await rejectsWith(loadCardKeysFile(await write({ ...realFile, versions: { '0': realFile.versions['1'] }, current: 1 }, 0o600)), 'key_file_invalid', /1\.\.255/);
    });
  });
});
