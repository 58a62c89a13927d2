/**
 * The management screens' seam. A screen is a class the container builds (explicit `@inject` on
 * every constructor parameter) that names its menu entry, the permission it needs (DESIGN §5) and
 * what it does when opened. `activate` registers every class listed in `plugin/screens/index.ts` as
 * a host menu entry; opening one without the permission shows a refusal instead (see
 * {@link registerScreens}). A screen re-checks permissions for each action it offers with
 * {@link requirePermission}.
 */
import type { HostUi } from '../../adapters/host-ui.ts';
import { DisposableStore, toDisposable, type Disposable } from '../../adapters/lifecycle.ts';
import type { Logger } from '../../adapters/logger.ts';
import { can, type Actor, type Permission } from '../auth/permissions.ts';
import type { UserSession } from '../auth/user-session.ts';
import type { MessageKey } from '../i18n/catalogue.ts';
import type { Translator } from '../i18n/translator.ts';
import type { ReaderClaim } from '../redemption/reader-claim.ts';

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
  /**
   * The screen takes card taps (`ScreenContext.tap`, `tapWhile`, `nextCard`): from the moment it is
   * chosen until it first asks for a card (or ends) the reader is held for it, so a card tapped
   * before the screen asks is kept for it and never opens the redemption popup.
   */
  readonly takesTaps?: boolean;
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

/** The screens in the host's menu: disposing removes the entries; {@link settled} waits for the screens still running. */
export interface RegisteredScreens extends Disposable {
  /** Resolves when every screen opened from the menu so far has finished (its `open` settled). */
  settled(): Promise<void>;
}

/**
 * Adds each screen to the host's menu; disposing the result removes them and opens no more screens.
 * Choosing an entry holds the reader at once for a screen that {@link PluginScreen.takesTaps takes
 * taps} (with `claim`), then waits for the user at the till to be known (a sign-in just made is still
 * being matched) before it checks the permission.
 */
export function registerScreens(
  screens: readonly PluginScreen[],
  deps: { ui: HostUi; i18n: Translator; users: Pick<UserSession, 'current' | 'mode'> & Partial<Pick<UserSession, 'settled'>>; logger: Logger; mode: 'terminal' | 'hq_station'; claim?: ReaderClaim },
): RegisteredScreens {
  const store = new DisposableStore();
  const running = new Set<Promise<void>>();
  let stopped = false;
  store.add(toDisposable(() => (stopped = true)));
  const run = async (screen: PluginScreen, hold: Disposable | undefined): Promise<void> => {
    try {
      const actor = deps.users.settled ? await deps.users.settled() : deps.users.current;
      if (stopped) return;
      const permission = screen.permission;
      if (permission !== null && !(await requirePermission(deps.ui, deps.i18n, actor, permission))) return;
      if (stopped || (!actor && permission !== null)) return;
      await screen.open(actor);
    } catch (e) {
      deps.logger.error({ err: String(e), screen: screen.id }, 'a screen failed');
    } finally {
      hold?.dispose();
    }
  };
  for (const screen of screens) {
    if (screen.mode && screen.mode !== deps.mode) continue;
    if (screen.userMode && screen.userMode !== deps.users.mode) continue;
    store.add(
      deps.ui.registerMenuEntry({
        id: screen.id,
        title: deps.i18n.t(screen.title),
        group: screen.group,
        run: () => {
          if (stopped) return;
          // Before anything is awaited: a card tapped from now on belongs to this screen.
          const hold = screen.takesTaps ? deps.claim?.reserve() : undefined;
          const done = run(screen, hold).finally(() => running.delete(done));
          running.add(done);
        },
      }),
    );
  }
  return {
    dispose: () => store.dispose(),
    settled: async () => {
      while (running.size > 0) await Promise.allSettled([...running]);
    },
  };
}
