/**
 * The terminal's sync against a real central, on both databases: the fault list of DESIGN §8 and
 * reference "Fault tests worth having" that involve the terminal.
 */
import assert from 'node:assert/strict';
import type { Schemas } from '../../../central/client/index.ts';
import { describeCentral, ok, type EnrolledTerminal } from '../../../central/test-support/harness.ts';
import { soldCards } from '../../../central/sync/test-ops.ts';
import type { SyncStatus, Timers } from '../sync-contract.ts';
import { eventually, queueRedemptions, SimTerminal, type SimCard } from './terminal-fixture.ts';

describeCentral('terminal sync', (central) => {
  let cinemaId: string;
  const tills: SimTerminal[] = [];

  before(async () => {
    cinemaId = (await central().createCinema('Sync till cinema')).id;
  });
  afterEach(async () => {
    for (const t of tills.splice(0)) await t.close();
  });

  async function till(options: { now?: () => number } = {}): Promise<SimTerminal> {
    const t = await SimTerminal.open(await central().enrolTerminal(cinemaId), options);
    tills.push(t);
    return t;
  }
  async function cards(n: number, uses = 1000): Promise<SimCard[]> {
    return (await soldCards(central(), cinemaId, n, uses)).map((c) => ({ cardNo: c.cardNo, uid: c.uid, seq: 2, remaining: c.remainingUses }));
  }
  const centralCard = async (no: string) => ok(await central().admin.client.GET('/v1/cards/{cardNo}', { params: { path: { cardNo: no } } }));
  const ledgerCount = async (terminal: EnrolledTerminal) =>
    Number((await central().platform.db('ledger_entries').where({ terminal_id: terminal.terminalId }).count<{ n: number }[]>('* as n'))[0]!.n);

  it('uploads the outbox and pulls the blacklist, card states and rules into the terminal store', async () => {
    const t = await till();
    const [a, b] = await cards(2);
    for (let i = 0; i < 3; i++) await t.redeem(a!);
    await t.redeem(b!, 2);
    ok(await central().admin.client.POST('/v1/cards/{cardNo}/blacklist', { params: { path: { cardNo: b!.cardNo } }, body: { reason: 'lost' } }));
    ok(await central().admin.client.POST('/v1/cinemas/{cinemaId}/redemption-rules', { params: { path: { cinemaId } }, body: { kind: 'ticket', name: 'Any film', usesPerTicket: 1 } }));
    const service = t.sync([central().url]);
    await service.syncNow();
    assert.equal(await t.store.pendingCount(), 0);
    assert.equal((await centralCard(a!.cardNo)).remainingUses, a!.remaining);
    assert.ok(await t.store.db('blacklist').where({ card_no: b!.cardNo }).first());
    const cached = await t.store.db('cards').where({ card_no: a!.cardNo }).first();
    assert.equal(cached.remaining, a!.remaining);
    const rules = await t.store.db('redemption_rules').where({ cinema_id: cinemaId }).first();
    assert.equal(JSON.parse(rules.rules)[0].name, 'Any film');
    assert.equal(service.status.pendingOps, 0);
    assert.equal(service.status.offline, false);
  });

  it('a wiped terminal restores from central: its acknowledged ops come back, ops recorded before it could ask are kept and follow central’s sequence, nothing doubled', async () => {
    const enrolled = await central().enrolTerminal(cinemaId);
    const first = await SimTerminal.open(enrolled);
    tills.push(first);
    const [a, b] = await cards(2);
    const before = [await first.redeem(a!), await first.redeem(a!, 2), await first.redeem(b!)];
    // A poison op (a card central does not know) is parked, and still used its term seq.
    before.push(await first.store.write((trx) => first.store.appendOp(trx, { kind: 'redeem', cardNo: '99999999', cardSeq: 3, uses: 1, remainingAfter: 1, consumption: 'ticket' })));
    await first.sync([central().url]).syncNow();
    assert.equal(await first.store.pendingCount(), 0);

    // The machine is lost. HQ issues a code that re-enrols the same terminal on its replacement
    // (same id, new secret; the old secret stops working) …
    const code = ok(await central().admin.client.POST('/v1/cinemas/{cinemaId}/enrolment-codes', { params: { path: { cinemaId }, query: { replaces: enrolled.terminalId } } }));
    const again = ok(await central().client().POST('/v1/terminals/enrol', { body: { code: code.code, name: 'Till (replacement)' } }));
    assert.equal(again.terminalId, enrolled.terminalId);
    const oldSecret = await central().client().POST('/v1/auth/terminal-token', { body: { terminalId: enrolled.terminalId, secret: enrolled.secret } });
    assert.equal(oldSecret.response.status, 401, 'the lost machine’s secret no longer works');
    // … whose fresh store records a redemption while central is still out of reach …
    const wiped = await SimTerminal.open({ ...enrolled, secret: again.secret });
    tills.push(wiped);
    const offline = await wiped.redeem(b!);
    assert.equal(offline.termSeq, 1, 'a fresh store starts at 1: it cannot know better yet');
    // … then reaches central.
    await wiped.sync([central().url]).syncNow();

    const ops = await wiped.store.db('ops').orderBy('term_seq').select('op_id', 'term_seq', 'hash');
    assert.deepEqual(ops.slice(0, 4).map((o) => [o.op_id, o.term_seq, o.hash]), before.map((o) => [o.opId, o.termSeq, o.hash]), 'its own ops are back, same ids, seqs and hashes');
    assert.deepEqual(ops.slice(4).map((o) => [o.op_id, o.term_seq]), [[offline.opId, 5]], 'the op made meanwhile follows central’s sequence');
    assert.equal(await wiped.store.pendingCount(), 0, 'and went up');
    assert.equal((await centralCard(b!.cardNo)).remainingUses, b!.remaining);
    assert.equal((await centralCard(a!.cardNo)).remainingUses, a!.remaining);
    const parked = ok(await central().admin.client.GET('/v1/sync/parked', { params: { query: { cinemaId } } })).items.filter((p) => p.terminalId === enrolled.terminalId);
    assert.deepEqual(parked.map((p) => p.reason), ['card_unknown'], 'nothing was taken for a replay');
    assert.equal(await ledgerCount(enrolled), 4);
    // The next op continues from there.
    const next = await wiped.redeem(a!);
    assert.equal(next.termSeq, 6);
    await wiped.service!.syncNow();
    assert.equal((await centralCard(a!.cardNo)).remainingUses, a!.remaining);
  });

  it('a response lost after central committed: the retry is a duplicate, nothing is applied twice', async () => {
    const t = await till();
    const [a] = await cards(1);
    for (let i = 0; i < 5; i++) await t.redeem(a!);
    let lost = 0;
    const lossy: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      if (String((input as Request).url ?? input).includes('/v1/sync/batches') && lost < 2) {
        lost++;
        await response.arrayBuffer();
        throw new TypeError('connection reset after the server answered');
      }
      return response;
    };
    const service = t.sync([central().url], { fetch: lossy, idleCheckMs: 10 });
    const statuses: SyncStatus[] = [];
    service.onStatus((s) => statuses.push(s));
    service.start();
    await eventually(async () => (await t.store.pendingCount()) === 0, 10_000, 'outbox drained');
    assert.equal(lost, 2);
    assert.ok(statuses.some((s) => s.offline));
    assert.equal(await ledgerCount(t.enrolled), 5);
    assert.equal((await centralCard(a!.cardNo)).remainingUses, a!.remaining);
  });

  it('the terminal killed mid-upload: after restart every op arrives exactly once', async () => {
    const t = await till();
    const [a] = await cards(1);
    for (let i = 0; i < 30; i++) await t.redeem(a!);
    let release!: () => void;
    const hung = new Promise<void>((r) => (release = r));
    let committed = false;
    // The request reaches central and commits; the terminal dies before it reads the answer.
    const dying: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      if (String((input as Request).url ?? input).includes('/v1/sync/batches')) {
        committed = true;
        await hung;
      }
      return response;
    };
    t.sync([central().url], { fetch: dying, batchSize: 10 }).start();
    await eventually(() => committed, 5000, 'first batch committed');
    await t.crashAndReopen();
    release();
    assert.equal(await t.store.pendingCount(), 30);
    await t.sync([central().url]).syncNow();
    assert.equal(await t.store.pendingCount(), 0);
    assert.equal(await ledgerCount(t.enrolled), 30);
    assert.equal((await centralCard(a!.cardNo)).remainingUses, a!.remaining);
  });

  it('a crash between applying pulled changes and saving the cursor replays the page harmlessly', async () => {
    const t = await till();
    const [a] = await cards(1);
    await t.redeem(a!);
    ok(await central().admin.client.POST('/v1/cards/{cardNo}/blacklist', { params: { path: { cardNo: a!.cardNo } }, body: { reason: 'stolen' } }));
    let crashes = 1;
    const service = t.sync([central().url], {
      beforeCursorSave: () => {
        if (crashes-- > 0) throw new Error('power cut');
      },
    });
    await assert.rejects(service.syncNow(), /power cut/);
    // Nothing of the page landed: the items and the cursor are one transaction.
    assert.equal(await t.store.db('blacklist').where({ card_no: a!.cardNo }).first(), undefined);
    assert.equal(await t.store.getMeta('sync.cursor'), undefined);
    await service.syncNow();
    assert.ok(await t.store.db('blacklist').where({ card_no: a!.cardNo }).first());
    const cursor = Number(await t.store.getMeta('sync.cursor'));
    // Applying the same page again changes nothing.
    await t.store.setMeta('sync.cursor', '0');
    await t.store.setMeta('sync.blacklist_cursor', '0');
    await service.syncNow();
    assert.equal(Number(await t.store.getMeta('sync.cursor')), cursor);
    assert.equal((await t.store.db('blacklist').where({ card_no: a!.cardNo })).length, 1);
  });

  it('a poison op is parked centrally and the queue keeps draining', async () => {
    const t = await till();
    const [a] = await cards(1);
    await t.redeem(a!);
    await t.store.write((trx) => t.store.appendOp(trx, { kind: 'redeem', cardNo: '12345678', cardSeq: 3, uses: 1, remainingAfter: 1 }));
    await t.store.write((trx) => t.store.appendOp(trx, { kind: 'redeem', cardNo: a!.cardNo, cardSeq: 99, uses: -5 as number, remainingAfter: 1 }));
    await t.redeem(a!);
    await t.sync([central().url]).syncNow();
    assert.equal(await t.store.pendingCount(), 0);
    const parked = ok(await central().admin.client.GET('/v1/sync/parked', { params: { query: { cinemaId } } })).items.filter((p) => p.terminalId === t.enrolled.terminalId);
    assert.deepEqual(parked.map((p) => p.reason).sort(), ['card_unknown', 'invalid_op']);
    assert.equal((await centralCard(a!.cardNo)).remainingUses, a!.remaining);
  });

  it('behind a proxy that takes small bodies only, batches refused as too large are halved until they pass; every op arrives once', async () => {
    const t = await till();
    const [a] = await cards(1);
    // Top-ups with long notes: a full batch of them is far larger than the proxy takes.
    const note = '影城会员卡充值备注'.repeat(60);
    for (let i = 0; i < 40; i++) {
      a!.seq += 1;
      a!.remaining += 1;
      await t.store.write((trx) => t.store.appendOp(trx, { kind: 'top_up', cardNo: a!.cardNo, cardSeq: a!.seq, uses: 1, remainingAfter: a!.remaining, payload: { note } }));
    }
    const limit = 16 * 1024;
    const sizes: number[] = [];
    const proxy: typeof fetch = async (input, init) => {
      const request = new Request(input, init);
      if (request.url.includes('/v1/sync/batches')) {
        const body = await request.text();
        sizes.push(Buffer.byteLength(body));
        if (Buffer.byteLength(body) > limit) return new Response('<html>413 Request Entity Too Large</html>', { status: 413, headers: { 'content-type': 'text/html' } });
        return fetch(request.url, { method: 'POST', headers: request.headers, body, signal: init?.signal ?? null });
      }
      return fetch(request);
    };
    await t.sync([central().url], { fetch: proxy }).syncNow();
    assert.equal(await t.store.pendingCount(), 0);
    assert.ok(sizes[0]! > limit, 'the first batch went whole');
    assert.ok(sizes.some((s) => s <= limit), 'smaller batches followed');
    assert.equal(await ledgerCount(t.enrolled), 40);
    assert.equal((await centralCard(a!.cardNo)).remainingUses, a!.remaining);
  });

  it('says why it is offline: no answer, this till refused (revoked), or an error answer; a token central stopped taking is renewed in the same round', async () => {
    const t = await till();
    const [a] = await cards(1);
    await t.redeem(a!);
    let answer: 'pass' | 'drop' | 'fail' | 'expire' = 'pass';
    const link: typeof fetch = async (input, init) => {
      const url = String((input as Request).url ?? input);
      if (answer === 'drop') throw new TypeError('fetch failed');
      if (answer === 'fail' && url.includes('/v1/sync/')) return Response.json({ type: 'internal', code: 'internal', message: 'boom' }, { status: 500 });
      if (answer === 'expire' && url.includes('/v1/sync/batches')) {
        answer = 'pass';
        return Response.json({ type: 'unauthenticated', code: 'token_expired', message: 'expired' }, { status: 401 });
      }
      return fetch(input, init);
    };
    const service = t.sync([central().url], { fetch: link });
    await service.syncNow();
    assert.deepEqual([service.status.offline, service.status.problem], [false, null]);

    answer = 'drop';
    await t.redeem(a!);
    await assert.rejects(service.syncNow());
    assert.deepEqual([service.status.offline, service.status.problem], [true, 'unreachable']);

    answer = 'fail';
    await assert.rejects(service.syncNow());
    assert.deepEqual([service.status.offline, service.status.problem], [true, 'error']);

    answer = 'expire';
    await service.syncNow();
    assert.deepEqual([service.status.offline, service.status.problem, answer], [false, null, 'pass']);
    assert.equal(await ledgerCount(t.enrolled), 2);

    ok(await central().admin.client.POST('/v1/terminals/{terminalId}/revoke', { params: { path: { terminalId: t.enrolled.terminalId } } }));
    await t.redeem(a!);
    await assert.rejects(service.syncNow());
    assert.deepEqual([service.status.offline, service.status.problem], [true, 'refused']);
    assert.equal(await t.store.pendingCount(), 1, 'the op is kept for when HQ sorts the till out');
  });

  it('a terminal clock a day ahead: skew is reported, ordering is unaffected', async () => {
    const ahead = () => Date.now() + 86_400_000;
    const t = await till({ now: ahead });
    const [a] = await cards(1);
    for (let i = 0; i < 3; i++) await t.redeem(a!);
    await t.sync([central().url], {}, { clock: { now: ahead } }).syncNow();
    assert.equal((await centralCard(a!.cardNo)).remainingUses, a!.remaining);
    const health = ok(await central().admin.client.GET('/v1/sync/health', { params: { query: { cinemaId } } }));
    const row = health.terminals.find((r) => r.terminalId === t.enrolled.terminalId)!;
    assert.ok(Math.abs(row.clockSkewMs! - 86_400_000) < 60_000);
    assert.equal(row.nextSeq, 4);
  });

  it('pulls every 60 s without any poke (injected timers)', async () => {
    const t = await till();
    const [a] = await cards(1);
    const due: { fn: () => void; at: number }[] = [];
    let now = 0;
    const timers: Timers = {
      setTimeout: (fn, ms) => {
        const entry = { fn, at: now + ms };
        due.push(entry);
        return entry;
      },
      clearTimeout: (h) => {
        const i = due.indexOf(h as (typeof due)[number]);
        if (i >= 0) due.splice(i, 1);
      },
    };
    const advance = async (ms: number) => {
      now += ms;
      for (;;) {
        const ready = due.filter((d) => d.at <= now).sort((x, y) => x.at - y.at)[0];
        if (!ready) break;
        due.splice(due.indexOf(ready), 1);
        ready.fn();
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const service = t.sync([central().url], { idleCheckMs: 3_600_000 }, { timers });
    service.start();
    await advance(0);
    await eventually(() => service.status.lastSuccessAt !== null, 5000, 'first pull');
    ok(await central().admin.client.POST('/v1/cards/{cardNo}/blacklist', { params: { path: { cardNo: a!.cardNo } }, body: { reason: 'lost' } }));
    await advance(59_000);
    assert.equal(await t.store.db('blacklist').where({ card_no: a!.cardNo }).first(), undefined);
    await advance(1_000);
    await eventually(async () => (await t.store.db('blacklist').where({ card_no: a!.cardNo }).first()) !== undefined, 5000, 'the 60 s pull');
  });

  it('a poke over the WebSocket brings a blacklist change within moments', async () => {
    const t = await till();
    const [a] = await cards(1);
    const service = t.sync([central().url], { pokes: true, pullIntervalMs: 3_600_000 });
    service.start();
    await eventually(() => (central().running.app.syncHub?.connections ?? 0) > 0, 5000, 'socket connected');
    await eventually(() => service.status.lastSuccessAt !== null, 5000, 'first pull');
    ok(await central().admin.client.POST('/v1/cards/{cardNo}/blacklist', { params: { path: { cardNo: a!.cardNo } }, body: { reason: 'lost' } }));
    await eventually(async () => (await t.store.db('blacklist').where({ card_no: a!.cardNo }).first()) !== undefined, 3000, 'poked pull');
  });

  it('a blacklist change carried on the socket is enforced without waiting for the pull, and moves the blacklist cursor', async () => {
    const t = await till();
    const [a] = await cards(1);
    let holdPulls = false;
    let pullsInFlight = 0;
    const held: typeof fetch = async (input, init) => {
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      if (!url.includes('/v1/sync/changes')) return fetch(input, init);
      if (holdPulls) throw new TypeError('pull held back by the test');
      pullsInFlight++;
      try {
        return await fetch(input, init);
      } finally {
        pullsInFlight--;
      }
    };
    const service = t.sync([central().url], { pokes: true, pullIntervalMs: 3_600_000, fetch: held });
    service.start();
    await eventually(() => (central().running.app.syncHub?.connections ?? 0) > 0, 5000, 'socket connected');
    await eventually(() => service.status.lastSuccessAt !== null, 5000, 'first pull');
    holdPulls = true;
    await eventually(() => pullsInFlight === 0, 5000, 'no pull in flight'); // none can bring the change
    ok(await central().admin.client.POST('/v1/cards/{cardNo}/blacklist', { params: { path: { cardNo: a!.cardNo } }, body: { reason: 'lost' } }));
    await eventually(async () => (await t.store.db('blacklist').where({ card_no: a!.cardNo }).first()) !== undefined, 3000, 'the change on the socket');
    const head = await central().platform.db('sync_head').where({ id: 1 }).first<{ blacklist_version: number }>();
    assert.equal(Number(await t.store.getMeta('sync.blacklist_cursor')), Number(head!.blacklist_version));
    // The pull is still the source of truth: once it gets through, the replica agrees.
    holdPulls = false;
    await service.syncNow();
    assert.equal((await t.store.db('blacklist').where({ card_no: a!.cardNo }).first())?.reason, 'lost');
    assert.equal(Number(await t.store.getMeta('sync.blacklist_cursor')) >= Number(head!.blacklist_version), true);
  });

  it('a long outage: 50,000 queued ops drain in bounded memory with visible progress', async function () {
    this.timeout(120_000);
    const t = await till();
    const sims = await cards(50, 1000);
    const total = 50_000;
    await queueRedemptions(t, sims, total);
    const service = t.sync([central().url], { idleCheckMs: 5 });
    const progress: number[] = [];
    service.onStatus((s) => progress.push(s.pendingOps));
    global.gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    let heapPeak = heapBefore;
    const sampler = setInterval(() => (heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed)), 20);
    service.start();
    await eventually(async () => (await t.store.pendingCount()) === 0, 100_000, 'outbox drained');
    clearInterval(sampler);
    assert.equal(await ledgerCount(t.enrolled), total);
    for (const c of sims.slice(0, 5)) assert.equal((await centralCard(c.cardNo)).remainingUses, c.remaining);
    // Progress is visible: the pending count went down in many steps, never up.
    const steps = progress.filter((p, i) => i === 0 || p !== progress[i - 1]);
    assert.ok(steps.length >= 50, `only ${steps.length} progress steps`);
    assert.ok(steps.every((p, i) => i === 0 || p <= steps[i - 1]!));
    // One batch in memory at a time (the heap also holds central, in this process).
    assert.ok(heapPeak - heapBefore < 150 * 1024 * 1024, `heap grew by ${Math.round((heapPeak - heapBefore) / 1e6)} MB`);
  });
});

