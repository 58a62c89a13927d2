/**
 * Days in the cinema chain's time zone (config `reports.timeZone`, default Asia/Shanghai). A report
 * day is a calendar day where the cinemas are, not a UTC day: 00:30 in Beijing is the same business
 * day as 23:30 the evening before only in UTC.
 *
 * On ingest an op's day comes from `Intl` (cached per UTC quarter hour: every time zone in use
 * today is offset from UTC by whole quarter hours, so a quarter hour falls in one local day). The
 * full recomputation cuts days in SQL, and SQLite knows no time zones: it is given the zone's
 * offsets as {@link offsetSegments} — spans of constant offset found with the same `Intl` — and
 * adds the span's offset to the UTC time ({@link localDaySql}). Both read one source of zone rules.
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

/** The calendar day `by` days after `day` (before it when negative). */
export function shiftDay(day: string, by: number): string {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + by)).toISOString().slice(0, 10);
}

/** The local day after `day`. */
export function nextDay(day: string): string {
  return shiftDay(day, 1);
}

/** `YYYY-MM-DD` of the day it is now (`now`) in the zone: the chain's today. */
export function chainToday(now: Date, timeZone: string): string {
  return localDay(now.getTime(), timeZone);
}

/** `[start, end)` instants (ISO) covering local days `from`..`to` inclusive. */
export function dayRangeInstants(from: string, to: string, timeZone: string): { readonly since: string; readonly until: string } {
  return { since: new Date(dayStart(from, timeZone)).toISOString(), until: new Date(dayStart(nextDay(to), timeZone)).toISOString() };
}

/** Local days of stored op times (`…THH:MM:SS.sssZ`), cached per UTC quarter hour. */
export class DayCutter {
  private readonly days = new Map<string, string>();

  constructor(readonly timeZone: string) {}

  dayOf(occurredAt: string): string {
    const n = occurredAt.length;
    // The text up to `HH:` and the quarter of the minute name the quarter hour.
    const key = `${occurredAt.slice(0, n - 10)}${Math.floor(Number(occurredAt.slice(n - 10, n - 8)) / 15)}`;
    let day = this.days.get(key);
    if (day === undefined) {
      const ms = Date.parse(occurredAt);
      // A time that does not parse (not written by this service) goes to the UTC day it names.
      day = Number.isFinite(ms) ? localDay(ms, this.timeZone) : occurredAt.slice(0, 10);
      if (this.days.size > 100_000) this.days.clear();
      this.days.set(key, day);
    }
    return day;
  }
}

/** A span of time (`[from, until)`, ISO; open ends undefined) in which the zone's offset is constant. */
export interface OffsetSegment {
  readonly from: string | undefined;
  readonly until: string | undefined;
  /** Minutes east of UTC. */
  readonly offsetMinutes: number;
}

const hourMs = 3_600_000;

/**
 * The spans of constant offset covering `[fromMs, toMs]`: one for Asia/Shanghai, two a year where
 * clocks change. Changes are found day by day and pinned to the minute by bisection.
 */
export function offsetSegments(timeZone: string, fromMs: number, toMs: number): OffsetSegment[] {
  const segments: OffsetSegment[] = [];
  let start: number | undefined;
  let offset = offsetAt(fromMs, timeZone);
  for (let t = fromMs; t < toMs; ) {
    const next = Math.min(t + 24 * hourMs, toMs);
    const there = offsetAt(next, timeZone);
    if (there !== offset) {
      let lo = t;
      let hi = next;
      while (hi - lo > 60_000) {
        const mid = Math.floor((lo + hi) / 2 / 60_000) * 60_000;
        if (mid <= lo) break;
        if (offsetAt(mid, timeZone) === offset) lo = mid;
        else hi = mid;
      }
      segments.push({ from: start === undefined ? undefined : new Date(start).toISOString(), until: new Date(hi).toISOString(), offsetMinutes: offset / 60_000 });
      start = hi;
      offset = offsetAt(hi, timeZone);
    }
    t = next;
  }
  segments.push({ from: start === undefined ? undefined : new Date(start).toISOString(), until: undefined, offsetMinutes: offset / 60_000 });
  return segments;
}

/**
 * SQL for the local day (`YYYY-MM-DD`) of a stored UTC time column, given the zone's offsets over
 * the data ({@link offsetSegments}). Returns the expression and its bindings.
 */
export function localDaySql(dialect: 'sqlite' | 'postgres', column: string, segments: readonly OffsetSegment[]): { sql: string; bindings: (string | number)[] } {
  const shifted = (minutes: number) =>
    dialect === 'sqlite'
      ? { sql: `date(${column}, ?)`, bindings: [`${minutes >= 0 ? '+' : ''}${minutes} minutes`] }
      : // A zone in the text is ignored when read as a timestamp without time zone: the UTC wall clock.
        { sql: `to_char(CAST(${column} AS timestamp) + CAST(? AS integer) * interval '1 minute', 'YYYY-MM-DD')`, bindings: [minutes] };
  if (segments.length === 1) return shifted(segments[0]!.offsetMinutes);
  const bindings: (string | number)[] = [];
  const cases = segments.map((s) => {
    const day = shifted(s.offsetMinutes);
    if (s.until === undefined) {
      bindings.push(...day.bindings);
      return `ELSE ${day.sql}`;
    }
    bindings.push(s.until, ...day.bindings);
    return `WHEN ${column} < ? THEN ${day.sql}`;
  });
  return { sql: `CASE ${cases.join(' ')} END`, bindings };
}
