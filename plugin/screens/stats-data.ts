/**
 * What the statistics screen reads (seed spec ⑹ 本地统计查询): a cinema's redemptions, as detail or
 * summed by one key, narrowed by day or period, card number or range, cashier and consumption type.
 * From central when it answers — every till of the cinema (`/v1/cinemas/{cinemaId}/reports/…`,
 * asked as this terminal) — else from this till's own `ops` table, and the result says which.
 *
 * The local query follows central's rules (`central/reports/statistics.ts`): days are the cinema's
 * days, a card number range compares numbers of the same length, the cashier is the op's operator
 * (the local user id), and the amount is what the till recorded as paid with the uses.
 */
import type { Knex } from 'knex';
import type { Schemas, operations } from '../../central/client/index.ts';
import type { Notice } from './screen-view.ts';
import type { ScreenContext } from './screen-context.ts';

export type StatsReport = 'detail' | 'summary';
export type StatsGroupKey = 'day' | 'cashier' | 'consumptionType' | 'cardType';
export const statsGroupKeys: readonly StatsGroupKey[] = ['day', 'cashier', 'consumptionType', 'cardType'];
export type Consumption = 'ticket' | 'concession';

/** A checked query: every filter optional; `day` excludes `from`/`to`, `cardNo` excludes the range. */
export interface StatsQuery {
  readonly report: StatsReport;
  readonly groupBy: StatsGroupKey;
  readonly day?: string;
  readonly from?: string;
  readonly to?: string;
  readonly cardNo?: string;
  readonly cardNoFrom?: string;
  readonly cardNoTo?: string;
  readonly cashier?: string;
  readonly consumption?: Consumption;
}

export interface StatsTotals {
  readonly ops: number;
  readonly uses: number;
  readonly amountFen: number;
}

export interface RedemptionLine {
  /** ISO instant. */
  readonly at: string;
  readonly cardNo: string;
  readonly cardType: string | null;
  readonly consumption: Consumption | null;
  readonly uses: number;
  readonly remaining: number | null;
  readonly amountFen: number | null;
  /** The cashier's user id as the till recorded it. */
  readonly cashier: string | null;
}

export interface GroupLine extends StatsTotals {
  /** The group's key: a day `YYYY-MM-DD`, a cashier's user id, a consumption type or a card type's name; null: not recorded. */
  readonly key: string | null;
}

export type StatsRows = { readonly report: 'detail'; readonly rows: readonly RedemptionLine[] } | { readonly report: 'summary'; readonly rows: readonly GroupLine[] };

export type StatsResult = StatsRows & {
  /** `central`: every till of the cinema; `local`: this till's own ops only. */
  readonly source: 'central' | 'local';
  /** Why central said no, when it did (the result is then local). */
  readonly refused?: string;
  readonly totals: StatsTotals;
  /** Detail: whether `rows` holds every match (else the first page; `totals` count them all). */
  readonly complete: boolean;
};

const CARD_NO = /^[0-9]{4,20}$/;
const DAY = 86_400;
const PAGE = 1000;

/** The form's values as a query, or the first problem with them. */
export function parseStatsQuery(ctx: ScreenContext, values: Readonly<Record<string, string | number | null>>): { query: StatsQuery } | { problem: Notice } {
  const text = (id: string) => {
    const v = values[id];
    return v === null || v === undefined ? '' : String(v).trim();
  };
  const problem = (key: Notice['key']) => ({ problem: { tone: 'warning', key } as Notice });
  const report: StatsReport = text('report') === 'summary' ? 'summary' : 'detail';
  const groupBy = statsGroupKeys.find((g) => g === text('groupBy')) ?? 'day';
  const [day, from, to] = [text('day'), text('from'), text('to')];
  for (const d of [day, from, to]) if (d && ctx.endOfDay(d) === undefined) return problem('screen.stats.date_invalid');
  if (day && (from || to)) return problem('screen.stats.day_and_range');
  if (from && to && from > to) return problem('screen.stats.range_reversed');
  const [cardNo, cardNoFrom, cardNoTo] = [text('cardNo'), text('cardNoFrom'), text('cardNoTo')];
  for (const c of [cardNo, cardNoFrom, cardNoTo]) if (c && !CARD_NO.test(c)) return problem('screen.card_no_invalid');
  if (cardNo && (cardNoFrom || cardNoTo)) return problem('screen.stats.card_and_range');
  if (cardNoFrom && cardNoTo) {
    if (cardNoFrom.length !== cardNoTo.length) return problem('screen.stats.card_range_lengths');
    if (cardNoFrom > cardNoTo) return problem('screen.stats.range_reversed');
  }
  const consumption = text('consumption');
  const query: StatsQuery = {
    report,
    groupBy,
    ...(day && { day }),
    ...(from && { from }),
    ...(to && { to }),
    ...(cardNo && { cardNo }),
    ...(cardNoFrom && { cardNoFrom }),
    ...(cardNoTo && { cardNoTo }),
    ...(text('cashier') && { cashier: text('cashier') }),
    ...((consumption === 'ticket' || consumption === 'concession') && { consumption }),
  };
  return { query };
}

