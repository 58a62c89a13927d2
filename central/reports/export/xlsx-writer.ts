/**
 * A report as an .xlsx workbook through exceljs' streaming writer: every row is committed (turned
 * into XML and handed to the zip) as soon as it is added, so memory holds a few megabytes of
 * pending output, not the sheet — a million-row export runs in the same memory as a thousand-row one.
 *
 * exceljs hands committed rows to the zip without waiting for it (nor for the output), so a fast
 * row source and a slow consumer (a client on a slow link) would pile the sheet up in memory. The
 * writer therefore watches what is queued between the sheet and the output and waits for it to
 * drain before it reads more rows.
 */
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import ExcelJS from 'exceljs';
import type { ColumnType, ReportTable } from '../report-table.ts';
import {
  type Cell,
  checkTable,
  type ExportOptions,
  type ExportResult,
  feedRows,
  isNumeric,
  reportProgress,
  RowConverter,
  totalsLabel,
} from './report-cells.ts';

/** Excel number formats per column type. */
export const numberFormats: Readonly<Record<ColumnType, string | undefined>> = {
  text: '@',
  integer: '#,##0',
  money_fen: '#,##0.00',
  date: 'yyyy-mm-dd',
  datetime: 'yyyy-mm-dd hh:mm:ss',
};

const minimumWidths: Readonly<Record<ColumnType, number>> = { text: 10, integer: 8, money_fen: 12, date: 12, datetime: 20 };
const maximumWidth = 60;
/** Rows measured for the column widths. */
const measuredRows = 200;

/**
 * Bytes allowed to wait between the sheet and the output before the writer stops reading rows.
 * Small: what waits here lives long enough to be promoted to V8's old generation, and is garbage there.
 */
const pendingLimit = 1024 * 1024;
/** Rows between looks at what is pending (and between chances for other work to run). */
const checkEvery = 256;

/** The parts of exceljs' sheet stream (a `StreamBuf`) that tell how much output is waiting. */
interface SheetStream {
  readonly buffers?: readonly { readonly length: number }[];
  /** What the zip reads the sheet through: a readable-stream 2 PassThrough (archiver's). */
  readonly pipes?: readonly PipedStream[];
}

/** readable-stream 2 predates `writableLength` and `writableNeedDrain`; its state has both. */
interface PipedStream extends NodeJS.EventEmitter {
  readonly _writableState?: { readonly length?: number; readonly needDrain?: boolean };
  readonly _readableState?: { readonly length?: number };
}

function queuedIn(stream: PipedStream): number {
  return (stream._writableState?.length ?? 0) + (stream._readableState?.length ?? 0);
}

/** Excel's sheet names: at most 31 characters, none of `[]:*?/\`. */
export function sheetName(name: string): string {
  return name.replace(/[[\]:*?/\\]/g, '_').slice(0, 31) || 'Sheet1';
}

/** Column width in Excel's character units: CJK characters take two. */
function displayWidth(text: string): number {
  let width = 0;
  for (const ch of text) width += /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/u.test(ch) ? 2 : 1;
  return width;
}

/**
 * Writes `table` to `out` as .xlsx and ends `out`. Headers and the totals label are in
 * `options.locale`; money is in yuan with two decimals, days and instants are real Excel dates,
 * summed columns get a totals row (a SUM formula with its value cached). Text cells are always
 * written as text, never as formulas, whatever they start with.
 *
 * Rejects with a `ReportDataError` for a table or row that cannot be exported, with the signal's
 * reason when aborted, or with the output's error; `out` is then destroyed, so a consumer never
 * mistakes a partial file for a whole one.
 */
