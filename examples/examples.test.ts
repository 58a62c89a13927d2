/**
 * Every example runs in CI against a real central started from the example configurations:
 * - SQLite (`config/central-sqlite.json`): the vendor adapter's till and the HQ automation script
 *   run as child processes (`tsx examples/…`), and their effects are checked through central's API
 *   (the card's history, the card type and batch, the exported settlement against the API's);
 * - PostgreSQL (`config/central-pg-a.json` + `central-pg-b.json`, a fresh database on the server at
 *   127.0.0.1:5432): both instances serve one database, and a blacklist change made through one
 *   reaches a till connected to the other.
 * Central runs with its working directory in a temp folder, so the files' relative `./data/…`
 * paths land there. Every process started here is stopped in `after`, by its own handle.
 */
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ExcelJS from 'exceljs';
import pg from 'pg';
import { InProcessCardReader, demoCardKeys } from '../adapters/index.ts';
import { createCentralClient, type CentralClient } from '../central/client/index.ts';
import { postgresAdminUrl } from '../central/test-support/databases.ts';
import { freePort } from '../host-mock/demo/central-process.ts';
import { activate, type PluginHandle } from '../plugin/index.ts';
import { CardCacheToken } from '../plugin/tokens.ts';
import { exampleConfig, loadCentralConfig, loadTerminalConfig } from './config/validate.ts';
import { NovaHostSale, NovaHostSession, NovaHostUi } from './vendor-adapter/adapter.ts';
import { NovaPos } from './vendor-adapter/pos-sdk.ts';

const repo = fileURLToPath(new URL('..', import.meta.url));
const centralMain = join(repo, 'central/main.ts');
const tsx = import.meta.resolve('tsx');
const ADMIN = { username: 'admin', password: 'examples-admin-pass' };

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** The example's last stdout line, parsed (each example ends with one JSON line). */
  readonly result: any;
}

/** Runs an example as a child process, as a reader of the README would. */
function runExample(file: string, args: string[], env: NodeJS.ProcessEnv = {}, cwd = repo): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', tsx, join(repo, 'examples', file), ...args], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.once('error', reject);
    child.once('close', (status) => {
      clearTimeout(timer);
      const last = stdout.trim().split('\n').at(-1) ?? '';
      let result: unknown;
      try {
        result = JSON.parse(last);
      } catch {
        result = undefined;
      }
      resolve({ status, stdout, stderr, result });
    });
  });
}

