import type { FastifyReply, FastifyRequest } from 'fastify';
import { ComebackError } from '../errors.js';
import type { Db } from '../store/index.js';
import type { ApiScope } from './api.schema.js';
import { findApiKey, scopeAllows, touchApiKey } from './keys.queries.js';
import { findSession, readCookie, SESSION_COOKIE } from './session.js';

/** Who is calling: an API key, or an admin signed in to the dashboard (who holds the admin scope). */
export type Principal =
  | {
      kind: 'key';
      keyId: number;
      name: string;
      scope: ApiScope;
      /** Publishable keys: the origins browsers may use it from. */
      origins: string[];
      /** Publishable keys: the secret member tokens are signed with. */
      memberSecret: string | null;
    }
  | { kind: 'session'; sessionId: number; username: string; scope: ApiScope; keyId: number | null };

/**
 * What a route needs: a scope, nothing (`public`: health, login, signed webhooks), or `optional`: the
 * caller is identified when it can be (`GET /session`), and a missing or ended session is no error.
 */
export type RouteAccess = ApiScope | 'public' | 'optional';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The scope a route needs; an `/api/` route that does not say needs `admin` (fail closed). */
    access?: RouteAccess;
    /** Publishable (browser) keys may call this route too though it needs a higher scope (events). */
    publishable?: boolean;
  }
  interface FastifyRequest {
    principal?: Principal;
    /** Why authentication failed; answered after the rate limit has counted the request. */
    authFailure?: ComebackError;
  }
}

/** How often `last_used_at` is written per key: every request would turn each read into a write. */
const TOUCH_EVERY_MS = 60_000;

/**
 * The `onRequest` hook that authenticates `/api/` requests: `Authorization: Bearer <key>`, Segment's
 * basic-auth style (the key as the user name, no password), or the dashboard's signed session cookie.
 * No or unknown credentials → 401; a key below the route's scope → 403. The failure is recorded on the
 * request and thrown by `authFailureHook` at `preParsing`, so that the per-address rate limit (a route
 * `onRequest` hook, which runs after this one) counts requests with no key or a wrong key too.
 */
export function authHook({ db, now, sessionSecret }: { db: Db; now: () => number; sessionSecret: string }) {
  const touched = new Map<number, number>();
  const lookUp = sharedLookups((key: string) => findApiKey(db, key));
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    // The matched route's pattern, not the raw URL: `/%61pi/v1/stats` routes to `/api/v1/stats` too.
    if (request.is404 || !request.routeOptions.url?.startsWith('/api/')) return;
    const access = request.routeOptions.config.access ?? 'admin';
    if (access === 'public') return;
    let principal: Principal | undefined;
    try {
      principal = await authenticate(request, db, now(), sessionSecret, lookUp);
    } catch (error) {
      if (!(error instanceof ComebackError)) throw error;
      request.authFailure = error;
      return;
    }
    if (access === 'optional') {
      request.principal = principal;
      return;
    }
    if (!principal) {
      request.authFailure = new ComebackError(
        'unauthorized',
        'send an API key as "Authorization: Bearer cb_…" or sign in',
      );
      return;
    }
    request.principal = principal;
    // A browser sends Origin on every cross-origin call: a publishable key works only from its store's
    // pages. (Without Origin the caller is no browser, and the key is public anyway.)
    const origin = request.headers.origin;
    if (
      principal.kind === 'key' &&
      principal.scope === 'publishable' &&
      origin &&
      !principal.origins.includes(origin)
    ) {
      request.authFailure = new ComebackError('forbidden', `origin: this publishable key is not for ${origin}`, {
        location: { field: 'origin' },
      });
      return;
    }
    const asBrowser = principal.scope === 'publishable' && request.routeOptions.config.publishable === true;
    if (!scopeAllows(principal.scope, access) && !asBrowser) {
      request.authFailure = new ComebackError(
        'forbidden',
        `this endpoint needs a ${access} key; this one is ${principal.scope}`,
      );
      return;
    }
    if (principal.kind === 'key') {
      const at = now();
      const last = touched.get(principal.keyId);
      if (last === undefined || at - last >= TOUCH_EVERY_MS) {
        touched.set(principal.keyId, at);
        await touchApiKey(db, principal.keyId, at);
      }
    }
  };
}

/** The `preParsing` hook that answers the failure `authHook` recorded (401 or 403), before the body is read. */
export async function authFailureHook(request: FastifyRequest): Promise<void> {
  if (request.authFailure) throw request.authFailure;
}

/**
 * `lookUp(key)` with concurrent calls for the same key sharing one call in flight: under load, the
 * requests that arrive while a key is being looked up take that lookup's answer instead of a query each.
 * Nothing is kept once it has answered, so a key revoked meanwhile is refused from the next lookup on,
 * as without sharing (the requests that shared it were concurrent with the revocation).
 */
export function sharedLookups<T>(lookUp: (key: string) => Promise<T>): (key: string) => Promise<T> {
  const inFlight = new Map<string, Promise<T>>();
  return (key) => {
    const pending = inFlight.get(key);
    if (pending) return pending;
    const started = lookUp(key).finally(() => inFlight.delete(key));
    inFlight.set(key, started);
    return started;
  };
}

async function authenticate(
  request: FastifyRequest,
  db: Db,
  now: number,
  sessionSecret: string,
  lookUp: (key: string) => Promise<Awaited<ReturnType<typeof findApiKey>>>,
): Promise<Principal | undefined> {
  const header = request.headers.authorization;
  if (header) {
    const key = keyOfHeader(header);
    if (!key) throw new ComebackError('unauthorized', 'the Authorization header is not "Bearer <key>"');
    const found = await lookUp(key);
    if (!found) throw new ComebackError('unauthorized', 'unknown or revoked API key');
    return {
      kind: 'key',
      keyId: found.id,
      name: found.name,
      scope: found.scope,
      origins: found.origins,
      memberSecret: found.memberSecret,
    };
  }
  const token = readCookie(request.headers.cookie, SESSION_COOKIE);
  const session = token ? await findSession(db, sessionSecret, token, now) : undefined;
  return session
    ? { kind: 'session', sessionId: session.id, username: session.name, scope: session.scope, keyId: session.apiKeyId }
    : undefined;
}

function keyOfHeader(header: string): string | undefined {
  const [kind, value] = header.trim().split(/\s+/, 2);
  if (!value) return undefined;
  if (kind?.toLowerCase() === 'bearer') return value;
  if (kind?.toLowerCase() === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return (colon < 0 ? decoded : decoded.slice(0, colon)) || undefined;
  }
  return undefined;
}
