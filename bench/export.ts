/**
 * `npm run bench -- export` (DESIGN §7: Excel export of 1 M rows streams, peak RSS ≤ 300 MB).
 *
 * 1. The writers alone: a 1,000,000-row redemption-detail table written to .xlsx (and CSV) in a
 *    `tsx` child process of its own, so that its peak resident set (`maxRSS`) is the export's and
 *    not this process's.
 * 2. The whole path: `central serve` as a child process on a SQLite database holding 1,000,000
 *    redemptions (seeded straight in SQL), answering `GET /v1/reports/export?report=redemptions&
 *    format=xlsx` — the rows read from the database a page at a time while the file streams out.
 *    Its peak RSS is read from /proc (VmHWM) before and after the download.
 *
 * The central child gets the node flags `npm run central` ships with (package.json: V8's old
 * generation capped at 256 MB, spec/operations.md §4.3), so what is measured is central as it runs.
 *
 * Time and throughput are reported, never judged. BENCH_EXPORT_ROWS sets the row count of both;
 * BENCH_CENTRAL_NODE_ARGS replaces the central child's node flags (set it empty for none). Seen on
 * 1 M rows: ~210 MB peak as shipped, ~274 MB with no flags (V8's heap growth lets garbage pile up
 * when nothing caps it; ~375 MB before the detail was paged in 500s).
 */
import { readdirSync, readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runExportProbe } from '../central/reports/export/export-probe.ts';
import { msSince, round, type BenchRow } from './report.ts';
import { syncBench } from './sync-setup.ts';

const ROWS = Number(process.env['BENCH_EXPORT_ROWS'] ?? 1_000_000);
const RSS_BUDGET_MB = 300;
/** Cards the seeded redemptions are spread over. */
const CARDS = 2000;

export async function exportBench(): Promise<BenchRow[]> {
  return [...(await writerRows()), ...(await serviceRows())];
}

async function writerRows(): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'cinecard-bench-export-'));
  try {
    const rows: BenchRow[] = [];
    for (const format of ['xlsx', 'csv'] as const) {
      const probe = await runExportProbe(ROWS, format, join(dir, `export.${format}`));
      const judged = format === 'xlsx';
      rows.push(
        {
          name: `${format}: peak RSS, ${ROWS.toLocaleString('en')} rows (baseline: RSS before the export)`,
          value: probe.peakRssMb,
          unit: 'MB',
          budget: judged ? `≤ ${RSS_BUDGET_MB}` : '—',
          baseline: probe.rssBeforeMb,
          ok: judged ? probe.peakRssMb <= RSS_BUDGET_MB : null,
        },
        { name: `${format}: time, ${ROWS.toLocaleString('en')} rows`, value: round(probe.ms / 1000, 1), unit: 's', budget: '—', baseline: null, ok: null },
        { name: `${format}: throughput`, value: Math.round(ROWS / (probe.ms / 1000)), unit: 'rows/s', budget: '—', baseline: null, ok: null },
        { name: `${format}: file size`, value: round(probe.bytes / 1048576, 1), unit: 'MB', budget: '—', baseline: null, ok: null },
      );
    }
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const log = (line: string) => process.stderr.write(`[bench export] ${line}\n`);

/** A memory figure (kB) of a process from /proc/<pid>/status: VmRSS now, VmHWM its peak. */
function memoryOf(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith(`${field}:`));
  return Number(line?.replace(/\D+/g, '') ?? NaN);
}

/** The `central serve` child of this process (sync-setup spawns it; its pid is not handed out). */
function centralChild(): number {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid && readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('central/main.ts')) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  throw new Error('the central child process was not found');
}

/** The node flags of the `central` script in package.json (`tsx <flags> central/main.ts`). */
export function shippedNodeArgs(): string[] {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> };
  const words = pkg.scripts['central']!.trim().split(/\s+/);
  const main = words.indexOf('central/main.ts');
  if (words[0] !== 'tsx' || main < 0) throw new Error(`package.json's central script is not "tsx [node flags] central/main.ts": ${pkg.scripts['central']}`);
  return words.slice(1, main);
}

