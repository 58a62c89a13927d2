/**
 * `npm run bench -- redeem`: the cashier's redemption through the plugin, via pcsc-mini → pcscd →
 * vpcd (the card lab's quickack namespace), with the recording fake host:
 * - reader PRESENT → popup presented (card read + verify + journal look-up + local checks + rules),
 * - confirm pressed → card written, read back, op committed in the local SQLite file (synchronous=FULL)
 *   and the popup updated with the new balance,
 * each beside its floor measured in the same run: the very APDUs the step sent, replayed bare. The
 * connection is made before PRESENT is reported, so neither side includes it; for PRESENT → popup
 * the floor is taken on a fresh presence too (the card put back, the APDUs queued at PRESENT ahead
 * of the plugin's read), since the first exchanges after a connect are the slow ones. Budgets (DESIGN §7): PRESENT → popup p99 ≤ 50 ms and ≤ 1.5 × floor; confirm →
 * committed p99 ≤ 80 ms.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CardSession } from '../adapters/card-reader.ts';
import type { View } from '../adapters/host-ui.ts';
import { translate } from '../plugin/i18n/catalogue.ts';
import { texts } from '../plugin/test-support/fake-host.ts';
import { makeCardImage, seedTerminalDb, startPlugin } from '../plugin/test-support/redemption-harness.ts';
import { pcscFixture, startCardLab } from '../test-support/cardlab.ts';
import { percentile, round, type BenchRow } from './report.ts';

const WARMUP = 20;
// Each round is two card presences, each found by pcscd's ~400 ms presence poll: ~2 s a round.
const ROUNDS = Number(process.env.BENCH_REDEEM_ROUNDS ?? 100);

async function replay(session: CardSession, trace: readonly Uint8Array[]): Promise<number> {
  const t = performance.now();
  for (const apdu of trace) await session.transmit(apdu);
  return performance.now() - t;
}

export async function redeemBench(): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'cinecard-bench-redeem-'));
  const lab = await startCardLab();
  try {
    const fx = await pcscFixture(lab);
    const db = join(dir, 'terminal.sqlite');
    await seedTerminalDb(db);
    // Recorded before the plugin subscribes, so PRESENT is timed first and every APDU is seen.
    let presentAt = 0;
    let session: CardSession | undefined;
    let trace: Uint8Array[] = [];
    // Set for a floor presence: the read's APDUs, queued all at once at PRESENT (before the plugin's).
    let bare: { apdus: readonly Uint8Array[]; done?: Promise<number> } | undefined;
    const sub = fx.reader.onCardPresent((s) => {
      presentAt = performance.now();
      session = s;
      if (bare) {
        const started = presentAt;
        bare.done = Promise.all(bare.apdus.map((a) => s.transmit(a))).then(() => performance.now() - started);
      }
      const transmit = s.transmit.bind(s);
      Object.defineProperty(s, 'transmit', {
        configurable: true,
        value: (apdu: Uint8Array, options?: Parameters<CardSession['transmit']>[1]) => (trace.push(Uint8Array.from(apdu)), transmit(apdu, options)),
      });
    });
    const { host, plugin } = await startPlugin(fx, db);
    const uses = WARMUP + ROUNDS + 10;
    const cardNo = 990_100_000_001n;
    const popup: number[] = [], popupFloor: number[] = [], commit: number[] = [], commitFloor: number[] = [];
    let readApdus = 0, writeApdus = 0;
    try {
      await fx.insert(await makeCardImage(cardNo, { static: { initialUses: uses }, record: { remainingUses: uses, lifetimeUsesLoaded: uses } }));
      await fx.remove();
      await host.waitForNoView();
      const isPopup = (v: View) => v.id === `cinecard.redeem.${session?.id}`;
      for (let i = 0; i < WARMUP + ROUNDS; i++) {
        const keep = i >= WARMUP;
        trace = [];
        await fx.reinsert();
        const offer = await host.waitForView((v) => isPopup(v) && v.children.some((n) => n.type === 'stack'));
        const opened = host.events.find((e) => e.kind === 'open' && e.viewId === offer.id)!;
        await plugin.settled();
        const readTrace = trace;
        trace = [];
        if (keep) popup.push(opened.at - presentAt);
        trace = [];
        const remaining = uses - i - 1;
        const doneText = translate('zh-CN', 'redeem.done', { uses: 1, remaining });
        const pressed = performance.now();
        host.press(offer.id, 'confirm', { uses: 1 });
        await host.waitForView((v) => isPopup(v) && texts(v).includes(doneText));
        const done = host.events.findLast((e) => e.kind === 'update' && e.viewId === offer.id && e.view && texts(e.view).includes(doneText))!;
        await plugin.settled();
        const writeTrace = trace;
        trace = [];
        // The same bytes again: the card holds the record just written, so this changes nothing.
        const writeFloor = await replay(session!, writeTrace);
        if (keep) {
          commit.push(done.at - pressed);
          commitFloor.push(writeFloor);
        }
        readApdus = readTrace.length;
        writeApdus = writeTrace.length;
        await fx.remove();
        await host.waitForNoView();

        // The floor of PRESENT → popup: the same read APDUs, bare, on a fresh presence.
        bare = { apdus: readTrace };
        await fx.reinsert();
        const floorPopup = await host.waitForView((v) => isPopup(v) && v.children.some((n) => n.type === 'stack'));
        const readFloor = await bare.done!;
        bare = undefined;
        if (keep) popupFloor.push(readFloor);
        await plugin.settled();
        host.press(floorPopup.id, 'cancel');
        await fx.remove();
        await host.waitForNoView();
      }
      const ops = await plugin.store.opsOfCard(String(cardNo));
      if (ops.length !== WARMUP + ROUNDS) throw new Error(`expected ${WARMUP + ROUNDS} ops after the bench, found ${ops.length}`);
    } finally {
      sub.dispose();
      await plugin.dispose();
      await fx.dispose();
    }

    const label = lab.quickack ? 'pcscd_vpcd' : 'pcscd_vpcd_no_quickack';
    const rows: BenchRow[] = [];
    const add = (step: string, samples: number[], floor: number[], apdus: number, budgetMs: number, ratioBudget: number | null) => {
      const p50 = round(percentile(samples, 50)), p99 = round(percentile(samples, 99));
      const f50 = round(percentile(floor, 50)), f99 = round(percentile(floor, 99));
      rows.push({ name: `redeem.${step}.${label}.p50`, value: p50, unit: 'ms', budget: '—', baseline: f50, ok: null });
      rows.push({ name: `redeem.${step}.${label}.p99`, value: p99, unit: 'ms', budget: `≤ ${budgetMs}`, baseline: f99, ok: p99 <= budgetMs });
      const ratio = round(p99 / f99);
      rows.push({
        name: `redeem.${step}.${label}.p99_vs_floor`, value: ratio, unit: '×', budget: ratioBudget === null ? '—' : `≤ ${ratioBudget} × floor`, baseline: f99,
        ok: ratioBudget === null ? null : ratio <= ratioBudget,
      });
      rows.push({ name: `redeem.${step}.${label}.apdus`, value: apdus, unit: 'APDUs', budget: '—', baseline: null, ok: null });
    };
    add('present_to_popup', popup, popupFloor, readApdus, 50, 1.5);
    add('confirm_to_committed', commit, commitFloor, writeApdus, 80, null);
    return rows;
  } finally {
    await lab.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
