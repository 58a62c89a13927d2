/**
 * Backups end to end, on SQLite and PostgreSQL: a running service with cards and synced ops is
 * backed up through the API (copied off-site, verified by a trial restore), its database wiped,
 * and the backup restored — the same rows and the same report-like aggregates come back. A damaged
 * backup is refused, and so is a restore without the confirmation.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { Knex } from 'knex';
import type { Schemas } from '../client/index.ts';
import { CentralError } from '../errors.ts';
import { describeCentral, ok, type EnrolledTerminal, type TestCentral } from '../test-support/harness.ts';
import { migrateDownAll } from '../store/migration-source.ts';
import { soldCards, upload, wireOp } from '../sync/test-ops.ts';
import { backupDirectory, backupEngine, offsiteTarget } from './setup.ts';
import { BackupDirectory } from './backup-directory.ts';
import { readContents } from './engine.ts';
import { sha256Of, type DatabaseContents } from './manifest.ts';
import { locateBackup, restoreBackup } from './restore.ts';

const offsiteRoot = mkdtempSync(join(tmpdir(), 'cinecard-offsite-'));
after(() => rmSync(offsiteRoot, { recursive: true, force: true }));

/** Polls the backup list until `id` has ended (made, verified or failed). */
export async function waitForBackup(central: TestCentral, id: string): Promise<Schemas['Backup']> {
  for (let i = 0; i < 600; i += 1) {
    const list = ok(await central.admin.client.GET('/v1/backups'));
    const backup = list.items.find((b) => b.id === id);
    if (backup && backup.status !== 'running') return backup;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`backup ${id} did not end`);
}

async function contentsOf(db: Knex): Promise<DatabaseContents> {
  const dialect = db.client.config.client === 'pg' ? 'postgres' : 'sqlite';
  return readContents(async (sql) => {
    const result = await db.raw(sql);
    return (dialect === 'postgres' ? result.rows : result) as Record<string, unknown>[];
  }, dialect);
}

/** What a settlement report would read: ops, uses and fen per cinema and kind, and the cards used. */
async function ledgerAggregates(db: Knex): Promise<unknown[]> {
  const rows = await db('ledger_entries')
    .select('cinema_id', 'kind')
    .count({ ops: '*' })
    .sum({ uses: 'uses_delta' })
    .sum({ fen: db.raw('coalesce(amount_fen, 0)') })
    .countDistinct({ cards: 'card_no' })
    .groupBy('cinema_id', 'kind')
    .orderBy(['cinema_id', 'kind']);
  // PostgreSQL's sums are numeric (strings); compare as numbers.
  return rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v])));
}

