/**
 * The export writers, read back with independent readers: exceljs' workbook reader for .xlsx and
 * csv-parse for CSV.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import ExcelJS from 'exceljs';
import { parse } from 'csv-parse/sync';
import type { ReportRow, ReportTable } from '../report-table.ts';
import { writeCsv } from './csv-writer.ts';
import { runExportProbe, syntheticTable } from './export-probe.ts';
import { ReportDataError, type ExportOptions, type ExportProgress } from './report-cells.ts';
import { writeXlsx } from './xlsx-writer.ts';

const columns: ReportTable['columns'] = [
  { key: 'cinema', type: 'text', header: { 'zh-CN': '影院', en: 'Cinema' } },
  { key: 'day', type: 'date', header: { 'zh-CN': '营业日', en: 'Day' } },
  { key: 'at', type: 'datetime', header: { 'zh-CN': '时间', en: 'Time' } },
  { key: 'uses', type: 'integer', header: { 'zh-CN': '次数', en: 'Uses' }, total: 'sum' },
  { key: 'amount', type: 'money_fen', header: { 'zh-CN': '结算金额（元）', en: 'Amount (yuan)' }, total: 'sum' },
];

function table(rows: ReportTable['rows'], extra: Partial<ReportTable> = {}): ReportTable {
  return { name: 'settlement-2026-11', title: { 'zh-CN': '结算', en: 'Settlement' }, columns, rows, ...extra };
}

const sample: ReportRow[] = [
  { cinema: '北京朝阳店', day: '2026-11-01', at: '2026-11-01T02:03:04Z', uses: 3, amount: 12345 },
  { cinema: 'Shanghai', day: '2026-11-30', at: new Date('2026-11-30T16:30:00Z'), uses: '12', amount: '-250' },
  { cinema: null, day: null, at: null, uses: null, amount: 5 },
];

/** Collects what a writer writes. */
function sink(): { out: Writable; bytes: () => Buffer } {
  const chunks: Buffer[] = [];
  const out = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk);
      done();
    },
  });
  return { out, bytes: () => Buffer.concat(chunks) };
}

async function xlsxOf(t: ReportTable, options: ExportOptions = { locale: 'zh-CN' }): Promise<ExcelJS.Worksheet> {
  const { out, bytes } = sink();
  await writeXlsx(t, out, options);
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.load(bytes() as unknown as ArrayBuffer);
  assert.equal(workbook.worksheets.length, 1);
  return workbook.worksheets[0]!;
}

async function csvOf(t: ReportTable, options: ExportOptions = { locale: 'zh-CN' }): Promise<{ text: string; records: string[][] }> {
  const { out, bytes } = sink();
  await writeCsv(t, out, options);
  const text = bytes().toString('utf8');
  return { text, records: parse(text, { bom: true, relax_column_count: false }) as string[][] };
}

function values(sheet: ExcelJS.Worksheet): unknown[][] {
  const rows: unknown[][] = [];
  sheet.eachRow({ includeEmpty: true }, (row) => rows.push((row.values as unknown[]).slice(1)));
  return rows;
}

