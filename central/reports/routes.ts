/**
 * Statistics over HTTP. Two families with the same queries: `/v1/reports/…` for HQ (`stats.global`,
 * `settlement.read`) — a principal bound to a cinema (an HQ user on a terminal) still sees only that
 * cinema — and `/v1/cinemas/{cinemaId}/reports/…` for a cinema's own staff (`stats.local`), scoped
 * by the path.
 */
import { z } from 'zod';
import type { operations } from '../client/schema.ts';
import { requireCinema, requirePermission, type Principal } from '../auth/principal.ts';
import { CentralError } from '../errors.ts';
import { defineRoute, type RequestContext } from '../http/route.ts';
import { calendarDay as date, id, specSchema, text } from '../http/validation.ts';
import type { CentralModule } from '../platform.ts';
import { cardNo, timestamp } from '../cards/routes.ts';
import { rebuildRollups, rollupTimeZone } from './rollups.ts';
import { type GroupKey, type ReportFilter, Statistics } from './statistics.ts';
import { sendExport } from './export/index.ts';
import { reportMessages } from './messages.ts';
import { type ReportKind, reportKinds, reportTable } from './report-tables.ts';

type Query<Op extends keyof operations> = NonNullable<operations[Op]['parameters']['query']>;

const filterFields = {
  cinemaId: id.optional(),
  day: date.optional(),
  from: date.optional(),
  to: date.optional(),
  since: timestamp.optional(),
  until: timestamp.optional(),
  cardNo: cardNo.optional(),
  cardNoFrom: cardNo.optional(),
  cardNoTo: cardNo.optional(),
  cashier: text(1, 64).optional(),
  consumptionType: z.enum(['ticket', 'concession']).optional(),
  cardTypeId: id.optional(),
  groupBy: z
    .string()
    .max(100)
    .regex(/^(day|cinema|cardType|consumptionType|cashier)(,(day|cinema|cardType|consumptionType|cashier))*$/, 'must list day, cinema, cardType, consumptionType or cashier, separated by commas')
    .optional(),
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int('must be a whole number').min(1, 'must be at least 1').max(1000, 'must be at most 1000').optional(),
};
const pick = <K extends keyof typeof filterFields>(...keys: K[]) => Object.fromEntries(keys.map((k) => [k, filterFields[k]])) as Pick<typeof filterFields, K>;
const noCinema = <T extends object>(fields: T) => {
  const { cinemaId: _drop, ...rest } = fields as T & { cinemaId?: unknown };
  return rest as Omit<T, 'cinemaId'>;
};

const exportFields = {
  ...pick('groupBy', 'cinemaId', 'day', 'from', 'to', 'since', 'until', 'cardNo', 'cardNoFrom', 'cardNoTo', 'cashier', 'consumptionType', 'cardTypeId'),
  report: z.enum(reportKinds),
  format: z.enum(['xlsx', 'csv']),
};
const detailFields = pick('cinemaId', 'day', 'from', 'to', 'since', 'until', 'cardNo', 'cardNoFrom', 'cardNoTo', 'cashier', 'consumptionType', 'cardTypeId', 'cursor', 'limit');
const summaryFields = pick('groupBy', 'cinemaId', 'day', 'from', 'to', 'cardNo', 'cardNoFrom', 'cardNoTo', 'cashier', 'consumptionType', 'cardTypeId');
const periodFields = pick('cinemaId', 'day', 'from', 'to', 'cardTypeId');
const liabilityFields = pick('cinemaId', 'cardTypeId');

