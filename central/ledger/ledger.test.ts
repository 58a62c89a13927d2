import assert from 'node:assert/strict';
import { v7 } from 'uuid';
import { describeCentral, ok } from '../test-support/harness.ts';
import { makeCards, redemption, soldCard } from '../cards/card-fixtures.ts';

const path = (cardNo: string) => ({ params: { path: { cardNo } } });

describeCentral('shadow ledger API', (central) => {
  it('records a redemption once: the same op again is a duplicate, another op under its id a conflict', async () => {
    const c = central();
    const cinema = await c.createCinema();
    const card = await soldCard(c, cinema.id);
    const till = await c.enrolTerminal(cinema.id);
    const op = redemption(card.cardNo, 3, 2, 8, { amountFen: 4500, cashier: 'till-1' });
    const first = ok(await till.client.POST('/v1/ledger/ops', { body: op }));
    assert.equal(first.outcome, 'recorded');
    assert.deepEqual([first.entry.status, first.entry.usesDelta, first.entry.anomaly, first.card.remainingUses], ['applied', -2, null, 8]);
    const again = ok(await till.client.POST('/v1/ledger/ops', { body: op }));
    assert.equal(again.outcome, 'duplicate');
    assert.deepEqual(again.entry, first.entry);
    const changed = await till.client.POST('/v1/ledger/ops', { body: { ...op, uses: 3, remainingAfter: 7 } });
    assert.equal(changed.response.status, 409);
    assert.equal(changed.error?.code, 'op_id_conflict');
    const sameSeq = await till.client.POST('/v1/ledger/ops', { body: redemption(card.cardNo, 3, 2, 8) });
    assert.equal(sameSeq.response.status, 409);
    assert.equal(sameSeq.error?.code, 'seq_taken');
  });

  it('keeps an op past a gap waiting, and applies it when the gap fills', async () => {
    const c = central();
    const cinema = await c.createCinema();
    const card = await soldCard(c, cinema.id);
    const till = await c.enrolTerminal(cinema.id);
    const late = ok(await till.client.POST('/v1/ledger/ops', { body: redemption(card.cardNo, 5, 1, 6) }));
    assert.equal(late.entry.status, 'waiting');
    assert.deepEqual([late.card.appliedSeq, late.card.maxSeq, late.card.remainingUses], [2, 5, 10]);
    ok(await till.client.POST('/v1/ledger/ops', { body: redemption(card.cardNo, 3, 2, 8) }));
    const filled = ok(await till.client.POST('/v1/ledger/ops', { body: redemption(card.cardNo, 4, 1, 7) }));
    assert.deepEqual([filled.card.appliedSeq, filled.card.remainingUses], [5, 6]);
    const history = ok(await c.admin.client.GET('/v1/cards/{cardNo}/history', path(card.cardNo)));
    assert.deepEqual(history.items.map((e) => [e.seq, e.status]), [[2, 'applied'], [3, 'applied'], [4, 'applied'], [5, 'applied']]);
  });

  it('marks an op that does not follow from the shadow balance, and believes the card', async () => {
    const c = central();
    const cinema = await c.createCinema();
    const card = await soldCard(c, cinema.id);
    const till = await c.enrolTerminal(cinema.id);
    const odd = ok(await till.client.POST('/v1/ledger/ops', { body: redemption(card.cardNo, 3, 1, 5) }));
    assert.equal(odd.entry.anomaly, 'balance_mismatch');
    assert.equal(odd.card.remainingUses, 5);
  });

  it('refuses ops on an unsold card and ops from anyone but a terminal', async () => {
    const c = central();
    const cinema = await c.createCinema();
    const [made] = await makeCards(c, 1);
    const till = await c.enrolTerminal(cinema.id);
    const unsold = await till.client.POST('/v1/ledger/ops', { body: redemption(made!.cardNo, 3, 1, 9) });
    assert.equal(unsold.error?.code, 'card_not_sold');
    const byAdmin = await c.admin.client.POST('/v1/ledger/ops', { body: redemption(made!.cardNo, 3, 1, 9) });
    assert.equal(byAdmin.response.status, 403);
    const missing = await till.client.POST('/v1/ledger/ops', { body: redemption('12345678901', 3, 1, 9) });
    assert.equal(missing.response.status, 404);
  });

  it('records an HQ top-up as an op; it brings an exhausted card back to life', async () => {
    const c = central();
    const cinema = await c.createCinema();
    const card = await soldCard(c, cinema.id);
    const till = await c.enrolTerminal(cinema.id);
    const out = ok(await till.client.POST('/v1/ledger/ops', { body: redemption(card.cardNo, 3, 10, 0) }));
    assert.equal(out.card.state, 'recycled');
    const operator = await c.loginAs('operator');
    const topUp = { opId: v7(), seq: 4, uses: 10, remainingAfter: 10, occurredAt: new Date().toISOString() };
    const up = ok(await operator.client.POST('/v1/cards/{cardNo}/top-ups', { ...path(card.cardNo), body: topUp }));
    assert.deepEqual([up.outcome, up.entry.kind, up.entry.usesDelta, up.card.state, up.card.remainingUses], ['recorded', 'topup', 10, 'active', 10]);
    const dup = ok(await operator.client.POST('/v1/cards/{cardNo}/top-ups', { ...path(card.cardNo), body: topUp }));
    assert.equal(dup.outcome, 'duplicate');
    const impossible = await operator.client.POST('/v1/cards/{cardNo}/top-ups', {
      ...path(card.cardNo),
      body: { ...topUp, opId: v7(), seq: 5, uses: 5, remainingAfter: 2 },
    });
    assert.equal(impossible.error?.code, 'remaining_mismatch');
    const audit = ok(await c.admin.client.GET('/v1/audit-log', { params: { query: { action: 'card.top_up' } } }));
    assert.equal(audit.items.length, 1, 'a duplicate is not audited twice');
    const [made] = await makeCards(c, 1);
    const unsold = await operator.client.POST('/v1/cards/{cardNo}/top-ups', { ...path(made!.cardNo), body: { ...topUp, opId: v7() } });
    assert.equal(unsold.error?.code, 'card_not_sold');
  });

  it('keeps ops of a blacklisted card, marked; a late op of a previous holder does not touch the new balance', async () => {
    const c = central();
    const cinema = await c.createCinema();
    const card = await soldCard(c, cinema.id);
    const till = await c.enrolTerminal(cinema.id);
    ok(await c.admin.client.POST('/v1/cards/{cardNo}/blacklist', { ...path(card.cardNo), body: { reason: 'stolen' } }));
    const marked = ok(await till.client.POST('/v1/ledger/ops', { body: redemption(card.cardNo, 4, 1, 8) }));
    assert.equal(marked.entry.anomaly, 'card_blacklisted');
    ok(await c.admin.client.POST('/v1/cards/{cardNo}/unblacklist', { ...path(card.cardNo), body: { reason: 'found' } }));
    ok(await c.admin.client.POST('/v1/cards/{cardNo}/recycle', { ...path(card.cardNo), body: { seq: 5 } }));
    const reissued = ok(await c.admin.client.POST('/v1/cards/{cardNo}/reissue', { ...path(card.cardNo), body: { cinemaId: cinema.id, seq: 6 } }));
    assert.equal(reissued.issueFromSeq, 6);
    const lateOne = ok(await till.client.POST('/v1/ledger/ops', { body: redemption(card.cardNo, 3, 1, 9) }));
    assert.deepEqual([lateOne.entry.anomaly, lateOne.entry.issueEpoch, lateOne.card.remainingUses], ['previous_issue', 1, 10]);
    const history = ok(await c.admin.client.GET('/v1/cards/{cardNo}/history', path(card.cardNo)));
    assert.deepEqual(history.items.map((e) => [e.seq, e.kind, e.status]), [[6, 'reissue', 'applied']]);
    const all = ok(await c.admin.client.GET('/v1/cards/{cardNo}/history', { ...path(card.cardNo), params: { ...path(card.cardNo).params, query: { scope: 'all' } } }));
    assert.deepEqual(
      all.items.map((e) => [e.seq, e.kind, e.issueEpoch, e.anomaly]),
      [[2, 'activate', 1, null], [3, 'redeem', 1, 'previous_issue'], [4, 'redeem', 1, 'card_blacklisted'], [5, 'recycle', 1, null], [6, 'reissue', 2, null]],
    );
  });

  it('a previous holder\'s last use arriving after the re-issue fills the gap but does not exhaust the new holder\'s card', async () => {
    const c = central();
    const cinema = await c.createCinema();
    const card = await soldCard(c, cinema.id);
    const till = await c.enrolTerminal(cinema.id);
    ok(await c.admin.client.POST('/v1/cards/{cardNo}/recycle', { ...path(card.cardNo), body: { seq: 4 } }));
    const reissued = ok(await c.admin.client.POST('/v1/cards/{cardNo}/reissue', { ...path(card.cardNo), body: { cinemaId: cinema.id, seq: 5 } }));
    assert.deepEqual([reissued.appliedSeq, reissued.maxSeq, reissued.remainingUses], [2, 5, 10], 'waiting behind the missing seq 3');
    const late = ok(await till.client.POST('/v1/ledger/ops', { body: redemption(card.cardNo, 3, 10, 0) }));
    assert.deepEqual(
      [late.card.state, late.card.appliedSeq, late.card.remainingUses, late.card.issueEpoch, late.entry.anomaly],
      ['active', 5, 10, 2, 'previous_issue'],
    );
  });
});
