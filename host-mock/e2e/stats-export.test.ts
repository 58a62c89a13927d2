/**
 * The reference POS hands a plugin's file to the browser (`HostUi.offerFile`): a manager at a till
 * (no central: this till's records) opens the statistics screen in headless Chromium, exports
 * Excel, and the browser downloads the .xlsx from the till's one-time URL; the URL serves it once.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import type { Browser } from 'playwright-core';
import { CardWallet } from '../server/card-panel.ts';
import { startPos, type RunningPos } from '../server/pos-server.ts';
import { launchChromium, logIn, openTill, shot } from './browser.ts';

describe('host-mock: a plugin file downloads in the browser', function () {
  this.timeout(60_000);
  let dir: string;
  let pos: RunningPos;
  let browser: Browser;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cinecard-pos-files-'));
    [pos, browser] = await Promise.all([
      startPos({
        cinemaName: { 'zh-CN': '万达 CBD', en: 'Wanda CBD' },
        stationId: 'POS-9',
        plugin: { dbFile: join(dir, 'terminal.sqlite'), terminal: { terminalId: 'T-9', cinemaId: 'C-9', cinemaCode: 9, terminalNumber: 1, chainId: 12 } },
        cashiers: [{ id: 'op-li', login: '2001', name: '李经理', password: '2468' }],
        reader: { kind: 'panel', wallet: new CardWallet(join(dir, 'cards')) },
        prepare: async (plugin) => {
          await plugin.users.put({ userId: 'u-li', username: 'li', displayName: '李经理', roles: ['manager'], hostOperatorId: 'op-li' });
          await plugin.store.write((trx) => plugin.store.appendOp(trx, { kind: 'redeem', cardNo: '990000001', cardSeq: 3, operatorId: 'u-li', consumption: 'ticket', uses: 2, remainingAfter: 8, payload: { amountFen: 9000 } }));
          return undefined;
        },
      }),
      launchChromium(),
    ]);
  });

  after(async () => {
    await browser?.close();
    await pos?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('export Excel on the statistics screen → the browser saves the .xlsx, read back; the one-time URL is spent', async () => {
    const page = await openTill(browser, pos.url);
    await logIn(page, '2001', '2468');
    await page.click('[data-testid=menu]');
    await page.click('[data-menu-id="cinecard.stats"]');
    const screen = page.locator('[data-view-id="cinecard.stats"]');
    await screen.locator('[data-table-id=stats] td:has-text("990000001")').waitFor();
    await shot(page, '40-stats');
    const [download] = await Promise.all([page.waitForEvent('download'), screen.locator('[data-action=export_xlsx]').click()]);
    assert.match(download.suggestedFilename(), /^兑换统计-\d{4}-\d{2}-\d{2}-仅本机\.xlsx$/);
    const saved = join(dir, 'saved.xlsx');
    await download.saveAs(saved);
    await screen.locator('.v-banner.tone-success').waitFor();
    await shot(page, '41-stats-exported');

    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(readFileSync(saved) as unknown as ArrayBuffer);
    const sheet = workbook.worksheets[0]!;
    assert.deepEqual((sheet.getRow(2).values as unknown[]).slice(2, 9), ['990000001', '未知', '影票', '李经理', 2, 8, 90]);
    assert.equal(sheet.getRow(3).getCell(1).value, '合计');

    const again = await fetch(new URL(download.url(), pos.url));
    assert.equal(again.status, 404, 'served once');
  });
});
