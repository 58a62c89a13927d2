/**
 * What every module is given: configuration, the database, the clock, the logger, tokens, the
 * authenticator and the audit log. Built once, in `createPlatform`; modules build their own stores
 * and services from it.
 */
import type { FastifyInstance } from 'fastify';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { CentralConfig } from './config.ts';
import { AuditLog } from './audit/audit-log.ts';
import { Authenticator } from './auth/authenticator.ts';
import { TokenService } from './auth/tokens.ts';
import { permissionTable } from './auth/permissions.ts';
import { createDatabase, dialectOf, type Dialect } from './store/database.ts';
import { type Clock, systemClock } from './store/ids.ts';
import { TerminalStore } from './terminals/terminal-store.ts';
import { UserStore } from './users/user-store.ts';
import type { Route } from './http/route.ts';

export interface Platform {
  readonly config: CentralConfig;
  readonly db: Knex;
  readonly dialect: Dialect;
  readonly clock: Clock;
  readonly log: Logger;
  readonly tokens: TokenService;
  readonly authenticator: Authenticator;
  readonly audit: AuditLog;
}

/**
 * A capability of the central service: a folder with its routes (and its migrations in
 * `central/store/migrations/`). Listed once in `central/modules.ts`.
 */
export interface CentralModule {
  readonly name: string;
  /** The module's JSON operations, each one in `spec/openapi.yaml`. */
  routes(platform: Platform): readonly Route[];
  /**
   * What is not a JSON operation — a WebSocket endpoint, a timer, a LISTEN connection — set up once
   * when the server is built, after every module's routes. Stop it in `app.addHook('onClose', …)`.
   */
  install?(app: FastifyInstance, platform: Platform): Promise<void> | void;
}

export function createPlatform(config: CentralConfig, log: Logger, clock: Clock = systemClock): Platform {
  const db = createDatabase(config, { warn: (m) => log.warn(m), error: (m) => log.error(m) });
  const tokens = new TokenService(config.jwtSecret, config.accessTokenTtlSeconds);
  return {
    config,
    db,
    dialect: dialectOf(db),
    clock,
    log,
    tokens,
    authenticator: new Authenticator(tokens, new UserStore(db), new TerminalStore(db), permissionTable(config.permissions)),
    audit: new AuditLog(db, clock),
  };
}
