/**
 * The plugin's composition root: `activate(host, config)` builds everything in a child tsyringe
 * container (one per activation) and returns a {@link PluginHandle} whose `dispose()` releases it
 * all. This is the only file that touches the container.
 *
 * How the plugin is laid out (the folder is the architecture):
 * - `card/`       the card profile (MIFARE Classic), the write journal contract, read outcomes
 * - `store/`      the terminal database: ops + outbox (`TerminalStore`), the journal over
 *                 `card_journal` (`TerminalCardJournal`), card cache + blacklist + card types
 *                 (`CardCache`), redemption rules (`RedemptionRuleStore`), crash points for tests
 * - `auth/`       roles → permissions (`can`, DESIGN §5) and who is at the till (`UserSession`:
 *                 host-operator mapping or plugin login, by configuration)
 * - `i18n/`       the message catalogue (zh-CN, en) and the `Translator` for the session's locale
 * - `redemption/` the cashier's popup: `RedemptionFlow` (card PRESENT → … → popup closes)
 * - `sync/`       the outbox uploader, change-log puller and poke listener (`SyncService`), and
 *                 `PluginSync`: kicks it after each recorded op, status for the host and screens
 * - `screens/`    management screens: implement `PluginScreen` (id, title key, menu group,
 *                 permission, `open(actor)`), list the class in `screens/index.ts`; it is built by
 *                 the container, put in the host's menu, refused for roles without its permission,
 *                 and removed on dispose. Use `requirePermission` before each action a screen offers.
 *
 * Adding a service: give its constructor parameters explicit `@inject(token)` (no decorator
 * metadata is emitted), add a token in `tokens.ts` if it is not an adapter, register it below and
 * add it to {@link REGISTRATIONS}; `activate.test.ts` resolves every registration.
 */
import 'reflect-metadata';
import { container as rootContainer, Lifecycle, type DependencyContainer, type InjectionToken } from 'tsyringe';
import { CardReader } from '../adapters/card-reader.ts';
import { Clock, systemClock } from '../adapters/clock.ts';
import { HostSale } from '../adapters/host-sale.ts';
import { HostSession } from '../adapters/host-session.ts';
import { HostUi, type MenuEntry, type View, type ViewResult } from '../adapters/host-ui.ts';
import { CardKeys } from '../adapters/keys/card-keys.ts';
import { DisposableStore, type Disposable, type Event } from '../adapters/lifecycle.ts';
import { Logger, silentLogger } from '../adapters/logger.ts';
import type { Actor } from './auth/permissions.ts';
import { LocalUsers, UserSession, type LocalUser, type LocalUserInput, type UserMode } from './auth/user-session.ts';
import { MifareClassicProfile } from './card/mifare-classic-profile.ts';
import { parseConfig, type PluginConfig, type PluginConfigInput } from './config.ts';
import { Translator } from './i18n/translator.ts';
import { ReaderClaim } from './redemption/reader-claim.ts';
import { RedemptionFlow } from './redemption/redemption-flow.ts';
import { CentralLink } from './screens/central-link.ts';
import { registerScreens, screenClasses, type PluginScreen } from './screens/index.ts';
import { CardCache, type CardType } from './store/card-cache.ts';
import { TerminalCardJournal } from './store/card-journal.ts';
import { RedemptionRuleStore } from './store/redemption-rule-store.ts';
import { TerminalStore } from './store/terminal-store.ts';
import { PluginSync, type PluginSyncStatus } from './sync/plugin-sync.ts';
import {
  CardCacheToken, CardJournalToken, CardProfileToken, LocalUsersToken, PluginConfigToken, PluginSyncToken, RuleStoreToken, TerminalStoreToken,
  TranslatorToken, UserSessionToken,
} from './tokens.ts';

/** The version of the host contract this plugin speaks (`spec/host-contract.md`). */
export const PLUGIN_API_VERSION = 1;

