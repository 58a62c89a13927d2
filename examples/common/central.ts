/**
 * What every example needs to talk to central: where it is, how HQ logs in, and one way to turn an
 * API answer into its data or a clear error. Only the typed client (`cinecard/client`) is used.
 *
 * Settings (argv `--name value` wins over the environment):
 * - `--central` / `CINECARD_CENTRAL_URL`: central's origin, default `http://127.0.0.1:8480` (`npm start`);
 * - `--user` / `CINECARD_HQ_USER`, `--password` / `CINECARD_HQ_PASSWORD`: an HQ admin; default the
 *   local demo's DEMO credentials (`admin` / `cinecard-demo`, printed by `npm start`).
 */
import { createCentralClient, isApiError, type CentralClient } from 'cinecard/client';

/** `--name value` from argv, else the environment variable, else the fallback. */
export function setting(name: string, env: string, fallback?: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  if (i >= 0 && process.argv[i + 1] !== undefined) return process.argv[i + 1];
  return process.env[env] || fallback;
}

export const centralUrl = (): string => setting('central', 'CINECARD_CENTRAL_URL', 'http://127.0.0.1:8480')!.replace(/\/(v1\/?)?$/, '');

/** An API call that did not succeed: what was being done, the HTTP status and central's error body. */
export class ApiCallError extends Error {
  constructor(what: string, readonly status: number, body: unknown) {
    super(`${what} failed: HTTP ${status}${isApiError(body) ? ` ${body.code} — ${body.message}` : body === undefined ? '' : ` ${JSON.stringify(body)}`}`);
  }
}

/** The data of a successful answer, or an {@link ApiCallError} naming `what`. */
export async function ok<T>(what: string, call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  let r: Awaited<typeof call>;
  try {
    r = await call;
  } catch (err) {
    throw new Error(`${what} failed: central did not answer (${(err as Error).message})`);
  }
  if (!r.response.ok || r.data === undefined) throw new ApiCallError(what, r.response.status, r.error);
  return r.data;
}

/** Logs in as an HQ user and returns a client that sends the access token. */
export async function loginAsHq(baseUrl = centralUrl()): Promise<CentralClient> {
  let token: string | undefined;
  const api = createCentralClient(baseUrl, { token: () => token });
  const username = setting('user', 'CINECARD_HQ_USER', 'admin')!;
  const password = setting('password', 'CINECARD_HQ_PASSWORD', 'cinecard-demo')!; // DEMO default
  token = (await ok(`logging in to ${baseUrl} as ${username}`, api.POST('/v1/auth/login', { body: { username, password } }))).accessToken;
  return api;
}

/** Runs an example's `main`, printing a failure in one line and exiting non-zero. */
export function runMain(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(`FAILED: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}
