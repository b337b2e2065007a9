import { createHash } from 'node:crypto';
import { type CountryCode, parsePhoneNumberFromString } from 'libphonenumber-js';
import { isoCountry } from '../shared/countries.js';
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
  /** The postcode as stored (migration 015); null when unknown. */
  postcode?: string | null;
  /** True when the customer refused marketing on some channel (`customer_consents.granted = 0`). */
  refusedMarketing?: boolean;
}

/** Loads the export columns of the given customers, ascending by id, with whether they refused marketing. */
export async function exportCustomers(db: Db, customerIds: readonly number[]): Promise<ExportCustomer[]> {
  const out: ExportCustomer[] = [];
  for (let i = 0; i < customerIds.length; i += 500) {
    const part = customerIds.slice(i, i + 500);
    const ids = part.length > 0 ? [...part] : [-1];
    const rows = await db
      .selectFrom('customers')
      .select(['id', 'email', 'phone', 'first_name', 'last_name', 'city', 'country', 'postcode'])
      .where('id', 'in', ids)
      .execute();
    const refused = await db
      .selectFrom('customer_consents')
      .select('customer_id')
      .distinct()
      .where('customer_id', 'in', ids)
      .where('granted', '=', 0)
      .execute();
    const no = new Set(refused.map((r) => Number(r.customer_id)));
    out.push(
      ...rows.map((r) => ({
        ...r,
        postcode: r.postcode ?? null,
        id: Number(r.id),
        refusedMarketing: no.has(Number(r.id)),
      })),
    );
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

/*
 * The platforms' normalisation rules this file follows:
 * - Meta, "Customer File Custom Audiences", Hashing and Normalizing Data
 *   (https://developers.facebook.com/docs/marketing-api/audiences/guides/custom-audiences): every value
 *   trimmed and lower-cased, then SHA-256; e-mail as is; phone as digits only, with the country code and
 *   without a leading `+` or trunk zero; first and last names lower case without punctuation, UTF-8
 *   letters (accents, combining marks) kept; city lower case without spaces or punctuation; country as
 *   the two-letter ISO 3166-1 code in lower case; zip lower case without spaces.
 * - Google Ads, Customer Match data formatting (https://support.google.com/google-ads/answer/7659867)
 *   and the Google Ads API's normalisation for hashed user data
 *   (https://developers.google.com/google-ads/api/docs/conversions/enhance-conversions): trim and
 *   lower-case before SHA-256; for gmail.com and googlemail.com addresses remove every `.` and any
 *   `+suffix` before the `@`; phone in E.164 with its `+`; names hashed; Country (ISO 3166-1 alpha-2)
 *   and Zip sent unhashed.
 */

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/** An e-mail as both platforms ask before hashing: trimmed and lower-cased; null when it is not one. */
export function normaliseAudienceEmail(email: string | null): string | null {
  const value = email?.trim().toLowerCase() ?? '';
  const at = value.lastIndexOf('@');
  return at > 0 && at < value.length - 1 ? value : null;
}

/**
 * An e-mail as Google asks: `normaliseAudienceEmail`, then for gmail.com and googlemail.com the dots
 * and any `+suffix` of the local part removed (`Jane.Doe+shop@gmail.com` → `janedoe@gmail.com`).
 */
export function normaliseGoogleEmail(email: string | null): string | null {
  const value = normaliseAudienceEmail(email);
  if (value === null) return null;
  const at = value.lastIndexOf('@');
  const domain = value.slice(at + 1);
  if (domain !== 'gmail.com' && domain !== 'googlemail.com') return value;
  const local = value.slice(0, at).split('+')[0]!.replaceAll('.', '');
  return local === '' ? null : `${local}@${domain}`;
}

/**
 * A phone in E.164 (`+447700900123`), read with libphonenumber-js: an international number (`+44 (0)20
 * 7946 0958`, whose trunk `(0)` is dropped, or `0044 20 7946 0958`) as written, a national one
 * (`07700 900123`, `010-1234-5678`) in the customer's country (a code or a name, see `isoCountry`).
 * Null when the number cannot be a number of that plan (wrong length), or is national without a known country:
 * a hash of a guessed number never matches.
 */
export function e164Phone(phone: string | null, country: string | null = null): string | null {
  let value = phone?.trim() ?? '';
  if (value === '') return null;
  // `00` is the international prefix of most of the world (ITU-T E.164 recommends it); no national number starts so.
  value = value.replace(/^\(?00\)?\s*(?=[1-9])/, '+');
  const region = isoCountry(country) ?? undefined;
  if (!value.startsWith('+') && region === undefined) return null;
  const parsed = parsePhoneNumberFromString(value, region as CountryCode | undefined);
  return parsed?.isPossible() ? parsed.number : null;
}

/** A phone as Meta asks: E.164 digits with the country code and no `+` (`447700900123`). */
export function normaliseAudiencePhone(phone: string | null, country: string | null = null): string | null {
  return e164Phone(phone, country)?.slice(1) ?? null;
}

/**
 * A first or last name as the platforms ask: Unicode NFC, lower case, punctuation, symbols and spaces
 * removed, letters, combining marks (`प्रिया` keeps its vowel signs and virama) and digits kept.
 */
export function normaliseAudienceName(name: string | null): string | null {
  const value = (name ?? '')
    .normalize('NFC')
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}]/gu, '');
  return value === '' ? null : value;
}

