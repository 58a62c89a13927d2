/**
 * Making backups: one at a time (in this process, across processes on the backup directory's lock
 * file, and across instances on one PostgreSQL through an advisory lock), each one
 *
 *   1. written by the engine as `<id>.<ext>.partial`, renamed when complete;
 *   2. checksummed (SHA-256) into `<id>.manifest.json` with the migrations and row counts;
 *   3. copied off-site, and the copy read back and checksummed;
 *   4. verified: restored into a scratch database, migrations current, row counts as the manifest;
 *   5. followed by pruning (retention).
 *
 * What became of each step is in `<id>.status.json`; a failure is recorded there, never thrown at
 * the scheduler.
 */
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { chmod, open, readFile, rename, rm, stat } from 'node:fs/promises';
import type { Logger } from 'pino';
import { CentralError } from '../errors.ts';
import { type Clock, isoTime } from '../store/ids.ts';
import { BackupDirectory, type BackupRecord } from './backup-directory.ts';
import type { BackupEngine } from './engine.ts';
import { backupIdAt, backupFormat, backupTime, contentsDifference, sha256Of, totalRows, type BackupManifest } from './manifest.ts';
import { backupMessages } from './messages.ts';
import { fsync, type OffsiteTarget } from './offsite.ts';

export type BackupTrigger = BackupRecord['trigger'];

export interface RetentionPolicy {
  /** At most this many good backups… */
  readonly keepCount: number;
  /** …none older than this — except the newest good and the newest verified one, always kept. */
  readonly keepDays: number;
}

export interface BackupServiceOptions {
  readonly engine: BackupEngine;
  readonly directory: BackupDirectory;
  readonly offsite?: OffsiteTarget | undefined;
  readonly clock: Clock;
  readonly log: Logger;
  readonly retention: RetentionPolicy;
  /** Verify each backup by a trial restore (default true). */
  readonly verify?: boolean;
  /** The service version, recorded in manifests. */
  readonly version: string;
}

/** A started backup: its record as it began, and the promise of how it ended. */
export interface StartedBackup {
  readonly record: BackupRecord;
  readonly done: Promise<BackupRecord>;
}

const dayMs = 86_400_000;
const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

export class BackupService {
  private current: StartedBackup | undefined;
  private starting = false;

  constructor(private readonly options: BackupServiceOptions) {}

  get directory(): BackupDirectory {
    return this.options.directory;
  }

  get engine(): BackupEngine {
    return this.options.engine;
  }

  get offsite(): OffsiteTarget | undefined {
    return this.options.offsite;
  }

  /** The backup running in this process, if any. */
  get running(): StartedBackup | undefined {
    return this.current;
  }

  /** Every backup, newest first, and the newest verified one. */
  async list(): Promise<{ items: BackupRecord[]; lastVerified: BackupRecord | null }> {
    const { directory } = this.options;
    const lockHeld = existsSync(directory.file('.backup.lock'));
    // A `running` record nobody is running was cut short (the process died): say so.
    const items = (await directory.list()).map((r) =>
      r.status === 'running' && r.id !== this.current?.record.id && !lockHeld
        ? { ...r, status: 'failed' as const, error: r.error ?? 'interrupted: the process making it stopped' }
        : r,
    );
    // Until its pruning and unlocking are done too, this process's backup shows as running: a start
    // is refused until then, and the list must not say otherwise.
    const live = this.current?.record;
    if (live) {
      const shown = { ...live, status: 'running' as const, verifiedAt: null };
      const at = items.findIndex((r) => r.id === live.id);
      if (at >= 0) items[at] = shown;
      else items.unshift(shown);
    }
    return { items, lastVerified: items.find((r) => r.status === 'verified') ?? null };
  }

  /** When the newest backup (of any outcome) started: the schedule counts from it. */
  async lastStartedAt(): Promise<Date | undefined> {
    const [newest] = await this.options.directory.list();
    return newest ? new Date(newest.startedAt) : undefined;
  }

