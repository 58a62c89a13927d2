/**
 * Writes a synthetic redemption-detail report of N rows to a file, in a process of its own, and
 * prints what it cost as one JSON line: `{rows, ms, bytes, rssBeforeMb, peakRssMb}`. The peak is the
 * process's maximum resident set (`process.resourceUsage().maxRSS`), so it covers everything the
 * export ever held — which is why it runs alone, away from a test runner's or a bench's memory.
 *
 *   tsx central/reports/export/export-probe.ts <rows> <xlsx|csv> <file>
 *
 * Used by the memory test (`export.test.ts`) and by `npm run bench -- export`.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ReportRow, ReportTable } from '../report-table.ts';
import { writeCsv } from './csv-writer.ts';
import { writeXlsx } from './xlsx-writer.ts';

export interface ProbeResult {
  readonly rows: number;
  readonly ms: number;
  readonly bytes: number;
  readonly rssBeforeMb: number;
  readonly peakRssMb: number;
}

const cinemas = ['北京朝阳店', '上海徐汇店', '广州天河店', '深圳南山店', 'Chengdu "Jinjiang", Store'];

/** Redemption-detail shaped rows, made as they are read (like a database cursor). */
export function* syntheticRows(count: number): Generator<ReportRow> {
  const start = Date.UTC(2026, 0, 1);
  for (let i = 0; i < count; i++) {
    yield {
      at: new Date(start + i * 37_000),
      day: new Date(start + i * 37_000).toISOString().slice(0, 10),
      cinema: cinemas[i % cinemas.length]!,
      cardNo: `8800${String(100_000_000 + i)}`,
      kind: i % 7 === 0 ? 'concession' : 'ticket',
      uses: 1 + (i % 3),
      amount: 3500 + (i % 50) * 10,
    };
  }
}

export function syntheticTable(count: number): ReportTable {
  return {
    name: 'redemptions-probe',
    title: { 'zh-CN': '核销明细', en: 'Redemptions' },
    columns: [
      { key: 'at', type: 'datetime', header: { 'zh-CN': '时间', en: 'Time' } },
      { key: 'day', type: 'date', header: { 'zh-CN': '营业日', en: 'Day' } },
      { key: 'cinema', type: 'text', header: { 'zh-CN': '影院', en: 'Cinema' } },
      { key: 'cardNo', type: 'text', header: { 'zh-CN': '卡号', en: 'Card no.' } },
      { key: 'kind', type: 'text', header: { 'zh-CN': '消费类型', en: 'Kind' } },
      { key: 'uses', type: 'integer', header: { 'zh-CN': '次数', en: 'Uses' }, total: 'sum' },
      { key: 'amount', type: 'money_fen', header: { 'zh-CN': '结算金额（元）', en: 'Amount (yuan)' }, total: 'sum' },
    ],
    rows: syntheticRows(count),
    rowCount: count,
  };
}

/** Runs the probe in a child `tsx` process and returns what it printed. */
export async function runExportProbe(rows: number, format: 'xlsx' | 'csv', file: string): Promise<ProbeResult> {
  const script = fileURLToPath(import.meta.url);
  const tsx = fileURLToPath(new URL('../../../node_modules/tsx/dist/cli.mjs', import.meta.url));
  const child = spawn(process.execPath, [tsx, script, String(rows), format, file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  if (code !== 0) throw new Error(`export probe exited with ${code}: ${stderr.trim()}`);
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as ProbeResult;
}

async function main(): Promise<void> {
  const [rowsArg, format, file] = process.argv.slice(2);
  const rows = Number(rowsArg);
  if (!Number.isSafeInteger(rows) || rows < 0 || (format !== 'xlsx' && format !== 'csv') || !file) {
    console.error('usage: export-probe.ts <rows> <xlsx|csv> <file>');
    process.exit(2);
  }
  const rssBefore = process.memoryUsage().rss;
  const started = process.hrtime.bigint();
  const write = format === 'xlsx' ? writeXlsx : writeCsv;
  await write(syntheticTable(rows), createWriteStream(file), { locale: 'zh-CN' });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const result: ProbeResult = {
    rows,
    ms: Math.round(ms),
    bytes: statSync(file).size,
    rssBeforeMb: Math.round(rssBefore / 1048576),
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
  };
  console.log(JSON.stringify(result));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
