/**
 * Statistics over HTTP. Two families with the same queries: `/v1/reports/…` for HQ (`stats.global`,
 * `settlement.read`) — a principal bound to a cinema (an HQ user on a terminal) still sees only that
 * cinema — and `/v1/cinemas/{cinemaId}/reports/…` for a cinema's own staff (`stats.local`), scoped
 * by the path.
 */
import { z } from 'zod';
import type { operations } from '../client/schema.ts';
import { requireCinema, type Principal } from '../auth/principal.ts';
import { defineRoute } from '../http/route.ts';
import { id, specSchema, text } from '../http/validation.ts';
import type { CentralModule } from '../platform.ts';
import { cardNo, timestamp } from '../cards/routes.ts';
import { rebuildRollups, rollupTimeZone } from './rollups.ts';
import { type GroupKey, Statistics } from './statistics.ts';

type Query<Op extends keyof operations> = NonNullable<operations[Op]['parameters']['query']>;

const date = z.iso.date({ message: 'must be a day like 2025-01-31' });
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

export const reportsModule: CentralModule = {
  name: 'reports',
  routes: ({ db, clock }) => {
    const stats = new Statistics(db);
    const page = (q: { cursor?: string | undefined; limit?: number | undefined }) => ({ cursor: q.cursor, limit: q.limit ?? 100 });
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
