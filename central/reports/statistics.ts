/**
 * HQ's and the cinemas' statistics (issue 7): redemption detail and summaries, settlement,
 * outstanding liability, cards used up, a card's history. Summaries, settlement and the used-up
 * cards read the daily rollup (`rollups.ts`); only the detail, and summaries filtered by card
 * number (which the rollup has no key for), read the op table.
 *
 * Each report comes as JSON (the API) and as a {@link ReportTable} (exports, `report-tables.ts`).
 * Who may see what is decided by the caller (`routes.ts`): here a filter's `cinemaId` is already
 * the one the principal may see.
 */
import type { Knex } from 'knex';
import type { components } from '../client/schema.ts';
import { CentralError } from '../errors.ts';
import { findCard } from '../cards/card-record.ts';
import type { LedgerRow } from '../ledger/shadow-ledger.ts';
import { PriceBook, type Prices, pricesFromTheBeginning } from '../card-types/card-type-prices.ts';
import { dayRangeInstants, shiftDay } from './chain-calendar.ts';
import { reportMessages } from './messages.ts';
import { aggregateLedger, rollupSegments, rollupTable, rollupTimeZone, type RollupRow } from './rollups.ts';

type S = components['schemas'];
export type RedemptionPage = S['RedemptionPage'];
export type Redemption = S['Redemption'];
export type RedemptionSummary = S['RedemptionSummary'];
export type RedemptionGroup = S['RedemptionGroup'];
export type Settlement = S['Settlement'];
export type Liability = S['Liability'];
export type RecycledCards = S['RecycledCards'];
export type GroupKey = RedemptionSummary['groupBy'][number];
export const groupKeys: readonly GroupKey[] = ['day', 'cinema', 'cardType', 'consumptionType', 'cashier'];

/** What a report may be narrowed to; every field optional. */
export interface ReportFilter {
  readonly cinemaId?: string | undefined;
  /** One chain-local day; not with `from`/`to`. */
  readonly day?: string | undefined;
  readonly from?: string | undefined;
  readonly to?: string | undefined;
  /** Instants (detail only): `since` inclusive, `until` exclusive. */
  readonly since?: string | undefined;
  readonly until?: string | undefined;
  readonly cardNo?: string | undefined;
  readonly cardNoFrom?: string | undefined;
  readonly cardNoTo?: string | undefined;
  readonly cashier?: string | undefined;
  readonly consumptionType?: S['ConsumptionType'] | undefined;
  readonly cardTypeId?: string | undefined;
}

/** A filter checked and resolved: days as a range, card numbers as a range of one length. */
interface Resolved {
  readonly filter: ReportFilter;
  readonly days: { readonly from: string | undefined; readonly to: string | undefined };
  readonly cards: { readonly length: number; readonly from: string | undefined; readonly to: string | undefined } | undefined;
}

const groupColumn: Record<GroupKey, keyof RollupRow> = {
  day: 'day',
  cinema: 'cinema_id',
  cardType: 'card_type_id',
  consumptionType: 'consumption_type',
  cashier: 'cashier',
};

/** Checks a filter's combinations (the values were validated by the route). */
export function resolveFilter(filter: ReportFilter): Resolved {
  if (filter.day !== undefined && (filter.from !== undefined || filter.to !== undefined)) throw new CentralError(reportMessages.report_day_and_range);
  const from = filter.day ?? filter.from;
  const to = filter.day ?? filter.to;
  if (from !== undefined && to !== undefined && from > to) throw new CentralError(reportMessages.report_range_reversed, { from, to });
  if (filter.since !== undefined && filter.until !== undefined && filter.since > filter.until) {
    throw new CentralError(reportMessages.report_range_reversed, { from: filter.since, to: filter.until });
  }
  let cards: Resolved['cards'];
  if (filter.cardNo !== undefined) {
    if (filter.cardNoFrom !== undefined || filter.cardNoTo !== undefined) throw new CentralError(reportMessages.report_card_and_range);
    cards = { length: filter.cardNo.length, from: filter.cardNo, to: filter.cardNo };
  } else if (filter.cardNoFrom !== undefined || filter.cardNoTo !== undefined) {
    const a = filter.cardNoFrom;
    const b = filter.cardNoTo;
    if (a !== undefined && b !== undefined) {
      if (a.length !== b.length) throw new CentralError(reportMessages.report_card_range_lengths, { from: a, to: b });
      if (a > b) throw new CentralError(reportMessages.report_range_reversed, { from: a, to: b });
    }
    cards = { length: (a ?? b)!.length, from: a, to: b };
  }
  return { filter, days: { from, to }, cards };
}

