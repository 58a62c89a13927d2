/**
 * Checks a card reader the way the plugin uses it (`docs/integration-guide.md` § Checking the reader):
 * the same `PcscCardReader` (pcsc-mini → pcscd / WinSCard), the same card profile and the terminal's
 * card keys. It lists the readers, then reads each card tapped and says what the till would make of it.
 *
 *   npx tsx docs/tools/check-reader.ts [--keys /etc/cinecard/card-keys.json] [--taps 3] [--wait 60]
 *
 * Without `--keys` it uses the published DEMO keys (it can then recognise only demo cards). It never
 * writes to a card. Exit code 0 when a reader was found and every card tapped could be talked to.
 */
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import type { CardReader, CardSession } from '../../adapters/card-reader.ts';
import type { CardKeys } from '../../adapters/keys/card-keys.ts';
import { demoCardKeys } from '../../adapters/keys/demo-card-keys.ts';
import { loadCardKeysFile } from '../../adapters/keys/software-card-keys.ts';
import { MifareClassicProfile } from '../../plugin/card/mifare-classic-profile.ts';
import type { CardReadOutcome } from '../../plugin/card/card-outcome.ts';

export interface ReaderCheckOptions {
  /** How many taps to read before stopping. */
  readonly taps: number;
  /** How long to wait for readers and then for each tap, ms. */
  readonly waitMs: number;
  readonly print: (line: string) => void;
}

export interface ReaderCheckResult {
  readonly readers: readonly string[];
  readonly outcomes: readonly CardReadOutcome['kind'][];
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex').toUpperCase();

/** What the till makes of a card, in one line. */
export function describeOutcome(o: CardReadOutcome): string {
  switch (o.kind) {
    case 'ok':
    case 'torn': {
      const r = o.record;
      return (
        `CineCard card ${o.static.cardNumber} (type ${o.static.cardType}, chain ${o.static.chainId}, key version ${o.static.keyVersion}): ` +
        `${r.status}, ${r.remainingUses} uses left, seq ${r.seq}, expires ${new Date(r.expiry * 1000).toISOString().slice(0, 10)}` +
        (o.static.blocked ? ', BLOCKED flag set' : '') +
        (o.kind === 'torn' ? `; copy ${o.invalidCopy} is torn (the next write repairs it)` : '')
      );
    }
    case 'blank':
      return `blank MIFARE Classic card (transport keys), UID ${hex(o.uid)}: ready to be made at HQ`;
    case 'not_ours':
      return `not a card of these keys (UID ${hex(o.uid)}, ${o.reason === 'foreign_keys' ? 'its keys are not ours: another key set, another chain, or not a CineCard card' : 'another application on it'})`;
    case 'mac_invalid':
      return `card ${o.cardNumber} opens with our keys but its ${o.part} MAC does not verify: tampered or damaged`;
    case 'unreadable':
      return `unreadable (${o.reason}${o.uid ? `, UID ${hex(o.uid)}` : ''}): not a MIFARE Classic 1K, or the reader does not speak the PC/SC part 3 storage-card commands`;
    case 'card_removed':
      return 'the card left before it was read: hold it still on the reader';
    case 'reader_error':
      return `reader error: ${o.io}`;
  }
}

/** Lists the readers, then reads `taps` cards (or until a wait runs out). Never writes. */
export async function checkReader(reader: CardReader, keys: CardKeys, options: ReaderCheckOptions): Promise<ReaderCheckResult> {
  const { print } = options;
  const profile = new MifareClassicProfile(keys);
  const taps: CardSession[] = [];
  let wake: (() => void) | undefined;
  const subscriptions = [
    reader.onCardPresent((s) => {
      taps.push(s);
      wake?.();
    }),
    reader.onReaderAdded((name) => print(`reader attached: ${name}`)),
    reader.onReaderRemoved((name) => print(`reader removed: ${name}`)),
    reader.onServiceStateChanged((state) => print(`reader service is ${state}`)),
  ];
  const waitForTap = () =>
    new Promise<boolean>((resolve) => {
      if (taps.length > 0) return resolve(true);
      const timer = setTimeout(() => resolve(false), options.waitMs);
      wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
    });
  const outcomes: CardReadOutcome['kind'][] = [];
  try {
    await reader.start();
    print(`reader service: ${reader.serviceState}`);
    if (reader.readers.length === 0) {
      print(`no reader found (waiting ${Math.round(options.waitMs / 1000)} s for one to be attached)`);
      const deadline = Date.now() + options.waitMs;
      while (reader.readers.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    }
    const readers = [...reader.readers];
    if (readers.length === 0) {
      print('no reader: see the reader set-up and troubleshooting sections of docs/integration-guide.md');
      return { readers, outcomes };
    }
    print(`readers: ${readers.join(' | ')}`);
    print(keys.demo ? 'keys: the published DEMO keys (only demo cards are recognised)' : `keys: versions ${keys.versions.join(', ')} (current ${keys.currentVersion})`);
    for (let n = 1; n <= options.taps; n++) {
      print(`tap card ${n} of ${options.taps} on the reader…`);
      if (!(await waitForTap())) {
        print('no card was tapped');
        break;
      }
      const session = taps.shift()!;
      const started = performance.now();
      const outcome = await profile.read(session);
      outcomes.push(outcome.kind);
      print(`  ${session.reader}: ATR ${hex(session.atr)}`);
      print(`  ${describeOutcome(outcome)} [${outcome.apdus} APDUs, ${Math.round(performance.now() - started)} ms]`);
    }
    return { readers, outcomes };
  } finally {
    wake = undefined;
    for (const s of subscriptions) s.dispose();
  }
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const { values } = parseArgs({ options: { keys: { type: 'string' }, taps: { type: 'string', default: '1' }, wait: { type: 'string', default: '60' } } });
  const { PcscCardReader } = await import('../../adapters/pcsc/pcsc-card-reader.ts');
  const keys = values.keys ? await loadCardKeysFile(values.keys) : demoCardKeys();
  const reader = new PcscCardReader({ log: (message, detail) => console.error(`  (reader: ${message}${detail ? ` ${JSON.stringify(detail)}` : ''})`) });
  try {
    const result = await checkReader(reader, keys, { taps: Number(values.taps), waitMs: Number(values.wait) * 1000, print: (l) => console.log(l) });
    const trouble = result.readers.length === 0 || result.outcomes.some((k) => k === 'reader_error' || k === 'card_removed' || k === 'unreadable');
    process.exitCode = trouble ? 1 : 0;
  } finally {
    reader.dispose();
  }
}
