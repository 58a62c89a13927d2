/**
 * Central restored from a backup (issue 8, `spec/sync.md` § Central restored from a backup), on
 * both databases, real central over HTTP and a real terminal store: the restore gives the change
 * log a new id, and a terminal whose cursor is past the restored head — even once new changes have
 * taken the head past that cursor again — resets from the snapshot and then holds exactly central's
 * state. A terminal from before log ids adopts the first one without losing anything.
 */
import assert from 'node:assert/strict';
import { describeCentral, ok, type TestCentral } from '../../../central/test-support/harness.ts';
import { soldCards } from '../../../central/sync/test-ops.ts';
import { logPosition } from '../../../central/sync/change-log.ts';
import { backupDirectory, backupEngine } from '../../../central/backup/setup.ts';
import { locateBackup, restoreBackup } from '../../../central/backup/restore.ts';
import { eventually, SimTerminal } from './terminal-fixture.ts';

const LOG_ID = 'sync.log_id';

async function blacklist(c: TestCentral, cardNo: string, listed: boolean): Promise<void> {
  const path = listed ? '/v1/cards/{cardNo}/blacklist' : '/v1/cards/{cardNo}/unblacklist';
  ok(await c.admin.client.POST(path, { params: { path: { cardNo } }, body: { reason: listed ? 'lost' : 'found' } }));
}