/** Whether the daily rollup can answer: no card-number filter and no instants. */
function rollupAnswers(r: Resolved): boolean {
  return r.cards === undefined && r.filter.since === undefined && r.filter.until === undefined;
}

interface Names {
  cinema(id: string | null): string | null;
  cardType(id: string | null): string | null;
  /** The card type's settlement price per use in force today. */
  price(id: string | null): number;
  /** The card type's prices in force today (its sale price null when HQ has not set one). */
  prices(id: string | null): Prices;
}

const nullIfEmpty = (v: string): string | null => (v === '' ? null : v);

export class Statistics {
  constructor(private readonly db: Knex) {}

  /** Cinema and card-type names and prices (small tables, read whole). */
  async names(): Promise<Names> {
    const cinemas = new Map((await this.db('cinemas').select('id', 'name')).map((c: { id: string; name: string }) => [c.id, c.name]));
    const types = new Map(
      (await this.db('card_types').select('id', 'name', 'settlement_price_fen', 'sale_price_fen')).map(
        (t: { id: string; name: string; settlement_price_fen: number; sale_price_fen: number | null }) => [t.id, t],
      ),
    );
    return {
      cinema: (id) => (id === null ? null : (cinemas.get(id) ?? null)),
      cardType: (id) => (id === null ? null : (types.get(id)?.name ?? null)),
      price: (id) => (id === null ? 0 : Number(types.get(id)?.settlement_price_fen ?? 0)),
      prices: (id) => {
        const type = id === null ? undefined : types.get(id);
        const sale = type?.sale_price_fen ?? null;
        return { settlementPricePerUseFen: Number(type?.settlement_price_fen ?? 0), salePriceFen: sale === null ? null : Number(sale) };
      },
    };
  }

  // ── redemption detail ──────────────────────────────────────────────────────────────────────────

  /** One page of redemptions, oldest first, and the totals of all that match. */
  async redemptions(filter: ReportFilter, page: { readonly cursor?: string | undefined; readonly limit: number }): Promise<RedemptionPage> {
    const resolved = resolveFilter(filter);
    const after = page.cursor === undefined ? undefined : decodeCursor(page.cursor);
    const [rows, totals, names] = [await this.detailPage(resolved, after, page.limit + 1), await this.totals(resolved), await this.names()];
    const items = rows.slice(0, page.limit).map((r) => redemptionView(r, names));
    const last = rows.length > page.limit ? rows[page.limit - 1] : undefined;
    return { items, nextCursor: last ? encodeCursor(last.occurred_at, last.op_id) : null, totals };
  }

  /**
   * Every matching redemption, oldest first, read a page at a time (exports of millions of rows).
   * Pages are small on purpose: a page's rows stay alive while they are written out, long enough
   * for V8 to move them to its old generation, where the garbage of a large page piles up until a
   * full collection (1 M rows in pages of 5000 peaked ~100 MB higher than in pages of 500).
   */
  async *allRedemptions(filter: ReportFilter, pageSize = exportPageSize): AsyncGenerator<Redemption> {
    const resolved = resolveFilter(filter);
    const names = await this.names();
    const timeZone = await rollupTimeZone(this.db);
    let after: { at: string; id: string } | undefined;
    for (;;) {
      const rows = await this.detailPage(resolved, after, pageSize, timeZone);
      const last = rows.at(-1);
      for (let i = 0; i < rows.length; i++) {
        const view = redemptionView(rows[i]!, names);
        rows[i] = undefined!; // nothing keeps a written row alive until the page ends
        yield view;
      }
      if (rows.length < pageSize || !last) return;
      after = { at: last.occurred_at, id: last.op_id };
    }
  }

