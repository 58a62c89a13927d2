/**
 * Reports: the rollup at several grains (`report_rollup` replaces `report_daily`). A year of a
 * chain's redemptions is ~500,000 day × cinema × card type × consumption × cashier rows — too many
 * to sum within the 200 ms budget (DESIGN §7) — so each op is also added to a day row without the
 * cashier, and to month rows with and without it; a query reads the coarsest rows that answer it
 * (`central/reports/rollups.ts`, `grains`).
 *
 * `grain`: `d` (day, every key), `dc` (day, cashier ''), `m` (month, every key), `mc` (month,
 * cashier ''); `period`: `YYYY-MM-DD` or `YYYY-MM` in the chain's time zone. The other columns are
 * `report_daily`'s.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('report_rollup', (t) => {
    t.string('grain', 2).notNullable();
    t.string('period', 16).notNullable();
    t.string('cinema_id', 36).notNullable();
    t.string('card_type_id', 36).notNullable();
    t.string('kind', 16).notNullable();
    t.string('consumption_type', 16).notNullable();
    t.string('cashier', 64).notNullable();
    t.integer('ops').notNullable();
    t.bigInteger('uses').notNullable();
    t.bigInteger('amount_fen').notNullable();
    t.integer('exhausted').notNullable();
    t.primary(['grain', 'period', 'cinema_id', 'card_type_id', 'kind', 'consumption_type', 'cashier']);
    t.index(['grain', 'cinema_id', 'period']);
  });
  await knex.schema.dropTableIfExists('report_daily');
  await fillRollup(knex);
}

// ── The rollup as this migration computed it, frozen ────────────────────────────────────────────
// A copy of what `rebuildRollups` (central/reports/rollups.ts, with chain-calendar.ts) did when
// this migration was written (083572d), so that a later change to that code cannot change what an
// old database gets when it migrates: the op table grouped in SQL by local day and keys, each
// group added at the four grains. Tested equal to today's `rebuildRollups` (rollups.migration.test.ts).

interface DayGroup {
  day: string;
  cinema_id: string;
  card_type_id: string;
  kind: string;
  consumption_type: string;
  cashier: string;
  ops: number;
  uses: number;
  amount_fen: number;
  exhausted: number;
}
type StoredGroup = Omit<DayGroup, 'day'> & { grain: 'd' | 'dc' | 'm' | 'mc'; period: string };

const usesSql = `CASE le.kind WHEN 'redeem' THEN -le.uses_delta WHEN 'topup' THEN le.uses_delta WHEN 'activate' THEN le.remaining_after WHEN 'reissue' THEN le.remaining_after ELSE 0 END`;
const emptiesSql = `CASE WHEN le.kind = 'redeem' AND le.remaining_after = 0 AND (le.anomaly IS NULL OR le.anomaly NOT IN ('previous_issue', 'seq_behind')) THEN 1 ELSE 0 END`;
/** Rows per INSERT (SQLite's compound SELECT takes at most 500 terms). */
const insertChunk = 400;

async function fillRollup(knex: Knex): Promise<void> {
  const setting = (await knex('report_settings').where({ id: 1 }).first('time_zone')) as { time_zone: string } | undefined;
  const timeZone = setting?.time_zone ?? 'Asia/Shanghai';
  const span = (await knex('ledger_entries').first(knex.raw('MIN(occurred_at) as first'), knex.raw('MAX(occurred_at) as last'))) as
    | { first: string | null; last: string | null }
    | undefined;
  if (!span?.first || !span.last) return;
  const first = Date.parse(span.first);
  const last = Date.parse(span.last);
  const postgres = knex.client.config.client === 'pg';
  const day = localDaySql(postgres, 'le.occurred_at', offsetSegments(timeZone, Number.isFinite(first) ? first : 0, Number.isFinite(last) ? last : 0));
  const cinema = postgres ? 'CAST(le.cinema_id AS text)' : 'le.cinema_id';
  const rows = (await knex('ledger_entries as le')
    .join('cards as c', 'c.card_no', 'le.card_no')
    .leftJoin('card_issues as ci', function () {
      this.on('ci.card_no', '=', 'le.card_no').andOn('ci.epoch', '=', 'le.issue_epoch');
    })
    .select(
      knex.raw(`${day.sql} as day`, day.bindings),
      knex.raw(`COALESCE(${cinema}, '') as cinema_id`),
      knex.raw('COALESCE(ci.card_type_id, c.card_type_id) as card_type_id'),
      'le.kind',
      knex.raw(`COALESCE(le.consumption_type, '') as consumption_type`),
      knex.raw(`COALESCE(le.cashier, '') as cashier`),
      knex.raw('COUNT(*) as ops'),
      knex.raw(`SUM(${usesSql}) as uses`),
      knex.raw('SUM(COALESCE(le.amount_fen, 0)) as amount_fen'),
      knex.raw(`SUM(${emptiesSql}) as exhausted`),
    )
    .groupByRaw('1, 2, 3, 4, 5, 6')) as Record<string, string | number>[];
  const stored = new Map<string, StoredGroup>();
  for (const r of rows) {
    const group: DayGroup = {
      day: String(r['day']),
      cinema_id: String(r['cinema_id']),
      card_type_id: String(r['card_type_id']),
      kind: String(r['kind']),
      consumption_type: String(r['consumption_type']),
      cashier: String(r['cashier']),
      ops: Number(r['ops']),
      uses: Number(r['uses']),
      amount_fen: Number(r['amount_fen']),
      exhausted: Number(r['exhausted']),
    };
    const { day: d, ...rest } = group;
    const month = d.slice(0, -3);
    for (const g of [
      { ...rest, grain: 'd', period: d },
      { ...rest, grain: 'dc', period: d, cashier: '' },
      { ...rest, grain: 'm', period: month },
      { ...rest, grain: 'mc', period: month, cashier: '' },
    ] as StoredGroup[]) {
      const key = [g.grain, g.period, g.cinema_id, g.card_type_id, g.kind, g.consumption_type, g.cashier].join('\u0001');
      const there = stored.get(key);
      if (!there) stored.set(key, g);
      else {
        there.ops += g.ops;
        there.uses += g.uses;
        there.amount_fen += g.amount_fen;
        there.exhausted += g.exhausted;
      }
    }
  }
  const all = [...stored.values()];
  for (let i = 0; i < all.length; i += insertChunk) await knex('report_rollup').insert(all.slice(i, i + insertChunk));
}