/**
 * Runs `query`: at central when it answers, else on this till's ops. `limit` bounds the detail rows
 * fetched (the screen shows a page; an export asks for all).
 */
export async function runStatsQuery(ctx: ScreenContext, query: StatsQuery, limit: number | 'all'): Promise<StatsResult> {
  const central = await fromCentral(ctx, query, limit);
  if (central.kind === 'ok') return central.result;
  const rows = await localRedemptions(ctx, query);
  const totals = sum(rows.map((r) => ({ ops: 1, uses: r.uses, amountFen: r.amountFen ?? 0 })));
  const refused = central.kind === 'refused' ? { refused: central.message } : {};
  if (query.report === 'summary') return { source: 'local', ...refused, report: 'summary', rows: summarise(ctx, rows, query.groupBy), totals, complete: true };
  const shown = limit === 'all' ? rows : rows.slice(0, limit);
  return { source: 'local', ...refused, report: 'detail', rows: shown, totals, complete: shown.length === rows.length };
}

// ── central ──────────────────────────────────────────────────────────────────────────────────────

type DetailQuery = NonNullable<operations['listCinemaRedemptions']['parameters']['query']>;

function centralFilter(q: StatsQuery): DetailQuery {
  return {
    ...(q.day && { day: q.day }),
    ...(q.from && { from: q.from }),
    ...(q.to && { to: q.to }),
    ...(q.cardNo && { cardNo: q.cardNo }),
    ...(q.cardNoFrom && { cardNoFrom: q.cardNoFrom }),
    ...(q.cardNoTo && { cardNoTo: q.cardNoTo }),
    ...(q.cashier && { cashier: q.cashier }),
    ...(q.consumption && { consumptionType: q.consumption }),
  };
}

type CentralOutcome = { kind: 'ok'; result: StatsResult } | { kind: 'offline' } | { kind: 'refused'; message: string };

async function fromCentral(ctx: ScreenContext, query: StatsQuery, limit: number | 'all'): Promise<CentralOutcome> {
  const path = { cinemaId: ctx.config.terminal.cinemaId };
  const filter = centralFilter(query);
  if (query.report === 'summary') {
    const a = await ctx.central.call((c) => c.GET('/v1/cinemas/{cinemaId}/reports/redemptions/summary', { params: { path, query: { ...filter, groupBy: query.groupBy } } }));
    if (a.kind !== 'ok') return a.kind === 'offline' ? a : { kind: 'refused', message: a.error.message };
    const rows = a.data.rows.map((g: Schemas['RedemptionGroup']) => ({ key: groupKeyOf(g, query.groupBy), ops: g.ops, uses: g.uses, amountFen: g.amountFen }));
    return { kind: 'ok', result: { source: 'central', report: 'summary', rows, totals: a.data.totals, complete: true } };
  }
  const rows: RedemptionLine[] = [];
  let cursor: string | undefined;
  for (;;) {
    const pageSize = limit === 'all' ? PAGE : Math.min(PAGE, limit - rows.length);
    const a = await ctx.central.call((c) =>
      c.GET('/v1/cinemas/{cinemaId}/reports/redemptions', { params: { path, query: { ...filter, limit: pageSize, ...(cursor !== undefined && { cursor }) } } }),
    );
    if (a.kind !== 'ok') return a.kind === 'offline' ? a : { kind: 'refused', message: a.error.message };
    rows.push(...a.data.items.map((r: Schemas['Redemption']) => ({
      at: r.occurredAt, cardNo: r.cardNo, cardType: r.cardTypeName, consumption: r.consumptionType, uses: r.uses, remaining: r.remainingAfter,
      amountFen: r.amountFen, cashier: r.cashier,
    })));
    cursor = a.data.nextCursor ?? undefined;
    if (cursor === undefined || (limit !== 'all' && rows.length >= limit)) {
      return { kind: 'ok', result: { source: 'central', report: 'detail', rows, totals: a.data.totals, complete: cursor === undefined } };
    }
  }
}

