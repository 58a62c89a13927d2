/**
 * The card registry over HTTP. Who may act on a card: the route's permission, then the cinema — the
 * one named in the body (sale, re-issue) or the card's own (renewal, blacklist), checked in the
 * registry because it is known only once the card is read.
 */
import { z } from 'zod';
import type { components, operations } from '../client/schema.ts';
import { defineRoute } from '../http/route.ts';
import { id, specSchema, text } from '../http/validation.ts';
import type { CentralModule, Platform } from '../platform.ts';
import { CardTypeStore } from '../card-types/card-type-store.ts';
import { CinemaStore } from '../cinemas/cinema-store.ts';
import { CardRegistry } from './card-registry.ts';
import { ShadowLedger } from '../ledger/shadow-ledger.ts';
import { cardStates } from './lifecycle.ts';
import { CardRebuildBody, rebuildProgress } from './card-rebuild.ts';
import { isoTime } from '../store/ids.ts';

type S = components['schemas'];

export const cardNo = z.string().regex(/^[0-9]{4,20}$/, 'must be 4 to 20 digits');
export const cardUid = z.string().regex(/^([0-9A-F]{8}|[0-9A-F]{14}|[0-9A-F]{20})$/, 'must be 8, 14 or 20 upper-case hex digits');
/** A UTC time as the API writes them: ISO-8601 ending in `Z`. */
export const timestamp = z.iso.datetime({ message: 'must be a UTC time like 2025-01-31T08:00:00.000Z' });
export const cardSeq = z.number().int('must be a whole number').min(1, 'must be at least 1').max(2_000_000_000, 'must be at most 2000000000');
const uses = z.number().int('must be a whole number').min(1, 'must be at least 1').max(10_000, 'must be at most 10000');

export const CardPath = specSchema<{ cardNo: string }>()(z.strictObject({ cardNo }));

export const CardQuery = specSchema<NonNullable<operations['listCards']['parameters']['query']>>()(
  z.strictObject({
    state: z.enum(cardStates).optional(),
    cinemaId: id.optional(),
    cardTypeId: id.optional(),
    recycledSince: timestamp.optional(),
    after: cardNo.optional(),
    limit: z.coerce.number().int('must be a whole number').min(1, 'must be at least 1').max(500, 'must be at most 500').optional(),
  }),
);

export const CardBatchCreate = specSchema<S['CardBatchCreate']>()(
  z.strictObject({
    cardTypeId: id,
    uses: uses.optional(),
    expiresAt: timestamp.optional(),
    cards: z
      .array(z.strictObject({ cardNo, uid: cardUid }))
      .min(1, 'must list at least one card')
      .max(1000, 'must list at most 1000 cards'),
  }),
);

export const CardActivate = specSchema<S['CardActivate']>()(
  z.strictObject({ cinemaId: id, expiresAt: timestamp.optional(), seq: cardSeq }),
);
export const CardRenew = specSchema<S['CardRenew']>()(z.strictObject({ expiresAt: timestamp, seq: cardSeq }));
export const BlacklistChange = specSchema<S['BlacklistChange']>()(z.strictObject({ reason: text(1, 200) }));
export const CardRecycle = specSchema<S['CardRecycle']>()(z.strictObject({ note: text(1, 200).optional(), seq: cardSeq.optional() }));
export const CardReissue = specSchema<S['CardReissue']>()(
  z.strictObject({ cinemaId: id, uses: uses.optional(), expiresAt: timestamp.optional(), seq: cardSeq }),
);
export const RebuildProgressQuery = specSchema<NonNullable<operations['getRebuildProgress']['parameters']['query']>>()(
  z.strictObject({ cinemaId: id.optional(), since: timestamp.optional() }),
);
export const CardRebuild = specSchema<S['CardRebuild']>()(CardRebuildBody);

export const CardTypeChange = specSchema<S['CardTypeChange']>()(z.strictObject({ cardTypeId: id }));

/** The registry over the platform's database (the cards module's, and sync ingest's for terminals' changes). */
export function cardRegistryOf({ config, db, clock, audit }: Platform): CardRegistry {
  return new CardRegistry(db, clock, audit, new CardTypeStore(db, clock, audit, config.reports.timeZone, config.minUsesPerCard), new CinemaStore(db), new ShadowLedger(db, clock, audit));
}

