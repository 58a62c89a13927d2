/**
 * The till's sync status light: online/offline and what is still to upload, from the plugin's
 * sync status (`plugin.sync`, see {@link pluginSyncSource}) — the way a vendor's status bar shows
 * it. A plugin without central shows "local only" and the outbox count.
 */
import { Emitter, type Disposable, type Event } from '../../adapters/lifecycle.ts';
import type { PluginHandle } from '../../plugin/activate.ts';

export interface SyncStatus {
  /**
   * `online`: talking to central; `offline`: central unreachable (or answering errors); `refused`:
   * central refuses this till (revoked or enrolled again): HQ must act; `local`: no sync configured.
   */
  readonly link: 'online' | 'offline' | 'refused' | 'local';
  /** Ops recorded here and not yet acknowledged by central. */
  readonly pending: number;
  /** When central last answered (ISO), if ever. */
  readonly lastContact: string | null;
}

/** What the host reads from a sync service. */
export interface SyncSource {
  status(): Promise<Omit<SyncStatus, 'pending'> & { pending?: number }>;
  readonly onChanged?: Event<void>;
  dispose(): Promise<void> | void;
}

/** The plugin's own sync status as the light reads it. */
export function pluginSyncSource(plugin: PluginHandle): SyncSource {
  const changed = new Emitter<void>();
  const subscription = plugin.sync.onStatus(() => changed.fire());
  return {
    async status() {
      const s = plugin.sync.status;
      const link = !s.configured ? 'local' : s.problem === 'refused' ? 'refused' : !s.offline && s.lastSuccessAt !== null ? 'online' : 'offline';
      return { link, lastContact: s.lastSuccessAt, pending: s.pendingOps };
    },
    onChanged: changed.event,
    dispose() {
      subscription.dispose();
      changed.dispose();
    },
  };
}

const POLL_MS = 1000;

export class SyncIndicator {
  private current: SyncStatus = { link: 'local', pending: 0, lastContact: null };
  private readonly changed = new Emitter<void>();
  private readonly timer: NodeJS.Timeout;
  private readonly subscription: Disposable | undefined;
  private busy = false;
  readonly onChanged = this.changed.event;

  constructor(private readonly plugin: PluginHandle, private readonly source: SyncSource | undefined) {
    this.timer = setInterval(() => void this.refresh(), POLL_MS);
    this.timer.unref();
    this.subscription = source?.onChanged?.(() => void this.refresh());
    void this.refresh();
  }

  get state(): SyncStatus {
    return this.current;
  }

  async refresh(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const s = this.source ? await this.source.status() : { link: 'local' as const, lastContact: null };
      const pending = s.pending ?? (await this.plugin.store.pendingCount());
      const next: SyncStatus = { link: s.link, pending, lastContact: s.lastContact };
      if (JSON.stringify(next) !== JSON.stringify(this.current)) {
        this.current = next;
        this.changed.fire();
      }
    } catch {
      // the database is closing: the light keeps its last state
    } finally {
      this.busy = false;
    }
  }

  async dispose(): Promise<void> {
    clearInterval(this.timer);
    this.subscription?.dispose();
    this.changed.dispose();
    await this.source?.dispose();
  }
}
