/** The card capability: what a CineCard card holds, the profile seam, MIFARE Classic, the write journal. */
export * from './card-data.ts';
export * from './card-outcome.ts';
export * from './card-profile.ts';
export * from './card-write-journal.ts';
export * from './mifare-classic-profile.ts';
export {
  decodeRecord,
  decodeStatic,
  encodeRecord,
  encodeStatic,
  openRecord,
  openStatic,
  sealRecord,
  sealStatic,
  type Decoded,
  type DecodeProblem,
  type Opened,
} from './mifare-classic-codec.ts';
