import { getCountries } from 'libphonenumber-js';

/**
 * Countries as ISO 3166-1 alpha-2 codes. Shops write a country as a code (`GB`), an English name
 * (`United Kingdom`), an ISO long form (`Korea, Republic of`) or a local habit (`UK`, `EIRE`, `RSA`);
 * every one of them reads here as the one upper-case code, so that rules, exports and reports agree.
 *
 * The names come from the runtime's CLDR region names (`Intl.DisplayNames`, English), the codes from
 * libphonenumber-js's list of regions; the aliases below add the spellings CLDR does not give that
 * appear in shop exports (the UCI Online Retail file writes `EIRE`, `RSA`, `Channel Islands`,
 * `USA`) and the ISO 3166 long names.
 */

const ALIASES: Record<string, string> = {
  uk: 'GB',
  'great britain': 'GB',
  britain: 'GB',
  england: 'GB',
  scotland: 'GB',
  wales: 'GB',
  'northern ireland': 'GB',
  'united kingdom of great britain and northern ireland': 'GB',
  // The Channel Islands have their own codes (JE, GG); a shop that writes the group means the British Isles.
  'channel islands': 'GB',
  eire: 'IE',
  'republic of ireland': 'IE',
  rsa: 'ZA',
  usa: 'US',
  'u.s.a.': 'US',
  'u.s.': 'US',
  america: 'US',
  'united states of america': 'US',
  uae: 'AE',
  'korea, republic of': 'KR',
  'republic of korea': 'KR',
  korea: 'KR',
  'korea (south)': 'KR',
  "korea, democratic people's republic of": 'KP',
  'north korea': 'KP',
  'czech republic': 'CZ',
  holland: 'NL',
  'the netherlands': 'NL',
  'russian federation': 'RU',
  'viet nam': 'VN',
  'iran, islamic republic of': 'IR',
  'taiwan, province of china': 'TW',
  "lao people's democratic republic": 'LA',
  'syrian arab republic': 'SY',
  'tanzania, united republic of': 'TZ',
  'moldova, republic of': 'MD',
  'bolivia, plurinational state of': 'BO',
  'venezuela, bolivarian republic of': 'VE',
  macedonia: 'MK',
  turkey: 'TR',
  'ivory coast': 'CI',
  "cote d'ivoire": 'CI',
  'hong kong sar china': 'HK',
  'hong kong': 'HK',
  'macao sar china': 'MO',
  macao: 'MO',
  macau: 'MO',
  burma: 'MM',
  swaziland: 'SZ',
};

let table: Map<string, string> | undefined;

/** The key a name is looked up by: lower case, accents folded, spaces collapsed. */
function key(text: string): string {
  return text.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase().replace(/[’`]/g, "'").replace(/\s+/g, ' ').trim();
}

function lookup(): Map<string, string> {
  if (table) return table;
  const names = new Intl.DisplayNames(['en'], { type: 'region' });
  const out = new Map<string, string>();
  for (const code of getCountries()) {
    out.set(code.toLowerCase(), code);
    const name = names.of(code);
    if (name && name !== code) {
      out.set(key(name), code);
      out.set(name.toLowerCase(), code);
    }
  }
  for (const [alias, code] of Object.entries(ALIASES)) out.set(key(alias), code);
  table = out;
  return out;
}

/**
 * The ISO 3166-1 alpha-2 code (upper case) of a country written as a code, an English name or a
 * common alias (`UK` → `GB`, `Korea, Republic of` → `KR`, ` eire ` → `IE`); null when the text is
 * empty or names no country (`European Community`, `Unspecified`).
 */
export function isoCountry(text: string | null | undefined): string | null {
  if (text === null || text === undefined) return null;
  const k = key(text);
  if (k === '') return null;
  return lookup().get(k) ?? null;
}

/**
 * Every spelling (lower case, trimmed) that `isoCountry` reads as `code`, the code itself included:
 * what a stored country may say when it means `code`. Empty for an unknown code.
 */
export function countrySpellings(code: string): string[] {
  const upper = code.trim().toUpperCase();
  const out: string[] = [];
  for (const [spelling, c] of lookup()) if (c === upper) out.push(spelling);
  return out.sort();
}
