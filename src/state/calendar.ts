// Calendar windows (day, week, month) in an IANA time zone, as [start, end) instants in ms.
//
// Local midnight is found from the zone's UTC offset, read with Intl.DateTimeFormat, so DST is handled by
// the platform's tz database: a spring-forward day is 23 h long, a fall-back day 25 h. Where midnight
// itself does not exist (zones that jump 00:00 → 01:00), the day starts at the first instant after the gap.

export type CalendarUnit = 'day' | 'week' | 'month';

export interface CalendarOptions {
  readonly timeZone: string;
  /** 0 = Sunday … 6 = Saturday; default 1 (Monday, ISO 8601). */
  readonly weekStart?: number;
}

interface LocalDate {
  readonly y: number;
  /** 1-12 */
  readonly m: number;
  readonly d: number;
}

const DAY = 86_400_000;
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** Local wall-clock fields of an instant, as the ms value they would have if they were UTC. */
function wallAsUtc(t: number, timeZone: string): number {
  const p: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(t)) {
    if (part.type !== 'literal') p[part.type] = Number(part.value);
  }
  return Date.UTC(p.year ?? 1970, (p.month ?? 1) - 1, p.day ?? 1, p.hour ?? 0, p.minute ?? 0, p.second ?? 0);
}

/** UTC offset (ms, local − UTC) in effect at instant t. */
function offsetAt(t: number, timeZone: string): number {
  return wallAsUtc(t, timeZone) - Math.floor(t / 1000) * 1000;
}

/** The local calendar date of an instant. */
export function localDate(t: number, timeZone: string): LocalDate {
  const w = new Date(wallAsUtc(t, timeZone));
  return { y: w.getUTCFullYear(), m: w.getUTCMonth() + 1, d: w.getUTCDate() };
}

/** The first instant of a local date. */
export function startOfLocalDate(date: LocalDate, timeZone: string): number {
  const midnight = Date.UTC(date.y, date.m - 1, date.d);
  // The offset at local midnight is one of those in effect within ±14 h of it.
  const candidates = [
    midnight - offsetAt(midnight - 14 * 3_600_000, timeZone),
    midnight - offsetAt(midnight + 14 * 3_600_000, timeZone),
  ];
  let exact = Infinity;
  let sameDay = Infinity;
  for (const c of candidates) {
    const wall = wallAsUtc(c, timeZone);
    if (wall === midnight) exact = Math.min(exact, c);
    else if (wall > midnight && wall < midnight + DAY) sameDay = Math.min(sameDay, c);
  }
  return exact !== Infinity ? exact : sameDay;
}

function addDays(date: LocalDate, days: number): LocalDate {
  const t = new Date(Date.UTC(date.y, date.m - 1, date.d + days));
  return { y: t.getUTCFullYear(), m: t.getUTCMonth() + 1, d: t.getUTCDate() };
}

/** [start, end) of the calendar unit containing instant `now`. */
export function calendarWindow(
  unit: CalendarUnit,
  now: number,
  options: CalendarOptions,
): { start: number; end: number } {
  const tz = options.timeZone;
  const today = localDate(now, tz);
  let first: LocalDate;
  let next: LocalDate;
  switch (unit) {
    case 'day':
      first = today;
      next = addDays(today, 1);
      break;
    case 'week': {
      const dow = new Date(Date.UTC(today.y, today.m - 1, today.d)).getUTCDay();
      first = addDays(today, -((dow - (options.weekStart ?? 1) + 7) % 7));
      next = addDays(first, 7);
      break;
    }
    case 'month':
      first = { y: today.y, m: today.m, d: 1 };
      next = today.m === 12 ? { y: today.y + 1, m: 1, d: 1 } : { y: today.y, m: today.m + 1, d: 1 };
      break;
  }
  return { start: startOfLocalDate(first, tz), end: startOfLocalDate(next, tz) };
}

/** calendarWindow with the last answer per unit remembered (the hot path asks many times per window). */
export class CalendarWindows {
  readonly #options: CalendarOptions;
  readonly #last = new Map<CalendarUnit, { start: number; end: number }>();

  constructor(options: CalendarOptions) {
    formatter(options.timeZone); // throws RangeError now for an unknown zone
    this.#options = options;
  }

  get timeZone(): string {
    return this.#options.timeZone;
  }

  window(unit: CalendarUnit, now: number): { start: number; end: number } {
    const last = this.#last.get(unit);
    if (last !== undefined && now >= last.start && now < last.end) return last;
    const next = calendarWindow(unit, now, this.#options);
    this.#last.set(unit, next);
    return next;
  }
}
