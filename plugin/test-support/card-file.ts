/** An emulated card kept in a JSON file (UID and memory as hex): a card that outlives a process. */
import { readFileSync, writeFileSync } from 'node:fs';

export interface CardFile {
  readonly uid: string;
  readonly image: string;
}

export const loadCardFile = (file: string) => {
  const c = JSON.parse(readFileSync(file, 'utf8')) as CardFile;
  return { uid: Uint8Array.from(Buffer.from(c.uid, 'hex')), image: Uint8Array.from(Buffer.from(c.image, 'hex')) };
};

export const saveCardFile = (file: string, card: { uid: Uint8Array; image: Uint8Array }) =>
  writeFileSync(file, JSON.stringify({ uid: Buffer.from(card.uid).toString('hex'), image: Buffer.from(card.image).toString('hex') } satisfies CardFile));

