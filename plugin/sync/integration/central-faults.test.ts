/**
 * Central-side faults seen from a terminal: central killed mid-batch (a child process, SIGKILL
 * inside the ingest transaction), and two central instances on one PostgreSQL with pokes fanned
 * out by LISTEN/NOTIFY and the terminal moving to the other instance when its own goes away.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { freePort, spawnCentral } from '../../../test-support/child-central.ts';
import { describeCentral, ok, TestCentral } from '../../../central/test-support/harness.ts';
import { testDatabases } from '../../../central/test-support/databases.ts';
import { startCentral, type RunningCentral } from '../../../central/service.ts';
import { createLogger } from '../../../central/logging.ts';
import { soldCards } from '../../../central/sync/test-ops.ts';
import { eventually, SimTerminal, type SimCard } from './terminal-fixture.ts';

describeCentral('central killed mid-batch', (central) => {
  let child: ChildProcess | undefined;
  afterEach(() => {
    child?.kill('SIGKILL');
    child = undefined;
  });

  /** `central serve` as a child on the harness's database, with the harness's JWT secret. */
  function startChild(port: number, crash: boolean | string): Promise<ChildProcess> {
    const { config } = central().platform;
    return spawnCentral(port, {
      CINECARD_JWT_SECRET: config.jwtSecret,
      CINECARD_DATA_DIR: config.dataDir,
      ...(config.databaseUrl ? { DATABASE_URL: config.databaseUrl } : {}),
      CINECARD_CRASH_POINT: crash === true ? 'sync.ingest.before_commit' : crash || '',
    });
  }

  it('nothing of the batch survives the kill; the retry to the restarted central applies every op once', async function () {
    this.timeout(60_000);
    const c = central();
    const cinemaId = (await c.createCinema('Crash cinema')).id;
    const enrolled = await c.enrolTerminal(cinemaId);
    const cards: SimCard[] = (await soldCards(c, cinemaId, 3, 100)).map((x) => ({ cardNo: x.cardNo, uid: x.uid, seq: 2, remaining: 100 }));
    const t = await SimTerminal.open(enrolled);
    try {
      for (let i = 0; i < 20; i++) await t.redeem(cards[i % 3]!);
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      child = await startChild(port, true);
      const exited = new Promise((resolve) => child!.once('exit', (_code, signal) => resolve(signal)));
      await assert.rejects(t.sync([url]).syncNow());
      assert.equal(await exited, 'SIGKILL');
      const count = async () => Number((await c.platform.db('ledger_entries').where({ terminal_id: enrolled.terminalId }).count<{ n: number }[]>('* as n'))[0]!.n);
      assert.equal(await count(), 0);
      assert.equal(await t.store.pendingCount(), 20);

      child = await startChild(port, false);
      await t.service!.syncNow();
      assert.equal(await t.store.pendingCount(), 0);
      assert.equal(await count(), 20);
      for (const card of cards) {
        const stored = ok(await c.admin.client.GET('/v1/cards/{cardNo}', { params: { path: { cardNo: card.cardNo } } }));
        assert.equal(stored.remainingUses, card.remaining);
      }
    } finally {
      await t.close();
    }
  });

  it('killed with a group of batches written but not committed: no till holds an ack for an op central lacks; after restart every op once', async function () {
    this.timeout(90_000);
    const c = central();
    const cinemaId = (await c.createCinema('Group crash cinema')).id;
    const tills: SimTerminal[] = [];
    const cards: SimCard[] = (await soldCards(c, cinemaId, 8, 100)).map((x) => ({ cardNo: x.cardNo, uid: x.uid, seq: 2, remaining: 100 }));
    try {
      for (let k = 0; k < 8; k++) {
        const t = await SimTerminal.open(await c.enrolTerminal(cinemaId));
        tills.push(t);
        for (let i = 0; i < 10; i++) await t.redeem(cards[k]!);
      }
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      // SQLite writes batches that arrive together in one transaction; the kill comes after a group
      // of several is written and before its COMMIT. PostgreSQL writes each batch on its own; the
      // kill comes before a batch's commit there.
      child = await startChild(port, c.database.name === 'sqlite' ? 'sync.ingest.group_before_commit' : true);
      const exited = new Promise((resolve) => child!.once('exit', (_code, signal) => resolve(signal)));
      const synced = await Promise.allSettled(tills.map((t) => t.sync([url]).syncNow()));
      assert.equal(await exited, 'SIGKILL');
      const committed = async (t: SimTerminal) =>
        Number((await c.platform.db('ledger_entries').where({ terminal_id: t.enrolled.terminalId }).count<{ n: number }[]>('* as n'))[0]!.n);
      let lost = 0;
      for (const [k, t] of tills.entries()) {
        const acked = 10 - (await t.store.pendingCount());
        const stored = await committed(t);
        // An ack only for what is committed (committed but not acked is fine: the retry is a duplicate).
        assert.ok(acked === 0 || acked === stored, `till ${k}: ${acked} acknowledged, ${stored} committed (${synced[k]!.status})`);
        if (stored === 0) lost++;
      }
      assert.ok(lost > 0, 'the kill came before some batch was committed');

      child = await startChild(port, false);
      for (const t of tills) await t.service!.syncNow();
      for (const [k, t] of tills.entries()) {
        assert.equal(await t.store.pendingCount(), 0);
        assert.equal(await committed(t), 10);
        const stored = ok(await c.admin.client.GET('/v1/cards/{cardNo}', { params: { path: { cardNo: cards[k]!.cardNo } } }));
        assert.equal(stored.remainingUses, cards[k]!.remaining);
      }
    } finally {
      for (const t of tills) await t.close();
    }
  });
});

