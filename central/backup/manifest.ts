/**
 * A backup's manifest (`<id>.manifest.json`, written once the database file is complete): what the
 * file is, its SHA-256, the migrations applied and every table's row count in the backup's own
 * snapshot. Restore refuses a file whose checksum differs; verification restores the file into a
 * scratch database and compares the migrations and counts with these.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { z } from 'zod';

export const backupFormat = 'cinecard-backup/1';

/** `cinecard-20250131T080000123Z`: the start time (UTC, milliseconds), so names sort by age. */
export const backupIdPattern = /^cinecard-\d{8}T\d{9}Z$/;

export function backupIdAt(date: Date): string {
  return `cinecard-${date.toISOString().replace(/[-:.]/g, '')}`;
}

/** The start time a backup id was made from. */
export function backupTime(id: string): Date {
  const m = /^cinecard-(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z$/.exec(id);
  if (!m) throw new RangeError(`not a backup id: ${id}`);
  return new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.${m[7]}Z`);
}

/** What a database holds, for comparing a backup with its restore. */
export interface DatabaseContents {
  /** Applied migrations (knex_migrations), in order. */
  readonly migrations: readonly string[];
  /** Row count of every table, knex's own included. */
  readonly tables: Readonly<Record<string, number>>;
}

export const BackupManifestSchema = z.strictObject({
  format: z.literal(backupFormat),
  id: z.string().regex(backupIdPattern),
  dialect: z.enum(['sqlite', 'postgres']),
  trigger: z.enum(['schedule', 'api', 'cli']),
  startedAt: z.string(),
  finishedAt: z.string(),
  /** The database file's name, beside the manifest. */
  file: z.string().regex(/^cinecard-\d{8}T\d{9}Z\.(sqlite|pgdump)$/),
  bytes: z.number().int().min(0),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  migrations: z.array(z.string()),
  tables: z.record(z.string(), z.number().int().min(0)),
  /** The service version that made it. */
  version: z.string(),
});
export type BackupManifest = z.output<typeof BackupManifestSchema>;

export function totalRows(contents: Pick<DatabaseContents, 'tables'>): number {
  return Object.values(contents.tables).reduce((a, b) => a + b, 0);
}

/** The first difference between what a manifest promises and what a restored database holds. */
export function contentsDifference(expected: DatabaseContents, found: DatabaseContents): string | undefined {
  if (expected.migrations.join('\n') !== found.migrations.join('\n')) {
    return `the applied migrations are [${found.migrations.join(', ')}], the manifest lists [${expected.migrations.join(', ')}]`;
  }
  const names = [...new Set([...Object.keys(expected.tables), ...Object.keys(found.tables)])].sort();
  for (const name of names) {
    const want = expected.tables[name];
    const got = found.tables[name];
    if (want !== got) return `table ${name} has ${got ?? 'no'} rows${got === undefined ? ' (missing)' : ''}, the manifest says ${want ?? 'none (no such table)'}`;
  }
  return undefined;
}

/** SHA-256 (hex) of a stream or a file, read in chunks. */
export async function sha256Of(source: string | Readable): Promise<string> {
  const hash = createHash('sha256');
  const stream = typeof source === 'string' ? createReadStream(source) : source;
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