/** A verified backup of the live database, made through the API. */
async function backupNow(c: TestCentral): Promise<string> {
  const started = ok(await c.admin.client.POST('/v1/backups'));
  for (let i = 0; i < 600; i += 1) {
    const b = ok(await c.admin.client.GET('/v1/backups')).items.find((x) => x.id === started.id);
    if (b && b.status !== 'running') {
      assert.equal(b.status, 'verified', b.error ?? '');
      return b.id;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('the backup did not end');
}

async function centralListed(c: TestCentral): Promise<string[]> {
  return (await c.platform.db('cards').whereNotNull('blacklisted_at').orderBy('card_no').select('card_no')).map((r: { card_no: string }) => r.card_no);
}
async function terminalListed(t: SimTerminal): Promise<string[]> {
  return (await t.store.db('blacklist').orderBy('card_no').select('card_no')).map((r: { card_no: string }) => r.card_no);
}

describeCentral('terminal sync: central restored from a backup', (central) => {
  it('a terminal whose cursor the restored head has overtaken again resets and then holds exactly central’s state', async function () {
    this.timeout(120_000);
    const c = central();
    const cinemaId = (await c.createCinema('Restored cinema')).id;
    const t = await SimTerminal.open(await c.enrolTerminal(cinemaId));
    try {
      const [a, gone, toggled, fresh] = (await soldCards(c, cinemaId, 4, 100)).map((x) => x.cardNo) as [string, string, string, string];
      await blacklist(c, a, true);
      const service = t.sync([c.url]);
      await service.syncNow();
      const logIdBefore = (await logPosition(c.platform.db)).logId;
      assert.match(logIdBefore, /^[0-9a-f-]{36}$/);
      assert.equal(await t.store.getMeta(LOG_ID), logIdBefore, 'the log id is stored with the cursor');

      const backupId = await backupNow(c);
      const backupHead = (await logPosition(c.platform.db)).head;
      // After the backup: a blacklist entry the restored central will not have, and more changes.
      await blacklist(c, gone, true);
      for (let i = 0; i < 4; i++) await blacklist(c, toggled, i % 2 === 0);
      await service.syncNow();
      const terminalHead = Number(await t.store.getMeta('sync.cursor'));
      assert.ok(terminalHead > backupHead + 4, `${terminalHead} vs ${backupHead}`);
      assert.deepEqual(await terminalListed(t), [a, gone].sort());

      const { config, db } = c.platform;
      const engine = backupEngine(config);
      await restoreBackup(await locateBackup(backupId, backupDirectory(config)), engine, db, { overwrite: engine.databaseName });
      const restored = await logPosition(db);
      assert.equal(restored.head, backupHead);
      assert.notEqual(restored.logId, logIdBefore, 'the restore gives the change log a new id');

      // New changes after the restore — first a blacklist entry (its ids are at or below the
      // terminal's cursor), then enough to take the head past that cursor.
      await blacklist(c, fresh, true);
      let i = 0;
      while ((await logPosition(db)).head <= terminalHead + 1) await blacklist(c, toggled, i++ % 2 === 0);
      await service.syncNow();

      assert.deepEqual(await terminalListed(t), await centralListed(c));
      assert.ok((await terminalListed(t)).includes(fresh), 'the blacklist entry written after the restore is enforced');
      assert.ok(!(await terminalListed(t)).includes(gone), 'the entry the restored central no longer has is gone');
      const now = await logPosition(db);
      assert.equal(Number(await t.store.getMeta('sync.cursor')), now.head);
      assert.equal(await t.store.getMeta(LOG_ID), now.logId);
      // Card states too: the terminal's replica of every card is central's.
      const centralCards = await db('cards').whereNot('state', 'made').orderBy('card_no').select('card_no', 'remaining_uses');
      const terminalCards = await t.store.db('cards').orderBy('card_no').select('card_no', 'remaining');
      assert.deepEqual(
        terminalCards.map((r: { card_no: string; remaining: number }) => [r.card_no, r.remaining]),
        centralCards.map((r: { card_no: string; remaining_uses: number }) => [r.card_no, Number(r.remaining_uses)]),
      );
    } finally {
      await t.close();
    }
  });

  it('a terminal from before log ids adopts the first one without a reset and loses nothing', async () => {
    const c = central();
    const cinemaId = (await c.createCinema('Upgraded cinema')).id;
    const t = await SimTerminal.open(await c.enrolTerminal(cinemaId));
    try {
      const [a, b] = (await soldCards(c, cinemaId, 2, 100)).map((x) => x.cardNo) as [string, string];
      await blacklist(c, a, true);
      const service = t.sync([c.url]);
      await service.syncNow();
      // As a terminal of the previous version left it: cursors, no log id.
      await t.store.db('meta').where({ key: LOG_ID }).del();
      assert.equal(await t.store.getMeta(LOG_ID), undefined);
      // A row only a reset would remove (a reset replaces the blacklist from the snapshot).
      await t.store.db('blacklist').insert({ card_no: 'NOT-RESET', reason: 'marker', listed_at: new Date().toISOString() });
      await blacklist(c, b, true);
      await service.syncNow();
      const listed = await terminalListed(t);
      assert.deepEqual(listed, [...(await centralListed(c)), 'NOT-RESET'].sort(), 'no reset, and the new entry arrived');
      assert.ok(listed.includes(b));
      assert.equal(await t.store.getMeta(LOG_ID), (await logPosition(c.platform.db)).logId);
      assert.equal(Number(await t.store.getMeta('sync.cursor')), (await logPosition(c.platform.db)).head);
    } finally {
      await t.close();
    }
  });

  it('a welcome with another log id than the stored one makes the terminal pull (and reset) at once', async () => {
    const c = central();
    const cinemaId = (await c.createCinema('Welcome cinema')).id;
    const t = await SimTerminal.open(await c.enrolTerminal(cinemaId));
    try {
      const service = t.sync([c.url], { pokes: true, pullIntervalMs: 3_600_000 });
      service.start();
      const hub = c.running.app.syncHub!;
      await eventually(() => hub.connections > 0, 5000, 'socket connected');
      await eventually(async () => (await t.store.getMeta(LOG_ID)) !== undefined, 5000, 'first pull');
      // As if central had been restored while the terminal was away: its cursor is at the head,
      // so only the log id tells. The socket drops (central restarted) and reconnects.
      await t.store.setMeta(LOG_ID, '00000000-0000-4000-8000-000000000000');
      await t.store.db('blacklist').insert({ card_no: 'STALE', reason: 'stale', listed_at: new Date().toISOString() });
      for (const peer of (hub as unknown as { peers: Set<{ ws: { terminate(): void } }> }).peers) peer.ws.terminate();
      await eventually(async () => (await t.store.getMeta(LOG_ID)) === (await logPosition(c.platform.db)).logId, 5000, 'reset after the welcome');
      assert.deepEqual(await terminalListed(t), await centralListed(c));
    } finally {
      await t.close();
    }
  });

  it('a terminal with another stored log id resets even when its cursor is below the head', async () => {
    const c = central();
    const cinemaId = (await c.createCinema('Other log cinema')).id;
    const t = await SimTerminal.open(await c.enrolTerminal(cinemaId));
    try {
      const [a] = (await soldCards(c, cinemaId, 1, 100)).map((x) => x.cardNo) as [string];
      await blacklist(c, a, true);
      await t.store.setMeta(LOG_ID, '00000000-0000-4000-8000-000000000000');
      await t.store.db('blacklist').insert({ card_no: 'STALE', reason: 'stale', listed_at: new Date().toISOString() });
      await t.sync([c.url]).syncNow();
      assert.deepEqual(await terminalListed(t), await centralListed(c));
      assert.equal(await t.store.getMeta(LOG_ID), (await logPosition(c.platform.db)).logId);
    } finally {
      await t.close();
    }
  });
});
