import assert from 'node:assert/strict';
import { describeCentral, ok } from '../test-support/harness.ts';
import { freshCard, makeCardType, makeCards, soldCard } from './card-fixtures.ts';

const path = (cardNo: string) => ({ params: { path: { cardNo } } });

describeCentral('cards API', (central) => {
  it('registers a batch all-or-nothing; duplicates are a 409 naming them', async () => {
    const c = central();
    const type = await makeCardType(c);
    const [a, b] = [freshCard(), freshCard()];
    const batch = ok(await c.admin.client.POST('/v1/card-batches', { body: { cardTypeId: type.id, uses: 12, cards: [a, b] } }));
    assert.equal(batch.count, 2);
    assert.deepEqual(batch.cards.map((x) => [x.state, x.issuedUses, x.remainingUses, x.issueEpoch]), [['made', 12, 12, 1], ['made', 12, 12, 1]]);

    const fresh = freshCard();
    const again = await c.admin.client.POST('/v1/card-batches', {
      body: { cardTypeId: type.id, cards: [fresh, { cardNo: a.cardNo, uid: freshCard().uid }, { cardNo: freshCard().cardNo, uid: b.uid }] },
    });
    assert.equal(again.response.status, 409);
    assert.equal(again.error?.code, 'cards_already_registered');
    assert.match(again.error?.message ?? '', new RegExp(`card ${a.cardNo}`));
    assert.match(again.error?.message ?? '', new RegExp(`UID ${b.uid}`));
    const notThere = await c.admin.client.GET('/v1/cards/{cardNo}', path(fresh.cardNo));
    assert.equal(notThere.response.status, 404, 'nothing of the refused batch was registered');

    const repeated = await c.admin.client.POST('/v1/card-batches', { body: { cardTypeId: type.id, cards: [fresh, fresh] } });
    assert.equal(repeated.response.status, 409);
    assert.match(repeated.error?.message ?? '', new RegExp(fresh.cardNo));

    const few = await c.admin.client.POST('/v1/card-batches', { body: { cardTypeId: type.id, uses: 9, cards: [freshCard()] } });
    assert.equal(few.error?.code, 'uses_below_minimum');
    const past = await c.admin.client.POST('/v1/card-batches', { body: { cardTypeId: type.id, expiresAt: '2020-01-01T00:00:00.000Z', cards: [freshCard()] } });
    assert.equal(past.error?.code, 'expiry_in_past');
  });

  it('registers a batch of 1000 cards', async () => {
    const cards = await makeCards(central(), 1000);
    assert.equal(cards.length, 1000);
  });

  it('gets and lists cards; a cinema sees only its own', async () => {
    const c = central();
    const [cinemaA, cinemaB] = [await c.createCinema(), await c.createCinema()];
    const cardA = await soldCard(c, cinemaA.id);
    const cardB = await soldCard(c, cinemaB.id);
    assert.deepEqual(ok(await c.admin.client.GET('/v1/cards/{cardNo}', path(cardA.cardNo))), cardA);
    const managerA = await c.loginAs('manager', { cinemaId: cinemaA.id });
    const mine = ok(await managerA.client.GET('/v1/cards', {}));
    assert.deepEqual(mine.items.map((x) => x.cardNo), [cardA.cardNo]);
    const theirs = await managerA.client.GET('/v1/cards', { params: { query: { cinemaId: cinemaB.id } } });
    assert.equal(theirs.response.status, 403);
    // paging by card number
    const page1 = ok(await c.admin.client.GET('/v1/cards', { params: { query: { limit: 1, state: 'active' } } }));
    assert.equal(page1.items.length, 1);
    assert.ok(page1.nextCursor);
    const page2 = ok(await c.admin.client.GET('/v1/cards', { params: { query: { limit: 500, state: 'active', after: page1.nextCursor } } }));
    assert.ok(page2.items.every((x) => x.cardNo > page1.nextCursor!));
    assert.ok(page2.items.some((x) => x.cardNo === cardB.cardNo || x.cardNo === cardA.cardNo));
  });

  it('sells only a made card, at the seller\'s own cinema', async () => {
    const c = central();
    const [cinemaA, cinemaB] = [await c.createCinema(), await c.createCinema()];
    const [card] = await makeCards(c, 1);
    const seller = await c.loginAs('salesperson', { cinemaId: cinemaA.id });
    const elsewhere = await seller.client.POST('/v1/cards/{cardNo}/activate', { ...path(card!.cardNo), body: { cinemaId: cinemaB.id, seq: 2 } });
    assert.equal(elsewhere.response.status, 403);
    const expiresAt = new Date(Date.now() + 30 * 86_400_000).toISOString();
    const sold = ok(await seller.client.POST('/v1/cards/{cardNo}/activate', { ...path(card!.cardNo), body: { cinemaId: cinemaA.id, expiresAt, seq: 2 } }));
    assert.equal(sold.expiresAt, expiresAt);
    assert.ok(sold.activatedAt);
    const twice = await seller.client.POST('/v1/cards/{cardNo}/activate', { ...path(card!.cardNo), body: { cinemaId: cinemaA.id, seq: 2 } });
    assert.equal(twice.response.status, 409);
    assert.equal(twice.error?.code, 'card_wrong_state');
    const unknown = await seller.client.POST('/v1/cards/{cardNo}/activate', { ...path('999999999999'), body: { cinemaId: cinemaA.id, seq: 2 } });
    assert.equal(unknown.response.status, 404);
  });

  it('lets a cinema\'s terminal by itself sell at its cinema, never at another', async () => {
    const c = central();
    const [cinemaA, cinemaB] = [await c.createCinema(), await c.createCinema()];
    const [one, two] = await makeCards(c, 2);
    const till = await c.enrolTerminal(cinemaA.id);
    const sold = ok(await till.client.POST('/v1/cards/{cardNo}/activate', { ...path(one!.cardNo), body: { cinemaId: cinemaA.id, seq: 2 } }));
    assert.equal(sold.cinemaId, cinemaA.id);
    const audit = ok(await c.admin.client.GET('/v1/audit-log', { params: { query: { action: 'card.activate', cinemaId: cinemaA.id } } }));
    assert.equal(audit.items[0]?.actorTerminalId, till.terminalId);
    const foreign = await till.client.POST('/v1/cards/{cardNo}/activate', { ...path(two!.cardNo), body: { cinemaId: cinemaB.id, seq: 2 } });
    assert.equal(foreign.response.status, 403);
  });

  it('renews an active card at its cinema', async () => {
    const c = central();
    const [cinemaA, cinemaB] = [await c.createCinema(), await c.createCinema()];
    const card = await soldCard(c, cinemaA.id);
    const expiresAt = new Date(Date.now() + 400 * 86_400_000).toISOString();
    const sellerB = await c.loginAs('salesperson', { cinemaId: cinemaB.id });
    const foreign = await sellerB.client.POST('/v1/cards/{cardNo}/renew', { ...path(card.cardNo), body: { expiresAt, seq: 3 } });
    assert.equal(foreign.response.status, 403);
    const sellerA = await c.loginAs('salesperson', { cinemaId: cinemaA.id });
    const renewed = ok(await sellerA.client.POST('/v1/cards/{cardNo}/renew', { ...path(card.cardNo), body: { expiresAt, seq: 3 } }));
    assert.equal(renewed.expiresAt, expiresAt);
    assert.equal(renewed.appliedSeq, 3);
    const behind = await sellerA.client.POST('/v1/cards/{cardNo}/renew', { ...path(card.cardNo), body: { expiresAt, seq: 3 } });
    assert.equal(behind.error?.code, 'card_seq_behind');
    const past = await sellerA.client.POST('/v1/cards/{cardNo}/renew', { ...path(card.cardNo), body: { expiresAt: '2001-01-01T00:00:00.000Z', seq: 4 } });
    assert.equal(past.response.status, 400);
  });

  it('blacklists and unblacklists with a reason; a blacklisted card cannot be renewed', async () => {
    const c = central();
    const cinema = await c.createCinema();
    const card = await soldCard(c, cinema.id);
    const manager = await c.loginAs('manager', { cinemaId: cinema.id });
    const listed = ok(await manager.client.POST('/v1/cards/{cardNo}/blacklist', { ...path(card.cardNo), body: { reason: 'reported stolen' } }));
    assert.equal(listed.blacklisted, true);
    assert.equal(listed.blacklistReason, 'reported stolen');
    assert.equal(listed.state, 'active');
    const again = await manager.client.POST('/v1/cards/{cardNo}/blacklist', { ...path(card.cardNo), body: { reason: 'twice' } });
    assert.equal(again.error?.code, 'card_already_blacklisted');
    const renew = await manager.client.POST('/v1/cards/{cardNo}/renew', { ...path(card.cardNo), body: { expiresAt: new Date(Date.now() + 86_400_000).toISOString(), seq: 3 } });
    assert.equal(renew.error?.code, 'card_blacklisted');
    const lifted = ok(await manager.client.POST('/v1/cards/{cardNo}/unblacklist', { ...path(card.cardNo), body: { reason: 'found' } }));
    assert.equal(lifted.blacklisted, false);
    assert.equal(lifted.blacklistReason, null);
    const notListed = await manager.client.POST('/v1/cards/{cardNo}/unblacklist', { ...path(card.cardNo), body: { reason: 'x' } });
    assert.equal(notListed.error?.code, 'card_not_blacklisted');
    // an unsold card belongs to no cinema: only HQ may list it
    const [made] = await makeCards(c, 1);
    const byManager = await manager.client.POST('/v1/cards/{cardNo}/blacklist', { ...path(made!.cardNo), body: { reason: 'lost in transit' } });
    assert.equal(byManager.response.status, 403);
    ok(await c.admin.client.POST('/v1/cards/{cardNo}/blacklist', { ...path(made!.cardNo), body: { reason: 'lost in transit' } }));
    const audit = ok(await c.admin.client.GET('/v1/audit-log', { params: { query: { action: 'card.blacklist', cinemaId: cinema.id } } }));
    assert.equal(audit.items[0]?.targetId, card.cardNo);
    assert.equal((audit.items[0]?.details as { reason?: string }).reason, 'reported stolen');
  });

  it('recycles, re-issues and re-types only in the right states', async () => {
    const c = central();
    const cinema = await c.createCinema();
    const card = await soldCard(c, cinema.id);
    const manager = await c.loginAs('manager', { cinemaId: cinema.id });
    const early = await manager.client.POST('/v1/cards/{cardNo}/reissue', { ...path(card.cardNo), body: { cinemaId: cinema.id, seq: 3 } });
    assert.equal(early.error?.code, 'card_wrong_state');
    const retypeActive = await c.admin.client.POST('/v1/cards/{cardNo}/change-type', { ...path(card.cardNo), body: { cardTypeId: card.cardTypeId } });
    assert.equal(retypeActive.error?.code, 'card_wrong_state');
    ok(await manager.client.POST('/v1/cards/{cardNo}/recycle', { ...path(card.cardNo), body: {} }));
    const unknownType = await c.admin.client.POST('/v1/cards/{cardNo}/change-type', {
      ...path(card.cardNo),
      body: { cardTypeId: '01900000-0000-7000-8000-000000000000' },
    });
    assert.equal(unknownType.response.status, 404);
    const reissued = ok(
      await manager.client.POST('/v1/cards/{cardNo}/reissue', { ...path(card.cardNo), body: { cinemaId: cinema.id, uses: 15, seq: 3 } }),
    );
    assert.deepEqual([reissued.issueEpoch, reissued.remainingUses, reissued.appliedSeq, reissued.issueFromSeq], [2, 15, 3, 3]);
    const unknownCinema = await c.admin.client.POST('/v1/cards/{cardNo}/activate', {
      ...path((await makeCards(c, 1))[0]!.cardNo),
      body: { cinemaId: '01900000-0000-7000-8000-000000000000', seq: 2 },
    });
    assert.equal(unknownCinema.error?.code, 'cinema_not_found');
  });
});
