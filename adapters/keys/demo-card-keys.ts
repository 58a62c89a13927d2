/**
 * ⚠ DEMO CARD KEYS — PUBLISHED IN THIS REPOSITORY — NEVER USE THEM FOR CARDS THAT CARRY VALUE. ⚠
 *
 * For the demo and the tests only. A real deployment loads its own key file
 * (`loadCardKeysFile`, mode 600). Anything built with these keys reports `demo: true`.
 */
import { cardKeysFromFileContent, type CardKeyFile, type SoftwareCardKeys } from './software-card-keys.ts';

/** The demo key file's content: two key versions, so rotation can be shown. */
export const DEMO_CARD_KEY_FILE: CardKeyFile = {
  format: 'cinecard.card-keys.v1',
  demo: true,
  comment: 'DEMO KEYS, PUBLISHED: NEVER USE FOR REAL CARDS',
  current: 2,
  versions: {
    '1': { sector: 'DE70DE70DE70DE70DE70DE70DE700101', mac: 'DE70DE70DE70DE70DE70DE70DE700102' },
    '2': { sector: 'DE70DE70DE70DE70DE70DE70DE700201', mac: 'DE70DE70DE70DE70DE70DE70DE700202' },
  },
};

/**
 * The demo keys as a terminal holding versions 1..`current` would have them (default: all).
 * `demoCardKeys(1)` is a terminal from before the rotation to version 2.
 */
export function demoCardKeys(current: 1 | 2 = 2): SoftwareCardKeys {
  const versions = Object.fromEntries(Object.entries(DEMO_CARD_KEY_FILE.versions).filter(([v]) => Number(v) <= current));
  return cardKeysFromFileContent({ ...DEMO_CARD_KEY_FILE, current, versions }, 'the demo key set');
}
