/**
 * Sending an export as an HTTP download from a fastify route: the file streams out as it is
 * written (never held whole), with its type, a `Content-Disposition` whose file name survives
 * Chinese (RFC 6266 with an RFC 5987 `filename*` beside an ASCII fallback, via the
 * `content-disposition` package), and no caching.
 *
 *   app.get('/v1/reports/settlement.xlsx', async (request, reply) =>
 *     sendExport(reply, table, { format: 'xlsx', locale, fileName: '结算-2026-11' }));
 */
import { PassThrough, type Readable } from 'node:stream';
import contentDisposition from 'content-disposition';
import type { FastifyReply } from 'fastify';
import type { ReportTable } from '../report-table.ts';
import { writeCsv } from './csv-writer.ts';
import { checkTable, type ExportOptions, type ExportResult } from './report-cells.ts';
import { writeXlsx } from './xlsx-writer.ts';

export type ExportFormat = 'xlsx' | 'csv';

export const exportFormats: readonly ExportFormat[] = ['xlsx', 'csv'];

export const exportContentTypes: Readonly<Record<ExportFormat, string>> = {
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  csv: 'text/csv; charset=utf-8',
};

export interface DownloadOptions extends ExportOptions {
  readonly format: ExportFormat;
  /** The file name without extension (any language); default the table's `name`. */
  readonly fileName?: string;
}

export interface Download {
  readonly headers: Readonly<Record<string, string>>;
  /** The file, produced as it is read. */
  readonly body: Readable;
  /** Settles when the file is written (or the export failed; `body` is destroyed then). */
  readonly done: Promise<ExportResult>;
}

/** `attachment; filename="settlement-2026-11.xlsx"; filename*=UTF-8''…` */
export function attachmentDisposition(fileName: string, fallbackStem: string, format: ExportFormat): string {
  const safe = fileName.replace(/[\p{Cc}/\\]/gu, '_').trim() || fallbackStem;
  // The ASCII name is for clients without RFC 5987; the report name is ASCII in practice.
  const fallback = `${fallbackStem.replace(/[^\x20-\x7e]|["\\]/g, '_')}.${format}`;
  return contentDisposition(`${safe}.${format}`, { fallback });
}

/**
 * Starts writing `table` and returns the headers and the body to send. The table is checked first,
 * so a table that cannot be exported throws here, before any header is sent.
 */
export function startDownload(table: ReportTable, options: DownloadOptions): Download {
  const { format, fileName, ...exportOptions } = options;
  if (!exportFormats.includes(format)) throw new TypeError(`Unknown export format ${JSON.stringify(format)}: use xlsx or csv.`);
  checkTable(table, exportOptions);
  const body = new PassThrough();
  const write = format === 'xlsx' ? writeXlsx : writeCsv;
  const done = write(table, body, exportOptions);
  done.catch(() => undefined);
  return {
    headers: {
      'content-type': exportContentTypes[format],
      'content-disposition': attachmentDisposition(fileName ?? table.name, table.name, format),
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    },
    body,
    done,
  };
}

/**
 * Sends `table` as a download on `reply` (return its result from the route handler). A client that
 * goes away stops the export; an export that fails midway cuts the response (so the client sees an
 * error, not a short file) and is logged.
 */
export function sendExport(reply: FastifyReply, table: ReportTable, options: DownloadOptions): FastifyReply {
  const stop = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
  const download = startDownload(table, { ...options, signal });
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) stop.abort(new Error('The client closed the connection during the export.'));
  });
  download.done.then(
    (result) => reply.log.info({ report: table.name, format: options.format, rows: result.rowsWritten }, 'report exported'),
    (error: unknown) => {
      if (stop.signal.aborted) reply.log.info({ report: table.name, format: options.format }, 'report export stopped: the client went away');
      else reply.log.error({ err: error, report: table.name, format: options.format }, 'report export failed');
    },
  );
  return reply.headers(download.headers).send(download.body);
}