async function serviceRows(): Promise<BenchRow[]> {
  const bench = await syncBench('sqlite');
  try {
    log(`seeding ${ROWS.toLocaleString('en')} redemptions over ${CARDS} cards`);
    await bench.soldCards(CARDS, 1000);
    const db = bench.setup.platform.db;
    await db.raw('CREATE TEMP TABLE bench_cards AS SELECT card_no, row_number() OVER (ORDER BY card_no) - 1 AS i FROM cards');
    const start = Date.parse('2025-01-01T00:00:00.000Z') / 1000;
    const at = `strftime('%Y-%m-%dT%H:%M:%fZ', ${start} + x * 30, 'unixepoch')`;
    for (let from = 0; from < ROWS; from += 250_000) {
      const to = Math.min(ROWS, from + 250_000) - 1;
      await db.transaction((trx) =>
        trx.raw(`WITH RECURSIVE n(x) AS (SELECT ${from} UNION ALL SELECT x + 1 FROM n WHERE x < ${to})
          INSERT INTO ledger_entries (op_id, card_no, seq, kind, uses_delta, remaining_after, consumption_type, amount_fen, cinema_id,
            terminal_id, user_id, cashier, occurred_at, recorded_at, content_hash, status, anomaly, issue_epoch)
          SELECT printf('00000000-0000-7000-8000-%012d', x), bench_cards.card_no, 3 + x / ${CARDS}, 'redeem', -1, 999 - x / ${CARDS},
            CASE x % 4 WHEN 0 THEN 'concession' ELSE 'ticket' END, 3500 + x % 50 * 10, ?, NULL, NULL, 'cashier-' || (x % 9),
            ${at}, ${at}, printf('%064d', x), 'applied', NULL, 1
          FROM n JOIN bench_cards ON bench_cards.i = x % ${CARDS}`, [bench.cinemaId]),
      );
    }
    const nodeArgs = process.env['BENCH_CENTRAL_NODE_ARGS'] ?? shippedNodeArgs().join(' ');
    process.env['BENCH_CENTRAL_NODE_ARGS'] = nodeArgs; // sync-setup's serve() passes them on
    await bench.serve();
    const pid = centralChild();
    const rssBefore = Math.round(memoryOf(pid, 'VmRSS') / 1024);
    log(`central (pid ${pid}) up with ${rssBefore} MB resident; exporting`);
    const started = process.hrtime.bigint();
    const answer = await bench.admin.GET('/v1/reports/export', { params: { query: { report: 'redemptions', format: 'xlsx' } }, parseAs: 'stream' });
    if (!answer.response.ok || !answer.response.body) throw new Error(`export answered ${answer.response.status}`);
    let bytes = 0;
    for await (const chunk of answer.response.body as unknown as AsyncIterable<Uint8Array>) bytes += chunk.length;
    const seconds = msSince(started) / 1000;
    const peak = Math.round(memoryOf(pid, 'VmHWM') / 1024);
    return [
      {
        name: `central (node ${nodeArgs || 'without flags'}), GET /v1/reports/export redemptions xlsx, ${ROWS.toLocaleString('en')} rows in SQLite: peak RSS (baseline: RSS before)`,
        value: peak,
        unit: 'MB',
        budget: `≤ ${RSS_BUDGET_MB}`,
        baseline: rssBefore,
        ok: peak <= RSS_BUDGET_MB,
      },
      { name: 'central, export over HTTP: time', value: round(seconds, 1), unit: 's', budget: '—', baseline: null, ok: null },
      { name: 'central, export over HTTP: file size', value: round(bytes / 1048576, 1), unit: 'MB', budget: '—', baseline: null, ok: null },
    ];
  } finally {
    await bench.close();
  }
}
