/**
 * The one place where errors become HTTP responses. Everything thrown while serving a request ends
 * here as a `CentralError`; only a genuine fault becomes `internal` (500), and is logged.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ZodError } from 'zod';
import { CentralError, type ErrorType, type Locale } from '../errors.ts';
import { platformMessages } from '../messages.ts';
import { isDatabaseUnavailable, isUniqueViolation } from '../store/db-errors.ts';
import { fieldProblems } from './validation.ts';
import type { components } from '../client/schema.ts';

export const httpStatusOf: Readonly<Record<ErrorType, number>> = {
  invalid_data: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
};

export function localeOf(request: FastifyRequest): Locale {
  const accept = request.headers['accept-language'];
  return typeof accept === 'string' && /^\s*zh\b/i.test(accept) ? 'zh-CN' : 'en';
}

/** Maps anything thrown to the error model. */
export function toCentralError(error: unknown, request: FastifyRequest): CentralError {
  if (error instanceof CentralError) return error;
  if (error instanceof ZodError) {
    const fields = fieldProblems('body', error);
    return new CentralError(platformMessages.invalid_request, { summary: summarize(fields) }, fields);
  }
  if (isUniqueViolation(error)) return new CentralError(platformMessages.conflict_unique, { what: 'unique value' }, undefined, { cause: error });
  if (isDatabaseUnavailable(error)) return new CentralError(platformMessages.database_unavailable, {}, undefined, { cause: error });
  const fe = error as Partial<FastifyError> | null;
  const status = typeof fe?.statusCode === 'number' ? fe.statusCode : 500;
  if (status === 413) return new CentralError(platformMessages.body_too_large, { limit: request.routeOptions.bodyLimit ?? request.server.initialConfig.bodyLimit ?? 0 });
  if (status === 415) return new CentralError(platformMessages.unsupported_media_type, { contentType: String(request.headers['content-type'] ?? 'none') });
  if (status === 429) return new CentralError(platformMessages.rate_limited, { after: 'a minute' });
  if (status >= 400 && status < 500) {
    const reason = String(fe?.message ?? 'bad request').replace(/\.$/, '');
    const template = String(fe?.code ?? '').startsWith('FST_ERR_CTP') || error instanceof SyntaxError ? platformMessages.malformed_body : platformMessages.bad_request;
    return new CentralError(template, { reason });
  }
  return new CentralError(platformMessages.internal, { requestId: request.id }, undefined, { cause: error });
}

export function summarize(fields: readonly { path: string; message: string }[]): string {
  const shown = fields.slice(0, 5).map((f) => `${f.path} ${f.message}`);
  if (fields.length > 5) shown.push(`and ${fields.length - 5} more`);
  return shown.join('; ');
}

/** Sends `error` as the error model; the fastify error handler and framework errors both use it. */
export function sendError(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const central = toCentralError(error, request);
  const status = httpStatusOf[central.type];
  if (status >= 500) request.log.error({ err: error }, 'request failed');
  const body: components['schemas']['Error'] = {
    type: central.type,
    code: central.code,
    message: central.localized(localeOf(request)),
    ...(central.fields ? { fields: [...central.fields] } : {}),
  };
  return reply.code(status).type('application/json; charset=utf-8').send(body);
}

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => sendError(error, request, reply));
  app.setNotFoundHandler((request) => {
    throw new CentralError(platformMessages.route_not_found, { method: request.method, url: request.url.split('?')[0] ?? '' });
  });
}
