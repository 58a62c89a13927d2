/**
 * The rollup (`report_rollup`), kept up to date on ingest: every writer of `ledger_entries`
 * calls {@link addToRollups} with the rows it inserted, in the same transaction, so a summary is
 * never ahead of or behind the ops. {@link rebuildRollups} recomputes it from the op table (after
 * a restore, a time-zone change, or to check it: the property test compares the two).
 *
 * What a rollup row counts, per chain-local day × cinema × card type × kind × consumption type ×
 * cashier (absent keys are ''):
 * - `ops`: ledger rows, whatever their status — an op waiting behind a gap was still written to the
 *   card at the till, so it counts from the moment central records it; an op refused by the ledger
 *   or parked by sync is not a ledger row and never counts. Nothing here depends on a row's
 *   `status`, so promoting a waiting row changes no rollup.
 * - `uses`: uses redeemed (redeem), loaded (top-up), or put on the card by a sale or re-issue
 *   (activate, reissue: the op's remaining uses); renewals and recycling move none.
 * - `amount_fen`: what the cardholder paid with the uses, where the till said (redeem).
 * - `exhausted`: redemptions that left the current holder's card at 0 uses — the card became a
 *   recycled (exhausted) card there and then. A previous holder's late op (`previous_issue`) or one
 *   behind the applied seq (`seq_behind`) empties no card; those markings are set before the row is
 *   inserted and never change.
 * The card type is the type of the card's issue the op belongs to (a recycled card may change
 * type before it is re-issued; its earlier ops stay with the earlier type).
 *
 * Each op is counted at four grains ({@link grains}): per day and per month, each with and without
 * the cashier, so a query sums the fewest rows that answer it ({@link rollupSegments}): a year's
 * settlement reads ~12 months × cinemas × card types rows instead of every day × cashier.
 */
import type { Knex } from 'knex';
import type { LedgerRow } from '../ledger/shadow-ledger.ts';
import { dialectOf } from '../store/database.ts';
import { selectByKeys, sqlQuery, type Statement } from '../sync/bulk.ts';
import { DayCutter, localDaySql, offsetSegments, shiftDay } from './chain-calendar.ts';

export const rollupTable = 'report_rollup';

/**
 * `d`: day, every key; `dc`: day, cashier ''; `m`: month, every key; `mc`: month, cashier ''.
 */
export const grains = ['d', 'dc', 'm', 'mc'] as const;
export type Grain = (typeof grains)[number];
const keyColumns = ['grain', 'period', 'cinema_id', 'card_type_id', 'kind', 'consumption_type', 'cashier'] as const;

