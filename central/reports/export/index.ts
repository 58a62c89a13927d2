/**
 * Report exports: a `ReportTable` as .xlsx (exceljs' streaming writer) or CSV, written to any
 * stream or sent as an HTTP download.
 */
export { writeXlsx, numberFormats, sheetName } from './xlsx-writer.ts';
export { writeCsv } from './csv-writer.ts';
export { attachmentDisposition, exportContentTypes, exportFormats, sendExport, startDownload, type Download, type DownloadOptions, type ExportFormat } from './http-download.ts';
export { ReportDataError, type ExportOptions, type ExportProgress, type ExportResult } from './report-cells.ts';
