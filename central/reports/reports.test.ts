/**
 * Statistics against a data set checked by hand: three cards of two types sold at cinemas A and B,
 * five redemptions around a day boundary of the chain's time zone (Asia/Shanghai, UTC+8), every
 * filter and grouping, settlement, liability, cards used up, the cinema scope, bad input.
 *
 *  op  card (type, sold at)  at (UTC)            Shanghai day  cinema  uses  left  kind        fen    cashier
 *  r1  c1 (T1, A)            2025-03-01 02:00    03-01         A       2     8     ticket      8000   alice
 *  r2  c1                    2025-03-01 15:59    03-01 23:59   A       1     7     concession  1500   bob
 *  r3  c2 (T1, A)            2025-03-01 16:00    03-02 00:00   A       3     7     ticket      9000   alice
 *  r4  c3 (T2, B)            2025-03-02 04:00    03-02         B       10    0     ticket      30000  carol
 *  r5  c1                    2025-03-02 05:00    03-02         B       1     6     ticket      —      —
 * T1: 3000 fen per use, T2: 5000. Each card carries 10 uses.
 */
import assert from 'node:assert/strict';
import ExcelJS from 'exceljs';
import { parse } from 'csv-parse/sync';
import type { CentralClient, Schemas } from '../client/index.ts';
import type { operations } from '../client/schema.ts';
import { describeCentral, ok, type EnrolledTerminal } from '../test-support/harness.ts';
import { makeCardType, makeCards, redemption } from '../cards/card-fixtures.ts';
import { upload, wireOp } from '../sync/test-ops.ts';
import { computeRollups, readRollups, rebuildRollups, rollupTimeZone } from './rollups.ts';
import { specValidator } from '../test-support/spec-validator.ts';

const D1 = '2025-03-01';
const D2 = '2025-03-02';
const c1 = '8800000001';
const c2 = '8800000002';
const c3 = '8800000003';

type Totals = [ops: number, uses: number, amountFen: number];
const totalsOf = (t: Schemas['ReportTotals']): Totals => [t.ops, t.uses, t.amountFen];
const rowTotals = (r: { ops: number; uses: number; amountFen: number }): Totals => [r.ops, r.uses, r.amountFen];

/** A row as text with its keys in order (rows from the database and from JavaScript list them differently). */
const canonical = (row: object) => JSON.stringify(Object.entries(row).sort(([a], [b]) => (a < b ? -1 : 1)));

