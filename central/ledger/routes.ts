/** The shadow ledger over HTTP: terminals record redemptions, HQ records top-ups, staff read history. */
import { z } from 'zod';
import type { components, operations } from '../client/schema.ts';
import { defineRoute } from '../http/route.ts';
import { id, specSchema, text } from '../http/validation.ts';
import type { CentralModule } from '../platform.ts';
import { fen } from '../card-types/routes.ts';
import { CardPath, cardNo, cardSeq, timestamp } from '../cards/routes.ts';
import { ShadowLedger } from './shadow-ledger.ts';

type S = components['schemas'];

const uses = z.number().int('must be a whole number').min(1, 'must be at least 1').max(10_000, 'must be at most 10000');
const remaining = z.number().int('must be a whole number').min(0, 'must not be negative').max(1_000_000, 'must be at most 1000000');

export const LedgerOpCreate = specSchema<S['LedgerOpCreate']>()(
  z.strictObject({
    opId: id,
    cardNo,
    seq: cardSeq,
    uses,
    remainingAfter: remaining,
    consumptionType: z.enum(['ticket', 'concession']),
    amountFen: fen.optional(),
    cashier: text(1, 64).optional(),
    occurredAt: timestamp,
  }),
);

export const CardTopUp = specSchema<S['CardTopUp']>()(
  z.strictObject({ opId: id, seq: cardSeq, uses, remainingAfter: remaining, occurredAt: timestamp }),
);

export const HistoryQuery = specSchema<NonNullable<operations['getCardHistory']['parameters']['query']>>()(
  z.strictObject({ scope: z.enum(['current', 'all']).optional() }),
);

export const ledgerModule: CentralModule = {
  name: 'ledger',
  routes: ({ db, clock, audit }) => {
    const ledger = new ShadowLedger(db, clock, audit);
    return [
      defineRoute({
        path: '/v1/ledger/ops',
        method: 'post',
        permission: 'sync.upload',
        body: LedgerOpCreate,
        handler: async ({ body }, { principal }) => ({ status: 200, body: await ledger.recordRedemption(principal, body) }),
      }),
      defineRoute({
        path: '/v1/cards/{cardNo}/top-ups',
        method: 'post',
        permission: 'cards.top_up',
        params: CardPath,
        body: CardTopUp,
        handler: async ({ params, body }, { principal }) => ({
          status: 200,
          body: await ledger.recordTopUp(principal, params.cardNo, body),
        }),
      }),
      defineRoute({
        path: '/v1/cards/{cardNo}/history',
        method: 'get',
        permission: 'cards.history',
        params: CardPath,
        query: HistoryQuery,
        handler: async ({ params, query }) => ({ status: 200, body: await ledger.history(params.cardNo, query.scope ?? 'current') }),
      }),
    ];
  },
};