const explain = (r: Run) => `exit ${r.status}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

/** A central started from an example configuration file, in its own working directory. */
class CentralChild {
  private child: ChildProcess | undefined;
  private exited: Promise<unknown> | undefined;
  private log = '';
  constructor(readonly configFile: string, readonly cwd: string, readonly env: NodeJS.ProcessEnv) {}

  get origin(): string {
    return `http://127.0.0.1:${this.env['PORT']}`;
  }

  /** `central/main.ts --config FILE <command>` once, e.g. create-admin. */
  command(args: string[], extraEnv: NodeJS.ProcessEnv = {}): void {
    const r = spawnSync(process.execPath, ['--import', tsx, centralMain, '--config', this.configFile, ...args], { cwd: this.cwd, env: { ...process.env, ...this.env, ...extraEnv }, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`central ${args[0]} failed: ${r.stderr || r.stdout}`);
  }

  async start(): Promise<void> {
    const child = (this.child = spawn(process.execPath, ['--import', tsx, centralMain, '--config', this.configFile, 'serve'], { cwd: this.cwd, env: { ...process.env, ...this.env }, stdio: ['ignore', 'ignore', 'pipe'] }));
    child.stderr!.on('data', (d: Buffer) => (this.log = (this.log + d.toString()).slice(-4000)));
    this.exited = new Promise((r) => child.once('exit', r));
    const until = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`central (${this.configFile}) exited ${child.exitCode}: ${this.log}`);
      try {
        if ((await fetch(`${this.origin}/v1/health`)).ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > until) throw new Error(`central (${this.configFile}) did not answer on ${this.origin}: ${this.log}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(timer);
  }
}

async function ok<T>(what: string, p: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const r = await p;
  if (!r.response.ok || r.data === undefined) throw new Error(`${what}: HTTP ${r.response.status} ${JSON.stringify(r.error)}`);
  return r.data;
}

async function adminClient(origin: string): Promise<CentralClient> {
  let token: string | undefined;
  const api = createCentralClient(origin, { token: () => token });
  token = (await ok('log in', api.POST('/v1/auth/login', { body: ADMIN }))).accessToken;
  return api;
}

/** Today in the chain's time zone, and the day before (the settlement period the test asks for). */
function chainDay(offsetDays = 0): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(Date.now() + offsetDays * 86_400_000));
}

async function waitFor<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('examples/ against a started central', function () {
  this.timeout(240_000);

  it('config: every example configuration loads through the loader its program uses', async () => {
    const terminal = loadTerminalConfig();
    assert.equal(terminal.userMode, 'host_operator');
    assert.equal(terminal.terminal.chainId, 1, 'the chain id the example cards are made with');
    assert.ok(terminal.central && terminal.central.terminalSecret.startsWith('DEMO'), 'the secret is marked as a demo value');
    const sqlite = loadCentralConfig('central-sqlite.json');
    assert.equal(sqlite.databaseUrl, undefined, 'SQLite: no database URL');
    const [a, b] = [loadCentralConfig('central-pg-a.json'), loadCentralConfig('central-pg-b.json')];
    assert.equal(a.databaseUrl, b.databaseUrl, 'both instances on one database');
    assert.notEqual(a.port, b.port);
    assert.equal(a.jwtSecret, b.jwtSecret, 'a token from one instance is honoured by the other');
    assert.notEqual(a.backup.enabled, b.backup.enabled, 'scheduled backups on one instance only');
    for (const c of [sqlite, a, b]) assert.match(c.jwtSecret, /^DEMO/);
    const run = await runExample('run.ts', ['config']); // `npm run example -- config`
    assert.equal(run.status, 0, explain(run));
    assert.match(run.stdout, /central-pg-b\.json: PostgreSQL/);
    assert.equal((await runExample('run.ts', ['no-such-example'])).status, 2);
  });

  describe('on SQLite (config/central-sqlite.json)', () => {
    let dir: string;
    let central: CentralChild;
    let api: CentralClient;
    let cinemaId: string;

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'cinecard-examples-'));
      central = new CentralChild(exampleConfig('central-sqlite.json'), dir, { PORT: String(await freePort()), CINECARD_LOG_LEVEL: 'warn' });
      central.command(['create-admin', '-u', ADMIN.username, '-n', 'Examples admin'], { CINECARD_ADMIN_PASSWORD: ADMIN.password });
      await central.start();
      api = await adminClient(central.origin);
      // What the examples need that a chain has already: a cinema with its redemption rules.
      const cinema = await ok('create cinema', api.POST('/v1/cinemas', { body: { code: 'EX-101', name: '示例影城' } }));
      cinemaId = cinema.id;
      await ok('create rule', api.POST('/v1/cinemas/{cinemaId}/redemption-rules', { params: { path: { cinemaId } }, body: { kind: 'ticket', name: '每票1次', usesPerTicket: 1, priority: 10 } }));
    });

    after(async () => {
      await central?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    const hqEnv = () => ({ CINECARD_CENTRAL_URL: central.origin, CINECARD_HQ_USER: ADMIN.username, CINECARD_HQ_PASSWORD: ADMIN.password });
    let redeemed: { cardNo: string; opId: string; terminalId: string } | undefined;

    it('vendor-adapter: a NovaPOS till enrols, sells a card, redeems 2 uses for 2 tickets, and central has the redemption', async () => {
      const code = (await ok('enrolment code', api.POST('/v1/cinemas/{cinemaId}/enrolment-codes', { params: { path: { cinemaId } } }))).code;
      const run = await runExample('vendor-adapter/main.ts', ['--dir', mkdtempSync(join(dir, 'till-'))], { ...hqEnv(), CINECARD_ENROLMENT_CODE: code });
      assert.equal(run.status, 0, explain(run));
      assert.match(run.stdout, /pre-filled: ticket × 2/);
      const { cardNo, opId, terminalId } = run.result as { cardNo: string; opId: string; terminalId: string };
      // Checked here, not taken from the example's word: the card's history at central.
      const history = await ok('history', api.GET('/v1/cards/{cardNo}/history', { params: { path: { cardNo } } }));
      const redemption = history.items.find((e) => e.opId === opId);
      assert.ok(redemption, JSON.stringify(history.items));
      assert.equal(redemption.kind, 'redeem');
      assert.equal(redemption.usesDelta, -2);
      assert.equal(redemption.consumptionType, 'ticket');
      assert.equal(redemption.remainingAfter, 8);
      assert.equal(redemption.terminalId, terminalId);
      assert.equal(redemption.cinemaId, cinemaId);
      assert.deepEqual(history.items.map((e) => e.kind), ['activate', 'redeem'], 'sold at the till, then redeemed');
      assert.equal(history.card.state, 'active');
      assert.equal(history.card.remainingUses, 8);
      redeemed = { cardNo, opId, terminalId };
    });

    it('hq-automation: card type (idempotent), a made batch read back, settlement exported to .xlsx whose totals are the API\'s', async () => {
      assert.ok(redeemed, 'runs after the vendor example, so the settlement has a redemption');
      // The card maker's hand-over file.
      const base = `55${String(Date.now()).slice(-8)}`;
      const handOver = [0, 1, 2].map((i) => ({ cardNo: `${base}${i}`, uid: randomBytes(4).toString('hex').toUpperCase() }));
      const batchFile = join(dir, 'batch.csv');
      writeFileSync(batchFile, ['cardNo,uid', ...handOver.map((c) => `${c.cardNo},${c.uid}`)].join('\n'));
      const out = join(dir, 'settlement.xlsx');
      const [from, to] = [chainDay(-1), chainDay(1)];
      const run = await runExample('hq-automation/hq-automation.ts', ['--batch', batchFile, '--out', out, '--from', from, '--to', to], hqEnv(), dir);
      assert.equal(run.status, 0, explain(run));
      const result = run.result as { cardTypeId: string; batchId: string };

      const types = (await ok('card types', api.GET('/v1/card-types'))).items.filter((t) => t.id === result.cardTypeId);
      assert.equal(types.length, 1);
      for (const c of handOver) {
        const card = await ok('card', api.GET('/v1/cards/{cardNo}', { params: { path: { cardNo: c.cardNo } } }));
        assert.deepEqual([card.uid, card.state, card.batchId, card.cardTypeId], [c.uid, 'made', result.batchId, result.cardTypeId]);
      }

      const settlement = await ok('settlement', api.GET('/v1/reports/settlement', { params: { query: { from, to } } }));
      assert.ok(settlement.totals.usesRedeemed >= 2, JSON.stringify(settlement.totals));
      const workbook = new ExcelJS.Workbook();
      await workbook.xlsx.readFile(out);
      const sheet = workbook.worksheets[0]!;
      const values = (n: number) => (sheet.getRow(n).values as unknown[]).slice(1);
      let headerRow = 1;
      while (!values(headerRow).includes('影院') && headerRow < 10) headerRow++;
      const header = values(headerRow);
      const total = values(sheet.rowCount);
      // The totals row holds formulas (SUM over the lines) with their computed results.
      const cell = (v: unknown) => Number(typeof v === 'object' && v !== null && 'result' in v ? (v as { result: unknown }).result : v);
      const column = (name: string) => {
        const i = header.indexOf(name);
        assert.ok(i >= 0, `${name} in ${JSON.stringify(header)}`);
        return cell(total[i]);
      };
      assert.equal(total[0], '合计');
      assert.equal(sheet.rowCount - headerRow - 1, settlement.rows.length, 'one row per settlement line, then the totals');
      const t = settlement.totals;
      assert.deepEqual(
        [column('售卡张数'), column('核销笔数'), column('核销次数'), Math.round(column('结算金额（元）') * 100), Math.round(column('应付影院净额（元）') * 100)],
        [t.cardsSold, t.redemptions, t.usesRedeemed, t.settlementFen, t.netFen],
      );

      // Run again: the card type is found, not created twice; a fresh demo batch is registered.
      const again = await runExample('hq-automation/hq-automation.ts', ['--out', join(dir, 'again.xlsx')], hqEnv(), dir);
      assert.equal(again.status, 0, explain(again));
      assert.equal((again.result as { cardTypeId: string }).cardTypeId, result.cardTypeId);
    });

    it('hq-automation: an API error ends it with exit 1 and central\'s words', async () => {
      const run = await runExample('hq-automation/hq-automation.ts', ['--out', join(dir, 'never.xlsx')], { ...hqEnv(), CINECARD_HQ_PASSWORD: 'not-the-password' }, dir);
      assert.equal(run.status, 1, explain(run));
      assert.match(run.stderr, /^FAILED: logging in to .* failed: HTTP 401 credentials_invalid/m);
    });
  });

  describe('two central instances on one PostgreSQL (config/central-pg-a.json + central-pg-b.json)', () => {
    const database = `cinecard_examples_${process.pid}_${randomBytes(3).toString('hex')}`;
    let dir: string;
    let a: CentralChild;
    let b: CentralChild;
    let plugin: PluginHandle | undefined;

    const withAdmin = async (sql: string) => {
      const client = new pg.Client({ connectionString: postgresAdminUrl });
      await client.connect();
      try {
        await client.query(sql);
      } finally {
        await client.end();
      }
    };

    before(async () => {
      await withAdmin(`CREATE DATABASE ${database}`);
      const url = new URL(postgresAdminUrl);
      url.pathname = `/${database}`;
      dir = mkdtempSync(join(tmpdir(), 'cinecard-examples-pg-'));
      // The files' database URL names the chain's server; here the scratch database stands in for it.
      const env = { DATABASE_URL: url.toString(), CINECARD_LOG_LEVEL: 'warn' };
      a = new CentralChild(exampleConfig('central-pg-a.json'), dir, { ...env, PORT: String(await freePort()) });
      b = new CentralChild(exampleConfig('central-pg-b.json'), dir, { ...env, PORT: String(await freePort()) });
      a.command(['create-admin', '-u', ADMIN.username, '-n', 'Examples admin'], { CINECARD_ADMIN_PASSWORD: ADMIN.password });
      await a.start();
      await b.start();
    });

    after(async () => {
      await plugin?.dispose();
      await a?.stop();
      await b?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
      await withAdmin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    });

    it('both instances are healthy on the same PostgreSQL database', async () => {
      for (const c of [a, b]) {
        const health = (await (await fetch(`${c.origin}/v1/health`)).json()) as { status: string; database: string };
        assert.deepEqual([health.status, health.database], ['ok', 'postgres']);
      }
      // The same admin (created through A's database) logs in at B.
      await adminClient(b.origin);
    });

    it('a blacklist change made through instance A reaches a NovaPOS till connected to instance B', async () => {
      const hqA = await adminClient(a.origin);
      const cinema = await ok('cinema', hqA.POST('/v1/cinemas', { body: { code: 'EX-PG', name: '示例影城（PG）' } }));
      const type = await ok('card type', hqA.POST('/v1/card-types', { body: { name: 'PG 示例卡', usesPerCard: 10, settlementPricePerUseFen: 3000, concessionValuePerUseFen: 3000 } }));
      const cardNo = `44${String(Date.now()).slice(-8)}`;
      await ok('batch', hqA.POST('/v1/card-batches', { body: { cardTypeId: type.id, cards: [{ cardNo, uid: randomBytes(4).toString('hex').toUpperCase() }] } }));
      const code = (await ok('enrolment code', hqA.POST('/v1/cinemas/{cinemaId}/enrolment-codes', { params: { path: { cinemaId: cinema.id } } }))).code;
      const enrolled = await ok('enrol at B', createCentralClient(b.origin).POST('/v1/terminals/enrol', { body: { code, name: 'NovaPOS at B' } }));

      // The till: the example terminal configuration, pointed at instance B only.
      const file = loadTerminalConfig();
      const pos = new NovaPos({ workstationId: 'NOVA-PG', staff: [], downloadsDir: join(dir, 'downloads') });
      plugin = await activate(
        { cardReader: new InProcessCardReader(), cardKeys: demoCardKeys(), ui: new NovaHostUi(pos), session: new NovaHostSession(pos), sale: new NovaHostSale(pos) },
        {
          ...file,
          dbFile: join(dir, 'terminal.sqlite'),
          terminal: { ...file.terminal, terminalId: enrolled.terminalId, cinemaId: enrolled.cinemaId },
          central: { ...file.central!, urls: [b.origin], terminalSecret: enrolled.secret },
        },
      );
      await plugin.sync.syncNow();
      const cards = plugin.resolve(CardCacheToken);
      assert.equal(await cards.isBlacklisted(cardNo), false);
      // Wait for B's poke socket, so the change travels by NOTIFY → B → poke, not by the 60 s pull.
      await waitFor('the till to be online at B', async () => plugin!.sync.status.lastSuccessAt !== null && !plugin!.sync.status.offline, 10_000);

      await ok('blacklist through A', hqA.POST('/v1/cards/{cardNo}/blacklist', { params: { path: { cardNo } }, body: { reason: 'lost (examples test)' } }));
      await waitFor('the blacklist change at the till connected to B', () => cards.isBlacklisted(cardNo), 15_000);
    });
  });
});