  private ledgerQuery(r: Resolved, timeZone: string): Knex.QueryBuilder {
    const q = this.db('ledger_entries as le')
      .join('cards as c', 'c.card_no', 'le.card_no')
      .leftJoin('card_issues as ci', function () {
        this.on('ci.card_no', '=', 'le.card_no').andOn('ci.epoch', '=', 'le.issue_epoch');
      })
      .where('le.kind', 'redeem');
    applyLedgerFilter(q, r, timeZone);
    return q;
  }

  private async detailPage(r: Resolved, after: { at: string; id: string } | undefined, limit: number, timeZone?: string): Promise<DetailRow[]> {
    const q = this.ledgerQuery(r, timeZone ?? (await rollupTimeZone(this.db)))
      .select(...detailColumns.map((c) => `le.${c}`), this.db.raw('COALESCE(ci.card_type_id, c.card_type_id) as card_type'))
      .orderBy([{ column: 'le.occurred_at' }, { column: 'le.op_id' }])
      .limit(limit);
    // The first condition is the one the time index can seek with; the second breaks ties by op id.
    if (after) q.where('le.occurred_at', '>=', after.at).andWhere((w) => w.where('le.occurred_at', '>', after.at).orWhere('le.op_id', '>', after.id));
    return q;
  }

  private async totals(r: Resolved): Promise<S['ReportTotals']> {
    if (rollupAnswers(r)) {
      const [row] = await this.rollupRedemptions(r, []);
      return { ops: row?.ops ?? 0, uses: row?.uses ?? 0, amountFen: row?.amount_fen ?? 0 };
    }
    const row = (await this.ledgerQuery(r, await rollupTimeZone(this.db))
      .first(this.db.raw('COUNT(*) as ops'), this.db.raw('SUM(-le.uses_delta) as uses'), this.db.raw('SUM(COALESCE(le.amount_fen, 0)) as amount_fen'))) as
      | Record<string, unknown>
      | undefined;
    return { ops: Number(row?.['ops'] ?? 0), uses: Number(row?.['uses'] ?? 0), amountFen: Number(row?.['amount_fen'] ?? 0) };
  }

  // ── summaries ──────────────────────────────────────────────────────────────────────────────────

  async summary(filter: ReportFilter, groupBy: readonly GroupKey[]): Promise<RedemptionSummary> {
    const resolved = resolveFilter(filter);
    const keys = [...new Set(groupBy)];
    const rows = rollupAnswers(resolved) ? await this.rollupRedemptions(resolved, keys) : await this.ledgerRedemptions(resolved, keys);
    const names = await this.names();
    const out: RedemptionGroup[] = rows.map((g) => {
      const view: { -readonly [K in keyof RedemptionGroup]: RedemptionGroup[K] } = { ops: g.ops, uses: g.uses, amountFen: g.amount_fen };
      for (const k of keys) {
        if (k === 'day') view.day = g.day;
        if (k === 'cinema') {
          view.cinemaId = nullIfEmpty(g.cinema_id);
          view.cinemaName = names.cinema(view.cinemaId);
        }
        if (k === 'cardType') {
          view.cardTypeId = nullIfEmpty(g.card_type_id);
          view.cardTypeName = names.cardType(view.cardTypeId);
        }
        if (k === 'consumptionType') view.consumptionType = nullIfEmpty(g.consumption_type) as S['ConsumptionType'] | null;
        if (k === 'cashier') view.cashier = nullIfEmpty(g.cashier);
      }
      return view;
    });
    return { groupBy: keys, rows: out, totals: sumTotals(out) };
  }

