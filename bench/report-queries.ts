/**
 * `npm run bench -- report` (DESIGN §7: settlement / statistics over 10 M ops ≤ 200 ms, read from
 * rollups). A scratch database per dialect is filled straight in SQL (PostgreSQL: generate_series;
 * SQLite: a recursive CTE) with a year of redemptions — 20 cinemas, 5 card types, 7 cashiers,
 * tickets and concessions, 200,000 cards — the daily rollup is built from it by `rebuildRollups`
 * (timed, informational), and then each report is timed through `Statistics` (the code the API
 * routes call) beside the raw GROUP BY over the op table that answers the same question, measured
 * in the same run. Values are medians of several runs after a warm-up. Timing never fails the run.
 *
 * BENCH_REPORT_OPS (default 10,000,000) sets the op count on both databases; BENCH_REPORT_SQLITE_OPS
 * overrides it for SQLite; BENCH_REPORT_DATABASES (default `postgres,sqlite`) picks the databases. Whatever the count, the ops span the same year, so the rollup (and so
 * the rollup's timings) is that of a year of a 20-cinema chain; only the raw GROUP BYs shrink.
 */
import { v7 } from 'uuid';
import type { Knex } from 'knex';
import { createDatabase, dialectOf, type Dialect } from '../central/store/database.ts';
import { migrateToLatest } from '../central/store/migration-source.ts';
import { testDatabases } from '../central/test-support/databases.ts';
import { readRollups, rebuildRollups } from '../central/reports/rollups.ts';
import { Statistics } from '../central/reports/statistics.ts';
import { pricesFromTheBeginning } from '../central/card-types/card-type-prices.ts';
import { localDaySql, offsetSegments } from '../central/reports/chain-calendar.ts';
import { msSince, percentile, round, type BenchRow } from './report.ts';

const OPS = Number(process.env['BENCH_REPORT_OPS'] ?? 10_000_000);
const SQLITE_OPS = Number(process.env['BENCH_REPORT_SQLITE_OPS'] ?? OPS);
const CINEMAS = 20;
const TYPES = 5;
const CARDS = 200_000;
const CASHIERS = 7;
/** Ops span about 347 days whatever their count (10 M ops 3 s apart), so the rollup is a year's. */
const SPAN_SECONDS = 30_000_000;
const START = Date.parse('2025-01-01T00:00:00.000Z');
const RUNS = 7;
const BUDGET_MS = 200;
const zone = 'Asia/Shanghai';

const log = (line: string) => process.stderr.write(`[bench report] ${line}\n`);

interface Seeded {
  readonly cinemas: string[];
  readonly types: string[];
}

async function seedReference(db: Knex): Promise<Seeded> {
  const at = new Date(START).toISOString();
  const cinemas = Array.from({ length: CINEMAS }, () => v7());
  const types = Array.from({ length: TYPES }, () => v7());
  await db('cinemas').insert(cinemas.map((id, i) => ({ id, code: `B${String(i).padStart(2, '0')}`, name: `Bench cinema ${i}`, created_at: at, updated_at: at })));
  await db('card_types').insert(
    types.map((id, i) => ({
      id, name: `Bench type ${i}`, uses_per_card: 1000, settlement_price_fen: 2500 + 500 * i, concession_value_fen: 1000, validity_days: 365, created_at: at, updated_at: at,
    })),
  );
  // Prices as the service keeps them: every type's first prices from the beginning; two types change
  // price during the year, so the year's settlement is cut in three and priced per part.
  await db('card_type_prices').insert(
    types.flatMap((id, i) => {
      const first = { card_type_id: id, effective_from: pricesFromTheBeginning, settlement_price_fen: 2500 + 500 * i, sale_price_fen: null, changed_at: at };
      const changed = i < 2 ? [{ ...first, effective_from: i === 0 ? '2025-04-15' : '2025-09-01', settlement_price_fen: 2600 + 500 * i }] : [];
      return [first, ...changed];
    }),
  );
  await db('card_types').whereIn('id', types.slice(0, 2)).update({ settlement_price_fen: db.raw('settlement_price_fen + 100') });
  const batch = v7();
  await db('card_batches').insert({ id: batch, card_type_id: types[0], card_count: CARDS, made_by_user_id: null, made_at: at });
  return { cinemas, types, batch } as Seeded & { batch: string };
}

