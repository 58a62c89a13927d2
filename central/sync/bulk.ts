/**
 * The ingest hot path's writes (DESIGN §7: few writes per op, prepared or multi-row statements):
 * SQLite runs one prepared statement per table reused for every row of the batch; PostgreSQL sends
 * one statement per table for the whole batch, rows as arrays through `unnest`. Both run on the
 * connection of the caller's knex transaction. knex stays for everything else.
 */
import type { Knex } from 'knex';
import { dialectOf } from '../store/database.ts';

/** A column and its PostgreSQL array element type (for `unnest($n::type[])`). */
export interface Column {
  readonly name: string;
  readonly pg: 'uuid' | 'text' | 'int4' | 'int8';
}

interface SqliteStatement {
  run(params: unknown[], cb: (err: Error | null) => void): void;
  finalize(cb: (err: Error | null) => void): void;
}
interface SqliteConnection {
  prepare(sql: string, cb: (err: Error | null) => void): SqliteStatement;
}
interface PgConnection {
  query(sql: string, values: unknown[]): Promise<{ rows: unknown[] }>;
}

async function connectionOf<T>(trx: Knex.Transaction): Promise<T> {
  // Inside a transaction knex hands out the transaction's own connection and never releases it.
  return (await (trx.client as unknown as { acquireConnection(): Promise<T> }).acquireConnection()) as T;
}

async function runPrepared(trx: Knex.Transaction, sql: string, rows: readonly (readonly unknown[])[]): Promise<void> {
  const conn = await connectionOf<SqliteConnection>(trx);
  const stmt = await new Promise<SqliteStatement>((resolve, reject) => {
    const s = conn.prepare(sql, (err) => (err ? reject(err) : resolve(s)));
  });
  try {
    // Queued back to back: node-sqlite3 runs them in order on its worker without waiting on us.
    await Promise.all(rows.map((row) => new Promise<void>((resolve, reject) => stmt.run(row as unknown[], (err) => (err ? reject(err) : resolve())))));
  } finally {
    await new Promise<void>((resolve) => stmt.finalize(() => resolve()));
  }
}

function transpose(columns: readonly Column[], rows: readonly (readonly unknown[])[]): unknown[][] {
  return columns.map((_, i) => rows.map((r) => r[i] ?? null));
}

/** INSERT of many rows. */
export async function insertRows(trx: Knex.Transaction, table: string, columns: readonly Column[], rows: readonly (readonly unknown[])[]): Promise<void> {
  if (rows.length === 0) return;
  const names = columns.map((c) => c.name).join(', ');
  if (dialectOf(trx) === 'sqlite') {
    await runPrepared(trx, `INSERT INTO ${table} (${names}) VALUES (${columns.map(() => '?').join(', ')})`, rows);
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
    const sets = columns.map((c) => `${c.name} = ?`).join(', ');
    await runPrepared(trx, `UPDATE ${table} SET ${sets} WHERE ${key.name} = ?`, rows.map((r) => [...r.slice(1), r[0]]));
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