/** What the host gives the plugin: its adapters (`spec/host-contract.md`). */
export interface PluginHost {
  /** The plugin owns the reader it is given: it starts it, and `dispose()` disposes it. */
  readonly cardReader: CardReader;
  readonly cardKeys: CardKeys;
  readonly ui: HostUi;
  readonly session: HostSession;
  readonly sale: HostSale;
  /** Default: the system clock. */
  readonly clock?: Clock;
  /** Default: no logs. */
  readonly logger?: Logger;
}

/**
 * Who uses CineCard at this till (`plugin.users`), and the local users the host maps its operators
 * onto. Sync does not bring a till's users: they are the till's own configuration, set up by the
 * host (its cashiers, `hostOperatorId` = the host's operator id) or by a manager on the users screen.
 */
export interface PluginUsers {
  /** `host_operator`: the host's operator is matched onto a local user; `plugin_login`: users log in. */
  readonly mode: UserMode;
  /** The CineCard user at the till as last matched (right after a sign-in the match may still be running: {@link settled}). */
  readonly current: Actor | undefined;
  /** Fires when the user changes (sign-in matched, sign-out, login, logout). */
  readonly onUserChanged: Event<Actor | undefined>;
  /** The user once the host's current operator is matched (waits for a match in flight, bounded). */
  settled(): Promise<Actor | undefined>;
  /** `plugin_login` mode: logs in; the user, or undefined for a wrong name or password. */
  login(username: string, password: string): Promise<Actor | undefined>;
  /** `plugin_login` mode: logs out. */
  logout(): void;
  /**
   * Creates or replaces (by `userId`) a local user: display name, roles (DESIGN §5), the host
   * operator id it is matched from, or a password for `plugin_login` (scrypt-hashed). The operator
   * at the till now is matched again, so a user added for them takes effect at once.
   */
  put(user: LocalUserInput): Promise<void>;
  /** Every local user, enabled or not, by user name. */
  list(): Promise<LocalUser[]>;
}

/**
 * The card types this till knows, by the code written on the cards (`plugin.cardTypes`): the popup
 * and the screens show a card's type by name, and redemption rules and tenders use its id and price.
 * Sync brings cards, rules and the blacklist, not the types: the host (or its installer) puts them.
 */
export interface PluginCardTypes {
  /** Adds or replaces the type with this code: central's `cardTypeId`, its name, its settlement price per use (fen). */
  put(type: CardType): Promise<void>;
  /** The type with this code, or undefined when the till does not know it. */
  get(code: number): Promise<CardType | undefined>;
}

export interface PluginHandle {
  readonly apiVersion: number;
  readonly config: PluginConfig;
  /** The terminal database (for the host's diagnostics and for tests; do not write through it). */
  readonly store: TerminalStore;
  /** The user at the till, and the local users the host's operators are matched onto. */
  readonly users: PluginUsers;
  /** The card types the till shows and settles by (sync does not bring them). */
  readonly cardTypes: PluginCardTypes;
  /** Sync with central: its status for the host's status bar (`onStatus`), `syncNow()`. */
  readonly sync: {
    /** `pendingOps`: every op recorded here that central has not acknowledged, at any moment. */
    readonly status: PluginSyncStatus;
    readonly onStatus: PluginSync['onStatus'];
    syncNow(): Promise<void>;
  };
  /** Resolves when every card tap being handled now has finished. */
  settled(): Promise<void>;
  /** Resolves a registration (tests; screens get theirs by injection). */
  resolve<T>(token: InjectionToken<T>): T;
  /**
   * Stops taking work (menu entries, taps, sync), closes the plugin's views, waits (at most
   * {@link DISPOSE_WAIT_MS}) for the taps, screens and sync rounds still running, then closes the
   * reader and the database. Idempotent.
   */
  dispose(): Promise<void>;
}

/** How long `dispose()` waits for work in flight (a tap, a screen's query, a sync round) before closing the database anyway. */
export const DISPOSE_WAIT_MS = 10_000;

