/**
 * Rows for `npm run bench -- redeem`: the redemption popup's time from a tap on the reference POS's
 * card panel to the popup visible in headless Chromium (the click's WebSocket message → emulated
 * reader → plugin read + checks → HostUi → WebSocket → rendered and painted), p50 and p99. One till,
 * a scratch folder, no central: the tap path needs no network by design (DESIGN §1).
 */
import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InProcessCardReader } from '../adapters/emulator/in-process-reader.ts';
import { demoCardKeys } from '../adapters/keys/demo-card-keys.ts';
import { launchChromium, logIn, openTill } from '../host-mock/e2e/browser.ts';
import { CardWallet, DemoCard } from '../host-mock/server/card-panel.ts';
import { startPos } from '../host-mock/server/pos-server.ts';
import { MifareClassicProfile } from '../plugin/card/mifare-classic-profile.ts';
import { percentile, type BenchRow } from './report.ts';

const WARMUP = 5;
const SAMPLES = 60;
const CARD_NO = '8899000001';

async function activeCard(wallet: CardWallet): Promise<void> {
  const reader = new InProcessCardReader();
  await reader.start();
  const now = Math.floor(Date.now() / 1000);
  const card = new DemoCard({}, CARD_NO, 'bench');
  await new MifareClassicProfile(demoCardKeys()).personalise(
    reader.insert(card),
    { cardType: 1, blocked: false, cardNumber: BigInt(CARD_NO), issuedAt: now, originalExpiry: now + 86_400 * 365, initialUses: 1000, chainId: 1, issuingCinema: 1 },
    { remainingUses: 1000, lifetimeUsesLoaded: 1000, expiry: now + 86_400 * 365, status: 'active', lastTxTime: now, lastCinema: 1, lastTerminal: 1, lastAmount: 0, lastTxKind: 'activate' },
  );
  reader.dispose();
  wallet.add(card);
}

/**
 * In the page: send the tap as the card panel does, resolve with the time until the popup is in the
 * DOM and a frame has been painted. A source string, so the bundler adds nothing the page lacks.
 */
const measureTap = (cardNo: string) => `new Promise((resolve) => {
  const t0 = performance.now();
  const obs = new MutationObserver(() => {
    if (!document.querySelector('[data-view-id^="cinecard.redeem."]')) return;
    obs.disconnect();
    requestAnimationFrame(() => resolve(performance.now() - t0));
  });
  obs.observe(document.getElementById('views'), { childList: true, subtree: true });
  window.__pos.send({ t: 'card-tap', cardNo: ${JSON.stringify(cardNo)} });
})`;

export async function redeemBrowserRows(): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'cinecard-bench-pos-'));
  const wallet = new CardWallet(join(dir, 'cards'));
  await activeCard(wallet);
  const till = await startPos({
    cinemaName: { 'zh-CN': '基准影城', en: 'Bench cinema' },
    stationId: 'BENCH-1',
    cashiers: [{ id: 'op-1', login: '1', name: 'bench', password: '1' }],
    reader: { kind: 'panel', wallet },
    plugin: { dbFile: join(dir, 'terminal.sqlite'), terminal: { terminalId: 't-bench', cinemaId: 'c-bench', cinemaCode: 1, terminalNumber: 1, chainId: 1 } },
    prepare: async (plugin) => {
      await plugin.users.put({ userId: 'u-1', username: 'bench', displayName: 'bench', roles: ['salesperson'], hostOperatorId: 'op-1' });
      return undefined;
    },
  });
  const browser = await launchChromium();
  try {
    const page = await openTill(browser, till.url);
    await logIn(page, '1', '1');
    await page.click('[data-showtime=s1]');
    const samples: number[] = [];
    for (let i = 0; i < WARMUP + SAMPLES; i++) {
      const ms = await page.evaluate<number>(measureTap(CARD_NO));
      if (i >= WARMUP) samples.push(ms);
      await page.click('[data-testid=card-remove]');
      await page.locator('[data-view-id^="cinecard.redeem."]').waitFor({ state: 'detached' });
    }
    const p = (q: number) => Math.round(percentile(samples, q) * 10) / 10;
    return [
      { name: 'redeem.browser.tap_to_popup_visible.p50', value: p(50), unit: 'ms', budget: '—', baseline: null, ok: null },
      { name: 'redeem.browser.tap_to_popup_visible.p99', value: p(99), unit: 'ms', budget: '—', baseline: null, ok: null },
    ];
  } finally {
    await browser.close();
    await till.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The redeem suite with the browser rows appended. */
export function withBrowserRows(suite: () => Promise<BenchRow[]>): () => Promise<BenchRow[]> {
  return async () => [...(await suite()), ...(await redeemBrowserRows())];
}
