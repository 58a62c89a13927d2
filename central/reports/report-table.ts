/**
 * The shape every report and export shares: typed columns with headers in both languages, rows
 * streamed (a detail report can be millions of rows), and which columns get a totals row. The
 * queries (`central/reports/`) produce it; the writers (`central/reports/export/`: .xlsx through
 * exceljs' streaming writer, CSV) and the HQ console consume it.
 */
export type ReportLocale = 'zh-CN' | 'en';

/**
 * - `text`: a string cell
 * - `integer`: a whole number (uses, counts)
 * - `money_fen`: an integer amount in fen (分); shown and exported as yuan with two decimals
 * - `date`: a calendar day `YYYY-MM-DD` in the cinema chain's time zone
 * - `datetime`: an instant (ISO 8601 string or Date)
 */
export type ColumnType = 'text' | 'integer' | 'money_fen' | 'date' | 'datetime';

export interface ReportColumn {
  /** The row's property holding this column's value. */
  readonly key: string;
  readonly type: ColumnType;
  readonly header: Readonly<Record<ReportLocale, string>>;
  /** Summed into the totals row (numeric columns only). */
  readonly total?: 'sum';
}

export type ReportRow = Readonly<Record<string, string | number | Date | null>>;

export interface ReportTable {
  /** Sheet name and file name stem, e.g. `settlement-2026-11`. */
  readonly name: string;
  readonly title: Readonly<Record<ReportLocale, string>>;
  readonly columns: readonly ReportColumn[];
  /** The rows, in order; read once. */
  readonly rows: AsyncIterable<ReportRow> | Iterable<ReportRow>;
  /** How many rows to expect, when known (progress). */
  readonly rowCount?: number;
}
