/**
 * What both writers share: checking a `ReportTable` before anything is written, turning each row's
 * values into typed cells (checked, so a query that hands back the wrong thing fails with the row and
 * column named instead of writing a wrong file), summing the totals row, and reporting progress.
 */
import type { ColumnType, ReportColumn, ReportLocale, ReportRow, ReportTable } from '../report-table.ts';

/** Options both writers take. */
export interface ExportOptions {
  /** The language of the headers and the totals label. */
  readonly locale: ReportLocale;
  /**
   * The IANA time zone `datetime` cells are shown in (a spreadsheet has no time zones: it shows
   * the wall clock). Default `Asia/Shanghai`, the chain's default report zone.
   */
  readonly timeZone?: string;
  /** Called every {@link progressEvery} rows and once at the end (`done: true`). */
  readonly onProgress?: (progress: ExportProgress) => void;
  /** Stops the export (the writer rejects with the signal's reason and stops reading rows). */
  readonly signal?: AbortSignal;
}

export interface ExportProgress {
  /** Data rows written so far (headers and totals not counted). */
  readonly rowsWritten: number;
  /** The table's `rowCount`, when it is known. */
  readonly rowCount?: number;
  readonly done: boolean;
}

export interface ExportResult {
  readonly rowsWritten: number;
}

/** How often progress is reported, in rows. */
export const progressEvery = 1000;

export const defaultTimeZone = 'Asia/Shanghai';

/**
 * A table or row that cannot be exported as it is: a fault of the query that built the table,
 * named precisely (report, row, column, value) so it can be found.
 */
export class ReportDataError extends Error {
  override readonly name = 'ReportDataError';
}

/**
 * A checked cell: text, a number (money already in yuan), or a `Date` whose UTC fields are the wall
 * clock to show (Excel stores dates without a zone); null for an empty cell.
 */
export type Cell = string | number | Date | null;

const columnTypes: readonly ColumnType[] = ['text', 'integer', 'money_fen', 'date', 'datetime'];
const locales: readonly ReportLocale[] = ['zh-CN', 'en'];

export function isNumeric(type: ColumnType): boolean {
  return type === 'integer' || type === 'money_fen';
}

/** Checks the table's shape and the options; throws before a byte is written. */
export function checkTable(table: ReportTable, options: ExportOptions): void {
  if (!locales.includes(options.locale)) {
    throw new ReportDataError(`Unknown export locale ${JSON.stringify(options.locale)}: use ${locales.join(' or ')}.`);
  }
  if (options.timeZone !== undefined) wallClockOffset(0, options.timeZone);
  const what = `Report ${JSON.stringify(table.name)}`;
  if (typeof table.name !== 'string' || table.name.trim() === '') throw new ReportDataError('A report needs a name (the sheet and file name).');
  if (table.columns.length === 0) throw new ReportDataError(`${what} has no columns.`);
  const keys = new Set<string>();
  for (const column of table.columns) {
    if (keys.has(column.key)) throw new ReportDataError(`${what} has two columns with the key ${JSON.stringify(column.key)}.`);
    keys.add(column.key);
    if (!columnTypes.includes(column.type)) {
      throw new ReportDataError(`${what}, column ${JSON.stringify(column.key)}: unknown type ${JSON.stringify(column.type)} (one of ${columnTypes.join(', ')}).`);
    }
    if (column.total !== undefined && (column.total !== 'sum' || !isNumeric(column.type))) {
      throw new ReportDataError(`${what}, column ${JSON.stringify(column.key)}: only integer and money_fen columns can have total 'sum'.`);
    }
    for (const locale of locales) {
      if (typeof column.header?.[locale] !== 'string') throw new ReportDataError(`${what}, column ${JSON.stringify(column.key)}: no ${locale} header.`);
    }
  }
  if (table.rowCount !== undefined && !(Number.isSafeInteger(table.rowCount) && table.rowCount >= 0)) {
    throw new ReportDataError(`${what}: rowCount must be a whole number ≥ 0, not ${String(table.rowCount)}.`);
  }
}

/** The zone's offset (ms, east positive) at an instant; one Intl call per quarter hour seen. */
const offsets = new Map<string, number>();
const formats = new Map<string, Intl.DateTimeFormat>();
const quarterHour = 15 * 60_000;

let lastLookup = { timeZone: '', quarter: NaN, offset: 0 };

function wallClockOffset(ms: number, timeZone: string): number {
  // Every zone in use changes its offset only on a quarter hour, so one lookup serves the quarter.
  const quarter = Math.floor(ms / quarterHour);
  if (quarter === lastLookup.quarter && timeZone === lastLookup.timeZone) return lastLookup.offset;
  const key = `${timeZone} ${quarter}`;
  const known = offsets.get(key);
  if (known !== undefined) {
    lastLookup = { timeZone, quarter, offset: known };
    return known;
  }
  let format = formats.get(timeZone);
  if (!format) {
    try {
      format = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    } catch {
      throw new ReportDataError(`Unknown time zone ${JSON.stringify(timeZone)} (an IANA name such as Asia/Shanghai).`);
    }
    formats.set(timeZone, format);
  }
  const at = quarter * quarterHour;
  const f = Object.fromEntries(format.formatToParts(at).map((p) => [p.type, Number(p.value)]));
  const offset = Date.UTC(f['year']!, f['month']! - 1, f['day']!, f['hour']!, f['minute']!, f['second']!) - at;
  if (offsets.size > 50_000) offsets.clear();
  offsets.set(key, offset);
  lastLookup = { timeZone, quarter, offset };
  return offset;
}

const dayPattern = /^(\d{4})-(\d{2})-(\d{2})$/;
const integerString = /^-?\d{1,16}$/;

