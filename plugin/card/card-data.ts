/**
 * What a CineCard card carries, independent of the chip: the static data written when the card is
 * made, and the dynamic record each transaction rewrites. The byte layout for MIFARE Classic 1K is
 * in `spec/card-format.md` and `mifare-classic-codec.ts`.
 */

/** Where a card is in its life (the record's status byte). */
export type CardStatus = 'made' | 'active' | 'recycled' | 'cancelled';

/** What the last transaction on the card was (the record's tx kind byte). */
export type CardTxKind = 'none' | 'redeem' | 'top_up' | 'void' | 'issue' | 'activate' | 'renew' | 'recycle';

/** The two copies of the dynamic record (MIFARE Classic: sectors 2 and 3). */
export type RecordCopy = 'A' | 'B';

/** Written once, when HQ makes the card. Times are Unix seconds (UTC). */
export interface CardStatic {
  /** Layout version of the card format (1). */
  readonly layoutVersion: number;
  /** The chain's card product code, u8. */
  readonly cardType: number;
  /** Key version the card's keys and MACs were derived with, 1..255. */
  readonly keyVersion: number;
  /** Hotlisted: a terminal refuses the card. Flags bit 0. */
  readonly blocked: boolean;
  /** The card number printed on the card, u64. */
  readonly cardNumber: bigint;
  /** When HQ made the card. */
  readonly issuedAt: number;
  /** The validity the card was made with (the record's `expiry` is the current one). */
  readonly originalExpiry: number;
  /** Uses loaded when the card was made, u16. */
  readonly initialUses: number;
  /** The chain, u16. */
  readonly chainId: number;
  /** The cinema (code within the chain, u16) that made or first issued the card. */
  readonly issuingCinema: number;
}

/** The dynamic record: one copy per record sector, the one with the highest `seq` wins. */
export interface CardRecord {
  /** Transaction counter: +1 on every write, u32. */
  readonly seq: number;
  /** Uses left, u16. */
  readonly remainingUses: number;
  /** All uses ever loaded (initial + top-ups), u16. */
  readonly lifetimeUsesLoaded: number;
  /** Current expiry, Unix seconds. */
  readonly expiry: number;
  readonly status: CardStatus;
  /** Time of the last transaction, Unix seconds (device clock: informative only). */
  readonly lastTxTime: number;
  /** Cinema code of the last transaction, u16. */
  readonly lastCinema: number;
  /** Terminal number (within the cinema) of the last transaction, u16. */
  readonly lastTerminal: number;
  /** Uses taken by the last transaction, i16: positive = redeemed, negative = loaded. */
  readonly lastAmount: number;
  readonly lastTxKind: CardTxKind;
}

/** Static data as the caller gives it to `personalise`: the profile sets layout and key version. */
export type CardStaticInput = Omit<CardStatic, 'layoutVersion' | 'keyVersion'>;

/** A record as the caller gives it to `writeRecord`/`personalise`: the profile sets `seq`. */
export type CardRecordInput = Omit<CardRecord, 'seq'>;

/** Field-by-field equality of two records. */
export function sameRecord(a: CardRecord, b: CardRecord): boolean {
  return (Object.keys(a) as (keyof CardRecord)[]).every((k) => a[k] === b[k]) && Object.keys(a).length === Object.keys(b).length;
}

/** Field-by-field equality of two static data sets. */
export function sameStatic(a: CardStatic, b: CardStatic): boolean {
  return (Object.keys(a) as (keyof CardStatic)[]).every((k) => a[k] === b[k]) && Object.keys(a).length === Object.keys(b).length;
}
