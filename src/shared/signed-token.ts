import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Signed, URL-safe tokens: `base64url(JSON claims).base64url(HMAC-SHA256(secret, domain + payload))`,
 * checked in constant time. The domain keeps the tokens of one kind apart from another's under the same
 * secret (a message link is never a survey link). Every token carries a purpose `p` and an expiry `e`
 * (epoch ms); what else it carries is the caller's, checked by the caller's `isClaims`.
 */

/** Why a token was refused. */
export type TokenRefusal = 'malformed' | 'forged' | 'expired' | 'wrong_purpose';

/** The claims every signed token carries. */
export interface BaseClaims {
  /** Purpose: what the token may open. */
  p: string;
  /** Expiry, epoch ms. */
  e: number;
}

const mac = (secret: string, domain: string, payload: string) =>
  createHmac('sha256', secret).update(`${domain}${payload}`).digest('base64url');

/** Signs `claims` for `domain` (`''` or a prefix such as `feedback.`) into a URL-safe token. */
export function signToken(secret: string, domain: string, claims: BaseClaims): string {
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
  return `${payload}.${mac(secret, domain, payload)}`;
}

/**
 * Checks `token` for `purpose` at `now` (epoch ms): its claims when the signature holds, `isClaims`
 * accepts them, the purpose matches and the expiry is later than `now`; else why it is refused.
 */
export function verifyToken<C extends BaseClaims>(
  secret: string,
  domain: string,
  token: string,
  options: { purpose: C['p']; now: number; isClaims: (value: unknown) => value is C },
): { ok: true; claims: C } | { ok: false; reason: TokenRefusal } {
  const dot = token.indexOf('.');
  if (dot <= 0 || dot !== token.lastIndexOf('.')) return { ok: false, reason: 'malformed' };
  const payload = token.slice(0, dot);
  const given = Buffer.from(token.slice(dot + 1));
  const expected = Buffer.from(mac(secret, domain, payload));
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'forged' };
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (!options.isClaims(claims)) return { ok: false, reason: 'malformed' };
  if (claims.p !== options.purpose) return { ok: false, reason: 'wrong_purpose' };
  if (claims.e <= options.now) return { ok: false, reason: 'expired' };
  return { ok: true, claims };
}
