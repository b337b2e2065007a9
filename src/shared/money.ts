/**
 * Money is an integer count of the currency's minor unit plus its ISO 4217 code.
 * The exponent comes from ISO 4217: most currencies have 2 decimals, a few have 0 or 3.
 */

const ZERO_DECIMAL = new Set([
  'BIF',
  'CLP',
  'DJF',
  'GNF',
  'ISK',
  'JPY',
  'KMF',
  'KRW',
  'PYG',
  'RWF',
  'UGX',
  'UYI',
  'VND',
  'VUV',
  'XAF',
  'XOF',
  'XPF',
]);
const THREE_DECIMAL = new Set(['BHD', 'IQD', 'JOD', 'KWD', 'LYD', 'OMR', 'TND']);
const CURRENCY_CODE = /^[A-Z]{3}$/;

/** An amount in minor units of `currency`. */
export interface Money {
  readonly minor: number;
  readonly currency: string;
}

/** Upper-cases and checks a currency code; returns undefined when it is not three letters. */
export function normaliseCurrency(code: string): string | undefined {
  const upper = code.trim().toUpperCase();
  return CURRENCY_CODE.test(upper) ? upper : undefined;
}

/** How many decimal places the currency's minor unit has (ISO 4217). */
export function currencyExponent(currency: string): number {
  if (ZERO_DECIMAL.has(currency)) return 0;
  if (THREE_DECIMAL.has(currency)) return 3;
  return 2;
}

const DECIMAL = /^([+-])?(\d*)(?:\.(\d*))?$/;

/**
 * Parses a decimal string (`"1,299.00"`, `"-3.5"`, `"12"`) into minor units exactly, without going
 * through floating point. Thousands separators (`,` or `_`) and spaces are ignored. More decimals than
 * the currency has are rounded half away from zero. Returns undefined for anything that is not a number.
 */
export function parseAmount(text: string, currency: string): number | undefined {
  const cleaned = text.trim().replace(/[,_\s]/g, '');
  if (cleaned === '' || cleaned === '.' || cleaned === '-' || cleaned === '+') return undefined;
  const match = DECIMAL.exec(cleaned);
  if (!match) return undefined;
  const sign = match[1] === '-' ? -1 : 1;
  const whole = match[2] ?? '';
  const fraction = match[3] ?? '';
  if (whole === '' && fraction === '') return undefined;
  const exponent = currencyExponent(currency);
  const kept = fraction.slice(0, exponent).padEnd(exponent, '0');
  let minor = Number(whole === '' ? '0' : whole) * 10 ** exponent + (kept === '' ? 0 : Number(kept));
  const nextDigit = fraction.charCodeAt(exponent) - 48;
  if (nextDigit >= 5 && nextDigit <= 9) minor += 1;
  if (!Number.isSafeInteger(minor)) return undefined;
  return minor === 0 ? 0 : sign * minor;
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
