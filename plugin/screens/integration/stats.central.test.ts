/**
 * The statistics screen against a real central (SQLite): two enrolled tills of one cinema record
 * redemptions, sync uploads them, and the screen on one till shows central's numbers for the whole
 * cinema — asked as the terminal — and exports them as an .xlsx read back with exceljs. With the link
 * cut, the same screen shows this till's own records under the "this till only" banner; with central
 * reachable but this till's upload held up, central's numbers say how many of this till's records
 * they still miss.
 *
 *  till  card        seq  device time (UTC)   Shanghai day  kind        uses  left  fen    cashier
 *  1     8800000001  3    2026-11-25 02:00    11-25         ticket      2     8     7000   u-salesperson
 *  1     8800000002  3    2026-11-25 03:00    11-25         concession  1     9     2000   u-manager
 *  2     8800000001  4    2026-11-25 04:00    11-25         ticket      3     5     10500  u-salesperson
 *  2     8800000003  3    2026-11-24 10:00    11-24         ticket      1     9     3500   u-manager
 */
import assert from 'node:assert/strict';
import ExcelJS from 'exceljs';
import type { Schemas } from '../../../central/client/index.ts';
import { TestCentral, ok } from '../../../central/test-support/harness.ts';
import { testDatabases } from '../../../central/test-support/databases.ts';
import { TcpGate } from '../../../test-support/tcp-gate.ts';
import type { View } from '../../../adapters/host-ui.ts';
import type { OpDraft } from '../../store/terminal-store.ts';
import { eventually } from '../../sync/integration/terminal-fixture.ts';
import { NOW_MS, TERMINAL } from '../../test-support/redemption-harness.ts';
import { CentralLink } from '../central-link.ts';
import { ScreenBench, shows, table, zh } from '../screen-test-kit.ts';

const ID = 'cinecard.stats';
const CARDS = ['8800000001', '8800000002', '8800000003'];

const redeem = (cardNo: string, cardSeq: number, operatorId: string, consumption: 'ticket' | 'concession', uses: number, remainingAfter: number, amountFen: number): OpDraft => ({
  kind: 'redeem', cardNo, cardSeq, operatorId, consumption, uses, remainingAfter, payload: { amountFen },
});