export const RedemptionQuery = specSchema<Query<'listRedemptions'>>()(z.strictObject(detailFields));
export const SummaryQuery = specSchema<Query<'summarizeRedemptions'>>()(z.strictObject(summaryFields));
export const SettlementQuery = specSchema<Query<'getSettlement'>>()(z.strictObject(periodFields));
export const LiabilityQuery = specSchema<Query<'getLiability'>>()(z.strictObject(liabilityFields));
export const RecycledQuery = specSchema<Query<'listRecycledCards'>>()(z.strictObject(periodFields));
export const CinemaRedemptionQuery = specSchema<Query<'listCinemaRedemptions'>>()(z.strictObject(noCinema(detailFields)));
export const CinemaSummaryQuery = specSchema<Query<'summarizeCinemaRedemptions'>>()(z.strictObject(noCinema(summaryFields)));
export const CinemaLiabilityQuery = specSchema<Query<'getCinemaLiability'>>()(z.strictObject(noCinema(liabilityFields)));
export const CinemaRecycledQuery = specSchema<Query<'listCinemaRecycledCards'>>()(z.strictObject(noCinema(periodFields)));
export const ExportQuery = specSchema<Query<'exportReport'>>()(z.strictObject(exportFields));
export const CinemaExportQuery = specSchema<Query<'exportCinemaReport'>>()(
  z.strictObject({ ...noCinema(exportFields), report: z.enum(reportKinds.filter((k) => k !== 'settlement') as [Exclude<ReportKind, 'settlement'>, ...Exclude<ReportKind, 'settlement'>[]]) }),
);
export const CinemaPath = specSchema<{ cinemaId: string }>()(z.strictObject({ cinemaId: id }));

/**
 * The cinema an HQ-route caller sees: the one asked for (which it must be allowed to act for), else
 * the one it is bound to, else every cinema.
 */
export function scopedCinema(principal: Principal, asked: string | undefined): string | undefined {
  if (asked !== undefined) requireCinema(principal, asked);
  return asked ?? principal.cinemaId ?? undefined;
}

export function groupByOf(value: string | undefined): GroupKey[] {
  return value === undefined ? [] : (value.split(',') as GroupKey[]);
}

type ExportInput = ReportFilter & { readonly report: ReportKind; readonly format: 'xlsx' | 'csv'; readonly groupBy?: string | undefined };

