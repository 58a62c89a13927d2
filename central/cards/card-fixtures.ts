/** Test helpers for the card domain: a card type, a made batch, a sold card, an op. */
import { randomBytes } from 'node:crypto';
import { v7 } from 'uuid';
import type { Schemas } from '../client/index.ts';
import { ok, type TestCentral } from '../test-support/harness.ts';

let serial = 0;

/** A card number and UID no other call in this process has used. */
export function freshCard(): { cardNo: string; uid: string } {
  serial += 1;
  const cardNo = `${Date.now() % 1e9}${String(serial).padStart(5, '0')}`;
  return { cardNo, uid: randomBytes(4).toString('hex').toUpperCase() + String(serial % 1e6).padStart(6, '0') };
}

export async function makeCardType(central: TestCentral, over: Partial<Schemas['CardTypeCreate']> = {}): Promise<Schemas['CardType']> {
  return ok(
    await central.admin.client.POST('/v1/card-types', {
      body: { name: central.unique('Type '), usesPerCard: 10, settlementPricePerUseFen: 3500, concessionValuePerUseFen: 2000, ...over },
    }),
  );
}

export async function makeCards(central: TestCentral, count: number, cardTypeId?: string): Promise<Schemas['Card'][]> {
  const typeId = cardTypeId ?? (await makeCardType(central)).id;
  const batch = ok(
    await central.admin.client.POST('/v1/card-batches', {
      body: { cardTypeId: typeId, cards: Array.from({ length: count }, freshCard) },
    }),
  );
  return batch.cards;
}

/** A card sold at `cinemaId` (by the HQ admin); the sale wrote the card's record at seq 2. */
export async function soldCard(central: TestCentral, cinemaId: string, cardTypeId?: string): Promise<Schemas['Card']> {
  const [card] = await makeCards(central, 1, cardTypeId);
  return ok(
    await central.admin.client.POST('/v1/cards/{cardNo}/activate', {
      params: { path: { cardNo: card!.cardNo } },
      body: { cinemaId, seq: 2 },
    }),
  );
}

export function redemption(cardNo: string, seq: number, uses: number, remainingAfter: number, over: Partial<Schemas['LedgerOpCreate']> = {}): Schemas['LedgerOpCreate'] {
  return {
    opId: v7(),
    cardNo,
    seq,
    uses,
    remainingAfter,
    consumptionType: 'ticket',
    occurredAt: new Date().toISOString(),
    ...over,
  };
}

/**
 * Card-domain state for the fuzz test to aim at: a card type, a made, a sold and a recycled card,
 * and a redemption rule of `cinemaId`. Returns their ids and card numbers (used as path values).
 */
export async function seedCardDomain(central: TestCentral, cinemaId: string): Promise<string[]> {
  const type = await makeCardType(central);
  const [made, sold, recycled] = await makeCards(central, 3, type.id);
  const admin = central.admin.client;
  for (const card of [sold!, recycled!]) {
    ok(await admin.POST('/v1/cards/{cardNo}/activate', { params: { path: { cardNo: card.cardNo } }, body: { cinemaId, seq: 2 } }));
  }
  ok(await admin.POST('/v1/cards/{cardNo}/recycle', { params: { path: { cardNo: recycled!.cardNo } }, body: { seq: 3 } }));
  const rule = ok(
    await admin.POST('/v1/cinemas/{cinemaId}/redemption-rules', {
      params: { path: { cinemaId } },
      body: { kind: 'ticket', name: 'Fuzz rule', usesPerTicket: 1 },
    }),
  );
  return [type.id, made!.cardNo, sold!.cardNo, recycled!.cardNo, rule.id];
}
