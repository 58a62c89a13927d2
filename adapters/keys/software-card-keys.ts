/**
 * {@link CardKeys} from master keys held in this process: loaded from a key file (one pair of AES-128
 * master keys per key version) or the published demo set. Derivation per `spec/card-format.md` § Keys.
 */
import { readFile, stat } from 'node:fs/promises';
import { z } from 'zod';
import { an10922Diversify, aesCmac, macEquals } from './aes-cmac.ts';
import { CardKeysError, type CardKeys, type MacContext, type SectorKeyRequest } from './card-keys.ts';

/** The two master keys of one key version. */
export interface MasterKeyPair {
  /** Master for the MIFARE sector keys A and B. */
  readonly sector: Uint8Array;
  /** Master for the per-card MAC key. */
  readonly mac: Uint8Array;
}

export interface SoftwareCardKeysOptions {
  readonly current: number;
  readonly versions: ReadonlyMap<number, MasterKeyPair>;
  /** Marks the published demo keys. */
  readonly demo?: boolean;
}

/** ASCII "CineCard": the system identifier in every diversification input. */
export const SYSTEM_ID = Uint8Array.from(Buffer.from('CineCard', 'ascii'));
/** Domain bytes of the diversification inputs, so a sector key can never equal a MAC key. */
const DOMAIN_SECTOR_KEY = 0x4b; // 'K'
const DOMAIN_MAC_KEY = 0x4d; // 'M'

/** Checks a key version number: 1..255 (one byte on the card). */
function isKeyVersion(v: number): boolean {
  return Number.isInteger(v) && v >= 1 && v <= 255;
}

export class SoftwareCardKeys implements CardKeys {
  readonly currentVersion: number;
  readonly versions: readonly number[];
  readonly demo: boolean;
  private readonly masters: ReadonlyMap<number, MasterKeyPair>;

  constructor(options: SoftwareCardKeysOptions) {
    for (const [v, pair] of options.versions) {
      if (!isKeyVersion(v)) throw new RangeError(`key version ${v} is not 1..255`);
      if (pair.sector.length !== 16 || pair.mac.length !== 16) throw new RangeError(`key version ${v}: master keys are 16 bytes`);
    }
    if (!options.versions.has(options.current)) throw new RangeError(`the current key version ${options.current} has no keys`);
    this.masters = new Map([...options.versions].map(([v, p]) => [v, { sector: Uint8Array.from(p.sector), mac: Uint8Array.from(p.mac) }]));
    this.currentVersion = options.current;
    this.versions = [options.current, ...[...options.versions.keys()].filter((v) => v !== options.current).sort((a, b) => b - a)];
    this.demo = options.demo ?? false;
  }

  async sectorKey(r: SectorKeyRequest): Promise<Uint8Array> {
    if (!Number.isInteger(r.sector) || r.sector < 0 || r.sector > 15) throw new RangeError(`sector ${r.sector} is not 0..15`);
    const m = Buffer.concat([
      Uint8Array.of(DOMAIN_SECTOR_KEY, r.keyType === 'A' ? 0x41 : 0x42, r.sector, r.keyVersion),
      r.uid,
      SYSTEM_ID,
    ]);
    return an10922Diversify(this.master(r.keyVersion).sector, m).slice(0, 6);
  }

  async mac(context: MacContext, message: Uint8Array): Promise<Uint8Array> {
    return aesCmac(this.macKey(context), message);
  }

  async verifyMac(context: MacContext, message: Uint8Array, tag: Uint8Array): Promise<boolean> {
    return macEquals(aesCmac(this.macKey(context), message), tag);
  }

  private macKey(c: MacContext): Uint8Array {
    const cardNo = new Uint8Array(8);
    new DataView(cardNo.buffer).setBigUint64(0, c.cardNumber);
    const m = Buffer.concat([Uint8Array.of(DOMAIN_MAC_KEY, c.keyVersion), c.uid, cardNo, SYSTEM_ID]);
    return an10922Diversify(this.master(c.keyVersion).mac, m);
  }