/** Converts rows to cells column by column, summing the totals. */
export class RowConverter {
  private readonly timeZone: string;
  /** Sums in the column's own unit (fen for money, so the sum is exact). */
  private readonly sums: number[];
  private rowNumber = 0;

  constructor(
    private readonly table: ReportTable,
    options: ExportOptions,
  ) {
    this.timeZone = options.timeZone ?? defaultTimeZone;
    this.sums = table.columns.map(() => 0);
  }

  get columns(): readonly ReportColumn[] {
    return this.table.columns;
  }

  cells(row: ReportRow): Cell[] {
    this.rowNumber += 1;
    if (row === null || typeof row !== 'object') this.fail(undefined, row, 'a row must be an object');
    const out: Cell[] = new Array(this.table.columns.length);
    for (let i = 0; i < this.table.columns.length; i++) {
      const column = this.table.columns[i]!;
      const cell = this.cell(column, row[column.key]);
      if (column.total && typeof cell === 'number') this.sums[i]! += column.type === 'money_fen' ? Math.round(cell * 100) : cell;
      out[i] = cell;
    }
    return out;
  }

  /**
   * The totals row: the label in the first column when that column is not summed, the sums (money
   * in yuan) in the summed columns, empty elsewhere. Undefined when no column has a total.
   */
  totals(label: string): Cell[] | undefined {
    const columns = this.table.columns;
    if (!columns.some((c) => c.total)) return undefined;
    return columns.map((column, i) => {
      if (column.total) return column.type === 'money_fen' ? this.sums[i]! / 100 : this.sums[i]!;
      return i === 0 ? label : null;
    });
  }

  private cell(column: ReportColumn, value: unknown): Cell {
    if (value === null || value === undefined) return null;
    switch (column.type) {
      case 'text':
        if (typeof value === 'string') return value;
        if (typeof value === 'number' && Number.isFinite(value)) return String(value);
        return this.fail(column, value, 'expected text');
      case 'integer':
        return this.whole(column, value);
      case 'money_fen':
        return this.whole(column, value) / 100;
      case 'date': {
        if (value instanceof Date) return this.wallClock(column, value.getTime(), true);
        const m = typeof value === 'string' ? dayPattern.exec(value) : null;
        const day = m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : null;
        if (!day || day.toISOString().slice(0, 10) !== value) return this.fail(column, value, 'expected a day YYYY-MM-DD');
        return day;
      }
      case 'datetime': {
        const ms = value instanceof Date ? value.getTime() : typeof value === 'string' && /[zZ]|[+-]\d{2}:?\d{2}$/.test(value) ? Date.parse(value) : NaN;
        if (Number.isNaN(ms)) return this.fail(column, value, 'expected an instant (a Date or an ISO 8601 time with its offset)');
        return this.wallClock(column, ms, false);
      }
    }
  }

  private whole(column: ReportColumn, value: unknown): number {
    // PostgreSQL hands bigint sums and counts back as strings.
    const n = typeof value === 'string' && integerString.test(value) ? Number(value) : value;
    if (typeof n === 'number' && Number.isSafeInteger(n)) return n;
    return this.fail(column, value, column.type === 'money_fen' ? 'expected a whole number of fen' : 'expected a whole number');
  }

  private wallClock(column: ReportColumn, ms: number, dayOnly: boolean): Date {
    if (!Number.isFinite(ms)) return this.fail(column, String(ms), 'expected a valid time');
    const shifted = ms + wallClockOffset(ms, this.timeZone);
    return new Date(dayOnly ? shifted - (((shifted % 86_400_000) + 86_400_000) % 86_400_000) : Math.round(shifted / 1000) * 1000);
  }

  private fail(column: ReportColumn | undefined, value: unknown, why: string): never {
    const where = column ? `, column ${JSON.stringify(column.key)} (${column.type})` : '';
    let shown: string;
    try {
      shown = value instanceof Date ? `Date(${String(value.getTime())})` : (JSON.stringify(value) ?? String(value));
    } catch {
      shown = String(value);
    }
    throw new ReportDataError(`Report ${JSON.stringify(this.table.name)}, row ${this.rowNumber}${where}: ${why}, got ${shown.slice(0, 80)}.`);
  }
}

/** `YYYY-MM-DD` or `YYYY-MM-DD HH:mm:ss` of a wall-clock cell (CSV). */
export function formatWallClock(cell: Date, type: ColumnType): string {
  const iso = cell.toISOString();
  return type === 'date' ? iso.slice(0, 10) : `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
}

/**
 * Feeds the table's rows through `put`, one converted row at a time, awaiting `put` when it returns
 * a promise (that is where a writer waits for its output to drain). Stops at `signal`. Reports
 * progress every {@link progressEvery} rows; the writer reports `done` once its output is finished.
 */
export async function feedRows(
  table: ReportTable,
  converter: RowConverter,
  options: ExportOptions,
  put: (cells: Cell[]) => void | Promise<void>,
): Promise<number> {
  let written = 0;
  options.signal?.throwIfAborted();
  for await (const row of table.rows) {
    const pending = put(converter.cells(row));
    if (pending) await pending;
    written += 1;
    if (written % progressEvery === 0) {
      options.signal?.throwIfAborted();
      reportProgress(table, options, written, false);
    }
  }
  return written;
}

export function reportProgress(table: ReportTable, options: ExportOptions, rowsWritten: number, done: boolean): void {
  options.onProgress?.({ rowsWritten, ...(table.rowCount !== undefined ? { rowCount: table.rowCount } : {}), done });
}

/** The totals row's label. */
export const totalsLabel: Readonly<Record<ReportLocale, string>> = { 'zh-CN': '合计', en: 'Total' };
