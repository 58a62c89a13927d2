/**
 * The card daemon: holds emulated MIFARE Classic 1K cards on vpcd's slots and is driven over
 * stdin/stdout, one JSON object per line. Tests and benches run it inside the card lab's network
 * namespace (see `test-support/cardlab.ts`), where pcscd's vpcd listens; the demo can run it too.
 *
 *   tsx adapters/emulator/card-daemon.ts [--host 127.0.0.1] [--port 35963] [--slots 2] [--mute-hold-ms 3000] [--trace]
 *
 * Requests `{"id": 1, "cmd": "...", "slot"?: 0, ...}`, answered by `{"id": 1, "ok": true, "result"?: …}`
 * or `{"id": 1, "ok": false, "error": "..."}`:
 * - `insert {uid?: hex, imageHex?: hex}` puts a new card on the slot; resolves once vpcd accepted it.
 * - `reinsert` puts the slot's last card (same memory) back: a re-tap.
 * - `remove` takes the card away.
 * - `setFaults {plan: FaultPlan}` arms faults on the slot's card.
 * - `snapshot` → `{uidHex, imageHex, present}` of the slot's current (or last) card.
 * - `quit` removes every card and exits.
 * Unprompted events: `{"event": "ready"}` once listening for requests, and
 * `{"event": "ejected", "slot": n, "reason": "torn" | "mute"}` when a card left on its own.
 */
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { MifareClassic1k, type FaultPlan } from './mifare-classic.ts';
import { VPCD_PORT_SLOT0, VpcdCard } from './vpcd-card.ts';

/** A request to the daemon (without its id). */
export type CardDaemonRequest =
  | { cmd: 'insert'; slot?: number; uid?: string; imageHex?: string }
  | { cmd: 'reinsert'; slot?: number }
  | { cmd: 'remove'; slot?: number }
  | { cmd: 'setFaults'; slot?: number; plan: FaultPlan }
  | { cmd: 'snapshot'; slot?: number }
  | { cmd: 'quit' };

export interface CardSnapshot {
  readonly uidHex: string;
  readonly imageHex: string;
  /** Whether the card is on the slot now. */
  readonly present: boolean;
}

export type CardDaemonMessage =
  | { id: number; ok: true; result?: unknown }
  | { id: number; ok: false; error: string }
  | { event: 'ready' }
  | { event: 'ejected'; slot: number; reason: string };

const hexBytes = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

export class CardDaemon {
  readonly slots: VpcdCard[];

  constructor(
    options: { host?: string; port?: number; slots?: number; muteHoldMs?: number; trace?: boolean },
    private readonly emit: (msg: CardDaemonMessage) => void,
  ) {
    const port = options.port ?? VPCD_PORT_SLOT0;
    this.slots = Array.from({ length: options.slots ?? 2 }, (_, i) => {
      const trace = options.trace ? (line: string) => process.stderr.write(`[vpcd slot ${i} ${performance.now().toFixed(0)}] ${line}\n`) : undefined;
      const slot = new VpcdCard({ host: options.host, port: port + i, muteHoldMs: options.muteHoldMs, trace });
      slot.onEjected((reason) => this.emit({ event: 'ejected', slot: i, reason }));
      return slot;
    });
  }

  async handle(req: CardDaemonRequest): Promise<unknown> {
    if (req.cmd === 'quit') {
      this.dispose();
      return undefined;
    }
    const slot = this.slots[req.slot ?? 0];
    if (!slot) throw new Error(`no slot ${req.slot}`);
    switch (req.cmd) {
      case 'insert': {
        const card = new MifareClassic1k({
          uid: req.uid ? hexBytes(req.uid) : undefined,
          image: req.imageHex ? hexBytes(req.imageHex) : undefined,
        });
        await slot.insert(card);
        return { uidHex: toHex(card.uid) };
      }
      case 'reinsert': {
        const card = slot.lastCard;
        if (!card) throw new Error('no card was inserted on this slot before');
        await slot.insert(card);
        return undefined;
      }
      case 'remove':
        slot.remove();
        return undefined;
      case 'setFaults': {
        const card = slot.card;
        if (!card) throw new Error('no card on this slot');
        card.setFaults(req.plan);
        return undefined;
      }
      case 'snapshot': {
        const card = slot.lastCard;
        if (!card) throw new Error('no card was inserted on this slot');
        return { uidHex: toHex(card.uid), imageHex: toHex(card.image()), present: slot.card !== undefined } satisfies CardSnapshot;
      }
    }
  }

  dispose(): void {
    for (const s of this.slots) s.dispose();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: String(VPCD_PORT_SLOT0) },
      slots: { type: 'string', default: '2' },
      'mute-hold-ms': { type: 'string', default: '3000' },
      trace: { type: 'boolean', default: false },
    },
  });
  const write = (msg: CardDaemonMessage) => process.stdout.write(JSON.stringify(msg) + '\n');
  const daemon = new CardDaemon(
    { host: values.host, port: Number(values.port), slots: Number(values.slots), muteHoldMs: Number(values['mute-hold-ms']), trace: values.trace },
    write,
  );
  const quit = () => {
    daemon.dispose();
    process.exit(0);
  };
  process.on('SIGTERM', quit);
  process.on('SIGINT', quit);
  const lines = createInterface({ input: process.stdin });
  lines.on('close', quit); // the parent went away
  lines.on('line', (line) => {
    if (!line.trim()) return;
    let id = -1;
    void (async () => {
      try {
        const req = JSON.parse(line) as CardDaemonRequest & { id: number };
        id = req.id;
        const result = await daemon.handle(req);
        write({ id, ok: true, result });
        if (req.cmd === 'quit') quit();
      } catch (e) {
        write({ id, ok: false, error: e instanceof Error ? e.message : String(e) });
      }
    })();
  });
  write({ event: 'ready' });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
