/**
 * The card domain's rows of the authorization matrix (`central/authz-matrix.test.ts`), written by
 * hand from DESIGN §5 and issue 3. Each call makes its own card or rule first (as the HQ admin), so
 * every actor meets the same starting state. Cinema users and the terminal are all of cinema A; a
 * terminal alone may sell, a user logged in on it has only their own roles' permissions.
 */
import { v7 } from 'uuid';
import type { CentralClient, Schemas } from '../client/index.ts';
import { ok } from '../test-support/harness.ts';
import type { MatrixFixtures, MatrixRow } from '../authz-matrix.test.ts';
import { freshCard, redemption } from './card-fixtures.ts';

type Target = 'A' | 'B';
type Actor = MatrixRow['allowed'][number];

const admins: Actor[] = ['admin', 'admin_on_terminal'];
const principals: Actor[] = ['terminal', 'admin', 'admin_on_terminal', 'operator', 'statistician', 'manager', 'local_statistician', 'customer_query', 'salesperson'];
/** Who may sell at cinema A: its terminal by itself, and the cinema roles that sell. */
const sellersAtA: Actor[] = ['terminal', 'admin_on_terminal', 'manager', 'salesperson'];

const cardTypes = new WeakMap<MatrixFixtures, Promise<Schemas['CardType']>>();
function cardType(f: MatrixFixtures): Promise<Schemas['CardType']> {
  let made = cardTypes.get(f);
  if (!made) {
    made = f.central.admin.client
      .POST('/v1/card-types', { body: { name: f.central.unique('Matrix '), usesPerCard: 10, settlementPricePerUseFen: 3000, concessionValuePerUseFen: 1000 } })
      .then(ok);
    cardTypes.set(f, made);
  }
  return made;
}

const admin = (f: MatrixFixtures): CentralClient => f.central.admin.client;
const card = (cardNo: string) => ({ params: { path: { cardNo } } });

async function madeCard(f: MatrixFixtures): Promise<string> {
  const type = await cardType(f);
  const c = freshCard();
  ok(await admin(f).POST('/v1/card-batches', { body: { cardTypeId: type.id, cards: [c] } }));
  return c.cardNo;
}

/** Sold at cinema `t`; its record at seq 2. */
async function soldCard(f: MatrixFixtures, t: Target): Promise<string> {
  const cardNo = await madeCard(f);
  ok(await admin(f).POST('/v1/cards/{cardNo}/activate', { ...card(cardNo), body: { cinemaId: f.cinemas[t].id, seq: 2 } }));
  return cardNo;
}

/** Sold at cinema `t`, then handed back (seq 3). */
async function recycledCard(f: MatrixFixtures, t: Target): Promise<string> {
  const cardNo = await soldCard(f, t);
  ok(await admin(f).POST('/v1/cards/{cardNo}/recycle', { ...card(cardNo), body: { seq: 3 } }));
  return cardNo;
}

async function rule(f: MatrixFixtures, t: Target): Promise<{ params: { path: { cinemaId: string; ruleId: string } } }> {
  const cinemaId = f.cinemas[t].id;
  const made = ok(
    await admin(f).POST('/v1/cinemas/{cinemaId}/redemption-rules', {
      params: { path: { cinemaId } },
      body: { kind: 'ticket', name: 'Matrix rule', usesPerTicket: 1 },
    }),
  );
  return { params: { path: { cinemaId, ruleId: made.id } } };
}

const later = () => new Date(Date.now() + 30 * 86_400_000).toISOString();
const rules = (f: MatrixFixtures, t: Target) => ({ params: { path: { cinemaId: f.cinemas[t].id } } });

