import { isIsoCurrency, isoMinorUnits, MAX_AMOUNT_MINOR } from './currencies.js';

/**
 * Money is an integer count of the currency's minor unit plus its ISO 4217 code.
 * The exponent comes from ISO 4217: most currencies have 2 decimals, a few have 0 or 3.
 */

export { MAX_AMOUNT_MINOR } from './currencies.js';
/** The largest quantity of one line. */
export const MAX_QUANTITY = 10_000_000;

/** An amount in minor units of `currency`. */
export interface Money {
  readonly minor: number;
  readonly currency: string;
}

/** Upper-cases and checks a currency code; undefined unless it is a real ISO 4217 code (`ZZZ` is not). */
export function normaliseCurrency(code: string): string | undefined {
  const upper = code.trim().toUpperCase();
  return isIsoCurrency(upper) ? upper : undefined;
}

/** True for a real ISO 4217 code written in capitals. */
export function isCurrencyCode(code: string): boolean {
  return isIsoCurrency(code);
}

/**
 * Why `value` cannot be stored as an amount of money in minor units, or undefined when it can: it must
 * be a safe integer of magnitude at most `MAX_AMOUNT_MINOR`, and non-negative unless `allowNegative`
 * (a line's discount, an adjustment). The one bounds check of every edge: importers, API, webhooks.
 */
export function amountProblem(value: unknown, { allowNegative = false } = {}): string | undefined {
  if (typeof value !== 'number' || !Number.isFinite(value)) return 'is not a number';
  if (!Number.isSafeInteger(value)) return 'is not a whole number of minor units';
  if (Math.abs(value) > MAX_AMOUNT_MINOR) return `is beyond the maximum of ${MAX_AMOUNT_MINOR} minor units`;
  if (value < 0 && !allowNegative) return 'is negative';
  return undefined;
}

/** Why `value` cannot be a line's quantity (a safe integer of magnitude at most `MAX_QUANTITY`), or undefined. */
export function quantityProblem(value: unknown, { allowNegative = false } = {}): string | undefined {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) return 'is not a whole number';
  if (Math.abs(value) > MAX_QUANTITY) return `is beyond the maximum of ${MAX_QUANTITY}`;
  if (value < 0 && !allowNegative) return 'is negative';
  return undefined;
}

/** How many decimal places the currency's minor unit has (ISO 4217). */
export function currencyExponent(currency: string): number {
  return isoMinorUnits(currency) ?? 2;
}

/** Which character separates the decimals: `12.50` (point) or `12,50` (comma). */
export type DecimalMark = 'point' | 'comma';

/** The outcome of reading an amount: minor units and, when only one mark reads it, that mark. */
export type AmountReading = { ok: true; minor: number; mark?: DecimalMark } | { ok: false; reason: string };

/**
 * Reads decimal text (`"1,299.00"`, `"1.234,56"`, `"-3.5"`, `"12"`) into minor units exactly, without
 * floating point. With `mark` given, the other mark may only group thousands (`1.234,56` with a comma,
 * `1,234.56` with a point; groups of three, spaces and `_` allowed). With `auto`, text that reads one way
 * only says which mark it proved (`12,50`, `7,5`, `1.234,56` → comma), and text that reads two ways with
 * different values (`1,234`, `1.000`) is refused as ambiguous rather than guessed. More decimals than
 * the currency has are rounded half away from zero.
 */
export function readAmount(text: string, currency: string, mark: DecimalMark | 'auto'): AmountReading {
  const quoted = `"${text.trim()}"`;
  if (mark !== 'auto') {
    const minor = readWith(text, currency, mark);
    if (minor !== undefined) return { ok: true, minor };
    const other: DecimalMark = mark === 'point' ? 'comma' : 'point';
    if (readWith(text, currency, other) !== undefined) {
      return { ok: false, reason: `${quoted} reads only with a decimal ${other}, but the decimal mark is a ${mark}` };
    }
    return { ok: false, reason: `${quoted} is not a number` };
  }
  const point = readWith(text, currency, 'point');
  const comma = readWith(text, currency, 'comma');
  if (point === undefined && comma === undefined) return { ok: false, reason: `${quoted} is not a number` };
  if (comma === undefined) return { ok: true, minor: point!, mark: hasMark(text) ? 'point' : undefined };
  if (point === undefined) return { ok: true, minor: comma, mark: 'comma' };
  if (point === comma) return { ok: true, minor: point };
  return {
    ok: false,
    reason: `${quoted} is ambiguous: ${point} or ${comma} minor units depending on the decimal mark (pass --decimal-comma or --decimal-point)`,
  };
}