describe('report export: xlsx', () => {
  it('writes headers in Chinese, typed cells, number formats and a totals row', async () => {
    const sheet = await xlsxOf(table(sample));
    assert.equal(sheet.name, 'settlement-2026-11');
    assert.equal(sheet.rowCount, 1 + sample.length + 1);
    assert.deepEqual(values(sheet)[0], ['影院', '营业日', '时间', '次数', '结算金额（元）']);

    const first = sheet.getRow(2);
    assert.equal(first.getCell(1).value, '北京朝阳店');
    assert.equal(first.getCell(1).type, ExcelJS.ValueType.String);
    // Days are Excel dates at midnight; instants are the Beijing wall clock (UTC+8).
    assert.equal(first.getCell(2).type, ExcelJS.ValueType.Date);
    assert.deepEqual(first.getCell(2).value, new Date('2026-11-01T00:00:00Z'));
    assert.equal(first.getCell(2).numFmt, 'yyyy-mm-dd');
    assert.deepEqual(first.getCell(3).value, new Date('2026-11-01T10:03:04Z'));
    assert.equal(first.getCell(3).numFmt, 'yyyy-mm-dd hh:mm:ss');
    assert.equal(first.getCell(4).value, 3);
    assert.equal(first.getCell(4).type, ExcelJS.ValueType.Number);
    assert.equal(first.getCell(5).value, 123.45);
    assert.equal(first.getCell(5).numFmt, '#,##0.00');

    const second = sheet.getRow(3);
    assert.deepEqual(second.getCell(3).value, new Date('2026-12-01T00:30:00Z'), 'Beijing is already in December');
    assert.equal(second.getCell(4).value, 12, 'integer strings (PostgreSQL bigint) become numbers');
    assert.equal(second.getCell(5).value, -2.5);

    const empty = sheet.getRow(4);
    assert.deepEqual([1, 2, 3, 4].map((c) => empty.getCell(c).type), [0, 0, 0, 0].map(() => ExcelJS.ValueType.Null));

    const totals = sheet.getRow(5);
    assert.equal(totals.getCell(1).value, '合计');
    assert.deepEqual(totals.getCell(4).value, { formula: 'SUM(D2:D4)', result: 15 });
    assert.deepEqual(totals.getCell(5).value, { formula: 'SUM(E2:E4)', result: 121 });
    assert.equal(totals.getCell(5).numFmt, '#,##0.00');
    assert.equal(totals.getCell(2).value, null);
  });

  it('writes English headers and label, and instants in another zone', async () => {
    const sheet = await xlsxOf(table(sample), { locale: 'en', timeZone: 'America/New_York' });
    assert.deepEqual(values(sheet)[0], ['Cinema', 'Day', 'Time', 'Uses', 'Amount (yuan)']);
    assert.deepEqual(sheet.getRow(2).getCell(3).value, new Date('2026-10-31T22:03:04Z'), 'EDT, UTC−4');
    assert.deepEqual(sheet.getRow(3).getCell(3).value, new Date('2026-11-30T11:30:00Z'), 'EST, UTC−5');
    assert.equal(sheet.getRow(5).getCell(1).value, 'Total');
  });

  it('writes an empty table as its headers and zero totals', async () => {
    const sheet = await xlsxOf(table([]));
    assert.equal(sheet.rowCount, 2);
    assert.equal(sheet.getRow(2).getCell(1).value, '合计');
    assert.equal(sheet.getRow(2).getCell(4).value, 0);
    assert.equal(sheet.getRow(2).getCell(5).value, 0);
  });

  it('writes one row, and no totals row when no column is summed', async () => {
    const plain = table([{ cinema: 'A', day: '2026-01-01', at: null, uses: 1, amount: 100 }], { columns: columns.map(({ total: _t, ...c }) => c) });
    const sheet = await xlsxOf(plain);
    assert.equal(sheet.rowCount, 2);
    assert.equal(sheet.getRow(2).getCell(5).value, 1);
  });

  it('keeps text that looks like a formula as text, and special characters as they are', async () => {
    const tricky = ['=HYPERLINK("http://x","y")', '+1', '-2', '@SUM(A1)', 'a, "quoted"\nsecond line', '𠮷野家 😀', ' leading space'];
    const sheet = await xlsxOf(table(tricky.map((cinema) => ({ cinema, day: null, at: null, uses: 0, amount: 0 }))));
    tricky.forEach((text, i) => {
      const cell = sheet.getRow(i + 2).getCell(1);
      assert.equal(cell.type, ExcelJS.ValueType.String, text);
      assert.equal(cell.value, text);
      assert.equal(cell.formula, undefined);
    });
  });

  it('reads rows from an async source lazily and reports progress up to the row count', async () => {
    let produced = 0;
    async function* rows(): AsyncGenerator<ReportRow> {
      for (let i = 0; i < 2500; i++) {
        produced += 1;
        yield { cinema: `C${i}`, day: '2026-11-01', at: null, uses: 1, amount: 1 };
      }
    }
    const progress: ExportProgress[] = [];
    const sheet = await xlsxOf(table(rows(), { rowCount: 2500 }), { locale: 'zh-CN', onProgress: (p) => progress.push(p) });
    assert.equal(produced, 2500);
    assert.equal(sheet.rowCount, 2502);
    assert.deepEqual(sheet.getRow(2502).getCell(5).value, { formula: 'SUM(E2:E2501)', result: 25 });
    assert.deepEqual(progress, [
      { rowsWritten: 1000, rowCount: 2500, done: false },
      { rowsWritten: 2000, rowCount: 2500, done: false },
      { rowsWritten: 2500, rowCount: 2500, done: true },
    ]);
  });

  it('sizes columns to the header and the first rows (Chinese counted double), within a limit', async () => {
    const rows = [
      { cinema: '北京朝阳大悦城店', day: null, at: null, uses: 1, amount: 123_456_789 },
      { cinema: 'x'.repeat(500), day: null, at: null, uses: 1, amount: 1 },
    ];
    const sheet = await xlsxOf(table(rows.slice(0, 1)));
    assert.equal(sheet.getColumn(1).width, 18, '8 Chinese characters + 2');
    assert.ok(sheet.getColumn(5).width! >= '1,234,567.89'.length, `amount width ${sheet.getColumn(5).width}`);
    assert.equal(sheet.getColumn(3).width, 20, 'datetime');
    assert.equal((await xlsxOf(table(rows))).getColumn(1).width, 60);
    assert.equal(sheet.getRow(1).font?.bold, true);
  });

  it('truncates and cleans the sheet name Excel would refuse', async () => {
    const sheet = await xlsxOf(table([], { name: 'redemptions/2026:11 [all cinemas] and more' }));
    assert.equal(sheet.name, 'redemptions_2026_11 _all cinema');
  });
});

