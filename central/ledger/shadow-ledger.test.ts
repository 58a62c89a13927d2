import assert from 'node:assert/strict';
import fc from 'fast-check';
import { v7 } from 'uuid';
import { describeCentral, ok } from '../test-support/harness.ts';
import { redemption, soldCard } from '../cards/card-fixtures.ts';
import { type CardOp, ShadowLedger } from './shadow-ledger.ts';

describeCentral('shadow ledger (service, property-based)', (central) => {
  it('any order, with repeats, of a card\'s ops ends with each applied once and the shadow balance equal to the card\'s', async function () {
    this.timeout(120_000);
    const c = central();
    const cinema = await c.createCinema();
    const { db, clock, audit } = c.platform;
    const ledger = new ShadowLedger(db, clock, audit);
    await fc.assert(
      fc.asyncProperty(
        // each step: a redemption (negative) or a top-up (positive) the card allowed
        fc.array(fc.integer({ min: -4, max: 3 }).filter((d) => d !== 0), { minLength: 1, maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 40 }),
        async (steps, shuffle) => {
          const card = await soldCard(c, cinema.id);
          let balance = card.remainingUses;
          const ops: CardOp[] = [];
          for (const [i, wanted] of steps.entries()) {
            const delta = wanted < 0 ? -Math.min(-wanted, balance) : wanted;
            if (delta === 0) continue;
            balance += delta;
            ops.push({
              opId: v7(),
              cardNo: card.cardNo,
              seq: card.appliedSeq + ops.length + 1,
              kind: delta < 0 ? 'redeem' : 'topup',
              usesDelta: delta,
              remainingAfter: balance,
              consumptionType: delta < 0 ? 'ticket' : null,
              amountFen: null,
              cinemaId: cinema.id,
              terminalId: null,
              userId: null,
              cashier: null,
              occurredAt: new Date(Date.UTC(2025, 0, 1, 0, i)).toISOString(),
            });
          }
          // arrival order: a permutation driven by `shuffle`, plus a repeat of some ops
          const arrivals = [...ops];
          for (const [i, n] of shuffle.entries()) {
            const j = n % arrivals.length;
            const k = i % arrivals.length;
            [arrivals[j], arrivals[k]] = [arrivals[k]!, arrivals[j]!];
          }
          arrivals.push(...ops.filter((_, i) => shuffle[i] !== undefined && shuffle[i]! % 3 === 0));
          const seen = new Set<string>();
          for (const op of arrivals) {
            const result = await ledger.record(op);
            assert.equal(result.outcome, seen.has(op.opId) ? 'duplicate' : 'recorded');
            seen.add(op.opId);
          }
          const history = await ledger.history(card.cardNo, 'all');
          assert.equal(history.items.length, ops.length + 1, 'the sale and every op');
          assert.ok(history.items.every((e) => e.status === 'applied' && e.anomaly === null));
          assert.equal(history.card.appliedSeq, card.appliedSeq + ops.length);
          assert.equal(history.card.remainingUses, balance);
          assert.equal(history.card.state, balance === 0 ? 'recycled' : 'active');
        },
      ),
      { numRuns: 15 },
    );
  });

  it('concurrent submissions: one op sent five times is recorded once; five ops on one seq, one wins', async () => {
    const c = central();
    const cinema = await c.createCinema();
    const card = await soldCard(c, cinema.id);
    const till = await c.enrolTerminal(cinema.id);
    const op = redemption(card.cardNo, 3, 1, 9);
    const same = await Promise.all(Array.from({ length: 5 }, () => till.client.POST('/v1/ledger/ops', { body: op })));
    assert.deepEqual(same.map((r) => r.response.status), [200, 200, 200, 200, 200]);
    assert.equal(same.filter((r) => r.data?.outcome === 'recorded').length, 1);
    const rivals = await Promise.all(
      Array.from({ length: 5 }, (_, i) => till.client.POST('/v1/ledger/ops', { body: redemption(card.cardNo, 4, 1 + i, 8 - i) })),
    );
    assert.equal(rivals.filter((r) => r.response.status === 200).length, 1);
    assert.ok(rivals.every((r) => r.response.status === 200 || r.error?.code === 'seq_taken'));
    const after = ok(await c.admin.client.GET('/v1/cards/{cardNo}', { params: { path: { cardNo: card.cardNo } } }));
    assert.equal(after.appliedSeq, 4);
  });
});

describeCentral(
  'card minimum uses from the configuration',
  (central) => {
    it('takes the configured minimum instead of 10', async () => {
      const { client } = central().admin;
      const five = await client.POST('/v1/card-types', { body: { name: 'Five', usesPerCard: 5, settlementPricePerUseFen: 1, concessionValuePerUseFen: 1 } });
      assert.equal(five.response.status, 201);
      const four = await client.POST('/v1/card-types', { body: { name: 'Four', usesPerCard: 4, settlementPricePerUseFen: 1, concessionValuePerUseFen: 1 } });
      assert.match(four.error?.message ?? '', /at least 5/);
    });
  },
  { minUsesPerCard: 5 },
);
