/**
 * The card keys contract: what the plugin needs to open and seal a card's data, without ever seeing
 * a master key. Implementations: `SoftwareCardKeys` (master keys from a key file, for now) and, later,
 * a SAM-backed one whose master keys never leave the SAM. The key derivation and the byte layout they
 * serve are specified in `spec/card-format.md` (§ Keys).
 */
import type { InjectionToken } from 'tsyringe';

/** Bumped when this contract changes in a way that breaks its users. */
export const CARD_KEYS_API_VERSION = 1;

/** MIFARE Classic sector key slot: A (read) or B (write) in our layout. */
export type SectorKeyType = 'A' | 'B';

/** Which card, sector and key a 6-byte MIFARE Classic sector key is wanted for. */
export interface SectorKeyRequest {
  /** The card's UID (4 or 7 bytes), as GET UID returned it. */
  readonly uid: Uint8Array;
  /** Sector number 0..15. */
  readonly sector: number;
  readonly keyType: SectorKeyType;
  /** The key version the card carries (static sector) or the one to personalise with. */
  readonly keyVersion: number;
}

/** The card a MAC is computed for: the MAC key is diversified from the UID and the card number. */
export interface MacContext {
  readonly uid: Uint8Array;
  /** The card number (u64) from the static sector. */
  readonly cardNumber: bigint;
  readonly keyVersion: number;
}

/**
 * Per-card key diversification and MACs for card data.
 *
 * - Sector keys are diversified from the UID (plus sector, key type and key version) because the
 *   static sector must be opened before the card number is known.
 * - The MAC key is diversified from UID ‖ card number, so a record copied to another card, or a card
 *   number edited on the card, fails its MAC.
 * - Key versions allow rotation: the card carries its version; a terminal holds the current version
 *   and older ones still in circulation, and tries them newest first.
 *
 * Methods are asynchronous because a SAM answers over APDUs. They reject with {@link CardKeysError}
 * `unknown_key_version` for a version this holder does not have.
 */
export interface CardKeys {
  /** The version new cards are personalised with. */
  readonly currentVersion: number;
  /** Every version held: the current one first, then the others newest first (the order a reader tries them in). */
  readonly versions: readonly number[];
  /** True for the published demo key set: never for money. */
  readonly demo: boolean;
  /** The 6-byte MIFARE Classic key for one sector and key type of one card. */
  sectorKey(request: SectorKeyRequest): Promise<Uint8Array>;
  /** A 16-byte AES-CMAC over `message` with the card's MAC key. */
  mac(context: MacContext, message: Uint8Array): Promise<Uint8Array>;
  /** Whether `tag` is the MAC of `message` for this card (constant-time). */
  verifyMac(context: MacContext, message: Uint8Array, tag: Uint8Array): Promise<boolean>;
}

/** DI token for {@link CardKeys}. */
export const CardKeys: InjectionToken<CardKeys> = Symbol.for('cinecard.CardKeys');

/** Why keys could not be loaded or used. A closed set: callers switch on it. */
export type CardKeysErrorKind =
  /** The key file is missing or unreadable. */
  | 'key_file_unreadable'
  /** The key file is not valid JSON or not in the key file format. */
  | 'key_file_invalid'
  /** The key file may be read or written by group or others. */
  | 'key_file_exposed'
  /** A key version was asked for that this holder does not have. */
  | 'unknown_key_version';

export class CardKeysError extends Error {
  override readonly name = 'CardKeysError';
  constructor(
    readonly kind: CardKeysErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
