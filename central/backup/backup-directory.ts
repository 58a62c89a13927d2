/**
 * The local backup directory — the source of truth about backups (the database being backed up
 * cannot be: a restore would bring back an old idea of its own backups). Per backup:
 *
 *   <id>.sqlite | <id>.pgdump   the database file (written as `.partial`, renamed when complete)
 *   <id>.manifest.json          written once, after the file: checksum, migrations, row counts
 *   <id>.status.json            what became of it (made, verified, failed, off-site copy), rewritten
 */
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { components } from '../client/schema.ts';
import { CentralError } from '../errors.ts';
import { BackupManifestSchema, backupIdPattern, type BackupManifest } from './manifest.ts';
import { backupMessages } from './messages.ts';
import { fsync } from './offsite.ts';

/** A backup as the API shows it (`spec/openapi.yaml` `Backup`). */
export type BackupRecord = components['schemas']['Backup'];

export class BackupDirectory {
  readonly path: string;

  constructor(path: string) {
    this.path = resolve(path);
  }

  async ensure(): Promise<void> {
    await mkdir(this.path, { recursive: true, mode: 0o700 });
  }

  file(name: string): string {
    return join(this.path, name);
  }

  statusFile(id: string): string {
    return this.file(`${id}.status.json`);
  }

  manifestFile(id: string): string {
    return this.file(`${id}.manifest.json`);
  }

  /** Every backup with a status file, newest first. */
  async list(): Promise<BackupRecord[]> {
    let names: string[];
    try {
      names = await readdir(this.path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const records: BackupRecord[] = [];
    for (const name of names) {
      const id = name.replace(/\.status\.json$/, '');
      if (id === name || !backupIdPattern.test(id)) continue;
      try {
        records.push(JSON.parse(await readFile(this.file(name), 'utf8')) as BackupRecord);
      } catch {
        // Being rewritten at this instant, or damaged: a status file is a report, not the backup.
      }
    }
    return records.sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
  }

  /** Writes a status file atomically (write, flush, rename). */
  async writeStatus(record: BackupRecord): Promise<void> {
    await this.writeAtomically(this.statusFile(record.id), `${JSON.stringify(record, null, 2)}\n`);
  }

  async writeManifest(manifest: BackupManifest): Promise<void> {
    await this.writeAtomically(this.manifestFile(manifest.id), `${JSON.stringify(manifest, null, 2)}\n`);
  }

  async remove(id: string): Promise<void> {
    if (!backupIdPattern.test(id)) throw new RangeError(`not a backup id: ${id}`);
    for (const suffix of ['.sqlite', '.pgdump', '.sqlite.partial', '.pgdump.partial', '.manifest.json', '.status.json']) {
      await rm(this.file(`${id}${suffix}`), { force: true });
    }
  }

  private async writeAtomically(path: string, text: string): Promise<void> {
    const partial = `${path}.partial`;
    await writeFile(partial, text, { mode: 0o600 });
    await fsync(partial);
    await rename(partial, path);
  }
}

/** Reads and checks a manifest file. */
export async function readManifest(path: string): Promise<BackupManifest> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new CentralError(backupMessages.backup_manifest_invalid, { file: path, reason: (error as Error).message });
  }
  const parsed = BackupManifestSchema.safeParse(raw);
  if (!parsed.success) {
    const reason = parsed.error.issues
      .slice(0, 3)
      .map((i) => `${i.path.join('.') || '(top level)'} ${i.message}`)
      .join('; ');
    throw new CentralError(backupMessages.backup_manifest_invalid, { file: path, reason });
  }
  return parsed.data;
}