describeCentral(
  'backups',
  (central, database) => {
    let cinema: Schemas['Cinema'];
    let backup: Schemas['Backup'];
    let till: EnrolledTerminal;

    before(async function () {
      this.timeout(60_000);
      const c = central();
      cinema = await c.createCinema('Backup cinema');
      till = await c.enrolTerminal(cinema.id);
      const cards = await soldCards(c, cinema.id, 4, 100);
      const ops = cards.flatMap((card, i) => [1, 2, 3].map((k) => ({ card, i, k })));
      const wire = ops.map(({ card, k }, n) => wireOp(till, n + 1, card.cardNo, 2 + k, 1, 100 - k));
      const result = await upload(till, wire);
      assert.equal(result.expectedSeq, wire.length + 1);
      assert.ok(result.results.every((r) => r.outcome === "applied"), JSON.stringify(result.results));
    });

    it('starts a backup through the API, copies it off-site and verifies it', async () => {
      const c = central();
      const started = await c.admin.client.POST('/v1/backups');
      assert.equal(started.response.status, 202);
      assert.equal(started.data!.status, 'running');
      backup = await waitForBackup(c, started.data!.id);
      assert.equal(backup.status, 'verified', backup.error ?? '');
      assert.equal(backup.offsite, 'copied');
      assert.equal(backup.dialect, database.name);
      assert.ok(backup.rows! > 20);
      const list = ok(await c.admin.client.GET('/v1/backups'));
      assert.equal(list.lastVerified?.id, backup.id);
      assert.equal(list.schedule.offsiteConfigured, true);
      assert.equal(list.schedule.enabled, true);
      assert.ok(list.schedule.nextRunAt && Date.parse(list.schedule.nextRunAt) > Date.now());

      // The off-site copy exists and reads back with the manifest's checksum.
      const offsite = offsiteTarget(c.platform.config)!;
      assert.ok((await offsite.list()).includes(backup.id));
      const ext = database.name === 'sqlite' ? 'sqlite' : 'pgdump';
      assert.equal(await sha256Of(offsite.read(backup.id, `${backup.id}.${ext}`)), backup.sha256);
      const entry = await c.platform.db('audit_log').where({ action: 'backup.start', target_id: backup.id }).first();
      assert.ok(entry, 'the API start is audited');
    });

    it('refuses a second backup while one runs', async () => {
      const c = central();
      const first = await c.admin.client.POST('/v1/backups');
      const second = await c.admin.client.POST('/v1/backups');
      assert.equal(second.response.status, 409);
      assert.equal((second.error as { code: string }).code, 'backup_in_progress');
      const ended = await waitForBackup(c, first.data!.id);
      assert.equal(ended.status, 'verified', ended.error ?? '');
    });

    it('restores a wiped database to the same rows and aggregates', async function () {
      this.timeout(120_000);
      const c = central();
      const { db, config } = c.platform;
      const before = await contentsOf(db);
      const aggregates = await ledgerAggregates(db);
      assert.ok(aggregates.length > 0);
      // The second backup (from the test above) is the newest: restore the first, by id, so
      // state written since (its audit entry) must go.
      const located = await locateBackup(backup.id, backupDirectory(config), offsiteTarget(config));
      const engine = backupEngine(config);

      await migrateDownAll(db); // wipe: every table gone
      assert.deepEqual(Object.keys((await contentsOf(db)).tables).filter((t) => !t.startsWith('knex_')), []);

      await assert.rejects(restoreBackup(located, engine, db, {}), (e: CentralError) => e.code === 'restore_needs_confirmation');
      const restored = await restoreBackup(located, engine, db, { overwrite: engine.databaseName });
      const manifest = JSON.parse(readFileSync(located.manifestPath, 'utf8')) as { tables: Record<string, number> };
      assert.deepEqual(restored.tables, manifest.tables);
      assert.deepEqual(await ledgerAggregates(db), aggregates);
      // Every table as before, but the audit log: the backups' own entries are written while they run.
      const now = await contentsOf(db);
      assert.deepEqual(now.migrations, before.migrations);
      for (const [table, count] of Object.entries(before.tables)) {
        if (table === 'audit_log') assert.ok(now.tables[table]! < count && now.tables[table]! > 0);
        else assert.equal(now.tables[table], count, table);
      }
      // The running service works on the restored database.
      const cards = ok(await c.admin.client.GET('/v1/cards', { params: { query: { limit: 100 } } }));
      assert.ok(cards.items.length >= 4);
      // A terminal's pull cursor from before the restore may be past the restored head: it resets
      // (change-log ids past the head will be used again) instead of skipping what comes next.
      const head = ok(await till.client.GET('/v1/sync/changes', { params: { query: { cursor: 0, limit: 1 } } })).head;
      const ahead = ok(await till.client.GET('/v1/sync/changes', { params: { query: { cursor: head + 5 } } }));
      assert.equal(ahead.reset, true);
      assert.equal(ok(await till.client.GET('/v1/sync/changes', { params: { query: { cursor: head } } })).reset, false);
    });

    it('refuses a backup whose file does not match its checksum, and one whose manifest lies', async () => {
      const c = central();
      const { config, db } = c.platform;
      const engine = backupEngine(config);
      const copy = mkdtempSync(join(tmpdir(), 'cinecard-damaged-'));
      try {
        cpSync(backupDirectory(config).path, copy, { recursive: true });
        const located = await locateBackup(join(copy, `${backup.id}.manifest.json`), backupDirectory(config));
        // One byte changed in the middle of the file.
        const bytes = readFileSync(located.file);
        bytes[Math.floor(bytes.length / 2)]! ^= 0xff;
        writeFileSync(located.file, bytes);
        await assert.rejects(restoreBackup(located, engine, db, { overwrite: engine.databaseName }), (e: CentralError) => {
          assert.equal(e.code, 'backup_checksum_mismatch');
          assert.match(e.localized('zh-CN'), /已损坏/);
          return true;
        });
        // A manifest promising other row counts: the trial restore catches it before the live database is touched.
        cpSync(join(backupDirectory(config).path, `${backup.id}.${engine.extension}`), located.file);
        const manifest = JSON.parse(readFileSync(located.manifestPath, 'utf8')) as { tables: Record<string, number> };
        manifest.tables['cards'] = (manifest.tables['cards'] ?? 0) + 1;
        writeFileSync(located.manifestPath, JSON.stringify(manifest));
        const lying = await locateBackup(located.manifestPath, backupDirectory(config));
        const rowsBefore = await db('cards').count({ n: '*' });
        await assert.rejects(restoreBackup(lying, engine, db, { overwrite: engine.databaseName }), (e: CentralError) => {
          assert.equal(e.code, 'backup_verification_failed');
          assert.match(e.message, /table cards has/);
          return true;
        });
        assert.deepEqual(await db('cards').count({ n: '*' }), rowsBefore);
      } finally {
        rmSync(copy, { recursive: true, force: true });
      }
    });

    /** Runs `central/main.ts` with this suite's configuration; resolves with its exit code and output. */
    async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
      const { config } = central().platform;
      const file = join(mkdtempSync(join(tmpdir(), 'cinecard-cli-')), 'config.json');
      writeFileSync(file, JSON.stringify({ dataDir: config.dataDir, databaseUrl: config.databaseUrl, jwtSecret: config.jwtSecret, backup: config.backup }));
      try {
        const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import=tsx', 'central/main.ts', '--config', file, ...args]);
        return { code: 0, stdout, stderr };
      } catch (error) {
        const e = error as { code: number; stdout: string; stderr: string };
        return { code: e.code, stdout: e.stdout, stderr: e.stderr };
      } finally {
        rmSync(dirname(file), { recursive: true, force: true });
      }
    }

    it('the restore command refuses a damaged backup with a clear message, and restores a sound one after saving the current database', async function () {
      this.timeout(120_000);
      const { config } = central().platform;
      const engine = backupEngine(config);
      const copy = mkdtempSync(join(tmpdir(), 'cinecard-damaged-'));
      try {
        cpSync(backupDirectory(config).path, copy, { recursive: true });
        const file = join(copy, `${backup.id}.${engine.extension}`);
        const bytes = readFileSync(file);
        bytes[100]! ^= 0x01;
        writeFileSync(file, bytes);
        const damaged = await cli(['restore', file, '--overwrite', engine.databaseName]);
        assert.equal(damaged.code, 1);
        assert.match(damaged.stderr, /is damaged: the SHA-256 of .* is [0-9a-f]{64}, its manifest says [0-9a-f]{64}\. It is not restored\./);
      } finally {
        rmSync(copy, { recursive: true, force: true });
      }
      const unconfirmed = await cli(['restore', backup.id]);
      assert.equal(unconfirmed.code, 1);
      assert.match(unconfirmed.stderr, new RegExp(`run the restore again with --overwrite ${engine.databaseName}`));
      const restored = await cli(['restore', backup.id, '--overwrite', engine.databaseName]);
      assert.equal(restored.code, 0, restored.stderr);
      assert.match(restored.stdout, /Saved the current database as .*pre-restore-/);
      assert.match(restored.stdout, new RegExp(`Restored ${backup.id} .* as the manifest says`));
      const saved = readdirSync(backupDirectory(config).path).filter((f) => f.startsWith('pre-restore-'));
      assert.equal(saved.length, 1);
      assert.equal(statSync(join(backupDirectory(config).path, saved[0]!)).mode & 0o777, 0o600);
      // Not a backup: the list and retention leave it alone.
      assert.ok(!ok(await central().admin.client.GET('/v1/backups')).items.some((b) => b.id.startsWith('pre-restore')));
    });

    it('is consistent while terminals keep uploading (the copy is one snapshot, and verifies)', async function () {
      this.timeout(120_000);
      const c = central();
      const cards = await soldCards(c, cinema.id, 2, 1000);
      const writer = await c.enrolTerminal(cinema.id);
      let termSeq = 0;
      let stop = false;
      const uploads = (async () => {
        for (let round = 1; !stop && round < 400; round += 1) {
          const ops = cards.map((card) => wireOp(writer, ++termSeq, card.cardNo, 2 + round, 1, 1000 - round));
          await upload(writer, ops);
        }
      })();
      try {
        await new Promise((r) => setTimeout(r, 100));
        const started = ok(await c.admin.client.POST('/v1/backups'));
        const ended = await waitForBackup(c, started.id);
        assert.equal(ended.status, 'verified', ended.error ?? '');
      } finally {
        stop = true;
        await uploads;
      }
      assert.ok(termSeq > 2, 'uploads ran during the backup');
    });

    it('restores from the off-site copy when the local backup directory is lost', async function () {
      this.timeout(120_000);
      const { config, db } = central().platform;
      const lost = mkdtempSync(join(tmpdir(), 'cinecard-lost-'));
      try {
        const located = await locateBackup(backup.id, new BackupDirectory(lost), offsiteTarget(config));
        assert.ok(located.file.startsWith(config.backup.offsite!.path));
        const engine = backupEngine(config);
        const restored = await restoreBackup(located, engine, db, { overwrite: engine.databaseName });
        assert.deepEqual(restored.tables, located.manifest.tables);
      } finally {
        rmSync(lost, { recursive: true, force: true });
      }
    });

    it('keeps half-copied off-site backups out of the off-site list', async () => {
      const { config } = central().platform;
      const offsite = offsiteTarget(config)!;
      const partial = join(config.backup.offsite!.path, 'cinecard-20200101T000000000Z.partial');
      cpSync(backupDirectory(config).path, partial, { recursive: true });
      assert.ok(existsSync(partial));
      assert.ok(!(await offsite.list()).some((id) => id.endsWith('.partial')));
    });
  },
  { backup: { offsite: { kind: 'directory', path: join(offsiteRoot, 'DB') } } },
);
