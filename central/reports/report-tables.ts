/**
 * Each report as a {@link ReportTable} for the exports (`export/`): the same queries as the JSON
 * API (`statistics.ts`), with headers in both languages and the columns that get a totals row.
 * The redemption detail streams: its rows are read from the database a page at a time while the
 * file is written.
 */
import type { ReportColumn, ReportRow, ReportTable } from './report-table.ts';
import { type GroupKey, type ReportFilter, resolveFilter, type Statistics } from './statistics.ts';

export const reportKinds = ['redemptions', 'redemption-summary', 'settlement', 'liability', 'recycled', 'card-history'] as const;
export type ReportKind = (typeof reportKinds)[number];

const col = (key: string, type: ReportColumn['type'], zh: string, en: string, total?: 'sum'): ReportColumn => ({
  key,
  type,
  header: { 'zh-CN': zh, en },
  ...(total ? { total } : {}),
});

const c = {
  day: col('day', 'date', '营业日', 'Day'),
  occurredAt: col('occurredAt', 'datetime', '时间', 'Time'),
  cardNo: col('cardNo', 'text', '卡号', 'Card number'),
  seq: col('seq', 'integer', '交易序号', 'Seq'),
  cinema: col('cinemaName', 'text', '影院', 'Cinema'),
  cardType: col('cardTypeName', 'text', '卡类型', 'Card type'),
  consumption: col('consumptionType', 'text', '消费类型', 'Consumption'),
  cashier: col('cashier', 'text', '收银员', 'Cashier'),
  kind: col('kind', 'text', '操作', 'Op'),
  status: col('status', 'text', '状态', 'Status'),
  ops: col('ops', 'integer', '笔数', 'Redemptions', 'sum'),
  uses: col('uses', 'integer', '次数', 'Uses', 'sum'),
  remainingAfter: col('remainingAfter', 'integer', '剩余次数', 'Remaining uses'),
  amount: col('amountFen', 'money_fen', '消费金额（元）', 'Amount (yuan)', 'sum'),
  price: col('settlementPricePerUseFen', 'money_fen', '每次结算价（元）', 'Price per use (yuan)'),
};

const consumptionNames: Record<string, Record<'zh-CN' | 'en', string>> = {
  ticket: { 'zh-CN': '影票', en: 'ticket' },
  concession: { 'zh-CN': '卖品', en: 'concession' },
};

/** A file name stem for a period: `settlement-2025-03-01_2025-03-31`, `settlement-all`. */
function stem(report: string, filter: ReportFilter): string {
  const from = filter.day ?? filter.from;
  const to = filter.day ?? filter.to;
  if (from === undefined && to === undefined) return `${report}-all`;
  return from === to ? `${report}-${from}` : `${report}-${from ?? 'start'}_${to ?? 'now'}`;
}

export interface TableRequest {
  readonly kind: ReportKind;
  readonly filter: ReportFilter;
  readonly groupBy: readonly GroupKey[];
  readonly locale: 'zh-CN' | 'en';
  readonly now: Date;
}

