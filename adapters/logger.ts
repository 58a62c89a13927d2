/**
 * `Logger`: structured logs, the subset of pino's API the plugin uses, so a host can pass pino or
 * its own. Never log keys, tokens or passwords.
 */
import type { InjectionToken } from 'tsyringe';

export interface LogFn {
  (obj: Record<string, unknown>, msg?: string): void;
  (msg: string): void;
}

export interface Logger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  child(bindings: Record<string, unknown>): Logger;
}

export const Logger: InjectionToken<Logger> = Symbol.for('cinecard.Logger');

const noop: LogFn = () => {};
/** A logger that drops everything. */
export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop, child: () => silentLogger };
