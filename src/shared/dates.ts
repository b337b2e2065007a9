/**
 * Time in Comeback is explicit: instants are epoch milliseconds (UTC) and every computation takes an
 * `asOf`. An order also keeps the UTC offset it was placed at, so its local calendar date is known.
 */

export const MS_PER_DAY = 86_400_000;
export const MS_PER_WEEK = 7 * MS_PER_DAY;

/** An instant plus the offset (minutes east of UTC) of the wall clock it was written in. */
export interface Timestamp {
  readonly epochMs: number;
  readonly offsetMinutes: number;
}

const PATTERN =
  /^(\d{4})-?(\d{2})-?(\d{2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|UTC|GMT|[+-]\d{2}:?\d{2})?$/i;
const SLASHED = /^(\d{1,2})\/(\d{1,2})\/(\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$/;

/**
 * Parses the timestamps that shop exports write: ISO 8601 (`2025-12-06T10:37:33-05:00`, `…Z`),
 * Shopify's `2025-12-06 10:37:33 -0500`, plain `2010-12-01 08:26:00`, `19970101`, and `M/D/YYYY H:MM`
 * (the original UCI file). A value without an offset is read as wall time in `timeZone` (an IANA name,
 * default UTC). Returns undefined when the text is not a valid date.
 */
export function parseTimestamp(text: string, timeZone = 'UTC'): Timestamp | undefined {
  const value = text.trim();
  let year: number;
  let month: number;
  let day: number;
  let hour = 0;
  let minute = 0;
  let second = 0;
  let millis = 0;
  let zone: string | undefined;
  const iso = PATTERN.exec(value);
  if (iso) {
    year = Number(iso[1]);
    month = Number(iso[2]);
    day = Number(iso[3]);
    hour = Number(iso[4] ?? 0);
    minute = Number(iso[5] ?? 0);
    second = Number(iso[6] ?? 0);
    millis = iso[7] ? Number(iso[7].slice(0, 3).padEnd(3, '0')) : 0;
    zone = iso[8];
  } else {
    const slashed = SLASHED.exec(value);
    if (!slashed) return undefined;
    month = Number(slashed[1]);
    day = Number(slashed[2]);
    year = Number(slashed[3]);
    hour = Number(slashed[4] ?? 0);
    minute = Number(slashed[5] ?? 0);
    second = Number(slashed[6] ?? 0);
  }
  if (!isValidCivil(year, month, day, hour, minute, second)) return undefined;
  const wall = Date.UTC(year, month - 1, day, hour, minute, second, millis);
  if (zone !== undefined) {
    const offsetMinutes = parseOffset(zone);
    return { epochMs: wall - offsetMinutes * 60_000, offsetMinutes };
  }
  return wallTimeInZone(wall, timeZone);
}

function isValidCivil(y: number, mo: number, d: number, h: number, mi: number, s: number): boolean {
  if (y < 1900 || y > 2200 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 60) return false;
  return d <= new Date(Date.UTC(y, mo, 0)).getUTCDate();
}

function parseOffset(zone: string): number {
  const upper = zone.toUpperCase();
  if (upper === 'Z' || upper === 'UTC' || upper === 'GMT') return 0;
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  return sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4)));
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Checks an IANA time-zone name; returns false for names the runtime does not know. */
export function isValidTimeZone(timeZone: string): boolean {
  try {
    zoneFormatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

function zoneFormatter(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** The offset (minutes east of UTC) that `timeZone` has at the instant `epochMs`. */
export function zoneOffsetAt(epochMs: number, timeZone: string): number {
  if (timeZone === 'UTC') return 0;
  const parts = zoneFormatter(timeZone).formatToParts(new Date(epochMs));
  const get = (type: Intl.DateTimeFormatPartTypes): number => Number(parts.find((p) => p.type === type)?.value);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return Math.round((asUtc - Math.floor(epochMs / 1000) * 1000) / 60_000);
}

/** Reads a wall-clock time (given as if it were UTC) in `timeZone`; a gap or overlap takes the earlier offset. */
export function wallTimeInZone(wallAsUtc: number, timeZone: string): Timestamp {
  if (timeZone === 'UTC') return { epochMs: wallAsUtc, offsetMinutes: 0 };
  let offset = zoneOffsetAt(wallAsUtc, timeZone);
  const second = zoneOffsetAt(wallAsUtc - offset * 60_000, timeZone);
  if (second !== offset) offset = Math.max(offset, second);
  return { epochMs: wallAsUtc - offset * 60_000, offsetMinutes: offset };
}

/** The local calendar date (`YYYY-MM-DD`) of an instant written at `offsetMinutes`. */
export function localDate(epochMs: number, offsetMinutes: number): string {
  return new Date(epochMs + offsetMinutes * 60_000).toISOString().slice(0, 10);
}

/** An instant as ISO 8601 with its own offset, e.g. `2025-12-06T10:37:33-05:00`. */
export function formatWithOffset(epochMs: number, offsetMinutes: number): string {
  const local = new Date(epochMs + offsetMinutes * 60_000).toISOString().slice(0, 19);
  if (offsetMinutes === 0) return `${local}Z`;
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  return `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

/**
 * Parses a calendar date or instant given on a command line or in an API query (`2011-01-01`), as the
 * START of that day: midnight in `timeZone` (the store's IANA zone, default UTC); a time without an
 * offset is wall time there, an instant with one is taken as it is. Undefined when not a date.
 */
export function parseDateArgument(text: string, timeZone = 'UTC'): number | undefined {
  return parseTimestamp(text, timeZone)?.epochMs;
}

/**
 * Parses a date a person typed as the END of a range, inclusive: `2011-03-31` means up to and including
 * that day, so the result is the next midnight in `timeZone` (the store's zone, default UTC; the
 * exclusive instant every query uses): `2025-06-26` in Asia/Seoul is 2025-06-26T15:00Z. A full instant
 * (`2011-03-31T12:00:00Z`) is taken as it is. Undefined when the text is not a date.
 */
export function parseEndDateArgument(text: string, timeZone = 'UTC'): number | undefined {
  const value = text.trim();
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return parseDateArgument(value, timeZone);
  const midnightUtc = parseDateArgument(value, 'UTC');
  if (midnightUtc === undefined) return undefined;
  return wallTimeInZone(midnightUtc + MS_PER_DAY, timeZone).epochMs;
}

/** The calendar date (`YYYY-MM-DD`) in `timeZone` (IANA, default UTC) of the instant `epochMs`. */
export function dayInZone(epochMs: number, timeZone = 'UTC'): string {
  return localDate(epochMs, zoneOffsetAt(epochMs, timeZone));
}

/** The first midnight in `timeZone` after the instant `epochMs`: the end of its local day (epoch ms). */
export function dayEndInZone(epochMs: number, timeZone = 'UTC'): number {
  if (timeZone === 'UTC') return (Math.floor(epochMs / MS_PER_DAY) + 1) * MS_PER_DAY;
  return wallTimeInZone(Date.parse(dayInZone(epochMs, timeZone)) + MS_PER_DAY, timeZone).epochMs;
}

/** Whether `epochMs` is a midnight in `timeZone` (default UTC), i.e. the end of a local day. */
export function isMidnightInZone(epochMs: number, timeZone = 'UTC'): boolean {
  return dayEndInZone(epochMs - 1, timeZone) === epochMs;
}

/** Days between two instants, as a fraction. */
export function daysBetween(fromMs: number, toMs: number): number {
  return (toMs - fromMs) / MS_PER_DAY;
}