/** Cards `B0000000000`…; card i has type i % TYPES, sold at cinema i % CINEMAS. */
async function seedPostgres(db: Knex, s: Seeded & { batch?: string }, ops: number): Promise<void> {
  const cinemas = `ARRAY[${s.cinemas.map((c) => `'${c}'`).join(',')}]::uuid[]`;
  const types = `ARRAY[${s.types.map((c) => `'${c}'`).join(',')}]::uuid[]`;
  const at = new Date(START).toISOString();
  await db.raw(`INSERT INTO cards (card_no, uid, card_type_id, batch_id, state, blacklist_reason, blacklisted_at, issue_epoch, issue_from_seq, issued_at, issued_uses, remaining_uses, applied_seq, max_seq, expires_at, cinema_id, activated_at, recycled_at, recycled_reason, recycled_cinema_id, made_at, updated_at) SELECT 'B' || lpad(g::text, 10, '0'), lpad(to_hex(g), 14, '0'), (${types})[1 + g % ${TYPES}], ?, 'active', NULL, NULL, 1, 2, ?, 1000,
      1000 - (? / ${CARDS}), 2, 2, '2027-01-01T00:00:00.000Z', (${cinemas})[1 + g % ${CINEMAS}], ?, NULL, NULL, NULL, ?, ? FROM generate_series(0, ${CARDS - 1}) g`, [
    (s as { batch: string }).batch, at, ops, at, at, at,
  ]);
  await db.raw(`INSERT INTO card_issues (card_no, epoch, from_seq, card_type_id, cinema_id, uses, issued_at, issued_by_user_id, issued_by_terminal_id) SELECT card_no, 1, 2, card_type_id, cinema_id, 1000, ?, NULL, NULL FROM cards`, [at]);
  const chunk = 1_000_000;
  for (let from = 0; from < ops; from += chunk) {
    const to = Math.min(ops, from + chunk) - 1;
    await db.raw(`INSERT INTO ledger_entries (op_id, card_no, seq, kind, uses_delta, remaining_after, consumption_type, amount_fen, cinema_id, terminal_id, user_id, cashier, occurred_at, recorded_at, content_hash, status, anomaly, issue_epoch)
      SELECT gen_random_uuid(), 'B' || lpad((g % ${CARDS})::text, 10, '0'), 3 + g / ${CARDS}, 'redeem', -1, 999 - g / ${CARDS},
        CASE WHEN g % 3 = 0 THEN 'concession' ELSE 'ticket' END, 3500, (${cinemas})[1 + (g / 7) % ${CINEMAS}], NULL, NULL, 'cashier-' || (g % ${CASHIERS}),
        to_char(timestamp '2025-01-01' + g * interval '${SPAN_SECONDS / ops} seconds', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        to_char(timestamp '2025-01-01' + g * interval '${SPAN_SECONDS / ops} seconds', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        md5(g::text), 'applied', NULL, 1
      FROM generate_series(${from}, ${to}) g`);
    log(`postgres: ${to + 1} ops`);
  }
  await db.raw('ANALYZE');
}