export const cardsModule: CentralModule = {
  name: 'cards',
  routes: (platform) => {
    const { db } = platform;
    const cards = cardRegistryOf(platform);
    return [
      defineRoute({
        path: '/v1/card-batches',
        method: 'post',
        permission: 'cards.make',
        body: CardBatchCreate,
        handler: async ({ body }, { principal }) => ({ status: 201, body: await cards.registerBatch(principal, body) }),
      }),
      defineRoute({
        path: '/v1/cards',
        method: 'get',
        permission: 'authenticated',
        query: CardQuery,
        handler: async ({ query }, { principal }) => ({
          status: 200,
          body: await cards.list(principal, { ...query, limit: query.limit ?? 100 }),
        }),
      }),
      defineRoute({
        path: '/v1/cards/{cardNo}',
        method: 'get',
        permission: 'authenticated',
        params: CardPath,
        handler: async ({ params }) => ({ status: 200, body: await cards.get(params.cardNo) }),
      }),
      defineRoute({
        path: '/v1/cards/{cardNo}/activate',
        method: 'post',
        permission: 'cards.sell',
        params: CardPath,
        body: CardActivate,
        cinemaOf: ({ body }) => body.cinemaId,
        handler: async ({ params, body }, { principal }) => ({ status: 200, body: await cards.activate(principal, params.cardNo, body) }),
      }),
      defineRoute({
        path: '/v1/cards/{cardNo}/renew',
        method: 'post',
        permission: 'cards.renew',
        params: CardPath,
        body: CardRenew,
        handler: async ({ params, body }, { principal }) => ({ status: 200, body: await cards.renew(principal, params.cardNo, body) }),
      }),
      defineRoute({
        path: '/v1/cards/{cardNo}/blacklist',
        method: 'post',
        permission: 'blacklist.manage',
        params: CardPath,
        body: BlacklistChange,
        handler: async ({ params, body }, { principal }) => ({
          status: 200,
          body: await cards.blacklist(principal, params.cardNo, body.reason),
        }),
      }),
      defineRoute({
        path: '/v1/cards/{cardNo}/unblacklist',
        method: 'post',
        permission: 'blacklist.manage',
        params: CardPath,
        body: BlacklistChange,
        handler: async ({ params, body }, { principal }) => ({
          status: 200,
          body: await cards.unblacklist(principal, params.cardNo, body.reason),
        }),
      }),
      defineRoute({
        path: '/v1/cards/{cardNo}/recycle',
        method: 'post',
        permission: 'cards.reissue',
        params: CardPath,
        body: CardRecycle,
        handler: async ({ params, body }, { principal }) => ({ status: 200, body: await cards.recycle(principal, params.cardNo, body) }),
      }),
      defineRoute({
        path: '/v1/cards/{cardNo}/reissue',
        method: 'post',
        permission: 'cards.reissue',
        params: CardPath,
        body: CardReissue,
        cinemaOf: ({ body }) => body.cinemaId,
        handler: async ({ params, body }, { principal }) => ({ status: 200, body: await cards.reissue(principal, params.cardNo, body) }),
      }),
      defineRoute({
        path: '/v1/rebuild/cards',
        method: 'post',
        permission: 'cards.rebuild',
        body: CardRebuild,
        handler: async ({ body }, { principal }) => {
          const { ledgerRow: _row, ...answer } = await cards.rebuild(principal, body);
          return { status: 200, body: answer };
        },
      }),
      defineRoute({
        path: '/v1/rebuild/progress',
        method: 'get',
        permission: 'cards.rebuild',
        query: RebuildProgressQuery,
        handler: async ({ query }, { principal }) => ({ status: 200, body: await rebuildProgress(db, principal, query, isoTime(platform.clock.now())) }),
      }),
      defineRoute({
        path: '/v1/cards/{cardNo}/change-type',
        method: 'post',
        permission: 'cards.change_type',
        params: CardPath,
        body: CardTypeChange,
        handler: async ({ params, body }, { principal }) => ({ status: 200, body: await cards.changeType(principal, params.cardNo, body) }),
      }),
    ];
  },
};
