/**
 * The management screens' seam. A screen is a class the container builds (explicit `@inject` on
 * every constructor parameter) that names its menu entry, the permission it needs (DESIGN §5) and
 * what it does when opened. `activate` registers every class listed in `plugin/screens/index.ts` as
 * a host menu entry; opening one without the permission shows a refusal instead (see
 * {@link registerScreens}). A screen re-checks permissions for each action it offers with
 * {@link requirePermission}.
 */
import type { HostUi } from '../../adapters/host-ui.ts';
import { DisposableStore, type Disposable } from '../../adapters/lifecycle.ts';
import type { Logger } from '../../adapters/logger.ts';
import { can, type Actor, type Permission } from '../auth/permissions.ts';
import type { UserSession } from '../auth/user-session.ts';
import type { MessageKey } from '../i18n/catalogue.ts';
import type { Translator } from '../i18n/translator.ts';

export type MenuGroup = 'card' | 'reports' | 'admin' | 'hq';

export interface PluginScreen {
  /** Stable id, e.g. `cinecard.blacklist`. */
  readonly id: string;
  readonly title: MessageKey;
  readonly group: MenuGroup;
  /** Needed to open the screen at all; `null`: anyone, logged in or not (the login screen). */
  readonly permission: Permission | null;
  /** Only in this plugin mode (default: both). */
  readonly mode?: 'terminal' | 'hq_station';
  /** Only in this user mode (default: both). */
  readonly userMode?: 'host_operator' | 'plugin_login';
  /** Shows the screen; resolves when it is done. `actor` is undefined only for a screen without a permission. */
  open(actor: Actor | undefined): Promise<void>;
}

/** Shows the refusal popup when `actor` lacks `permission`; returns whether they have it. */
export async function requirePermission(ui: HostUi, i18n: Translator, actor: Actor | undefined, permission: Permission): Promise<boolean> {
  if (can(actor, permission)) return true;
  await ui.open({
    type: 'dialog',
    id: 'cinecard.forbidden',
    title: i18n.t('screen.forbidden_title'),
    dismissible: true,
    children: [
      { type: 'banner', tone: 'warning', text: i18n.t(actor ? 'screen.forbidden' : 'redeem.no_user') },
      { type: 'button', id: 'close', label: i18n.t('redeem.close') },
    ],
  });
  return false;
}

/** Adds each screen to the host's menu; disposing the result removes them. */
export function registerScreens(
  screens: readonly PluginScreen[],
  deps: { ui: HostUi; i18n: Translator; users: UserSession; logger: Logger; mode: 'terminal' | 'hq_station' },
): Disposable {
  const store = new DisposableStore();
  for (const screen of screens) {
    if (screen.mode && screen.mode !== deps.mode) continue;
    if (screen.userMode && screen.userMode !== deps.users.mode) continue;
    store.add(
      deps.ui.registerMenuEntry({
        id: screen.id,
        title: deps.i18n.t(screen.title),
        group: screen.group,
        run: () => {
          const actor = deps.users.current;
          const permission = screen.permission;
          void (permission === null ? Promise.resolve(true) : requirePermission(deps.ui, deps.i18n, actor, permission))
            .then((ok) => (ok && (actor || permission === null) ? screen.open(actor) : undefined))
            .catch((e) => deps.logger.error({ err: String(e), screen: screen.id }, 'a screen failed'));
        },
      }),
    );
  }
  return store;
}
