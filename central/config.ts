/**
 * The central service's configuration: a JSON file (optional) overlaid by the environment, then
 * validated. A bad configuration stops the service with a message naming each wrong setting.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { permissions, roles } from './auth/permissions.ts';
import { isTimeZone } from './reports/chain-calendar.ts';

const port = z.coerce.number().int().min(0).max(65535);

export const CentralConfigSchema = z.strictObject({
  /** Folder for the SQLite database file (and, by default, backups). */
  dataDir: z.string().min(1).default('./data'),
  /** `postgres://…` to use PostgreSQL; absent → SQLite in `dataDir`. */
  databaseUrl: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must start with postgres:// or postgresql://')
    .optional(),
  host: z.string().min(1).default('127.0.0.1'),
  port: port.default(8480),
  /** Secret for signing access tokens (HS256); at least 32 characters. */
  jwtSecret: z.string().min(32, 'must be at least 32 characters long'),
  accessTokenTtlSeconds: z.coerce.number().int().min(60).max(86_400).default(900),
  /** How long a user's login session lasts, refreshing its access tokens (a shift: 12 h). */
  refreshTokenTtlSeconds: z.coerce.number().int().min(300).max(30 * 86_400).default(12 * 3600),
  enrolmentCodeTtlSeconds: z.coerce.number().int().min(60).max(7 * 86_400).default(86_400),
  login: z
    .strictObject({
      /** Consecutive failed logins that lock an account. */
      maxFailedAttempts: z.number().int().min(1).max(100).default(5),
      lockoutSeconds: z.number().int().min(1).max(86_400).default(900),
      /** Per client address, over login, terminal-token and enrol. */
      rateLimitMax: z.number().int().min(1).default(60),
      rateLimitWindowSeconds: z.number().int().min(1).default(60),
    })
    .prefault({}),
  /** The fewest uses a card may carry (card types, batches, re-issues); the seed spec says 10. */
  minUsesPerCard: z.number().int().min(1).max(10_000).default(10),
  /**
   * Behind a reverse proxy (TLS terminated by nginx…): true, or the proxy's address(es), so client
   * addresses — which the login rate limit counts by — come from X-Forwarded-For.
   */
  trustProxy: z.union([z.boolean(), z.string().min(1)]).default(false),
  bodyLimitBytes: z.number().int().min(1024).max(64 * 1024 * 1024).default(1024 * 1024),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /**
   * Changes to who may do what (DESIGN §5 are the defaults): a role, or `terminal`, named here gets
   * exactly the permissions listed.
   */
  permissions: z.partialRecord(z.enum([...roles, 'terminal']), z.array(z.enum(permissions))).optional(),
  /**
   * HTTPS. With `certFile` + `keyFile` the service speaks HTTPS (and WSS) only. `required: true` also
   * refuses any request that did not reach it over TLS: without a certificate it must sit behind a
   * TLS-terminating proxy (`trustProxy`), and a request whose `X-Forwarded-Proto` is not `https` is
   * refused with 403 `https_required`.
   */
  tls: z
    .strictObject({
      certFile: z.string().min(1).optional(),
      keyFile: z.string().min(1).optional(),
      required: z.boolean().default(false),
    })
    .optional(),
  /** Backups of the central database (`spec/operations.md`). */
  backup: z
    .strictObject({
      /** Run backups on the schedule (the `backup` command and the API work either way). */
      enabled: z.boolean().default(true),
      /** Minutes from one backup's start to the next one's. */
      intervalMinutes: z.number().int().min(1).max(7 * 1440).default(1440),
      /** The local backup directory; default `<dataDir>/backups`. */
      directory: z.string().min(1).optional(),
      /** The off-site copy: a second directory, normally a mounted volume of another machine. */
      offsite: z.strictObject({ kind: z.literal('directory'), path: z.string().min(1) }).optional(),
      /** Keep at most this many good backups (local and off-site each)… */
      keepCount: z.number().int().min(1).max(10_000).default(14),
      /** …and none older than this many days — but never the newest verified one. */
      keepDays: z.number().int().min(1).max(3650).default(30),
      /** Restore each new backup into a scratch database and check it. */
      verify: z.boolean().default(true),
      /** Folder of pg_dump / pg_restore / psql (default: found on PATH). */
      postgresBinDir: z.string().min(1).optional(),
    })
    .prefault({}),
  /** The sync hub (`spec/sync.md`). */
  sync: z
    .strictObject({
      /** Blacklist a card when the shadow ledger raises a fraud alert on it (clone, replay, two UIDs). */
      hotlistOnFraud: z.boolean().default(true),
      /** Change-log rows older than this are pruned; a terminal behind them resets to a snapshot. */
      retentionDays: z.number().int().min(1).max(3650).default(30),
      /** WebSocket ping interval; a peer that misses a pong is dropped. */
      pingIntervalMs: z.number().int().min(100).max(600_000).default(30_000),
      /** A socket with more than this queued is skipped for pokes (a slow reader), not buffered. */
      maxBufferedBytes: z.number().int().min(1024).max(64 * 1024 * 1024).default(64 * 1024),
    })
    .prefault({}),
  /**
   * The Prometheus endpoint `GET /metrics` (`spec/operations.md` "Monitoring"). With a `token`, a
   * scrape must send `Authorization: Bearer <token>`; without one, only this machine (a loopback
   * peer not relayed by a proxy) may scrape.
   */
  metrics: z
    .strictObject({
      enabled: z.boolean().default(true),
      token: z.string().min(16, 'must be at least 16 characters long').optional(),
    })
    .prefault({}),
  /** Statistics and settlement (`central/reports/`). */
  reports: z
    .strictObject({
      /**
       * The chain's time zone (IANA name): report days run from local midnight to midnight. Changing
       * it recomputes the daily rollup at the next start.
       */
      timeZone: z.string().refine(isTimeZone, 'must be an IANA time zone such as Asia/Shanghai').default('Asia/Shanghai'),
    })
    .prefault({}),
});

