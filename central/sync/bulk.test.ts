/**
 * The SQLite script of the ingest's group writes (`bulk.ts` SqliteScript): values inlined as
 * literals must store exactly what binding them stores, quotes and all; what cannot be a literal
 * is refused before anything runs.
 */
import assert from 'node:assert/strict';
import type { Knex } from 'knex';
import { testDatabases, withScratchDatabase } from '../test-support/databases.ts';
import { insertRows, SqliteScript, updateRows, type Column } from './bulk.ts';

const sqlite = testDatabases().find((d) => d.name === 'sqlite')!;
const columns: Column[] = [
  { name: 'id', pg: 'int4' },
  { name: 'label', pg: 'text' },
  { name: 'amount', pg: 'int8' },
  { name: 'note', pg: 'text' },
];
const awkward = [
  [1, "O'Brien's card", 3500, null],
  [2, '引号 \'单\' "双" \\ 反斜杠', -1, '?'],
  [3, '); DROP TABLE probe; --', 0, "'"],
  [4, 'line\nbreak\ttab \u2028 😀', Number.MAX_SAFE_INTEGER, ''],
];

describe('SqliteScript [sqlite]', () => {
  const withProbes = (work: (db: Knex) => Promise<void>) =>
    withScratchDatabase(sqlite, async (db) => {
      for (const table of ['bound', 'inlined']) {
        await db.schema.createTable(table, (t) => {
          t.integer('id').primary();
          t.text('label');
          t.bigInteger('amount');
          t.text('note').nullable();
        });
      }
      await work(db);
    });
  const rows = (db: Knex, table: string) => db(table).orderBy('id').select();

  it('stores what binding the same values stores, for inserts and updates, in one exec', () =>
    withProbes(async (db) => {
      await db.transaction(async (trx) => {
        await insertRows(trx, 'bound', columns, awkward);
        await updateRows(trx, 'bound', columns[0]!, [columns[3]!], [[2, "it's updated"], [4, null]]);
        await new SqliteScript()
          .insert('inlined', columns, awkward)
          .update('inlined', columns[0]!, [columns[3]!], [[2, "it's updated"], [4, null]])
          .add({ sql: 'UPDATE inlined SET amount = amount + ? WHERE label = ?', params: [0, "O'Brien's card"] })
          .run(trx);
      });
      const bound = await rows(db, 'bound');
      assert.equal(bound.length, 4);
      assert.deepEqual(await rows(db, 'inlined'), bound);
      assert.equal(bound[0].label, "O'Brien's card");
      assert.equal(bound[1].note, "it's updated");
    }));

  it('refuses values that cannot be literals, and placeholders that do not match, before running anything', () =>
    withProbes(async (db) => {
      assert.throws(() => new SqliteScript().add({ sql: 'INSERT INTO inlined (id, label) VALUES (?, ?)', params: [1, 'a\u0000b'] }), /NUL/);
      assert.throws(() => new SqliteScript().add({ sql: 'INSERT INTO inlined (id) VALUES (?)', params: [Number.NaN] }), /finite/);
      assert.throws(() => new SqliteScript().add({ sql: 'INSERT INTO inlined (id, label) VALUES (?, ?)', params: [1] }), /too few/);
      assert.throws(() => new SqliteScript().add({ sql: 'INSERT INTO inlined (id) VALUES (?)', params: [1, 2] }), /too many/);
      assert.throws(() => new SqliteScript().add({ sql: 'INSERT INTO inlined (id) VALUES (?)', params: [{}] }), /no SQLite literal/);
      assert.deepEqual(await rows(db, 'inlined'), []);
    }));

  it('a failing statement fails the script with SQLite’s error', () =>
    withProbes(async (db) => {
      await assert.rejects(
        db.transaction((trx) => new SqliteScript().insert('inlined', columns, [awkward[0]!]).insert('inlined', columns, [awkward[0]!]).run(trx)),
        /UNIQUE/,
      );
      assert.deepEqual(await rows(db, 'inlined'), []);
    }));
});
