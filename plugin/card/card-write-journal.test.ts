import assert from 'node:assert/strict';
import type { CardRecord, CardStatic } from './card-data.ts';
import { isCardError, type CardReadOutcome } from './card-outcome.ts';
import { InMemoryCardWriteJournal, resolvePending, uidHex, type PendingCardWrite } from './card-write-journal.ts';

const uid = Uint8Array.of(0x04, 0xa1, 0xb2, 0xc3);
const staticData: CardStatic = {
  layoutVersion: 1, cardType: 7, keyVersion: 1, blocked: false, cardNumber: 42n,
  issuedAt: 0, originalExpiry: 0, initialUses: 20, chainId: 1, issuingCinema: 1,
};
const rec = (seq: number, remainingUses: number, lastTerminal = 4): CardRecord => ({
  seq, remainingUses, lifetimeUsesLoaded: 20, expiry: 0, status: 'active',
  lastTxTime: 0, lastCinema: 1, lastTerminal, lastAmount: 1, lastTxKind: 'redeem',
});
const pending: PendingCardWrite = { cardNumber: 42n, uid: uidHex(uid), previousSeq: 5, expectedSeq: 6, targetCopy: 'B', record: rec(6, 14) };

function card(A: CardRecord | undefined, B: CardRecord | undefined, over: { uid?: Uint8Array; cardNumber?: bigint } = {}): CardReadOutcome {
  const copy = !B || (A && A.seq >= B.seq) ? 'A' : 'B';
  const record = (copy === 'A' ? A : B)!;
  const base = { sessionId: 's', uid: over.uid ?? uid, static: { ...staticData, cardNumber: over.cardNumber ?? 42n }, record, copy, copies: { A, B }, apdus: 14 } as const;
  return A && B ? { kind: 'ok', ...base } : { kind: 'torn', invalidCopy: copy === 'A' ? 'B' : 'A', ...base };
}

describe('resolvePending', () => {
  it('landed: a valid copy holds the expected seq with our record', () => {
    assert.equal(resolvePending(card(rec(5, 15), rec(6, 14)), pending), 'landed');
    // Landed, and another terminal has written once more on top: our copy is still visible.
    assert.equal(resolvePending(card(rec(7, 13, 9), rec(6, 14)), pending), 'landed');
  });

  it('not_landed: the card still shows the previous seq (the target copy intact or torn)', () => {
    assert.equal(resolvePending(card(rec(5, 15), rec(4, 16)), pending), 'not_landed');
    assert.equal(resolvePending(card(rec(5, 15), undefined), pending), 'not_landed');
  });

  it('superseded: another write took the expected seq with other content', () => {
    assert.equal(resolvePending(card(rec(5, 15), rec(6, 13, 9)), pending), 'superseded');
  });

  it('undetermined: the card moved on and our record is not visible', () => {
    assert.equal(resolvePending(card(rec(7, 12, 9), undefined), pending), 'undetermined');
    assert.equal(resolvePending(card(rec(7, 12, 9), rec(8, 11, 9)), pending), 'undetermined');
  });

  it('other_card and unreadable', () => {
    assert.equal(resolvePending(card(rec(5, 15), rec(6, 14), { cardNumber: 43n }), pending), 'other_card');
    assert.equal(resolvePending(card(rec(5, 15), rec(6, 14), { uid: Uint8Array.of(1, 2, 3, 4) }), pending), 'other_card');
    assert.equal(resolvePending({ kind: 'card_removed', apdus: 3 }, pending), 'unreadable');
    assert.equal(resolvePending({ kind: 'blank', uid, apdus: 9 }, pending), 'unreadable');
  });
});

describe('InMemoryCardWriteJournal', () => {
  it('accepts a retry of the same write but refuses another write while one is pending', async () => {
    const j = new InMemoryCardWriteJournal();
    await j.begin(pending);
    await j.begin({ ...pending, record: { ...pending.record } });
    await assert.rejects(j.begin({ ...pending, record: rec(6, 13) }), (e) => isCardError(e, 'pending_unresolved') && e.pending === pending);
    assert.equal(await j.pendingFor(42n), pending);
    await j.complete(pending);
    assert.equal(await j.pendingFor(42n), undefined);
    assert.deepEqual(j.completed, [pending]);
    await assert.rejects(j.complete(pending), /no such pending write/);
  });

  it('abandons a write that did not land', async () => {
    const j = new InMemoryCardWriteJournal();
    await j.begin(pending);
    await j.abandon(pending);
    assert.deepEqual(j.abandoned, [pending]);
    assert.equal(await j.pendingFor(42n), undefined);
  });
});
