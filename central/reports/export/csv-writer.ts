/**
 * A report as CSV through csv-stringify: UTF-8 with a byte-order mark (without it Excel reads the
 * file in the system code page and garbles Chinese), CRLF line ends, RFC 4180 quoting.
 *
 * CSV has no cell types, so what a spreadsheet does with a field is decided by its first
 * character: a text field starting with `=`, `+`, `-`, `@`, tab or CR (or their full-width forms)
 * would run as a formula when the file is opened (CSV injection). Such text fields get a leading
 * `'` (csv-stringify's `escape_formulas`); numbers — negative amounts included — stay numbers.
 */
import { once } from 'node:events';
import { pipeline } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import { stringify } from 'csv-stringify';
import type { ReportTable } from '../report-table.ts';
import {
  checkTable,
  type ExportOptions,
  type ExportResult,
  feedRows,
  formatWallClock,
  reportProgress,
  RowConverter,
  totalsLabel,
} from './report-cells.ts';

/**
 * Writes `table` to `out` as CSV and ends `out`. Headers and the totals label are in
 * `options.locale`; money is in yuan with two decimals; days are `YYYY-MM-DD`, instants
 * `YYYY-MM-DD HH:mm:ss` on the wall clock of `options.timeZone`. Waits for `out` to drain, so a
 * slow consumer slows the export instead of filling memory.
 *
 * Rejects like `writeXlsx` (and destroys `out` then).
 */
export async function writeCsv(table: ReportTable, out: Writable, options: ExportOptions): Promise<ExportResult> {
  checkTable(table, options);
  const converter = new RowConverter(table, options);
  const columns = table.columns;
  const csv = stringify({
    bom: true,
    record_delimiter: 'windows',
    escape_formulas: true,
    cast: {
      number: (value, context) => {
        const column = typeof context.index === 'number' ? columns[context.index] : undefined;
        return column?.type === 'money_fen' ? value.toFixed(2) : String(value);
      },
      date: (value, context) => {
        const column = typeof context.index === 'number' ? columns[context.index] : undefined;
        return formatWallClock(value, column?.type ?? 'datetime');
      },
    },
  });
  const piping = pipeline(csv, out);
  // A failed pipeline is reported by awaiting `piping`; this keeps it from going unhandled first.
  piping.catch(() => undefined);
  try {
    csv.write(columns.map((c) => c.header[options.locale]));
    let sinceYield = 0;
    const resume = async (blocked: boolean) => {
      sinceYield = 0;
      await (blocked ? Promise.race([once(csv, 'drain'), piping]) : new Promise((resolve) => setImmediate(resolve)));
      if (csv.destroyed || out.destroyed) await piping;
    };
    const rowsWritten = await feedRows(table, converter, options, (cells) => {
      if (!csv.write(cells)) return resume(true);
      // Lets I/O (and the rest of the server) run during a long export of an in-memory table.
      if (++sinceYield >= 1000) return resume(false);
      return undefined;
    });
    const totals = converter.totals(totalsLabel[options.locale]);
    if (totals) csv.write(totals);
    csv.end();
    await piping;
    reportProgress(table, options, rowsWritten, true);
    return { rowsWritten };
  } catch (error) {
    csv.destroy(error as Error);
    out.destroy(error as Error);
    throw error;
  }
}
