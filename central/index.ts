/**
 * The central service as a library (`cinecard/central`): start it in-process (demos, benches, the
 * reference host's launcher) or reuse its configuration. The CLI is `central/main.ts`.
 */
export { startCentral, type RunningCentral, type StartOptions } from './service.ts';
export { loadConfig, parseConfig, CentralConfigSchema, ConfigError, type CentralConfig, type CentralConfigInput } from './config.ts';
export { createLogger } from './logging.ts';
export { centralModules } from './modules.ts';
export type { CentralModule, Platform } from './platform.ts';
export { createAdmin } from './users/bootstrap.ts';
export { migrateToLatest } from './store/migration-source.ts';
