import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { createDatabase, dialectOf, sqliteFileName, walSizeLimitBytes } from './database.ts';
import { migrateDownAll, migrateToLatest, pendingMigrations, MigrationDirectory } from './migration-source.ts';
import { testDatabases, withScratchDatabase } from '../test-support/databases.ts';

const t = '2025-01-01T00:00:00.000Z';

for (const database of testDatabases()) {
  describe(`migrations [${database.name}]`, function () {
    this.timeout(60_000);

    it('run up from an empty database, report nothing pending, go down to empty and up again', () =>
      withScratchDatabase(database, async (db) => {
        assert.equal(dialectOf(db), database.name);
        const all = (await new MigrationDirectory().getMigrations()).map((f) => f.replace(/\.ts$/, ''));
        assert.ok(all.length >= 1);
        assert.deepEqual(await migrateToLatest(db), all);
        assert.deepEqual(await pendingMigrations(db), []);
        assert.deepEqual(await migrateToLatest(db), [], 'a second run does nothing');
        for (const table of ['cinemas', 'users', 'user_roles', 'terminals', 'enrolment_codes', 'audit_log']) {
          assert.ok(await db.schema.hasTable(table), `table ${table} exists`);
        }
        await migrateDownAll(db);
        assert.equal(await db.schema.hasTable('cinemas'), false);
        assert.equal((await pendingMigrations(db)).length, all.length);
        assert.deepEqual(await migrateToLatest(db), all);
      }));

    it('enforces foreign keys and uniqueness', () =>
      withScratchDatabase(database, async (db) => {
        await migrateToLatest(db);
        await assert.rejects(
          db('terminals').insert({ id: '01900000-0000-7000-8000-000000000001', cinema_id: '01900000-0000-7000-8000-000000000009', name: 'x', secret_hash: 'h', enrolled_at: t }),
          'a terminal of a cinema that does not exist is refused',
        );
        const cinema = { id: '01900000-0000-7000-8000-000000000002', code: 'U', name: 'u', created_at: t, updated_at: t };
        await db('cinemas').insert(cinema);
        await assert.rejects(db('cinemas').insert({ ...cinema, id: '01900000-0000-7000-8000-000000000003' }), 'a duplicate code is refused');
      }));

    if (database.name === 'sqlite') {
      it('opens SQLite in WAL mode with a busy timeout and foreign keys on', () =>
        withScratchDatabase(database, async (db) => {
          const pragma = async (name: string) => Object.values((await db.raw(`PRAGMA ${name}`))[0] as object)[0];
          assert.equal(await pragma('journal_mode'), 'wal');
          assert.equal(await pragma('foreign_keys'), 1);
          assert.equal(await pragma('busy_timeout'), 5000);
          assert.equal(await pragma('journal_size_limit'), walSizeLimitBytes);
        }));

      it('cuts the WAL file back once a burst is checkpointed and the log starts over', async () => {
        const scratch = await database.create();
        const db = createDatabase(scratch.settings);
        try {
          const wal = `${join(scratch.settings.dataDir, sqliteFileName)}-wal`;
          await db.schema.createTable('burst', (t) => t.text('filler'));
          const filler = 'x'.repeat(4000);
          await db.transaction(async (trx) => {
            for (let i = 0; i < 40; i++) await trx('burst').insert(Array.from({ length: 100 }, () => ({ filler })));
          });
          const grown = statSync(wal).size;
          assert.ok(grown > 2 * walSizeLimitBytes, `the burst left a WAL of ${grown} bytes`);
          await db.raw('PRAGMA wal_checkpoint(PASSIVE)');
          await db('burst').insert({ filler: 'after' }); // the log starts over here
          assert.ok(statSync(wal).size <= walSizeLimitBytes, `the WAL is still ${statSync(wal).size} bytes`);
        } finally {
          await db.destroy();
          await scratch.drop();
        }
      });

      it('takes the write lock when a transaction begins (BEGIN IMMEDIATE)', async () => {
        const scratch = await database.create();
        const db = createDatabase(scratch.settings);
        const other = createDatabase(scratch.settings);
        try {
          await migrateToLatest(db);
          await other.raw('PRAGMA busy_timeout = 0');
          await db.transaction(async (trx) => {
            await trx('cinemas').select('id'); // only a read so far
            await assert.rejects(
              other('cinemas').insert({ id: '01900000-0000-7000-8000-000000000004', code: 'W', name: 'w', created_at: t, updated_at: t }),
              /SQLITE_BUSY/,
            );
          });
        } finally {
          await other.destroy();
          await db.destroy();
          await scratch.drop();
        }
      });
    }
  });
}