/** An op group at day level (what ingest and the recomputation produce). */
export interface RollupRow {
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

/** A stored row: a day-level group at one grain. */
export interface StoredRollup extends Omit<RollupRow, 'day'> {
  grain: Grain;
  /** `YYYY-MM-DD` (day grains) or `YYYY-MM` (month grains). */
  period: string;
}

/** `YYYY-MM` of a `YYYY-MM-DD`. */
export const monthOf = (day: string): string => day.slice(0, -3);

/** The four stored rows a day-level group adds to. */
function atGrains(row: RollupRow): StoredRollup[] {
  const { day, ...rest } = row;
  return [
    { ...rest, grain: 'd', period: day },
    { ...rest, grain: 'dc', period: day, cashier: '' },
    { ...rest, grain: 'm', period: monthOf(day) },
    { ...rest, grain: 'mc', period: monthOf(day), cashier: '' },
  ];
}

/** Day-level groups summed into stored rows at every grain. */
export function toStored(rows: readonly RollupRow[]): StoredRollup[] {
  const stored = new Map<string, StoredRollup>();
  for (const row of rows) for (const g of atGrains(row)) accumulate(stored, g);
  return [...stored.values()];
}

/** A stretch of periods of one grain; open ends undefined. */
export interface RollupSegment {
  readonly grain: Grain;
  readonly from: string | undefined;
  readonly to: string | undefined;
}

const firstOfMonth = (day: string) => `${monthOf(day)}-01`;
function lastOfMonth(day: string): string {
  const [y, m] = day.split('-').map(Number) as [number, number];
  return new Date(Date.UTC(y, m, 0)).toISOString().slice(0, 10);
}

/**
 * Which stored rows answer a query over days `from`..`to` (inclusive, open ends undefined): whole
 * months from a month grain, the days of a partial month at either end from a day grain; a query
 * grouped by day reads day rows throughout. The cashier-less grains serve whatever does not group
 * or filter by cashier.
 */
export function rollupSegments(from: string | undefined, to: string | undefined, needs: { readonly day: boolean; readonly cashier: boolean }): RollupSegment[] {
  const day: Grain = needs.cashier ? 'd' : 'dc';
  const month: Grain = needs.cashier ? 'm' : 'mc';
  if (needs.day) return [{ grain: day, from, to }];
  if (from !== undefined && to !== undefined && monthOf(from) === monthOf(to)) {
    return from === firstOfMonth(from) && to === lastOfMonth(to) ? [{ grain: month, from: monthOf(from), to: monthOf(to) }] : [{ grain: day, from, to }];
  }
  const out: RollupSegment[] = [];
  let monthFrom: string | undefined;
  let monthTo: string | undefined;
  if (from !== undefined) {
    if (from === firstOfMonth(from)) monthFrom = monthOf(from);
    else {
      out.push({ grain: day, from, to: lastOfMonth(from) });
      monthFrom = monthOf(shiftDay(lastOfMonth(from), 1));
    }
  }
  if (to !== undefined) {
    if (to === lastOfMonth(to)) monthTo = monthOf(to);
    else {
      out.push({ grain: day, from: firstOfMonth(to), to });
      monthTo = monthOf(shiftDay(firstOfMonth(to), -1));
    }
  }
  if (monthFrom === undefined || monthTo === undefined || monthFrom <= monthTo) out.push({ grain: month, from: monthFrom, to: monthTo });
  return out;
}

type OpFacts = Pick<LedgerRow, 'kind' | 'uses_delta' | 'remaining_after' | 'anomaly'>;

/** The uses an op counts for in the rollup (see the module comment). */
export function rollupUses(row: OpFacts): number {
  switch (row.kind) {
    case 'redeem':
      return -row.uses_delta;
    case 'topup':
      return row.uses_delta;
    case 'activate':
    case 'reissue':
      return row.remaining_after;
    default:
      return 0;
  }
}

export function emptiesCard(row: OpFacts): boolean {
  return row.kind === 'redeem' && row.remaining_after === 0 && row.anomaly !== 'previous_issue' && row.anomaly !== 'seq_behind';
}

/** The same two measures in SQL, over `ledger_entries` aliased `le`. */
const usesSql = `CASE le.kind WHEN 'redeem' THEN -le.uses_delta WHEN 'topup' THEN le.uses_delta WHEN 'activate' THEN le.remaining_after WHEN 'reissue' THEN le.remaining_after ELSE 0 END`;
const emptiesSql = `CASE WHEN le.kind = 'redeem' AND le.remaining_after = 0 AND (le.anomaly IS NULL OR le.anomaly NOT IN ('previous_issue', 'seq_behind')) THEN 1 ELSE 0 END`;

/** The chain time zone the rollup's days are cut in. */
export async function rollupTimeZone(db: Knex): Promise<string> {
  const row = await db('report_settings').where({ id: 1 }).first<{ time_zone: string } | undefined>('time_zone');
  return row?.time_zone ?? 'Asia/Shanghai';
}

function keyOf(r: RollupRow | StoredRollup): string {
  return 'grain' in r ? keyColumns.map((k) => r[k]).join('\u0001') : [r.day, r.cinema_id, r.card_type_id, r.kind, r.consumption_type, r.cashier].join('\u0001');
}

/** Adds `row` into `into` by key. */
function accumulate<R extends RollupRow | StoredRollup>(into: Map<string, R>, row: R): void {
  const key = keyOf(row);
  const there = into.get(key);
  if (!there) {
    into.set(key, { ...row });
    return;
  }
  there.ops += row.ops;
  there.uses += row.uses;
  there.amount_fen += row.amount_fen;
  there.exhausted += row.exhausted;
}

/** The type of each (card, issue epoch) of some cards: the issue's, else the card's current one. */
export class CardTypes {
  private readonly byIssue = new Map<string, string>();
  private readonly current = new Map<string, string>();

  /** Whether the card's types have been read. */
  has(cardNo: string): boolean {
    return this.current.has(cardNo);
  }

