import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sqlite3 from 'sqlite3';
import { opHash, TerminalStore } from './terminal-store.ts';

describe('terminal store (SQLite file)', () => {
  let dir: string;
  let store: TerminalStore;
  const file = () => join(dir, 'terminal.sqlite');

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cinecard-store-'));
    store = await TerminalStore.open({ filename: file(), now: () => Date.UTC(2026, 10, 25, 8, 0, 0) });
    await store.setIdentity({ terminalId: 'T-1', cinemaId: 'C-1' });
  });

  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs with WAL, synchronous=FULL and foreign keys on', async () => {
    const [mode] = await store.db.raw('PRAGMA journal_mode');
    const [sync] = await store.db.raw('PRAGMA synchronous');
    const [fk] = await store.db.raw('PRAGMA foreign_keys');
    assert.equal(mode.journal_mode, 'wal');
    assert.equal(sync.synchronous, 2);
    assert.equal(fk.foreign_keys, 1);
  });

  it('gives ops gapless term_seq, and a rolled-back op leaves no gap', async () => {
    const a = await store.write((trx) => store.appendOp(trx, { kind: 'redeem', cardNo: '100001', cardSeq: 4, uses: 2 }));
    await assert.rejects(
      store.write(async (trx) => {
        await store.appendOp(trx, { kind: 'redeem', cardNo: '100001', cardSeq: 5, uses: 1 });
        throw new Error('card write failed');
      }),
      /card write failed/,
    );
    const b = await store.write((trx) => store.appendOp(trx, { kind: 'redeem', cardNo: '100002', cardSeq: 1, uses: 1 }));
    assert.deepEqual([a.termSeq, b.termSeq], [1, 2]);
    assert.deepEqual((await store.pendingOps()).map((o) => o.opId), [a.opId, b.opId]);
    assert.ok(a.opId < b.opId, 'UUIDv7 ids sort by creation');
  });

  it('stores exactly what it hashed: the hash recomputes from the stored op and changes with content', async () => {
    const op = await store.write((trx) =>
      store.appendOp(trx, { kind: 'redeem', cardNo: '100001', cardSeq: 7, uses: 2, consumption: 'ticket', remainingAfter: 8, payload: { lines: ['L1', 'L2'] } }),
    );
    const [stored] = await store.pendingOps();
    assert.ok(stored);
    assert.equal(opHash(stored), op.hash);
    assert.deepEqual(stored.payload, { lines: ['L1', 'L2'] });
    assert.equal(stored.deviceTime, '2026-11-25T08:00:00.000Z');
    assert.notEqual(opHash({ ...stored, uses: 3 }), op.hash);
  });

  it('ack empties the outbox but keeps the ops; data survives a reopen', async () => {
    const ops = [];
    for (let i = 0; i < 3; i++) ops.push(await store.write((trx) => store.appendOp(trx, { kind: 'redeem', cardNo: '100001', cardSeq: i + 1 })));
    await store.ack([ops[0]!.opId, ops[1]!.opId]);
    assert.equal(await store.pendingCount(), 1);
    await store.close();
    store = await TerminalStore.open({ filename: file() });
    assert.deepEqual((await store.pendingOps()).map((o) => o.termSeq), [3]);
    assert.equal((await store.opsOfCard('100001')).length, 3);
    const next = await store.write((trx) => store.appendOp(trx, { kind: 'redeem', cardNo: '100001', cardSeq: 4 }));
    assert.equal(next.termSeq, 4);
  });

  it('refuses to record an op before the terminal is enrolled', async () => {
    const fresh = await TerminalStore.open({ filename: join(dir, 'fresh.sqlite') });
    try {
      await assert.rejects(fresh.write((trx) => fresh.appendOp(trx, { kind: 'redeem', cardNo: '1' })), /not enrolled/);
    } finally {
      await fresh.close();
    }
  });

  it('takes the write lock at BEGIN (IMMEDIATE): another process cannot write meanwhile', async () => {
    const other = new sqlite3.Database(file());
    other.configure('busyTimeout', 0);
    const run = (sql: string) => new Promise<void>((res, rej) => other.run(sql, (e) => (e ? rej(e) : res())));
    try {
      await store.write(async (trx) => {
        await trx('meta').select('*'); // only a read so far: a deferred BEGIN would hold no write lock yet
        await assert.rejects(run('BEGIN IMMEDIATE'), /SQLITE_BUSY/);
      });
      await run('BEGIN IMMEDIATE');
      await run('ROLLBACK');
    } finally {
      await new Promise<void>((res) => other.close(() => res()));
    }
  });
});
