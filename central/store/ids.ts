import { v7 } from 'uuid';

/** A new id: UUIDv7, so ids sort by creation time (the audit log pages by id). */
export function newId(): string {
  return v7();
}

/** Where the service reads the time; tests may pass a fixed or stepping clock. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** Times are stored as UTC ISO-8601 text with milliseconds: same on both dialects, sortable. */
export function isoTime(date: Date): string {
  return date.toISOString();
}
