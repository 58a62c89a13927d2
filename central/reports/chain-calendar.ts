/**
 * Days in the cinema chain's time zone (config `reports.timeZone`, default Asia/Shanghai). A report
 * day is a calendar day where the cinemas are, not a UTC day: 00:30 in Beijing is the same business
 * day as 23:30 the evening before only in UTC.
 *
 * Ops are put into days through their quarter-hour (UTC): every time zone in use today is offset
 * from UTC by a whole number of quarter hours, so all of a quarter hour falls in one local day. The
 * rollup on ingest and the full recomputation (which groups by quarter hour in SQL, because SQLite
 * knows no time zones) both go through {@link dayOfQuarter}, so they cannot disagree.
 */

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
    formatters.set(timeZone, f);
  }
  return f;
}

/** True for a time zone this runtime knows (an IANA name such as `Asia/Shanghai`). */
export function isTimeZone(name: string): boolean {
  try {
    formatter(name);
    return true;
  } catch {
    return false;
  }
}

interface LocalParts {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
}

function partsAt(ms: number, timeZone: string): LocalParts {
  const out: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(ms))) if (p.type !== 'literal') out[p.type] = Number(p.value);
  // Years before 1 come back as "1" with an era; they do not occur in op data that validates.
  return out as unknown as LocalParts;
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** `YYYY-MM-DD` of an instant in the zone. */
export function localDay(ms: number, timeZone: string): string {
  const p = partsAt(ms, timeZone);
  return `${pad(p.year, 4)}-${pad(p.month)}-${pad(p.day)}`;
}

/** The zone's offset from UTC at an instant, in ms (east positive). */
function offsetAt(ms: number, timeZone: string): number {
  const p = partsAt(ms, timeZone);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return asUtc - Math.floor(ms / 1000) * 1000;
}

/** The instant a local day (`YYYY-MM-DD`) starts in the zone. */
export function dayStart(day: string, timeZone: string): number {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  const midnightUtc = Date.UTC(y, m - 1, d);
  // Two passes settle a day that starts next to an offset change.
  let start = midnightUtc - offsetAt(midnightUtc, timeZone);
  start = midnightUtc - offsetAt(start, timeZone);
  return start;
}

/** The local day after `day`. */
export function nextDay(day: string): string {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + 1)).toISOString().slice(0, 10);
}

/** `[start, end)` instants (ISO) covering local days `from`..`to` inclusive. */
export function dayRangeInstants(from: string, to: string, timeZone: string): { readonly since: string; readonly until: string } {
  return { since: new Date(dayStart(from, timeZone)).toISOString(), until: new Date(dayStart(nextDay(to), timeZone)).toISOString() };
}

/**
 * An op's quarter hour, from its stored time (`…THH:MM:SS.sssZ`): the text up to and including
 * `HH:` and the quarter (0–3) of the minute. Same split as the SQL in `rollups.ts`.
 */
export function quarterOf(occurredAt: string): { readonly hourPrefix: string; readonly quarter: number } {
  const n = occurredAt.length;
  return { hourPrefix: occurredAt.slice(0, n - 10), quarter: Math.floor(Number(occurredAt.slice(n - 10, n - 8)) / 15) };
}

/** A cache from quarter hours to local days: ingest meets the same few quarters over and over. */
export class DayCutter {
  private readonly days = new Map<string, string>();

  constructor(readonly timeZone: string) {}

  dayOfQuarter(hourPrefix: string, quarter: number): string {
    const key = `${hourPrefix}${quarter}`;
    let day = this.days.get(key);
    if (day === undefined) {
      const ms = Date.parse(`${hourPrefix}${pad(quarter * 15)}:00.000Z`);
      // A time that does not parse (not written by this service) goes to the UTC day it names.
      day = Number.isFinite(ms) ? localDay(ms, this.timeZone) : hourPrefix.slice(0, 10);
      if (this.days.size > 100_000) this.days.clear();
      this.days.set(key, day);
    }
    return day;
  }

  dayOf(occurredAt: string): string {
    const { hourPrefix, quarter } = quarterOf(occurredAt);
    return this.dayOfQuarter(hourPrefix, quarter);
  }
}
