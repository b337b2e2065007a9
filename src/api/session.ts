import { createHmac, timingSafeEqual } from 'node:crypto';

/** The cookie that carries a dashboard session. */
export const SESSION_COOKIE = 'comeback_session';
/** How long a dashboard session lasts. */
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;

/** `base64url(JSON {u, exp}).base64url(HMAC-SHA256)`: a session needs no table, only the server secret. */
export function signSession(secret: string, username: string, expiresAt: number): string {
  const payload = Buffer.from(JSON.stringify({ u: username, exp: expiresAt })).toString('base64url');
  return `${payload}.${mac(secret, payload)}`;
}

/** The username of a valid, unexpired session token, or undefined. */
export function verifySession(secret: string, token: string, now: number): string | undefined {
  const [payload, signature] = token.split('.');
  if (!payload || !signature) return undefined;
  const expected = Buffer.from(mac(secret, payload));
  const actual = Buffer.from(signature);
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return undefined;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const { u, exp } = parsed as { u?: unknown; exp?: unknown };
    return typeof u === 'string' && typeof exp === 'number' && exp > now ? u : undefined;
  } catch {
    return undefined;
  }
}

/** Reads one cookie from a `Cookie` header. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

/** A `Set-Cookie` value for the session: HttpOnly, SameSite=Lax, Secure over HTTPS. */
export function sessionCookie(token: string, { maxAgeMs, secure }: { maxAgeMs: number; secure: boolean }): string {
  const parts = [
    `${SESSION_COOKIE}=${token}`,
    'Path=/',
    'HttpOnly',
    'SameSite=Lax',
    `Max-Age=${Math.floor(maxAgeMs / 1000)}`,
  ];
  if (secure) parts.push('Secure');
  return parts.join('; ');
}

function mac(secret: string, payload: string): string {
  return createHmac('sha256', secret).update(payload).digest('base64url');
}
