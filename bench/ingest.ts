/**
 * `npm run bench -- ingest` (DESIGN §7): 50 terminals upload their outboxes concurrently (batches
 * of 500 redemptions over HTTP) into central on SQLite and on PostgreSQL; ops/s beside a raw batch
 * insert of the same ledger rows, in the same run, on the same database. Budget: ≥ 20,000 ops/s
 * (SQLite), ≥ 15,000 (PostgreSQL), and ≥ 0.5 × raw.
 *
 * "Raw batch insert" is one multi-row INSERT per 500 rows, in a transaction per batch, through the
 * bare driver (node-sqlite3 / pg), into a copy of the ledger table as the migrations make it: the
 * same columns, primary key, indexes and foreign key to the cards — what storing these rows costs
 * the database at the least. Beside it, for information: the same insert into a bare table with
 * only the primary key and the (card, seq) key, and (SQLite) a prepared single-row statement
 * reused for all 500 rows.
 *
 * The central child's CPU time per op (all its threads, from /proc) is reported beside: on a
 * machine shared with other work it moves far less than the rates. Env knobs: BENCH_INGEST_TERMINALS,
 * BENCH_INGEST_OPS (per terminal), BENCH_INGEST_DIALECTS (sqlite,postgres).
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import sqlite3 from 'sqlite3';
import { v7 } from 'uuid';
import type { Schemas } from '../central/client/index.ts';
import { sqliteFileName, type Dialect } from '../central/store/database.ts';
import { round, type BenchRow } from './report.ts';
import { syncBench, type BenchTerminal } from './sync-setup.ts';

const TERMINALS = Number(process.env['BENCH_INGEST_TERMINALS'] ?? 50);
const OPS_PER_TERMINAL = Number(process.env['BENCH_INGEST_OPS'] ?? 2000);
const CARDS_PER_TERMINAL = 200;
const BATCH = 500;

type WireOp = Schemas['SyncOp'];

/** Each terminal redeems its own cards in seq order (no gaps), round-robin. */
function outbox(t: BenchTerminal, cards: readonly string[]): WireOp[] {
  const seqs = new Map<string, number>();
  const ops: WireOp[] = [];
  for (let i = 0; i < OPS_PER_TERMINAL; i++) {
    const cardNo = cards[i % cards.length]!;
    const seq = (seqs.get(cardNo) ?? 2) + 1;
    seqs.set(cardNo, seq);
    const op = {
      opId: v7(), termSeq: i + 1, terminalId: t.terminalId, cinemaId: t.cinemaId, kind: 'redeem', cardNo, cardSeq: seq, cardUid: null,
      operatorId: 'cashier-1', consumption: 'ticket' as const, uses: 1, remainingAfter: 1000 - (seq - 2), deviceTime: new Date().toISOString(), payload: '{"amountFen":3500}',
    };
    ops.push({ ...op, hash: createHash('sha256').update(JSON.stringify(op)).digest('hex') });
  }
  return ops;
}

