/**
 * `npm run bench -- export` (DESIGN §7): a 1,000,000-row redemption-detail report written to .xlsx
 * by the streaming writer, in a `tsx` child process of its own so that its peak resident set
 * (`maxRSS`) is the export's and not this process's. Budget: peak RSS ≤ 300 MB. Time and
 * throughput are reported, never judged. A CSV of the same rows is measured beside it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runExportProbe } from '../central/reports/export/export-probe.ts';
import { round, type BenchRow } from './report.ts';

const ROWS = Number(process.env['BENCH_EXPORT_ROWS'] ?? 1_000_000);
const RSS_BUDGET_MB = 300;

export async function exportBench(): Promise<BenchRow[]> {
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
