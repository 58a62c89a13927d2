/**
 * Bench rows (DESIGN §7): one row per metric, `{name, value, unit, budget, baseline, ok}`, printed as
 * a table and written to `bench/results/<suite>.json`. Speed is measured here, never asserted by tests.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface BenchRow {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  /** Human-readable budget, e.g. "≤ 50" or "≤ 1.5 × floor"; "—" when the row is informational. */
  readonly budget: string;
  /** The floor or raw figure measured in the same run, or null. */
  readonly baseline: number | null;
  /** Whether the value is within budget; null for informational rows. */
  readonly ok: boolean | null;
}

/** The p-th percentile (0–100) of samples, nearest-rank. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

/** Milliseconds since `start` (from `process.hrtime.bigint()`). */
export function msSince(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

export const round = (v: number, digits = 2) => Number(v.toFixed(digits));

export const resultsDir = join(dirname(fileURLToPath(import.meta.url)), 'results');

export function writeResults(suite: string, rows: readonly BenchRow[]): string {
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `${suite}.json`);
  writeFileSync(file, JSON.stringify(rows, null, 2) + '\n');
  return file;
}

export function formatTable(suite: string, rows: readonly BenchRow[]): string {
  const head = ['metric', 'value', 'unit', 'budget', 'baseline', 'ok'];
  const body = rows.map((r) => [
    r.name,
    String(r.value),
    r.unit,
    r.budget,
    r.baseline === null ? '—' : String(r.baseline),
    r.ok === null ? '—' : r.ok ? 'yes' : 'NO',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  return [`== ${suite} ==`, line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}
