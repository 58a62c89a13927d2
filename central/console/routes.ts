/**
 * The HQ console: a read-only web page for statisticians (key figures, redemptions per day per
 * cinema as a chart, the settlement table, exports), served by central at `/console/`. It is static
 * files only — the page logs in and reads the reports API like any other client, so it has no
 * access of its own. Chart.js is served from this package's own node_modules, never from a CDN.
 */
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyReply } from 'fastify';
import type { CentralModule } from '../platform.ts';

export const CONSOLE_PATH = '/console/';

const publicDir = fileURLToPath(new URL('./public/', import.meta.url));
// chart.js exports no path to its dist folder; its main entry lives there.
const chartDir = dirname(createRequire(import.meta.url).resolve('chart.js'));

/**
 * Only this origin's scripts, styles and API; no inline script. `blob:` lets an export be saved
 * from the page.
 */
const contentSecurityPolicy = "default-src 'self'; img-src 'self' data: blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

function setHeaders(reply: FastifyReply): void {
  reply.header('content-security-policy', contentSecurityPolicy);
  reply.header('x-content-type-options', 'nosniff');
  reply.header('referrer-policy', 'no-referrer');
  // The page is small and changes with releases: always revalidate.
  reply.header('cache-control', 'no-cache');
}

export const consoleModule: CentralModule = {
  name: 'console',
  routes: () => [],
  async install(app) {
    app.get(CONSOLE_PATH.slice(0, -1), async (_request, reply) => reply.redirect(CONSOLE_PATH));
    await app.register(fastifyStatic, { root: publicDir, prefix: CONSOLE_PATH, index: 'index.html', setHeaders });
    await app.register(fastifyStatic, {
      root: chartDir,
      prefix: `${CONSOLE_PATH}vendor/chart.js/`,
      decorateReply: false,
      allowedPath: (path) => path === '/chart.umd.min.js',
      setHeaders,
    });
  },
};
