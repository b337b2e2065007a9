import { signToken, type TokenRefusal, verifyToken } from '../shared/signed-token.js';

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
export type PageRefusal = TokenRefusal;

const PURPOSES: readonly string[] = ['survey', 'review', 'rewards'];

/** Signs claims into a URL-safe token (src/shared/signed-token.ts, domain `feedback.`). */
export function signPageLink(secret: string, claims: PageClaims): string {
  return signToken(secret, 'feedback.', claims);
}

/** Checks a token for `purpose` at `now` (epoch ms): its claims, or why it is refused. */
export function verifyPageLink(
  secret: string,
  token: string,
  purpose: PagePurpose,
  now: number,
): { ok: true; claims: PageClaims } | { ok: false; reason: PageRefusal } {
  return verifyToken(secret, 'feedback.', token, { purpose, now, isClaims });
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
