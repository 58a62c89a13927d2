/**
 * The backup schedule and retention, with an injected clock and timers driven by hand, over a real
 * SQLite database and real backups (made, checksummed, copied off-site, verified).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Knex } from 'knex';
import type { CentralError } from '../errors.ts';
import { createLogger } from '../logging.ts';
import { createDatabase } from '../store/database.ts';
import { migrateToLatest } from '../store/migration-source.ts';
import type { Clock } from '../store/ids.ts';
import { BackupDirectory } from './backup-directory.ts';
import { BackupService, type RetentionPolicy } from './backup-service.ts';
import { DirectoryOffsite } from './offsite.ts';
import { BackupSchedule, type Timers } from './schedule.ts';
import { SqliteEngine } from './sqlite-engine.ts';

/** A clock that moves only when told. */
class ManualClock implements Clock {
  constructor(public time: number) {}
  now(): Date {
    return new Date(this.time);
  }
}

/** Timers that fire when `advance` passes their time. */
class ManualTimers implements Timers {
  private next = 1;
  readonly pending = new Map<number, { at: number; callback: () => void }>();
  constructor(private readonly clock: ManualClock) {}
  setTimeout(callback: () => void, ms: number): unknown {
    const id = this.next++;
    this.pending.set(id, { at: this.clock.time + ms, callback });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }
  /** Moves the clock on by `ms`, firing due timers in order. */
  advance(ms: number): void {
    this.clock.time += ms;
    for (const [id, timer] of [...this.pending].sort((a, b) => a[1].at - b[1].at)) {
      if (timer.at > this.clock.time) continue;
      this.pending.delete(id);
      timer.callback();
    }
  }
}

const minute = 60_000;
const day = 1440 * minute;
const log = createLogger('silent');