/** The table of one report; `card-history` needs `filter.cardNo`. */
export async function reportTable(stats: Statistics, r: TableRequest): Promise<ReportTable> {
  const consumption = (v: string | null | undefined) => (v ? (consumptionNames[v]?.[r.locale] ?? v) : null);
  switch (r.kind) {
    case 'redemptions': {
      // Checked now: a bad filter is a 400, not a download cut off when its rows are read.
      resolveFilter(r.filter);
      const rows = stats.allRedemptions(r.filter);
      return {
        name: stem('redemptions', r.filter),
        title: { 'zh-CN': '核销明细', en: 'Redemptions' },
        columns: [c.occurredAt, c.cardNo, c.seq, c.cinema, c.cardType, c.consumption, c.uses, c.remainingAfter, c.amount, c.cashier, c.status],
        // One object per row with just the shown cells (an export may be millions of rows).
        rows: mapRows(rows, (x) => ({
          occurredAt: x.occurredAt,
          cardNo: x.cardNo,
          seq: x.seq,
          cinemaName: x.cinemaName,
          cardTypeName: x.cardTypeName,
          consumptionType: consumption(x.consumptionType),
          uses: x.uses,
          remainingAfter: x.remainingAfter,
          amountFen: x.amountFen,
          cashier: x.cashier,
          status: x.status,
        })),
      };
    }
    case 'redemption-summary': {
      const summary = await stats.summary(r.filter, r.groupBy);
      const keyColumns: Record<GroupKey, ReportColumn> = { day: c.day, cinema: c.cinema, cardType: c.cardType, consumptionType: c.consumption, cashier: c.cashier };
      return {
        name: stem('redemption-summary', r.filter),
        title: { 'zh-CN': '核销汇总', en: 'Redemption summary' },
        columns: [...summary.groupBy.map((k) => keyColumns[k]), c.ops, c.uses, c.amount],
        rows: summary.rows.map((g) => ({ ...pick(g), consumptionType: consumption(g.consumptionType) })),
        rowCount: summary.rows.length,
      };
    }
    case 'settlement': {
      const s = await stats.settlement(r.filter);
      return {
        name: stem('settlement', r.filter),
        title: { 'zh-CN': '结算', en: 'Settlement' },
        columns: [
          c.cinema,
          c.cardType,
          c.price,
          col('salePriceFen', 'money_fen', '售卡单价（元）', 'Card price (yuan)'),
          col('cardsSold', 'integer', '售卡张数', 'Cards sold', 'sum'),
          col('usesSold', 'integer', '售出次数', 'Uses sold', 'sum'),
          col('salesValueFen', 'money_fen', '售卡金额（元）', 'Sales value (yuan)', 'sum'),
          col('redemptions', 'integer', '核销笔数', 'Redemptions', 'sum'),
          col('usesRedeemed', 'integer', '核销次数', 'Uses redeemed', 'sum'),
          col('settlementFen', 'money_fen', '结算金额（元）', 'Settlement (yuan)', 'sum'),
          col('netFen', 'money_fen', '应付影院净额（元）', 'Net due to cinema (yuan)', 'sum'),
        ],
        rows: s.rows.map(pick),
        rowCount: s.rows.length,
      };
    }
    case 'liability': {
      const l = await stats.liability(r.filter, r.now);
      return {
        name: `liability-${l.asOf.slice(0, 10)}`,
        title: { 'zh-CN': '未核销次数（负债）', en: 'Outstanding liability' },
        columns: [
          c.cinema,
          c.cardType,
          c.price,
          col('cards', 'integer', '卡张数', 'Cards', 'sum'),
          col('remainingUses', 'integer', '剩余次数', 'Remaining uses', 'sum'),
          col('valueFen', 'money_fen', '金额（元）', 'Value (yuan)', 'sum'),
        ],
        rows: l.rows.map(pick),
        rowCount: l.rows.length,
      };
    }
    case 'recycled': {
      const u = await stats.recycled(r.filter);
      return {
        name: stem('recycled', r.filter),
        title: { 'zh-CN': '回收（次数用尽）卡', en: 'Cards used up' },
        columns: [c.day, c.cinema, col('cards', 'integer', '卡张数', 'Cards', 'sum')],
        rows: u.rows.map(pick),
        rowCount: u.rows.length,
      };
    }
    case 'card-history': {
      const h = await stats.cardHistory(r.filter.cardNo!);
      return {
        name: `card-${h.cardNo}`,
        title: { 'zh-CN': `卡 ${h.cardNo} 的记录`, en: `Card ${h.cardNo}` },
        columns: [c.occurredAt, c.seq, c.kind, c.cinema, c.consumption, col('uses', 'integer', '次数', 'Uses'), c.remainingAfter, c.amount, c.cashier, c.status],
        rows: h.items.map((e) => ({
          occurredAt: e.occurredAt,
          seq: e.seq,
          kind: e.kind,
          cinemaName: h.cinemaName(e.cinemaId),
          consumptionType: consumption(e.consumptionType),
          uses: Math.abs(e.usesDelta),
          remainingAfter: e.remainingAfter,
          amountFen: e.amountFen,
          cashier: e.cashier,
          status: e.status,
        })),
        rowCount: h.items.length,
      };
    }
  }
}

/** The cell values of a JSON row (objects and arrays dropped). */
function pick(row: object): ReportRow {
  const out: Record<string, string | number | null> = {};
  for (const [k, v] of Object.entries(row)) if (v === null || typeof v === 'string' || typeof v === 'number') out[k] = v;
  return out;
}

async function* mapRows<T>(rows: AsyncIterable<T>, f: (row: T) => ReportRow): AsyncGenerator<ReportRow> {
  for await (const row of rows) yield f(row);
}
