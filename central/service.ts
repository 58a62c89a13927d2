/** Starting and stopping a central service: used by `main.ts serve` and by the test harness. */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { CentralConfig } from './config.ts';
import { buildServer } from './http/server.ts';
import { centralModules } from './modules.ts';
import { type CentralModule, type Platform, createPlatform } from './platform.ts';
import { migrateToLatest } from './store/migration-source.ts';
import type { Clock } from './store/ids.ts';

export interface RunningCentral {
  readonly platform: Platform;
  readonly app: FastifyInstance;
  /** `http(s)://host:port` it listens on. */
  readonly url: string;
  close(): Promise<void>;
}

export interface StartOptions {
  readonly log: Logger;
  readonly modules?: readonly CentralModule[];
  readonly clock?: Clock;
  /** Run pending migrations first (default true). */
  readonly migrate?: boolean;
}

/** How often a stop that has not ended logs what it waits for. */
const stopWatchMs = 10_000;

/** What a stop may be waiting for: open HTTP connections and the pool's connections in use. */
function stoppingState(app: FastifyInstance, platform: Platform): Record<string, number | undefined> {
  const pool = (platform.db.client as { pool?: { numUsed(): number; numFree(): number; numPendingAcquires(): number; numPendingCreates(): number } }).pool;
  const server = app.server as unknown as { _connections?: number };
  return {
    httpConnections: server._connections,
    poolUsed: pool?.numUsed(),
    poolFree: pool?.numFree(),
    poolPendingAcquires: pool?.numPendingAcquires(),
    poolPendingCreates: pool?.numPendingCreates(),
  };
}

export async function startCentral(config: CentralConfig, options: StartOptions): Promise<RunningCentral> {
  const platform = createPlatform(config, options.log, options.clock);
  try {
    if (options.migrate !== false) await migrateToLatest(platform.db);
    const app = await buildServer(platform, options.modules ?? centralModules);
    await app.listen({ host: config.host, port: config.port });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const host = config.host.includes(':') ? `[${config.host}]` : config.host;
    return {
      platform,
      app,
      url: `${config.tls?.certFile ? 'https' : 'http'}://${host}:${port}`,
      async close() {
        // A stop that hangs says what it waits for: the HTTP side (requests, sockets, a backup
        // finishing) or the database pool (a connection not given back).
        let waitingFor = 'http';
        const watch = setInterval(() => platform.log.warn({ waitingFor, ...stoppingState(app, platform) }, 'central is still stopping'), stopWatchMs);
        watch.unref();
        try {
          await app.close();
          waitingFor = 'database';
          await platform.db.destroy();
        } finally {
          clearInterval(watch);
        }
      },
    };
  } catch (error) {
    await platform.db.destroy();
    throw error;
  }
}
