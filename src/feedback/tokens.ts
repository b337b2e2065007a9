import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Signed links of the customer's pages: `base64url(JSON claims).base64url(HMAC-SHA256(secret,
 * "feedback." + payload))`, checked in constant time. The prefix keeps these tokens apart from the
 * message links of campaigns/ even under the same secret. A survey or review link names its row in
 * `survey_links`, where the server keeps whether it was answered.
 */

/** What a customer link may open. */
export type PagePurpose = 'survey' | 'review' | 'rewards';

/** The signed content of a customer link. */
export interface PageClaims {
  /** Customer id. */
  c: number;
  p: PagePurpose;
  /** The `survey_links` id (surveys and reviews). */
  l?: string;
  /** Expiry, epoch ms. */
  e: number;
}

/** Why a link was refused. */
export type PageRefusal = 'malformed' | 'forged' | 'expired' | 'wrong_purpose';

const PURPOSES: readonly string[] = ['survey', 'review', 'rewards'];
const mac = (secret: string, payload: string) =>
  createHmac('sha256', secret).update(`feedback.${payload}`).digest('base64url');

/** Signs claims into a URL-safe token. */
export function signPageLink(secret: string, claims: PageClaims): string {
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
  return `${payload}.${mac(secret, payload)}`;
}

/** Checks a token for `purpose` at `now` (epoch ms): its claims, or why it is refused. */
export function verifyPageLink(
  secret: string,
  token: string,
  purpose: PagePurpose,
  now: number,
): { ok: true; claims: PageClaims } | { ok: false; reason: PageRefusal } {
  const dot = token.indexOf('.');
  if (dot <= 0 || dot !== token.lastIndexOf('.')) return { ok: false, reason: 'malformed' };
  const payload = token.slice(0, dot);
  const given = Buffer.from(token.slice(dot + 1));
  const expected = Buffer.from(mac(secret, payload));
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'forged' };
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (!isClaims(claims)) return { ok: false, reason: 'malformed' };
  if (claims.p !== purpose) return { ok: false, reason: 'wrong_purpose' };
  if (claims.e <= now) return { ok: false, reason: 'expired' };
  return { ok: true, claims };
}

function isClaims(value: unknown): value is PageClaims {
  if (!value || typeof value !== 'object') return false;
  const v = value as Record<string, unknown>;
  return (
    Number.isSafeInteger(v.c) &&
    typeof v.p === 'string' &&
    PURPOSES.includes(v.p) &&
    Number.isSafeInteger(v.e) &&
    (v.l === undefined || (typeof v.l === 'string' && v.l.length <= 64))
  );
}
