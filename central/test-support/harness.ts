/**
 * A real central service for tests: a fresh database (SQLite file or PostgreSQL), migrations, a
 * server on 127.0.0.1:0, and typed clients whose every response is checked against the spec.
 *
 *   describeCentral('cinemas', (central) => {
 *     it('creates one', async () => {
 *       const { data } = await central().admin.client.POST('/v1/cinemas', { body: {...} });
 *     });
 *   });
 *
 * runs the block once per database, as `cinemas [sqlite]` and `cinemas [postgres]`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { createCentralClient, type CentralClient, type Schemas } from '../client/index.ts';
import { parseConfig, type CentralConfig, type CentralConfigInput } from '../config.ts';
import { createLogger } from '../logging.ts';
import type { Role } from '../auth/permissions.ts';
import { startCentral, type RunningCentral } from '../service.ts';
import type { Platform } from '../platform.ts';
import { createAdmin } from '../users/bootstrap.ts';
import { testDatabases, type TestDatabase } from './databases.ts';
import { specValidator } from './spec-validator.ts';

/** A logged-in party: its token, a client carrying it, and who it is. */
export interface Session {
  readonly token: string;
  readonly client: CentralClient;
  readonly session: Schemas['Session'];
}

export interface EnrolledTerminal extends Session {
  readonly terminalId: string;
  readonly cinemaId: string;
  readonly secret: string;
}

export interface TestUser {
  readonly user: Schemas['User'];
  readonly password: string;
}

export class TestCentral {
  private counter = 0;

  private constructor(
    readonly database: TestDatabase,
    readonly running: RunningCentral,
    readonly admin: Session,
    /** The harness admin's password (`hq-root`). */
    readonly adminPassword: string,
    private readonly dropDatabase: () => Promise<void>,
    /** Every log line the service wrote (JSON), for tests about logging. */
    readonly logLines: readonly string[],
  ) {}