export async function writeXlsx(table: ReportTable, out: Writable, options: ExportOptions): Promise<ExportResult> {
  checkTable(table, options);
  const converter = new RowConverter(table, options);
  let outputError: Error | undefined;
  const onOutputError = (error: Error) => {
    outputError ??= error;
  };
  const onOutputClose = () => {
    if (!out.writableFinished) outputError ??= new Error('The export output was closed before the workbook was finished.');
  };
  out.on('error', onOutputError);
  out.on('close', onOutputClose);
  const outputClosed = once(out, 'close').then(
    () => undefined,
    () => undefined,
  );

  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: out, useStyles: true, useSharedStrings: false });
  const zip = (workbook as unknown as { zip: { abort(): void; on(e: 'error', l: (e: Error) => void): void } }).zip;
  zip.on('error', onOutputError);
  workbook.creator = 'CineCard';
  workbook.title = table.title[options.locale];
  try {
    const sheet = workbook.addWorksheet(sheetName(table.name), { views: [{ state: 'frozen', ySplit: 1 }] });
    sheet.columns = table.columns.map((column) => ({ key: column.key, style: { numFmt: numberFormats[column.type] } }));
    const header = sheet.addRow(table.columns.map((c) => c.header[options.locale]));
    header.font = { bold: true };
    // Widths fit the header and the first rows. exceljs writes them with the first committed row,
    // so the first rows wait uncommitted until they are measured.
    const widths = table.columns.map((column) => Math.max(minimumWidths[column.type], displayWidth(column.header[options.locale]) + 2));
    let measuring = 0;
    const measure = (cells: readonly Cell[]) => {
      cells.forEach((cell, i) => {
        if (typeof cell === 'string') widths[i] = Math.max(widths[i]!, displayWidth(cell) + 2);
        else if (typeof cell === 'number') widths[i] = Math.max(widths[i]!, Math.ceil((String(Math.trunc(Math.abs(cell))).length * 4) / 3) + 5);
      });
    };
    const settleWidths = () => {
      if (measuring < 0) return;
      measuring = -1;
      widths.forEach((width, i) => {
        sheet.getColumn(i + 1).width = Math.min(width, maximumWidth);
      });
      header.commit();
    };

    const stream = (sheet as unknown as { stream: SheetStream }).stream;
    const pending = () => {
      let bytes = out.writableLength;
      for (const b of stream.buffers ?? []) bytes += b.length;
      for (const p of stream.pipes ?? []) bytes += queuedIn(p);
      return bytes;
    };
    let sinceCheck = 0;
    const waitForOutput = async () => {
      sinceCheck = 0;
      // Yielding lets the zip and the output make progress (and the server serve others).
      await new Promise((resolve) => setImmediate(resolve));
      while (pending() > pendingLimit) {
        if (outputError) throw outputError;
        const blocked = (stream.pipes ?? []).find((p) => p._writableState?.needDrain) ?? (out.writableNeedDrain ? out : undefined);
        if (blocked) await Promise.race([once(blocked, 'drain'), outputClosed]);
        else await new Promise((resolve) => setTimeout(resolve, 1));
      }
      if (outputError) throw outputError;
    };

    // One style object per column, shared by its cells: exceljs caches a style's id by object, so
    // shared styles are looked up once instead of rendered for every cell (a third of the time).
    const columnStyles = table.columns.map((column) => ({ numFmt: numberFormats[column.type] }) as Partial<ExcelJS.Style>);
    const rowsWritten = await feedRows(table, converter, options, (cells) => {
      const row = sheet.addRow(cells);
      for (let i = 0; i < columnStyles.length; i++) row.getCell(i + 1).style = columnStyles[i]!;
      if (measuring >= 0) {
        measure(cells);
        if (++measuring < measuredRows) return undefined;
        settleWidths();
      }
      row.commit();
      if (++sinceCheck >= checkEvery) return waitForOutput();
      return undefined;
    });
    settleWidths();

    const totals = converter.totals(totalsLabel[options.locale]);
    if (totals) {
      const row = sheet.addRow(totals.map((cell, i) => totalCell(cell, i, rowsWritten)));
      row.font = { bold: true };
      row.commit();
    }
    if (outputError) throw outputError;
    sheet.commit();
    await workbook.commit();
    if (outputError) throw outputError;
    reportProgress(table, options, rowsWritten, true);
    return { rowsWritten };
  } catch (error) {
    zip.abort();
    out.destroy(error as Error);
    throw error;
  } finally {
    out.off('error', onOutputError);
    out.off('close', onOutputClose);
  }

  /** A summed column's total as a SUM over its data rows (so an edited sheet still adds up). */
  function totalCell(cell: Cell, index: number, rows: number): ExcelJS.CellValue {
    if (typeof cell !== 'number' || !isNumeric(table.columns[index]!.type) || rows === 0) return cell;
    const letter = columnLetter(index);
    return { formula: `SUM(${letter}2:${letter}${rows + 1})`, result: cell };
  }
}

/** 0 → A, 25 → Z, 26 → AA. */
function columnLetter(index: number): string {
  let n = index + 1;
  let letters = '';
  while (n > 0) {
    const r = (n - 1) % 26;
    letters = String.fromCharCode(65 + r) + letters;
    n = Math.floor((n - 1) / 26);
  }
  return letters;
}
