/**
 * DI tokens for the plugin's own services (the adapters' tokens live beside their contracts in
 * `adapters/`). Only `activate.ts` registers them; classes receive them with `@inject(token)`.
 */
import type { InjectionToken } from 'tsyringe';
import type { UserSession } from './auth/user-session.ts';
import type { LocalUsers } from './auth/user-session.ts';
import type { CardProfile } from './card/card-profile.ts';
import type { PluginConfig } from './config.ts';
import type { Translator } from './i18n/translator.ts';
import type { CardCache } from './store/card-cache.ts';
import type { TerminalCardJournal } from './store/card-journal.ts';
import type { RedemptionRuleStore } from './store/redemption-rule-store.ts';
import type { TerminalStore } from './store/terminal-store.ts';
import type { PluginSync } from './sync/plugin-sync.ts';

export const PluginConfigToken: InjectionToken<PluginConfig> = Symbol.for('cinecard.plugin.PluginConfig');
export const TerminalStoreToken: InjectionToken<TerminalStore> = Symbol.for('cinecard.plugin.TerminalStore');
export const CardProfileToken: InjectionToken<CardProfile> = Symbol.for('cinecard.plugin.CardProfile');
export const CardJournalToken: InjectionToken<TerminalCardJournal> = Symbol.for('cinecard.plugin.TerminalCardJournal');
export const CardCacheToken: InjectionToken<CardCache> = Symbol.for('cinecard.plugin.CardCache');
export const RuleStoreToken: InjectionToken<RedemptionRuleStore> = Symbol.for('cinecard.plugin.RedemptionRuleStore');
export const LocalUsersToken: InjectionToken<LocalUsers> = Symbol.for('cinecard.plugin.LocalUsers');
export const UserSessionToken: InjectionToken<UserSession> = Symbol.for('cinecard.plugin.UserSession');
export const TranslatorToken: InjectionToken<Translator> = Symbol.for('cinecard.plugin.Translator');
export const PluginSyncToken: InjectionToken<PluginSync> = Symbol.for('cinecard.plugin.PluginSync');