function hasMark(text: string): boolean {
  return /[.,]/.test(text);
}

const SIGNED = /^([+-])?(.*)$/;

function readWith(text: string, currency: string, mark: DecimalMark): number | undefined {
  const [, signText, rest] = SIGNED.exec(text.trim().replace(/[\s\u00a0\u202f_]/g, '')) ?? [];
  const body = rest ?? '';
  const decimal = mark === 'point' ? '.' : ',';
  const group = mark === 'point' ? ',' : '.';
  const parts = body.split(decimal);
  if (parts.length > 2) return undefined;
  let whole = parts[0]!;
  const fraction = parts[1] ?? '';
  if (!/^\d*$/.test(fraction)) return undefined;
  if (whole.includes(group)) {
    const grouped = group === ',' ? /^[1-9]\d{0,2}(,\d{3})+$/ : /^[1-9]\d{0,2}(\.\d{3})+$/;
    if (!grouped.test(whole)) return undefined;
    whole = whole.split(group).join('');
  }
  if (!/^\d*$/.test(whole) || (whole === '' && fraction === '')) return undefined;
  const exponent = currencyExponent(currency);
  const kept = fraction.slice(0, exponent).padEnd(exponent, '0');
  let minor = Number(whole === '' ? '0' : whole) * 10 ** exponent + (kept === '' ? 0 : Number(kept));
  const nextDigit = fraction.charCodeAt(exponent) - 48;
  if (nextDigit >= 5 && nextDigit <= 9) minor += 1;
  if (!Number.isSafeInteger(minor)) return undefined;
  return minor === 0 ? 0 : (signText === '-' ? -1 : 1) * minor;
}

/**
 * Parses decimal text with a decimal point (`"1,299.00"`, `"-3.5"`, `"12"`) into minor units exactly;
 * a comma may only group thousands (`"12,50"` is not a number here: see `readAmount`). Returns
 * undefined for anything that is not a number.
 */
export function parseAmount(text: string, currency: string): number | undefined {
  const reading = readAmount(text, currency, 'point');
  return reading.ok ? reading.minor : undefined;
}

/**
 * Reads an amount a person types in major units with a decimal point (`"5.00"`, `"-2.5"`, `"15000"` KRW)
 * into minor units by the currency's ISO 4217 exponent, refusing what `parseAmount` would round: more
 * decimals than the currency has (`"5.005"` USD, `"100.5"` KRW) is a mistake to show, not to guess.
 * The amount must be within `MAX_AMOUNT_MINOR`; zero and negatives are the caller's to judge.
 */
export function readExactAmount(
  text: string,
  currency: string,
): { ok: true; minor: number } | { ok: false; reason: string } {
  const quoted = `"${text.trim()}"`;
  const reading = readAmount(text, currency, 'point');
  if (!reading.ok) return reading;
  const decimals = /\.(\d*)$/.exec(text.trim())?.[1]?.length ?? 0;
  const exponent = currencyExponent(currency);
  if (decimals > exponent) {
    return {
      ok: false,
      reason: `${quoted} has ${decimals} decimal${decimals === 1 ? '' : 's'}; ${currency} has ${exponent === 0 ? 'none' : exponent}`,
    };
  }
  const problem = amountProblem(reading.minor, { allowNegative: true });
  return problem ? { ok: false, reason: `${quoted} ${problem}` } : { ok: true, minor: reading.minor };
}

/** Minor units to a major-unit number (for display and JSON only, never for storage). */
export function toMajor(minor: number, currency: string): number {
  return minor / 10 ** currencyExponent(currency);
}

/** Formats money for people, in the given locale (KRW and JPY come out without decimals). */
export function formatMoney(minor: number, currency: string, locale = 'en'): string {
  const exponent = currencyExponent(currency);
  return new Intl.NumberFormat(locale, {
    style: 'currency',
    currency,
    minimumFractionDigits: exponent,
    maximumFractionDigits: exponent,
  }).format(toMajor(minor, currency));
}

/**
 * The main currency is the one with most sales in this many days before the as-of, then with most
 * sales before it: a database that holds an old shop's sales beside a current one's (or a shop that
 * moved to another currency) reports the currency it sells in now.
 */
export const MAIN_CURRENCY_DAYS = 365;
