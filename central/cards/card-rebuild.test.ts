/**
 * Rebuilding from the cards (`card-rebuild.ts`), through sync and the API, on both databases: every
 * case of applying a `rebuild` op — card unknown (and its type unknown), card ahead, equal, central
 * ahead, a resend, bad input — and the progress count.
 */
import assert from 'node:assert/strict';
import { v7 } from 'uuid';
import type { Schemas } from '../client/index.ts';
import { describeCentral, ok, type EnrolledTerminal } from '../test-support/harness.ts';
import { upload, wireOp, type WireOp } from '../sync/test-ops.ts';
import { freshCard, makeCardType, makeCards } from './card-fixtures.ts';

type Rebuild = Omit<Schemas['CardRebuild'], 'opId'>;

const iso = (s: number) => new Date(s * 1000).toISOString();
const NOW = Math.floor(Date.now() / 1000);

/** What a till reads off a card: static data and last record, as the rebuild screen sends them. */
function cardRead(cardNo: string, uid: string, seq: number, remaining: number, over: { code?: number; status?: Rebuild['record']['status'] } = {}): Rebuild {
  return {
    tappedAt: iso(NOW),
    cashier: 'mgr-1',
    card: {
      cardNo, uid, cardTypeCode: over.code ?? 7, keyVersion: 1, blocked: false, issuedAt: iso(NOW - 86_400 * 30),
      originalExpiry: iso(NOW + 86_400 * 300), initialUses: 20, chainId: 12, issuingCinema: 301,
    },
    record: {
      seq, remainingUses: remaining, lifetimeUsesLoaded: 20, expiresAt: iso(NOW + 86_400 * 300), status: over.status ?? 'active',
      lastTxAt: iso(NOW - 3600), lastCinema: 301, lastTerminal: 2, lastAmount: 1, lastTxKind: 'redeem',
    },
  };
}

function rebuildOp(t: EnrolledTerminal, termSeq: number, read: Rebuild, over: Partial<WireOp> = {}): WireOp {
  return wireOp(t, termSeq, read.card.cardNo, read.record.seq, 0, read.record.remainingUses, {
    kind: 'rebuild', cardUid: read.card.uid, consumption: null, uses: null, operatorId: 'mgr-1', payload: JSON.stringify(read), ...over,
  });
}