/** A postcode as Meta asks: lower case, spaces and dashes removed (`SW1A 1AA` → `sw1a1aa`). */
export function normaliseAudienceZip(zip: string | null | undefined): string | null {
  const value = (zip ?? '').toLowerCase().replace(/[\s-]/g, '');
  return value === '' ? null : value;
}

/** A country as a lower-case two-letter ISO code, from a code, a name or an alias; null when unknown. */
export function countryCode(country: string | null): string | null {
  return isoCountry(country)?.toLowerCase() ?? null;
}

/** How an audience export went: the file and how many customers were left out, and why. */
export interface AudienceExport {
  csv: string;
  rows: number;
  /** Customers who refused marketing and were left out (0 when `includeRefused`). */
  refused: number;
  /** Customers with neither an e-mail nor a valid phone, whom no platform can match. */
  unmatchable: number;
}

/**
 * A custom-audience file for retargeting. `meta`: Meta's customer-list columns `email, phone, fn, ln,
 * ct, country, zip`, every value normalised and SHA-256 hex hashed. `google`: Customer Match's
 * `Email, Phone, First Name, Last Name, Country, Zip`, with e-mail, phone (E.164 with `+`) and names
 * hashed, country and zip plain. Customers who refused marketing are left out unless
 * `includeRefused`; customers with neither an e-mail nor a phone are left out, since the platforms
 * cannot match them. The rules followed are cited above.
 */
export function audienceExport(
  customers: readonly ExportCustomer[],
  layout: AudienceLayout = 'meta',
  { includeRefused = false }: { includeRefused?: boolean } = {},
): AudienceExport {
  const hash = (value: string | null) => (value === null ? '' : sha256(value));
  const rows: string[][] = [];
  let refused = 0;
  let unmatchable = 0;
  for (const c of customers) {
    if (c.refusedMarketing && !includeRefused) {
      refused += 1;
      continue;
    }
    const email = layout === 'google' ? normaliseGoogleEmail(c.email) : normaliseAudienceEmail(c.email);
    const phone = e164Phone(c.phone, c.country);
    if (email === null && phone === null) {
      unmatchable += 1;
      continue;
    }
    const fn = normaliseAudienceName(c.first_name);
    const ln = normaliseAudienceName(c.last_name);
    const country = countryCode(c.country);
    if (layout === 'meta') {
      rows.push([
        hash(email),
        hash(phone === null ? null : phone.slice(1)),
        hash(fn),
        hash(ln),
        hash(normaliseAudienceName(c.city)),
        hash(country),
        hash(normaliseAudienceZip(c.postcode)),
      ]);
    } else {
      rows.push([hash(email), hash(phone), hash(fn), hash(ln), country?.toUpperCase() ?? '', c.postcode?.trim() ?? '']);
    }
  }
  const columns =
    layout === 'meta'
      ? ['email', 'phone', 'fn', 'ln', 'ct', 'country', 'zip']
      : ['Email', 'Phone', 'First Name', 'Last Name', 'Country', 'Zip'];
  return { csv: toCsv(rows, { header: true, columns }), rows: rows.length, refused, unmatchable };
}

/** `audienceExport`'s file only. */
export function audienceCsv(
  customers: readonly ExportCustomer[],
  layout: AudienceLayout = 'meta',
  options: { includeRefused?: boolean } = {},
): string {
  return audienceExport(customers, layout, options).csv;
}
