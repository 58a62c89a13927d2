import assert from 'node:assert/strict';
import { describeCentral, ok } from '../test-support/harness.ts';
import { makeCardType, freshCard, redemption } from './card-fixtures.ts';

describeCentral('a card\'s full life', (central) => {
  it('made → activated → redeemed → exhausted (recycled) → re-issued → recycled → type changed, history since the latest issue', async () => {
    const c = central();
    const cinemaA = await c.createCinema('Cinema A');
    const cinemaB = await c.createCinema('Cinema B');
    const operator = await c.loginAs('operator');
    const type = ok(
      await operator.client.POST('/v1/card-types', {
        body: { name: 'Annual 10', usesPerCard: 10, settlementPricePerUseFen: 3000, concessionValuePerUseFen: 1500 },
      }),
    );
    const gold = await makeCardType(c, { name: 'Gold 20', usesPerCard: 20 });
    const { cardNo, uid } = freshCard();

    // made
    const batch = ok(await operator.client.POST('/v1/card-batches', { body: { cardTypeId: type.id, cards: [{ cardNo, uid }] } }));
    assert.equal(batch.cards[0]?.state, 'made');
    assert.equal(batch.cards[0]?.remainingUses, 10);
    const madeExpiry = new Date(batch.cards[0]!.expiresAt).getTime() - Date.now();
    assert.ok(Math.abs(madeExpiry - 365 * 86_400_000) < 60_000, 'default validity is one year');

    // activated: sold by a salesperson on a terminal of cinema A
    const till = await c.enrolTerminal(cinemaA.id);
    const seller = await c.loginAs('salesperson', { terminal: till });
    const sold = ok(await seller.client.POST('/v1/cards/{cardNo}/activate', { params: { path: { cardNo } }, body: { cinemaId: cinemaA.id, seq: 2 } }));
    assert.equal(sold.state, 'active');
    assert.equal(sold.cinemaId, cinemaA.id);

    // redeemed at the terminal: 4 tickets, then the rest at the concession stand of cinema B
    const first = ok(await till.client.POST('/v1/ledger/ops', { body: redemption(cardNo, 3, 4, 6, { cashier: 'op-7' }) }));
    assert.equal(first.outcome, 'recorded');
    assert.equal(first.entry.cinemaId, cinemaA.id);
    assert.equal(first.entry.terminalId, till.terminalId);
    assert.equal(first.card.remainingUses, 6);
    const tillB = await c.enrolTerminal(cinemaB.id);
    const last = ok(
      await tillB.client.POST('/v1/ledger/ops', { body: redemption(cardNo, 4, 6, 0, { consumptionType: 'concession', amountFen: 9000 }) }),
    );
    // exhausted: marked recycled automatically, to be collected by the cinema where it ran out
    assert.equal(last.card.state, 'recycled');
    assert.equal(last.card.recycledReason, 'exhausted');
    assert.equal(last.card.recycledCinemaId, cinemaB.id);
    const toCollect = ok(await c.admin.client.GET('/v1/cards', { params: { query: { state: 'recycled', cinemaId: cinemaB.id } } }));
    assert.deepEqual(toCollect.items.map((x) => x.cardNo), [cardNo]);

    // re-issued by cinema B's manager to a new holder
    const managerB = await c.loginAs('manager', { terminal: tillB });
    const reissued = ok(await managerB.client.POST('/v1/cards/{cardNo}/reissue', { params: { path: { cardNo } }, body: { cinemaId: cinemaB.id, seq: 5 } }));
    assert.equal(reissued.state, 'active');
    assert.equal(reissued.issueEpoch, 2);
    assert.equal(reissued.remainingUses, 10);
    assert.equal(reissued.issueFromSeq, 5, 'the new holder\'s history starts with the re-issue write');
    assert.equal(reissued.cardNo, cardNo);
    ok(await tillB.client.POST('/v1/ledger/ops', { body: redemption(cardNo, 6, 1, 9) }));

    // history: the new holder sees only the re-issue and what followed; HQ can see everything
    const query = await c.loginAs('customer_query', { terminal: till });
    const current = ok(await query.client.GET('/v1/cards/{cardNo}/history', { params: { path: { cardNo } } }));
    assert.deepEqual(current.items.map((e) => [e.seq, e.kind, e.issueEpoch]), [[5, 'reissue', 2], [6, 'redeem', 2]]);
    const all = ok(await c.admin.client.GET('/v1/cards/{cardNo}/history', { params: { path: { cardNo }, query: { scope: 'all' } } }));
    assert.deepEqual(all.items.map((e) => [e.seq, e.issueEpoch, e.usesDelta]), [[2, 1, 0], [3, 1, -4], [4, 1, -6], [5, 2, 0], [6, 2, -1]]);

    // handed back, then made into another type by HQ
    const recycled = ok(await managerB.client.POST('/v1/cards/{cardNo}/recycle', { params: { path: { cardNo } }, body: { note: 'returned at the desk', seq: 7 } }));
    assert.equal(recycled.recycledReason, 'returned');
    const retyped = ok(await operator.client.POST('/v1/cards/{cardNo}/change-type', { params: { path: { cardNo } }, body: { cardTypeId: gold.id } }));
    assert.equal(retyped.cardTypeId, gold.id);
    assert.equal(retyped.state, 'recycled');
    const third = ok(await managerB.client.POST('/v1/cards/{cardNo}/reissue', { params: { path: { cardNo } }, body: { cinemaId: cinemaB.id, seq: 8 } }));
    assert.equal(third.issueEpoch, 3);
    assert.equal(third.remainingUses, 20, 'the new type\'s uses');
    const fresh = ok(await c.admin.client.GET('/v1/cards/{cardNo}/history', { params: { path: { cardNo } } }));
    assert.deepEqual(fresh.items.map((e) => [e.seq, e.kind, e.remainingAfter]), [[8, 'reissue', 20]]);

    // every administrative step is in the audit log
    const audit = ok(await c.admin.client.GET('/v1/audit-log', { params: { query: { limit: 500 } } }));
    const steps = audit.items.filter((e) => e.targetId === cardNo).map((e) => e.action).reverse();
    assert.deepEqual(steps, ['card.activate', 'card.reissue', 'card.recycle', 'card.change_type', 'card.reissue']);
    assert.ok(audit.items.some((e) => e.action === 'card_batch.register' && e.targetId === batch.id));
  });
});
