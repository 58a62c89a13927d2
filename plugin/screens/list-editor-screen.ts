/**
 * The shape of the screens that keep a list (blacklist, local users, redemption rules): the list and
 * a form, a row of actions; each action is checked against the permission again, done, and the list
 * shown anew with what came of it. After a problem the form keeps what was typed (not passwords).
 */
import type { ViewNode, ViewResult } from '../../adapters/host-ui.ts';
import type { Actor, Permission } from '../auth/permissions.ts';
import type { MessageKey } from '../i18n/catalogue.ts';
import type { MenuGroup, PluginScreen } from './plugin-screen.ts';
import type { ScreenContext } from './screen-context.ts';
import { ACTION_CLOSE, type Notice } from './screen-view.ts';

export interface ListAction {
  readonly id: string;
  readonly label: MessageKey;
  readonly variant?: 'primary' | 'secondary' | 'danger';
}

/** `nodes` with each field showing the value in `values` (passwords stay empty). */
function refill(nodes: readonly ViewNode[], values: ViewResult['values']): ViewNode[] {
  return nodes.map((n) => {
    if (n.type === 'stack') return { ...n, children: refill(n.children, values) };
    if (n.type !== 'field' || n.kind === 'password' || values[n.id] === undefined) return n;
    return { ...n, value: values[n.id] ?? null };
  });
}

export abstract class ListEditorScreen implements PluginScreen {
  abstract readonly id: string;
  abstract readonly title: MessageKey;
  abstract readonly permission: Permission;
  abstract readonly group: MenuGroup;
  readonly mode = 'terminal' as const;
  protected abstract readonly actions: readonly ListAction[];

  constructor(protected readonly ctx: ScreenContext) {}

  /** The list and the form, as they are now. */
  protected abstract body(): Promise<ViewNode[]>;
  /** Does an action (the permission was just checked); says what came of it. */
  protected abstract act(action: string, values: ViewResult): Promise<Notice>;

  async open(_actor: Actor | undefined): Promise<void> {
    const k = this.ctx.kit;
    const view = this.ctx.view(this.id, this.title);
    let notice: Notice | undefined;
    let keep: ViewResult | undefined;
    for (;;) {
      const body = await this.body();
      const r = await view.open([
        ...(notice ? [k.banner(notice)] : []),
        ...(keep ? refill(body, keep.values) : body),
        { type: 'stack', direction: 'horizontal', children: [...this.actions.map((a) => k.button(a.id, a.label, a.variant)), k.button(ACTION_CLOSE, 'screen.close')] },
      ]);
      if (!r || !this.actions.some((a) => a.id === r.action)) return;
      if (!(await this.ctx.allowed(this.permission))) return;
      notice = await this.act(r.action, r);
      keep = notice.tone === 'success' ? undefined : r;
    }
  }
}
