/**
 * Group commit of sync batches (`ingest.ts` GroupCommit; SQLite's one writer): batches queued
 * while a group is written go into the next group's one transaction, each in its own savepoint,
 * and are answered only after that transaction commits. Over HTTP on both databases: many
 * terminals at once, every op acknowledged exactly once; a batch that fails fails alone.
 */
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { Knex } from 'knex';
import sqlite3 from 'sqlite3';
import { sqliteFileName } from '../store/database.ts';
import { testDatabases, withScratchDatabase } from '../test-support/databases.ts';
import { describeCentral, ok, TestCentral, type EnrolledTerminal } from '../test-support/harness.ts';
import { GroupCommit, sqliteDataVersion } from './ingest.ts';
import type { CardRow } from '../cards/card-record.ts';
import { cardState } from './change-log.ts';
import { soldCards, upload, wireOp, type WireOp } from './test-ops.ts';

const sqlite = testDatabases().find((d) => d.name === 'sqlite')!;

/** Rows of `probe` as a second connection sees them: only what is committed. */
function committedIds(file: string): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const other = new sqlite3.Database(file, sqlite3.OPEN_READONLY, (openError) => {
      if (openError) return reject(openError);
      other.all('SELECT id FROM probe ORDER BY id', (error, rows: { id: number }[]) => {
        other.close();
        if (error) reject(error);
        else resolve(rows.map((r) => r.id));
      });
    });
  });
}

