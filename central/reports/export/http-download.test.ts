/** Exports sent over HTTP by a real fastify server. */
import assert from 'node:assert/strict';
import contentDisposition from 'content-disposition';
import ExcelJS from 'exceljs';
import Fastify, { type FastifyInstance } from 'fastify';
import { parse } from 'csv-parse/sync';
import type { ReportRow, ReportTable } from '../report-table.ts';
import { sendExport, type ExportFormat } from './http-download.ts';

describe('report export over HTTP', () => {
  let app: FastifyInstance;
  let url: string;
  let produced = 0;

  function table(rows: ReportTable['rows']): ReportTable {
    return {
      name: 'settlement-2026-11',
      title: { 'zh-CN': '结算', en: 'Settlement' },
      columns: [
        { key: 'cinema', type: 'text', header: { 'zh-CN': '影院', en: 'Cinema' } },
        { key: 'amount', type: 'money_fen', header: { 'zh-CN': '金额（元）', en: 'Amount' }, total: 'sum' },
      ],
      rows,
    };
  }

  function* endless(): Generator<ReportRow> {
    for (;;) {
      produced += 1;
      yield { cinema: `影院 ${produced}`, amount: produced };
    }
  }

  /** Rows whose `n`-th has a fraction of a fen: the export fails long after the file started. */
  function* badAt(n: number): Generator<ReportRow> {
    for (let i = 1; i <= n; i++) yield { cinema: `影院 ${i}`, amount: i === n ? 1.5 : i };
  }

  before(async () => {
    app = Fastify();
    app.get<{ Params: { format: ExportFormat } }>('/small.:format', async (request, reply) =>
      sendExport(reply, table([{ cinema: '北京朝阳店', amount: 12345 }, { cinema: 'Shanghai', amount: 55 }]), {
        format: request.params.format,
        locale: 'zh-CN',
        fileName: '结算 2026年11月',
      }),
    );
    app.get('/endless.xlsx', async (_request, reply) => sendExport(reply, table(endless()), { format: 'xlsx', locale: 'en' }));
    app.get<{ Params: { format: ExportFormat } }>('/bad-row.:format', async (request, reply) =>
      sendExport(reply, table(badAt(20_000)), { format: request.params.format, locale: 'en' }),
    );
    app.get('/broken.csv', async (_request, reply) => sendExport(reply, { ...table([]), columns: [] }, { format: 'csv', locale: 'en' }));
    url = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  after(() => app.close());

  it('sends .xlsx with its type and a Chinese file name (RFC 5987, ASCII fallback)', async () => {
    const response = await fetch(`${url}/small.xlsx`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    assert.equal(response.headers.get('cache-control'), 'no-store');
    const disposition = response.headers.get('content-disposition')!;
    assert.match(disposition, /^attachment; filename="settlement-2026-11\.xlsx"; filename\*=UTF-8''/);
    assert.equal(contentDisposition.parse(disposition).parameters['filename'], '结算 2026年11月.xlsx');
    // Streamed: no length known up front.
    assert.equal(response.headers.get('content-length'), null);
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(await response.arrayBuffer());
    const sheet = workbook.worksheets[0]!;
    assert.deepEqual([sheet.getRow(1).getCell(1).value, sheet.getRow(1).getCell(2).value], ['影院', '金额（元）']);
    assert.equal(sheet.getRow(2).getCell(2).value, 123.45);
    assert.deepEqual(sheet.getRow(4).getCell(2).value, { formula: 'SUM(B2:B3)', result: 124 });
  });

  it('sends CSV as UTF-8 text', async () => {
    const response = await fetch(`${url}/small.csv`);
    assert.equal(response.headers.get('content-type'), 'text/csv; charset=utf-8');
    assert.equal(contentDisposition.parse(response.headers.get('content-disposition')!).parameters['filename'], '结算 2026年11月.csv');
    const records = parse(await response.text(), { bom: true }) as string[][];
    assert.deepEqual(records, [['影院', '金额（元）'], ['北京朝阳店', '123.45'], ['Shanghai', '0.55'], ['合计', '124.00']]);
  });

  it('stops reading rows when the client goes away', async () => {
    produced = 0;
    const stop = new AbortController();
    const response = await fetch(`${url}/endless.xlsx`, { signal: stop.signal });
    const reader = response.body!.getReader();
    await reader.read();
    stop.abort();
    await new Promise((resolve) => setTimeout(resolve, 500));
    const atStop = produced;
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.ok(atStop > 0);
    assert.equal(produced, atStop, 'no rows read after the client left');
  });

  for (const format of ['xlsx', 'csv'] as const) {
    it(`cuts the response when a ${format} export fails midway, so no client keeps a short file`, async () => {
      const response = await fetch(`${url}/bad-row.${format}`);
      assert.equal(response.status, 200, 'the file had started');
      await assert.rejects(response.arrayBuffer());
    });
  }

  it('answers an error, not a file, for a table that cannot be exported', async () => {
    const response = await fetch(`${url}/broken.csv`);
    assert.equal(response.status, 500);
    assert.equal(response.headers.get('content-disposition'), null);
  });
});