  /** Redemption groups from the rollup, in key order. */
  private async rollupRedemptions(r: Resolved, keys: readonly GroupKey[]): Promise<RollupRow[]> {
    return this.sumRollup(r, ['redeem'], keys.map((k) => groupColumn[k]));
  }

  /**
   * Stored rollup rows of `kinds` matching `r`, summed in SQL by `cols` from the coarsest grains
   * that answer (`rollupSegments`), then across those grains here; in key order.
   */
  private async sumRollup(r: Resolved, kinds: readonly string[], cols: readonly (keyof RollupRow)[], where?: (q: Knex.QueryBuilder) => void): Promise<RollupRow[]> {
    const needs = { day: cols.includes('day'), cashier: cols.includes('cashier') || r.filter.cashier !== undefined };
    const sums = ['ops', 'uses', 'amount_fen', 'exhausted'].map((m) => this.db.raw(`SUM(${m}) as ${m}`));
    const rows: RollupRow[] = [];
    for (const segment of rollupSegments(r.days.from, r.days.to, needs)) {
      const q = this.db(rollupTable).where('grain', segment.grain).whereIn('kind', kinds);
      if (segment.from !== undefined) q.where('period', '>=', segment.from);
      if (segment.to !== undefined) q.where('period', '<=', segment.to);
      applyRollupFilter(q, r);
      where?.(q);
      q.select(...cols.map((c) => (c === 'day' ? 'period as day' : c)), ...sums);
      if (cols.length > 0) q.groupBy(cols.map((c) => (c === 'day' ? 'period' : c)));
      for (const row of (await q) as Record<string, unknown>[]) if (row['ops'] !== null) rows.push(rollupOf(row));
    }
    return fold(rows, cols);
  }

  /** The same groups computed from the op table (card-number filters). */
  private async ledgerRedemptions(r: Resolved, keys: readonly GroupKey[]): Promise<RollupRow[]> {
    const timeZone = await rollupTimeZone(this.db);
    const rows = await aggregateLedger(this.db, timeZone, (q) => {
      q.where('le.kind', 'redeem');
      applyLedgerFilter(q, r, timeZone);
    });
    return fold(rows, keys.map((k) => groupColumn[k]));
  }

  // ── settlement, liability, cards used up ───────────────────────────────────────────────────────

  /**
   * Settlement at the prices in force: the period is cut at every day on which the prices of a card
   * type in the filter change (one rollup sum per part — price changes are rare, so a year's
   * settlement stays a handful of queries), each part's uses and sales priced at the prices in force
   * then. A line is a cinema × card type × prices: a type whose prices changed inside the period
   * has a line per set of prices, in the order they applied.
   */
  async settlement(filter: Omit<ReportFilter, 'cardNo' | 'cardNoFrom' | 'cardNoTo' | 'since' | 'until' | 'cashier' | 'consumptionType'>): Promise<Settlement> {
    const resolved = resolveFilter(filter);
    const names = await this.names();
    const book = await PriceBook.read(this.db, filter.cardTypeId);
    const lines = new Map<string, S['SettlementLine']>();
    for (const days of pricePeriods(resolved.days, book.changesWithin(resolved.days.from, resolved.days.to))) {
      const grouped = await this.sumRollup({ ...resolved, days }, ['redeem', 'activate', 'reissue'], ['cinema_id', 'card_type_id', 'kind']);
      for (const g of grouped) {
        const cinemaId = nullIfEmpty(g.cinema_id);
        const cardTypeId = nullIfEmpty(g.card_type_id);
        // A type without price rows (written around this service) settles at its current prices.
        const prices = cardTypeId === null ? { settlementPricePerUseFen: 0, salePriceFen: null } : (book.on(cardTypeId, days.from ?? pricesFromTheBeginning) ?? names.prices(cardTypeId));
        const price = prices.settlementPricePerUseFen;
        const salePrice = prices.salePriceFen;
        const key = `${g.cinema_id}|${g.card_type_id}|${price}|${salePrice}`;
        const line = lines.get(key) ?? {
          cinemaId,
          cinemaName: names.cinema(cinemaId),
          cardTypeId,
          cardTypeName: names.cardType(cardTypeId),
          settlementPricePerUseFen: price,
          salePriceFen: salePrice,
          cardsSold: 0,
          usesSold: 0,
          salesValueFen: 0,
          redemptions: 0,
          usesRedeemed: 0,
          settlementFen: 0,
          netFen: 0,
        };
        if (g.kind === 'redeem') {
          line.redemptions += Number(g.ops);
          line.usesRedeemed += Number(g.uses);
        } else {
          line.cardsSold += Number(g.ops);
          line.usesSold += Number(g.uses);
        }
        // Card sales at their price; a type HQ has not priced is valued at the uses it carried.
        line.salesValueFen = salePrice === null ? line.usesSold * price : line.cardsSold * salePrice;
        line.settlementFen = line.usesRedeemed * price;
        line.netFen = line.settlementFen - line.salesValueFen;
        lines.set(key, line);
      }
    }
    // Stable: a type's lines stay in the order their prices applied.
    const rows = [...lines.values()].sort(byNames);
    const totals: S['SettlementTotals'] = { cardsSold: 0, usesSold: 0, salesValueFen: 0, redemptions: 0, usesRedeemed: 0, settlementFen: 0, netFen: 0 };
    for (const l of rows) for (const k of Object.keys(totals) as (keyof typeof totals)[]) totals[k] += l[k];
    return { from: resolved.days.from ?? null, to: resolved.days.to ?? null, rows, totals };
  }

