/**
 * The HTTP server: fastify with the error handling, the login rate limit, and every module's routes.
 * Routes are authenticated, authorised and validated here, the same way for every module.
 */
import Fastify, { type FastifyInstance, type FastifyServerOptions, type onRequestHookHandler } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import type { z } from 'zod';
import { CentralError } from '../errors.ts';
import { platformMessages } from '../messages.ts';
import type { CentralModule, Platform } from '../platform.ts';
import { requireCinema, requirePermission, type Principal } from '../auth/principal.ts';
import { newId } from '../store/ids.ts';
import { installErrorHandling, localeOf, sendError, summarize } from './error-handler.ts';
import type { Route } from './route.ts';
import { fieldProblems } from './validation.ts';
import { guardRequests, guardUpgrades, httpsOptions, proxyTrust } from './transport.ts';

/** `/v1/cinemas/{cinemaId}` → `/v1/cinemas/:cinemaId`. */
export function fastifyPath(specPath: string): string {
  return specPath.replace(/\{(\w+)\}/g, ':$1');
}

function parseInput(where: 'params' | 'query' | 'body', schema: z.ZodType | undefined, value: unknown): unknown {
  if (!schema) return undefined;
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const fields = fieldProblems(where, result.error);
  throw new CentralError(platformMessages.invalid_request, { summary: summarize(fields) }, fields);
}

export async function buildServer(platform: Platform, modules: readonly CentralModule[]): Promise<FastifyInstance> {
  const { config } = platform;
  const options: FastifyServerOptions & { https?: { cert: Buffer; key: Buffer } } = {
    loggerInstance: platform.log,
    bodyLimit: config.bodyLimitBytes,
    // One trust rule for fastify's X-Forwarded-* and the TLS-required guard of upgrades.
    ...(config.trustProxy === false ? {} : { trustProxy: proxyTrust(config.trustProxy) }),
    genReqId: () => newId(),
    exposeHeadRoutes: false,
    // Errors fastify meets before routing (a badly encoded URL) take the same path as the rest.
    frameworkErrors: (error, request, reply) => sendError(error, request, reply),
  };
  const https = httpsOptions(config);
  if (https) options.https = https;
  const app = Fastify(options) as unknown as FastifyInstance;
  // JSON only: a text/plain body is refused with 415 instead of reaching validation as a string.
  app.removeContentTypeParser('text/plain');
  installErrorHandling(app);
  guardRequests(app, config);
  // Every answer names its request id, so a client can quote it and the log can be searched for it.
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  await app.register(rateLimit, {
    global: false,
    errorResponseBuilder: (_request, context) => new CentralError(platformMessages.rate_limited, { after: context.after }),
  });

  // One limiter shared by every credential endpoint: guesses spread over login, terminal-token and
  // enrol count against one budget per client address.
  const credentialLimit = app.rateLimit({
    max: config.login.rateLimitMax,
    timeWindow: config.login.rateLimitWindowSeconds * 1000,
  });

  const seen = new Set<string>();
  for (const module of modules) {
    for (const route of module.routes(platform)) {
      const key = `${route.method} ${route.path}`;
      if (seen.has(key)) throw new Error(`Two routes for ${key} (module ${module.name})`);
      seen.add(key);
      registerRoute(app, platform, route, credentialLimit);
    }
  }
  for (const module of modules) await module.install?.(app, platform);
  guardUpgrades(app, config);
  return app;
}

function registerRoute(app: FastifyInstance, platform: Platform, route: Route, credentialLimit: onRequestHookHandler): void {
  app.route({
    method: route.method.toUpperCase() as 'GET',
    url: fastifyPath(route.path),
    ...(route.rateLimited ? { onRequest: credentialLimit } : {}),
    ...(route.bodyLimitBytes ? { bodyLimit: route.bodyLimitBytes } : {}),
    handler: async (request, reply) => {
      const authorization = request.headers.authorization;
      let principal: Principal | null = null;
      if (route.permission !== 'public' || authorization !== undefined) {
        principal = await platform.authenticator.authenticate(authorization);
      }
      if (principal && route.permission !== 'public' && route.permission !== 'authenticated') {
        requirePermission(principal, route.permission);
      }
      const input = {
        params: parseInput('params', route.params, request.params),
        query: parseInput('query', route.query, request.query),
        body: parseInput('body', route.body, request.body),
      };
      if (route.cinemaOf && principal) requireCinema(principal, (route.cinemaOf as (i: unknown) => string)(input));
      const handler = route.handler as (i: unknown, ctx: unknown) => Promise<{ status: number; body?: unknown }>;
      let streamed = false;
      const stream = (send: (r: typeof reply) => unknown) => {
        streamed = true;
        send(reply);
      };
      const result = await handler(input, { principal, request, stream, locale: localeOf(request) });
      // A handler that streamed a file (an export) has sent its answer already.
      if (streamed) return reply;
      reply.code(result.status);
      return result.body === undefined ? reply.send() : result.body;
    },
  });
}
