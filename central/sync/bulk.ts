/**
 * The ingest hot path's writes (DESIGN §7: few writes per op, multi-row statements): one
 * statement per table for the whole batch — SQLite a multi-row VALUES (measured here faster than a
 * prepared single-row statement run per row through node-sqlite3's callbacks), PostgreSQL rows as
 * arrays through `unnest`. Both run on the caller's knex transaction. knex stays for the rest.
 */
import type { Knex } from 'knex';
import { dialectOf } from '../store/database.ts';

/** A column and its PostgreSQL array element type (for `unnest($n::type[])`). */
export interface Column {
  readonly name: string;
  readonly pg: 'uuid' | 'text' | 'int4' | 'int8';
}

interface SqliteConnection {
  run(sql: string, params: unknown[], cb: (err: Error | null) => void): void;
  all(sql: string, params: unknown[], cb: (err: Error | null, rows: unknown[]) => void): void;
}
interface PgConnection {
  query(sql: string, values: unknown[]): Promise<{ rows: unknown[] }>;
}

async function connectionOf<T>(trx: Knex.Transaction): Promise<T> {
  // Inside a transaction knex hands out the transaction's own connection and never releases it.
  return (await (trx.client as unknown as { acquireConnection(): Promise<T> }).acquireConnection()) as T;
}

/** Straight to node-sqlite3: knex's binding formatting costs more than the insert for 9,000 values. */
async function sqliteRun(trx: Knex.Transaction, sql: string, params: unknown[]): Promise<void> {
  const conn = await connectionOf<SqliteConnection>(trx);
  await new Promise<void>((resolve, reject) => conn.run(sql, params.map((v) => (v === undefined ? null : v)), (err) => (err ? reject(err) : resolve())));
}

/** Rows per multi-row statement: SQLite allows 32,766 bound values. */
function sqliteChunk(columns: number): number {
  return Math.floor(32_000 / columns);
}

function transpose(columns: readonly Column[], rows: readonly (readonly unknown[])[]): unknown[][] {
  return columns.map((_, i) => rows.map((r) => r[i] ?? null));
}

/** INSERT of many rows. */
export async function insertRows(trx: Knex.Transaction, table: string, columns: readonly Column[], rows: readonly (readonly unknown[])[]): Promise<void> {
  if (rows.length === 0) return;
  const names = columns.map((c) => c.name).join(', ');
  if (dialectOf(trx) === 'sqlite') {
    // A column with one value in every row (the batch's terminal, cinema, time, kind …) is bound
    // once in a SELECT over the VALUES of the others: fewer values to convert and to parse.
    const first = rows[0]!;
    const varying = columns.map((_, c) => rows.some((r) => (r[c] ?? null) !== (first[c] ?? null)));
    const vary = varying.filter(Boolean).length;
    if (rows.length > 1 && vary > 0 && vary < columns.length) {
      let k = 0;
      const select = varying.map((v) => (v ? `column${++k}` : '?')).join(', ');
      const constants = columns.map((_, c) => first[c] ?? null).filter((_, c) => !varying[c]);
      const one = `(${Array.from({ length: vary }, () => '?').join(', ')})`;
      const size = sqliteChunk(vary);
      for (let i = 0; i < rows.length; i += size) {
        const chunk = rows.slice(i, i + size);
        const params = [...constants];
        for (const r of chunk) for (let c = 0; c < columns.length; c++) if (varying[c]) params.push(r[c] ?? null);
        await sqliteRun(trx, `INSERT INTO ${table} (${names}) SELECT ${select} FROM (VALUES ${chunk.map(() => one).join(', ')})`, params);
      }
      return;
    }
    const one = `(${columns.map(() => '?').join(', ')})`;
    for (let i = 0; i < rows.length; i += sqliteChunk(columns.length)) {
      const chunk = rows.slice(i, i + sqliteChunk(columns.length));
      await sqliteRun(trx, `INSERT INTO ${table} (${names}) VALUES ${chunk.map(() => one).join(', ')}`, chunk.flat());
    }
    return;
  }
  const conn = await connectionOf<PgConnection>(trx);
  const arrays = columns.map((c, i) => `$${i + 1}::${c.pg}[]`).join(', ');
  await conn.query(`INSERT INTO ${table} (${names}) SELECT * FROM unnest(${arrays})`, transpose(columns, rows));
}

/** UPDATE of many rows by a key column: `rows` are `[key, ...values of columns]`. */
export async function updateRows(
  trx: Knex.Transaction,
  table: string,
  key: Column,
  columns: readonly Column[],
  rows: readonly (readonly unknown[])[],
): Promise<void> {
  if (rows.length === 0) return;
  if (dialectOf(trx) === 'sqlite') {
    const all = [key, ...columns];
    const one = `(${all.map(() => '?').join(', ')})`;
    const sets = columns.map((c) => `${c.name} = v.${c.name}`).join(', ');
    for (let i = 0; i < rows.length; i += sqliteChunk(all.length)) {
      const chunk = rows.slice(i, i + sqliteChunk(all.length));
      await sqliteRun(
        trx,
        `WITH v(${all.map((c) => c.name).join(', ')}) AS (VALUES ${chunk.map(() => one).join(', ')}) UPDATE ${table} SET ${sets} FROM v WHERE ${table}.${key.name} = v.${key.name}`,
        chunk.flat(),
      );
    }
    return;
  }
  const all = [key, ...columns];
  const conn = await connectionOf<PgConnection>(trx);
  const arrays = all.map((c, i) => `$${i + 1}::${c.pg}[]`).join(', ');
  const sets = columns.map((c) => `${c.name} = u.${c.name}`).join(', ');
  await conn.query(
    `UPDATE ${table} AS t SET ${sets} FROM unnest(${arrays}) AS u(${all.map((c) => c.name).join(', ')}) WHERE t.${key.name} = u.${key.name}`,
    transpose(all, rows),
  );
}

/** SELECT … WHERE key IN (…) of many keys; PostgreSQL locks the rows (FOR UPDATE) in key order. */
export async function selectByKeys<T>(trx: Knex.Transaction, table: string, key: string, keys: readonly string[]): Promise<T[]> {
  if (keys.length === 0) return [];
  const sorted = [...keys].sort();
  if (dialectOf(trx) === 'sqlite') {
    const out: T[] = [];
    for (let i = 0; i < sorted.length; i += 30_000) {
      const chunk = sorted.slice(i, i + 30_000);
      const conn = await connectionOf<SqliteConnection>(trx);
      const rows = await new Promise<unknown[]>((resolve, reject) =>
        conn.all(`SELECT * FROM ${table} WHERE ${key} IN (${chunk.map(() => '?').join(', ')}) ORDER BY ${key}`, chunk, (err, r) => (err ? reject(err) : resolve(r))),
      );
      out.push(...(rows as T[]));
    }
    return out;
  }
  const conn = await connectionOf<PgConnection>(trx);
  const { rows } = await conn.query(`SELECT * FROM ${table} WHERE ${key} = ANY($1::text[]) ORDER BY ${key} FOR UPDATE`, [sorted]);
  return rows as T[];
}