const postgres = testDatabases().find((d) => d.name === 'postgres')!;

describe('two central instances on one PostgreSQL', function () {
  this.timeout(60_000);
  let a: TestCentral;
  let b: RunningCentral;
  const tills: SimTerminal[] = [];

  before(async () => {
    a = await TestCentral.start(postgres);
    b = await startCentral({ ...a.platform.config, port: 0 }, { log: createLogger('silent'), migrate: false });
  });
  after(async () => {
    for (const t of tills) await t.close();
    await b?.close();
    await a?.close();
  });

  it('fans pokes out through LISTEN/NOTIFY, and a terminal whose instance goes away carries on with the other', async () => {
    const cinemaId = (await a.createCinema('Two instances')).id;
    const cards: SimCard[] = (await soldCards(a, cinemaId, 2, 100)).map((x) => ({ cardNo: x.cardNo, uid: x.uid, seq: 2, remaining: 100 }));
    // Terminal 1 listens on B; a blacklist change made through A reaches it by B's poke.
    const t1 = await SimTerminal.open(await a.enrolTerminal(cinemaId));
    tills.push(t1);
    const s1 = t1.sync([b.url], { pokes: true, pullIntervalMs: 3_600_000 });
    s1.start();
    await eventually(() => (b.app.syncHub?.connections ?? 0) > 0 && s1.status.lastSuccessAt !== null, 5000, 't1 connected to B');
    ok(await a.admin.client.POST('/v1/cards/{cardNo}/blacklist', { params: { path: { cardNo: cards[0]!.cardNo } }, body: { reason: 'lost' } }));
    await eventually(async () => (await t1.store.db('blacklist').where({ card_no: cards[0]!.cardNo }).first()) !== undefined, 3000, 'poke via NOTIFY');

    // Terminal 2 works against a standby instance A2 first; A2 goes away; it moves to B.
    const a2 = await startCentral({ ...a.platform.config, port: 0 }, { log: createLogger('silent'), migrate: false });
    const t2 = await SimTerminal.open(await a.enrolTerminal(cinemaId));
    tills.push(t2);
    const s2 = t2.sync([a2.url, b.url], { pokes: true, pullIntervalMs: 3_600_000, idleCheckMs: 20 });
    s2.start();
    await eventually(() => (a2.app.syncHub?.connections ?? 0) > 0 && s2.status.lastSuccessAt !== null, 5000, 't2 connected to A2');
    await t2.redeem(cards[1]!);
    await eventually(async () => (await t2.store.pendingCount()) === 0, 5000, 'upload to A2');
    // The instance goes away abruptly: its open connections are cut, not drained.
    a2.app.server.closeAllConnections();
    await a2.close();
    await t2.redeem(cards[1]!);
    await t2.redeem(cards[1]!);
    await eventually(async () => (await t2.store.pendingCount()) === 0, 10_000, 'upload to B after A2 went away');
    await eventually(() => (b.app.syncHub?.connections ?? 0) >= 2, 10_000, 't2 reconnected to B');
    ok(await a.admin.client.POST('/v1/cards/{cardNo}/blacklist', { params: { path: { cardNo: cards[1]!.cardNo } }, body: { reason: 'lost' } }));
    await eventually(async () => (await t2.store.db('blacklist').where({ card_no: cards[1]!.cardNo }).first()) !== undefined, 3000, 'poke via B');
    const stored = ok(await a.admin.client.GET('/v1/cards/{cardNo}', { params: { path: { cardNo: cards[1]!.cardNo } } }));
    assert.equal(stored.remainingUses, cards[1]!.remaining);
  });

  it('a dropped LISTEN connection costs latency only: the periodic pull converges, and the listener comes back', async () => {
    const cinemaId = (await a.createCinema('Listener drop')).id;
    const [card] = (await soldCards(a, cinemaId, 1, 100)).map((x) => x.cardNo);
    const t = await SimTerminal.open(await a.enrolTerminal(cinemaId));
    tills.push(t);
    const s = t.sync([b.url], { pokes: true, pullIntervalMs: 300 });
    s.start();
    await eventually(() => s.status.lastSuccessAt !== null, 5000, 'first pull');
    const listeners = () =>
      a.platform.db.raw(`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query ILIKE 'LISTEN%'`).then((r: { rows: unknown[] }) => r.rows.length);
    assert.ok((await listeners()) >= 2);
    await a.platform.db.raw(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query ILIKE 'LISTEN%'`);
    ok(await a.admin.client.POST('/v1/cards/{cardNo}/blacklist', { params: { path: { cardNo: card! } }, body: { reason: 'lost' } }));
    await eventually(async () => (await t.store.db('blacklist').where({ card_no: card! }).first()) !== undefined, 5000, 'periodic pull');
    await eventually(async () => (await listeners()) >= 2, 10_000, 'listeners back');
  });
});
