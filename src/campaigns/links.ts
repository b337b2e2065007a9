import { signToken, type TokenRefusal, verifyToken } from '../shared/signed-token.js';

/**
 * Signed links in messages: `base64url(JSON payload).base64url(HMAC-SHA256(secret, payload))`. The
 * payload names the customer, the purpose (a link made to unsubscribe cannot open the rewards page),
 * the message it came from and an expiry; checking is constant-time. What a link has been used for is
 * kept by the server, so a link answers once where that matters.
 */

/** What a link may do. */
export type LinkPurpose = 'unsubscribe' | 'preferences' | 'open' | 'click';

/** The signed content of a link. */
export interface LinkClaims {
  /** Customer id. */
  c: number;
  /** Purpose. */
  p: LinkPurpose;
  /** Outbox id of the message the link is in, when it is in one. */
  m?: number;
  /** Expiry, epoch ms. */
  e: number;
  /** For a click: the address it leads to, signed with the rest, so the redirect is never open. */
  u?: string;
}

/** Signs claims into a URL-safe token (src/shared/signed-token.ts, no domain prefix). */
export function signLink(secret: string, claims: LinkClaims): string {
  return signToken(secret, '', claims);
}

/** Why a token was refused. */
export type LinkRefusal = TokenRefusal;

/** Checks a token for `purpose` at `now`: its claims, or why it is refused. */
export function verifyLink(
  secret: string,
  token: string,
  purpose: LinkPurpose,
  now: number,
): { ok: true; claims: LinkClaims } | { ok: false; reason: LinkRefusal } {
  return verifyToken(secret, '', token, { purpose, now, isClaims });
}

function isClaims(value: unknown): value is LinkClaims {
  if (!value || typeof value !== 'object') return false;
  const v = value as Record<string, unknown>;
  return (
    Number.isSafeInteger(v.c) &&
    typeof v.p === 'string' &&
    ['unsubscribe', 'preferences', 'open', 'click'].includes(v.p) &&
    Number.isSafeInteger(v.e) &&
    (v.m === undefined || Number.isSafeInteger(v.m)) &&
    (v.u === undefined || (typeof v.u === 'string' && /^https?:\/\//i.test(v.u)))
  );
}
