/**
 * The till's sync status, as the plugin shows it (`spec/sync.md` §6): online or not, ops waiting
 * for central, when central last answered — updated live while open — and "sync now".
 */
import { inject, injectable } from 'tsyringe';
import type { ViewNode } from '../../adapters/host-ui.ts';
import type { Actor } from '../auth/permissions.ts';
import type { PluginSyncStatus } from '../sync/plugin-sync.ts';
import { localTime } from './list-screens.ts';
import type { PluginScreen } from './plugin-screen.ts';
import { ScreenContext } from './screen-context.ts';
import { ACTION_CLOSE, type Notice } from './screen-view.ts';

const ACTION_SYNC = 'sync_now';

@injectable()
export class SyncStatusScreen implements PluginScreen {
  readonly id = 'cinecard.sync';
  readonly title = 'screen.sync.title' as const;
  readonly group = 'admin' as const;
  /** Counts and times only: anyone at the till may look. */
  readonly permission = null;
  readonly mode = 'terminal' as const;

  constructor(@inject(ScreenContext) private readonly ctx: ScreenContext) {}

  async open(_actor: Actor | undefined): Promise<void> {
    const { ctx } = this;
    const view = ctx.view(this.id, this.title);
    let notice: Notice | undefined;
    const render = (): ViewNode[] => this.body(ctx.sync.status, notice);
    const live = ctx.sync.onStatus(() => view.update(render()));
    try {
      for (;;) {
        const r = await view.open(render());
        if (r?.action !== ACTION_SYNC) return;
        try {
          await ctx.sync.syncNow();
          notice = { tone: 'success', key: 'screen.sync.done' };
        } catch (e) {
          ctx.logger.warn({ err: String(e) }, 'sync now failed');
          notice = { tone: 'warning', key: 'screen.sync.failed' };
        }
      }
    } finally {
      live.dispose();
    }
  }

  private body(s: PluginSyncStatus, notice: Notice | undefined): ViewNode[] {
    const k = this.ctx.kit;
    const state: Notice = !s.configured
      ? { tone: 'info', key: 'screen.sync.local_only' }
      : s.offline
        ? { tone: 'warning', key: s.problem === 'refused' ? 'screen.sync.refused' : s.problem === 'error' ? 'screen.sync.error' : 'screen.sync.offline' }
        : { tone: 'success', key: 'screen.sync.online' };
    return [
      ...(notice ? [k.banner(notice)] : []),
      k.banner(state),
      k.text('screen.sync.pending', { count: s.pendingOps }, 'strong'),
      k.text('screen.sync.last_success', { at: s.lastSuccessAt ? localTime(this.ctx, s.lastSuccessAt) : k.t('screen.sync.never') }),
      ...(s.configured ? [k.button(ACTION_SYNC, 'screen.sync.now', 'primary')] : []),
      k.button(ACTION_CLOSE, 'screen.close'),
    ];
  }
}