  /**
   * Starts a backup and returns once it has begun (status `running`); `done` settles when it has
   * ended, with its final record (a failed backup resolves too, with status `failed`).
   * Throws `backup_in_progress` / `backup_locked` while another backup runs.
   */
  async start(trigger: BackupTrigger): Promise<StartedBackup> {
    if (this.current || this.starting) {
      throw new CentralError(backupMessages.backup_in_progress, { running: this.current?.record.id ?? 'one starting' });
    }
    const { directory, engine, clock } = this.options;
    // Claimed before the first await, so two callers cannot both pass.
    this.starting = true;
    let releaseFile: (() => Promise<void>) | undefined;
    let releaseInstance: (() => Promise<void>) | undefined;
    try {
      try {
        await directory.ensure();
        releaseFile = await this.lockFile();
      } catch (error) {
        if (error instanceof CentralError) throw error;
        throw new CentralError(backupMessages.backup_directory_unusable, { path: directory.path, reason: message(error) }, undefined, { cause: error });
      }
      const instanceLock = await engine.exclusive();
      if (!instanceLock) throw new CentralError(backupMessages.backup_in_progress, { running: 'another central instance' });
      releaseInstance = instanceLock;
      let started = clock.now();
      const newest = (await directory.list())[0];
      if (newest && backupIdAt(started) <= newest.id) started = new Date(backupTime(newest.id).getTime() + 1);
      const record: BackupRecord = {
        id: backupIdAt(started),
        status: 'running',
        trigger,
        dialect: engine.dialect,
        startedAt: isoTime(started),
        finishedAt: null,
        bytes: null,
        sha256: null,
        rows: null,
        verifiedAt: null,
        offsite: this.options.offsite ? 'pending' : 'none',
        error: null,
      };
      await directory.writeStatus(record);
      const release = async () => {
        await releaseInstance?.().catch(() => {});
        await releaseFile?.().catch(() => {});
      };
      const done = this.carryOut(record).finally(async () => {
        await release();
        this.current = undefined;
      });
      this.current = { record, done };
      return this.current;
    } catch (error) {
      await releaseInstance?.().catch(() => {});
      await releaseFile?.().catch(() => {});
      throw error;
    } finally {
      this.starting = false;
    }
  }

  /** Makes a backup and waits for the end of it. */
  async run(trigger: BackupTrigger): Promise<BackupRecord> {
    return (await this.start(trigger)).done;
  }

  /** Resolves when no backup runs in this process (shutdown waits for it). */
  async idle(): Promise<void> {
    await this.current?.done.catch(() => {});
  }

  private async carryOut(initial: BackupRecord): Promise<BackupRecord> {
    const { directory, engine, clock, log } = this.options;
    let record = initial;
    const save = async (change: Partial<BackupRecord>) => {
      record = { ...record, ...change };
      if (this.current?.record.id === record.id) this.current = { ...this.current, record };
      await directory.writeStatus(record);
    };
    const file = `${record.id}.${engine.extension}`;
    const path = directory.file(file);
    let manifest: BackupManifest;
    try {
      const contents = await engine.dump(`${path}.partial`);
      await fsync(`${path}.partial`);
      await chmod(`${path}.partial`, 0o600); // it holds password hashes and every card
      await rename(`${path}.partial`, path);
      const { size } = await stat(path);
      manifest = {
        format: backupFormat,
        id: record.id,
        dialect: engine.dialect,
        trigger: record.trigger,
        startedAt: record.startedAt,
        finishedAt: isoTime(clock.now()),
        file,
        bytes: size,
        sha256: await sha256Of(path),
        migrations: [...contents.migrations],
        tables: { ...contents.tables },
        version: this.options.version,
      };
      await directory.writeManifest(manifest);
      // Still `running` until copied off-site and verified: `made` is final only without verification.
      await save({ finishedAt: manifest.finishedAt, bytes: size, sha256: manifest.sha256, rows: totalRows(contents) });
      log.info({ backup: record.id, bytes: size, rows: record.rows }, 'backup made');
    } catch (error) {
      await rm(`${path}.partial`, { force: true });
      await save({ status: 'failed', finishedAt: isoTime(clock.now()), error: `backup: ${message(error)}`, offsite: record.offsite === 'pending' ? 'failed' : record.offsite });
      log.error({ backup: record.id, err: error }, 'backup failed');
      return record;
    }

    const problems: string[] = [];
    if (this.options.offsite) {
      const copied = await this.copyOffsite(manifest).then(
        () => undefined,
        (error: unknown) => message(error),
      );
      if (copied) problems.push(`off-site copy: ${copied}`);
      await save({ offsite: copied ? 'failed' : 'copied', error: problems.join('; ') || null });
      if (copied) log.error({ backup: record.id, offsite: this.options.offsite.description, problem: copied }, 'off-site copy failed');
    }

    if (this.options.verify === false) {
      await save({ status: 'made' });
    } else {
      const failure = await this.verify(manifest).catch((error: unknown) => message(error));
      if (failure) {
        problems.unshift(`verification: ${failure}`);
        await save({ status: 'failed', error: problems.join('; ') });
        log.error({ backup: record.id, problem: failure }, 'backup did not verify');
      } else {
        await save({ status: 'verified', verifiedAt: isoTime(clock.now()) });
        log.info({ backup: record.id }, 'backup verified');
      }
    }

    await this.prune().catch((error: unknown) => log.warn({ err: error }, 'pruning old backups failed'));
    return record;
  }