export const reportsModule: CentralModule = {
  name: 'reports',
  routes: ({ db, clock, config }) => {
    const stats = new Statistics(db);
    const page = (q: { cursor?: string | undefined; limit?: number | undefined }) => ({ cursor: q.cursor, limit: q.limit ?? 100 });
    /** Builds the report's table (a bad filter throws here, before any byte is sent) and streams it. */
    const download = async (principal: Principal, { report, format, groupBy, ...filter }: ExportInput, ctx: Pick<RequestContext<'exports.global'>, 'stream' | 'locale'>) => {
      if (report === 'settlement') requirePermission(principal, 'settlement.read');
      if (report === 'card-history' && filter.cardNo === undefined) throw new CentralError(reportMessages.report_needs_card);
      const table = await reportTable(stats, { kind: report, filter, groupBy: groupByOf(groupBy), locale: ctx.locale, now: clock.now() });
      ctx.stream((reply) => sendExport(reply, table, { format, locale: ctx.locale, timeZone: config.reports.timeZone }));
      return { status: 200 as const };
    };
    return [
      defineRoute({
        path: '/v1/reports/redemptions',
        method: 'get',
        permission: 'stats.global',
        query: RedemptionQuery,
        handler: async ({ query }, { principal }) => ({
          status: 200,
          body: await stats.redemptions({ ...query, cinemaId: scopedCinema(principal, query.cinemaId) }, page(query)),
        }),
      }),
      defineRoute({
        path: '/v1/reports/redemptions/summary',
        method: 'get',
        permission: 'stats.global',
        query: SummaryQuery,
        handler: async ({ query }, { principal }) => ({
          status: 200,
          body: await stats.summary({ ...query, cinemaId: scopedCinema(principal, query.cinemaId) }, groupByOf(query.groupBy)),
        }),
      }),
      defineRoute({
        path: '/v1/reports/settlement',
        method: 'get',
        permission: 'settlement.read',
        query: SettlementQuery,
        handler: async ({ query }, { principal }) => ({
          status: 200,
          body: await stats.settlement({ ...query, cinemaId: scopedCinema(principal, query.cinemaId) }),
        }),
      }),
      defineRoute({
        path: '/v1/reports/liability',
        method: 'get',
        permission: 'stats.global',
        query: LiabilityQuery,
        handler: async ({ query }, { principal }) => ({
          status: 200,
          body: await stats.liability({ ...query, cinemaId: scopedCinema(principal, query.cinemaId) }, clock.now()),
        }),
      }),
      defineRoute({
        path: '/v1/reports/recycled',
        method: 'get',
        permission: 'stats.global',
        query: RecycledQuery,
        handler: async ({ query }, { principal }) => ({
          status: 200,
          body: await stats.recycled({ ...query, cinemaId: scopedCinema(principal, query.cinemaId) }),
        }),
      }),
      defineRoute({
        path: '/v1/reports/export',
        method: 'get',
        permission: 'exports.global',
        query: ExportQuery,
        handler: async ({ query }, { principal, stream, locale }) => download(principal, { ...query, cinemaId: scopedCinema(principal, query.cinemaId) }, { stream, locale }),
      }),
      defineRoute({
        path: '/v1/cinemas/{cinemaId}/reports/export',
        method: 'get',
        permission: 'exports.local',
        params: CinemaPath,
        query: CinemaExportQuery,
        cinemaOf: ({ params }) => params.cinemaId,
        handler: async ({ params, query }, { principal, stream, locale }) => download(principal, { ...query, cinemaId: params.cinemaId }, { stream, locale }),
      }),
      defineRoute({
        path: '/v1/cinemas/{cinemaId}/reports/redemptions',
        method: 'get',
        permission: 'stats.local',
        params: CinemaPath,
        query: CinemaRedemptionQuery,
        cinemaOf: ({ params }) => params.cinemaId,
        handler: async ({ params, query }) => ({ status: 200, body: await stats.redemptions({ ...query, cinemaId: params.cinemaId }, page(query)) }),
      }),
      defineRoute({
        path: '/v1/cinemas/{cinemaId}/reports/redemptions/summary',
        method: 'get',
        permission: 'stats.local',
        params: CinemaPath,
        query: CinemaSummaryQuery,
        cinemaOf: ({ params }) => params.cinemaId,
        handler: async ({ params, query }) => ({
          status: 200,
          body: await stats.summary({ ...query, cinemaId: params.cinemaId }, groupByOf(query.groupBy)),
        }),
      }),
      defineRoute({
        path: '/v1/cinemas/{cinemaId}/reports/liability',
        method: 'get',
        permission: 'stats.local',
        params: CinemaPath,
        query: CinemaLiabilityQuery,
        cinemaOf: ({ params }) => params.cinemaId,
        handler: async ({ params, query }) => ({ status: 200, body: await stats.liability({ ...query, cinemaId: params.cinemaId }, clock.now()) }),
      }),
      defineRoute({
        path: '/v1/cinemas/{cinemaId}/reports/recycled',
        method: 'get',
        permission: 'stats.local',
        params: CinemaPath,
        query: CinemaRecycledQuery,
        cinemaOf: ({ params }) => params.cinemaId,
        handler: async ({ params, query }) => ({ status: 200, body: await stats.recycled({ ...query, cinemaId: params.cinemaId }) }),
      }),
    ];
  },
  /** The rollup's days follow the configured time zone: a changed zone recomputes it once. */
  async install(_app, { db, config, log }) {
    const wanted = config.reports.timeZone;
    const current = await rollupTimeZone(db);
    if (current !== wanted) {
      log.info({ from: current, to: wanted }, 'reports: time zone changed, recomputing the daily rollup');
      await rebuildRollups(db, wanted);
    }
  },
};
