/**
 * The ingest hot path's writes (DESIGN §7: few writes per op, multi-row statements): one
 * statement per table for the whole batch — SQLite the rows as ONE bound JSON text that SQLite
 * unpacks itself (`json_each`), PostgreSQL rows as arrays through `unnest`. Both run on the caller's
 * knex transaction. knex stays for the rest.
 *
 * Why JSON on SQLite: node-sqlite3 converts every bound value on the event loop, and with a 500-op
 * batch that is thousands of values per statement while the other batches wait for the same loop;
 * one `JSON.stringify` is a fraction of that, and the unpacking runs on the driver's thread beside
 * it (measured: 500-row inserts in half the wall time, less CPU in all). JSON keeps the types a
 * binding would give (numbers INTEGER/REAL, strings TEXT, null NULL).
 */
import type { Knex } from 'knex';
import { dialectOf } from '../store/database.ts';

/** A column and its PostgreSQL array element type (for `unnest($n::type[])`). */
export interface Column {
  readonly name: string;
  readonly pg: 'uuid' | 'text' | 'int4' | 'int8';
}

interface SqliteConnection {
  exec(sql: string, cb: (err: Error | null) => void): void;
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

/**
 * One statement straight to the driver, `?` placeholders (PostgreSQL gets `$n`): for the hot path's
 * small statements, where knex's query building and connection bookkeeping cost more than the
 * statement. Returns the rows (none for a write without RETURNING).
 */
export async function sqlQuery<T>(trx: Knex.Transaction, sql: string, params: readonly unknown[] = []): Promise<T[]> {
  const values = params.map((v) => (v === undefined ? null : v));
  if (dialectOf(trx) === 'sqlite') {
    const conn = await connectionOf<SqliteConnection>(trx);
    return new Promise<T[]>((resolve, reject) => conn.all(sql, values, (err, rows) => (err ? reject(err) : resolve(rows as T[]))));
  }
  let n = 0;
  const conn = await connectionOf<PgConnection>(trx);
  return (await conn.query(sql.replace(/\?/g, () => `$${++n}`), values)).rows as T[];
}

/** Rows per SQLite statement (one JSON text each): bounds the text, not the statement count. */
const sqliteChunk = 5000;

/** `value->>0, value->>1, …`: the fields of each JSON array `json_each` yields. */
function jsonFields(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `value->>${i}`);
}

function transpose(columns: readonly Column[], rows: readonly (readonly unknown[])[]): unknown[][] {
  return columns.map((_, i) => rows.map((r) => r[i] ?? null));
}

/** A SQLite statement and its values for `?`. */
export interface Statement {
  readonly sql: string;
  readonly params: readonly unknown[];
}

/** SQLite: the INSERT statements of many rows (one per {@link sqliteChunk} rows). */
function sqliteInserts(table: string, columns: readonly Column[], rows: readonly (readonly unknown[])[]): Statement[] {
  if (rows.length === 0) return [];
  const names = columns.map((c) => c.name).join(', ');
  // A column with one value in every row (the batch's terminal, cinema, time, kind …) is bound
  // once; the others travel in the JSON.
  const first = rows[0]!;
  const varying = columns.map((_, c) => rows.length === 1 || rows.some((r) => (r[c] ?? null) !== (first[c] ?? null)));
  const fields = jsonFields(varying.filter(Boolean).length);
  let k = 0;
  const select = varying.map((v) => (v ? fields[k++] : '?')).join(', ');
  const constants = columns.map((_, c) => first[c] ?? null).filter((_, c) => !varying[c]);
  const sql = `INSERT INTO ${table} (${names}) SELECT ${select} FROM json_each(?)`;
  const picked = varying.flatMap((v, c) => (v ? [c] : []));
  const statements: Statement[] = [];
  for (let i = 0; i < rows.length; i += sqliteChunk) {
    const chunk: unknown[][] = [];
    for (const r of rows.slice(i, i + sqliteChunk)) {
      const out: unknown[] = new Array(picked.length);
      for (let f = 0; f < picked.length; f++) out[f] = r[picked[f]!] ?? null;
      chunk.push(out);
    }
    statements.push({ sql, params: [...constants, JSON.stringify(chunk)] });
  }
  return statements;
}