describe('report export: CSV', () => {
  it('writes UTF-8 with a BOM, Chinese headers, CRLF, numbers and days as Excel reads them', async () => {
    const { text, records } = await csvOf(table(sample));
    assert.ok(text.startsWith('\ufeff影院,'), 'BOM first');
    assert.ok(text.includes('\r\n'));
    assert.deepEqual(records, [
      ['影院', '营业日', '时间', '次数', '结算金额（元）'],
      ['北京朝阳店', '2026-11-01', '2026-11-01 10:03:04', '3', '123.45'],
      ['Shanghai', '2026-11-30', '2026-12-01 00:30:00', '12', '-2.50'],
      ['', '', '', '', '0.05'],
      ['合计', '', '', '15', '121.00'],
    ]);
  });

  it('writes English headers', async () => {
    const { records } = await csvOf(table(sample.slice(0, 1)), { locale: 'en' });
    assert.deepEqual(records[0], ['Cinema', 'Day', 'Time', 'Uses', 'Amount (yuan)']);
    assert.deepEqual(records.at(-1), ['Total', '', '', '3', '123.45']);
  });

  it('writes an empty table and a one-row table', async () => {
    assert.deepEqual((await csvOf(table([]))).records, [['影院', '营业日', '时间', '次数', '结算金额（元）'], ['合计', '', '', '0', '0.00']]);
    assert.equal((await csvOf(table(sample.slice(0, 1)))).records.length, 3);
  });

  it('quotes commas, quotes and line breaks, and defuses formulas in text (not negative numbers)', async () => {
    const tricky = ['a, "quoted"\nsecond line', '=cmd|\' /C calc\'!A0', '+1', '-2', '@SUM(A1)', '\tTAB', '＝full width', '𠮷野家 😀', 'plain-text'];
    const rows = tricky.map((cinema) => ({ cinema, day: null, at: null, uses: -1, amount: -100 }));
    const { records } = await csvOf(table(rows));
    assert.deepEqual(
      records.slice(1, -1).map((r) => r[0]),
      ['a, "quoted"\nsecond line', "'=cmd|' /C calc'!A0", "'+1", "'-2", "'@SUM(A1)", "'\tTAB", "'＝full width", '𠮷野家 😀', 'plain-text'],
    );
    assert.deepEqual(records[1]!.slice(3), ['-1', '-1.00']);
    assert.deepEqual(records.at(-1)!.slice(3), [String(-tricky.length), (-tricky.length).toFixed(2)]);
  });
});