async function seedSqlite(db: Knex, s: Seeded & { batch?: string }, ops: number): Promise<void> {
  const at = new Date(START).toISOString();
  await db.raw('PRAGMA foreign_keys = OFF');
  await db.raw('CREATE TEMP TABLE bench_ids (kind TEXT, i INTEGER, id TEXT, PRIMARY KEY (kind, i))');
  await db('bench_ids').insert([...s.cinemas.map((id, i) => ({ kind: 'c', i, id })), ...s.types.map((id, i) => ({ kind: 't', i, id }))]);
  await db.raw(`WITH RECURSIVE g(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM g WHERE x < ${CARDS - 1})
    INSERT INTO cards (card_no, uid, card_type_id, batch_id, state, blacklist_reason, blacklisted_at, issue_epoch, issue_from_seq, issued_at, issued_uses, remaining_uses, applied_seq, max_seq, expires_at, cinema_id, activated_at, recycled_at, recycled_reason, recycled_cinema_id, made_at, updated_at) SELECT printf('B%010d', x), printf('%014X', x), (SELECT id FROM bench_ids WHERE kind = 't' AND i = x % ${TYPES}), ?, 'active', NULL, NULL, 1, 2, ?, 1000,
      1000 - (? / ${CARDS}), 2, 2, '2027-01-01T00:00:00.000Z', (SELECT id FROM bench_ids WHERE kind = 'c' AND i = x % ${CINEMAS}), ?, NULL, NULL, NULL, ?, ? FROM g`, [
    (s as { batch: string }).batch, at, ops, at, at, at,
  ]);
  await db.raw(`INSERT INTO card_issues (card_no, epoch, from_seq, card_type_id, cinema_id, uses, issued_at, issued_by_user_id, issued_by_terminal_id) SELECT card_no, 1, 2, card_type_id, cinema_id, 1000, ?, NULL, NULL FROM cards`, [at]);
  const startSeconds = START / 1000;
  const chunk = 1_000_000;
  for (let from = 0; from < ops; from += chunk) {
    const to = Math.min(ops, from + chunk) - 1;
    await db.transaction(async (trx) => {
      await trx.raw(`WITH RECURSIVE g(x) AS (SELECT ${from} UNION ALL SELECT x + 1 FROM g WHERE x < ${to})
        INSERT INTO ledger_entries (op_id, card_no, seq, kind, uses_delta, remaining_after, consumption_type, amount_fen, cinema_id, terminal_id, user_id, cashier, occurred_at, recorded_at, content_hash, status, anomaly, issue_epoch) SELECT printf('00000000-0000-7000-8000-%012d', x), printf('B%010d', x % ${CARDS}), 3 + x / ${CARDS}, 'redeem', -1, 999 - x / ${CARDS},
          CASE WHEN x % 3 = 0 THEN 'concession' ELSE 'ticket' END, 3500, (SELECT id FROM bench_ids WHERE kind = 'c' AND i = (x / 7) % ${CINEMAS}), NULL, NULL, 'cashier-' || (x % ${CASHIERS}),
          strftime('%Y-%m-%dT%H:%M:%fZ', ${startSeconds} + x * ${SPAN_SECONDS / ops}, 'unixepoch'), strftime('%Y-%m-%dT%H:%M:%fZ', ${startSeconds} + x * ${SPAN_SECONDS / ops}, 'unixepoch'),
          printf('%064d', x), 'applied', NULL, 1
        FROM g`);
    });
    log(`sqlite: ${to + 1} ops`);
  }
  await db.raw('PRAGMA foreign_keys = ON');
  await db.raw('ANALYZE');
}

async function timed(run: () => Promise<unknown>, runs = RUNS): Promise<number> {
  await run();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    await run();
    samples.push(msSince(start));
  }
  return round(percentile(samples, 50), 1);
}

/** The raw GROUP BYs over the op table that the rollup replaces (same question, same answer). */
function rawQueries(db: Knex, from: string, to: string) {
  const span = offsetSegments(zone, START, START + SPAN_SECONDS * 1000);
  const day = localDaySql(dialectOf(db), 'le.occurred_at', span);
  const since = new Date(Date.parse(`${from}T00:00:00+08:00`)).toISOString();
  const until = new Date(Date.parse(`${to}T00:00:00+08:00`) + 86_400_000).toISOString();
  const ops = () =>
    db('ledger_entries as le')
      .join('cards as c', 'c.card_no', 'le.card_no')
      .leftJoin('card_issues as ci', function () {
        this.on('ci.card_no', '=', 'le.card_no').andOn('ci.epoch', '=', 'le.issue_epoch');
      })
      .where('le.occurred_at', '>=', since)
      .andWhere('le.occurred_at', '<', until);
  return {
    settlement: () =>
      ops()
        .select('le.cinema_id', db.raw('COALESCE(ci.card_type_id, c.card_type_id) as card_type_id'), 'le.kind', db.raw('COUNT(*) as ops'), db.raw('SUM(-le.uses_delta) as uses'))
        .groupByRaw('1, 2, 3'),
    byDay: () =>
      ops()
        .where('le.kind', 'redeem')
        .select(db.raw(`${day.sql} as day`, day.bindings), db.raw('COUNT(*) as ops'), db.raw('SUM(-le.uses_delta) as uses'), db.raw('SUM(le.amount_fen) as fen'))
        .groupByRaw('1'),
    byCinemaCashier: () =>
      db('ledger_entries as le')
        .where('le.kind', 'redeem')
        .andWhere('le.occurred_at', '>=', since)
        .andWhere('le.occurred_at', '<', until)
        .select('le.cinema_id', 'le.cashier', db.raw('COUNT(*) as ops'), db.raw('SUM(-le.uses_delta) as uses'), db.raw('SUM(le.amount_fen) as fen'))
        .groupBy('le.cinema_id', 'le.cashier'),
  };
}