async function upload(url: string, t: BenchTerminal, ops: readonly WireOp[]): Promise<void> {
  for (let i = 0; i < ops.length; i += BATCH) {
    const body = JSON.stringify({ ops: ops.slice(i, i + BATCH), deviceTime: new Date().toISOString() });
    const res = await fetch(`${url}/v1/sync/batches`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${t.token}` }, body });
    const result = (await res.json()) as Schemas['SyncBatchResult'];
    if (!res.ok || result.results.some((r) => r.outcome !== 'applied')) throw new Error(`upload refused: ${res.status} ${JSON.stringify(result).slice(0, 300)}`);
  }
}

const rawColumns = [
  'op_id', 'card_no', 'seq', 'kind', 'uses_delta', 'remaining_after', 'consumption_type', 'amount_fen', 'cinema_id', 'terminal_id',
  'user_id', 'cashier', 'occurred_at', 'recorded_at', 'content_hash', 'status', 'anomaly', 'issue_epoch', 'term_seq',
];
function rawRows(all: WireOp[]): unknown[][] {
  const now = new Date().toISOString();
  return all.map((o) => [v7(), o.cardNo, o.cardSeq, 'redeem', -1, o.remainingAfter, 'ticket', 3500, o.cinemaId, o.terminalId, null, o.operatorId, o.deviceTime, now, o.hash, 'applied', null, 1, o.termSeq]);
}

/** A table with only the primary key and the (card, seq) key (the informational bare row). */
const bareTable = (name: string) => `CREATE TABLE ${name} (
  op_id uuid PRIMARY KEY, card_no varchar(32) NOT NULL, seq integer NOT NULL, kind varchar(16) NOT NULL, uses_delta integer NOT NULL,
  remaining_after integer NOT NULL, consumption_type varchar(16), amount_fen integer, cinema_id uuid, terminal_id uuid, user_id uuid,
  cashier varchar(64), occurred_at varchar(24) NOT NULL, recorded_at varchar(24) NOT NULL, content_hash varchar(64) NOT NULL,
  status varchar(16) NOT NULL, anomaly varchar(32), issue_epoch integer NOT NULL, term_seq integer, UNIQUE (card_no, seq))`;

function run(db: sqlite3.Database, sql: string, params: unknown[] = []): Promise<void> {
  return new Promise((resolve, reject) => db.run(sql, params, (err) => (err ? reject(err) : resolve())));
}

/** The ledger table's own DDL (table and indexes, from the migrated schema) for a copy named `name`. */
async function ledgerCopySqlite(db: sqlite3.Database, name: string): Promise<string[]> {
  const rows = await new Promise<{ type: string; sql: string | null }[]>((resolve, reject) =>
    db.all(`SELECT type, sql FROM sqlite_master WHERE tbl_name = 'ledger_entries' AND sql IS NOT NULL ORDER BY type DESC`, (err, r) => (err ? reject(err) : resolve(r as never))),
  );
  if (!rows.some((r) => r.type === 'table')) throw new Error('ledger_entries is not in the schema');
  // Table first (ORDER BY type DESC), then its indexes, each renamed.
  return rows.map((r) => r.sql!.replace(/`ledger_entries([`_])/g, `\`${name}$1`).replace(/ledger_entries_/g, `${name}_`));
}

async function rawSqlite(file: string, rows: unknown[][]): Promise<{ batch: number; bare: number; prepared: number }> {
  const db = new sqlite3.Database(file);
  await run(db, 'PRAGMA journal_mode = WAL');
  await run(db, 'PRAGMA synchronous = NORMAL');
  await run(db, 'PRAGMA foreign_keys = ON'); // as central's connections have it
  const measure = async (table: string, ddl: string[], insert: (chunk: unknown[][]) => Promise<void>) => {
    for (const sql of ddl) await run(db, sql);
    const start = process.hrtime.bigint();
    for (let i = 0; i < rows.length; i += BATCH) {
      await run(db, 'BEGIN IMMEDIATE');
      await insert(rows.slice(i, i + BATCH));
      await run(db, 'COMMIT');
    }
    return rows.length / (Number(process.hrtime.bigint() - start) / 1e9);
  };
  const one = `(${rawColumns.map(() => '?').join(', ')})`;
  const multiRow = (table: string) => (chunk: unknown[][]) => run(db, `INSERT INTO ${table} (${rawColumns.join(', ')}) VALUES ${chunk.map(() => one).join(', ')}`, chunk.flat());
  const batch = await measure('bench_raw_ledger', await ledgerCopySqlite(db, 'bench_raw_ledger'), multiRow('bench_raw_ledger'));
  const bare = await measure('bench_raw_bare', [bareTable('bench_raw_bare')], multiRow('bench_raw_bare'));
  const prepared = await measure('bench_raw_prepared', await ledgerCopySqlite(db, 'bench_raw_prepared'), async (chunk) => {
    const stmt = db.prepare(`INSERT INTO bench_raw_prepared (${rawColumns.join(', ')}) VALUES ${one}`);
    await Promise.all(chunk.map((r) => new Promise<void>((resolve, reject) => stmt.run(r, (err: Error | null) => (err ? reject(err) : resolve())))));
    await new Promise<void>((resolve) => stmt.finalize(() => resolve()));
  });
  await new Promise<void>((resolve) => db.close(() => resolve()));
  return { batch, bare, prepared };
}

async function rawPostgres(url: string, rows: unknown[][]): Promise<{ batch: number; bare: number }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const measure = async (table: string, ddl: string[]) => {
    for (const sql of ddl) await client.query(sql);
    const start = process.hrtime.bigint();
    for (let i = 0; i < rows.length; i += BATCH) {
      const chunk = rows.slice(i, i + BATCH);
      await client.query('BEGIN');
      const values = chunk.map((_, r) => `(${rawColumns.map((__, c) => `$${r * rawColumns.length + c + 1}`).join(', ')})`).join(', ');
      await client.query(`INSERT INTO ${table} (${rawColumns.join(', ')}) VALUES ${values}`, chunk.flat());
      await client.query('COMMIT');
    }
    return rows.length / (Number(process.hrtime.bigint() - start) / 1e9);
  };
  // A copy of the ledger table: its columns, keys and indexes (LIKE … INCLUDING ALL), and its foreign key.
  const batch = await measure('bench_raw_ledger', [
    'CREATE TABLE bench_raw_ledger (LIKE ledger_entries INCLUDING ALL)',
    'ALTER TABLE bench_raw_ledger ADD FOREIGN KEY (card_no) REFERENCES cards (card_no)',
  ]);
  const bare = await measure('bench_raw_bare', [bareTable('bench_raw_bare')]);
  await client.end();
  return { batch, bare };
}

async function measure(dialect: Dialect): Promise<BenchRow[]> {
  const bench = await syncBench(dialect);
  try {
    const terminals = await bench.enrol(TERMINALS);
    const cards = await bench.soldCards(TERMINALS * CARDS_PER_TERMINAL, 1000);
    const outboxes = terminals.map((t, i) => outbox(t, cards.slice(i * CARDS_PER_TERMINAL, (i + 1) * CARDS_PER_TERMINAL)));
    await bench.serve();
    const total = TERMINALS * OPS_PER_TERMINAL;
    const cpuBefore = bench.childCpuMs();
    const start = process.hrtime.bigint();
    await Promise.all(terminals.map((t, i) => upload(bench.url, t, outboxes[i]!)));
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const cpuAfter = bench.childCpuMs();
    const ingest = total / seconds;
    const rows = rawRows(outboxes.flat());
    const budget = dialect === 'sqlite' ? 20_000 : 15_000;
    const extra: BenchRow[] = [];
    const r: { batch: number; bare: number; prepared?: number } = dialect === 'sqlite' ? await rawSqlite(join(bench.config.dataDir, sqliteFileName), rows) : await rawPostgres(bench.config.databaseUrl!, rows);
    const raw = r.batch;
    extra.push({ name: `ingest ${dialect}: raw batch insert, bare table (info)`, value: round(r.bare, 0), unit: 'rows/s', budget: '—', baseline: null, ok: null });
    extra.push({ name: `ingest ${dialect}: ingest / raw bare table (info)`, value: round(ingest / r.bare), unit: '×', budget: '—', baseline: round(r.bare, 0), ok: null });
    if (r.prepared !== undefined) {
      extra.push({ name: `ingest ${dialect}: raw prepared single-row insert (info)`, value: round(r.prepared, 0), unit: 'rows/s', budget: '—', baseline: null, ok: null });
      extra.push({ name: `ingest ${dialect}: ingest / raw prepared (info)`, value: round(ingest / r.prepared), unit: '×', budget: '—', baseline: round(r.prepared, 0), ok: null });
    }
    // What central spends per op, whatever else the machine runs meanwhile (every thread of the
    // child: the event loop and the driver's; PostgreSQL's own processes are not counted).
    if (cpuBefore !== undefined && cpuAfter !== undefined) {
      extra.push({ name: `ingest ${dialect}: central CPU per op (info)`, value: round(((cpuAfter - cpuBefore) * 1000) / total, 1), unit: 'µs', budget: '—', baseline: null, ok: null });
    }
    return [
      { name: `ingest ${dialect}: ${TERMINALS} terminals, ${total} ops`, value: round(ingest, 0), unit: 'ops/s', budget: `≥ ${budget}`, baseline: round(raw, 0), ok: ingest >= budget },
      { name: `ingest ${dialect}: raw batch insert, same rows, ledger's table`, value: round(raw, 0), unit: 'rows/s', budget: '—', baseline: null, ok: null },
      { name: `ingest ${dialect}: ingest / raw batch insert`, value: round(ingest / raw), unit: '×', budget: '≥ 0.5', baseline: round(raw, 0), ok: ingest / raw >= 0.5 },
      ...extra,
    ];
  } finally {
    await bench.close();
  }
}

export async function ingestBench(): Promise<BenchRow[]> {
  const dialects = (process.env['BENCH_INGEST_DIALECTS'] ?? 'sqlite,postgres').split(',') as Dialect[];
  const rows: BenchRow[] = [];
  for (const d of dialects) rows.push(...(await measure(d)));
  return rows;
}

