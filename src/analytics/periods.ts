import { ComebackError } from '../errors.js';
import { MS_PER_DAY, wallTimeInZone, zoneOffsetAt } from '../shared/dates.js';

/**
 * A half-open period `[from, to)` in epoch milliseconds; `timeZone` (IANA, default UTC) is the store's
 * zone its month boundaries are local midnights of, so that the period before it is whole months too.
 */
export interface Period {
  readonly from: number;
  readonly to: number;
  readonly timeZone?: string;
}

const DURATION = /^(\d+)\s*(d|w|m|y)?$/i;

/**
 * Parses a duration written `365d`, `52w`, `12m` or `1y` (a bare number is days) into whole days;
 * months count 30 days and years 365, which is what an "active window" means in practice.
 */
export function parseDurationDays(text: string, field = 'duration'): number {
  const match = DURATION.exec(text.trim());
  const amount = match ? Number(match[1]) : Number.NaN;
  if (!match || !Number.isSafeInteger(amount) || amount <= 0) {
    throw new ComebackError('usage', `${field} ${text}: write a positive duration such as 365d, 52w or 12m`);
  }
  const unit = (match[2] ?? 'd').toLowerCase();
  const days = { d: 1, w: 7, m: 30, y: 365 }[unit] ?? 1;
  return amount * days;
}

/**
 * Midnight of the first day of the month that holds `ms`, moved by `months` months, in `timeZone`
 * (default UTC): in Asia/Seoul, March 2024 starts at 2024-02-29T15:00Z.
 */
export function monthStart(ms: number, months = 0, timeZone = 'UTC'): number {
  const d = new Date(ms + zoneOffsetAt(ms, timeZone) * 60_000);
  return wallTimeInZone(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + months, 1), timeZone).epochMs;
}

/** UTC midnight of the day that holds `ms`. */
export function dayStart(ms: number): number {
  return Math.floor(ms / MS_PER_DAY) * MS_PER_DAY;
}

/**
 * The default report period: the last full calendar month before `asOf`, compared with the month
 * before it — the monthly reading a store owner makes (the month that holds `asOf` is left out
 * unless `asOf` is its very start, since a half month would read as a drop). A year-long period
 * would leave the start population empty for any store with less than two years of history.
 */
export function defaultPeriod(asOf: number, timeZone = 'UTC'): Period {
  const to = monthStart(asOf, 0, timeZone);
  return { from: monthStart(to, -1, timeZone), to, ...(timeZone === 'UTC' ? {} : { timeZone }) };
}

/**
 * The period just before `period`: as many calendar months earlier when both ends are month starts
 * (so that June–November compares with December–May), else the same number of milliseconds.
 */
export function previousPeriod(period: Period): Period {
  const { from, to, timeZone = 'UTC' } = period;
  const zone = timeZone === 'UTC' ? {} : { timeZone };
  if (monthStart(from, 0, timeZone) === from && monthStart(to, 0, timeZone) === to) {
    const a = new Date(from + zoneOffsetAt(from, timeZone) * 60_000);
    const b = new Date(to + zoneOffsetAt(to, timeZone) * 60_000);
    const months = (b.getUTCFullYear() - a.getUTCFullYear()) * 12 + b.getUTCMonth() - a.getUTCMonth();
    return { from: monthStart(from, -months, timeZone), to: from, ...zone };
  }
  return { from: from - (to - from), to: from, ...zone };
}

/** `2011-01-03` for an epoch day number. */
export function epochDayToDate(day: number): string {
  return new Date(day * MS_PER_DAY).toISOString().slice(0, 10);
}

/**
 * The Monday-based week number since the epoch of an epoch day (1970-01-01 was a Thursday, so Monday
 * 1969-12-29 starts week 0). Spelled the same in SQL as `(day + 3) / 7` on non-negative days.
 */
export function weekOfEpochDay(day: number): number {
  return Math.floor((day + 3) / 7);
}

/** The ISO 8601 week label (`2011-W01`) of a week number from `weekOfEpochDay`. */
export function isoWeekLabel(week: number): string {
  const monday = week * 7 - 3;
  // The ISO year of a week is the year of its Thursday.
  const thursday = new Date((monday + 3) * MS_PER_DAY);
  const year = thursday.getUTCFullYear();
  const jan1 = Date.UTC(year, 0, 1) / MS_PER_DAY;
  const index = Math.floor((monday + 3 - jan1) / 7) + 1;
  return `${year}-W${String(index).padStart(2, '0')}`;
}

/** `2011-01` for a month number `year × 12 + month − 1`. */
export function monthLabel(month: number): string {
  return `${Math.floor(month / 12)}-${String((month % 12) + 1).padStart(2, '0')}`;
}