/** Resolves true when `work` settles within `ms`, false when the time ran out first. */
async function within(ms: number, work: Promise<unknown>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((r) => (timer = setTimeout(() => r(false), ms)));
  try {
    return await Promise.race([work.then(() => true, () => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The host's `HostUi` as the plugin's parts get it: once the plugin is disposing, no view opens any
 * more (`open` resolves undefined at once, as for a view the plugin closed) and the views still
 * open are closed — a screen busy with a query ends instead of showing itself again.
 */
class ClosableUi implements HostUi {
  private readonly shown = new Map<string, number>();
  private closed = false;
  readonly offerFile?: HostUi['offerFile'];

  constructor(private readonly host: HostUi) {
    if (host.offerFile) this.offerFile = (file) => host.offerFile!(file);
  }

  open(view: View, onAction?: (result: ViewResult) => void): Promise<ViewResult | undefined> {
    if (this.closed) return Promise.resolve(undefined);
    this.shown.set(view.id, (this.shown.get(view.id) ?? 0) + 1);
    return this.host.open(view, onAction).finally(() => {
      const n = (this.shown.get(view.id) ?? 1) - 1;
      if (n > 0) this.shown.set(view.id, n);
      else this.shown.delete(view.id);
    });
  }

  update(view: View): void {
    if (!this.closed) this.host.update(view);
  }

  close(viewId: string): void {
    this.host.close(viewId);
  }

  registerMenuEntry(entry: MenuEntry): Disposable {
    return this.host.registerMenuEntry(entry);
  }

  /** No view opens from now on; the open ones are closed. */
  closeAll(): void {
    this.closed = true;
    for (const id of [...this.shown.keys()]) this.host.close(id);
  }
}

/** Every token the container can resolve: `activate.test.ts` resolves each. */
export const REGISTRATIONS: readonly InjectionToken<unknown>[] = [
  CardReader, CardKeys, HostUi, HostSession, HostSale, Clock, Logger,
  PluginConfigToken, TerminalStoreToken, CardProfileToken, CardJournalToken, CardCacheToken, RuleStoreToken, LocalUsersToken,
  UserSessionToken, TranslatorToken, RedemptionFlow, ReaderClaim, CentralLink, PluginSyncToken,
];

function requireAdapters(host: PluginHost): void {
  const missing = (['cardReader', 'cardKeys', 'ui', 'session', 'sale'] as const).filter((k) => host?.[k] === undefined || host[k] === null);
  if (missing.length > 0) throw new TypeError(`the host did not provide: ${missing.join(', ')}`);
}

export async function activate(host: PluginHost, configInput: PluginConfigInput): Promise<PluginHandle> {
  requireAdapters(host);
  const config = parseConfig(configInput);
  const clock = host.clock ?? systemClock;
  const logger = (host.logger ?? silentLogger).child({ plugin: 'cinecard' });

  const store = await TerminalStore.open({ filename: config.dbFile, now: () => clock.now(), logger });
  const ui = new ClosableUi(host.ui);
  const disposables = new DisposableStore();
  let sync: PluginSync;
  try {
    sync = new PluginSync(store, config, clock, logger);
  } catch (err) {
    await store.close();
    throw err;
  }
  let container: DependencyContainer | undefined;
  try {
    const identity = await store.identity();
    const wanted = { terminalId: config.terminal.terminalId, cinemaId: config.terminal.cinemaId };
    if (!identity) await store.setIdentity(wanted);
    else if (identity.terminalId !== wanted.terminalId || identity.cinemaId !== wanted.cinemaId) {
      throw new Error(`the database ${config.dbFile} belongs to terminal ${identity.terminalId} of cinema ${identity.cinemaId}, not ${wanted.terminalId} of ${wanted.cinemaId}`);
    }

    const c = (container = rootContainer.createChildContainer());
    c.register(CardReader, { useValue: host.cardReader });
    c.register(CardKeys, { useValue: host.cardKeys });
    c.register(HostUi, { useValue: ui });
    c.register(HostSession, { useValue: host.session });
    c.register(HostSale, { useValue: host.sale });
    c.register(Clock, { useValue: clock });
    c.register(Logger, { useValue: logger });
    c.register(PluginConfigToken, { useValue: config });
    c.register(TerminalStoreToken, { useValue: store });
    const cards = new CardCache(store.db);
    c.register(CardCacheToken, { useValue: cards });
    c.register(CardJournalToken, { useValue: new TerminalCardJournal(store, cards, () => clock.now()) });
    c.register(RuleStoreToken, { useValue: new RedemptionRuleStore(store.db) });
    c.register(LocalUsersToken, { useValue: new LocalUsers(store.db, () => clock.now()) });
    c.register(CardProfileToken, { useValue: new MifareClassicProfile(host.cardKeys) });
    c.register(TranslatorToken, { useClass: Translator }, { lifecycle: Lifecycle.ContainerScoped });
    c.register(UserSessionToken, { useClass: UserSession }, { lifecycle: Lifecycle.ContainerScoped });
    c.register(RedemptionFlow, { useClass: RedemptionFlow }, { lifecycle: Lifecycle.ContainerScoped });
    c.register(ReaderClaim, { useClass: ReaderClaim }, { lifecycle: Lifecycle.ContainerScoped });
    c.register(CentralLink, { useClass: CentralLink }, { lifecycle: Lifecycle.ContainerScoped });
    c.register(PluginSyncToken, { useValue: sync });
    // Screens reach central as this terminal; changes they record travel by sync.
    c.resolve(CentralLink).connect(sync.centralClient());

    const session = disposables.add(c.resolve(UserSessionToken));
    await session.ready;
    const screens = screenClasses.map((cls) => c.resolve(cls as unknown as InjectionToken<PluginScreen>));
    const menu = disposables.add(registerScreens(screens, { ui, i18n: c.resolve(TranslatorToken), users: session, logger, mode: config.mode, claim: c.resolve(ReaderClaim) }));
    const flow = c.resolve(RedemptionFlow);
    disposables.add(flow);
    flow.start();
    await host.cardReader.start();
    sync.start(); // never awaited by a sale: a terminal offline works from local data
    logger.info({ terminalId: config.terminal.terminalId, apiVersion: PLUGIN_API_VERSION }, 'CineCard plugin activated');

    const localUsers = c.resolve(LocalUsersToken);
    const users: PluginUsers = {
      get mode() { return session.mode; },
      get current() { return session.current; },
      onUserChanged: session.onUserChanged,
      settled: () => session.settled(),
      login: (username, password) => session.login(username, password),
      logout: () => session.logout(),
      put: async (user) => {
        await localUsers.put(user);
        await session.rematch();
      },
      list: () => localUsers.list(),
    };
    let disposing: Promise<void> | undefined;
    return {
      apiVersion: PLUGIN_API_VERSION,
      config,
      store,
      users,
      cardTypes: { put: (type) => cards.putCardType(type), get: (code) => cards.cardType(code) },
      sync: { get status() { return sync.status; }, onStatus: sync.onStatus, syncNow: () => sync.syncNow() },
      settled: () => flow.settled(),
      resolve: (token) => c.resolve(token),
      dispose: () =>
        (disposing ??= (async () => {
          ui.closeAll(); // no view opens any more: a screen still busy ends
          disposables.dispose(); // listeners, menu entries, popups, the user session: no new work starts
          host.cardReader.dispose();
          // Taps and screens in flight finish against a still-open database; then sync's rounds.
          const quiet = await within(DISPOSE_WAIT_MS, Promise.all([flow.settled(), menu.settled(), session.idle()]));
          if (!quiet) logger.warn({ waitedMs: DISPOSE_WAIT_MS }, 'CineCard work still running at dispose; closing the database anyway');
          await sync.dispose();
          await store.close();
          logger.info('CineCard plugin disposed');
        })()),
    };
  } catch (err) {
    disposables.dispose();
    await sync.dispose();
    await store.close();
    throw err;
  }
}
