/**
 * The statistics screen on a till that cannot reach central (fake host, in-process): every filter
 * and grouping against redemptions recorded on this till and checked by hand, totals, the label
 * saying these are this till's records only, validation, and the exports read back.
 *
 *  op  device time (UTC)   Shanghai        card        type        kind        uses  left  fen    cashier
 *  r1  2026-11-24 15:30    11-24 23:30     300000001   年票（成人）  ticket      2     18    9000   u-salesperson
 *  r2  2026-11-24 16:10    11-25 00:10     300000002   团体票       concession  1     29    3000   u-salesperson
 *  r3  2026-11-25 02:00    11-25 10:00     300000001   年票（成人）  ticket      3     15    13500  u-manager
 *  r4  2026-11-25 05:00    11-25 13:00     3000000100  年票（成人）  ticket      1     9     4500   u-salesperson
 *  r5  2026-11-26 01:00    11-26 09:00     300000003   团体票       concession  2     28    —      u-manager
 *  and a sale and a renewal (not redemptions) on 11-25.
 */
import assert from 'node:assert/strict';
import ExcelJS from 'exceljs';
import { parse } from 'csv-parse/sync';
import type { View } from '../../adapters/host-ui.ts';
import { translate } from '../i18n/catalogue.ts';
import { CardCache } from '../store/card-cache.ts';
import type { OpDraft } from '../store/terminal-store.ts';
import { CARD_TYPE, NOW_MS } from '../test-support/redemption-harness.ts';
import { nodes } from '../test-support/fake-host.ts';
import { ScreenBench, shows, table, zh } from './screen-test-kit.ts';

const ID = 'cinecard.stats';
const GROUP_TYPE = { code: 8, cardTypeId: '0190c0de-0000-7000-8000-000000000008', name: '团体票', pricePerUseFen: 3000 };

const redeem = (cardNo: string, operatorId: string, consumption: 'ticket' | 'concession', uses: number, remainingAfter: number, amountFen?: number): OpDraft => ({
  kind: 'redeem', cardNo, operatorId, consumption, uses, remainingAfter, payload: amountFen === undefined ? {} : { amountFen },
});
const OPS: [at: string, op: OpDraft][] = [
  ['2026-11-24T15:30:00Z', redeem('300000001', 'u-salesperson', 'ticket', 2, 18, 9000)],
  ['2026-11-24T16:10:00Z', redeem('300000002', 'u-salesperson', 'concession', 1, 29, 3000)],
  ['2026-11-25T01:00:00Z', { kind: 'activate', cardNo: '300000009', operatorId: 'u-salesperson', remainingAfter: 20 }],
  ['2026-11-25T02:00:00Z', redeem('300000001', 'u-manager', 'ticket', 3, 15, 13500)],
  ['2026-11-25T04:00:00Z', { kind: 'renew', cardNo: '300000001', operatorId: 'u-manager', payload: { expiresAt: '2028-01-31T15:59:59.000Z' } }],
  ['2026-11-25T05:00:00Z', redeem('3000000100', 'u-salesperson', 'ticket', 1, 9, 4500)],
  ['2026-11-26T01:00:00Z', redeem('300000003', 'u-manager', 'concession', 2, 28)],
];
const CARD_TYPES: Record<string, number> = { '300000001': CARD_TYPE.code, '300000002': GROUP_TYPE.code, '300000003': GROUP_TYPE.code, '3000000100': CARD_TYPE.code };

/** Records the hand-checked ops on the till, at their times, and the cards' types as the till saw them. */
async function seed(bench: ScreenBench): Promise<void> {
  const store = bench.plugin.store;
  const cards = new CardCache(store.db);
  await cards.putCardType(GROUP_TYPE);
  for (const [cardNo, code] of Object.entries(CARD_TYPES)) {
    await store.db('cards').insert({ card_no: cardNo, state: 'active', card_type_code: code, updated_at: new Date(NOW_MS).toISOString() });
  }
  for (const [at, op] of OPS) {
    bench.host.nowMs = Date.parse(at);
    await store.write((trx) => store.appendOp(trx, op));
  }
  bench.host.nowMs = NOW_MS;
}

/** Presses `action` on the screen with `values` and waits for it to open again. */
async function press(bench: ScreenBench, action: string, values: Record<string, string | number | null> = {}): Promise<View> {
  const before = bench.host.events.length;
  bench.host.press(ID, action, values);
  return bench.host.waitUntil(() => bench.host.events.slice(before).find((e) => e.kind === 'open' && e.viewId === ID)?.view, 5000, `${ID} again`);
}

