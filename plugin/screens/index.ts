/**
 * The management screens `activate` puts in the host's menu: one class per screen (sell, renew,
 * blacklist, recycle list, re-issue, history, users, rules, HQ station …), each implementing
 * {@link PluginScreen}. Add a class here and it is registered, permission-checked and disposed.
 */
import type { PluginScreen } from './plugin-screen.ts';

export type ScreenClass = new (...args: never[]) => PluginScreen;

export const screenClasses: readonly ScreenClass[] = [];

export * from './plugin-screen.ts';
