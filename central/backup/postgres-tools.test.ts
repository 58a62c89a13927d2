/** Without the PostgreSQL tools a backup fails with a message saying what to install, not a crash. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../logging.ts';
import { testDatabases, withScratchDatabase } from '../test-support/databases.ts';
import { systemClock } from '../store/ids.ts';
import { BackupDirectory } from './backup-directory.ts';
import { BackupService } from './backup-service.ts';
import { PostgresEngine } from './postgres-engine.ts';

describe('PostgreSQL backups without the tools [postgres]', function () {
  this.timeout(60_000);

  it('record a failed backup naming the missing program and what to do', async () => {
    const postgres = testDatabases().find((d) => d.name === 'postgres')!;
    await withScratchDatabase(postgres, async (db) => {
      const { user, host, port, database } = (db.client.config as { connection: Record<string, string> }).connection;
      const url = `postgres://${user}@${host}:${port}/${database}`;
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