describe('GroupCommit [sqlite]', () => {
  const withProbe = (work: (db: Knex, file: string) => Promise<void>) =>
    withScratchDatabase(sqlite, async (db) => {
      await db.schema.createTable('probe', (t) => t.integer('id').primary());
      const file = (db.client.config.connection as { filename: string }).filename;
      assert.equal(file.endsWith(sqliteFileName), true);
      await work(db, file);
    });
  /** A batch's work as the ingest does it: its own savepoint inside the group's transaction. */
  const insert = (id: number, fail?: 'throw' | 'duplicate') => (trx: Knex.Transaction) =>
    trx.transaction(async (sp) => {
      await sp('probe').insert({ id });
      if (fail === 'duplicate') await sp('probe').insert({ id });
      if (fail === 'throw') throw new Error(`batch ${id} is poisoned`);
      return { id, group: trx };
    });

  it('writes the batches that queued up in one transaction, and answers each only after its commit', () =>
    withProbe(async (db, file) => {
      const group = new GroupCommit(db, async () => 'context');
      const seenAtAnswer: number[][] = [];
      const runs = Array.from({ length: 10 }, (_, i) =>
        group.run(insert(i + 1)).then(async (r) => {
          seenAtAnswer[i] = await committedIds(file);
          return r;
        }),
      );
      const results = await Promise.all(runs);
      // The first batch found the writer idle; the nine that queued behind it went in together.
      assert.equal(new Set(results.map((r) => r.group)).size, 2);
      assert.equal(results[0]!.group === results[1]!.group, false);
      assert.equal(new Set(results.slice(1).map((r) => r.group)).size, 1);
      // Every answer came after the commit of its whole group: a second connection saw the batch's row
      // and every row of its group.
      assert.deepEqual(seenAtAnswer[0], [1]);
      for (let i = 1; i < 10; i++) assert.deepEqual(seenAtAnswer[i], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      assert.deepEqual(await committedIds(file), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    }));

  it('data_version, which tells a group whether to trust what it kept: moved by another connection’s commit, not by its own', () =>
    withProbe(async (db, file) => {
      const client = db.client as unknown as { acquireConnection(): Promise<unknown>; releaseConnection(c: unknown): Promise<void> };
      const held = await client.acquireConnection();
      try {
        const onHeld = <T>(work: (trx: Knex.Transaction) => Promise<T>) => db.transaction(work, { connection: held });
        const first = await onHeld(async (trx) => {
          await trx('probe').insert({ id: 1 });
          return sqliteDataVersion(trx);
        });
        // Its own commit, then its next transaction: the same number.
        assert.equal(await onHeld((trx) => sqliteDataVersion(trx)), first);
        // Another connection commits in between: a new number.
        await new Promise<void>((resolve, reject) => {
          const other = new sqlite3.Database(file, (openError) => {
            if (openError) return reject(openError);
            other.run('INSERT INTO probe (id) VALUES (2)', (error) => other.close(() => (error ? reject(error) : resolve())));
          });
        });
        assert.notEqual(await onHeld((trx) => sqliteDataVersion(trx)), first);
      } finally {
        await client.releaseConnection(held);
      }
    }));

  it('a batch that fails is rolled back to its savepoint with its own error; its neighbours commit', () =>
    withProbe(async (db, file) => {
      const group = new GroupCommit(db, async () => undefined);
      const hold = group.run(insert(100));
      const outcomes = await Promise.allSettled([1, 2, 3, 4, 5, 6].map((id) => group.run(insert(id, id === 3 ? 'throw' : id === 5 ? 'duplicate' : undefined))));
      await hold;
      assert.deepEqual(outcomes.map((o) => o.status), ['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled']);
      assert.match(String((outcomes[2] as PromiseRejectedResult).reason), /batch 3 is poisoned/);
      assert.match(String((outcomes[4] as PromiseRejectedResult).reason), /UNIQUE/);
      assert.deepEqual(await committedIds(file), [1, 2, 4, 6, 100]);
    }));

  it('when SQLite loses the whole transaction, no batch of the group is acknowledged; the next group is written', () =>
    withProbe(async (db, file) => {
      const group = new GroupCommit(db, async () => undefined);
      const hold = group.run(insert(100));
      // Batch 2 ends the transaction under the group (as SQLite does on a full disk or an I/O error).
      const lose = (trx: Knex.Transaction) =>
        trx.transaction(async (sp) => {
          await sp.raw('ROLLBACK');
          throw new Error('disk full');
        });
      const outcomes = await Promise.allSettled([group.run(insert(1)), group.run(lose), group.run(insert(3))]);
      await hold;
      assert.deepEqual(outcomes.map((o) => o.status), ['rejected', 'rejected', 'rejected']);
      assert.deepEqual(await committedIds(file), [100]);
      await group.run(insert(4));
      assert.deepEqual(await committedIds(file), [4, 100]);
    }));
});

describeCentral('group commit over HTTP', (central) => {
  let cinemaId: string;
  before(async () => {
    cinemaId = (await central().createCinema('Group commit')).id;
  });

  /** `count` tills, each with a card of its own (`uses` uses) sold at the cinema. */
  const tillsWithCards = async (c: TestCentral, count: number, label: string, uses: number) => {
    const terminals: EnrolledTerminal[] = [];
    for (let i = 0; i < count; i++) terminals.push(await c.enrolTerminal(cinemaId, `${label} ${i}`));
    return { terminals, cards: await soldCards(c, cinemaId, count, uses) };
  };

  const ledgerCount = async (terminalIds: readonly string[]) =>
    Number((await central().platform.db('ledger_entries').whereIn('terminal_id', terminalIds).count<{ n: number }[]>('* as n'))[0]!.n);

  it('many terminals uploading at once: every op is acknowledged exactly once, and applied once', async function () {
    this.timeout(120_000);
    const c = central();
    const { terminals, cards } = await tillsWithCards(c, 12, 'Group till', 100);
    // Each till redeems its own card: 3 batches of 20, one after another; the tills all at once.
    const outboxes = terminals.map((t, k) => Array.from({ length: 60 }, (_, i) => wireOp(t, i + 1, cards[k]!.cardNo, 3 + i, 1, 99 - i)));
    const answers = await Promise.all(
      terminals.map(async (t, k) => {
        const results = [];
        for (let b = 0; b < 3; b++) results.push(...(await upload(t, outboxes[k]!.slice(b * 20, b * 20 + 20))).results);
        return results;
      }),
    );
    const acked = answers.flat();
    assert.equal(acked.length, 720);
    assert.ok(acked.every((r) => r.outcome === 'applied'));
    assert.equal(new Set(acked.map((r) => r.opId)).size, 720);
    assert.equal(await ledgerCount(terminals.map((t) => t.terminalId)), 720);
    for (const card of cards) {
      const stored = await c.platform.db('cards').where({ card_no: card.cardNo }).first<{ remaining_uses: number; applied_seq: number }>();
      assert.deepEqual({ remaining: stored!.remaining_uses, seq: stored!.applied_seq }, { remaining: 40, seq: 62 });
    }
    // Sent again (all at once): every op a duplicate, nothing applied twice.
    const again = await Promise.all(terminals.map((t, k) => upload(t, outboxes[k]!.slice(0, 20))));
    assert.ok(again.every((r) => r.results.every((x) => x.outcome === 'duplicate')));
    assert.equal(await ledgerCount(terminals.map((t) => t.terminalId)), 720);
  });

  it('a card HQ blacklists between two uploads: the second is applied to the card as listed, and replicated so', async () => {
    const c = central();
    const db = c.platform.db;
    const till = await c.enrolTerminal(cinemaId, 'Listed card till');
    const [card] = await soldCards(c, cinemaId, 1, 100);
    const ops = Array.from({ length: 4 }, (_, i) => wireOp(till, i + 1, card!.cardNo, 3 + i, 1, 99 - i));
    await upload(till, ops.slice(0, 2));
    ok(await c.admin.client.POST('/v1/cards/{cardNo}/blacklist', { params: { path: { cardNo: card!.cardNo } }, body: { reason: 'stolen' } }));
    assert.ok((await upload(till, ops.slice(2))).results.every((r) => r.outcome === 'applied'));
    const stored = (await db('cards').where({ card_no: card!.cardNo }).first<CardRow>())!;
    assert.deepEqual({ remaining: stored.remaining_uses, listed: stored.blacklisted_at !== null }, { remaining: 96, listed: true });
    const anomalies = await db('ledger_entries').where({ card_no: card!.cardNo, kind: 'redeem' }).orderBy('seq').pluck('anomaly');
    assert.deepEqual(anomalies, [null, null, 'card_blacklisted', 'card_blacklisted']);
    const last = await db('change_log').where({ stream: 'data', entity: 'card', entity_key: card!.cardNo }).orderBy('id', 'desc').first<{ payload: string }>();
    assert.deepEqual(JSON.parse(last!.payload), cardState(stored));
  });

  it('HQ blacklisting cards while many tills upload: every group sees the change, and the last change-log entry of each card is the card as stored', async function () {
    this.timeout(120_000);
    const c = central();
    const db = c.platform.db;
    const { terminals, cards } = await tillsWithCards(c, 10, 'Busy till', 1000);
    // Each till redeems its own card: 12 batches of 25, back to back, all tills at once — the group
    // commit goes from group to group on its connection (SQLite) while the blacklist writes land
    // between two of its groups, through the other connection.
    const outboxes = terminals.map((t, k) => Array.from({ length: 300 }, (_, i) => wireOp(t, i + 1, cards[k]!.cardNo, 3 + i, 1, 999 - i)));
    let uploading = true;
    const uploads = Promise.all(
      terminals.map(async (t, k) => {
        for (let b = 0; b < 12; b++) {
          const r = await upload(t, outboxes[k]!.slice(b * 25, b * 25 + 25));
          assert.ok(r.results.every((x) => x.outcome === 'applied'), `till ${k} batch ${b}: ${JSON.stringify(r.results[0])}`);
        }
      }),
    ).finally(() => (uploading = false));
    const listed: string[] = [];
    for (const card of cards) {
      await new Promise((r) => setTimeout(r, 15));
      if (!uploading) break;
      ok(await c.admin.client.POST('/v1/cards/{cardNo}/blacklist', { params: { path: { cardNo: card.cardNo } }, body: { reason: 'lost, reported by phone' } }));
      listed.push(card.cardNo);
    }
    await uploads;
    assert.ok(listed.length >= 3, `only ${listed.length} blacklist changes landed while the tills uploaded`);
    for (const card of cards) {
      const stored = await db('cards').where({ card_no: card.cardNo }).first<CardRow>();
      assert.deepEqual({ remaining: stored!.remaining_uses, seq: stored!.applied_seq }, { remaining: 700, seq: 302 });
      assert.equal(stored!.blacklisted_at !== null, listed.includes(card.cardNo));
      // What terminals replicate: the newest entry of the card on the data stream.
      const last = await db('change_log').where({ stream: 'data', entity: 'card', entity_key: card.cardNo }).orderBy('id', 'desc').first<{ payload: string }>();
      assert.deepEqual(JSON.parse(last!.payload), cardState(stored!));
    }
  });

  it('a batch the database refuses fails alone: the batches written beside it are applied', async function () {
    this.timeout(120_000);
    const c = central();
    const db = c.platform.db;
    const { terminals, cards } = await tillsWithCards(c, 6, 'Poison till', 100);
    const poisoned = cards[3]!.cardNo;
    // A real database error in the middle of one batch's writes (after its terminal row and card reads).
    if (c.database.name === 'sqlite') {
      await db.raw(`CREATE TRIGGER poison BEFORE INSERT ON ledger_entries WHEN NEW.card_no = '${poisoned}' BEGIN SELECT RAISE(ABORT, 'poisoned batch'); END`);
    } else {
      await db.raw(`CREATE FUNCTION poison_fn() RETURNS trigger AS $$ BEGIN IF NEW.card_no = '${poisoned}' THEN RAISE EXCEPTION 'poisoned batch'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql`);
      await db.raw('CREATE TRIGGER poison BEFORE INSERT ON ledger_entries FOR EACH ROW EXECUTE FUNCTION poison_fn()');
    }
    const outboxes: WireOp[][] = terminals.map((t, k) => Array.from({ length: 30 }, (_, i) => wireOp(t, i + 1, cards[k]!.cardNo, 3 + i, 1, 99 - i)));
    try {
      // Plain fetch: the spec lists no 500 for the upload, and the typed client would refuse it.
      const responses = await Promise.all(
        terminals.map(async (t, k) => {
          const res = await fetch(`${c.url}/v1/sync/batches`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${t.token}` },
            body: JSON.stringify({ ops: outboxes[k]!, deviceTime: new Date().toISOString() }),
          });
          return { status: res.status, body: (await res.json()) as { results?: { outcome: string }[] } };
        }),
      );
      responses.forEach((r, k) => {
        if (k === 3) assert.equal(r.status, 500);
        else assert.ok(r.status === 200 && r.body.results?.every((x) => x.outcome === 'applied'), `terminal ${k}: ${r.status}`);
      });
      for (const [k, t] of terminals.entries()) assert.equal(await ledgerCount([t.terminalId]), k === 3 ? 0 : 30);
      const seq = await db('sync_terminals').where({ terminal_id: terminals[3]!.terminalId }).first<{ next_seq: number } | undefined>('next_seq');
      assert.equal(seq?.next_seq ?? 1, 1);
    } finally {
      await db.raw('DROP TRIGGER poison' + (c.database.name === 'postgres' ? ' ON ledger_entries' : ''));
      if (c.database.name === 'postgres') await db.raw('DROP FUNCTION poison_fn()');
    }
    // The refused batch, sent again, applies whole.
    const retry = await upload(terminals[3]!, outboxes[3]!);
    assert.ok(retry.results.every((x) => x.outcome === 'applied'));
    assert.equal(await ledgerCount([terminals[3]!.terminalId]), 30);
  });
});

describe('the SQLite WAL after a burst of uploads', function () {
  this.timeout(60_000);
  let c: TestCentral;
  before(async () => {
    c = await TestCentral.start(sqlite);
  });
  after(async () => {
    await c?.close();
  });

  it('is emptied once the uploads pause (the -wal file does not keep its largest size)', async () => {
    const wal = `${join(c.platform.config.dataDir, sqliteFileName)}-wal`;
    const cinemaId = (await c.createCinema('WAL cinema')).id;
    const till = await c.enrolTerminal(cinemaId, 'WAL till');
    const [card] = await soldCards(c, cinemaId, 1, 100);
    // A burst's worth of log: one large transaction (a checkpoint cannot cut the file back).
    await c.platform.db.schema.createTable('burst', (t) => t.text('filler'));
    await c.platform.db.transaction(async (trx) => {
      for (let i = 0; i < 30; i++) await trx('burst').insert(Array.from({ length: 100 }, () => ({ filler: 'x'.repeat(4000) })));
    });
    assert.ok(statSync(wal).size > 8 * 1024 * 1024, `the WAL is ${statSync(wal).size} bytes`);
    await upload(till, [wireOp(till, 1, card!.cardNo, 3, 1, 99)]);
    const deadline = Date.now() + 10_000;
    while (statSync(wal).size > 1024 * 1024 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.ok(statSync(wal).size <= 1024 * 1024, `the WAL is still ${statSync(wal).size} bytes`);
    assert.equal((await c.platform.db('ledger_entries').where({ terminal_id: till.terminalId }).count<{ n: number }[]>('* as n'))[0]!.n, 1);
  });
});
