import { createHmac, randomBytes } from 'node:crypto';
import type { Selectable } from 'kysely';
import { ComebackError } from '../errors.js';
import type { Db } from '../store/index.js';
import { type ApiScope, type ApiSessionTable, apiDb } from './api.schema.js';

/** The cookie that carries a dashboard session. */
export const SESSION_COOKIE = 'comeback_session';
/** How long a dashboard session lasts. */
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;
/** How often a session's `last_seen_at` is written: every request would turn each read into a write. */
const SEEN_EVERY_MS = 60_000;

/** A live or ended dashboard session as lists show it (never its token). */
export interface Session {
  id: number;
  /** The admin account, or null for a session opened with an API key. */
  username: string | null;
  apiKeyId: number | null;
  /** The admin's name, or the API key's name. */
  name: string;
  scope: ApiScope;
  address: string | null;
  userAgent: string | null;
  createdAt: number;
  expiresAt: number;
  lastSeenAt: number;
  revokedAt: number | null;
}

/** HMAC-SHA256 (hex) of a session token under the server's secret: what the table keeps. */
function tokenHash(secret: string, token: string): string {
  return createHmac('sha256', secret).update(token).digest('hex');
}

/**
 * Opens a session for an admin (`username`) or for an API key (`apiKeyId`, the key's scope), lasting
 * SESSION_TTL_MS from `now` (epoch ms). Returns the cookie's token (32 random bytes, base64url), shown once.
 */
export async function createSession(
  db: Db,
  secret: string,
  opts: {
    username?: string;
    apiKeyId?: number;
    scope: ApiScope;
    address?: string;
    userAgent?: string;
    now: number;
  },
): Promise<{ token: string; id: number }> {
  const token = randomBytes(32).toString('base64url');
  const row = await apiDb(db)
    .insertInto('api_sessions')
    .values({
      token_hash: tokenHash(secret, token),
      username: opts.username ?? null,
      api_key_id: opts.apiKeyId ?? null,
      scope: opts.scope,
      address: opts.address?.slice(0, 100) ?? null,
      user_agent: opts.userAgent?.slice(0, 300) ?? null,
      created_at: opts.now,
      expires_at: opts.now + SESSION_TTL_MS,
      last_seen_at: opts.now,
      revoked_at: null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { token, id: Number(row.id) };
}

/**
 * The live session of a cookie token at `now`: not expired, not revoked, and for a key session a key
 * that is still live. Undefined otherwise. Records `last_seen_at` at most once a minute.
 */
export async function findSession(db: Db, secret: string, token: string, now: number): Promise<Session | undefined> {
  if (token.length === 0 || token.length > 200) return undefined;
  const adb = apiDb(db);
  const row = await adb
    .selectFrom('api_sessions')
    .leftJoin('api_keys', 'api_keys.id', 'api_sessions.api_key_id')
    .selectAll('api_sessions')
    .select(['api_keys.name as key_name', 'api_keys.revoked_at as key_revoked_at'])
    .where('api_sessions.token_hash', '=', tokenHash(secret, token))
    .executeTakeFirst();
  if (!row || row.revoked_at !== null || Number(row.expires_at) <= now) return undefined;
  if (row.api_key_id !== null && (row.key_name === null || row.key_revoked_at !== null)) return undefined;
  if (now - Number(row.last_seen_at) >= SEEN_EVERY_MS) {
    await adb.updateTable('api_sessions').set({ last_seen_at: now }).where('id', '=', row.id).execute();
  }
  return sessionOfRow(row, row.key_name);
}

/** Every session not expired nor revoked at `now`, newest first. */
export async function listSessions(db: Db, now: number): Promise<Session[]> {
  const rows = await apiDb(db)
    .selectFrom('api_sessions')
    .leftJoin('api_keys', 'api_keys.id', 'api_sessions.api_key_id')
    .selectAll('api_sessions')
    .select(['api_keys.name as key_name', 'api_keys.revoked_at as key_revoked_at'])
    .where('api_sessions.revoked_at', 'is', null)
    .where('api_sessions.expires_at', '>', now)
    .orderBy('api_sessions.id', 'desc')
    .execute();
  return rows
    .filter((row) => row.api_key_id === null || (row.key_name !== null && row.key_revoked_at === null))
    .map((row) => sessionOfRow(row, row.key_name));
}

/** Ends one session (revoking twice keeps the first instant). Throws not_found for an unknown id. */
export async function revokeSession(db: Db, id: number, now: number): Promise<Session> {
  const adb = apiDb(db);
  await adb
    .updateTable('api_sessions')
    .set({ revoked_at: now })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .execute();
  const row = await adb
    .selectFrom('api_sessions')
    .leftJoin('api_keys', 'api_keys.id', 'api_sessions.api_key_id')
    .selectAll('api_sessions')
    .select('api_keys.name as key_name')
    .where('api_sessions.id', '=', id)
    .executeTakeFirst();
  if (!row) throw new ComebackError('not_found', `no session with id ${id}`);
  return sessionOfRow(row, row.key_name);
}

/** Ends the session of a cookie token, if any (sign-out). */
export async function revokeSessionToken(db: Db, secret: string, token: string, now: number): Promise<void> {
  await apiDb(db)
    .updateTable('api_sessions')
    .set({ revoked_at: now })
    .where('token_hash', '=', tokenHash(secret, token))
    .where('revoked_at', 'is', null)
    .execute();
}

/** Ends every session of an admin account (a new password); returns how many were live. */
export async function revokeUserSessions(db: Db, username: string, now: number): Promise<number> {
  const result = await apiDb(db)
    .updateTable('api_sessions')
    .set({ revoked_at: now })
    .where('username', '=', username)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

function sessionOfRow(row: Omit<Selectable<ApiSessionTable>, 'token_hash'>, keyName: string | null): Session {
  return {
    id: Number(row.id),
    username: row.username,
    apiKeyId: row.api_key_id === null ? null : Number(row.api_key_id),
    name: row.username ?? keyName ?? `key ${row.api_key_id}`,
    scope: row.scope,
    address: row.address,
    userAgent: row.user_agent,
    createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at),
    lastSeenAt: Number(row.last_seen_at),
    revokedAt: row.revoked_at === null ? null : Number(row.revoked_at),
  };
}

/** Reads one cookie from a `Cookie` header. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return undefined;
      }
    }
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
