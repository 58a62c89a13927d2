/**
 * The change log's id (`spec/sync.md` § Central restored from a backup), on both databases: made
 * by its migration (and gone with its `down`), carried by every pull, snapshot and the socket's
 * welcome, the same for every instance on one database, and new after a restore (the restore
 * itself is tested with a terminal in `plugin/sync/integration/central-restore.test.ts`).
 */
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import type { Knex } from 'knex';
import { describeCentral, ok } from '../test-support/harness.ts';
import { MigrationDirectory } from '../store/migration-source.ts';
import { createDatabase } from '../store/database.ts';
import { parseSyncMessage, SYNC_SOCKET_PATH } from '../client/sync-messages.ts';
import { logPosition, renewLogId } from './change-log.ts';

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const migration = '20251001000000_change_log_id';

describeCentral('change log id', (central) => {
  it('pulls, snapshots and the welcome carry the log id of the database', async () => {
    const c = central();
    const cinemaId = (await c.createCinema('Log id cinema')).id;
    const t = await c.enrolTerminal(cinemaId);
    const { logId } = await logPosition(c.platform.db);
    assert.match(logId, uuid);
    const page = ok(await t.client.GET('/v1/sync/changes', { params: { query: { cursor: 0, blacklistCursor: 0 } } }));
    assert.equal(page.logId, logId);
    const snapshot = ok(await t.client.GET('/v1/sync/snapshot', { params: { query: {} } }));
    assert.equal(snapshot.logId, logId);
    const ws = new WebSocket(c.url.replace(/^http/, 'ws') + SYNC_SOCKET_PATH, { headers: { authorization: `Bearer ${t.token}` } });
    try {
      const first = await new Promise<string>((resolve, reject) => {
        ws.once('message', (m) => resolve(String(m)));
        ws.once('error', reject);
      });
      const welcome = parseSyncMessage(first);
      assert.equal(welcome?.type, 'welcome');
      assert.equal(welcome?.type === 'welcome' && welcome.logId, logId);
    } finally {
      ws.close();
    }
  });

  it('a second instance on the same database reads the same log id; a renewal is seen by both', async () => {
    const c = central();
    const other: Knex = createDatabase(c.platform.config);
    try {
      assert.equal((await logPosition(other)).logId, (await logPosition(c.platform.db)).logId);
      const renewed = await renewLogId(c.platform.db);
      assert.match(renewed!, uuid);
      assert.equal((await logPosition(other)).logId, renewed);
    } finally {
      await other.destroy();
    }
  });

  it('its migration goes down and up again: the column goes, and comes back with a new id', async () => {
    const db = central().platform.db;
    const config = { migrationSource: new MigrationDirectory() };
    const before = (await logPosition(db)).logId;
    // Down to just before it (later migrations first), then up again to the latest.
    const down: string[] = [];
    while (!down.includes(migration)) {
      const [, names] = (await db.migrate.down(config)) as [number, string[]];
      assert.ok(names.length > 0, `${migration} was never rolled back`);
      down.push(...names);
    }
    assert.equal(await db.schema.hasColumn('sync_head', 'log_id'), false);
    assert.equal(await renewLogId(db), undefined, 'a database from before log ids gets one when it migrates');
    const [, up] = (await db.migrate.latest(config)) as [number, string[]];
    assert.deepEqual([...up].sort(), [...down].sort());
    const after = await logPosition(db);
    assert.match(after.logId, uuid);
    assert.notEqual(after.logId, before);
  });
});
