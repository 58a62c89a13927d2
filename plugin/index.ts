/**
 * `cinecard/plugin`: the CineCard POS plugin. A host calls {@link activate} with its adapters
 * (`spec/host-contract.md`) and a configuration, and disposes the handle when it unloads the plugin.
 */
export { activate, DISPOSE_WAIT_MS, PLUGIN_API_VERSION, type PluginCardTypes, type PluginHandle, type PluginHost, type PluginUsers } from './activate.ts';
export { PluginConfig, parseConfig, type PluginConfigInput } from './config.ts';
export { can, roles, rolePermissions, type Actor, type Permission, type Role } from './auth/permissions.ts';
export { hashPassword, LocalUsers, USER_MATCH_WAIT_MS, UserSession, type LocalUser, type LocalUserInput, type UserMode } from './auth/user-session.ts';
export { messages, translate, DEFAULT_LOCALE, type MessageKey } from './i18n/catalogue.ts';
export { Translator } from './i18n/translator.ts';
export { RedemptionRule, proposeDeductions, type Deduction, type Consumption } from './redemption/redemption-rules.ts';
export { registerScreens, requirePermission, type PluginScreen, type MenuGroup, type RegisteredScreens } from './screens/index.ts';
export { TerminalStore, type Op, type OpDraft, type OpKind } from './store/terminal-store.ts';
export { CardCache, type CachedCard, type CardType } from './store/card-cache.ts';
export { RedemptionRuleStore } from './store/redemption-rule-store.ts';
export * from './card/index.ts';
