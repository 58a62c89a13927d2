/**
 * The cinema's statistics at the till (seed spec ⑹ 本地统计查询; DESIGN §5: manager and local
 * statistician): redemption detail, or a summary by day, salesperson, consumption type or card type,
 * narrowed by a day or a period, a card number or a range, a salesperson and a consumption type,
 * with totals. From central when it answers (every till of this cinema), else this till's own
 * records under a banner saying so (`stats-data.ts`).
 *
 * Export: what the query shows — every matching row, not only the page on screen — as .xlsx or CSV,
 * headers in the cashier's language and a totals row, handed to the host through the optional
 * `HostUi.offerFile`; a host without it gets no export buttons. The file is written on the till by
 * the same writers central uses (`central/reports/export/xlsx-writer.ts`, `csv-writer.ts`: exceljs'
 * streaming writer and csv-stringify, no server code), into memory: a till-sized export.
 */
import { Writable } from 'node:stream';
import { inject, injectable } from 'tsyringe';
import type { ViewNode, ViewResult } from '../../adapters/host-ui.ts';
import type { ColumnType, ReportColumn, ReportRow, ReportTable } from '../../central/reports/report-table.ts';
import { writeCsv } from '../../central/reports/export/csv-writer.ts';
import { writeXlsx } from '../../central/reports/export/xlsx-writer.ts';
import { can, type Actor } from '../auth/permissions.ts';
import { translate, type MessageKey, type MessageParams } from '../i18n/catalogue.ts';
import { localTime } from './list-screens.ts';
import type { PluginScreen } from './plugin-screen.ts';
import { ScreenContext } from './screen-context.ts';
import { ACTION_CLOSE, type Notice } from './screen-view.ts';
import { parseStatsQuery, runStatsQuery, statsGroupKeys, type StatsGroupKey, type StatsQuery, type StatsResult } from './stats-data.ts';

const ACTION_QUERY = 'query';
const ACTION_XLSX = 'export_xlsx';
const ACTION_CSV = 'export_csv';
/** Detail rows shown on screen; the totals and an export cover every match. */
export const STATS_SHOWN_ROWS = 200;

