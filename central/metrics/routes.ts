/**
 * `GET /metrics`: the Prometheus endpoint (text exposition format), and the hook timing every
 * request. Who may scrape (`metrics` settings, `spec/operations.md` "Monitoring"):
 *
 * - with `metrics.token`: whoever sends `Authorization: Bearer <token>`;
 * - without one: this machine only — a loopback peer whose request no proxy relayed.
 *
 * The metrics token is not an API token, so the route's `Authorization` header is taken aside
 * before the API's authentication sees it, and checked here. `tls.required` applies to this route
 * as to every operation but `/v1/health`.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { CentralConfig } from '../config.ts';
import { CentralError } from '../errors.ts';
import { defineRoute } from '../http/route.ts';
import type { CentralModule } from '../platform.ts';
import { backupDirectory } from '../backup/setup.ts';
import { syncHealth } from '../sync/sync-feed.ts';
import { fraudAlertCounts, metricsOf } from './metrics.ts';
import { metricsMessages } from './messages.ts';

export const METRICS_PATH = '/metrics';

/** The `Authorization` header of each /metrics request, taken aside from the API's authentication. */
const scrapeCredentials = new WeakMap<FastifyRequest, string | undefined>();

const digest = (s: string) => createHash('sha256').update(s).digest();

function isLoopback(address: string | undefined): boolean {
  return address !== undefined && (/^127\./.test(address) || address === '::1' || /^::ffff:127\./.test(address));
}

/** Throws unless the scrape may be answered. */
export function checkScrape(settings: CentralConfig['metrics'], request: FastifyRequest, authorization: string | undefined): void {
  if (settings.token !== undefined) {
    if (!timingSafeEqual(digest(authorization ?? ''), digest(`Bearer ${settings.token}`))) {
      throw new CentralError(metricsMessages.metrics_token_required);
    }
    return;
  }
  const relayed = request.headers['x-forwarded-for'] !== undefined || request.headers['forwarded'] !== undefined;
  if (relayed || !isLoopback(request.raw.socket.remoteAddress)) throw new CentralError(metricsMessages.metrics_local_only);
}

/** `/v1/cards/:cardNo` → `/v1/cards/{cardNo}` (as the spec writes it); no route → `unmatched`. */
function routeLabel(url: string | undefined): string {
  return url === undefined ? 'unmatched' : url.replace(/:(\w+)/g, '{$1}');
}

export const metricsModule: CentralModule = {
  name: 'metrics',
  routes: (platform) => {
    const { config } = platform;
    if (!config.metrics.enabled) return [];
    const metrics = metricsOf(platform);
    return [
      defineRoute({
        path: METRICS_PATH,
        method: 'get',
        permission: 'public',
        handler: async (_input, { request, stream }) => {
          checkScrape(config.metrics, request, scrapeCredentials.get(request));
          const { contentType, text } = await metrics.exposition();
          stream((reply) => reply.code(200).header('content-type', contentType).header('cache-control', 'no-store').send(text));
          return { status: 200 };
        },
      }),
    ];
  },

  install: (app, platform) => {
    const { config, db } = platform;
    if (!config.metrics.enabled) return;
    const metrics = metricsOf(platform);
    const backups = backupDirectory(config);
    metrics.readFrom({
      syncHealth: () => syncHealth(db, null, { enrolledOnly: true }),
      fraudAlerts: () => fraudAlertCounts(db),
      backups: () => backups.list(),
      wsClients: () => app.syncHub?.connections ?? 0,
    });
    app.addHook('onRequest', async (request) => {
      if (request.routeOptions.url !== METRICS_PATH) return;
      scrapeCredentials.set(request, request.headers.authorization);
      delete request.headers.authorization;
    });
    app.addHook('onResponse', async (request, reply) => {
      metrics.httpDuration.observe(
        { method: request.method, route: routeLabel(request.routeOptions.url), status_code: String(reply.statusCode) },
        reply.elapsedTime / 1000,
      );
    });
  },
};
