/**
 * A till's card-lifecycle changes reach central by sync (`spec/sync.md` §2): a sale, renewal,
 * re-issue or blacklist change the terminal recorded — online or offline — is applied by the
 * registry at its card seq inside the batch, under the terminal's op id, on both databases.
 */
import assert from 'node:assert/strict';
import { makeCardType, makeCards } from '../cards/card-fixtures.ts';
import { describeCentral, ok, type EnrolledTerminal } from '../test-support/harness.ts';
import { upload, wireOp } from './test-ops.ts';

describeCentral('sync: lifecycle changes from the till', (central) => {
  let cinemaId: string;
  let otherCinemaId: string;
  let till: EnrolledTerminal;
  let otherTill: EnrolledTerminal;
  let seq = 0;
  let otherSeq = 0;

  before(async () => {
    const c = central();
    cinemaId = (await c.createCinema('Lifecycle cinema')).id;
    otherCinemaId = (await c.createCinema('Other cinema')).id;
    till = await c.enrolTerminal(cinemaId, 'Till L');
    otherTill = await c.enrolTerminal(otherCinemaId, 'Till O');
  });

  const card = async (no: string) => ok(await central().admin.client.GET('/v1/cards/{cardNo}', { params: { path: { cardNo: no } } }));
  const history = async (no: string) =>
    ok(await central().admin.client.GET('/v1/cards/{cardNo}/history', { params: { path: { cardNo: no }, query: { scope: 'all' } } })).items;
  const lifecycle = (t: EnrolledTerminal, termSeq: number, cardNo: string, cardSeq: number | null, kind: 'activate' | 'renew' | 'reissue' | 'recycle' | 'blacklist' | 'unblacklist', payload: object, over = {}) =>
    wireOp(t, termSeq, cardNo, cardSeq ?? 0, 0, 0, { kind, cardSeq, consumption: null, uses: null, remainingAfter: null, operatorId: 'cashier-7', payload: JSON.stringify(payload), ...over });

  it('a sale, redemptions and a renewal made at the till are applied in card-seq order, once', async () => {
    const type = await makeCardType(central(), { usesPerCard: 10 });
    const [made] = await makeCards(central(), 1, type.id);
    const no = made!.cardNo;
    const expiry = new Date(Date.now() + 200 * 86_400_000).toISOString();
    const renewed = new Date(Date.now() + 500 * 86_400_000).toISOString();
    const ops = [
      lifecycle(till, ++seq, no, 2, 'activate', { expiresAt: expiry }),
      wireOp(till, ++seq, no, 3, 2, 8),
      lifecycle(till, ++seq, no, 4, 'renew', { expiresAt: renewed, previousExpiry: expiry }),
      wireOp(till, ++seq, no, 5, 1, 7),
    ];
    const res = await upload(till, ops);
    assert.deepEqual(res.results.map((r) => [r.outcome, r.reason]), ops.map(() => ['applied', null]));
    const after = await card(no);
    assert.equal(after.state, 'active');
    assert.equal(after.cinemaId, cinemaId);
    assert.equal(after.remainingUses, 7);
    assert.equal(after.expiresAt, renewed);
    const items = await history(no);
    assert.deepEqual(items.map((i) => [i.seq, i.kind, i.status]), [[2, 'activate', 'applied'], [3, 'redeem', 'applied'], [4, 'renew', 'applied'], [5, 'redeem', 'applied']]);
    // The registry's rows carry the till's op ids and cashier: a resend is all duplicates.
    assert.equal(items[0]!.opId, ops[0]!.opId);
    assert.equal(items[0]!.cashier, 'cashier-7');
    const again = await upload(till, ops);
    assert.deepEqual(again.results.map((r) => r.outcome), ['duplicate', 'duplicate', 'duplicate', 'duplicate']);
    assert.equal((await card(no)).remainingUses, 7);
    const audit = ok(await central().admin.client.GET('/v1/audit-log', { params: { query: { action: 'card.activate', cinemaId, limit: 50 } } })).items;
    const sale = audit.find((a) => a.targetId === no);
    assert.ok(sale, 'the sale is audited');
    assert.equal(sale.actorTerminalId, till.terminalId);
  });

  it('a card used up and re-issued at the till starts a new issue with its new uses', async () => {
    const type = await makeCardType(central(), { usesPerCard: 10 });
    const [made] = await makeCards(central(), 1, type.id);
    const no = made!.cardNo;
    await upload(till, [lifecycle(till, ++seq, no, 2, 'activate', {}), wireOp(till, ++seq, no, 3, 10, 0)]);
    assert.equal((await card(no)).state, 'recycled');
    const res = await upload(till, [lifecycle(till, ++seq, no, 4, 'reissue', {}, { uses: 12, remainingAfter: 12 }), wireOp(till, ++seq, no, 5, 1, 11)]);
    assert.deepEqual(res.results.map((r) => r.outcome), ['applied', 'applied']);
    const after = await card(no);
    assert.equal(after.state, 'active');
    assert.equal(after.remainingUses, 11);
    assert.equal(after.issueEpoch, 2);
  });

  it('a blacklist change made at the till lists the card for every terminal, blacklist stream first', async () => {
    const [made] = await makeCards(central(), 1);
    const no = made!.cardNo;
    await upload(till, [lifecycle(till, ++seq, no, 2, 'activate', {})]);
    const before = ok(await otherTill.client.GET('/v1/sync/changes', { params: { query: {} } }));
    const res = await upload(till, [lifecycle(till, ++seq, no, null, 'blacklist', { reason: 'reported stolen' })]);
    assert.equal(res.results[0]!.outcome, 'applied');
    assert.ok(res.blacklistVersion > before.blacklistCursor);
    const after = await card(no);
    assert.ok(after.blacklistedAt, 'listed at central');
    assert.equal(after.blacklistReason, 'reported stolen');
    const page = ok(await otherTill.client.GET('/v1/sync/changes', { params: { query: { cursor: before.cursor, blacklistCursor: before.blacklistCursor } } }));
    assert.ok(page.blacklist.some((b) => b.blacklist?.cardNo === no && b.blacklist.listed), 'another cinema pulls it');
    // Listing it again (another till offline meanwhile) is no change and no error; unlisting lifts it.
    const twice = await upload(till, [lifecycle(till, ++seq, no, null, 'blacklist', { reason: 'again' }), lifecycle(till, ++seq, no, null, 'unblacklist', { reason: 'found' })]);
    assert.deepEqual(twice.results.map((r) => r.outcome), ['applied', 'applied']);
    assert.equal((await card(no)).blacklistedAt, null);
  });

  it('a change central refuses is parked with its reason, and the queue moves on', async () => {
    const [theirs, mine] = await makeCards(central(), 2);
    await upload(otherTill, [lifecycle(otherTill, ++otherSeq, theirs!.cardNo, 2, 'activate', {})]);
    const ops = [
      // renewing another cinema's card: the registry refuses it for this terminal
      lifecycle(till, ++seq, theirs!.cardNo, 3, 'renew', { expiresAt: new Date(Date.now() + 86_400_000 * 30).toISOString() }),
      // a renewal without a date cannot be applied
      lifecycle(till, ++seq, mine!.cardNo, 2, 'renew', {}),
      // re-issuing a card that was never sold
      lifecycle(till, ++seq, mine!.cardNo, 2, 'reissue', {}, { uses: 12, remainingAfter: 12 }),
      lifecycle(till, ++seq, mine!.cardNo, 2, 'activate', {}),
    ];
    const res = await upload(till, ops);
    assert.deepEqual(res.results.map((r) => r.outcome), ['rejected', 'rejected', 'rejected', 'applied']);
    assert.ok(res.results.slice(0, 3).every((r) => r.reason === 'refused'));
    const parked = ok(await central().admin.client.GET('/v1/sync/parked', { params: { query: { cinemaId } } })).items;
    const renew = parked.find((p) => p.opId === ops[0]!.opId);
    assert.ok(renew?.detail?.startsWith('cinema_mismatch') || renew?.detail?.includes('cinema'), `the refusal says why: ${renew?.detail}`);
    assert.equal((await card(theirs!.cardNo)).cinemaId, otherCinemaId);
    assert.equal((await card(mine!.cardNo)).state, 'active');
    // Nothing of a refused step is left behind: the card's history has the sale only.
    assert.deepEqual((await history(mine!.cardNo)).map((i) => i.kind), ['activate']);
  });
});