  /** Uses on sold cards not yet redeemed, now (shadow balances), valued at today's prices. */
  async liability(filter: Pick<ReportFilter, 'cinemaId' | 'cardTypeId'>, now: Date): Promise<Liability> {
    const q = this.db('cards').where('state', 'active').andWhere('remaining_uses', '>', 0);
    if (filter.cinemaId !== undefined) q.where('cinema_id', filter.cinemaId);
    if (filter.cardTypeId !== undefined) q.where('card_type_id', filter.cardTypeId);
    const grouped = (await q
      .select('cinema_id', 'card_type_id', this.db.raw('COUNT(*) as cards'), this.db.raw('SUM(remaining_uses) as uses'))
      .groupBy('cinema_id', 'card_type_id')) as { cinema_id: string | null; card_type_id: string; cards: unknown; uses: unknown }[];
    const names = await this.names();
    const rows: S['LiabilityLine'][] = grouped
      .map((g) => {
        const price = names.price(g.card_type_id);
        return {
          cinemaId: g.cinema_id,
          cinemaName: names.cinema(g.cinema_id),
          cardTypeId: g.card_type_id,
          cardTypeName: names.cardType(g.card_type_id),
          settlementPricePerUseFen: price,
          cards: Number(g.cards),
          remainingUses: Number(g.uses),
          valueFen: Number(g.uses) * price,
        };
      })
      .sort(byNames);
    const totals = { cards: 0, remainingUses: 0, valueFen: 0 };
    for (const l of rows) {
      totals.cards += l.cards;
      totals.remainingUses += l.remainingUses;
      totals.valueFen += l.valueFen;
    }
    return { asOf: now.toISOString(), rows, totals };
  }

  /** Cards used up per day and cinema (the redemptions that left a card at 0). */
  async recycled(filter: Pick<ReportFilter, 'cinemaId' | 'cardTypeId' | 'day' | 'from' | 'to'>): Promise<RecycledCards> {
    const resolved = resolveFilter(filter);
    const grouped = await this.sumRollup(resolved, ['redeem'], ['day', 'cinema_id'], (q) => q.where('exhausted', '>', 0));
    const names = await this.names();
    const rows: S['RecycledDay'][] = grouped
      .map((g) => ({ day: g.day, cinemaId: nullIfEmpty(g.cinema_id), cinemaName: names.cinema(nullIfEmpty(g.cinema_id)), cards: g.exhausted }))
      .sort((a, b) => compare(a.day, b.day) || byNames(a, b));
    return { rows, totals: { cards: rows.reduce((n, r) => n + r.cards, 0) } };
  }

