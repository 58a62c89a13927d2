/**
 * The typed client of the central service (`cinecard/client`), built on openapi-fetch from the
 * types generated out of `spec/openapi.yaml` (`npm run gen`). Plugins, examples and tests use it.
 */
import createClient, { type Client, type ClientOptions } from 'openapi-fetch';
import type { components, operations, paths } from './schema.ts';

export type { components, operations, paths };
export * from './sync-messages.ts';
/** The API's schemas by name, e.g. `Schemas['Cinema']`. */
export type Schemas = components['schemas'];
export type CentralClient = Client<paths>;
/** The body of every 4xx/5xx answer: a closed `type`, a stable `code`, a readable `message`. */
export type ApiError = components['schemas']['Error'];

/** True for a value shaped like the service's error body (e.g. openapi-fetch's `error`). */
export function isApiError(value: unknown): value is ApiError {
  const v = value as Partial<ApiError> | null;
  return typeof v === 'object' && v !== null && typeof v.type === 'string' && typeof v.code === 'string' && typeof v.message === 'string';
}

export interface CentralClientOptions {
  /** An access token, or a function giving the current one (undefined: send none). */
  readonly token?: string | (() => string | undefined) | undefined;
  readonly fetch?: ClientOptions['fetch'];
  readonly headers?: Record<string, string>;
}

export function createCentralClient(baseUrl: string, options: CentralClientOptions = {}): CentralClient {
  const client = createClient<paths>({
    baseUrl,
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.headers ? { headers: options.headers } : {}),
  });
  const { token } = options;
  if (token !== undefined) {
    client.use({
      onRequest({ request }) {
        const value = typeof token === 'function' ? token() : token;
        if (value) request.headers.set('Authorization', `Bearer ${value}`);
        return request;
      },
    });
  }
  return client;
}
