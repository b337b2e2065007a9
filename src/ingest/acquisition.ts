/** Where an order came from and how it was paid, as the exports and the events API state it. */
export interface Acquisition {
  paymentMethod?: string;
  referringSite?: string;
  landingSite?: string;
  /** The sales channel (Shopify's `Source`: web, pos, shopify_draft_order, an app id). */
  channel?: string;
  utmSource?: string;
  utmMedium?: string;
  utmCampaign?: string;
}

/**
 * The UTM parameters of a landing-site URL or path (`/?utm_source=google&utm_medium=cpc`), trimmed
 * and lower-cased (Google Analytics reads `Google` and `google` as one source); absent ones undefined.
 */
export function utmOf(landingSite: string | undefined): Pick<Acquisition, 'utmSource' | 'utmMedium' | 'utmCampaign'> {
  if (!landingSite) return {};
  let params: URLSearchParams;
  try {
    params = new URL(landingSite, 'http://landing.invalid').searchParams;
  } catch {
    return {};
  }
  const get = (name: string) => params.get(name)?.trim().toLowerCase() || undefined;
  return { utmSource: get('utm_source'), utmMedium: get('utm_medium'), utmCampaign: get('utm_campaign') };
}

/** The host of a referring URL (`https://www.google.com/search?q=x` → `www.google.com`), else the text. */
export function referrerHost(referrer: string | undefined): string | undefined {
  const text = referrer?.trim();
  if (!text) return undefined;
  try {
    return new URL(text.includes('://') ? text : `http://${text}`).hostname.toLowerCase() || text;
  } catch {
    return text;
  }
}
