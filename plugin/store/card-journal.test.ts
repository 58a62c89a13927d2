import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CardRecord } from '../card/card-data.ts';
import { isCardError } from '../card/card-outcome.ts';
import type { PendingCardWrite } from '../card/card-write-journal.ts';
import { CardCache } from './card-cache.ts';
import { TerminalCardJournal } from './card-journal.ts';
import { TerminalStore } from './terminal-store.ts';

const rec = (seq: number, remainingUses: number): CardRecord => ({
  seq, remainingUses, lifetimeUsesLoaded: 20, expiry: 1_800_000_000, status: 'active', lastTxTime: 0, lastCinema: 1, lastTerminal: 4, lastAmount: 1, lastTxKind: 'redeem',
});
const pending = (expectedSeq: number, remaining: number): PendingCardWrite => ({
  cardNumber: 42n, uid: '04A1B2C3', previousSeq: expectedSeq - 1, expectedSeq, targetCopy: expectedSeq % 2 ? 'A' : 'B', record: rec(expectedSeq, remaining),
});
const op = (uses: number, remainingAfter: number) => ({
  draft: { kind: 'redeem' as const, cardNo: '42', cardSeq: 6, operatorId: 'U-1', consumption: 'ticket' as const, uses, remainingAfter, payload: { saleId: 'S-1' } },
  cardTypeCode: 7,
});

describe('terminal card write journal (card_journal)', () => {
  let dir: string;
  let store: TerminalStore;
  let journal: TerminalCardJournal;
  const count = async (table: string) => Number((await store.db(table).count<{ n: number }[]>('* as n'))[0]!.n);

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cinecard-journal-'));
    store = await TerminalStore.open({ filename: join(dir, 't.sqlite'), now: () => Date.UTC(2026, 10, 25) });
    await store.setIdentity({ terminalId: 'T-1', cinemaId: 'C-1' });
    journal = new TerminalCardJournal(store, new CardCache(store.db), () => Date.UTC(2026, 10, 25));
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('begin persists the pending write with its op; complete records the op, updates the cache and clears the row together', async () => {
    const p = pending(6, 0);
    const bound = journal.forOp(op(2, 0));
    await bound.begin(p);
    assert.deepEqual(await journal.pendingFor(42n), p);
    assert.equal((await journal.pendingOp(42n))?.draft.uses, 2);
    assert.equal(await count('ops'), 0);
    await bound.complete(p);
    assert.equal(bound.committed?.kind, 'redeem');
    assert.equal(await count('ops'), 1);
    assert.equal(await count('outbox'), 1);
    assert.equal(await count('card_journal'), 0);
    const cached = await new CardCache(store.db).card('42');
    assert.equal(cached?.remaining, 0);
    assert.equal(cached?.lastSeq, 6);
    assert.equal(cached?.recycledReason, 'exhausted');
  });

  it('a second complete of the same write records nothing (never twice)', async () => {
    const p = pending(6, 14);
    await journal.begin(p, op(1, 14));
    await journal.complete(p);
    await assert.rejects(journal.complete(p), /no such pending write/);
    assert.equal(await count('ops'), 1);
  });

  it('a retry of the same write is accepted; another write while one is pending is refused', async () => {
    await journal.begin(pending(6, 14), op(1, 14));
    await journal.begin(pending(6, 14), op(1, 14));
    await assert.rejects(journal.begin(pending(6, 13), op(2, 13)), (e) => isCardError(e, 'pending_unresolved') && e.pending?.expectedSeq === 6);
  });

  it('abandon drops the entry and records nothing', async () => {
    const p = pending(6, 14);
    await journal.begin(p, op(1, 14));
    await journal.abandon(p);
    assert.equal(await journal.pendingFor(42n), undefined);
    assert.equal(await count('ops'), 0);
  });

  it('a failed op insert rolls the journal row back in place (one transaction)', async () => {
    const p = pending(6, 14);
    await journal.begin(p, op(1, 14));
    await store.db('meta').where({ key: 'terminal_id' }).del(); // appendOp will throw: not enrolled
    await assert.rejects(journal.complete(p), /not enrolled/);
    assert.deepEqual(await journal.pendingFor(42n), p, 'still pending: the re-tap completes it');
    assert.equal(await count('ops'), 0);
  });
});