describeCentral('reports', (central) => {
  let A: Schemas['Cinema'];
  let B: Schemas['Cinema'];
  let T1: Schemas['CardType'];
  let T2: Schemas['CardType'];
  let tillA: EnrolledTerminal;
  let hq: CentralClient;
  const opIds: string[] = [];

  before(async () => {
    const c = central();
    hq = c.admin.client;
    A = await c.createCinema('Cinema A');
    B = await c.createCinema('Cinema B');
    T1 = await makeCardType(c, { settlementPricePerUseFen: 3000 });
    T2 = await makeCardType(c, { settlementPricePerUseFen: 5000 });
    ok(await hq.POST('/v1/card-batches', { body: { cardTypeId: T1.id, cards: [{ cardNo: c1, uid: 'A1B2C301' }, { cardNo: c2, uid: 'A1B2C302' }] } }));
    ok(await hq.POST('/v1/card-batches', { body: { cardTypeId: T2.id, cards: [{ cardNo: c3, uid: 'A1B2C303' }] } }));
    for (const [cardNo, cinema] of [[c1, A], [c2, A], [c3, B]] as const) {
      ok(await hq.POST('/v1/cards/{cardNo}/activate', { params: { path: { cardNo } }, body: { cinemaId: cinema.id, seq: 2 } }));
    }
    tillA = await c.enrolTerminal(A.id);
    const tillB = await c.enrolTerminal(B.id);
    const ops: [EnrolledTerminal, Schemas['LedgerOpCreate']][] = [
      [tillA, redemption(c1, 3, 2, 8, { occurredAt: '2025-03-01T02:00:00.000Z', consumptionType: 'ticket', amountFen: 8000, cashier: 'alice' })],
      [tillA, redemption(c1, 4, 1, 7, { occurredAt: '2025-03-01T15:59:00.000Z', consumptionType: 'concession', amountFen: 1500, cashier: 'bob' })],
      [tillA, redemption(c2, 3, 3, 7, { occurredAt: '2025-03-01T16:00:00.000Z', consumptionType: 'ticket', amountFen: 9000, cashier: 'alice' })],
      [tillB, redemption(c3, 3, 10, 0, { occurredAt: '2025-03-02T04:00:00.000Z', consumptionType: 'ticket', amountFen: 30000, cashier: 'carol' })],
      [tillB, redemption(c1, 5, 1, 6, { occurredAt: '2025-03-02T05:00:00.000Z', consumptionType: 'ticket' })],
    ];
    for (const [till, op] of ops) {
      ok(await till.client.POST('/v1/ledger/ops', { body: op }));
      opIds.push(op.opId);
    }
  });

  type SummaryQuery = NonNullable<operations['summarizeRedemptions']['parameters']['query']>;
  const summary = async (query: SummaryQuery) => ok(await hq.GET('/v1/reports/redemptions/summary', { params: { query } }));

  it('sums every redemption, and groups by each key', async () => {
    assert.deepEqual(totalsOf((await summary({})).totals), [5, 17, 48500]);
    const byDay = await summary({ groupBy: 'day' });
    assert.deepEqual(byDay.rows.map((r) => [r.day, ...rowTotals(r)]), [[D1, 2, 3, 9500], [D2, 3, 14, 39000]]);
    const byCinema = await summary({ groupBy: 'cinema' });
    assert.deepEqual(
      byCinema.rows.map((r) => [r.cinemaName, ...rowTotals(r)]).sort(),
      [['Cinema A', 3, 6, 18500], ['Cinema B', 2, 11, 30000]],
    );
    const byType = await summary({ groupBy: 'cardType' });
    assert.deepEqual(
      byType.rows.map((r) => [r.cardTypeId, ...rowTotals(r)]).sort(),
      [[T1.id, 4, 7, 18500], [T2.id, 1, 10, 30000]].sort(),
    );
    assert.deepEqual(byType.rows.find((r) => r.cardTypeId === T2.id)?.cardTypeName, T2.name);
    const byConsumption = await summary({ groupBy: 'consumptionType' });
    assert.deepEqual(byConsumption.rows.map((r) => [r.consumptionType, ...rowTotals(r)]), [['concession', 1, 1, 1500], ['ticket', 4, 16, 47000]]);
    const byCashier = await summary({ groupBy: 'cashier' });
    assert.deepEqual(byCashier.rows.map((r) => [r.cashier, ...rowTotals(r)]), [[null, 1, 1, 0], ['alice', 2, 5, 17000], ['bob', 1, 1, 1500], ['carol', 1, 10, 30000]]);
    const two = await summary({ groupBy: 'day,consumptionType' });
    assert.deepEqual(two.groupBy, ['day', 'consumptionType']);
    assert.deepEqual(two.rows.map((r) => [r.day, r.consumptionType, r.ops]), [[D1, 'concession', 1], [D1, 'ticket', 1], [D2, 'ticket', 3]]);
    assert.deepEqual(Object.keys(two.rows[0]!).sort(), ['amountFen', 'consumptionType', 'day', 'ops', 'uses']);
  });

  it('filters by day (in the chain time zone), range, cinema, card type, consumption type and cashier', async () => {
    assert.deepEqual(totalsOf((await summary({ day: D1 })).totals), [2, 3, 9500], 'r3 at 16:00 UTC is already 2 March in Shanghai');
    assert.deepEqual(totalsOf((await summary({ from: D2, to: D2 })).totals), [3, 14, 39000]);
    assert.deepEqual(totalsOf((await summary({ from: D2 })).totals), [3, 14, 39000]);
    assert.deepEqual(totalsOf((await summary({ to: '2025-02-28' })).totals), [0, 0, 0]);
    assert.deepEqual(totalsOf((await summary({ cinemaId: B.id })).totals), [2, 11, 30000]);
    assert.deepEqual(totalsOf((await summary({ cardTypeId: T2.id })).totals), [1, 10, 30000]);
    assert.deepEqual(totalsOf((await summary({ consumptionType: 'concession' })).totals), [1, 1, 1500]);
    assert.deepEqual(totalsOf((await summary({ cashier: 'alice' })).totals), [2, 5, 17000]);
    assert.deepEqual(totalsOf((await summary({ cashier: 'alice', day: D2 })).totals), [1, 3, 9000]);
  });

  it('filters by card number and card number range (from the ops), with the same day cut', async () => {
    assert.deepEqual(totalsOf((await summary({ cardNo: c1 })).totals), [3, 4, 9500]);
    const byDay = await summary({ cardNo: c1, groupBy: 'day' });
    assert.deepEqual(byDay.rows.map((r) => [r.day, ...rowTotals(r)]), [[D1, 2, 3, 9500], [D2, 1, 1, 0]]);
    assert.deepEqual(totalsOf((await summary({ cardNoFrom: c2, cardNoTo: c3 })).totals), [2, 13, 39000]);
    assert.deepEqual(totalsOf((await summary({ cardNoFrom: c2 })).totals), [2, 13, 39000]);
    assert.deepEqual(totalsOf((await summary({ cardNoTo: c1, day: D2 })).totals), [1, 1, 0]);
    assert.deepEqual(totalsOf((await summary({ cardNoFrom: c1, cardNoTo: c3, cinemaId: A.id, groupBy: 'cashier' })).totals), [3, 6, 18500]);
  });

  it('lists the redemptions in time order, a page at a time, with the totals of all that match', async () => {
    const first = ok(await hq.GET('/v1/reports/redemptions', { params: { query: { limit: 2 } } }));
    assert.deepEqual(first.items.map((r) => r.opId), opIds.slice(0, 2));
    assert.deepEqual(totalsOf(first.totals), [5, 17, 48500]);
    const r1 = first.items[0]!;
    assert.deepEqual(
      [r1.cardNo, r1.seq, r1.cinemaId, r1.cinemaName, r1.cardTypeId, r1.cardTypeName, r1.consumptionType, r1.uses, r1.remainingAfter, r1.amountFen, r1.cashier, r1.status],
      [c1, 3, A.id, 'Cinema A', T1.id, T1.name, 'ticket', 2, 8, 8000, 'alice', 'applied'],
    );
    const second = ok(await hq.GET('/v1/reports/redemptions', { params: { query: { limit: 2, cursor: first.nextCursor! } } }));
    const third = ok(await hq.GET('/v1/reports/redemptions', { params: { query: { limit: 2, cursor: second.nextCursor! } } }));
    assert.deepEqual([...second.items, ...third.items].map((r) => r.opId), opIds.slice(2));
    assert.equal(third.nextCursor, null);
    const list = async (query: NonNullable<operations['listRedemptions']['parameters']['query']>) => ok(await hq.GET('/v1/reports/redemptions', { params: { query } }));
    const window = await list({ since: '2025-03-01T15:00:00.000Z', until: '2025-03-02T04:00:00.000Z' });
    assert.deepEqual(window.items.map((r) => r.opId), [opIds[1], opIds[2]]);
    assert.deepEqual(totalsOf(window.totals), [2, 4, 10500]);
    assert.deepEqual((await list({ day: D1 })).items.map((r) => r.opId), opIds.slice(0, 2));
    assert.deepEqual((await list({ cardNo: c1 })).items.map((r) => r.opId), [opIds[0], opIds[1], opIds[4]]);
    assert.deepEqual((await list({ cardNoFrom: c2, cardNoTo: c3 })).items.map((r) => r.opId), [opIds[2], opIds[3]]);
    assert.deepEqual((await list({ cashier: 'bob' })).items.map((r) => r.opId), [opIds[1]]);
    assert.deepEqual((await list({ consumptionType: 'ticket', cinemaId: B.id })).items.map((r) => r.opId), [opIds[3], opIds[4]]);
    const t2 = await list({ cardTypeId: T2.id });
    assert.deepEqual([t2.items.map((r) => r.opId), totalsOf(t2.totals)], [[opIds[3]], [1, 10, 30000]]);
  });

  it('settles per cinema and card type: uses redeemed and cards sold, at the price per use', async () => {
    const all = ok(await hq.GET('/v1/reports/settlement'));
    const line = (cinema: Schemas['Cinema'], type: Schemas['CardType']) => all.rows.find((r) => r.cinemaId === cinema.id && r.cardTypeId === type.id);
    const pick = (l: Schemas['SettlementLine'] | undefined) =>
      l && [l.cardsSold, l.usesSold, l.salesValueFen, l.redemptions, l.usesRedeemed, l.settlementFen, l.netFen];
    assert.deepEqual(pick(line(A, T1)), [2, 20, 60000, 3, 6, 18000, -42000]);
    assert.deepEqual(pick(line(B, T1)), [0, 0, 0, 1, 1, 3000, 3000]);
    assert.deepEqual(pick(line(B, T2)), [1, 10, 50000, 1, 10, 50000, 0]);
    assert.equal(all.rows.length, 3);
    assert.deepEqual(all.totals, { cardsSold: 3, usesSold: 30, salesValueFen: 110000, redemptions: 5, usesRedeemed: 17, settlementFen: 71000, netFen: -39000 });
    // The sales happened today; March holds the redemptions only.
    const march = ok(await hq.GET('/v1/reports/settlement', { params: { query: { from: D1, to: D2 } } }));
    assert.deepEqual([march.from, march.to, march.totals.cardsSold, march.totals.settlementFen], [D1, D2, 0, 71000]);
    const oneDay = ok(await hq.GET('/v1/reports/settlement', { params: { query: { day: D1, cinemaId: A.id } } }));
    assert.deepEqual(oneDay.rows.map((l) => [l.cinemaName, l.usesRedeemed, l.settlementFen]), [['Cinema A', 3, 9000]]);
    const t2 = ok(await hq.GET('/v1/reports/settlement', { params: { query: { cardTypeId: T2.id } } }));
    assert.deepEqual(t2.rows.map((l) => l.cinemaId), [B.id]);
  });

  it('values card sales at the card type\'s sale price once HQ sets one (else at the uses they carried × price per use)', async () => {
    // Priced from before March, so March's redemptions and today's sale share one line.
    const setSalePrice = async (salePriceFen: number | null) =>
      ok(await hq.PATCH('/v1/card-types/{cardTypeId}', { params: { path: { cardTypeId: T2.id } }, body: { salePriceFen, pricesEffectiveFrom: '2025-01-01' } }));
    assert.equal((await setSalePrice(45000)).salePriceFen, 45000);
    try {
      const all = ok(await hq.GET('/v1/reports/settlement'));
      const b2 = all.rows.find((r) => r.cinemaId === B.id && r.cardTypeId === T2.id)!;
      // One 10-use card sold for ¥450; its 10 uses settle at ¥50: HQ owes cinema B ¥50.
      assert.deepEqual([b2.salePriceFen, b2.cardsSold, b2.salesValueFen, b2.settlementFen, b2.netFen], [45000, 1, 45000, 50000, 5000]);
      const a1 = all.rows.find((r) => r.cinemaId === A.id && r.cardTypeId === T1.id)!;
      assert.deepEqual([a1.salePriceFen, a1.salesValueFen], [null, 60000]);
      assert.deepEqual([all.totals.salesValueFen, all.totals.netFen], [105000, -34000]);
    } finally {
      assert.equal((await setSalePrice(null)).salePriceFen, null);
    }
    const back = ok(await hq.GET('/v1/reports/settlement'));
    assert.deepEqual([back.totals.salesValueFen, back.totals.netFen], [110000, -39000]);
  });

  it('counts the liability: uses on sold cards not yet redeemed, by cinema and type', async () => {
    const all = ok(await hq.GET('/v1/reports/liability'));
    assert.deepEqual(all.rows.map((l) => [l.cinemaId, l.cardTypeId, l.cards, l.remainingUses, l.valueFen]), [[A.id, T1.id, 2, 13, 39000]]);
    assert.deepEqual(all.totals, { cards: 2, remainingUses: 13, valueFen: 39000 });
    assert.deepEqual(ok(await hq.GET('/v1/reports/liability', { params: { query: { cinemaId: B.id } } })).rows, []);
    assert.deepEqual(ok(await hq.GET('/v1/reports/liability', { params: { query: { cardTypeId: T2.id } } })).totals.cards, 0);
  });

  it('counts the cards used up per cinema and day', async () => {
    const all = ok(await hq.GET('/v1/reports/recycled'));
    assert.deepEqual(all.rows, [{ day: D2, cinemaId: B.id, cinemaName: 'Cinema B', cards: 1 }]);
    assert.equal(ok(await hq.GET('/v1/reports/recycled', { params: { query: { day: D1 } } })).totals.cards, 0);
    assert.equal(ok(await hq.GET('/v1/reports/recycled', { params: { query: { cardTypeId: T1.id } } })).totals.cards, 0);
    const card = ok(await hq.GET('/v1/cards/{cardNo}', { params: { path: { cardNo: c3 } } }));
    assert.deepEqual([card.state, card.recycledReason, card.recycledCinemaId], ['recycled', 'exhausted', B.id]);
  });

  it('shows a cinema only its own figures, on its own routes and on HQ routes alike', async () => {
    const c = central();
    const local = await c.loginAs('local_statistician', { terminal: tillA });
    const path = (cinemaId: string) => ({ params: { path: { cinemaId } } });
    const mine = ok(await local.client.GET('/v1/cinemas/{cinemaId}/reports/redemptions/summary', path(A.id)));
    assert.deepEqual(totalsOf(mine.totals), [3, 6, 18500]);
    const detail = ok(await local.client.GET('/v1/cinemas/{cinemaId}/reports/redemptions', { params: { path: { cinemaId: A.id }, query: { cashier: 'alice' } } }));
    assert.deepEqual(detail.items.map((r) => r.opId), [opIds[0], opIds[2]]);
    assert.equal(ok(await local.client.GET('/v1/cinemas/{cinemaId}/reports/liability', path(A.id))).totals.remainingUses, 13);
    assert.equal(ok(await local.client.GET('/v1/cinemas/{cinemaId}/reports/recycled', path(A.id))).totals.cards, 0);
    const other = await local.client.GET('/v1/cinemas/{cinemaId}/reports/redemptions/summary', path(B.id));
    assert.deepEqual([other.response.status, other.error?.code], [403, 'cinema_out_of_scope']);
    const hqRoute = await local.client.GET('/v1/reports/redemptions/summary');
    assert.deepEqual([hqRoute.response.status, hqRoute.error?.code], [403, 'permission_denied']);
    // An HQ admin logged in on cinema A's till is bound to A.
    const adminOnA = await c.loginAs('admin', { terminal: tillA });
    assert.deepEqual(totalsOf(ok(await adminOnA.client.GET('/v1/reports/redemptions/summary')).totals), [3, 6, 18500]);
    const asked = await adminOnA.client.GET('/v1/reports/settlement', { params: { query: { cinemaId: B.id } } });
    assert.deepEqual([asked.response.status, asked.error?.code], [403, 'cinema_out_of_scope']);
  });

  it('refuses contradictory or malformed filters with a clear 400', async () => {
    const cases: [Record<string, string>, string][] = [
      [{ day: D1, from: D1 }, 'report_day_and_range'],
      [{ from: D2, to: D1 }, 'report_range_reversed'],
      [{ cardNoFrom: '12345', cardNoTo: '123456' }, 'report_card_range_lengths'],
      [{ cardNo: c1, cardNoTo: c2 }, 'report_card_and_range'],
      [{ groupBy: 'day,film' }, 'invalid_request'],
      [{ day: '2025-02-30' }, 'invalid_request'],
      [{ cashier: 'a\u0000b' }, 'invalid_request'],
    ];
    for (const [query, code] of cases) {
      const { response, error } = await hq.GET('/v1/reports/redemptions/summary', { params: { query: query as SummaryQuery } });
      assert.deepEqual([response.status, error?.code], [400, code], JSON.stringify(query));
    }
    const cursor = await hq.GET('/v1/reports/redemptions', { params: { query: { cursor: 'bm9wZQ' } } });
    assert.deepEqual([cursor.response.status, cursor.error?.code], [400, 'report_cursor_invalid']);
    const zh = await central().client(central().admin.token).GET('/v1/reports/settlement', { params: { query: { day: D1, to: D2 } }, headers: { 'accept-language': 'zh-CN' } });
    assert.match((zh.error as { message: string }).message, /单日/);
  });

  /** An export over plain HTTP (the typed client parses JSON), checked against the spec. */
  async function download(token: string, path: string, query: Record<string, string>, locale = 'en'): Promise<{ status: number; type: string | null; disposition: string | null; body: Buffer; code?: string }> {
    const url = `${central().url}${path}?${new URLSearchParams(query)}`;
    const response = await fetch(url, { headers: { authorization: `Bearer ${token}`, 'accept-language': locale } });
    const body = Buffer.from(await response.arrayBuffer());
    assert.deepEqual(specValidator.check('GET', new URL(url).pathname, response.status, response.headers.get('content-type'), body.toString('utf8')), []);
    const code = response.ok ? undefined : (JSON.parse(body.toString('utf8')) as { code: string }).code;
    return { status: response.status, type: response.headers.get('content-type'), disposition: response.headers.get('content-disposition'), body, ...(code ? { code } : {}) };
  }
  const csv = (body: Buffer) => parse(body.toString('utf8'), { bom: true }) as string[][];

  it('exports the redemption detail as CSV, filtered, in time order, with a totals row', async () => {
    const file = await download(central().admin.token, '/v1/reports/export', { report: 'redemptions', format: 'csv', cinemaId: A.id });
    assert.equal(file.status, 200);
    assert.match(file.type!, /^text\/csv/);
    assert.match(file.disposition!, /redemptions-all\.csv/);
    const [head, ...rest] = csv(file.body);
    assert.deepEqual(head!.slice(0, 3), ['Time', 'Card number', 'Seq']);
    assert.deepEqual(rest.map((r) => r[1]), [c1, c1, c2, '']);
    assert.deepEqual(rest[0]!.slice(3, 7), ['Cinema A', T1.name, 'ticket', '2']);
    assert.equal(rest[0]![0], '2025-03-01 10:00:00', 'times on the chain\'s wall clock');
    const total = rest.at(-1)!;
    assert.equal(total[0], 'Total');
    assert.deepEqual([total[head!.indexOf('Uses')], total[head!.indexOf('Amount (yuan)')]], ['6', '185.00']);
  });

  it('exports settlement as .xlsx with Chinese headers', async () => {
    const file = await download(central().admin.token, '/v1/reports/export', { report: 'settlement', format: 'xlsx' }, 'zh-CN');
    assert.equal(file.status, 200);
    assert.equal(file.type, 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(file.body as unknown as ArrayBuffer);
    const sheet = workbook.worksheets[0]!;
    const values = (n: number) => (sheet.getRow(n).values as unknown[]).slice(1);
    let headerRow = 1;
    while (!values(headerRow).includes('影院') && headerRow < 5) headerRow++;
    const header = values(headerRow);
    assert.ok(header.includes('结算金额（元）'), JSON.stringify(header));
    const settlementColumn = header.indexOf('结算金额（元）');
    const lines: unknown[][] = [];
    for (let n = headerRow + 1; n <= sheet.rowCount; n++) lines.push(values(n));
    const settled = lines.map((l) => l[settlementColumn]);
    assert.deepEqual(settled.slice(0, -1).map(Number).sort((a, b) => a - b), [30, 180, 500]);
  });

  it('exports the other reports and a card\'s history; a cinema exports only its own, without settlement', async () => {
    const admin = central().admin.token;
    for (const report of ['redemption-summary', 'liability', 'recycled']) {
      const file = await download(admin, '/v1/reports/export', { report, format: 'csv', groupBy: 'day' });
      assert.equal(file.status, 200, report);
    }
    const summary = csv((await download(admin, '/v1/reports/export', { report: 'redemption-summary', format: 'csv', groupBy: 'day,cashier', day: D1 })).body);
    assert.deepEqual(summary, [['Day', 'Cashier', 'Redemptions', 'Uses', 'Amount (yuan)'], [D1, 'alice', '1', '2', '80.00'], [D1, 'bob', '1', '1', '15.00'], ['Total', '', '2', '3', '95.00']]);
    const history = csv((await download(admin, '/v1/reports/export', { report: 'card-history', format: 'csv', cardNo: c1 })).body);
    assert.deepEqual(history.slice(1, -1).map((r) => [r[1], r[2], r[3], r[5], r[6]]), [['2', 'activate', 'Cinema A', '0', '10'], ['3', 'redeem', 'Cinema A', '2', '8'], ['4', 'redeem', 'Cinema A', '1', '7'], ['5', 'redeem', 'Cinema B', '1', '6']]);
    const noCard = await download(admin, '/v1/reports/export', { report: 'card-history', format: 'csv' });
    assert.deepEqual([noCard.status, noCard.code], [400, 'report_needs_card']);
    const badFilter = await download(admin, '/v1/reports/export', { report: 'redemptions', format: 'csv', day: D1, to: D2 });
    assert.deepEqual([badFilter.status, badFilter.code], [400, 'report_day_and_range']);

    const local = await central().loginAs('local_statistician', { terminal: tillA });
    const mine = csv((await download(local.token, `/v1/cinemas/${A.id}/reports/export`, { report: 'redemption-summary', format: 'csv', groupBy: 'cinema' })).body);
    assert.deepEqual(mine.slice(1), [['Cinema A', '3', '6', '185.00'], ['Total', '3', '6', '185.00']]);
    const settlement = await download(local.token, `/v1/cinemas/${A.id}/reports/export`, { report: 'settlement', format: 'csv' });
    assert.deepEqual([settlement.status, settlement.code], [400, 'invalid_request']);
    const other = await download(local.token, `/v1/cinemas/${B.id}/reports/export`, { report: 'liability', format: 'csv' });
    assert.deepEqual([other.status, other.code], [403, 'cinema_out_of_scope']);
  });

  it('keeps the rollup equal to a recomputation, and recuts the days when the time zone changes', async () => {
    const { db } = central().platform;
    const sort = (rows: object[]) => [...rows].sort((a, b) => (canonical(a) < canonical(b) ? -1 : 1));
    assert.deepEqual(sort(await readRollups(db)), sort(await computeRollups(db, await rollupTimeZone(db))));
    await rebuildRollups(db, 'UTC');
    try {
      assert.deepEqual(totalsOf((await summary({ day: D1 })).totals), [3, 6, 18500], 'in UTC, r3 is on 1 March');
    } finally {
      await rebuildRollups(db, 'Asia/Shanghai');
    }
    assert.deepEqual(totalsOf((await summary({ day: D1 })).totals), [2, 3, 9500]);
  });
});

describeCentral(
  'reports in another time zone',
  (central) => {
    it('cuts days where the configured zone says (the rollup follows reports.timeZone from start-up)', async () => {
      const c = central();
      assert.equal(await rollupTimeZone(c.platform.db), 'America/New_York');
      const cinema = await c.createCinema('NY');
      const type = await makeCardType(c);
      const cardNo = '8800000009';
      ok(await c.admin.client.POST('/v1/card-batches', { body: { cardTypeId: type.id, cards: [{ cardNo, uid: 'A1B2C309' }] } }));
      ok(await c.admin.client.POST('/v1/cards/{cardNo}/activate', { params: { path: { cardNo } }, body: { cinemaId: cinema.id, seq: 2 } }));
      const till = await c.enrolTerminal(cinema.id);
      // 03:30 UTC on 10 March is still 9 March in New York (EDT began on the 9th at 07:00 UTC).
      ok(await till.client.POST('/v1/ledger/ops', { body: redemption(cardNo, 3, 1, 9, { occurredAt: '2025-03-10T03:30:00.000Z' }) }));
      const byDay = ok(await c.admin.client.GET('/v1/reports/redemptions/summary', { params: { query: { groupBy: 'day', from: '2025-03-01', to: '2025-03-31' } } }));
      assert.deepEqual(byDay.rows.map((r) => [r.day, r.ops]), [['2025-03-09', 1]]);
      const detail = ok(await c.admin.client.GET('/v1/reports/redemptions', { params: { query: { day: '2025-03-09' } } }));
      assert.equal(detail.items.length, 1);
    });
  },
  { reports: { timeZone: 'America/New_York' } },
);

/**
 * Settlement at the prices in force on each day (Asia/Shanghai days of May 2025, ops at noon):
 *
 *  day  type P (100/use, card 10.00 → 150/use from day 3)   type Q (200/use, no card price)   type R (100/use, card 10.00 → 12.00 from day 3)
 *  1    p1 sold; p1 redeems 2                               q1 sold; q1 redeems 1              r1 sold; r1 redeems 1
 *  4    p2 sold; p1 redeems 3, p2 redeems 1                 q1 redeems 2                       r2 sold; r2 redeems 2
 */
describeCentral('settlement at the prices in force', (central) => {
  const day = (n: number) => `2025-05-${String(10 + n).padStart(2, '0')}`;
  const noon = (n: number) => `${day(n)}T04:00:00.000Z`;
  let cinema: Schemas['Cinema'];
  let till: EnrolledTerminal;
  let P: Schemas['CardType'];
  let Q: Schemas['CardType'];
  let R: Schemas['CardType'];
  let termSeq = 0;

  before(async () => {
    const c = central();
    cinema = await c.createCinema('Price cinema');
    till = await c.enrolTerminal(cinema.id);
    P = await makeCardType(c, { settlementPricePerUseFen: 100, salePriceFen: 1000 });
    Q = await makeCardType(c, { settlementPricePerUseFen: 200 });
    R = await makeCardType(c, { settlementPricePerUseFen: 100, salePriceFen: 1000 });
    const [p1, p2] = await makeCards(c, 2, P.id);
    const [q1] = await makeCards(c, 1, Q.id);
    const [r1, r2] = await makeCards(c, 2, R.id);
    const sell = async (card: Schemas['Card'] | undefined, n: number) => {
      const op = wireOp(till, ++termSeq, card!.cardNo, 2, 0, 0, { kind: 'activate', cardSeq: 2, consumption: null, uses: null, remainingAfter: null, deviceTime: noon(n) });
      assert.deepEqual((await upload(till, [op])).results.map((r) => r.outcome), ['applied']);
    };
    const redeem = async (card: Schemas['Card'] | undefined, seq: number, uses: number, left: number, n: number) =>
      ok(await till.client.POST('/v1/ledger/ops', { body: redemption(card!.cardNo, seq, uses, left, { occurredAt: noon(n) }) }));
    await sell(p1, 1);
    await redeem(p1, 3, 2, 8, 1);
    await sell(q1, 1);
    await redeem(q1, 3, 1, 9, 1);
    await sell(r1, 1);
    await redeem(r1, 3, 1, 9, 1);
    await sell(p2, 4);
    await redeem(p1, 4, 3, 5, 4);
    await redeem(p2, 3, 1, 9, 4);
    await redeem(q1, 4, 2, 7, 4);
    await sell(r2, 4);
    await redeem(r2, 3, 2, 8, 4);
  });

  type SettlementQuery = NonNullable<operations['getSettlement']['parameters']['query']>;
  const settlement = async (query: SettlementQuery) => ok(await central().admin.client.GET('/v1/reports/settlement', { params: { query: { cinemaId: cinema.id, ...query } } }));
  /** A type's lines: prices, cards sold, sales value, uses redeemed, settlement, net. */
  const linesOf = (s: Schemas['Settlement'], type: Schemas['CardType']) =>
    s.rows.filter((l) => l.cardTypeId === type.id).map((l) => [l.settlementPricePerUseFen, l.salePriceFen, l.cardsSold, l.salesValueFen, l.usesRedeemed, l.settlementFen, l.netFen]);
  const setPrices = async (type: Schemas['CardType'], body: Schemas['CardTypeUpdate']) =>
    ok(await central().admin.client.PATCH('/v1/card-types/{cardTypeId}', { params: { path: { cardTypeId: type.id } }, body }));

  it('prices each day at the prices in force then: a type whose price changed inside the period has a line per price', async () => {
    assert.equal((await setPrices(P, { settlementPricePerUseFen: 150, pricesEffectiveFrom: day(3) })).settlementPricePerUseFen, 150);
    const period = await settlement({ from: day(1), to: day(5) });
    assert.deepEqual(linesOf(period, P), [
      [100, 1000, 1, 1000, 2, 200, -800],
      [150, 1000, 1, 1000, 4, 600, -400],
    ]);
    // A type whose prices did not change keeps one line across the cut.
    assert.deepEqual(linesOf(period, Q), [[200, null, 1, 2000, 3, 600, -1400]]);
    assert.equal(period.totals.settlementFen, 100 * 2 + 150 * 4 + 200 * 3 + 100 * 3);
    assert.deepEqual(
      Object.keys(period.totals).map((k) => period.rows.reduce((sum, l) => sum + l[k as keyof typeof period.totals], 0)),
      Object.values(period.totals),
      'the totals are the sum of the lines',
    );
    // The same from whole months (month rollup rows around the cut) and with no period at all.
    for (const query of [{ from: '2025-05-01', to: '2025-05-31' }, {}, { cardTypeId: P.id }]) {
      assert.deepEqual(linesOf(await settlement(query), P), linesOf(period, P), JSON.stringify(query));
    }
  });

  it('settles a period before the change at the old price, whatever the price is today; the liability is at today\'s', async () => {
    const early = await settlement({ from: day(1), to: day(2) });
    assert.deepEqual(linesOf(early, P), [[100, 1000, 1, 1000, 2, 200, -800]]);
    assert.deepEqual(linesOf(await settlement({ day: day(4) }), P), [[150, 1000, 1, 1000, 4, 600, -400]]);
    const liability = ok(await central().admin.client.GET('/v1/reports/liability', { params: { query: { cardTypeId: P.id } } }));
    assert.deepEqual(liability.rows.map((l) => [l.settlementPricePerUseFen, l.remainingUses, l.valueFen]), [[150, 14, 150 * 14]]);
  });

  it('a change backdated to before the period reprices its days up to the next change', async () => {
    await setPrices(P, { settlementPricePerUseFen: 120, pricesEffectiveFrom: day(0) });
    assert.deepEqual(linesOf(await settlement({ from: day(1), to: day(2) }), P), [[120, 1000, 1, 1000, 2, 240, -760]]);
    assert.deepEqual(linesOf(await settlement({ from: day(1), to: day(5) }), P), [
      [120, 1000, 1, 1000, 2, 240, -760],
      [150, 1000, 1, 1000, 4, 600, -400],
    ]);
  });

  it('splits the sales value at a sale price change the same way', async () => {
    const before = await settlement({ from: day(1), to: day(5) });
    assert.deepEqual(linesOf(before, R), [[100, 1000, 2, 2000, 3, 300, -1700]]);
    await setPrices(R, { salePriceFen: 1200, pricesEffectiveFrom: day(3) });
    const after = await settlement({ from: day(1), to: day(5) });
    assert.deepEqual(linesOf(after, R), [
      [100, 1000, 1, 1000, 1, 100, -900],
      [100, 1200, 1, 1200, 2, 200, -1000],
    ]);
    assert.equal(after.totals.salesValueFen - before.totals.salesValueFen, 200, 'only the card sold on day 4 is worth more');
  });

  it('exports the settlement with a line per price', async () => {
    const url = `${central().url}/v1/reports/export?${new URLSearchParams({ report: 'settlement', format: 'csv', from: day(1), to: day(5), cinemaId: cinema.id })}`;
    const response = await fetch(url, { headers: { authorization: `Bearer ${central().admin.token}`, 'accept-language': 'en' } });
    assert.equal(response.status, 200);
    const [head, ...rows] = parse(await response.text(), { bom: true }) as string[][];
    const column = (name: string) => head!.indexOf(name);
    const ofP = rows.filter((r) => r[column('Card type')] === P.name).map((r) => [r[column('Price per use (yuan)')], r[column('Settlement (yuan)')]]);
    assert.deepEqual(ofP, [['1.20', '2.40'], ['1.50', '6.00']]);
    assert.equal(rows.at(-1)![column('Settlement (yuan)')], '17.40');
  });
});