/** Clears every filter, then sets `values`. */
const only = (values: Record<string, string>) => ({ day: null, from: null, to: null, cardNo: '', cardNoFrom: '', cardNoTo: '', cashier: '', consumption: '', report: 'detail', ...values });
const cells = (v: View, ...keys: string[]) => table(v, 'stats').map((r) => keys.map((k) => r[k]));
const buttons = (v: View) => nodes(v).flatMap((n) => (n.type === 'button' ? [n.id] : []));

describe('statistics screen (fake host, this till only)', () => {
  let bench: ScreenBench;
  afterEach(async () => bench?.stop());

  it('opens on today’s redemption detail of this till, labelled as this till only, with totals; not sales or renewals', async () => {
    bench = await new ScreenBench().start({ as: 'local_statistician' });
    await seed(bench);
    const view = await bench.openMenu(ID);
    assert.equal(view.title, zh('screen.stats.title'));
    assert.ok(shows(view, zh('screen.stats.from_local')), 'says these are this till’s records only');
    assert.ok(!shows(view, zh('screen.stats.from_central')));
    assert.deepEqual(cells(view, 'at', 'cardNo', 'cardType', 'consumption', 'cashier', 'uses', 'remaining', 'amount'), [
      ['2026-11-25 00:10', '300000002', '团体票', zh('redeem.consumption.concession'), 'salesperson', 1, 29, '30.00'],
      ['2026-11-25 10:00', '300000001', '年票（成人）', zh('redeem.consumption.ticket'), 'manager', 3, 15, '135.00'],
      ['2026-11-25 13:00', '3000000100', '年票（成人）', zh('redeem.consumption.ticket'), 'salesperson', 1, 9, '45.00'],
    ]);
    assert.ok(shows(view, zh('screen.stats.totals', { ops: 3, uses: 5, amount: '210.00' })));
  });

  const detail: { what: string; values: Record<string, string>; cards: string[]; totals: [number, number, string] }[] = [
    { what: 'a single day', values: { day: '2026-11-24' }, cards: ['300000001'], totals: [1, 2, '90.00'] },
    { what: 'a period', values: { from: '2026-11-24', to: '2026-11-26' }, cards: ['300000001', '300000002', '300000001', '3000000100', '300000003'], totals: [5, 9, '300.00'] },
    { what: 'a period open at its end', values: { from: '2026-11-25' }, cards: ['300000002', '300000001', '3000000100', '300000003'], totals: [4, 7, '210.00'] },
    { what: 'a period open at its start', values: { to: '2026-11-24' }, cards: ['300000001'], totals: [1, 2, '90.00'] },
    { what: 'a card number', values: { cardNo: '300000001' }, cards: ['300000001', '300000001'], totals: [2, 5, '225.00'] },
    { what: 'a card number range (same length only)', values: { cardNoFrom: '300000001', cardNoTo: '300000002' }, cards: ['300000001', '300000002', '300000001'], totals: [3, 6, '255.00'] },
    { what: 'a range open at its end', values: { cardNoFrom: '300000002' }, cards: ['300000002', '300000003'], totals: [2, 3, '30.00'] },
    { what: 'a salesperson', values: { cashier: 'u-manager' }, cards: ['300000001', '300000003'], totals: [2, 5, '135.00'] },
    { what: 'a consumption type', values: { consumption: 'concession' }, cards: ['300000002', '300000003'], totals: [2, 3, '30.00'] },
    { what: 'several filters at once', values: { from: '2026-11-25', to: '2026-11-25', consumption: 'ticket', cashier: 'u-salesperson' }, cards: ['3000000100'], totals: [1, 1, '45.00'] },
    { what: 'nothing matching', values: { day: '2026-11-20' }, cards: [], totals: [0, 0, '0.00'] },
  ];
  for (const d of detail) {
    it(`detail by ${d.what}`, async () => {
      bench = await new ScreenBench().start({ as: 'manager' });
      await seed(bench);
      await bench.openMenu(ID);
      const view = await press(bench, 'query', only(d.values));
      assert.deepEqual(cells(view, 'cardNo').flat(), d.cards);
      const [ops, uses, amount] = d.totals;
      assert.ok(shows(view, zh('screen.stats.totals', { ops, uses, amount })), `totals ${d.totals.join(', ')}`);
      if (d.cards.length === 0) assert.ok(nodes(view).some((n) => n.type === 'table' && n.emptyText === zh('screen.stats.empty')));
    });
  }

  const period = { from: '2026-11-24', to: '2026-11-26' };
  const summaries: { by: string; rows: (string | number)[][] }[] = [
    { by: 'day', rows: [['2026-11-24', 1, 2, '90.00'], ['2026-11-25', 3, 5, '210.00'], ['2026-11-26', 1, 2, '0.00']] },
    { by: 'cashier', rows: [['manager', 2, 5, '135.00'], ['salesperson', 3, 4, '165.00']] },
    { by: 'consumptionType', rows: [[zh('redeem.consumption.concession'), 2, 3, '30.00'], [zh('redeem.consumption.ticket'), 3, 6, '270.00']] },
    { by: 'cardType', rows: [['团体票', 2, 3, '30.00'], ['年票（成人）', 3, 6, '270.00']] },
  ];
  for (const s of summaries) {
    it(`summary by ${s.by}, with totals`, async () => {
      bench = await new ScreenBench().start({ as: 'manager' });
      await seed(bench);
      await bench.openMenu(ID);
      const view = await press(bench, 'query', only({ ...period, report: 'summary', groupBy: s.by }));
      assert.deepEqual(cells(view, 'group', 'ops', 'uses', 'amount'), s.rows);
      assert.ok(shows(view, zh('screen.stats.totals', { ops: 5, uses: 9, amount: '300.00' })));
      assert.ok(shows(view, zh('screen.stats.from_local')));
    });
  }

  it('a summary takes the filters too: one salesperson’s tickets by day', async () => {
    bench = await new ScreenBench().start({ as: 'manager' });
    await seed(bench);
    await bench.openMenu(ID);
    const view = await press(bench, 'query', only({ ...period, report: 'summary', groupBy: 'day', cashier: 'u-salesperson', consumption: 'ticket' }));
    assert.deepEqual(cells(view, 'group', 'ops', 'uses', 'amount'), [['2026-11-24', 1, 2, '90.00'], ['2026-11-25', 1, 1, '45.00']]);
  });

  it('refuses conflicting or malformed conditions in plain words and keeps what was typed', async () => {
    bench = await new ScreenBench().start({ as: 'manager' });
    await seed(bench);
    await bench.openMenu(ID);
    const cases: [Record<string, string>, Parameters<typeof zh>[0]][] = [
      [{ day: '2026-11-25', from: '2026-11-24' }, 'screen.stats.day_and_range'],
      [{ from: '2026-11-26', to: '2026-11-24' }, 'screen.stats.range_reversed'],
      [{ day: '25/11/2026' }, 'screen.stats.date_invalid'],
      [{ cardNo: '300000001', cardNoFrom: '300000001' }, 'screen.stats.card_and_range'],
      [{ cardNoFrom: '30000001', cardNoTo: '300000002' }, 'screen.stats.card_range_lengths'],
      [{ cardNoFrom: '300000009', cardNoTo: '300000001' }, 'screen.stats.range_reversed'],
      [{ cardNo: '12' }, 'screen.card_no_invalid'],
    ];
    for (const [values, key] of cases) {
      const view = await press(bench, 'query', only(values));
      assert.ok(shows(view, zh(key)), `${JSON.stringify(values)}: ${key}`);
      assert.ok(!nodes(view).some((n) => n.type === 'table'), 'no result shown for a bad query');
      const typed = Object.fromEntries(nodes(view).flatMap((n) => (n.type === 'field' ? [[n.id, n.value]] : [])));
      for (const [k, v] of Object.entries(values)) assert.equal(typed[k], v, `keeps ${k}`);
    }
  });

  it('exports the detail as .xlsx: headers in Chinese, numbers as numbers, a totals row', async () => {
    bench = await new ScreenBench().start({ as: 'local_statistician' });
    await seed(bench);
    await bench.openMenu(ID);
    const view = await press(bench, 'export_xlsx', only(period));
    const [file, ...more] = bench.host.offeredFiles;
    assert.equal(more.length, 0);
    assert.equal(file!.name, '兑换统计-2026-11-24_2026-11-26-仅本机.xlsx');
    assert.equal(file!.mimeType, 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    assert.ok(shows(view, zh('screen.stats.exported', { name: file!.name, rows: 5 })));
    assert.equal(table(view, 'stats').length, 5, 'the screen shows what was exported');

    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(Buffer.from(file!.data) as unknown as ArrayBuffer);
    const sheet = workbook.worksheets[0]!;
    const rows: unknown[][] = [];
    sheet.eachRow({ includeEmpty: true }, (row) => rows.push((row.values as unknown[]).slice(1)));
    assert.equal(rows.length, 1 + 5 + 1);
    assert.deepEqual(rows[0], ['兑换时间', '卡号', '卡类型', '消费类型', '销售员', '兑换次数', '剩余次数', '金额（元）']);
    const first = sheet.getRow(2);
    assert.equal((first.getCell(1).value as Date).toISOString(), '2026-11-24T23:30:00.000Z', 'a real date on the cinema’s wall clock');
    assert.deepEqual([first.getCell(2).value, first.getCell(3).value, first.getCell(4).value, first.getCell(5).value], ['300000001', '年票（成人）', '影票', 'salesperson']);
    assert.deepEqual([first.getCell(6).value, first.getCell(7).value, first.getCell(8).value], [2, 18, 90]);
    assert.equal(first.getCell(6).type, ExcelJS.ValueType.Number);
    assert.equal(first.getCell(8).numFmt, '#,##0.00');
    assert.equal(sheet.getRow(6).getCell(8).value, null, 'no amount recorded (no sale): an empty cell');
    const totals = sheet.getRow(7);
    assert.equal(totals.getCell(1).value, '合计');
    assert.deepEqual(totals.getCell(6).value, { formula: 'SUM(F2:F6)', result: 9 });
    assert.deepEqual(totals.getCell(8).value, { formula: 'SUM(H2:H6)', result: 300 });
  });

  it('more matches than a screen holds: the first 200 are shown and the screen says so; totals and the export cover them all', async () => {
    bench = await new ScreenBench().start({ as: 'manager' });
    const store = bench.plugin.store;
    for (let i = 0; i < 205; i++) await store.write((trx) => store.appendOp(trx, redeem(String(400000000 + i), 'u-salesperson', 'ticket', 1, 5, 100)));
    const view = await bench.openMenu(ID);
    assert.equal(table(view, 'stats').length, 200);
    assert.ok(shows(view, zh('screen.stats.truncated', { shown: 200, count: 205 })));
    assert.ok(shows(view, zh('screen.stats.totals', { ops: 205, uses: 205, amount: '205.00' })));
    await press(bench, 'export_csv');
    const records = parse(Buffer.from(bench.host.offeredFiles[0]!.data).toString('utf8'), { bom: true }) as string[][];
    assert.equal(records.length, 1 + 205 + 1);
    assert.deepEqual(records.at(-1), ['合计', '', '', '', '', '205', '', '205.00']);
  });

  it('exports a summary as CSV in English when the session is English: headers, labels and the totals row', async () => {
    bench = await new ScreenBench().start({ as: 'manager', config: { locale: 'en' } });
    await seed(bench);
    await bench.openMenu(ID);
    const view = await press(bench, 'export_csv', only({ ...period, report: 'summary', groupBy: 'consumptionType' }));
    const file = bench.host.offeredFiles.at(-1)!;
    assert.equal(file.name, 'redemptions-By-consumption-2026-11-24_2026-11-26-this-till-only.csv');
    assert.equal(file.mimeType, 'text/csv');
    assert.ok(shows(view, translate('en', 'screen.stats.exported', { name: file.name, rows: 2 })));
    const records = parse(Buffer.from(file.data).toString('utf8'), { bom: true }) as string[][];
    assert.deepEqual(records, [
      ['Consumption', 'Redemptions', 'Uses', 'Amount (yuan)'],
      ['Concession', '2', '3', '30.00'],
      ['Ticket', '3', '6', '270.00'],
      ['Total', '5', '9', '300.00'],
    ]);
  });

  it('a host without offerFile shows no export buttons; one with it shows both', async () => {
    bench = await new ScreenBench().start({ as: 'manager', offerFile: false });
    const view = await bench.openMenu(ID);
    assert.deepEqual(buttons(view).sort(), ['close', 'query']);
    bench.host.dismiss(ID);
    await bench.stop();
    bench = await new ScreenBench().start({ as: 'manager' });
    assert.deepEqual(buttons(await bench.openMenu(ID)).sort(), ['close', 'export_csv', 'export_xlsx', 'query']);
  });

  it('a query is refused when the user at the till changed to one without statistics meanwhile', async () => {
    bench = await new ScreenBench().start({ as: 'manager' });
    await seed(bench);
    await bench.openMenu(ID);
    await bench.as('salesperson');
    bench.host.press(ID, 'export_xlsx', only(period));
    await bench.host.waitForView((v) => v.id === 'cinecard.forbidden');
    assert.equal(bench.host.offeredFiles.length, 0, 'no file');
  });
});