  typeOf(cardNo: string, epoch: number): string {
    // Most cards were never re-issued: no issue rows to look in.
    return (this.byIssue.size > 0 ? this.byIssue.get(`${cardNo}#${epoch}`) : undefined) ?? this.current.get(cardNo) ?? '';
  }

  /** Takes the types of cards the caller has read, and reads their issues' (one statement). */
  async fromCards(trx: Knex.Transaction, cards: readonly { card_no: string; card_type_id: string }[]): Promise<this> {
    for (const c of cards) this.current.set(c.card_no, c.card_type_id);
    const issues = await selectByKeys<{ card_no: string; epoch: number; card_type_id: string }>(trx, 'card_issues', 'card_no', cards.map((c) => c.card_no));
    for (const r of issues) this.byIssue.set(`${r.card_no}#${r.epoch}`, r.card_type_id);
    return this;
  }

  /** Reads the types of these cards (and their issues) in the caller's transaction. */
  async read(trx: Knex.Transaction, cardNos: readonly string[]): Promise<this> {
    for (let i = 0; i < cardNos.length; i += 500) {
      const chunk = cardNos.slice(i, i + 500);
      // Straight to the driver: on the ingest's hot path knex's query building costs more than this.
      const rows = await sqlQuery<{ card_no: string; current_type: string; epoch: number | null; card_type_id: string | null }>(
        trx,
        `SELECT c.card_no, c.card_type_id AS current_type, ci.epoch, ci.card_type_id FROM cards AS c LEFT JOIN card_issues AS ci ON ci.card_no = c.card_no WHERE c.card_no IN (${chunk.map(() => '?').join(', ')})`,
        chunk,
      );
      for (const r of rows) {
        this.current.set(r.card_no, r.current_type);
        if (r.epoch !== null && r.card_type_id !== null) this.byIssue.set(`${r.card_no}#${r.epoch}`, r.card_type_id);
      }
    }
    return this;
  }
}

/**
 * Adds freshly inserted ledger rows to the rollup, in the caller's transaction: one read of the
 * rows' card types and one upsert of the (few) groups they fall in, at every grain (`timeZone`: the
 * rollup's zone when the caller has read it in this transaction already). Groups are
 * written in key order, so two transactions adding to the same groups lock them in the same order.
 */
export async function addToRollups(trx: Knex.Transaction, rows: readonly LedgerRow[], timeZone?: string): Promise<void> {
  if (rows.length === 0) return;
  const zone = timeZone ?? (await rollupTimeZone(trx));
  const types = await new CardTypes().read(trx, [...new Set(rows.map((r) => r.card_no))]);
  for (const { sql, params } of rollupStatements(rows, zone, types)) await sqlQuery(trx, sql, params);
}

/**
 * The upserts that add these ledger rows to the rollup (both databases; `?` placeholders), for a
 * caller that has read the rows' card types already: {@link addToRollups} without its reads.
 */
export function rollupStatements(rows: readonly LedgerRow[], timeZone: string, types: CardTypes): Statement[] {
  const cutter = new DayCutter(timeZone);
  const groups = new Map<string, RollupRow>();
  for (const r of rows) {
    accumulate(groups, {
      day: cutter.dayOf(r.occurred_at),
      cinema_id: r.cinema_id ?? '',
      card_type_id: types.typeOf(r.card_no, r.issue_epoch),
      kind: r.kind,
      consumption_type: r.consumption_type ?? '',
      cashier: r.cashier ?? '',
      ops: 1,
      uses: rollupUses(r),
      amount_fen: r.amount_fen ?? 0,
      exhausted: emptiesCard(r) ? 1 : 0,
    });
  }
  const stored = toStored([...groups.values()]).map((g) => [keyOf(g), g] as const);
  return upserts(stored.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, g]) => g));
}

/** Rows per INSERT: knex writes a multi-row SQLite insert as a compound SELECT (at most 500 terms). */
const insertChunk = 400;

const measureColumns = ['ops', 'uses', 'amount_fen', 'exhausted'] as const;

