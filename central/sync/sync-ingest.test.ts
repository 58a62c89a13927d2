/**
 * The sync hub over HTTP, on both databases: exactly-once batch ingest, parked ops, expected seq,
 * the shadow ledger's gaps and fraud alerts, the change log (blacklist first, reset past
 * retention, snapshot), health and the poke socket.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { v7 } from 'uuid';
import { WebSocket } from 'ws';
import { SYNC_SOCKET_PATH, parseSyncMessage, type Schemas } from '../client/index.ts';
import { describeCentral, ok, type EnrolledTerminal } from '../test-support/harness.ts';
import { pruneChangeLog } from './change-log.ts';
import { soldCards, upload, wireOp, type WireOp } from './test-ops.ts';

describeCentral('sync ingest and pull', (central) => {
  let cinemaId: string;
  let t1: EnrolledTerminal;
  let t2: EnrolledTerminal;

  before(async () => {
    const c = central();
    cinemaId = (await c.createCinema('Sync cinema')).id;
    t1 = await c.enrolTerminal(cinemaId, 'Till 1');
    t2 = await c.enrolTerminal(cinemaId, 'Till 2');
  });

  const card = async (no: string) => ok(await central().admin.client.GET('/v1/cards/{cardNo}', { params: { path: { cardNo: no } } }));
  const alerts = async (cardNo: string) =>
    ok(await central().admin.client.GET('/v1/sync/fraud-alerts', { params: { query: { cardNo } } })).items;
  let seq1 = 0;
  const next1 = () => ++seq1;
  let seq2 = 0;
  const next2 = () => ++seq2;

  it('applies a batch once: a resend after a lost response is all duplicates, the balance moves once', async () => {
    const [a, b] = await soldCards(central(), cinemaId, 2, 100);
    const ops = [wireOp(t1, next1(), a!.cardNo, 3, 2, 98), wireOp(t1, next1(), b!.cardNo, 3, 1, 99), wireOp(t1, next1(), a!.cardNo, 4, 1, 97)];
    const first = await upload(t1, ops);
    assert.deepEqual(first.results.map((r) => r.outcome), ['applied', 'applied', 'applied']);
    assert.equal(first.expectedSeq, seq1 + 1);
    const again = await upload(t1, ops);
    assert.deepEqual(again.results.map((r) => r.outcome), ['duplicate', 'duplicate', 'duplicate']);
    assert.equal(again.expectedSeq, seq1 + 1);
    assert.equal((await card(a!.cardNo)).remainingUses, 97);
    assert.equal((await card(b!.cardNo)).remainingUses, 99);
  });

  it('parks a conflict (same op id, other content) and a poison op, and keeps the queue moving', async () => {
    const [a] = await soldCards(central(), cinemaId, 1, 100);
    const good = wireOp(t1, next1(), a!.cardNo, 3, 1, 99);
    await upload(t1, [good]);
    const conflict = { ...good, remainingAfter: 50, hash: 'f'.repeat(64) };
    const poison = wireOp(t1, next1(), a!.cardNo, 4, 1, 98, { kind: 'redeem', uses: null });
    const unknownCard = wireOp(t1, next1(), '99999999999', 1, 1, 1);
    const garbage = { opId: 'not-an-op', termSeq: next1(), hash: 'x', kind: 42 } as unknown as WireOp;
    const after = wireOp(t1, next1(), a!.cardNo, 4, 1, 98);
    const res = await upload(t1, [conflict, poison, unknownCard, garbage, after]);
    const byId = new Map(res.results.map((r) => [r.opId, r]));
    assert.equal(byId.get(good.opId)!.reason, 'op_id_conflict');
    assert.equal(byId.get(poison.opId)!.reason, 'invalid_op');
    assert.equal(byId.get(unknownCard.opId)!.reason, 'card_unknown');
    assert.equal(byId.get('not-an-op')!.reason, 'invalid_op');
    assert.equal(byId.get(after.opId)!.outcome, 'applied');
    assert.equal((await card(a!.cardNo)).remainingUses, 98);
    const parked = ok(await central().admin.client.GET('/v1/sync/parked', { params: { query: { cinemaId } } })).items;
    assert.ok(parked.some((p) => p.opId === poison.opId && p.reason === 'invalid_op'));
    // A parked op sent again is answered the same, not parked twice.
    const retry = await upload(t1, [poison]);
    assert.equal(retry.results[0]!.reason, 'invalid_op');
    const parkedAgain = ok(await central().admin.client.GET('/v1/sync/parked', { params: { query: { cinemaId } } })).items;
    assert.equal(parkedAgain.filter((p) => p.opId === poison.opId).length, 1);
  });

  it('answers a term seq past the expected one with the expected seq; batches out of order apply once', async () => {
    const [a] = await soldCards(central(), cinemaId, 1, 100);
    const s = [next1(), next1(), next1(), next1()];
    const ops = s.map((n, i) => wireOp(t1, n, a!.cardNo, 3 + i, 1, 99 - i));
    const late = await upload(t1, ops.slice(2));
    assert.equal(late.expectedSeq, s[0]);
    assert.deepEqual(late.results.map((r) => r.outcome), ['deferred', 'deferred']);
    const early = await upload(t1, ops.slice(0, 2));
    assert.deepEqual(early.results.map((r) => r.outcome), ['applied', 'applied']);
    const rest = await upload(t1, ops);
    assert.deepEqual(rest.results.map((r) => r.outcome), ['duplicate', 'duplicate', 'applied', 'applied']);
    assert.equal((await card(a!.cardNo)).remainingUses, 96);
  });

  it('concurrent uploads of overlapping batches apply every op exactly once', async () => {
    const cards = await soldCards(central(), cinemaId, 3, 100);
    const ops = Array.from({ length: 30 }, (_, i) => wireOp(t2, next2(), cards[i % 3]!.cardNo, 3 + Math.floor(i / 3), 1, 99 - Math.floor(i / 3)));
    const results = await Promise.all([upload(t2, ops), upload(t2, ops.slice(0, 20)), upload(t2, ops), upload(t2, ops.slice(10))]);
    const applied = new Map<string, number>();
    for (const r of results) for (const x of r.results) if (x.outcome === 'applied') applied.set(x.opId, (applied.get(x.opId) ?? 0) + 1);
    // Deferred ones (sent past the expected seq) go again, as a terminal would.
    const last = await upload(t2, ops);
    for (const x of last.results) if (x.outcome === 'applied') applied.set(x.opId, (applied.get(x.opId) ?? 0) + 1);
    assert.equal(applied.size, 30);
    assert.ok([...applied.values()].every((n) => n === 1));
    for (const c of cards) assert.equal((await card(c.cardNo)).remainingUses, 90);
  });

  it('an op past a card-seq gap waits until the other terminal fills it', async () => {
    const [a] = await soldCards(central(), cinemaId, 1, 100);
    // Till 2 redeemed at card seq 5 after till 1's seq 3 and 4, which are still offline.
    const waiting = await upload(t2, [wireOp(t2, next2(), a!.cardNo, 5, 1, 97)]);
    assert.equal(waiting.results[0]!.outcome, 'applied');
    let c = await card(a!.cardNo);
    assert.equal(c.remainingUses, 100);
    await upload(t1, [wireOp(t1, next1(), a!.cardNo, 3, 2, 98), wireOp(t1, next1(), a!.cardNo, 4, 0, 98, { kind: 'top_up', uses: 0 })]);
    c = await card(a!.cardNo);
    assert.equal(c.remainingUses, 97);
    const history = ok(await central().admin.client.GET('/v1/cards/{cardNo}/history', { params: { path: { cardNo: a!.cardNo } } }));
    assert.ok(history.items.every((e) => e.status === 'applied'));
  });

  it('a clone (same seq, other content) raises seq_reused, hotlists the card, and the blacklist is pulled first', async () => {
    const [a] = await soldCards(central(), cinemaId, 1, 100);
    const before = ok(await t2.client.GET('/v1/sync/changes', { params: { query: { cursor: 0, blacklistCursor: 0, limit: 5000 } } }));
    await upload(t1, [wireOp(t1, next1(), a!.cardNo, 3, 1, 99)]);
    const clone = await upload(t2, [wireOp(t2, next2(), a!.cardNo, 3, 1, 99)]);
    assert.equal(clone.results[0]!.reason, 'seq_taken');
    const found = await alerts(a!.cardNo);
    assert.equal(found[0]!.kind, 'seq_reused');
    assert.ok(found[0]!.hotlistedAt);
    assert.equal((await card(a!.cardNo)).blacklisted, true);
    // Pull with a data cursor far behind: the blacklist entry still comes in the first page.
    const page = ok(await t2.client.GET('/v1/sync/changes', { params: { query: { cursor: 0, blacklistCursor: before.blacklistVersion, limit: 1 } } }));
    assert.equal(page.blacklist[0]!.blacklist!.cardNo, a!.cardNo);
    assert.equal(page.blacklist[0]!.blacklist!.listed, true);
    assert.ok(clone.blacklistVersion > before.blacklistVersion);
  });

  it('a replayed old image (seq going backwards) raises seq_backwards', async () => {
    const [a] = await soldCards(central(), cinemaId, 1, 100);
    await upload(t1, [wireOp(t1, next1(), a!.cardNo, 3, 1, 99), wireOp(t1, next1(), a!.cardNo, 4, 1, 98), wireOp(t1, next1(), a!.cardNo, 5, 1, 97)]);
    await upload(t2, [wireOp(t2, next2(), a!.cardNo, 4, 1, 98)]);
    assert.equal((await alerts(a!.cardNo))[0]!.kind, 'seq_backwards');
  });

  it('one card number on two UIDs raises uid_mismatch', async () => {
    const [a] = await soldCards(central(), cinemaId, 1, 100);
    await upload(t1, [wireOp(t1, next1(), a!.cardNo, 3, 1, 99, { cardUid: a!.uid })]);
    assert.equal((await alerts(a!.cardNo)).length, 0);
    await upload(t2, [wireOp(t2, next2(), a!.cardNo, 4, 1, 98, { cardUid: 'DEADBEEF' })]);
    assert.equal((await alerts(a!.cardNo))[0]!.kind, 'uid_mismatch');
  });

  it('reports a terminal clock a day off as skew; ordering follows term seq, not device time', async () => {
    const [a] = await soldCards(central(), cinemaId, 1, 100);
    const dayAhead = new Date(Date.now() + 86_400_000).toISOString();
    const dayBehind = new Date(Date.now() - 86_400_000).toISOString();
    const ops = [wireOp(t1, next1(), a!.cardNo, 3, 1, 99, { deviceTime: dayAhead }), wireOp(t1, next1(), a!.cardNo, 4, 1, 98, { deviceTime: dayBehind })];
    const res = await upload(t1, ops, { deviceTime: dayAhead, pendingOps: 7 });
    assert.deepEqual(res.results.map((r) => r.outcome), ['applied', 'applied']);
    assert.equal((await card(a!.cardNo)).remainingUses, 98);
    const health = ok(await central().admin.client.GET('/v1/sync/health', { params: { query: { cinemaId } } }));
    const row = health.terminals.find((t) => t.terminalId === t1.terminalId)!;
    assert.ok(Math.abs(row.clockSkewMs! - 86_400_000) < 60_000, `skew ${row.clockSkewMs}`);
    assert.equal(row.pendingOps, 7);
    assert.equal(row.nextSeq, seq1 + 1);
  });

  it('pulls by cursor without skipping, resets past retention, and serves a snapshot', async () => {
    const [a] = await soldCards(central(), cinemaId, 1, 100);
    await upload(t1, [wireOp(t1, next1(), a!.cardNo, 3, 1, 99)]);
    const seen: Schemas['SyncChange'][] = [];
    let cursor = 0;
    let blacklistCursor = 0;
    for (;;) {
      const page = ok(await t1.client.GET('/v1/sync/changes', { params: { query: { cursor, blacklistCursor, limit: 7 } } }));
      assert.equal(page.reset, false);
      seen.push(...page.items);
      cursor = page.cursor;
      blacklistCursor = page.blacklistCursor;
      if (!page.hasMore) break;
    }
    const ids = seen.map((s) => s.id);
    assert.deepEqual(ids, [...ids].sort((x, y) => x - y));
    const mine = seen.filter((s) => s.key === a!.cardNo);
    assert.equal(mine[mine.length - 1]!.card!.remainingUses, 99);

    await pruneChangeLog(central().platform.db, new Date(Date.now() + 60_000).toISOString());
    const reset = ok(await t1.client.GET('/v1/sync/changes', { params: { query: { cursor: 0, blacklistCursor: 0 } } }));
    assert.equal(reset.reset, true);
    const snap = ok(await t1.client.GET('/v1/sync/snapshot', { params: { query: { limit: 5000 } } }));
    assert.ok(snap.cards.some((c) => c.cardNo === a!.cardNo && c.remainingUses === 99));
    assert.ok(snap.cursor >= cursor);
    const fromSnap = ok(await t1.client.GET('/v1/sync/changes', { params: { query: { cursor: snap.cursor, blacklistCursor: snap.blacklistCursor } } }));
    assert.equal(fromSnap.reset, false);
  });

  it('takes a full batch of 500 ops with the longest payloads (CJK), far over the service-wide body limit', async () => {
    const [a] = await soldCards(central(), cinemaId, 1, 1000);
    const note = JSON.stringify({ amountFen: 0, note: '影'.repeat(7975) });
    assert.equal(note.length, 8000);
    const ops = Array.from({ length: 500 }, (_, i) => wireOp(t1, next1(), a!.cardNo, 3 + i, 1, 999 - i, { payload: note }));
    const body = JSON.stringify({ ops, deviceTime: new Date().toISOString() });
    assert.ok(Buffer.byteLength(body) > 10 * central().platform.config.bodyLimitBytes, `the batch is ${Buffer.byteLength(body)} bytes`);
    const res = await upload(t1, ops);
    assert.equal(res.results.length, 500);
    assert.ok(res.results.every((r) => r.outcome === 'applied'));
    assert.equal((await card(a!.cardNo)).remainingUses, 500);
  });

  it('answers any op with a readable envelope, however broken its fields: no 5xx, the queue moves', async () => {
    const [a] = await soldCards(central(), cinemaId, 1, 1000);
    const t3 = await central().enrolTerminal(cinemaId, 'Fuzzed till');
    let seq = 0;
    const junkField = fc.oneof(fc.anything(), fc.string(), fc.integer(), fc.constant(null), fc.constant('\u0000'), fc.constant(a!.cardNo));
    const fields = ['terminalId', 'cinemaId', 'kind', 'cardNo', 'cardSeq', 'cardUid', 'operatorId', 'consumption', 'uses', 'remainingAfter', 'deviceTime', 'payload', 'hash'];
    await fc.assert(
      fc.asyncProperty(fc.array(fc.dictionary(fc.constantFrom(...fields), junkField, { maxKeys: 13 }), { minLength: 1, maxLength: 8 }), async (bodies) => {
        const ops = bodies.map((b) => ({ ...b, opId: v7(), termSeq: ++seq }) as unknown as WireOp);
        const { data, error, response } = await t3.client.POST('/v1/sync/batches', { body: { ops, deviceTime: 'whenever' } });
        if (ops.some(poisonsPrototypes)) {
          // A `__proto__` key (or `constructor.prototype`) anywhere makes the body unreadable: refused
          // whole, nothing of it taken, the terminal keeps its ops.
          assert.equal(response.status, 400);
          assert.equal((error as { code?: string }).code, 'malformed_body');
          seq -= ops.length;
          return;
        }
        assert.equal(response.status, 200, JSON.stringify(error));
        assert.equal(data!.expectedSeq, seq + 1);
        assert.ok(data!.results.every((r) => r.outcome === 'applied' || r.outcome === 'rejected'));
      }),
      { numRuns: 40 },
    );
  });

  it('pokes connected terminals after a commit; refuses a socket without a token', async () => {
    const url = central().url.replace(/^http/, 'ws') + SYNC_SOCKET_PATH;
    const refused = new WebSocket(url);
    await new Promise<void>((resolve) => {
      refused.on('error', () => resolve());
      refused.on('unexpected-response', () => resolve());
    });
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${t2.token}` } });
    const messages: string[] = [];
    ws.on('message', (m) => messages.push(String(m)));
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const [a] = await soldCards(central(), cinemaId, 1, 100);
    const res = await upload(t1, [wireOp(t1, next1(), a!.cardNo, 3, 1, 99)]);
    const deadline = Date.now() + 5000;
    while (!messages.map(parseSyncMessage).some((m) => m?.type === 'poke' && m.head >= res.head) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(parseSyncMessage(messages[0]!)?.type, 'welcome');
    assert.ok(messages.map(parseSyncMessage).some((m) => m?.type === 'poke' && m.head >= res.head));
    ws.close();
  });
});

/** Whether JSON of `value` has a key the body parser refuses (prototype poisoning), at any depth. */
function poisonsPrototypes(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  return Object.entries(value).some(
    ([key, inner]) =>
      key === '__proto__' || (key === 'constructor' && typeof inner === 'object' && inner !== null && Object.hasOwn(inner, 'prototype')) || poisonsPrototypes(inner),
  );
}
