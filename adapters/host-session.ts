/** `HostSession`: who is at the till and where. Supplied by the host; read by the plugin. */
import type { InjectionToken } from 'tsyringe';
import type { Event } from './lifecycle.ts';

export type Locale = 'zh-CN' | 'en';
export const LOCALES: readonly Locale[] = ['zh-CN', 'en'];

/** The host's own operator (cashier) identity. The plugin may map it onto a CineCard user. */
export interface HostOperator {
  readonly id: string;
  readonly name: string;
}

export interface HostSession {
  /** The operator logged in to the host, if any. */
  readonly operator: HostOperator | undefined;
  /** The host's own station / terminal id (informational: CineCard enrols terminals itself). */
  readonly stationId: string;
  /** The language the cashier reads; CineCard defaults to zh-CN. */
  readonly locale: Locale;
  readonly onOperatorChanged: Event<HostOperator | undefined>;
  readonly onLocaleChanged: Event<Locale>;
}

export const HostSession: InjectionToken<HostSession> = Symbol.for('cinecard.HostSession');