/** The zone's offset from UTC at an instant, in ms (east positive), from `Intl`. */
function offsetAt(ms: number, format: Intl.DateTimeFormat): number {
  const p: Record<string, number> = {};
  for (const part of format.formatToParts(new Date(ms))) if (part.type !== 'literal') p[part.type] = Number(part.value);
  return Date.UTC(p['year']!, p['month']! - 1, p['day']!, p['hour']!, p['minute']!, p['second']!) - Math.floor(ms / 1000) * 1000;
}

interface OffsetSegment {
  readonly until: string | undefined;
  readonly offsetMinutes: number;
}

/** Spans of constant offset covering `[fromMs, toMs]`; changes found day by day, pinned to the minute. */
function offsetSegments(timeZone: string, fromMs: number, toMs: number): OffsetSegment[] {
  const hourMs = 3_600_000;
  const format = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
  const segments: OffsetSegment[] = [];
  let offset = offsetAt(fromMs, format);
  for (let t = fromMs; t < toMs; ) {
    const next = Math.min(t + 24 * hourMs, toMs);
    if (offsetAt(next, format) !== offset) {
      let lo = t;
      let hi = next;
      while (hi - lo > 60_000) {
        const mid = Math.floor((lo + hi) / 2 / 60_000) * 60_000;
        if (mid <= lo) break;
        if (offsetAt(mid, format) === offset) lo = mid;
        else hi = mid;
      }
      segments.push({ until: new Date(hi).toISOString(), offsetMinutes: offset / 60_000 });
      offset = offsetAt(hi, format);
    }
    t = next;
  }
  segments.push({ until: undefined, offsetMinutes: offset / 60_000 });
  return segments;
}

/** SQL for the local day (`YYYY-MM-DD`) of a stored UTC time column, given the zone's offset spans. */
function localDaySql(postgres: boolean, column: string, segments: readonly OffsetSegment[]): { sql: string; bindings: (string | number)[] } {
  const shifted = (minutes: number) =>
    postgres
      ? { sql: `to_char(CAST(${column} AS timestamp) + CAST(? AS integer) * interval '1 minute', 'YYYY-MM-DD')`, bindings: [minutes] }
      : { sql: `date(${column}, ?)`, bindings: [`${minutes >= 0 ? '+' : ''}${minutes} minutes`] };
  if (segments.length === 1) return shifted(segments[0]!.offsetMinutes);
  const bindings: (string | number)[] = [];
  const cases = segments.map((s) => {
    const day = shifted(s.offsetMinutes);
    if (s.until === undefined) {
      bindings.push(...day.bindings);
      return `ELSE ${day.sql}`;
    }
    bindings.push(s.until, ...day.bindings);
    return `WHEN ${column} < ? THEN ${day.sql}`;
  });
  return { sql: `CASE ${cases.join(' ')} END`, bindings };
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('report_rollup');
  await knex.schema.createTable('report_daily', (t) => {
    t.string('day', 16).notNullable();
    t.string('cinema_id', 36).notNullable();
    t.string('card_type_id', 36).notNullable();
    t.string('kind', 16).notNullable();
    t.string('consumption_type', 16).notNullable();
    t.string('cashier', 64).notNullable();
    t.integer('ops').notNullable();
    t.bigInteger('uses').notNullable();
    t.bigInteger('amount_fen').notNullable();
    t.integer('exhausted').notNullable();
    t.primary(['day', 'cinema_id', 'card_type_id', 'kind', 'consumption_type', 'cashier']);
    t.index(['cinema_id', 'day']);
  });
}