  static async start(database: TestDatabase, overrides: Partial<CentralConfigInput> = {}): Promise<TestCentral> {
    const scratch = await database.create();
    // Backups of this suite's database go to a folder of its own (a PostgreSQL suite's dataDir is shared).
    const backupDir = mkdtempSync(join(tmpdir(), 'cinecard-backups-'));
    const drop = async () => {
      rmSync(backupDir, { recursive: true, force: true });
      await scratch.drop();
    };
    const logLines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logLines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
        done();
      },
    });
    const config: CentralConfig = parseConfig({
      dataDir: scratch.settings.dataDir,
      ...(scratch.settings.databaseUrl ? { databaseUrl: scratch.settings.databaseUrl } : {}),
      host: '127.0.0.1',
      port: 0,
      jwtSecret: randomBytes(32).toString('hex'),
      logLevel: 'info',
      ...overrides,
      backup: { directory: backupDir, ...overrides.backup },
      // Tests log in many times from one address; the rate-limit test sets its own limit.
      login: { rateLimitMax: 100_000, ...overrides.login },
    });
    let running: RunningCentral | undefined;
    try {
      running = await startCentral(config, { log: createLogger(config.logLevel, sink) });
      const password = `admin-${randomBytes(8).toString('hex')}`;
      await createAdmin(running.platform, { username: 'hq-root', password, displayName: 'HQ root' });
      const admin = await TestCentral.loginAt(running.url, 'hq-root', password);
      return new TestCentral(database, running, admin, password, drop, logLines);
    } catch (error) {
      await running?.close();
      await drop();
      throw error;
    }
  }

  get url(): string {
    return this.running.url;
  }

  get platform(): Platform {
    return this.running.platform;
  }

  /** A client checking responses against the spec; with a token, authenticated. */
  client(token?: string): CentralClient {
    return createCentralClient(this.url, { token, fetch: specValidator.fetch() });
  }

  /** A name no other call in this run has used (codes, usernames). */
  unique(prefix: string): string {
    this.counter += 1;
    return `${prefix}${this.counter}${randomBytes(2).toString('hex')}`;
  }

  async createCinema(name = 'Test cinema'): Promise<Schemas['Cinema']> {
    return ok(await this.admin.client.POST('/v1/cinemas', { body: { code: this.unique('C'), name } }));
  }

  async enrolTerminal(cinemaId: string, name = 'Till'): Promise<EnrolledTerminal> {
    const code = ok(await this.admin.client.POST('/v1/cinemas/{cinemaId}/enrolment-codes', { params: { path: { cinemaId } } }));
    const credential = ok(await this.client().POST('/v1/terminals/enrol', { body: { code: code.code, name } }));
    const token = ok(await this.client().POST('/v1/auth/terminal-token', { body: { terminalId: credential.terminalId, secret: credential.secret } }));
    return { ...credential, token: token.accessToken, client: this.client(token.accessToken), session: token.session };
  }

  /** Creates a user (as the HQ admin) with a known password. */
  async createUser(userRoles: readonly Role[], cinemaId?: string): Promise<TestUser> {
    const password = `pw-${randomBytes(8).toString('hex')}`;
    const user = ok(
      await this.admin.client.POST('/v1/users', {
        body: { username: this.unique('u'), displayName: 'Test user', password, roles: [...userRoles], ...(cinemaId ? { cinemaId } : {}) },
      }),
    );
    return { user, password };
  }

  async login(username: string, password: string, terminal?: { token: string }): Promise<Session> {
    return TestCentral.loginAt(this.url, username, password, terminal?.token);
  }

  /**
   * A fresh user with `role`, logged in: HQ roles directly (or on `terminal` if given), cinema
   * roles on `terminal` (or on a new terminal of `cinemaId`).
   */
  async loginAs(role: Role, options: { cinemaId?: string; terminal?: EnrolledTerminal } = {}): Promise<Session & TestUser> {
    const hq = role === 'admin' || role === 'operator' || role === 'statistician';
    const cinemaId = hq ? undefined : (options.terminal?.cinemaId ?? options.cinemaId);
    if (!hq && !cinemaId) throw new Error(`loginAs(${role}) needs a cinemaId or a terminal`);
    const made = await this.createUser([role], cinemaId);
    const terminal = options.terminal ?? (hq ? undefined : await this.enrolTerminal(cinemaId!));
    return { ...made, ...(await this.login(made.user.username, made.password, terminal)) };
  }

  /** Stops the service and drops its database; a stop that hangs fails with what it waited for. */
  async close(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const hung = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const waits = this.logLines.filter((l) => l.includes('central is still stopping'));
        reject(new Error(`the central service did not stop within ${closeLimitMs / 1000} s: ${waits.at(-1) ?? 'nothing logged'}`));
      }, closeLimitMs);
    });
    try {
      await Promise.race([this.running.close(), hung]);
    } finally {
      clearTimeout(timer);
      await this.dropDatabase();
    }
  }

  private static async loginAt(url: string, username: string, password: string, terminalToken?: string): Promise<Session> {
    const client = createCentralClient(url, { token: terminalToken, fetch: specValidator.fetch() });
    const token = ok(await client.POST('/v1/auth/login', { body: { username, password } }));
    return { token: token.accessToken, client: createCentralClient(url, { token: token.accessToken, fetch: specValidator.fetch() }), session: token.session };
  }
}

/** The data of a successful openapi-fetch call (undefined for 204); a failure throws with the API's error. */
export function ok<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.response.ok) return result.data as T;
  throw new Error(`${result.response.status} from ${result.response.url}: ${JSON.stringify(result.error)}`);
}

/** A test central that has not stopped by then fails its suite's `after` (within mocha's 60 s). */
const closeLimitMs = 45_000;

/**
 * A `describe` per test database, each with its own fresh service. The callback gets a function
 * returning the running `TestCentral` (available from `before` on).
 */
export function describeCentral(
  title: string,
  body: (central: () => TestCentral, database: TestDatabase) => void,
  overrides: Partial<CentralConfigInput> = {},
): void {
  for (const database of testDatabases()) {
    describe(`${title} [${database.name}]`, function () {
      this.timeout(60_000);
      let central: TestCentral | undefined;
      before(async () => {
        central = await TestCentral.start(database, overrides);
      });
      after(async () => {
        await central?.close();
      });
      body(() => {
        if (!central) throw new Error('The central service is not started yet (use it inside before/it).');
        return central;
      }, database);
    });
  }
}