export const cardDomainRows: MatrixRow[] = [
  { operationId: 'listCardTypes', allowed: principals, scoped: false, call: (c) => c.GET('/v1/card-types') },
  {
    operationId: 'createCardType',
    allowed: [...admins, 'operator'],
    scoped: false,
    call: (c, _t, f) =>
      c.POST('/v1/card-types', { body: { name: f.central.unique('MT '), usesPerCard: 10, settlementPricePerUseFen: 1, concessionValuePerUseFen: 1 } }),
  },
  {
    operationId: 'getCardType',
    allowed: principals,
    scoped: false,
    call: async (c, _t, f) => c.GET('/v1/card-types/{cardTypeId}', { params: { path: { cardTypeId: (await cardType(f)).id } } }),
  },
  {
    operationId: 'updateCardType',
    allowed: [...admins, 'operator'],
    scoped: false,
    call: async (c, _t, f) =>
      c.PATCH('/v1/card-types/{cardTypeId}', { params: { path: { cardTypeId: (await cardType(f)).id } }, body: { settlementPricePerUseFen: 3100 } }),
  },
  {
    operationId: 'listCardTypePrices',
    allowed: principals,
    scoped: false,
    call: async (c, _t, f) => c.GET('/v1/card-types/{cardTypeId}/prices', { params: { path: { cardTypeId: (await cardType(f)).id } } }),
  },
  {
    operationId: 'registerCardBatch',
    allowed: [...admins, 'operator'],
    scoped: false,
    call: async (c, _t, f) => c.POST('/v1/card-batches', { body: { cardTypeId: (await cardType(f)).id, cards: [freshCard()] } }),
  },
  {
    operationId: 'listCards',
    allowed: principals,
    scoped: true,
    call: (c, t, f) => c.GET('/v1/cards', { params: { query: { cinemaId: f.cinemas[t].id, limit: 5 } } }),
  },
  {
    operationId: 'getCard',
    allowed: principals,
    scoped: false,
    call: async (c, _t, f) => c.GET('/v1/cards/{cardNo}', card(await soldCard(f, 'B'))),
  },
  {
    operationId: 'activateCard',
    allowed: ['admin', ...sellersAtA],
    scoped: true,
    call: async (c, t, f) => c.POST('/v1/cards/{cardNo}/activate', { ...card(await madeCard(f)), body: { cinemaId: f.cinemas[t].id, seq: 2 } }),
  },
  {
    operationId: 'topUpCard',
    allowed: [...admins, 'operator'],
    scoped: false,
    call: async (c, _t, f) =>
      c.POST('/v1/cards/{cardNo}/top-ups', {
        ...card(await soldCard(f, 'B')),
        body: { opId: v7(), seq: 3, uses: 5, remainingAfter: 15, occurredAt: new Date().toISOString() },
      }),
  },
  {
    operationId: 'renewCard',
    allowed: [...admins, 'manager', 'salesperson'],
    scoped: true,
    call: async (c, t, f) => c.POST('/v1/cards/{cardNo}/renew', { ...card(await soldCard(f, t)), body: { expiresAt: later(), seq: 3 } }),
  },
  {
    operationId: 'blacklistCard',
    allowed: [...admins, 'manager'],
    scoped: true,
    call: async (c, t, f) => c.POST('/v1/cards/{cardNo}/blacklist', { ...card(await soldCard(f, t)), body: { reason: 'matrix' } }),
  },
  {
    operationId: 'unblacklistCard',
    allowed: [...admins, 'manager'],
    scoped: true,
    call: async (c, t, f) => {
      const cardNo = await soldCard(f, t);
      ok(await admin(f).POST('/v1/cards/{cardNo}/blacklist', { ...card(cardNo), body: { reason: 'matrix' } }));
      return c.POST('/v1/cards/{cardNo}/unblacklist', { ...card(cardNo), body: { reason: 'matrix' } });
    },
  },
  {
    // A card is collected wherever it is handed back: a manager of A may recycle a card sold at B.
    operationId: 'recycleCard',
    allowed: [...admins, 'manager'],
    scoped: false,
    call: async (c, _t, f) => c.POST('/v1/cards/{cardNo}/recycle', { ...card(await soldCard(f, 'B')), body: { seq: 3 } }),
  },
  {
    operationId: 'reissueCard',
    allowed: [...admins, 'manager'],
    scoped: true,
    call: async (c, t, f) => c.POST('/v1/cards/{cardNo}/reissue', { ...card(await recycledCard(f, 'B')), body: { cinemaId: f.cinemas[t].id, seq: 4 } }),
  },
  {
    operationId: 'changeCardType',
    allowed: [...admins, 'operator'],
    scoped: false,
    call: async (c, _t, f) => c.POST('/v1/cards/{cardNo}/change-type', { ...card(await recycledCard(f, 'B')), body: { cardTypeId: (await cardType(f)).id } }),
  },
  {
    // A customer's history is chain-wide (seed spec: 全局兑换明细); a till reads it for its history
    // screen (the cashier's local role is checked there).
    operationId: 'getCardHistory',
    allowed: [...admins, 'manager', 'customer_query', 'terminal'],
    scoped: false,
    call: async (c, _t, f) => c.GET('/v1/cards/{cardNo}/history', card(await soldCard(f, 'B'))),
  },
  {
    // Only a terminal uploads ops (its own credential, not a user's); the op is its cinema's, for a
    // card of any cinema.
    operationId: 'recordLedgerOp',
    allowed: ['terminal'],
    scoped: false,
    call: async (c, _t, f) => c.POST('/v1/ledger/ops', { body: redemption(await soldCard(f, 'B'), 3, 1, 9) }),
  },
  { operationId: 'listRedemptionRules', allowed: principals, scoped: true, call: (c, t, f) => c.GET('/v1/cinemas/{cinemaId}/redemption-rules', rules(f, t)) },
  {
    operationId: 'createRedemptionRule',
    allowed: [...admins, 'manager'],
    scoped: true,
    call: (c, t, f) =>
      c.POST('/v1/cinemas/{cinemaId}/redemption-rules', { ...rules(f, t), body: { kind: 'concession', name: 'Matrix snacks', valuePerUseFen: 1500 } }),
  },
  {
    operationId: 'updateRedemptionRule',
    allowed: [...admins, 'manager'],
    scoped: true,
    call: async (c, t, f) => c.PATCH('/v1/cinemas/{cinemaId}/redemption-rules/{ruleId}', { ...(await rule(f, t)), body: { priority: 5 } }),
  },
  {
    operationId: 'deleteRedemptionRule',
    allowed: [...admins, 'manager'],
    scoped: true,
    call: async (c, t, f) => c.DELETE('/v1/cinemas/{cinemaId}/redemption-rules/{ruleId}', await rule(f, t)),
  },
  // Rebuilding from the cards: HQ admins and operators, a cinema's manager and its terminal (the till's rebuild screen).
  {
    operationId: 'rebuildCard',
    allowed: ['admin', 'operator', 'terminal', 'admin_on_terminal', 'manager'],
    scoped: true,
    call: async (c, t, f) => c.POST('/v1/rebuild/cards', { body: await rebuildOf(f, t) }),
  },
  {
    operationId: 'getRebuildProgress',
    allowed: ['admin', 'operator', 'terminal', 'admin_on_terminal', 'manager'],
    scoped: true,
    call: (c, t, f) => c.GET('/v1/rebuild/progress', { params: { query: { cinemaId: f.cinemas[t].id } } }),
  },
];

/** A card sold at cinema `t` (seq 2), as a rebuild tap reads it later at seq 5. */
async function rebuildOf(f: MatrixFixtures, t: Target): Promise<Schemas['CardRebuild']> {
  const type = await cardType(f);
  const c = freshCard();
  ok(await admin(f).POST('/v1/card-batches', { body: { cardTypeId: type.id, cards: [c] } }));
  ok(await admin(f).POST('/v1/cards/{cardNo}/activate', { ...card(c.cardNo), body: { cinemaId: f.cinemas[t].id, seq: 2 } }));
  const now = new Date().toISOString();
  const later = new Date(Date.now() + 86_400_000 * 100).toISOString();
  return {
    opId: v7(),
    tappedAt: now,
    card: { cardNo: c.cardNo, uid: c.uid, cardTypeCode: 9, keyVersion: 1, blocked: false, issuedAt: now, originalExpiry: later, initialUses: 10, chainId: 1, issuingCinema: 1 },
    record: { seq: 5, remainingUses: 7, lifetimeUsesLoaded: 10, expiresAt: later, status: 'active', lastTxAt: now, lastCinema: 1, lastTerminal: 1, lastAmount: 1, lastTxKind: 'redeem' },
  };
}
