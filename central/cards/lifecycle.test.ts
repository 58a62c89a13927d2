import assert from 'node:assert/strict';
import { allowedFrom, cardStates, transition, type CardAction, type CardLifeState } from './lifecycle.ts';

const card = (over: Partial<CardLifeState> = {}): CardLifeState => ({
  state: 'made',
  blacklisted: false,
  issueEpoch: 1,
  recycledReason: null,
  ...over,
});

function next(from: CardLifeState, action: CardAction): CardLifeState {
  const t = transition(from, action);
  assert.ok(t.ok, `${action} from ${from.state} should be allowed, got ${t.ok ? '' : t.refusal}`);
  return t.next;
}

describe('card lifecycle', () => {
  it('walks the whole life: made → active → exhausted → re-issued → returned → type changed → re-issued', () => {
    let c = card();
    c = next(c, 'activate');
    assert.equal(c.state, 'active');
    c = next(c, 'renew');
    c = next(c, 'topUp');
    c = next(c, 'exhaust');
    assert.deepEqual(c, { state: 'recycled', blacklisted: false, issueEpoch: 1, recycledReason: 'exhausted' });
    c = next(c, 'reissue');
    assert.deepEqual(c, { state: 'active', blacklisted: false, issueEpoch: 2, recycledReason: null });
    c = next(c, 'recycle');
    assert.equal(c.recycledReason, 'returned');
    c = next(c, 'changeType');
    assert.equal(c.state, 'recycled');
    c = next(c, 'reissue');
    assert.equal(c.issueEpoch, 3);
  });

  it('allows each action only from its states, for every state', () => {
    const actions = Object.keys(allowedFrom) as CardAction[];
    for (const action of actions) {
      for (const state of cardStates) {
        const reason = action === 'topUp' || action === 'replenish' ? 'exhausted' : null;
        const from = card({ state, recycledReason: state === 'recycled' ? reason ?? 'returned' : null, blacklisted: action === 'unblacklist' });
        const t = transition(from, action);
        assert.equal(t.ok, allowedFrom[action].includes(state), `${action} from ${state}`);
        if (!t.ok) assert.equal(t.refusal, 'card_wrong_state');
      }
    }
  });

  it('an exhausted card comes back to life with a top-up; a returned one does not', () => {
    assert.equal(next(card({ state: 'recycled', recycledReason: 'exhausted' }), 'topUp').state, 'active');
    assert.equal(next(card({ state: 'recycled', recycledReason: 'exhausted' }), 'replenish').state, 'active');
    const t = transition(card({ state: 'recycled', recycledReason: 'returned' }), 'topUp');
    assert.deepEqual(t.ok ? undefined : t.refusal, 'card_wrong_state');
  });

  it('blacklisting is a flag: it blocks sale, renewal, top-up, re-issue and type change until lifted', () => {
    const listed = next(card({ state: 'active' }), 'blacklist');
    assert.equal(listed.state, 'active');
    for (const action of ['activate', 'renew', 'topUp', 'reissue', 'changeType'] as const) {
      const t = transition({ ...listed, state: action === 'activate' ? 'made' : action === 'reissue' || action === 'changeType' ? 'recycled' : 'active' }, action);
      assert.deepEqual(t.ok ? undefined : t.refusal, 'card_blacklisted', action);
    }
    // what the ledger sees still happens, and a blacklisted card can be collected
    assert.equal(next(listed, 'exhaust').state, 'recycled');
    assert.equal(next(listed, 'recycle').recycledReason, 'returned');
    const again = transition(listed, 'blacklist');
    assert.deepEqual(again.ok ? undefined : again.refusal, 'card_already_blacklisted');
    const lifted = next(listed, 'unblacklist');
    assert.equal(lifted.blacklisted, false);
    const twice = transition(lifted, 'unblacklist');
    assert.deepEqual(twice.ok ? undefined : twice.refusal, 'card_not_blacklisted');
  });
});