describe('statistics screen with central (real central on SQLite, two tills)', function () {
  this.timeout(60_000);
  let central: TestCentral;
  let gate: TcpGate;
  const benches: ScreenBench[] = [];
  let till1: ScreenBench;
  let cinemaId: string;

  before(async () => {
    central = await TestCentral.start(testDatabases().find((d) => d.name === 'sqlite')!);
    const hq = central.admin.client;
    const type: Schemas['CardType'] = ok(await hq.POST('/v1/card-types', {
      body: { name: '年票（成人）', usesPerCard: 10, settlementPricePerUseFen: 3500, concessionValuePerUseFen: 2000, validityDays: 365 },
    }));
    const cinema = await central.createCinema('万达 CBD');
    cinemaId = cinema.id;
    ok(await hq.POST('/v1/card-batches', { body: { cardTypeId: type.id, cards: CARDS.map((cardNo, i) => ({ cardNo, uid: `A1B2C30${i + 1}` })) } }));
    for (const cardNo of CARDS) ok(await hq.POST('/v1/cards/{cardNo}/activate', { params: { path: { cardNo } }, body: { cinemaId: cinema.id, seq: 2 } }));
    gate = await TcpGate.start(Number(new URL(central.url).port));

    const till = async (origin: string) => {
      const enrolled = await central.enrolTerminal(cinema.id);
      const b = await new ScreenBench().start({
        as: 'manager',
        identity: { terminalId: enrolled.terminalId, cinemaId: cinema.id },
        config: { terminal: { ...TERMINAL, terminalId: enrolled.terminalId, cinemaId: cinema.id }, central: { urls: [origin], terminalSecret: enrolled.secret } },
      });
      benches.push(b);
      return b;
    };
    till1 = await till(gate.origin);
    const till2 = await till(central.url);
    const record = async (b: ScreenBench, at: string, op: OpDraft) => {
      b.host.nowMs = Date.parse(at);
      await b.plugin.store.write((trx) => b.plugin.store.appendOp(trx, op));
      b.host.nowMs = NOW_MS;
    };
    await record(till1, '2026-11-25T02:00:00Z', redeem('8800000001', 3, 'u-salesperson', 'ticket', 2, 8, 7000));
    await record(till1, '2026-11-25T03:00:00Z', redeem('8800000002', 3, 'u-manager', 'concession', 1, 9, 2000));
    await record(till2, '2026-11-25T04:00:00Z', redeem('8800000001', 4, 'u-salesperson', 'ticket', 3, 5, 10500));
    await record(till2, '2026-11-24T10:00:00Z', redeem('8800000003', 3, 'u-manager', 'ticket', 1, 9, 3500));
    for (const b of benches) await eventually(async () => (await b.plugin.store.pendingCount()) === 0, 10_000, 'the till’s ops at central');
    const atCentral = ok(await hq.GET('/v1/cinemas/{cinemaId}/reports/redemptions', { params: { path: { cinemaId: cinema.id }, query: { from: '2026-11-24', to: '2026-11-25' } } }));
    assert.equal(atCentral.totals.ops, 4, 'central has every redemption of both tills');
  });

  after(async () => {
    for (const b of benches) await b.stop();
    await gate?.close();
    await central?.close();
  });

  async function press(action: string, values: Record<string, string | null>): Promise<View> {
    const before = till1.host.events.length;
    till1.host.press(ID, action, { day: null, from: null, to: null, cardNo: '', cardNoFrom: '', cardNoTo: '', cashier: '', consumption: '', report: 'detail', ...values });
    return till1.host.waitUntil(() => till1.host.events.slice(before).find((e) => e.kind === 'open' && e.viewId === ID)?.view, 10_000, `${ID} again`);
  }

  it('shows central’s numbers for the whole cinema: today’s detail and a summary by salesperson over both tills', async () => {
    const today = await till1.openMenu(ID);
    assert.ok(shows(today, zh('screen.stats.from_central')), 'labelled as central’s, every till');
    assert.ok(!shows(today, zh('screen.stats.from_local')));
    assert.deepEqual(table(today, 'stats').map((r) => [r['at'], r['cardNo'], r['cardType'], r['consumption'], r['cashier'], r['uses'], r['remaining'], r['amount']]), [
      ['2026-11-25 10:00', '8800000001', '年票（成人）', zh('redeem.consumption.ticket'), 'salesperson', 2, 8, '70.00'],
      ['2026-11-25 11:00', '8800000002', '年票（成人）', zh('redeem.consumption.concession'), 'manager', 1, 9, '20.00'],
      ['2026-11-25 12:00', '8800000001', '年票（成人）', zh('redeem.consumption.ticket'), 'salesperson', 3, 5, '105.00'],
    ]);
    assert.ok(shows(today, zh('screen.stats.totals', { ops: 3, uses: 6, amount: '195.00' })));

    const byCashier = await press('query', { from: '2026-11-24', to: '2026-11-25', report: 'summary', groupBy: 'cashier' });
    assert.ok(shows(byCashier, zh('screen.stats.from_central')));
    assert.deepEqual(table(byCashier, 'stats').map((r) => [r['group'], r['ops'], r['uses'], r['amount']]), [['manager', 2, 2, '55.00'], ['salesperson', 2, 5, '175.00']]);
    assert.ok(shows(byCashier, zh('screen.stats.totals', { ops: 4, uses: 7, amount: '230.00' })));

    const byDay = await press('query', { from: '2026-11-24', to: '2026-11-25', report: 'summary', groupBy: 'day', consumption: 'ticket' });
    assert.deepEqual(table(byDay, 'stats').map((r) => [r['group'], r['ops'], r['uses'], r['amount']]), [['2026-11-24', 1, 1, '35.00'], ['2026-11-25', 2, 5, '175.00']]);
  });

  it('exports central’s detail as .xlsx: every row of both tills, numbers as numbers, a totals row', async () => {
    await press('export_xlsx', { from: '2026-11-24', to: '2026-11-25' });
    const file = till1.host.offeredFiles.at(-1)!;
    assert.equal(file.name, '兑换统计-2026-11-24_2026-11-25.xlsx');
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(Buffer.from(file.data) as unknown as ArrayBuffer);
    const sheet = workbook.worksheets[0]!;
    const rows: unknown[][] = [];
    sheet.eachRow({ includeEmpty: true }, (row) => rows.push((row.values as unknown[]).slice(1)));
    assert.equal(rows.length, 1 + 4 + 1, 'header, four redemptions, totals');
    assert.deepEqual(rows[0], ['兑换时间', '卡号', '卡类型', '消费类型', '销售员', '兑换次数', '剩余次数', '金额（元）']);
    assert.deepEqual(rows.slice(1, 5).map((r) => [(r[0] as Date).toISOString(), r[1], r[4], r[5], r[6], r[7]]), [
      ['2026-11-24T18:00:00.000Z', '8800000003', 'manager', 1, 9, 35],
      ['2026-11-25T10:00:00.000Z', '8800000001', 'salesperson', 2, 8, 70],
      ['2026-11-25T11:00:00.000Z', '8800000002', 'manager', 1, 9, 20],
      ['2026-11-25T12:00:00.000Z', '8800000001', 'salesperson', 3, 5, 105],
    ], 'oldest first, times on the cinema’s wall clock');
    for (const col of [6, 7, 8]) assert.equal(sheet.getRow(2).getCell(col).type, ExcelJS.ValueType.Number, `column ${col} is a number`);
    const totals = sheet.getRow(6);
    assert.equal(totals.getCell(1).value, '合计');
    assert.deepEqual(totals.getCell(6).value, { formula: 'SUM(F2:F5)', result: 7 });
    assert.deepEqual(totals.getCell(8).value, { formula: 'SUM(H2:H5)', result: 230 });
  });

  it('with central unreachable: this till’s own records only, labelled so', async () => {
    gate.cut();
    try {
      const view = await press('query', { from: '2026-11-24', to: '2026-11-25' });
      assert.ok(shows(view, zh('screen.stats.from_local')));
      assert.ok(!shows(view, zh('screen.stats.from_central')));
      assert.deepEqual(table(view, 'stats').map((r) => r['cardNo']), ['8800000001', '8800000002'], 'till 1’s two redemptions');
      assert.ok(shows(view, zh('screen.stats.totals', { ops: 2, uses: 3, amount: '90.00' })));
    } finally {
      gate.heal();
    }
  });

  it('central answers but this till’s upload is held up: central’s numbers, and how many of this till’s records they still miss', async () => {
    gate.cut(); // the till's own link (sync) is down …
    till1.plugin.resolve(CentralLink).connect((await central.enrolTerminal(cinemaId)).client); // … while the screen reaches central another way
    till1.host.nowMs = Date.parse('2026-11-25T05:00:00Z');
    await till1.plugin.store.write((trx) => till1.plugin.store.appendOp(trx, redeem('8800000002', 4, 'u-manager', 'ticket', 1, 8, 3500)));
    till1.host.nowMs = NOW_MS;
    const view = await press('query', { day: '2026-11-25' });
    assert.ok(shows(view, zh('screen.stats.from_central')));
    assert.ok(shows(view, zh('screen.stats.pending_note', { count: 1 })), 'says one record of this till is not at central yet');
    assert.ok(shows(view, zh('screen.stats.totals', { ops: 3, uses: 6, amount: '195.00' })), 'central’s numbers, without it');
  });
});
