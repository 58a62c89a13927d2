/**
 * The card's life over HTTP against the pure state machine: random sequences of every action on one
 * card, each answered exactly as `transition()` says (allowed → 200 and the predicted card; refused →
 * 409 with the refusal's code), on SQLite and PostgreSQL.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { v7 } from 'uuid';
import { describeCentral, ok } from '../test-support/harness.ts';
import { makeCardType, makeCards, redemption } from './card-fixtures.ts';
import { type CardAction, type CardLifeState, transition } from './lifecycle.ts';

const actions = ['activate', 'renew', 'topUp', 'redeemAll', 'blacklist', 'unblacklist', 'recycle', 'reissue', 'changeType'] as const;
type Step = (typeof actions)[number];

interface Model extends CardLifeState {
  remaining: number;
  seq: number;
}

describeCentral('card lifecycle over HTTP, model-based', (central) => {
  it('answers every random sequence of actions as the state machine says', async function () {
    this.timeout(180_000);
    const c = central();
    const cinema = await c.createCinema();
    const till = await c.enrolTerminal(cinema.id);
    const types = [await makeCardType(c), await makeCardType(c)];
    const admin = c.admin.client;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom(...actions), { minLength: 1, maxLength: 14 }), async (steps) => {
        const [card] = await makeCards(c, 1, types[0]!.id);
        const cardNo = card!.cardNo;
        const at = { params: { path: { cardNo } } };
        const model: Model = { state: 'made', blacklisted: false, issueEpoch: 1, recycledReason: null, remaining: 10, seq: 1 };
        for (const step of steps) {
          const seq = model.seq + 1;
          const send = async (): Promise<{ response: Response; error?: { code?: string } | undefined }> => {
            switch (step as Step) {
              case 'activate':
                return admin.POST('/v1/cards/{cardNo}/activate', { ...at, body: { cinemaId: cinema.id, seq } });
              case 'renew':
                return admin.POST('/v1/cards/{cardNo}/renew', { ...at, body: { expiresAt: new Date(Date.now() + 86_400_000).toISOString(), seq } });
              case 'topUp':
                return admin.POST('/v1/cards/{cardNo}/top-ups', {
                  ...at,
                  body: { opId: v7(), seq, uses: 5, remainingAfter: model.remaining + 5, occurredAt: new Date().toISOString() },
                });
              case 'redeemAll':
                return till.client.POST('/v1/ledger/ops', { body: redemption(cardNo, seq, Math.max(model.remaining, 1), 0) });
              case 'blacklist':
                return admin.POST('/v1/cards/{cardNo}/blacklist', { ...at, body: { reason: 'model' } });
              case 'unblacklist':
                return admin.POST('/v1/cards/{cardNo}/unblacklist', { ...at, body: { reason: 'model' } });
              case 'recycle':
                return admin.POST('/v1/cards/{cardNo}/recycle', { ...at, body: { seq } });
              case 'reissue':
                return admin.POST('/v1/cards/{cardNo}/reissue', { ...at, body: { cinemaId: cinema.id, seq } });
              case 'changeType':
                return admin.POST('/v1/cards/{cardNo}/change-type', { ...at, body: { cardTypeId: types[model.issueEpoch % 2]!.id } });
            }
          };
          const { response, error } = await send();
          const writesSeq = step !== 'blacklist' && step !== 'unblacklist' && step !== 'changeType';
          if (step === 'redeemAll') {
            // The ledger records what a card did; it refuses only an unsold card.
            if (model.state === 'made') {
              assert.equal(error?.code, 'card_not_sold', `${steps.join(' → ')}: ${step}`);
              continue;
            }
            assert.equal(response.status, 200, `${steps.join(' → ')}: ${step} ${JSON.stringify(error)}`);
            model.remaining = 0;
            model.seq = seq;
            const t = transition(model, 'exhaust');
            if (t.ok) Object.assign(model, t.next);
          } else {
            const action: CardAction = step;
            const t = transition(model, action);
            const refusal = step === 'topUp' && model.state === 'made' ? 'card_not_sold' : t.ok ? undefined : t.refusal;
            if (refusal) {
              assert.equal(response.status, 409, `${steps.join(' → ')}: ${step} should be refused`);
              assert.equal(error?.code, refusal, `${steps.join(' → ')}: ${step}`);
              continue;
            }
            assert.equal(response.status, 200, `${steps.join(' → ')}: ${step} ${JSON.stringify(error)}`);
            if (t.ok) Object.assign(model, t.next);
            if (step === 'topUp') model.remaining += 5;
            if (step === 'reissue') model.remaining = 10;
            if (writesSeq) model.seq = seq;
          }
          const now = ok(await admin.GET('/v1/cards/{cardNo}', at));
          const seen = { state: now.state, blacklisted: now.blacklisted, issueEpoch: now.issueEpoch, recycledReason: now.recycledReason, remaining: now.remainingUses, seq: now.appliedSeq };
          assert.deepEqual(seen, { ...model }, `after ${steps.join(' → ')}`);
        }
      }),
      { numRuns: 25 },
    );
  });
});
