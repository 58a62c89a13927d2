/**
 * What HQ does before a till can take a CineCard — not the vendor's code, but the example needs it
 * done: HQ issues the till an enrolment code for its cinema, and HQ's card maker personalises a
 * blank card and registers it at central (state `made`). In a chain these happen at HQ (the
 * `hq_station` plugin's "make cards" screen, `npm run central -- enrol-code`); here the example plays
 * HQ through central's API with the typed client, as `host-mock/demo/demo-chain.ts` does.
 */
import { MifareClassic1k, InProcessCardReader, demoCardKeys } from 'cinecard/adapters';
import type { CentralClient } from 'cinecard/client';
import { MifareClassicProfile } from 'cinecard/plugin';
import { ok } from '../common/central.ts';

/** The chain id written on this chain's cards; the till's `terminal.chainId` must be the same. */
export const CHAIN_ID = 1;
/** The card type's code on the card (a u16 the card maker writes; the till maps it to central's type). */
export const EXAMPLE_CARD_TYPE = { code: 7, name: 'NovaPOS 示例卡·10次', usesPerCard: 10, settlementPricePerUseFen: 3500, concessionValuePerUseFen: 3000 } as const;

/** A one-time enrolment code for the cinema with this code (HQ's "add a till"). */
export async function enrolmentCodeFor(api: CentralClient, cinemaCode: string): Promise<string> {
  const cinemas = await ok('listing cinemas', api.GET('/v1/cinemas'));
  const cinema = cinemas.items.find((c) => c.code === cinemaCode);
  if (!cinema) throw new Error(`central has no cinema with code ${cinemaCode} (give --cinema, or --enrolment-code)`);
  return (await ok('making an enrolment code', api.POST('/v1/cinemas/{cinemaId}/enrolment-codes', { params: { path: { cinemaId: cinema.id } } }))).code;
}

/** The example's card type, created once (looked up by name). */
export async function exampleCardType(api: CentralClient): Promise<{ id: string; code: number; name: string; pricePerUseFen: number }> {
  const types = await ok('listing card types', api.GET('/v1/card-types'));
  const { code, ...body } = EXAMPLE_CARD_TYPE;
  const type = types.items.find((t) => t.name === body.name) ?? (await ok('creating the card type', api.POST('/v1/card-types', { body })));
  return { id: type.id, code, name: type.name, pricePerUseFen: type.settlementPricePerUseFen };
}

/**
 * HQ's card maker: personalises a blank (emulated) card with the chain's keys — status `made`, the
 * type's uses — and registers it at central. Returns the card, to hand to the till's reader.
 */
export async function makeCard(api: CentralClient, type: { id: string; code: number }): Promise<{ card: MifareClassic1k; cardNo: string }> {
  const card = new MifareClassic1k({}); // a blank card with a random UID
  const cardNo = `66${String(Date.now()).slice(-9)}${String(Math.floor(Math.random() * 100)).padStart(2, '0')}`;
  const now = Math.floor(Date.now() / 1000);
  const expiry = now + 2 * 365 * 86_400;
  const uses = EXAMPLE_CARD_TYPE.usesPerCard;
  const makerReader = new InProcessCardReader({ name: 'HQ card maker' });
  await makerReader.start();
  try {
    const session = makerReader.insert(card);
    await new MifareClassicProfile(demoCardKeys()).personalise(
      session,
      { cardType: type.code, blocked: false, cardNumber: BigInt(cardNo), issuedAt: now, originalExpiry: expiry, initialUses: uses, chainId: CHAIN_ID, issuingCinema: 0 },
      { remainingUses: uses, lifetimeUsesLoaded: uses, expiry, status: 'made', lastTxTime: now, lastCinema: 0, lastTerminal: 0, lastAmount: 0, lastTxKind: 'issue' },
    );
    makerReader.remove();
  } finally {
    makerReader.dispose();
  }
  const uid = Buffer.from(card.uid).toString('hex').toUpperCase();
  await ok('registering the made card', api.POST('/v1/card-batches', { body: { cardTypeId: type.id, uses, expiresAt: new Date(expiry * 1000).toISOString(), cards: [{ cardNo, uid }] } }));
  return { card, cardNo };
}