describe('report export: bad input', () => {
  const cases: { what: string; t: ReportTable; options?: ExportOptions; message: RegExp }[] = [
    { what: 'text in an integer column', t: table([sample[0]!, { ...sample[0]!, uses: 'three' }]), message: /row 2, column "uses" \(integer\): expected a whole number, got "three"/ },
    { what: 'a fraction of a fen', t: table([{ ...sample[0]!, amount: 1.5 }]), message: /row 1, column "amount" \(money_fen\): expected a whole number of fen, got 1.5/ },
    { what: 'an impossible day', t: table([{ ...sample[0]!, day: '2026-02-30' }]), message: /column "day" \(date\): expected a day YYYY-MM-DD, got "2026-02-30"/ },
    { what: 'a time without an offset', t: table([{ ...sample[0]!, at: '2026-11-01 10:00' }]), message: /column "at" \(datetime\): expected an instant/ },
    { what: 'a Date in a text column', t: table([{ ...sample[0]!, cinema: new Date(0) }]), message: /column "cinema" \(text\): expected text/ },
    { what: 'a row that is not an object', t: table([null as unknown as ReportRow]), message: /row 1: a row must be an object/ },
    { what: 'no columns', t: table([], { columns: [] }), message: /has no columns/ },
    { what: 'two columns with one key', t: table([], { columns: [columns[0]!, columns[0]!] }), message: /two columns with the key "cinema"/ },
    { what: 'a total on a text column', t: table([], { columns: [{ ...columns[0]!, total: 'sum' }] }), message: /only integer and money_fen columns can have total 'sum'/ },
    { what: 'an unknown column type', t: table([], { columns: [{ ...columns[0]!, type: 'float' as 'text' }] }), message: /unknown type "float"/ },
    { what: 'a missing English header', t: table([], { columns: [{ ...columns[0]!, header: { 'zh-CN': '影院' } as ReportTable['columns'][0]['header'] }] }), message: /no en header/ },
    { what: 'an unknown locale', t: table([]), options: { locale: 'fr' as 'en' }, message: /Unknown export locale "fr"/ },
    { what: 'an unknown time zone', t: table([]), options: { locale: 'en', timeZone: 'Mars/Olympus' }, message: /Unknown time zone "Mars\/Olympus"/ },
  ];
  for (const { what, t, options, message } of cases) {
    it(`refuses ${what}, naming it (xlsx and CSV), and destroys the output`, async () => {
      for (const write of [writeXlsx, writeCsv]) {
        const rows = Array.isArray(t.rows) ? t.rows : [];
        const { out } = sink();
        await assert.rejects(write({ ...t, rows }, out, options ?? { locale: 'zh-CN' }), (error: Error) => {
          assert.ok(error instanceof ReportDataError, String(error));
          assert.match(error.message, message);
          return true;
        });
        if (rows.length > 0) assert.ok(out.destroyed, `${write.name} destroyed its output`);
      }
    });
  }

  it('passes on a failing row source (a lost database connection) and destroys the output', async () => {
    async function* failing(): AsyncGenerator<ReportRow> {
      for (let i = 0; i < 1500; i++) yield { cinema: 'x', day: null, at: null, uses: 1, amount: 1 };
      throw new Error('connection to the database lost');
    }
    for (const write of [writeXlsx, writeCsv]) {
      const { out } = sink();
      await assert.rejects(write(table(failing()), out, { locale: 'en' }), /connection to the database lost/);
      assert.ok(out.destroyed, write.name);
    }
  });

  it('stops when aborted, without reading the rest of the rows', async () => {
    let produced = 0;
    function* rows(): Generator<ReportRow> {
      for (;;) {
        produced += 1;
        if (produced === 3000) stop.abort(new Error('user cancelled'));
        yield { cinema: 'x', day: null, at: null, uses: 1, amount: 1 };
      }
    }
    const stop = new AbortController();
    for (const write of [writeXlsx, writeCsv]) {
      produced = 0;
      const { out } = sink();
      await assert.rejects(write(table(rows()), out, { locale: 'en', signal: stop.signal }), /user cancelled/);
      assert.ok(produced <= 4000, `stopped after ${produced} rows`);
      assert.ok(out.destroyed);
    }
  });
});

