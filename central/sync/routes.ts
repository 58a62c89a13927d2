/**
 * The sync hub as a central module: batch upload, change-log pull, snapshot, health, fraud alerts
 * and parked ops over HTTP; the poke socket, the PostgreSQL LISTEN connection and change-log
 * pruning installed beside them (`spec/sync.md`).
 */
import { z } from 'zod';
import type { operations } from '../client/schema.ts';
import { defineRoute } from '../http/route.ts';
import { id, specSchema } from '../http/validation.ts';
import type { CentralModule } from '../platform.ts';
import { CinemaStore } from '../cinemas/cinema-store.ts';
import { cardNo, cardRegistryOf } from '../cards/routes.ts';
import { RedemptionRules } from '../rules/redemption-rules.ts';
import { isoTime } from '../store/ids.ts';
import { changeLogCommits, databaseKey, logPosition, pruneChangeLog, readBlacklistRows, type LogPosition } from './change-log.ts';
import { SyncBatchBody, SyncIngest } from './ingest.ts';
import { SyncFeed } from './sync-feed.ts';
import { terminalOps } from './terminal-ops.ts';
import { syncMessages } from './messages.ts';
import { CentralError } from '../errors.ts';
import { PokeListener, SyncHub } from './sync-hub.ts';
import { metricsOf } from '../metrics/metrics.ts';

type Query<O extends keyof operations> = NonNullable<operations[O]['parameters']['query']>;
const count = (max: number) => z.coerce.number().int('must be a whole number').min(1, 'must be at least 1').max(max, `must be at most ${max}`);
const position = z.coerce.number().int('must be a whole number').min(0, 'must not be negative').max(Number.MAX_SAFE_INTEGER);

export const ChangesQuery = specSchema<Query<'pullSyncChanges'>>()(
  z.strictObject({ cursor: position.optional(), blacklistCursor: position.optional(), limit: count(5000).optional() }),
);
export const SnapshotQuery = specSchema<Query<'getSyncSnapshot'>>()(z.strictObject({ after: cardNo.optional(), limit: count(5000).optional() }));
export const TerminalOpsQuery = specSchema<Query<'getTerminalOps'>>()(
  z.strictObject({ after: z.coerce.number().int('must be a whole number').min(0, 'must not be negative').max(2_000_000_000).optional(), limit: count(5000).optional() }),
);
export const HealthQuery = specSchema<Query<'getSyncHealth'>>()(z.strictObject({ cinemaId: id.optional() }));
export const AlertsQuery = specSchema<Query<'listFraudAlerts'>>()(
  z.strictObject({ cinemaId: id.optional(), cardNo: cardNo.optional(), limit: count(1000).optional() }),
);
export const ParkedQuery = specSchema<Query<'listParkedOps'>>()(z.strictObject({ cinemaId: id.optional(), limit: count(1000).optional() }));

/**
 * A batch's body limit: 500 ops whose payloads (≤ 8,000 characters each) may be CJK text or escaped
 * JSON stay under it. A terminal halves a batch that is refused as too large anyway.
 */
export const syncBatchBodyLimitBytes = 16 * 1024 * 1024;

export const syncModule: CentralModule = {
  name: 'sync',
  routes: (platform) => {
    const { db, clock, audit, config } = platform;
    const ingest = new SyncIngest(db, clock, { hotlistOnFraud: config.sync.hotlistOnFraud }, cardRegistryOf(platform));
    const feed = new SyncFeed(db, clock, new RedemptionRules(db, clock, audit, new CinemaStore(db)));
    const metrics = metricsOf(platform);
    return [
      defineRoute({
        path: '/v1/sync/batches',
        method: 'post',
        permission: 'sync.upload',
        body: SyncBatchBody,
        bodyLimitBytes: Math.max(config.bodyLimitBytes, syncBatchBodyLimitBytes),
        handler: async ({ body }, { principal }) => {
          const result = await ingest.upload(principal, body);
          metrics.countBatch(result);
          return { status: 200, body: result };
        },
      }),
      defineRoute({
        path: '/v1/sync/changes',
        method: 'get',
        permission: 'sync.pull',
        query: ChangesQuery,
        handler: async ({ query }, { principal }) => ({ status: 200, body: await feed.changes(principal, query) }),
      }),
      defineRoute({
        path: '/v1/sync/snapshot',
        method: 'get',
        permission: 'sync.pull',
        query: SnapshotQuery,
        handler: async ({ query }, { principal }) => ({ status: 200, body: await feed.snapshot(principal, query) }),
      }),
      defineRoute({
        path: '/v1/sync/terminal-ops',
        method: 'get',
        permission: 'sync.pull',
        query: TerminalOpsQuery,
        handler: async ({ query }, { principal }) => {
          if (!principal.terminal) throw new CentralError(syncMessages.sync_needs_terminal);
          return { status: 200, body: await terminalOps(db, principal.terminal.id, query.after ?? 0, query.limit ?? 1000) };
        },
      }),
      defineRoute({
        path: '/v1/sync/health',
        method: 'get',
        permission: 'terminals.read',
        query: HealthQuery,
        handler: async ({ query }, { principal }) => ({ status: 200, body: await feed.health(principal, query) }),
      }),
      defineRoute({
        path: '/v1/sync/fraud-alerts',
        method: 'get',
        permission: 'blacklist.manage',
        query: AlertsQuery,
        handler: async ({ query }, { principal }) => ({ status: 200, body: await feed.fraudAlerts(principal, query) }),
      }),
      defineRoute({
        path: '/v1/sync/parked',
        method: 'get',
        permission: 'terminals.read',
        query: ParkedQuery,
        handler: async ({ query }, { principal }) => ({ status: 200, body: await feed.parked(principal, query) }),
      }),
    ];
  },

  install: async (app, platform) => {
    const { db, config, log, clock } = platform;
    const hub = new SyncHub(platform, config.sync, await logPosition(db), (after, upTo) => readBlacklistRows(db, after, upTo));
    hub.attach(app.server);
    app.decorate('syncHub', hub);
    const key = databaseKey(db);
    const onCommit = (p: LogPosition) => hub.poke(p);
    changeLogCommits.on(key, onCommit);
    const listener = config.databaseUrl ? new PokeListener(config.databaseUrl, onCommit, log) : undefined;
    await listener?.start();
    const dayMs = 86_400_000;
    const prune = setInterval(() => {
      pruneChangeLog(db, isoTime(new Date(clock.now().getTime() - config.sync.retentionDays * dayMs))).catch((error: unknown) =>
        log.warn({ err: error }, 'change-log pruning failed'),
      );
    }, 3_600_000);
    prune.unref();
    app.addHook('preClose', async () => {
      clearInterval(prune);
      changeLogCommits.off(key, onCommit);
      hub.close();
      // A listener caught mid-reconnect must not hold the shutdown up.
      await Promise.race([listener?.stop(), new Promise((r) => setTimeout(r, 2000).unref())]);
    });
  },
};

declare module 'fastify' {
  interface FastifyInstance {
    /** The sync socket hub (tests and benches read its connection count). */
    syncHub?: SyncHub;
  }
}
