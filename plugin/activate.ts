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
import { HostUi } from '../adapters/host-ui.ts';
import { CardKeys } from '../adapters/keys/card-keys.ts';
import { DisposableStore } from '../adapters/lifecycle.ts';
import { Logger, silentLogger } from '../adapters/logger.ts';
import { LocalUsers, UserSession } from './auth/user-session.ts';
import { MifareClassicProfile } from './card/mifare-classic-profile.ts';
import { parseConfig, type PluginConfig, type PluginConfigInput } from './config.ts';
import { Translator } from './i18n/translator.ts';
import { ReaderClaim } from './redemption/reader-claim.ts';
import { RedemptionFlow } from './redemption/redemption-flow.ts';
import { CentralLink } from './screens/central-link.ts';
import { registerScreens, screenClasses, type PluginScreen } from './screens/index.ts';
import { CardCache } from './store/card-cache.ts';
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

export interface PluginHandle {
  readonly apiVersion: number;
  readonly config: PluginConfig;
  /** The terminal database (for the host's diagnostics and for tests; do not write through it). */
  readonly store: TerminalStore;
  /** The user session (plugin-login mode: `login`/`logout`). */
  readonly users: UserSession;
  /** Sync with central: its status for the host's status bar (`onStatus`), `syncNow()`. */
  readonly sync: {
    readonly status: PluginSyncStatus;
    readonly onStatus: PluginSync['onStatus'];
    syncNow(): Promise<void>;
  };
  /** Resolves when every card tap being handled now has finished. */
  settled(): Promise<void>;
  /** Resolves a registration (tests; screens get theirs by injection). */
  resolve<T>(token: InjectionToken<T>): T;
  /** Releases every subscription, the reader, menu entries, open popups and the database. */
  dispose(): Promise<void>;
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

  const store = await TerminalStore.open({ filename: config.dbFile, now: () => clock.now() });
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
    c.register(HostUi, { useValue: host.ui });
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

    const users = disposables.add(c.resolve(UserSessionToken));
    await users.ready;
    const screens = screenClasses.map((cls) => c.resolve(cls as unknown as InjectionToken<PluginScreen>));
    disposables.add(registerScreens(screens, { ui: host.ui, i18n: c.resolve(TranslatorToken), users, logger, mode: config.mode }));
    const flow = c.resolve(RedemptionFlow);
    disposables.add(flow);
    flow.start();
    await host.cardReader.start();
    sync.start(); // never awaited by a sale: a terminal offline works from local data
    logger.info({ terminalId: config.terminal.terminalId, apiVersion: PLUGIN_API_VERSION }, 'CineCard plugin activated');

    let disposing: Promise<void> | undefined;
    return {
      apiVersion: PLUGIN_API_VERSION,
      config,
      store,
      users,
      sync: { get status() { return sync.status; }, onStatus: sync.onStatus, syncNow: () => sync.syncNow() },
      settled: () => flow.settled(),
      resolve: (token) => c.resolve(token),
      dispose: () =>
        (disposing ??= (async () => {
          disposables.dispose(); // listeners, menu entries, popups: no new work starts
          host.cardReader.dispose();
          await flow.settled(); // taps in flight finish against a still-open database
          await sync.dispose(); // an upload or pull in flight finishes first
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