describe('report export: memory', function () {
  this.timeout(180_000);
  const dir = mkdtempSync(join(tmpdir(), 'cinecard-export-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes 200,000 rows to .xlsx in bounded memory (a process of its own), and the file reads back', async () => {
    const file = join(dir, 'big.xlsx');
    const probe = await runExportProbe(200_000, 'xlsx', file);
    // The sheet is about 60 MB of XML before compression; holding it (as a non-streaming writer
    // does) would take several times that. The streaming writer stays within a few tens of MB.
    assert.ok(probe.peakRssMb - probe.rssBeforeMb < 150, `peak ${probe.peakRssMb} MB after ${probe.rssBeforeMb} MB at start`);
    let rows = 0;
    let last: ExcelJS.Row | undefined;
    const reader = new ExcelJS.stream.xlsx.WorkbookReader(file, { worksheets: 'emit', sharedStrings: 'cache' });
    for await (const sheet of reader) {
      for await (const row of sheet as AsyncIterable<ExcelJS.Row>) {
        rows += 1;
        last = row;
      }
    }
    assert.equal(rows, 1 + 200_000 + 1);
    const expected = syntheticTable(200_000);
    let uses = 0;
    let fen = 0;
    for (const row of expected.rows as Iterable<ReportRow>) {
      uses += row['uses'] as number;
      fen += row['amount'] as number;
    }
    assert.equal(last!.getCell(1).value, '合计');
    assert.deepEqual(last!.getCell(6).value, { formula: 'SUM(F2:F200001)', result: uses });
    assert.deepEqual(last!.getCell(7).value, { formula: 'SUM(G2:G200001)', result: fen / 100 });
  });

  it('waits for a slow consumer instead of reading ahead (xlsx and CSV)', async () => {
    for (const write of [writeXlsx, writeCsv]) {
      let produced = 0;
      const t = syntheticTable(400_000);
      const counted: ReportTable = {
        ...t,
        rows: (function* () {
          for (const row of t.rows as Iterable<ReportRow>) {
            produced += 1;
            yield row;
          }
        })(),
      };
      // A consumer that takes 1 MB and then stops reading.
      let taken = 0;
      const held: Array<() => void> = [];
      const out = new Writable({
        highWaterMark: 64 * 1024,
        write(chunk: Buffer, _encoding, done) {
          taken += chunk.length;
          if (taken < 1024 * 1024) done();
          else held.push(done);
        },
      });
      const writing = write(counted, out, { locale: 'zh-CN' });
      writing.catch(() => undefined);
      // Wait until the writer stops reading (or has read everything).
      let seen = -1;
      while (produced !== seen && produced < 400_000) {
        seen = produced;
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
      const whileStalled = produced;
      // What may wait: 4 MB of sheet XML (~14 k rows) before the zip, and archiver's 1 MB buffers
      // of compressed output (~50 bytes a row) after it — some tens of thousands of rows, never all.
      assert.ok(held.length > 0, 'the consumer stalled');
      assert.ok(whileStalled < 150_000, `${write.name} read ${whileStalled} rows ahead of a stalled consumer`);
      out.destroy();
      await assert.rejects(writing);
      assert.ok(produced < 150_000);
    }
  });
});