  /** A card's ops since its latest issue, oldest first, with cinema names. */
  async cardHistory(cardNo: string): Promise<{ readonly cardNo: string; readonly items: S['LedgerEntry'][]; readonly cinemaName: (id: string | null) => string | null }> {
    const card = await findCard(this.db, cardNo);
    const rows: LedgerRow[] = await this.db('ledger_entries').where({ card_no: cardNo }).andWhere('seq', '>=', card.issue_from_seq).orderBy('seq');
    const names = await this.names();
    return {
      cardNo,
      cinemaName: (id) => names.cinema(id),
      items: rows.map((r) => ({
        opId: r.op_id,
        cardNo: r.card_no,
        seq: r.seq,
        kind: r.kind,
        usesDelta: r.uses_delta,
        remainingAfter: r.remaining_after,
        consumptionType: r.consumption_type,
        amountFen: r.amount_fen,
        cinemaId: r.cinema_id,
        terminalId: r.terminal_id,
        userId: r.user_id,
        cashier: r.cashier,
        occurredAt: r.occurred_at,
        recordedAt: r.recorded_at,
        status: r.status,
        anomaly: r.anomaly,
        issueEpoch: r.issue_epoch,
      })),
    };
  }
}

// ── helpers ──────────────────────────────────────────────────────────────────────────────────────

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function byNames(a: { cinemaName: string | null; cardTypeName?: string | null }, b: { cinemaName: string | null; cardTypeName?: string | null }): number {
  return compare(a.cinemaName ?? '', b.cinemaName ?? '') || compare(a.cardTypeName ?? '', b.cardTypeName ?? '');
}

/** `days` cut before each of `changes` (days inside it, ascending): consecutive parts covering it. */
function pricePeriods(days: Resolved['days'], changes: readonly string[]): Resolved['days'][] {
  const parts: Resolved['days'][] = [];
  let from = days.from;
  for (const day of changes) {
    parts.push({ from, to: shiftDay(day, -1) });
    from = day;
  }
  parts.push({ from, to: days.to });
  return parts;
}

function rollupOf(row: Record<string, unknown>): RollupRow {
  const text = (k: string) => (row[k] === undefined || row[k] === null ? '' : String(row[k]));
  return {
    day: text('day'),
    cinema_id: text('cinema_id'),
    card_type_id: text('card_type_id'),
    kind: text('kind'),
    consumption_type: text('consumption_type'),
    cashier: text('cashier'),
    ops: Number(row['ops'] ?? 0),
    uses: Number(row['uses'] ?? 0),
    amount_fen: Number(row['amount_fen'] ?? 0),
    exhausted: Number(row['exhausted'] ?? 0),
  };
}

/** Sums rows by the given columns (others dropped), sorted by them. */
function fold(rows: readonly RollupRow[], cols: readonly (keyof RollupRow)[]): RollupRow[] {
  const groups = new Map<string, RollupRow>();
  for (const r of rows) {
    let key = '';
    for (const c of cols) key += `${r[c]}\u0001`;
    const g = groups.get(key);
    if (g) {
      g.ops += r.ops;
      g.uses += r.uses;
      g.amount_fen += r.amount_fen;
      g.exhausted += r.exhausted;
    } else {
      const group: RollupRow = { day: '', cinema_id: '', card_type_id: '', kind: '', consumption_type: '', cashier: '', ops: r.ops, uses: r.uses, amount_fen: r.amount_fen, exhausted: r.exhausted };
      for (const c of cols) (group as unknown as Record<string, unknown>)[c] = r[c];
      groups.set(key, group);
    }
  }
  const keys = [...groups.keys()].sort();
  return keys.map((k) => groups.get(k)!);
}