describeCentral('terminal sync: snapshot reset', (central) => {
  it('a cursor past retention resets the replica from the snapshot', async () => {
    const c = central();
    const cinemaId = (await c.createCinema('Reset cinema')).id;
    const t = await SimTerminal.open(await c.enrolTerminal(cinemaId));
    try {
      const [a, b] = (await soldCards(c, cinemaId, 2, 100)).map((x) => x.cardNo);
      ok(await c.admin.client.POST('/v1/cards/{cardNo}/blacklist', { params: { path: { cardNo: a! } }, body: { reason: 'lost' } }));
      // The terminal believes b is blacklisted (stale); the snapshot says otherwise.
      await t.store.db('blacklist').insert({ card_no: b!, reason: 'stale', listed_at: new Date().toISOString() });
      const { pruneChangeLog } = await import('../../../central/sync/change-log.ts');
      await pruneChangeLog(c.platform.db, new Date(Date.now() + 60_000).toISOString());
      await t.sync([c.url]).syncNow();
      const listed = (await t.store.db('blacklist').select('card_no')).map((r: { card_no: string }) => r.card_no);
      assert.deepEqual(listed, [a]);
      const health = ok(await c.admin.client.GET('/v1/sync/health', {})) as Schemas['SyncHealth'];
      assert.equal(Number(await t.store.getMeta('sync.cursor')), health.head);
    } finally {
      await t.close();
    }
  });
});
