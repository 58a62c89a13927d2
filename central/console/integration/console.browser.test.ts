/**
 * The HQ console in headless Chromium (Debian's, through playwright-core) against a real central
 * service with seeded redemptions: a statistician logs in, the chart draws redemptions per day per
 * cinema, the settlement table shows the expected rows, the language switches, and the page breaks
 * no content-security rule. Runs on SQLite only: the page is what is tested here; the reports API's
 * own suites cover both databases.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ExcelJS from 'exceljs';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { Schemas } from '../../client/index.ts';
import { makeCardType, redemption } from '../../cards/card-fixtures.ts';
import { testDatabases } from '../../test-support/databases.ts';
import { ok, TestCentral, type EnrolledTerminal } from '../../test-support/harness.ts';

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const screenshots = fileURLToPath(new URL('../../../artifacts/screenshots/', import.meta.url));

describe('HQ console in Chromium [sqlite]', function () {
  this.timeout(120_000);
  let central: TestCentral;
  let browser: Browser;
  let page: Page;
  let statistician: { username: string; password: string };
  let A: Schemas['Cinema'];
  let B: Schemas['Cinema'];
  let T1: Schemas['CardType'];
  let T2: Schemas['CardType'];
  const problems: string[] = [];

  before(async () => {
    central = await TestCentral.start(testDatabases().find((d) => d.name === 'sqlite')!);
    const hq = central.admin.client;
    A = await central.createCinema('北京朝阳店');
    B = await central.createCinema('上海徐汇店');
    T1 = await makeCardType(central, { name: '电子年票', settlementPricePerUseFen: 3000 });
    T2 = await makeCardType(central, { name: '团体票', settlementPricePerUseFen: 5000 });
    const cards = { c1: '8801000001', c2: '8801000002', c3: '8801000003' };
    ok(await hq.POST('/v1/card-batches', { body: { cardTypeId: T1.id, cards: [{ cardNo: cards.c1, uid: 'C0C0A001' }, { cardNo: cards.c2, uid: 'C0C0A002' }] } }));
    ok(await hq.POST('/v1/card-batches', { body: { cardTypeId: T2.id, cards: [{ cardNo: cards.c3, uid: 'C0C0A003' }] } }));
    for (const [cardNo, cinema] of [[cards.c1, A], [cards.c2, A], [cards.c3, B]] as const) {
      ok(await hq.POST('/v1/cards/{cardNo}/activate', { params: { path: { cardNo } }, body: { cinemaId: cinema.id, seq: 2 } }));
    }
    const tillA = await central.enrolTerminal(A.id);
    const tillB = await central.enrolTerminal(B.id);
    // Days in Asia/Shanghai (UTC+8): 03-01, 03-02, 03-03.
    const ops: [EnrolledTerminal, Schemas['LedgerOpCreate']][] = [
      [tillA, redemption(cards.c1, 3, 2, 8, { occurredAt: '2026-03-01T02:00:00.000Z', amountFen: 8000 })],
      [tillA, redemption(cards.c1, 4, 1, 7, { occurredAt: '2026-03-02T03:00:00.000Z' })],
      [tillA, redemption(cards.c2, 3, 3, 7, { occurredAt: '2026-03-02T04:00:00.000Z', amountFen: 9000 })],
      [tillB, redemption(cards.c3, 3, 4, 6, { occurredAt: '2026-03-01T05:00:00.000Z', amountFen: 20000 })],
      [tillB, redemption(cards.c3, 4, 1, 5, { occurredAt: '2026-03-03T06:00:00.000Z' })],
    ];
    for (const [till, op] of ops) ok(await till.client.POST('/v1/ledger/ops', { body: op }));
    const made = await central.createUser(['statistician']);
    statistician = { username: made.user.username, password: made.password };

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-background-networking', '--disable-gpu', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    page = await browser.newPage({ viewport: { width: 1360, height: 900 }, locale: 'zh-CN', acceptDownloads: true });
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
  });

  after(async () => {
    await browser?.close();
    await central?.close();
  });

  async function shot(name: string): Promise<void> {
    mkdirSync(screenshots, { recursive: true });
    await page.waitForTimeout(400); // the chart's 250 ms animation
    await page.screenshot({ path: join(screenshots, `${name}.png`), fullPage: true });
  }

  /** Sets the period and waits for the page to have loaded it. */
  async function showPeriod(from: string, to: string): Promise<void> {
    await page.fill('[data-testid=from]', from);
    await page.fill('[data-testid=to]', to);
    await page.click('[data-testid=apply]');
    await page.waitForSelector(`body[data-loaded="${from}..${to}"]`);
  }

  it('serves the page (with chart.js from central) under a strict content security policy', async () => {
    const response = await page.goto(`${central.url}/console`);
    assert.equal(response?.status(), 200);
    assert.equal(new URL(page.url()).pathname, '/console/');
    assert.match(response!.headers()['content-security-policy'] ?? '', /default-src 'self'/);
    await page.waitForSelector('#login:not([hidden])');
    assert.equal(await page.evaluate(() => typeof (window as unknown as { Chart?: unknown }).Chart), 'function');
    const vendor = await fetch(`${central.url}/console/vendor/chart.js/chart.umd.min.js`);
    assert.equal(vendor.status, 200);
    assert.equal((await fetch(`${central.url}/console/vendor/chart.js/chart.js`)).status, 404, 'only the one bundle is served');
    assert.equal(await page.textContent('[data-testid=login-submit]'), '登录');
  });

  it('refuses a wrong password with the API’s message', async () => {
    await page.fill('[data-testid=login-id]', statistician.username);
    await page.fill('[data-testid=login-password]', 'not-the-password');
    await page.click('[data-testid=login-submit]');
    await page.waitForFunction(() => (document.querySelector('[data-testid=login-error]')?.textContent ?? '') !== '');
    assert.match((await page.textContent('[data-testid=login-error]')) ?? '', /\S/);
    assert.ok(await page.isVisible('#login'));
  });

  it('logs a statistician in and shows the key figures, the chart and the settlement table', async () => {
    await page.fill('[data-testid=login-id]', statistician.username);
    await page.fill('[data-testid=login-password]', statistician.password);
    await page.click('[data-testid=login-submit]');
    await page.waitForSelector('#console:not([hidden])');
    await page.waitForSelector('body[data-loaded]');
    await showPeriod('2026-03-01', '2026-03-03');

    // Key figures: 5 redemptions, 11 uses, ¥370 paid with them.
    const figure = (name: string) => page.textContent(`[data-figure=${name}]`);
    assert.equal(await figure('ops'), '5');
    assert.equal(await figure('uses'), '11');
    assert.equal(await figure('amount'), '¥370.00');
    assert.equal(await figure('settlement'), '¥430.00');
    // Still on the cards now: 7 + 7 uses of ¥30 and 5 of ¥50.
    assert.equal(await figure('outstandingUses'), '19');
    assert.equal(await figure('outstandingValue'), '¥670.00');

    // The chart: one stacked dataset per cinema, redemptions per day.
    const drawn = await page.evaluate(() => {
      const canvas = document.querySelector<HTMLCanvasElement>('[data-testid=chart]')!;
      const chart = (window as unknown as { Chart: { getChart(c: HTMLCanvasElement): { data: { labels: string[]; datasets: { label: string; data: number[] }[] } } } }).Chart.getChart(canvas);
      const { width, height } = canvas;
      const pixels = canvas.getContext('2d')!.getImageData(0, 0, width, height).data;
      let painted = 0;
      for (let i = 3; i < pixels.length; i += 4) if (pixels[i]! > 0) painted += 1;
      return { labels: chart.data.labels, datasets: chart.data.datasets.map((d) => ({ label: d.label, data: d.data })), width, height, painted };
    });
    assert.deepEqual(drawn.labels, ['2026-03-01', '2026-03-02', '2026-03-03']);
    assert.deepEqual(
      drawn.datasets.sort((a, b) => a.label.localeCompare(b.label)),
      [
        { label: '上海徐汇店', data: [1, 0, 1] },
        { label: '北京朝阳店', data: [1, 2, 0] },
      ].sort((a, b) => a.label.localeCompare(b.label)),
    );
    assert.ok(drawn.width > 300 && drawn.height > 200, `canvas ${drawn.width}×${drawn.height}`);
    assert.ok(drawn.painted > 2000, `only ${drawn.painted} pixels drawn`);

    // Settlement: A × 电子年票: 3 redemptions, 6 uses × ¥30; B × 团体票: 2 redemptions, 5 uses × ¥50.
    const table = await page.$$eval('[data-testid=settlement] tbody tr', (rows) => rows.map((r) => Array.from(r.querySelectorAll('td'), (td) => td.textContent)));
    assert.deepEqual(
      table.sort(),
      [
        ['北京朝阳店', '电子年票', '¥30.00', '0', '0', '¥0.00', '3', '6', '¥180.00', '¥180.00'],
        ['上海徐汇店', '团体票', '¥50.00', '0', '0', '¥0.00', '2', '5', '¥250.00', '¥250.00'],
      ].sort(),
    );
    const totals = await page.$$eval('[data-testid=settlement] tfoot td', (cells) => cells.map((td) => td.textContent));
    assert.deepEqual(totals, ['合计', '', '', '0', '0', '¥0.00', '5', '11', '¥430.00', '¥430.00']);
    await shot('console-zh');
  });

  it('narrows to one day', async () => {
    await showPeriod('2026-03-02', '2026-03-02');
    assert.equal(await page.textContent('[data-figure=ops]'), '2');
    const rows = await page.$$eval('[data-testid=settlement] tbody tr', (r) => r.length);
    assert.equal(rows, 1);
  });

  it('exports the settlement as .xlsx and CSV, and the redemption detail, through the reports API', async () => {
    const save = async (testId: string) => {
      const [download] = await Promise.all([page.waitForEvent('download'), page.click(`[data-testid=${testId}]`)]);
      const file = join(screenshots, '..', 'downloads', download.suggestedFilename());
      mkdirSync(dirname(file), { recursive: true });
      await download.saveAs(file);
      return { name: download.suggestedFilename(), file };
    };
    await showPeriod('2026-03-01', '2026-03-03');
    // Every status the page shows while exporting, to see the progress of the stream.
    await page.evaluate(() => {
      const seen: string[] = [];
      (window as unknown as { statusSeen: string[] }).statusSeen = seen;
      const status = document.querySelector('[data-testid=status]')!;
      new MutationObserver(() => seen.push(status.textContent ?? '')).observe(status, { childList: true, characterData: true, subtree: true });
    });
    const xlsx = await save('export-settlement-xlsx');
    const seen = await page.evaluate(() => (window as unknown as { statusSeen: string[] }).statusSeen);
    assert.ok(seen.some((s) => /^正在导出… 已接收 \d+\.\d KB$/.test(s)), `progress shown while the file arrives: ${JSON.stringify(seen)}`);
    assert.match(xlsx.name, /\.xlsx$/);
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.readFile(xlsx.file);
    const sheet = workbook.worksheets[0]!;
    const rows: unknown[][] = [];
    sheet.eachRow((row) => rows.push((row.values as unknown[]).slice(1)));
    const header = rows[0]!.map(String);
    assert.ok(header.includes('影院'), `Chinese headers: ${header.join(', ')}`);
    const cinemaColumn = header.indexOf('影院');
    assert.deepEqual(rows.slice(1, -1).map((r) => r[cinemaColumn]).sort(), ['上海徐汇店', '北京朝阳店'].sort());
    // The totals row carries the settlement total in yuan (¥430), as the page's table does.
    const totals = rows.at(-1)!.map((v) => (v && typeof v === 'object' && 'result' in v ? (v as { result: unknown }).result : v));
    assert.ok(totals.includes(430), `totals row: ${JSON.stringify(totals)}`);

    const csv = await save('export-settlement-csv');
    assert.match(csv.name, /\.csv$/);
    const text = readFileSync(csv.file, 'utf8');
    assert.ok(text.startsWith('\ufeff'), 'UTF-8 BOM');
    assert.match(text, /北京朝阳店/);
    assert.match(text, /430\.00/);

    const detail = await save('export-redemptions-xlsx');
    const detailBook = new ExcelJS.Workbook();
    await detailBook.xlsx.readFile(detail.file);
    // Five redemptions, a header row, perhaps a totals row.
    assert.ok([6, 7].includes(detailBook.worksheets[0]!.rowCount), `rows: ${detailBook.worksheets[0]!.rowCount}`);
    assert.match((await page.textContent('[data-testid=status]')) ?? '', /已导出/);
  });

  it('offers last month as a quick period', async () => {
    await page.click('[data-testid=range-last-month]');
    const today = new Date();
    const day = (d: Date) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
    const from = day(new Date(today.getFullYear(), today.getMonth() - 1, 1));
    const to = day(new Date(today.getFullYear(), today.getMonth(), 0));
    await page.waitForSelector(`body[data-loaded="${from}..${to}"]`);
    assert.equal(await page.inputValue('[data-testid=from]'), from);
    assert.equal(await page.inputValue('[data-testid=to]'), to);
  });

  it('switches to English', async () => {
    await page.selectOption('[data-testid=locale]', 'en');
    await page.waitForFunction(() => document.documentElement.lang === 'en');
    await showPeriod('2026-03-01', '2026-03-03');
    const headers = await page.$$eval('[data-testid=settlement] thead th', (cells) => cells.map((th) => th.textContent));
    assert.deepEqual(headers.slice(0, 3), ['Cinema', 'Card type', 'Price per use']);
    assert.equal(await page.textContent('[data-testid=settlement] tfoot td'), 'Total');
    assert.match((await page.textContent('[data-figure=amount]')) ?? '', /370\.00/);
    await shot('console-en');
  });

  it('renews a refused access token with the refresh token, once', async () => {
    await page.evaluate(() => {
      const auth = JSON.parse(sessionStorage.getItem('cinecard.console.auth')!) as { accessToken: string };
      sessionStorage.setItem('cinecard.console.auth', JSON.stringify({ ...auth, accessToken: 'no-longer-valid' }));
    });
    await page.reload();
    await page.waitForSelector('body[data-loaded]');
    assert.ok(await page.isVisible('#console'));
    const stored = await page.evaluate(() => JSON.parse(sessionStorage.getItem('cinecard.console.auth')!) as { accessToken: string });
    assert.notEqual(stored.accessToken, 'no-longer-valid');
  });

  it('logs out, and stays logged out after a reload', async () => {
    await page.click('#logout');
    await page.waitForSelector('#login:not([hidden])');
    assert.equal(await page.evaluate(() => sessionStorage.getItem('cinecard.console.auth')), null);
    await page.reload();
    await page.waitForSelector('#login:not([hidden])');
    assert.ok(!(await page.isVisible('#console')));
  });

  it('broke no content-security rule and threw nothing', () => {
    assert.deepEqual(problems.filter((p) => !/401|Unauthorized/.test(p)), []);
  });
});
