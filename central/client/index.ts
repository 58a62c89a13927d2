/**
 * The typed client of the central service (`cinecard/client`), built on openapi-fetch from the
 * types generated out of `spec/openapi.yaml` (`npm run gen`). Plugins, examples and tests use it.
 */
import createClient, { type Client, type ClientOptions } from 'openapi-fetch';
import { Agent } from 'undici';
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
  /**
   * The certificate authority (PEM) that signed central's certificate, for an `https://` central
   * whose certificate is not signed by a public CA (a chain's own CA, a self-signed certificate).
   * Only these CAs are trusted then. A custom `fetch` must pass its second argument (which carries
   * the connection settings) on to the real fetch.
   */
  readonly ca?: string | Buffer | readonly (string | Buffer)[];
}

/** An undici dispatcher trusting exactly `ca` (Node's fetch takes it as `dispatcher`). */
export function tlsDispatcher(ca: NonNullable<CentralClientOptions['ca']>): Agent {
  return new Agent({ connect: { ca: Array.isArray(ca) ? [...ca] : (ca as string | Buffer) } });
}

/**
 * A `fetch` that trusts exactly `ca` for https, through one dispatcher (one connection pool) for
 * every request it makes — for callers that make clients often (the terminal's sync).
 */
export function fetchTrusting(ca: NonNullable<CentralClientOptions['ca']>, base: typeof fetch = fetch): typeof fetch {
  const dispatcher = tlsDispatcher(ca);
  return (input, init) => base(input, { ...init, dispatcher } as RequestInit);
}

export function createCentralClient(baseUrl: string, options: CentralClientOptions = {}): CentralClient {
  const client = createClient<paths>({
    baseUrl,
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.headers ? { headers: options.headers } : {}),
    // openapi-fetch hands this to fetch as its second argument.
    ...(options.ca !== undefined ? { requestInitExt: { dispatcher: tlsDispatcher(options.ca) } } : {}),
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