  private master(version: number): MasterKeyPair {
    const pair = this.masters.get(version);
    if (!pair) throw new CardKeysError('unknown_key_version', `No card keys for key version ${version} on this terminal.`);
    return pair;
  }
}


// ---- key file -------------------------------------------------------------------------------

const aesKeyHex = z
  .string()
  .regex(/^[0-9a-fA-F]{32}$/, 'an AES-128 key is 32 hex digits')
  .refine((s) => !/^0+$/.test(s), 'an all-zero key is not a key');

/**
 * The key file: JSON, one pair of master keys per key version.
 * `{"format": "cinecard.card-keys.v1", "current": 2, "versions": {"1": {"sector": "…", "mac": "…"}, "2": {…}}}`
 */
export const CardKeyFileSchema = z
  .strictObject({
    format: z.literal('cinecard.card-keys.v1'),
    /** Only the published demo key set may say true; it may then be world-readable. */
    demo: z.boolean().default(false),
    comment: z.string().optional(),
    current: z.number().int().min(1).max(255),
    versions: z.record(
      // Zod reports a bad record key without its message, so versions are checked below.
      z.string(),
      z.strictObject({ sector: aesKeyHex, mac: aesKeyHex }).refine((p) => p.sector.toLowerCase() !== p.mac.toLowerCase(), 'the sector and MAC master keys must differ'),
    ),
  })
  .superRefine((f, ctx) => {
    for (const v of Object.keys(f.versions)) {
      if (!/^[1-9]\d{0,2}$/.test(v) || !isKeyVersion(Number(v))) {
        ctx.addIssue({ code: 'custom', message: `key version "${v}" is not a whole number 1..255`, path: ['versions', v] });
      }
    }
    if (!Object.hasOwn(f.versions, String(f.current))) {
      ctx.addIssue({ code: 'custom', message: 'the current key version has no keys', path: ['current'] });
    }
  });

export type CardKeyFile = z.input<typeof CardKeyFileSchema>;

/** Builds {@link SoftwareCardKeys} from key file content (already parsed JSON). */
export function cardKeysFromFileContent(content: unknown, source = 'key file'): SoftwareCardKeys {
  const parsed = CardKeyFileSchema.safeParse(content);
  if (!parsed.success) {
    throw new CardKeysError('key_file_invalid', `${source} is not a valid CineCard key file:\n${z.prettifyError(parsed.error)}`);
  }
  const f = parsed.data;
  const versions = new Map<number, MasterKeyPair>(
    Object.entries(f.versions).map(([v, p]) => [Number(v), { sector: Buffer.from(p.sector, 'hex'), mac: Buffer.from(p.mac, 'hex') }]),
  );
  return new SoftwareCardKeys({ current: f.current, versions, demo: f.demo });
}

/**
 * Loads a key file. Refuses one that group or others may read or write (POSIX), unless it is the
 * demo key set (`"demo": true`), whose keys are public anyway.
 */
export async function loadCardKeysFile(path: string): Promise<SoftwareCardKeys> {
  let text: string;
  let mode: number;
  try {
    mode = (await stat(path)).mode;
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new CardKeysError('key_file_unreadable', `Cannot read the card key file ${path}: ${(e as Error).message}`, { cause: e });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new CardKeysError('key_file_invalid', `The card key file ${path} is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
  const keys = cardKeysFromFileContent(json, `The card key file ${path}`);
  if (process.platform !== 'win32' && (mode & 0o077) !== 0 && !keys.demo) {
    const octal = (mode & 0o777).toString(8).padStart(3, '0');
    throw new CardKeysError(
      'key_file_exposed',
      `The card key file ${path} is accessible by group or others (mode ${octal}); it holds master keys. ` +
        `Restrict it with: chmod 600 ${path}`,
    );
  }
  return keys;
}
