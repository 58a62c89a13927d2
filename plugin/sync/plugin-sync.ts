/**
 * Sync as the rest of the plugin sees it (`spec/sync.md` §6). With central configured it owns the
 * {@link SyncService}: starts it, kicks the uploader after every op the terminal records, and gives
 * screens a {@link CentralClient} authenticated as this terminal. Without central the terminal
 * works alone: ops wait in the outbox and the status says so.
 */
import { readFileSync } from 'node:fs';
import { createCentralClient, fetchTrusting, type CentralClient } from '../../central/client/index.ts';
import type { Clock } from '../../adapters/clock.ts';
import { Emitter, type Disposable, type Event } from '../../adapters/lifecycle.ts';
import type { Logger } from '../../adapters/logger.ts';
import type { PluginConfig } from '../config.ts';
import type { TerminalStore } from '../store/terminal-store.ts';
import type { SyncStatus } from './sync-contract.ts';
import { SyncService, TerminalCredentialAuth } from './sync-service.ts';

/** What the host and the screens read: the service's status, plus whether sync is configured at all. */
export interface PluginSyncStatus extends SyncStatus {
  /** false: no central configured; the terminal works alone. */
  readonly configured: boolean;
}

function readCa(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new TypeError(`invalid CineCard plugin configuration: central.caFile: cannot read ${file} (${(e as Error).message})`);
  }
}

export class PluginSync implements Disposable {
  private readonly service: SyncService | undefined;
  private readonly auth: TerminalCredentialAuth | undefined;
  private readonly fetchFn: typeof fetch = fetch;
  private readonly changed = new Emitter<PluginSyncStatus>();
  private readonly subscriptions: Disposable[] = [];
  /** Fires on every change of {@link status}. */
  readonly onStatus: Event<PluginSyncStatus> = this.changed.event;

  constructor(
    private readonly store: TerminalStore,
    private readonly config: PluginConfig,
    clock: Clock,
    logger: Logger,
  ) {
    const central = config.central;
    // An HQ station makes cards under an operator's login (its screens use CentralLink); tills sync.
    if (central && config.mode === 'terminal') {
      const ca = central.caFile === undefined ? undefined : readCa(central.caFile);
      this.fetchFn = ca === undefined ? fetch : fetchTrusting(ca);
      this.auth = new TerminalCredentialAuth(config.terminal.terminalId, central.terminalSecret, clock, this.fetchFn);
      this.service = new SyncService(
        store,
        { centralUrls: central.urls, auth: this.auth, pullIntervalMs: central.pullIntervalMs, pokes: central.pokes, ...(ca !== undefined ? { ca } : {}) },
        clock,
        logger.child({ part: 'sync' }),
      );
      this.subscriptions.push(this.service.onStatus((s) => this.changed.fire({ ...s, configured: true })));
    }
    if (this.service) this.subscriptions.push(store.onOpRecorded(() => this.service!.kick()));
    // Without central the count is the outbox's, kept by the store (with central, the service fires it).
    else this.subscriptions.push(store.onPendingChanged(() => this.changed.fire(this.status)));
  }

  get configured(): boolean {
    return this.service !== undefined;
  }

  get status(): PluginSyncStatus {
    if (this.service) return { ...this.service.status, configured: true };
    return { configured: false, pendingOps: this.store.pendingOpCount, lastSuccessAt: null, offline: false, problem: null, lastError: null, cursor: 0, head: 0 };
  }

  start(): void {
    this.service?.start();
  }

  /** Uploads what is pending and pulls to central's head now; throws when central cannot be reached. */
  async syncNow(): Promise<void> {
    if (!this.service) throw new Error('no central is configured for this terminal');
    await this.service.syncNow();
  }

  /**
   * A client for central's API, authenticated as this terminal (a fresh token when it runs out),
   * or undefined without central.
   */
  centralClient(): CentralClient | undefined {
    const { auth } = this;
    const url = this.config.central?.urls[0];
    if (!auth || !url) return undefined;
    return createCentralClient(url, {
      fetch: async (request: Request) => {
        const authorised = async () => {
          const r = request.clone();
          r.headers.set('Authorization', `Bearer ${await auth.token(url)}`);
          return this.fetchFn(r);
        };
        const response = await authorised();
        if (response.status !== 401) return response;
        auth.invalidate(); // a token central no longer takes (its secret rotated): one more try
        return authorised();
      },
    });
  }

  async dispose(): Promise<void> {
    for (const s of this.subscriptions) s.dispose();
    await this.service?.dispose();
    this.changed.dispose();
  }
}
