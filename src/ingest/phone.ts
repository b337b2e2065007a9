import { type CountryCode, isSupportedCountry, parsePhoneNumberFromString } from 'libphonenumber-js';
import { normalisePhone } from './records.js';

/**
 * A phone number in E.164 (`+14155550100`) when it can be read as a valid number, either because it
 * carries its country code or with the customer's country (ISO 3166 alpha-2, e.g. `US`, `KR`); else the
 * digits as `normalisePhone` keeps them; undefined when it is no phone number. Uses libphonenumber-js
 * (Google's libphonenumber metadata).
 */
export function phoneToE164(raw: string | undefined, country?: string | null): string | undefined {
  const text = raw?.trim().replace(/^'/, '');
  if (!text) return undefined;
  const code = country?.trim().toUpperCase();
  const region = code && code.length === 2 && isSupportedCountry(code) ? (code as CountryCode) : undefined;
  const parsed = parsePhoneNumberFromString(text, region);
  if (parsed?.isValid()) return parsed.number;
  return normalisePhone(text);
}

/**
 * Of a stored phone and a newly stated one, the one to keep: the new one, unless it is the same number
 * in a poorer form (digits without the country code that an E.164 stored number ends with).
 */
export function betterPhone(stored: string | null | undefined, incoming: string | undefined): string | undefined {
  if (incoming === undefined) return stored ?? undefined;
  if (!stored || incoming.startsWith('+') || !stored.startsWith('+')) return incoming;
  const national = incoming.replace(/^0+/, '');
  return national.length >= 6 && stored.endsWith(national) ? stored : incoming;
}
