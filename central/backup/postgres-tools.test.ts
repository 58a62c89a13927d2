/**
 * PostgreSQL specifics: without the tools a backup fails with a message saying what to install, not
 * a crash; verification cleans up the scratch databases a dead one left.
 */
import assert from 'node:assert/strict';
import type { Knex } from 'knex';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../logging.ts';
import { testDatabases, withScratchDatabase } from '../test-support/databases.ts';
import { systemClock } from '../store/ids.ts';
import { BackupDirectory } from './backup-directory.ts';
import { BackupService } from './backup-service.ts';
import { PostgresEngine } from './postgres-engine.ts';
import { migrateToLatest } from '../store/migration-source.ts';

/** Runs `work` on a scratch PostgreSQL database, given as knex and as its URL. */
async function withPostgres(work: (db: Knex, url: string) => Promise<void>): Promise<void> {
  const postgres = testDatabases().find((d) => d.name === 'postgres')!;
  await withScratchDatabase(postgres, async (db) => {
    const { user, host, port, database } = (db.client.config as { connection: Record<string, string> }).connection;
    await work(db, `postgres://${user}@${host}:${port}/${database}`);
  });
}

describe('PostgreSQL backups without the tools [postgres]', function () {
  this.timeout(60_000);

  it('record a failed backup naming the missing program and what to do', async () => {
    await withPostgres(async (db, url) => {
      const dir = mkdtempSync(join(tmpdir(), 'cinecard-notools-'));
      try {
        const backups = new BackupService({
          engine: new PostgresEngine(url, join(dir, 'no-such-bin')),
          directory: new BackupDirectory(join(dir, 'backups')),
          clock: systemClock,
          log: createLogger('silent'),
          retention: { keepCount: 3, keepDays: 3 },
          version: 'test',
        });
        const record = await backups.run('cli');
        assert.equal(record.status, 'failed');
        assert.match(record.error ?? '', /pg_dump was not found .*install the PostgreSQL client tools .*backup\.postgresBinDir/);
        assert.equal((await backups.list()).lastVerified, null);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});

describe('PostgreSQL verification [postgres]', function () {
  this.timeout(60_000);

  it('drops scratch databases a dead verification left behind an hour ago, and leaves young ones (running elsewhere) alone', async () => {
    await withPostgres(async (db, url) => {
      await migrateToLatest(db);
      const leftover = `cinecard_verify_${(Date.now() - 2 * 3_600_000).toString(16)}_dead0001`;
      const young = `cinecard_verify_${Date.now().toString(16)}_a11ce001`;
      await db.raw(`CREATE DATABASE ${leftover}`);
      await db.raw(`CREATE DATABASE ${young}`);
      const dir = mkdtempSync(join(tmpdir(), 'cinecard-leftover-'));
      try {
        const engine = new PostgresEngine(url, undefined);
        const contents = await engine.dump(join(dir, 'b.pgdump'));
        const found = await engine.inspect(join(dir, 'b.pgdump'));
        assert.deepEqual(found.tables, contents.tables);
        assert.deepEqual(found.pending, []);
        // The old leftover is gone; one made a moment ago (someone else's, running) is left alone.
        const left = await db.raw("SELECT datname FROM pg_database WHERE datname IN (?, ?)", [leftover, young]);
        assert.deepEqual(left.rows, [{ datname: young }]);
      } finally {
        await db.raw(`DROP DATABASE IF EXISTS ${leftover}`);
        await db.raw(`DROP DATABASE IF EXISTS ${young}`);
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
