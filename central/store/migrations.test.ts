import assert from 'node:assert/strict';
import { createDatabase, dialectOf } from './database.ts';
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
        }));

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
