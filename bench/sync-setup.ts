/**
 * What the sync benches share: a scratch database (SQLite file or PostgreSQL), set up through an
 * in-process central (migrations, admin, cinema, terminals, sold cards), then measured against
 * `central serve` in a child process on that database — so the simulated terminals in this
 * process do not share an event loop with the service they measure.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCentralClient, type CentralClient } from '../central/client/index.ts';
import { parseConfig, type CentralConfig } from '../central/config.ts';
import { createLogger } from '../central/logging.ts';
import { startCentral, type RunningCentral } from '../central/service.ts';
import { createAdmin } from '../central/users/bootstrap.ts';
import { testDatabases, type ScratchDatabase } from '../central/test-support/databases.ts';
import type { Dialect } from '../central/store/database.ts';
import { freePort, spawnCentral } from '../test-support/child-central.ts';

function ok<T>(r: { data?: T; error?: unknown; response: Response }): T {
  if (r.data !== undefined && r.response.ok) return r.data;
  throw new Error(`${r.response.status}: ${JSON.stringify(r.error)}`);
}

export interface BenchTerminal {
  readonly terminalId: string;
  readonly cinemaId: string;
  readonly token: string;
}

export interface SyncBench {
  readonly dialect: Dialect;
  readonly config: CentralConfig;
  /** The child central's URL (after {@link SyncBench.serve}). */
  url: string;
  readonly setup: RunningCentral;
  /** The HQ admin, logged in on the current `url`. */
  admin: CentralClient;
  readonly cinemaId: string;
  enrol(count: number): Promise<BenchTerminal[]>;
  /** `count` cards sold at the cinema (seq 2), with `uses` each; made by the API, sold in bulk in the database. */
  soldCards(count: number, uses: number): Promise<string[]>;
  /** Stops the in-process setup service and starts `central serve` as a child. */
  serve(): Promise<void>;
  /** CPU time (user + system, ms) the child central has used so far, all its threads (Linux /proc). */
  childCpuMs(): number | undefined;
  close(): Promise<void>;
}

export async function syncBench(dialect: Dialect): Promise<SyncBench> {
  const scratch: ScratchDatabase = await testDatabases().find((d) => d.name === dialect)!.create();
  const config = parseConfig({
    dataDir: scratch.settings.dataDir,
    ...(scratch.settings.databaseUrl ? { databaseUrl: scratch.settings.databaseUrl } : {}),
    host: '127.0.0.1',
    port: 0,
    jwtSecret: randomBytes(32).toString('hex'),
    accessTokenTtlSeconds: 3600,
    logLevel: 'silent',
    bodyLimitBytes: 8 * 1024 * 1024,
    login: { rateLimitMax: 1_000_000 },
  });
  const setup = await startCentral(config, { log: createLogger('silent') });
  const password = `bench-${randomBytes(8).toString('hex')}`;
  await createAdmin(setup.platform, { username: 'bench', password, displayName: 'Bench' });
  const login = ok(await createCentralClient(setup.url).POST('/v1/auth/login', { body: { username: 'bench', password } }));
  const admin = createCentralClient(setup.url, { token: login.accessToken });
  const cinema = ok(await admin.POST('/v1/cinemas', { body: { code: `B${randomBytes(3).toString('hex')}`, name: 'Bench cinema' } }));
  let child: ChildProcess | undefined;
  let setupOpen = true;

  const bench: SyncBench = {
    dialect,
    config,
    url: setup.url,
    setup,
    admin,
    cinemaId: cinema.id,
    async enrol(count) {
      const out: BenchTerminal[] = [];
      for (let i = 0; i < count; i += 50) {
        out.push(
          ...(await Promise.all(
            Array.from({ length: Math.min(50, count - i) }, async (_, k) => {
              const code = ok(await admin.POST('/v1/cinemas/{cinemaId}/enrolment-codes', { params: { path: { cinemaId: cinema.id } } }));
              const anon = createCentralClient(setup.url);
              const cred = ok(await anon.POST('/v1/terminals/enrol', { body: { code: code.code, name: `Bench till ${i + k}` } }));
              const token = ok(await anon.POST('/v1/auth/terminal-token', { body: { terminalId: cred.terminalId, secret: cred.secret } }));
              return { terminalId: cred.terminalId, cinemaId: cinema.id, token: token.accessToken };
            }),
          )),
        );
      }
      return out;
    },
    async soldCards(count, uses) {
      const type = ok(await admin.POST('/v1/card-types', { body: { name: `Bench ${randomBytes(3).toString('hex')}`, usesPerCard: uses, settlementPricePerUseFen: 3000, concessionValuePerUseFen: 1000 } }));
      const prefix = String(Date.now() % 1e7);
      const numbers: string[] = [];
      for (let i = 0; i < count; i += 1000) {
        const cards = Array.from({ length: Math.min(1000, count - i) }, (_, k) => {
          const n = i + k;
          return { cardNo: `${prefix}${String(n).padStart(7, '0')}`, uid: (0x10000000 + n).toString(16).toUpperCase() + randomBytes(3).toString('hex').toUpperCase() };
        });
        ok(await admin.POST('/v1/card-batches', { body: { cardTypeId: type.id, cards } }));
        numbers.push(...cards.map((c) => c.cardNo));
      }
      const now = new Date().toISOString();
      await setup.platform.db('cards').whereIn('card_type_id', [type.id]).update({
        state: 'active', cinema_id: cinema.id, activated_at: now, issued_at: now, applied_seq: 2, max_seq: 2, issue_from_seq: 2,
      });
      return numbers;
    },
    async serve() {
      await setup.close();
      setupOpen = false;
      const port = await freePort();
      const configFile = join(tmpdir(), `bench-central-${process.pid}.json`);
      writeFileSync(configFile, JSON.stringify({ login: { rateLimitMax: 1_000_000 }, bodyLimitBytes: 8 * 1024 * 1024, accessTokenTtlSeconds: 3600 }));
      child = await spawnCentral(
        port,
        {
          CINECARD_JWT_SECRET: config.jwtSecret,
          CINECARD_DATA_DIR: config.dataDir,
          CINECARD_CONFIG: configFile,
          ...(config.databaseUrl ? { DATABASE_URL: config.databaseUrl } : {}),
        },
        { nodeArgs: process.env['BENCH_CENTRAL_NODE_ARGS']?.split(' ').filter(Boolean) ?? [] },
      );
      bench.url = `http://127.0.0.1:${port}`;
      const relogin = ok(await createCentralClient(bench.url).POST('/v1/auth/login', { body: { username: 'bench', password } }));
      bench.admin = createCentralClient(bench.url, { token: relogin.accessToken });
    },
    childCpuMs() {
      if (child?.pid === undefined) return undefined;
      try {
        // Fields 14 and 15 of /proc/<pid>/stat (after the parenthesised name): utime, stime in ticks.
        const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
      } catch {
        return undefined;
      }
    },
    async close() {
      if (child && child.exitCode === null) {
        const exited = new Promise((r) => child!.once('exit', r));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        child.kill('SIGKILL');
      }
      if (setupOpen) await setup.close();
      await scratch.drop();
    },
  };
  return bench;
}