function sumTotals(rows: readonly { ops: number; uses: number; amountFen: number }[]): S['ReportTotals'] {
  return rows.reduce((t, r) => ({ ops: t.ops + r.ops, uses: t.uses + r.uses, amountFen: t.amountFen + r.amountFen }), { ops: 0, uses: 0, amountFen: 0 });
}

function applyRollupFilter(q: Knex.QueryBuilder, r: Resolved): void {
  const f = r.filter;
  if (f.cinemaId !== undefined) q.where('cinema_id', f.cinemaId);
  if (f.cardTypeId !== undefined) q.where('card_type_id', f.cardTypeId);
  if (f.consumptionType !== undefined) q.where('consumption_type', f.consumptionType);
  if (f.cashier !== undefined) q.where('cashier', f.cashier);
}

/** The filter over `ledger_entries le` joined to `cards c` and `card_issues ci`. */
function applyLedgerFilter(q: Knex.QueryBuilder, r: Resolved, timeZone: string): void {
  const f = r.filter;
  let since = f.since;
  let until = f.until;
  if (r.days.from !== undefined) {
    const start = dayRangeInstants(r.days.from, r.days.from, timeZone).since;
    if (since === undefined || start > since) since = start;
  }
  if (r.days.to !== undefined) {
    const end = dayRangeInstants(r.days.to, r.days.to, timeZone).until;
    if (until === undefined || end < until) until = end;
  }
  if (since !== undefined) q.where('le.occurred_at', '>=', since);
  if (until !== undefined) q.where('le.occurred_at', '<', until);
  if (f.cinemaId !== undefined) q.where('le.cinema_id', f.cinemaId);
  if (f.cardTypeId !== undefined) q.whereRaw('COALESCE(ci.card_type_id, c.card_type_id) = ?', [f.cardTypeId]);
  if (f.consumptionType !== undefined) q.where('le.consumption_type', f.consumptionType);
  if (f.cashier !== undefined) q.where('le.cashier', f.cashier);
  if (r.cards) {
    // Card numbers of one length compare as text exactly as they do as numbers.
    q.whereRaw('length(le.card_no) = ?', [r.cards.length]);
    if (r.cards.from !== undefined) q.where('le.card_no', '>=', r.cards.from);
    if (r.cards.to !== undefined) q.where('le.card_no', '<=', r.cards.to);
  }
}

/** The op columns a redemption shows (not `le.*`: an export reads a million of these rows). */
const detailColumns = [
  'op_id', 'occurred_at', 'card_no', 'seq', 'cinema_id', 'terminal_id', 'consumption_type', 'uses_delta', 'remaining_after', 'amount_fen', 'cashier', 'status',
] as const satisfies readonly (keyof LedgerRow)[];
type DetailRow = Pick<LedgerRow, (typeof detailColumns)[number]> & { card_type: string | null };

/** Rows per page of {@link Statistics.allRedemptions}. */
export const exportPageSize = 500;

function redemptionView(r: DetailRow, names: Names): Redemption {
  return {
    opId: r.op_id,
    occurredAt: r.occurred_at,
    cardNo: r.card_no,
    seq: r.seq,
    cinemaId: r.cinema_id,
    cinemaName: names.cinema(r.cinema_id),
    terminalId: r.terminal_id,
    cardTypeId: r.card_type,
    cardTypeName: names.cardType(r.card_type),
    consumptionType: r.consumption_type,
    uses: -r.uses_delta,
    remainingAfter: r.remaining_after,
    amountFen: r.amount_fen,
    cashier: r.cashier,
    status: r.status,
  };
}

const cursorShape = /^(.{20,32})\|([0-9a-f-]{36})$/;

function encodeCursor(at: string, opId: string): string {
  return Buffer.from(`${at}|${opId}`, 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): { at: string; id: string } {
  const m = cursorShape.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!m || !Number.isFinite(Date.parse(m[1]!))) throw new CentralError(reportMessages.report_cursor_invalid, { cursor });
  return { at: m[1]!, id: m[2]! };
}