export type CentralConfig = z.output<typeof CentralConfigSchema>;

/** Rules between settings that one key's schema cannot see. */
function crossChecks(config: CentralConfig): string[] {
  const problems: string[] = [];
  const tls = config.tls;
  if (tls && (tls.certFile === undefined) !== (tls.keyFile === undefined)) {
    problems.push('  - tls: give both certFile and keyFile, or neither');
  }
  if (tls?.required && !tls.certFile && config.trustProxy === false) {
    problems.push(
      '  - tls.required: plain HTTP is refused, so give tls.certFile and tls.keyFile, or run behind a TLS-terminating proxy and set trustProxy',
    );
  }
  return problems;
}
export type CentralConfigInput = z.input<typeof CentralConfigSchema>;

/** Environment variables and the setting each one sets. */
const environment: Record<string, keyof CentralConfigInput> = {
  CINECARD_DATA_DIR: 'dataDir',
  DATABASE_URL: 'databaseUrl',
  HOST: 'host',
  PORT: 'port',
  CINECARD_JWT_SECRET: 'jwtSecret',
  CINECARD_ACCESS_TOKEN_TTL: 'accessTokenTtlSeconds',
  CINECARD_LOG_LEVEL: 'logLevel',
};

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Validates raw settings; the error lists every wrong setting with what is expected. */
export function parseConfig(raw: unknown, source = 'configuration'): CentralConfig {
  const result = CentralConfigSchema.safeParse(raw);
  const lines = result.success
    ? crossChecks(result.data)
    : result.error.issues.map((issue) => `  - ${issue.path.join('.') || '(top level)'}: ${issue.message}`);
  if (result.success && lines.length === 0) return result.data;
  throw new ConfigError(`The ${source} is not valid:\n${lines.join('\n')}`);
}

/** Reads the optional JSON file, lays the environment over it and validates the result. */
export function loadConfig(file: string | undefined, env: NodeJS.ProcessEnv = process.env): CentralConfig {
  let fromFile: Record<string, unknown> = {};
  if (file) {
    const path = resolve(file);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      throw new ConfigError(`Cannot read the configuration file ${path}: ${(error as Error).message}`);
    }
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        throw new Error('it must hold a JSON object');
      }
      fromFile = parsed as Record<string, unknown>;
    } catch (error) {
      throw new ConfigError(`The configuration file ${path} is not valid JSON: ${(error as Error).message}`);
    }
  }
  const fromEnv: Record<string, string> = {};
  for (const [name, key] of Object.entries(environment)) {
    const value = env[name];
    if (value !== undefined && value !== '') fromEnv[key] = value;
  }
  // A secret kept out of the file: the metrics token (the one nested setting the environment sets).
  const metricsToken = env['CINECARD_METRICS_TOKEN'];
  const nested: Record<string, unknown> = {};
  if (metricsToken) nested['metrics'] = { ...(fromFile['metrics'] as object | undefined), token: metricsToken };
  const sources = [file && `file ${file}`, (Object.keys(fromEnv).length > 0 || metricsToken) && 'environment']
    .filter(Boolean)
    .join(' + ');
  return parseConfig({ ...fromFile, ...fromEnv, ...nested }, `configuration (${sources || 'defaults'})`);
}