describeCentral('cards: rebuilding from the cards', (central) => {
  let till: EnrolledTerminal;
  let cinemaId: string;
  let seq = 0;
  const started = new Date(Date.now() - 1000).toISOString();

  before(async () => {
    cinemaId = (await central().createCinema('Rebuild cinema')).id;
    till = await central().enrolTerminal(cinemaId, 'Till R');
  });

  const card = async (no: string) => ok(await central().admin.client.GET('/v1/cards/{cardNo}', { params: { path: { cardNo: no } } }));
  const history = async (no: string) =>
    ok(await central().admin.client.GET('/v1/cards/{cardNo}/history', { params: { path: { cardNo: no }, query: { scope: 'all' } } })).items;
  const sold = async (uses: number) => {
    const type = await makeCardType(central(), { usesPerCard: uses });
    const [made] = await makeCards(central(), 1, type.id);
    ok(await central().admin.client.POST('/v1/cards/{cardNo}/activate', { params: { path: { cardNo: made!.cardNo } }, body: { cinemaId, seq: 2 } }));
    return made!;
  };
  const alerts = async (no: string) => ok(await central().admin.client.GET('/v1/sync/fraud-alerts', { params: { query: {} } })).items.filter((a) => a.cardNo === no);

  it('an unknown card of an unknown type is recreated from the card: a placeholder type, its uses and seq, marked rebuilt; the next redemption follows on', async () => {
    const c = freshCard();
    const read = cardRead(c.cardNo, c.uid, 9, 13, { code: 201 });
    const op = rebuildOp(till, ++seq, read);
    const res = await upload(till, [op]);
    assert.deepEqual(res.results.map((r) => [r.outcome, r.reason]), [['applied', null]]);
    const after = await card(c.cardNo);
    assert.equal(after.remainingUses, 13);
    assert.equal(after.appliedSeq, 9);
    assert.equal(after.state, 'active');
    assert.equal(after.uid, c.uid);
    assert.equal(after.cinemaId, cinemaId);
    assert.equal(after.rebuiltByOp, op.opId);
    assert.ok(after.rebuiltAt);
    const type = ok(await central().admin.client.GET('/v1/card-types/{cardTypeId}', { params: { path: { cardTypeId: after.cardTypeId } } }));
    assert.match(type.name, /Card type 201 \(rebuilt: set name and price\)/);
    assert.equal(type.settlementPricePerUseFen, 0);
    const prices = async () =>
      ok(await central().admin.client.GET('/v1/card-types/{cardTypeId}/prices', { params: { path: { cardTypeId: after.cardTypeId } } })).items.map((p) => [p.effectiveFrom, p.settlementPricePerUseFen]);
    assert.deepEqual(await prices(), [[null, 0]], 'priced at 0 from the beginning');
    assert.deepEqual((await history(c.cardNo)).map((i) => [i.seq, i.kind, i.remainingAfter, i.opId]), [[9, 'rebuild', 13, op.opId]]);
    // The shadow ledger stands at the card's seq: seq 10 is applied, no gap, no alert.
    const next = await upload(till, [wireOp(till, ++seq, c.cardNo, 10, 2, 11, { cardUid: c.uid })]);
    assert.equal(next.results[0]!.outcome, 'applied');
    assert.equal((await card(c.cardNo)).remainingUses, 11);
    assert.deepEqual(await alerts(c.cardNo), []);
    // A second card of the same code finds the placeholder, not a new type.
    const d = freshCard();
    await upload(till, [rebuildOp(till, ++seq, cardRead(d.cardNo, d.uid, 4, 6, { code: 201 }))]);
    assert.equal((await card(d.cardNo)).cardTypeId, after.cardTypeId);
    const progress = ok(await central().admin.client.GET('/v1/rebuild/progress', { params: { query: {} } }));
    assert.ok(progress.placeholderCardTypes.some((p) => p.cardTypeCode === 201 && p.id === after.cardTypeId));
    // Once HQ names and prices it (backdated to before the cards' first use), it is no longer a placeholder.
    const patch = { name: `Annual ${v7()}`, settlementPricePerUseFen: 3500, pricesEffectiveFrom: '2025-01-01' };
    ok(await central().admin.client.PATCH('/v1/card-types/{cardTypeId}', { params: { path: { cardTypeId: after.cardTypeId } }, body: patch }));
    const later = ok(await central().admin.client.GET('/v1/rebuild/progress', { params: { query: {} } }));
    assert.ok(!later.placeholderCardTypes.some((p) => p.id === after.cardTypeId));
    assert.deepEqual(await prices(), [[null, 0], ['2025-01-01', 3500]]);
    const settled = ok(await central().admin.client.GET('/v1/reports/settlement', { params: { query: { cardTypeId: after.cardTypeId, from: '2025-01-01' } } }));
    assert.deepEqual(settled.rows.map((l) => [l.settlementPricePerUseFen, l.usesRedeemed, l.settlementFen]), [[3500, 2, 7000]]);
  });

  it('a card ahead of central: central takes the card\'s state', async () => {
    const made = await sold(20);
    const read = cardRead(made.cardNo, made.uid, 6, 12);
    const op = rebuildOp(till, ++seq, read);
    assert.equal((await upload(till, [op])).results[0]!.outcome, 'applied');
    const after = await card(made.cardNo);
    assert.deepEqual([after.remainingUses, after.appliedSeq, after.maxSeq, after.rebuiltByOp], [12, 6, 6, op.opId]);
    assert.equal(after.cardTypeId, made.cardTypeId, 'the type central knows is kept');
    assert.deepEqual((await history(made.cardNo)).map((i) => [i.seq, i.kind]), [[2, 'activate'], [6, 'rebuild']]);
  });

  it('ops waiting behind a gap that can never fill (their till lost the ops before them): the card closes the gap', async () => {
    const made = await sold(20);
    const other = await central().enrolTerminal(cinemaId, 'Till R2');
    // Seqs 3 and 4 were on a till whose disk was lost; another till's seq 5 (and 6) wait at central.
    const waiting = await upload(other, [wireOp(other, 1, made.cardNo, 5, 1, 15), wireOp(other, 2, made.cardNo, 6, 2, 13)]);
    assert.deepEqual(waiting.results.map((r) => r.outcome), ['applied', 'applied']);
    assert.deepEqual([(await card(made.cardNo)).appliedSeq, (await card(made.cardNo)).maxSeq], [2, 6]);
    // The card, tapped in rebuild mode, was last written at seq 5 (seq 6 is a later write whose card was not tapped since).
    const op = rebuildOp(till, ++seq, cardRead(made.cardNo, made.uid, 5, 15));
    assert.equal((await upload(till, [op])).results[0]!.outcome, 'applied');
    const after = await card(made.cardNo);
    assert.deepEqual([after.appliedSeq, after.maxSeq, after.remainingUses, after.rebuiltByOp], [6, 6, 13, op.opId]);
    assert.deepEqual((await history(made.cardNo)).map((i) => [i.seq, i.kind, i.status]), [[2, 'activate', 'applied'], [5, 'redeem', 'applied'], [6, 'redeem', 'applied']]);
    // Central's op at that seq stays the ledger's row: the rebuild op is kept, and a resend is a duplicate.
    assert.equal((await upload(till, [op])).results[0]!.outcome, 'duplicate');
    // Central holding another balance at the card's seq is a discrepancy, not taken.
    const odd = await sold(20);
    await upload(other, [wireOp(other, 3, odd.cardNo, 4, 1, 19)]);
    await upload(till, [rebuildOp(till, ++seq, cardRead(odd.cardNo, odd.uid, 4, 12))]);
    assert.deepEqual([(await card(odd.cardNo)).appliedSeq, (await card(odd.cardNo)).remainingUses], [2, 20]);
  });

  it('a card equal to central: nothing changes ("already up to date"); a resend is a duplicate', async () => {
    const made = await sold(20);
    const before = await card(made.cardNo);
    const op = rebuildOp(till, ++seq, cardRead(made.cardNo, made.uid, 2, 20));
    assert.equal((await upload(till, [op])).results[0]!.outcome, 'applied');
    const after = await card(made.cardNo);
    assert.deepEqual(after, before);
    assert.equal(after.rebuiltAt, null);
    assert.equal((await upload(till, [op])).results[0]!.outcome, 'duplicate');
    const audit = ok(await central().admin.client.GET('/v1/audit-log', { params: { query: { action: 'card.rebuild', limit: 100 } } })).items;
    assert.equal(audit.find((a) => a.targetId === made.cardNo)?.details?.['outcome'], 'up_to_date');
  });

  it('central ahead of the card: central keeps its state, records the discrepancy, does not hotlist', async () => {
    const made = await sold(20);
    await upload(till, [wireOp(till, ++seq, made.cardNo, 3, 2, 18), wireOp(till, ++seq, made.cardNo, 4, 1, 17)]);
    const op = rebuildOp(till, ++seq, cardRead(made.cardNo, made.uid, 3, 18));
    assert.equal((await upload(till, [op])).results[0]!.outcome, 'applied');
    const after = await card(made.cardNo);
    assert.deepEqual([after.remainingUses, after.appliedSeq, after.blacklisted, after.rebuiltAt], [17, 4, false, null]);
    assert.deepEqual(await alerts(made.cardNo), []);
    const audit = ok(await central().admin.client.GET('/v1/audit-log', { params: { query: { action: 'card.rebuild', limit: 100 } } })).items;
    const entry = audit.find((a) => a.targetId === made.cardNo);
    assert.equal(entry?.details?.['outcome'], 'central_ahead');
    assert.match(String(entry?.details?.['discrepancy']), /seq 3 with 18 uses; central has seq 4/);
  });

  it('bad input is refused and parked with a clear reason; the queue moves on', async () => {
    const c = freshCard();
    const good = cardRead(c.cardNo, c.uid, 3, 5);
    const ops = [
      rebuildOp(till, ++seq, good, { payload: '{"card": 1}' }),
      rebuildOp(till, ++seq, { ...good, record: { ...good.record, remainingUses: -4 } }, { remainingAfter: 5 }),
      rebuildOp(till, ++seq, good, { cardSeq: 4 }), // the op's seq is not the record's
      rebuildOp(till, ++seq, good),
    ];
    const res = await upload(till, ops);
    assert.deepEqual(res.results.map((r) => [r.outcome, r.reason]), [['rejected', 'refused'], ['rejected', 'refused'], ['rejected', 'refused'], ['applied', null]]);
    const parked = ok(await central().admin.client.GET('/v1/sync/parked', { params: { query: { cinemaId } } })).items;
    for (const op of ops.slice(0, 3)) assert.match(parked.find((p) => p.opId === op.opId)?.detail ?? '', /^rebuild_invalid/);
    assert.equal((await card(c.cardNo)).remainingUses, 5);
    // A card number on a chip that belongs to another card is refused too.
    const other = freshCard();
    const clash = await upload(till, [rebuildOp(till, ++seq, cardRead(other.cardNo, c.uid, 3, 5))]);
    assert.equal(clash.results[0]!.reason, 'refused');
  });

  it('an HQ station rebuilds through the API, idempotent by op id', async () => {
    const c = freshCard();
    const body = { ...cardRead(c.cardNo, c.uid, 5, 8, { code: 202 }), opId: v7() };
    const first = ok(await central().admin.client.POST('/v1/rebuild/cards', { body }));
    assert.equal(first.outcome, 'created');
    assert.equal(first.placeholderCardType, true);
    assert.equal(first.card?.remainingUses, 8);
    const again = ok(await central().admin.client.POST('/v1/rebuild/cards', { body }));
    assert.deepEqual([again.outcome, again.duplicate], ['created', true]);
    const conflict = await central().admin.client.POST('/v1/rebuild/cards', { body: { ...body, record: { ...body.record, remainingUses: 7 } } });
    assert.equal(conflict.response.status, 409);
    const bad = await central().admin.client.POST('/v1/rebuild/cards', { body: { ...body, opId: v7(), card: { ...body.card, cardTypeCode: 300 } } });
    assert.equal(bad.response.status, 400);
  });

  it('progress: cards known in the scope, cards seen since a time, cards not seen', async () => {
    const p = ok(await till.client.GET('/v1/rebuild/progress', { params: { query: { since: started } } }));
    assert.equal(p.cinemaId, cinemaId);
    const known = ok(await central().admin.client.GET('/v1/cards', { params: { query: { cinemaId, limit: 500 } } })).items.filter((k) => k.cinemaId === cinemaId);
    assert.equal(p.cardsKnown, known.length);
    // Seen: the two recreated, the five sold ones tapped, the one after the refusals.
    assert.equal(p.cardsSeen, 8);
    assert.equal(p.cardsNotSeen, p.cardsKnown - p.cardsSeen);
    assert.deepEqual(p.outcomes, { created: 3, took_card: 2, up_to_date: 1, central_ahead: 2 });
    const later = ok(await till.client.GET('/v1/rebuild/progress', { params: { query: { since: new Date(Date.now() + 60_000).toISOString() } } }));
    assert.equal(later.cardsSeen, 0);
  });
});