  /**
   * Checks a made backup: the file's checksum against the manifest, then a trial restore into a
   * scratch database — no migration missing, the same migrations and row counts as the manifest.
   * Resolves with what is wrong, or undefined.
   */
  async verify(manifest: BackupManifest): Promise<string | undefined> {
    const path = this.options.directory.file(manifest.file);
    const actual = await sha256Of(path);
    if (actual !== manifest.sha256) return `the SHA-256 of ${manifest.file} is ${actual}, the manifest says ${manifest.sha256}`;
    const found = await this.options.engine.inspect(path);
    if (found.problems.length > 0) return found.problems.join('; ');
    if (found.pending.length > 0) return `the restored schema lacks the migrations ${found.pending.join(', ')}`;
    return contentsDifference(manifest, found);
  }

  /** Copies the backup off-site, then reads the copy back and compares checksums. */
  private async copyOffsite(manifest: BackupManifest): Promise<void> {
    const offsite = this.options.offsite!;
    const { directory } = this.options;
    await offsite.put(manifest.id, [directory.file(manifest.file), directory.manifestFile(manifest.id)]);
    const copy = await sha256Of(offsite.read(manifest.id, manifest.file));
    if (copy !== manifest.sha256) throw new Error(`the copy's SHA-256 is ${copy}, the manifest says ${manifest.sha256}`);
    const manifestCopy = await sha256Of(offsite.read(manifest.id, `${manifest.id}.manifest.json`));
    if (manifestCopy !== (await sha256Of(directory.manifestFile(manifest.id)))) throw new Error('the manifest copy differs');
  }

  /**
   * Retention, locally and off-site: good backups beyond `keepCount` or older than `keepDays` go,
   * but never the newest good one nor the newest verified one; failed records are kept as long as
   * they are among the newest `keepCount` failures and younger than `keepDays`.
   */
  async prune(): Promise<string[]> {
    const { directory, offsite, retention, clock } = this.options;
    const now = clock.now().getTime();
    const records = await directory.list();
    const old = (id: string) => now - backupTime(id).getTime() > retention.keepDays * dayMs;
    const keep = new Set<string>();
    const good = records.filter((r) => r.status === 'made' || r.status === 'verified');
    good.forEach((r, i) => i < retention.keepCount && !old(r.id) && keep.add(r.id));
    if (good[0]) keep.add(good[0].id);
    const verified = records.find((r) => r.status === 'verified');
    if (verified) keep.add(verified.id);
    records.filter((r) => r.status === 'failed').forEach((r, i) => i < retention.keepCount && !old(r.id) && keep.add(r.id));
    const running = this.current?.record.id;
    if (running) keep.add(running);
    const removed: string[] = [];
    for (const r of records) {
      if (keep.has(r.id) || r.status === 'running') continue;
      await directory.remove(r.id);
      removed.push(r.id);
    }
    if (offsite) {
      const stored = (await offsite.list()).sort().reverse();
      const keepOffsite = new Set(stored.filter((id, i) => i < retention.keepCount && !old(id)));
      if (stored[0]) keepOffsite.add(stored[0]);
      if (verified) keepOffsite.add(verified.id);
      for (const id of stored) if (!keepOffsite.has(id)) await offsite.remove(id);
    }
    if (removed.length > 0) this.options.log.info({ removed }, 'old backups pruned');
    return removed;
  }

  /**
   * The backup directory's lock file, for processes on this machine (the `backup` command while the
   * service runs). A lock left by a process that is gone is taken over.
   */
  private async lockFile(): Promise<() => Promise<void>> {
    const path = this.options.directory.file('.backup.lock');
    const me = `${process.pid}@${hostname()}`;
    for (let attempt = 0; attempt < 2; attempt += 1) {
      try {
        const handle = await open(path, 'wx', 0o600);
        await handle.writeFile(me);
        await handle.close();
        return async () => {
          if ((await readFile(path, 'utf8').catch(() => '')) === me) await rm(path, { force: true });
        };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const holder = await readFile(path, 'utf8').catch(() => '');
        const [pid, host] = holder.split('@');
        if (host === hostname() && pid && !alive(Number(pid))) {
          await rm(path, { force: true });
          continue;
        }
        throw new CentralError(backupMessages.backup_locked, { lock: path, pid: holder || 'unknown' });
      }
    }
    throw new CentralError(backupMessages.backup_locked, { lock: path, pid: 'unknown' });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
