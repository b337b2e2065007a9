import { createHash } from 'node:crypto';
import { toCsv } from '../shared/csv.js';
import type { Db } from '../store/index.js';

/** The customer columns a segment export writes. */
export interface ExportCustomer {
  id: number;
  email: string | null;
  phone: string | null;
  first_name: string | null;
  last_name: string | null;
  city: string | null;
  country: string | null;
}

/** Loads the export columns of the given customers, ascending by id. */
export async function exportCustomers(db: Db, customerIds: readonly number[]): Promise<ExportCustomer[]> {
  const out: ExportCustomer[] = [];
  for (let i = 0; i < customerIds.length; i += 500) {
    const part = customerIds.slice(i, i + 500);
    const rows = await db
      .selectFrom('customers')
      .select(['id', 'email', 'phone', 'first_name', 'last_name', 'city', 'country'])
      .where('id', 'in', part.length > 0 ? [...part] : [-1])
      .execute();
    out.push(...rows.map((r) => ({ ...r, id: Number(r.id) })));
  }
  return out.sort((a, b) => a.id - b.id);
}

/** Members as plain CSV: one row per customer. */
export function membersCsv(customers: readonly ExportCustomer[]): string {
  return toCsv(
    customers.map((c) => [c.id, c.email, c.phone, c.first_name, c.last_name, c.city, c.country]),
    { header: true, columns: ['customer_id', 'email', 'phone', 'first_name', 'last_name', 'city', 'country'] },
  );
}

/** The custom-audience layouts: Meta's customer list and Google Ads Customer Match. */
export type AudienceLayout = 'meta' | 'google';

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/** An e-mail as both platforms ask before hashing: trimmed and lower-cased. */
export function normaliseAudienceEmail(email: string | null): string | null {
  const value = email?.trim().toLowerCase() ?? '';
  return value.includes('@') ? value : null;
}

/**
 * A phone in E.164 digits with its country code (`+44 20 7946 0958` → `442079460958`). A number stored
 * without a `+` has no known country code, and a hash of a national number never matches, so it is
 * left out.
 */
export function normaliseAudiencePhone(phone: string | null): string | null {
  const value = phone?.trim() ?? '';
  if (!value.startsWith('+')) return null;
  const digits = value.replace(/\D/g, '');
  return digits.length >= 8 && digits.length <= 15 ? digits : null;
}

/** A name or city as Meta asks: lower case, letters only (accents kept, UTF-8), no spaces or punctuation. */
export function normaliseAudienceName(name: string | null): string | null {
  const value = (name ?? '')
    .toLowerCase()
    .normalize('NFC')
    .replace(/[^\p{L}]/gu, '');
  return value === '' ? null : value;
}

/** Country names that appear in shop exports, to ISO 3166-1 alpha-2 (lower case). */
const COUNTRY_CODES: Record<string, string> = {
  australia: 'au',
  austria: 'at',
  bahrain: 'bh',
  belgium: 'be',
  brazil: 'br',
  canada: 'ca',
  'channel islands': 'gb',
  cyprus: 'cy',
  'czech republic': 'cz',
  denmark: 'dk',
  eire: 'ie',
  ireland: 'ie',
  'european community': '',
  finland: 'fi',
  france: 'fr',
  germany: 'de',
  greece: 'gr',
  'hong kong': 'hk',
  iceland: 'is',
  india: 'in',
  israel: 'il',
  italy: 'it',
  japan: 'jp',
  lebanon: 'lb',
  lithuania: 'lt',
  malta: 'mt',
  netherlands: 'nl',
  norway: 'no',
  poland: 'pl',
  portugal: 'pt',
  rsa: 'za',
  'south africa': 'za',
  'saudi arabia': 'sa',
  singapore: 'sg',
  spain: 'es',
  sweden: 'se',
  switzerland: 'ch',
  'united arab emirates': 'ae',
  uae: 'ae',
  'united kingdom': 'gb',
  uk: 'gb',
  usa: 'us',
  'united states': 'us',
  'united states of america': 'us',
  'new zealand': 'nz',
  mexico: 'mx',
  china: 'cn',
  korea: 'kr',
  'south korea': 'kr',
  'korea, republic of': 'kr',
};

/** A country as a lower-case two-letter ISO code, from a code or a common English name; null when unknown. */
export function countryCode(country: string | null): string | null {
  const value = country?.trim().toLowerCase() ?? '';
  if (/^[a-z]{2}$/.test(value)) return value;
  const code = COUNTRY_CODES[value];
  return code ? code : null;
}

/**
 * A custom-audience file for retargeting. `meta`: Meta's customer-list columns `email, phone, fn, ln,
 * ct, country`, every value normalised and SHA-256 hex hashed
 * (https://www.facebook.com/business/help/606443329504150). `google`: Customer Match's `Email, Phone,
 * First Name, Last Name, Country, Zip`, with e-mail, phone (E.164 with `+`) and names hashed and
 * country left plain (https://support.google.com/google-ads/answer/7659867). Customers with neither an
 * e-mail nor a phone are left out, since the platforms cannot match them.
 */
export function audienceCsv(customers: readonly ExportCustomer[], layout: AudienceLayout = 'meta'): string {
  const hash = (value: string | null) => (value === null ? '' : sha256(value));
  const rows: string[][] = [];
  for (const c of customers) {
    const email = normaliseAudienceEmail(c.email);
    const phone = normaliseAudiencePhone(c.phone);
    if (email === null && phone === null) continue;
    const fn = normaliseAudienceName(c.first_name);
    const ln = normaliseAudienceName(c.last_name);
    const country = countryCode(c.country);
    if (layout === 'meta') {
      rows.push([hash(email), hash(phone), hash(fn), hash(ln), hash(normaliseAudienceName(c.city)), hash(country)]);
    } else {
      rows.push([
        hash(email),
        hash(phone === null ? null : `+${phone}`),
        hash(fn),
        hash(ln),
        country?.toUpperCase() ?? '',
        '',
      ]);
    }
  }
  const columns =
    layout === 'meta'
      ? ['email', 'phone', 'fn', 'ln', 'ct', 'country']
      : ['Email', 'Phone', 'First Name', 'Last Name', 'Country', 'Zip'];
  return toCsv(rows, { header: true, columns });
}
