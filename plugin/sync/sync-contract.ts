/**
 * What the terminal's sync needs from its surroundings and what it tells the UI (`spec/sync.md`
 * § Terminal). The implementation is `SyncService` (`sync-service.ts`).
 */

/** Sync state for the UI: shown in the plugin's status line, never blocks a sale. */
/**
 * Why a terminal is offline, for what it tells its staff: `unreachable` — no answer from central
 * (network, DNS, TLS); `refused` — central refuses this terminal's credentials (revoked, or enrolled
 * again elsewhere): only HQ can mend that; `error` — central answered with an error, or this till
 * could not apply what it got: it retries on its own.
 */
export type SyncProblem = 'unreachable' | 'refused' | 'error';

export interface SyncStatus {
  /** Ops recorded here that central has not acknowledged yet, counted from the commit that recorded each. */
  readonly pendingOps: number;
  /** When an upload or a pull last succeeded (terminal clock, ISO), or null. */
  readonly lastSuccessAt: string | null;
  /** The last attempt to reach central failed: local data may be incomplete. */
  readonly offline: boolean;
  /** What went wrong with the last attempt, while `offline`: see {@link SyncProblem}. */
  readonly problem: SyncProblem | null;
  /** Why the last attempt failed, for diagnostics (never shown raw to a cashier). */
  readonly lastError: string | null;
  /** The change-log cursor this terminal has applied, and central's head as last heard. */
  readonly cursor: number;
  readonly head: number;
}

/** Where the terminal's access token comes from. */
export interface TerminalAuth {
  /** A current terminal access token. */
  token(baseUrl: string): Promise<string>;
  /** The token was refused (401): get a new one next time. */
  invalidate(): void;
}

/** setTimeout/clearTimeout, injectable so tests drive the 60 s pull and the backoff. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemTimers: Timers = {
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface SyncOptions {
  /** Central's base URLs; on a network failure the next one is tried (several instances). */
  readonly centralUrls: readonly string[];
  readonly auth: TerminalAuth;
  /** Ops per upload; central takes at most 500. */
  readonly batchSize?: number;
  /** Pull this often even without a poke (DESIGN §4: 60 s). */
  readonly pullIntervalMs?: number;
  /** How often the uploader looks at the outbox when nobody kicked it. */
  readonly idleCheckMs?: number;
  /** Backoff after a failure: initial delay, doubled per failure up to max (with jitter). */
  readonly backoffInitialMs?: number;
  readonly backoffMaxMs?: number;
  /** Listen for pokes on central's WebSocket (default true). */
  readonly pokes?: boolean;
  /** Change-log page size. */
  readonly pullLimit?: number;
  /** The CA (PEM) that signed central's certificate, when it is not a public CA's: only it is trusted. */
  readonly ca?: string;
  /** How long `dispose()` lets the rounds in flight finish before aborting their requests (default 10 s). */
  readonly disposeWaitMs?: number;
  /** For tests: the fetch to use (e.g. one that loses responses). */
  readonly fetch?: typeof fetch;
  /** For tests: runs inside the pull's local transaction after the items are applied, before the cursor is saved. */
  readonly beforeCursorSave?: () => void;
}
