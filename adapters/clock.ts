/** `Clock`: injectable time, so tests control it. Device clocks are never trusted for ordering. */
import type { InjectionToken } from 'tsyringe';

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

export const Clock: InjectionToken<Clock> = Symbol.for('cinecard.Clock');

export const systemClock: Clock = { now: () => Date.now() };