function groupKeyOf(g: Schemas['RedemptionGroup'], key: StatsGroupKey): string | null {
  switch (key) {
    case 'day': return g.day ?? null;
    case 'cashier': return g.cashier ?? null;
    case 'consumptionType': return g.consumptionType ?? null;
    case 'cardType': return g.cardTypeName ?? null;
  }
}

// ── this till ────────────────────────────────────────────────────────────────────────────────────

interface OpLine {
  device_time: string;
  card_no: string;
  consumption: Consumption | null;
  uses: number | null;
  remaining_after: number | null;
  operator_id: string | null;
  payload: string;
  card_type_name: string | null;
}

/** The first instant of a local day and the first after another (ISO, as `ops.device_time` holds them). */
function dayBounds(ctx: ScreenContext, from: string | undefined, to: string | undefined): { since?: string; until?: string } {
  const iso = (s: number) => new Date(s * 1000).toISOString();
  return {
    ...(from && { since: iso(ctx.endOfDay(from)! + 1 - DAY) }),
    ...(to && { until: iso(ctx.endOfDay(to)! + 1) }),
  };
}

/** This till's redemptions that match, oldest first (the card's type as this till last saw it). */
export async function localRedemptions(ctx: ScreenContext, q: StatsQuery): Promise<RedemptionLine[]> {
  const { since, until } = dayBounds(ctx, q.day ?? q.from, q.day ?? q.to);
  const db: Knex = ctx.store.db;
  const query = db('ops as o')
    .leftJoin('cards as c', 'c.card_no', 'o.card_no')
    .leftJoin('card_types as t', 't.code', 'c.card_type_code')
    .where('o.kind', 'redeem');
  if (since) query.where('o.device_time', '>=', since);
  if (until) query.where('o.device_time', '<', until);
  if (q.cardNo) query.where('o.card_no', q.cardNo);
  const rangeEnd = q.cardNoFrom ?? q.cardNoTo;
  if (rangeEnd) {
    // Card numbers are compared as numbers of one length, so "9" does not fall between "10" and "20".
    query.whereRaw('length(o.card_no) = ?', [rangeEnd.length]);
    if (q.cardNoFrom) query.where('o.card_no', '>=', q.cardNoFrom);
    if (q.cardNoTo) query.where('o.card_no', '<=', q.cardNoTo);
  }
  if (q.cashier) query.where('o.operator_id', q.cashier);
  if (q.consumption) query.where('o.consumption', q.consumption);
  const rows = await query
    .orderBy([{ column: 'o.device_time' }, { column: 'o.term_seq' }])
    .select<OpLine[]>('o.device_time', 'o.card_no', 'o.consumption', 'o.uses', 'o.remaining_after', 'o.operator_id', 'o.payload', 't.name as card_type_name');
  return rows.map((r) => ({
    at: r.device_time, cardNo: r.card_no, cardType: r.card_type_name, consumption: r.consumption, uses: r.uses ?? 0, remaining: r.remaining_after,
    amountFen: amountOf(r.payload), cashier: r.operator_id,
  }));
}

/** What the redemption paid, as the till recorded it in the op's payload (central reads the same). */
function amountOf(payload: string): number | null {
  try {
    const v = (JSON.parse(payload) as Record<string, unknown> | null)?.['amountFen'];
    return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : null;
  } catch {
    return null;
  }
}

/** Sums detail rows by one key, in the key's order (unrecorded last), as central's summary does. */
export function summarise(ctx: ScreenContext, rows: readonly RedemptionLine[], by: StatsGroupKey): GroupLine[] {
  const keyOf = (r: RedemptionLine): string | null => {
    switch (by) {
      case 'day': return ctx.date(Math.floor(Date.parse(r.at) / 1000));
      case 'cashier': return r.cashier;
      case 'consumptionType': return r.consumption;
      case 'cardType': return r.cardType;
    }
  };
  const groups = new Map<string | null, { ops: number; uses: number; amountFen: number }>();
  for (const r of rows) {
    const key = keyOf(r);
    const g = groups.get(key) ?? { ops: 0, uses: 0, amountFen: 0 };
    groups.set(key, { ops: g.ops + 1, uses: g.uses + r.uses, amountFen: g.amountFen + (r.amountFen ?? 0) });
  }
  return [...groups.entries()]
    .sort(([a], [b]) => (a === b ? 0 : a === null ? 1 : b === null ? -1 : a < b ? -1 : 1))
    .map(([key, g]) => ({ key, ...g }));
}

function sum(rows: readonly StatsTotals[]): StatsTotals {
  return rows.reduce((t, r) => ({ ops: t.ops + r.ops, uses: t.uses + r.uses, amountFen: t.amountFen + r.amountFen }), { ops: 0, uses: 0, amountFen: 0 });
}