/** SQLite: the UPDATE statements of many rows by a key column (`rows`: `[key, ...values of columns]`). */
function sqliteUpdates(table: string, key: Column, columns: readonly Column[], rows: readonly (readonly unknown[])[]): Statement[] {
  if (rows.length === 0) return [];
  const all = [key, ...columns];
  const fields = jsonFields(all.length);
  const sets = columns.map((c) => `${c.name} = v.${c.name}`).join(', ');
  const sql = `WITH v(${all.map((c) => c.name).join(', ')}) AS (SELECT ${fields.join(', ')} FROM json_each(?)) UPDATE ${table} SET ${sets} FROM v WHERE ${table}.${key.name} = v.${key.name}`;
  const statements: Statement[] = [];
  for (let i = 0; i < rows.length; i += sqliteChunk) {
    statements.push({ sql, params: [JSON.stringify(rows.slice(i, i + sqliteChunk).map((r) => all.map((_, c) => r[c] ?? null)))] });
  }
  return statements;
}

/** A value as a SQLite literal: text quoted (quotes doubled), numbers as they are, null as NULL. */
function sqliteLiteral(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`not a finite number: ${value}`);
    return String(value);
  }
  if (typeof value === 'boolean') return value ? '1' : '0';
  if (typeof value === 'string') {
    // SQLite text literals end only at a quote; NUL would cut the statement short.
    if (value.includes('\u0000')) throw new TypeError('a text value holds NUL');
    return `'${value.replaceAll("'", "''")}'`;
  }
  throw new TypeError(`no SQLite literal for ${typeof value}`);
}

/**
 * SQLite statements run as ONE script (`exec`) on the transaction's connection, their values
 * inlined as literals (the rows as one JSON text each): SQLite runs them back to back on the
 * driver's thread, with no turn of this thread between them — the ingest's group writes while the
 * next batches are applied. Only for SQL this module and its callers generate (every `?` in it
 * is a placeholder).
 */
export class SqliteScript {
  private readonly parts: string[] = [];

  add(...statements: readonly Statement[]): this {
    for (const { sql, params } of statements) {
      let i = 0;
      const text = sql.replace(/\?/g, () => {
        if (i >= params.length) throw new Error(`too few values for: ${sql.slice(0, 80)}`);
        return sqliteLiteral(params[i++]);
      });
      if (i !== params.length) throw new Error(`too many values for: ${sql.slice(0, 80)}`);
      this.parts.push(text);
    }
    return this;
  }

  insert(table: string, columns: readonly Column[], rows: readonly (readonly unknown[])[]): this {
    return this.add(...sqliteInserts(table, columns, rows));
  }

  update(table: string, key: Column, columns: readonly Column[], rows: readonly (readonly unknown[])[]): this {
    return this.add(...sqliteUpdates(table, key, columns, rows));
  }

  get empty(): boolean {
    return this.parts.length === 0;
  }

  async run(trx: Knex.Transaction): Promise<void> {
    if (this.parts.length === 0) return;
    await sqliteExec(await connectionOf(trx), this.parts.join(';\n'));
  }
}

/** SQL without values (one or more statements) straight on a node-sqlite3 connection. */
export function sqliteExec(connection: unknown, sql: string): Promise<void> {
  return new Promise((resolve, reject) => (connection as SqliteConnection).exec(sql, (err) => (err ? reject(err) : resolve())));
}

/** INSERT of many rows. */
export async function insertRows(trx: Knex.Transaction, table: string, columns: readonly Column[], rows: readonly (readonly unknown[])[]): Promise<void> {
  if (rows.length === 0) return;
  const names = columns.map((c) => c.name).join(', ');
  if (dialectOf(trx) === 'sqlite') {
    for (const { sql, params } of sqliteInserts(table, columns, rows)) await sqliteRun(trx, sql, [...params]);
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
    for (const { sql, params } of sqliteUpdates(table, key, columns, rows)) await sqliteRun(trx, sql, [...params]);
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
    const conn = await connectionOf<SqliteConnection>(trx);
    const rows = await new Promise<unknown[]>((resolve, reject) =>
      conn.all(`SELECT * FROM ${table} WHERE ${key} IN (SELECT value FROM json_each(?)) ORDER BY ${key}`, [JSON.stringify(sorted)], (err, r) =>
        err ? reject(err) : resolve(r),
      ),
    );
    return rows as T[];
  }
  const conn = await connectionOf<PgConnection>(trx);
  const { rows } = await conn.query(`SELECT * FROM ${table} WHERE ${key} = ANY($1::text[]) ORDER BY ${key} FOR UPDATE`, [sorted]);
  return rows as T[];
}