describe('backup schedule and retention [sqlite]', function () {
  this.timeout(60_000);
  let dir: string;
  let db: Knex;
  let clock: ManualClock;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cinecard-schedule-'));
    db = createDatabase({ dataDir: join(dir, 'data') });
    await migrateToLatest(db);
    clock = new ManualClock(Date.parse('2025-03-01T02:00:00.000Z'));
  });
  afterEach(async () => {
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  function service(retention: RetentionPolicy = { keepCount: 14, keepDays: 30 }, offsite = true): BackupService {
    return new BackupService({
      engine: new SqliteEngine(join(dir, 'data')),
      directory: new BackupDirectory(join(dir, 'backups')),
      offsite: offsite ? new DirectoryOffsite(join(dir, 'offsite')) : undefined,
      clock,
      log,
      retention,
      version: 'test',
    });
  }

  /** Lets the schedule's awaited steps (reading the directory, the backup itself) run. */
  async function settle(backups: BackupService): Promise<void> {
    for (let i = 0; i < 20; i += 1) {
      await new Promise((r) => setTimeout(r, 10));
      await backups.idle();
    }
  }

  it('runs a backup when the interval has passed since the newest one, and not before', async () => {
    const backups = service();
    const timers = new ManualTimers(clock);
    const runs: string[] = [];
    const schedule = new BackupSchedule({
      intervalMs: 60 * minute,
      clock,
      timers,
      log,
      lastStartedAt: () => backups.lastStartedAt(),
      run: async () => runs.push((await backups.run('schedule')).id),
    });
    await schedule.start();
    // No backup yet: the first is due an interval after the start.
    assert.equal(schedule.nextRunAt?.toISOString(), '2025-03-01T03:00:00.000Z');
    timers.advance(59 * minute);
    await settle(backups);
    assert.equal(runs.length, 0);
    timers.advance(1 * minute);
    await settle(backups);
    assert.equal(runs.length, 1);
    const [first] = (await backups.list()).items;
    assert.equal(first?.status, 'verified', first?.error ?? '');
    assert.equal(first?.trigger, 'schedule');
    assert.equal(first?.offsite, 'copied');
    assert.equal(schedule.nextRunAt?.toISOString(), '2025-03-01T04:00:00.000Z');

    // A backup made meanwhile by hand moves the next one on.
    timers.advance(30 * minute);
    await backups.run('api');
    timers.advance(30 * minute);
    await settle(backups);
    assert.equal(runs.length, 1, 'not due: the hand-made backup was 30 minutes ago');
    assert.equal(schedule.nextRunAt?.toISOString(), '2025-03-01T04:30:00.000Z');
    timers.advance(30 * minute);
    await settle(backups);
    assert.equal(runs.length, 2);
    schedule.stop();
    assert.equal(timers.pending.size, 0);
    assert.equal(schedule.nextRunAt, undefined);
  });

  it('after a restart, a backup overdue while the service was down runs at once', async () => {
    const backups = service();
    await backups.run('cli');
    clock.time += 3 * day;
    const timers = new ManualTimers(clock);
    let ran = 0;
    const schedule = new BackupSchedule({
      intervalMs: day,
      clock,
      timers,
      log,
      lastStartedAt: () => backups.lastStartedAt(),
      run: async () => {
        ran += 1;
        await backups.run('schedule');
      },
    });
    await schedule.start();
    timers.advance(0);
    await settle(backups);
    assert.equal(ran, 1);
    schedule.stop();
  });

  it('prunes beyond the count and the age, but keeps the newest verified backup, locally and off-site', async () => {
    const backups = service({ keepCount: 3, keepDays: 10 });
    const made: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      made.push((await backups.run('schedule')).id);
      clock.time += day;
    }
    const local = (await backups.list()).items.map((b) => b.id);
    assert.deepEqual(local, made.slice(2).reverse());
    const offsite = new DirectoryOffsite(join(dir, 'offsite'));
    assert.deepEqual(await offsite.list(), made.slice(2));
    assert.ok(!existsSync(join(dir, 'backups', `${made[0]}.sqlite`)));
    assert.ok(!readdirSync(join(dir, 'backups')).some((f) => f.startsWith(made[1]!)));

    // Past the age limit every backup would go, but the newest verified one stays.
    clock.time += 30 * day;
    assert.deepEqual(await backups.prune(), made.slice(2, 4).reverse());
    assert.deepEqual((await backups.list()).items.map((b) => b.id), [made[4]]);
    assert.deepEqual(await offsite.list(), [made[4]]);
    assert.equal((await backups.list()).lastVerified?.id, made[4]);
  });

  it('says which backup directory cannot be used, and why', async () => {
    const blocker = join(dir, 'not-a-directory');
    writeFileSync(blocker, 'a file where the directory should be');
    const backups = new BackupService({
      engine: new SqliteEngine(join(dir, 'data')),
      directory: new BackupDirectory(join(blocker, 'backups')),
      clock,
      log,
      retention: { keepCount: 1, keepDays: 1 },
      version: 'test',
    });
    await assert.rejects(backups.run('cli'), (e: CentralError) => {
      assert.equal(e.code, 'backup_directory_unusable');
      assert.match(e.message, /not-a-directory\/backups cannot be used: .*ENOTDIR/);
      return true;
    });
    assert.equal(backups.running, undefined, 'a refused start leaves nothing running');
  });

  it('shows a backup left running by a process that died as failed (interrupted)', async () => {
    const backups = service();
    const made = await backups.run('cli');
    const directory = new BackupDirectory(join(dir, 'backups'));
    await directory.writeStatus({ ...made, id: 'cinecard-20250301T020500000Z', status: 'running', verifiedAt: null });
    const [dead] = (await backups.list()).items;
    assert.equal(dead?.id, 'cinecard-20250301T020500000Z');
    assert.equal(dead?.status, 'failed');
    assert.match(dead?.error ?? '', /interrupted/);
  });

  it('records a failed backup (database file gone) instead of throwing, and keeps it out of the good count', async () => {
    const backups = service({ keepCount: 1, keepDays: 10 }, false);
    const good = await backups.run('cli');
    assert.equal(good.status, 'verified');
    await db.destroy();
    rmSync(join(dir, 'data'), { recursive: true, force: true });
    clock.time += minute;
    const failed = await backups.run('cli');
    assert.equal(failed.status, 'failed');
    assert.match(failed.error ?? '', /^backup: /);
    const list = await backups.list();
    assert.deepEqual(list.items.map((b) => b.status), ['failed', 'verified']);
    assert.equal(list.lastVerified?.id, good.id);
    db = createDatabase({ dataDir: join(dir, 'data') });
  });
});
