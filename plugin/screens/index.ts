/**
 * The management screens `activate` puts in the host's menu: one class per screen (sell, renew,
 * blacklist, recycle list, re-issue, history, users, rules, HQ station …), each implementing
 * {@link PluginScreen}. Add a class here and it is registered, permission-checked and disposed.
 */
import { LoginScreen, RulesScreen, UsersScreen } from './admin-screens.ts';
import { ReissueCardScreen, RenewCardScreen, SellCardScreen, TopUpCardScreen } from './card-screens.ts';
import { ChangeCardTypeScreen, MakeCardsScreen } from './hq-screens.ts';
import { BlacklistScreen, CardHistoryScreen, RecycleListScreen } from './list-screens.ts';
import type { PluginScreen } from './plugin-screen.ts';
import { RebuildScreen } from './rebuild-screen.ts';
import { StatsScreen } from './stats-screen.ts';
import { SyncStatusScreen } from './sync-screen.ts';

export type ScreenClass = new (...args: never[]) => PluginScreen;

export const screenClasses: readonly ScreenClass[] = [
  LoginScreen,
  SellCardScreen,
  RenewCardScreen,
  BlacklistScreen,
  RecycleListScreen,
  ReissueCardScreen,
  CardHistoryScreen,
  UsersScreen,
  RulesScreen,
  MakeCardsScreen,
  TopUpCardScreen,
  ChangeCardTypeScreen,
  SyncStatusScreen,
  StatsScreen,
  RebuildScreen,
];

export * from './plugin-screen.ts';