async function benchDialect(dialect: Dialect): Promise<BenchRow[]> {
  const ops = dialect === 'sqlite' ? SQLITE_OPS : OPS;
  const scratch = await testDatabases().find((d) => d.name === dialect)!.create();
  const db = createDatabase(scratch.settings);
  const rows: BenchRow[] = [];
  const info = (name: string, value: number, unit: string) => rows.push({ name: `${dialect}: ${name}`, value, unit, budget: '—', baseline: null, ok: null });
  try {
    await migrateToLatest(db);
    const start = process.hrtime.bigint();
    const seeded = await seedReference(db);
    await (dialect === 'postgres' ? seedPostgres(db, seeded, ops) : seedSqlite(db, seeded, ops));
    info('ops in the op table', ops, 'ops');
    info('seed (bulk insert)', round(msSince(start) / 1000, 1), 's');
    const rebuildStart = process.hrtime.bigint();
    await rebuildRollups(db, zone);
    info('rollup built from the op table (rebuildRollups)', round(msSince(rebuildStart) / 1000, 1), 's');
    const stored = await readRollups(db);
    for (const grain of ['d', 'dc', 'm', 'mc'] as const) info(`rollup rows, grain ${grain}`, stored.filter((r) => r.grain === grain).length, 'rows');

    const stats = new Statistics(db);
    const lastDay = new Date(START + SPAN_SECONDS * 1000 + 8 * 3_600_000).toISOString().slice(0, 10);
    const year = { from: '2025-01-01', to: lastDay };
    const month = { from: '2025-06-01', to: '2025-06-30' };
    const raw = { year: rawQueries(db, year.from, year.to), month: rawQueries(db, month.from, month.to) };
    const compare = async (name: string, rollup: () => Promise<unknown>, baseline: () => Promise<unknown>, baselineRuns = 1) => {
      const value = await timed(rollup);
      log(`${dialect}: ${name}: ${value} ms (rollup); measuring the raw GROUP BY…`);
      const base = await timed(baseline, baselineRuns);
      rows.push({ name: `${dialect}: ${name}`, value, unit: 'ms', budget: `≤ ${BUDGET_MS}`, baseline: base, ok: value <= BUDGET_MS });
    };
    await compare('settlement, whole period, all cinemas × card types', () => stats.settlement(year), raw.year.settlement);
    await compare('settlement, one month', () => stats.settlement(month), raw.month.settlement, 3);
    await compare('summary by day, whole period', () => stats.summary(year, ['day']), raw.year.byDay);
    await compare('summary by cinema × cashier, whole period', () => stats.summary(year, ['cinema', 'cashier']), raw.year.byCinemaCashier);
    await compare('summary by day × cinema × card type × consumption, one month', () => stats.summary(month, ['day', 'cinema', 'cardType', 'consumptionType']), raw.month.byDay, 3);
    await compare('summary of one cinema by day, whole period', () => stats.summary({ ...year, cinemaId: seeded.cinemas[3] }, ['day']), () =>
      raw.year.byDay().where('le.cinema_id', seeded.cinemas[3]!),
    );
    const recycled = await timed(() => stats.recycled(year));
    rows.push({ name: `${dialect}: cards used up per cinema per day, whole period`, value: recycled, unit: 'ms', budget: `≤ ${BUDGET_MS}`, baseline: null, ok: recycled <= BUDGET_MS });
    const liability = await timed(() => stats.liability({}, new Date()));
    rows.push({ name: `${dialect}: liability over ${CARDS} cards (card table)`, value: liability, unit: 'ms', budget: `≤ ${BUDGET_MS}`, baseline: null, ok: liability <= BUDGET_MS });
    return rows;
  } finally {
    await db.destroy();
    await scratch.drop();
  }
}

export async function reportBench(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const wanted = (process.env['BENCH_REPORT_DATABASES'] ?? 'postgres,sqlite').split(',');
  for (const dialect of ['postgres', 'sqlite'] as const) if (wanted.includes(dialect)) rows.push(...(await benchDialect(dialect)));
  return rows;
}