function upserts(groups: readonly StoredRollup[]): Statement[] {
  const columns = [...keyColumns, ...measureColumns];
  const one = `(${columns.map(() => '?').join(', ')})`;
  const sql = (n: number) =>
    `INSERT INTO ${rollupTable} (${columns.join(', ')}) VALUES ${Array.from({ length: n }, () => one).join(', ')} ` +
    `ON CONFLICT (${keyColumns.join(', ')}) DO UPDATE SET ${measureColumns.map((c) => `${c} = ${rollupTable}.${c} + excluded.${c}`).join(', ')}`;
  const statements: Statement[] = [];
  for (let i = 0; i < groups.length; i += insertChunk) {
    const chunk = groups.slice(i, i + insertChunk);
    statements.push({ sql: sql(chunk.length), params: chunk.flatMap((g) => columns.map((c) => g[c])) });
  }
  return statements;
}

/** A filter on the op table for {@link aggregateLedger} (card-number filters the rollup cannot answer). */
export type LedgerFilter = (q: Knex.QueryBuilder) => void;

/**
 * Rollup rows computed from `ledger_entries` itself, grouped in SQL by local day (the zone's
 * offsets over the stored ops, `chain-calendar.ts`) and the other keys.
 */
export async function aggregateLedger(db: Knex, timeZone: string, filter?: LedgerFilter): Promise<RollupRow[]> {
  const span = (await db('ledger_entries').first(db.raw('MIN(occurred_at) as first'), db.raw('MAX(occurred_at) as last'))) as
    | { first: string | null; last: string | null }
    | undefined;
  if (!span?.first || !span.last) return [];
  const first = Date.parse(span.first);
  const last = Date.parse(span.last);
  const segments = offsetSegments(timeZone, Number.isFinite(first) ? first : 0, Number.isFinite(last) ? last : 0);
  const day = localDaySql(dialectOf(db), 'le.occurred_at', segments);
  const cinema = dialectOf(db) === 'postgres' ? 'CAST(le.cinema_id AS text)' : 'le.cinema_id';
  const q = db('ledger_entries as le')
    .join('cards as c', 'c.card_no', 'le.card_no')
    .leftJoin('card_issues as ci', function () {
      this.on('ci.card_no', '=', 'le.card_no').andOn('ci.epoch', '=', 'le.issue_epoch');
    })
    .select(
      db.raw(`${day.sql} as day`, day.bindings),
      db.raw(`COALESCE(${cinema}, '') as cinema_id`),
      db.raw('COALESCE(ci.card_type_id, c.card_type_id) as card_type_id'),
      'le.kind',
      db.raw(`COALESCE(le.consumption_type, '') as consumption_type`),
      db.raw(`COALESCE(le.cashier, '') as cashier`),
      db.raw('COUNT(*) as ops'),
      db.raw(`SUM(${usesSql}) as uses`),
      db.raw('SUM(COALESCE(le.amount_fen, 0)) as amount_fen'),
      db.raw(`SUM(${emptiesSql}) as exhausted`),
    )
    .groupByRaw('1, 2, 3, 4, 5, 6');
  filter?.(q);
  const days = new Map<string, RollupRow>();
  for (const r of (await q) as Record<string, string | number>[]) {
    accumulate(days, {
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
    });
  }
  return [...days.values()];
}

/** The stored rows the op table says there should be (what {@link rebuildRollups} writes). */
export async function computeRollups(db: Knex, timeZone: string): Promise<StoredRollup[]> {
  return toStored(await aggregateLedger(db, timeZone));
}

/**
 * Recomputes the whole rollup from the op table, in one transaction (in `timeZone`, which then
 * becomes the rollup's zone; by default the one it has).
 */
export async function rebuildRollups(db: Knex, timeZone?: string): Promise<void> {
  await db.transaction(async (trx) => {
    const zone = timeZone ?? (await rollupTimeZone(trx));
    const rows = await computeRollups(trx, zone);
    await trx(rollupTable).delete();
    for (let i = 0; i < rows.length; i += insertChunk) await trx(rollupTable).insert(rows.slice(i, i + insertChunk));
    await trx('report_settings').where({ id: 1 }).update({ time_zone: zone });
  });
}

/** Every stored row (tests compare this with a recomputation). */
export async function readRollups(db: Knex): Promise<StoredRollup[]> {
  const rows: StoredRollup[] = await db(rollupTable).select('*');
  return rows.map((r) => ({ ...r, ops: Number(r.ops), uses: Number(r.uses), amount_fen: Number(r.amount_fen), exhausted: Number(r.exhausted) }));
}