const FORMATS = {
  [ACTION_XLSX]: { ext: 'xlsx', mimeType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', write: writeXlsx },
  [ACTION_CSV]: { ext: 'csv', mimeType: 'text/csv', write: writeCsv },
} as const;
type ExportAction = keyof typeof FORMATS;

const GROUP_COLUMN: Record<StatsGroupKey, MessageKey> = {
  day: 'screen.stats.col.day', cashier: 'screen.stats.col.cashier', consumptionType: 'screen.stats.col.consumption', cardType: 'screen.stats.col.card_type',
};

/** A column as the screen's table and the export both show it. */
interface StatsColumn {
  readonly key: string;
  readonly label: MessageKey;
  readonly type: ColumnType;
  readonly total?: 'sum';
}

/** Fen as yuan with two decimals, for the screen (the export keeps numbers). */
const yuan = (fen: number | null) => (fen === null ? '' : (fen / 100).toFixed(2));

@injectable()
export class StatsScreen implements PluginScreen {
  readonly id = 'cinecard.stats';
  readonly title = 'screen.stats.title' as const;
  readonly permission = 'stats.local' as const;
  readonly group = 'reports' as const;
  readonly mode = 'terminal' as const;

  constructor(@inject(ScreenContext) private readonly ctx: ScreenContext) {}

  async open(_actor: Actor | undefined): Promise<void> {
    const { ctx } = this;
    const view = ctx.view(this.id, this.title);
    let values: ViewResult['values'] = { report: 'detail', groupBy: 'day', day: ctx.date(ctx.nowSeconds()), consumption: '', cashier: '' };
    let query = (parseStatsQuery(ctx, values) as { query: StatsQuery }).query;
    let result: StatsResult | undefined = await runStatsQuery(ctx, query, STATS_SHOWN_ROWS);
    let notices: Notice[] = [];
    for (;;) {
      const r = await view.open(await this.body(values, query, result, notices));
      if (!r || (r.action !== ACTION_QUERY && !Object.hasOwn(FORMATS, r.action))) return;
      if (!(await ctx.allowed(this.permission))) return;
      values = r.values;
      const parsed = parseStatsQuery(ctx, values);
      if ('problem' in parsed) {
        notices = [parsed.problem];
        result = undefined;
        continue;
      }
      query = parsed.query;
      notices = [];
      if (r.action === ACTION_QUERY) {
        result = await runStatsQuery(ctx, query, STATS_SHOWN_ROWS);
        continue;
      }
      if (!(await ctx.allowed('exports.local'))) return;
      result = await runStatsQuery(ctx, query, 'all');
      notices = [await this.export(r.action as ExportAction, query, result)];
    }
  }

  private async body(values: ViewResult['values'], query: StatsQuery, result: StatsResult | undefined, notices: readonly Notice[]): Promise<ViewNode[]> {
    const { ctx } = this;
    const k = ctx.kit;
    const v = (id: string) => (values[id] === undefined ? null : values[id]);
    const s = (id: string) => String(v(id) ?? '');
    const all = { value: '', label: k.t('screen.stats.all') };
    const cashiers = (await ctx.localUsers.list()).map((u) => ({ value: u.userId, label: u.displayName }));
    const canExport = ctx.ui.offerFile !== undefined && can(ctx.users.current, 'exports.local');
    const row = (...children: ViewNode[]): ViewNode => ({ type: 'stack', direction: 'horizontal', children });
    return [
      ...notices.map((n) => k.banner(n)),
      k.text('screen.stats.hint', undefined, 'muted'),
      row(
        k.select('report', 'screen.stats.report', s('report') || 'detail', [
          { value: 'detail', label: k.t('screen.stats.report.detail') }, { value: 'summary', label: k.t('screen.stats.report.summary') },
        ]),
        k.select('groupBy', 'screen.stats.group_by', s('groupBy') || 'day', statsGroupKeys.map((g) => ({ value: g, label: k.t(`screen.stats.group.${g}`) }))),
      ),
      row(k.field('day', 'date', 'screen.stats.day', v('day')), k.field('from', 'date', 'screen.stats.from', v('from')), k.field('to', 'date', 'screen.stats.to', v('to'))),
      row(
        k.field('cardNo', 'text', 'screen.stats.card_no', v('cardNo')),
        k.field('cardNoFrom', 'text', 'screen.stats.card_no_from', v('cardNoFrom')),
        k.field('cardNoTo', 'text', 'screen.stats.card_no_to', v('cardNoTo')),
      ),
      row(
        k.select('cashier', 'screen.stats.cashier', s('cashier'), [all, ...cashiers]),
        k.select('consumption', 'screen.stats.consumption', s('consumption'), [all, ...(['ticket', 'concession'] as const).map((c) => ({ value: c, label: k.t(`redeem.consumption.${c}`) }))]),
      ),
      row(
        k.button(ACTION_QUERY, 'screen.stats.query', 'primary'),
        ...(canExport ? [k.button(ACTION_XLSX, 'screen.stats.export_xlsx'), k.button(ACTION_CSV, 'screen.stats.export_csv')] : []),
        k.button(ACTION_CLOSE, 'screen.close'),
      ),
      ...(result ? await this.resultNodes(query, result) : []),
    ];
  }

  private async resultNodes(query: StatsQuery, result: StatsResult): Promise<ViewNode[]> {
    const { ctx } = this;
    const k = ctx.kit;
    const source: ViewNode[] = [];
    if (result.source === 'central') {
      source.push(k.banner({ tone: 'info', key: 'screen.stats.from_central' }));
      const pending = await ctx.store.pendingCount();
      if (pending > 0) source.push(k.banner({ tone: 'info', key: 'screen.stats.pending_note', params: { count: pending } }));
    } else {
      source.push(k.banner({ tone: 'warning', key: 'screen.stats.from_local' }));
      if (result.refused !== undefined) source.push(k.banner({ tone: 'warning', key: 'screen.central_refused', params: { message: result.refused } }));
    }
    const { totals } = result;
    const table = await this.table(query, result, (key, params) => k.t(key, params));
    const shown = table.rows.length;
    return [
      ...source,
      k.text('screen.stats.totals', { ops: totals.ops, uses: totals.uses, amount: yuan(totals.amountFen) }, 'strong'),
      ...(result.report === 'detail' && !result.complete ? [k.text('screen.stats.truncated', { shown: Math.min(shown, STATS_SHOWN_ROWS), count: totals.ops }, 'muted')] : []),
      {
        type: 'table',
        id: 'stats',
        columns: table.columns.map((c) => ({ key: c.key, label: k.t(c.label), ...(c.type === 'integer' || c.type === 'money_fen' ? { align: 'end' as const } : {}) })),
        rows: table.rows.slice(0, STATS_SHOWN_ROWS).map((r) => this.shownRow(table.columns, r)),
        emptyText: k.t('screen.stats.empty'),
      },
    ];
  }

  /** A row's values as the screen shows them: times on the cinema's clock, money in yuan. */
  private shownRow(columns: readonly StatsColumn[], row: ReportRow): Record<string, string | number | null> {
    const out: Record<string, string | number | null> = {};
    for (const c of columns) {
      const value = row[c.key] ?? null;
      out[c.key] = c.type === 'money_fen' ? yuan(value as number | null) : c.type === 'datetime' && typeof value === 'string' ? localTime(this.ctx, value) : (value as string | number | null);
    }
    return out;
  }

  /** The result as typed columns and rows, every label through `t` (the screen's or the file's language). */
  private async table(query: StatsQuery, result: StatsResult, t: (key: MessageKey, params?: MessageParams) => string): Promise<{ columns: StatsColumn[]; rows: ReportRow[] }> {
    const names = new Map((await this.ctx.localUsers.list()).map((u) => [u.userId, u.displayName]));
    const cashier = (id: string | null) => (id === null ? t('screen.stats.unknown') : (names.get(id) ?? id));
    const consumption = (c: string | null) => (c === 'ticket' || c === 'concession' ? t(`redeem.consumption.${c}`) : t('screen.stats.unknown'));
    if (result.report === 'detail') {
      return {
        columns: [
          { key: 'at', label: 'screen.stats.col.at', type: 'datetime' },
          { key: 'cardNo', label: 'screen.stats.col.card_no', type: 'text' },
          { key: 'cardType', label: 'screen.stats.col.card_type', type: 'text' },
          { key: 'consumption', label: 'screen.stats.col.consumption', type: 'text' },
          { key: 'cashier', label: 'screen.stats.col.cashier', type: 'text' },
          { key: 'uses', label: 'screen.stats.col.uses', type: 'integer', total: 'sum' },
          { key: 'remaining', label: 'screen.stats.col.remaining', type: 'integer' },
          { key: 'amount', label: 'screen.stats.col.amount', type: 'money_fen', total: 'sum' },
        ],
        rows: result.rows.map((r) => ({
          at: r.at, cardNo: r.cardNo, cardType: r.cardType ?? t('screen.stats.unknown'), consumption: consumption(r.consumption), cashier: cashier(r.cashier),
          uses: r.uses, remaining: r.remaining, amount: r.amountFen,
        })),
      };
    }
    const by = query.groupBy;
    const label = (key: string | null): string | null => {
      switch (by) {
        case 'day': return key;
        case 'cashier': return cashier(key);
        case 'consumptionType': return consumption(key);
        case 'cardType': return key ?? t('screen.stats.unknown');
      }
    };
    return {
      columns: [
        { key: 'group', label: GROUP_COLUMN[by], type: by === 'day' ? 'date' : 'text' },
        { key: 'ops', label: 'screen.stats.col.ops', type: 'integer', total: 'sum' },
        { key: 'uses', label: 'screen.stats.col.uses', type: 'integer', total: 'sum' },
        { key: 'amount', label: 'screen.stats.col.amount', type: 'money_fen', total: 'sum' },
      ],
      rows: result.rows.map((g) => ({ group: label(g.key), ops: g.ops, uses: g.uses, amount: g.amountFen })),
    };
  }

  /** Writes the whole result as a file and offers it to the host; says what came of it. */
  private async export(action: ExportAction, query: StatsQuery, result: StatsResult): Promise<Notice> {
    const { ctx } = this;
    const format = FORMATS[action];
    const locale = ctx.i18n.locale;
    const { columns, rows } = await this.table(query, result, (key, params) => translate(locale, key, params));
    const period = query.day ?? (query.from || query.to ? `${query.from ?? ''}_${query.to ?? ''}` : ctx.date(ctx.nowSeconds()));
    const stem = `${query.report === 'detail' ? 'redemptions' : `redemptions-by-${query.groupBy}`}-${period}`;
    const both = (key: MessageKey) => ({ 'zh-CN': translate('zh-CN', key), en: translate('en', key) });
    const report: ReportTable = {
      name: stem,
      title: both(query.report === 'detail' ? 'screen.stats.report.detail' : 'screen.stats.report.summary'),
      columns: columns.map((c): ReportColumn => ({ key: c.key, type: c.type, header: both(c.label), ...(c.total && { total: c.total }) })),
      rows,
      rowCount: rows.length,
    };
    const what = query.report === 'detail' ? [] : [translate(locale, `screen.stats.group.${query.groupBy}`)];
    // A file outlives the screen's banner: one made from this till's records alone says so in its name.
    const whose = result.source === 'local' ? [translate(locale, 'screen.stats.file_local')] : [];
    const name = `${[translate(locale, 'screen.stats.file_name'), ...what, period, ...whose].join('-').replace(/\s+/g, '-')}.${format.ext}`;
    const offerFile = ctx.ui.offerFile?.bind(ctx.ui);
    if (!offerFile) return { tone: 'critical', key: 'screen.stats.export_failed' };
    try {
      const chunks: Buffer[] = [];
      const out = new Writable({
        write(chunk: Buffer, _encoding, done) {
          chunks.push(chunk);
          done();
        },
      });
      const written = await format.write(report, out, { locale, timeZone: ctx.config.timeZone });
      await offerFile({ name, mimeType: format.mimeType, data: new Uint8Array(Buffer.concat(chunks)) });
      return { tone: 'success', key: 'screen.stats.exported', params: { name, rows: written.rowsWritten } };
    } catch (e) {
      ctx.logger.warn({ err: String(e), report: stem }, 'a statistics export failed');
      return { tone: 'critical', key: 'screen.stats.export_failed' };
    }
  }
}
