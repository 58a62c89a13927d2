/**
 * The API reference at `/docs/api/`: the one-page rendering of `spec/openapi.yaml` that
 * `npm run docs:api` writes to `docs/api/index.html` (Redoc inlined, nothing loaded from outside).
 * It is generated, not committed: until it is built the path answers 404 saying how to build it.
 * The file is read on each request, so rebuilding it needs no restart. Public, like the spec itself.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { FastifyReply } from 'fastify';
import type { CentralModule } from '../platform.ts';

export const API_REFERENCE_PATH = '/docs/api/';
const defaultFile = fileURLToPath(new URL('../../docs/api/index.html', import.meta.url));

/**
 * The page is one file with inline scripts and styles: it may run those and reach this origin's
 * API (the "try it" panel), and nothing else — a CDN address left in the bundle is refused by the
 * browser too.
 */
export const API_REFERENCE_CSP =
  "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data: blob:; font-src data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

function headers(reply: FastifyReply): FastifyReply {
  return reply
    .header('content-security-policy', API_REFERENCE_CSP)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('cache-control', 'no-cache');
}

/** Serves the rendered reference from `file` (default `docs/api/index.html`). */
export function createApiReferenceModule(file = defaultFile): CentralModule {
  return {
    name: 'api-reference',
    routes: () => [],
    async install(app) {
      app.get(API_REFERENCE_PATH.slice(0, -1), async (_request, reply) => reply.redirect(API_REFERENCE_PATH));
      app.get(API_REFERENCE_PATH, async (_request, reply) => {
        let html: Buffer;
        try {
          html = await readFile(file);
        } catch {
          return headers(reply)
            .code(404)
            .type('text/plain; charset=utf-8')
            .send('The API reference has not been built on this server. Build it with `npm run docs:api` (it writes docs/api/index.html); spec/openapi.yaml is the source.\n');
        }
        return headers(reply).type('text/html; charset=utf-8').send(html);
      });
    },
  };
}

export const apiReferenceModule = createApiReferenceModule();
