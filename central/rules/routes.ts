/** Redemption rules over HTTP: a cinema's manager keeps them; its staff, its terminals and HQ read them. */
import { z } from 'zod';
import type { components } from '../client/schema.ts';
import { defineRoute } from '../http/route.ts';
import { id, specSchema, text } from '../http/validation.ts';
import type { CentralModule } from '../platform.ts';
import { CinemaStore } from '../cinemas/cinema-store.ts';
import { RedemptionRules } from './redemption-rules.ts';

type S = components['schemas'];

const hhmm = z.string().regex(/^([01][0-9]|2[0-3]):[0-5][0-9]$/, 'must be a time HH:MM');
export const DayPart = specSchema<S['DayPart']>()(z.strictObject({ from: hhmm, to: hhmm }));
const usesPerTicket = z.number().int('must be a whole number').min(1, 'must be at least 1').max(100, 'must be at most 100');
const valuePerUseFen = z.number().int('must be a whole number').min(1, 'must be at least 1').max(100_000_000, 'must be at most 100000000');
const priority = z.number().int('must be a whole number').min(0, 'must not be negative').max(1000, 'must be at most 1000');

export const RulesPath = specSchema<{ cinemaId: string }>()(z.strictObject({ cinemaId: id }));
export const RulePath = specSchema<{ cinemaId: string; ruleId: string }>()(z.strictObject({ cinemaId: id, ruleId: id }));

export const RedemptionRuleCreate = specSchema<S['RedemptionRuleCreate']>()(
  z.strictObject({
    kind: z.enum(['ticket', 'concession']),
    name: text(1, 100),
    cardTypeId: id.optional(),
    film: text(1, 100).optional(),
    format: text(1, 32).optional(),
    dayPart: DayPart.optional(),
    usesPerTicket: usesPerTicket.optional(),
    valuePerUseFen: valuePerUseFen.optional(),
    priority: priority.optional(),
  }),
);

export const RedemptionRuleUpdate = specSchema<S['RedemptionRuleUpdate']>()(
  z
    .strictObject({
      name: text(1, 100).optional(),
      cardTypeId: id.nullable().optional(),
      film: text(1, 100).nullable().optional(),
      format: text(1, 32).nullable().optional(),
      dayPart: DayPart.nullable().optional(),
      usesPerTicket: usesPerTicket.optional(),
      valuePerUseFen: valuePerUseFen.optional(),
      priority: priority.optional(),
    })
    .refine((v) => Object.keys(v).length > 0, 'must change at least one field'),
);

export const rulesModule: CentralModule = {
  name: 'rules',
  routes: ({ db, clock, audit }) => {
    const rules = new RedemptionRules(db, clock, audit, new CinemaStore(db));
    return [
      defineRoute({
        path: '/v1/cinemas/{cinemaId}/redemption-rules',
        method: 'get',
        permission: 'cinemas.read',
        params: RulesPath,
        cinemaOf: ({ params }) => params.cinemaId,
        handler: async ({ params }) => ({ status: 200, body: { items: await rules.list(params.cinemaId) } }),
      }),
      defineRoute({
        path: '/v1/cinemas/{cinemaId}/redemption-rules',
        method: 'post',
        permission: 'rules.manage',
        params: RulesPath,
        body: RedemptionRuleCreate,
        cinemaOf: ({ params }) => params.cinemaId,
        handler: async ({ params, body }, { principal }) => ({ status: 201, body: await rules.create(principal, params.cinemaId, body) }),
      }),
      defineRoute({
        path: '/v1/cinemas/{cinemaId}/redemption-rules/{ruleId}',
        method: 'patch',
        permission: 'rules.manage',
        params: RulePath,
        body: RedemptionRuleUpdate,
        cinemaOf: ({ params }) => params.cinemaId,
        handler: async ({ params, body }, { principal }) => ({
          status: 200,
          body: await rules.update(principal, params.cinemaId, params.ruleId, body),
        }),
      }),
      defineRoute({
        path: '/v1/cinemas/{cinemaId}/redemption-rules/{ruleId}',
        method: 'delete',
        permission: 'rules.manage',
        params: RulePath,
        cinemaOf: ({ params }) => params.cinemaId,
        handler: async ({ params }, { principal }) => {
          await rules.remove(principal, params.cinemaId, params.ruleId);
          return { status: 204 };
        },
      }),
    ];
  },
};
