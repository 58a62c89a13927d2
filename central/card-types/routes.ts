/** Card types over HTTP: HQ operators keep them; every principal reads them. */
import { z } from 'zod';
import type { components } from '../client/schema.ts';
import { defineRoute } from '../http/route.ts';
import { calendarDay, id, specSchema, text } from '../http/validation.ts';
import type { CentralModule } from '../platform.ts';
import { CardTypeStore } from './card-type-store.ts';

type S = components['schemas'];

export const fen = z.number().int('must be a whole number of fen').min(0, 'must not be negative').max(100_000_000, 'must be at most 100000000 fen');
export const CardTypePath = specSchema<{ cardTypeId: string }>()(z.strictObject({ cardTypeId: id }));

const usesPerCard = z.number().int('must be a whole number').min(1, 'must be at least 1').max(10_000, 'must be at most 10000');
const validityDays = z.number().int('must be a whole number').min(1, 'must be at least 1').max(3660, 'must be at most 3660');

export const CardTypeCreate = specSchema<S['CardTypeCreate']>()(
  z.strictObject({
    name: text(1, 100),
    usesPerCard,
    settlementPricePerUseFen: fen,
    salePriceFen: fen.nullable().optional(),
    concessionValuePerUseFen: fen,
    validityDays: validityDays.optional(),
  }),
);

export const CardTypeUpdate = specSchema<S['CardTypeUpdate']>()(
  z
    .strictObject({
      name: text(1, 100).optional(),
      usesPerCard: usesPerCard.optional(),
      settlementPricePerUseFen: fen.optional(),
      salePriceFen: fen.nullable().optional(),
      concessionValuePerUseFen: fen.optional(),
      validityDays: validityDays.optional(),
      pricesEffectiveFrom: calendarDay.optional(),
    })
    .refine((v) => Object.keys(v).length > 0, 'must change at least one field'),
);

export const cardTypesModule: CentralModule = {
  name: 'card-types',
  routes: ({ config, db, clock, audit }) => {
    const cardTypes = new CardTypeStore(db, clock, audit, config.reports.timeZone, config.minUsesPerCard);
    return [
      defineRoute({
        path: '/v1/card-types',
        method: 'get',
        permission: 'authenticated',
        handler: async () => ({ status: 200, body: { items: await cardTypes.list() } }),
      }),
      defineRoute({
        path: '/v1/card-types',
        method: 'post',
        permission: 'card_types.manage',
        body: CardTypeCreate,
        handler: async ({ body }, { principal }) => ({ status: 201, body: await cardTypes.create(principal, body) }),
      }),
      defineRoute({
        path: '/v1/card-types/{cardTypeId}',
        method: 'get',
        permission: 'authenticated',
        params: CardTypePath,
        handler: async ({ params }) => ({ status: 200, body: await cardTypes.get(params.cardTypeId) }),
      }),
      defineRoute({
        path: '/v1/card-types/{cardTypeId}',
        method: 'patch',
        permission: 'card_types.manage',
        params: CardTypePath,
        body: CardTypeUpdate,
        handler: async ({ params, body }, { principal }) => ({
          status: 200,
          body: await cardTypes.update(principal, params.cardTypeId, body),
        }),
      }),
      defineRoute({
        path: '/v1/card-types/{cardTypeId}/prices',
        method: 'get',
        permission: 'authenticated',
        params: CardTypePath,
        handler: async ({ params }) => ({ status: 200, body: { items: await cardTypes.prices(params.cardTypeId) } }),
      }),
    ];
  },
};
