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
        await app.close();
        await platform.db.destroy();
      },
    };
  } catch (error) {
    await platform.db.destroy();
    throw error;
  }
}
