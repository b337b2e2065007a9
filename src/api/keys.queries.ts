import { createHash, createHmac, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { ComebackError } from '../errors.js';
import type { Db } from '../store/index.js';
import { type ApiScope, apiDb } from './api.schema.js';
import { revokeUserSessions } from './session.js';

/** The scopes, weakest first: publishable ⊂ read ⊂ write ⊂ admin. */
export const SCOPES: readonly ApiScope[] = ['publishable', 'read', 'write', 'admin'];

/** Narrows a string to a scope. */
export function isScope(value: string): value is ApiScope {
  return SCOPES.some((scope) => scope === value);
}

/** Whether a key of scope `held` may do what needs `needed`: admin ⊃ write ⊃ read ⊃ publishable. */
export function scopeAllows(held: ApiScope, needed: ApiScope): boolean {
  return SCOPES.indexOf(held) >= SCOPES.indexOf(needed);
}

/** An API key as lists show it: never the secret. */
export interface ApiKey {
  id: number;
  name: string;
  prefix: string;
  scope: ApiScope;
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
  /** The origins a publishable key may be used from; empty for server keys. */
  origins: string[];
}

/** A live key as authentication sees it: with the secret that signs member tokens (publishable keys). */
export interface FoundApiKey extends ApiKey {
  memberSecret: string | null;
}

/**
 * Parses the origins of a publishable key: each `http(s)://host[:port]` exactly as browsers send it in
 * `Origin` (no path, no trailing slash). Throws bad_input naming `origins` otherwise.
 */
export function parseOrigins(origins: readonly string[]): string[] {
  const out: string[] = [];
  for (const text of origins) {
    let url: URL | undefined;
    try {
      url = new URL(text);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:') || url.origin !== text.trim()) {
      throw new ComebackError(
        'bad_input',
        `origins: "${text}" is not an origin like https://shop.example (scheme and host, no path)`,
        { location: { field: 'origins' } },
      );
    }
    if (!out.includes(url.origin)) out.push(url.origin);
  }
  return out;
}

/** Hex SHA-256 of a key: what is stored and looked up. */
export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/**
 * Creates a key `cb_<scope>_<32 random bytes, base64url>`; the returned `key` is the only copy. A
 * publishable key needs at least one origin and comes with `memberSecret`, the HMAC key the store
 * signs its signed-in customer's id with (shown here once too); other scopes take no origins.
 */
export async function createApiKey(
  db: Db,
  { scope, name, now, origins = [] }: { scope: ApiScope; name?: string; now: number; origins?: readonly string[] },
): Promise<{ key: string; apiKey: ApiKey; memberSecret?: string }> {
  if (!SCOPES.includes(scope)) {
    throw new ComebackError('bad_input', `scope must be publishable, read, write or admin, not "${scope}"`, {
      location: { field: 'scope' },
    });
  }
  const allowed = parseOrigins(origins);
  if (scope === 'publishable' && allowed.length === 0) {
    throw new ComebackError('bad_input', 'origins: a publishable key needs the storefront origins it is used from', {
      location: { field: 'origins' },
    });
  }
  if (scope !== 'publishable' && allowed.length > 0) {
    throw new ComebackError('bad_input', 'origins: only publishable keys are used from browsers', {
      location: { field: 'origins' },
    });
  }
  const memberSecret = scope === 'publishable' ? randomBytes(32).toString('base64url') : undefined;
  const key = `cb_${scope}_${randomBytes(32).toString('base64url')}`;
  const prefix = key.slice(0, `cb_${scope}_`.length + 8);
  const row = await apiDb(db)
    .insertInto('api_keys')
    .values({
      name: name?.trim() || `${scope} key`,
      prefix,
      secret_sha256: hashKey(key),
      scope,
      created_at: now,
      last_used_at: null,
      revoked_at: null,
      origins: scope === 'publishable' ? JSON.stringify(allowed) : null,
      member_secret: memberSecret ?? null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return { key, apiKey: keyRowToKey(row), ...(memberSecret ? { memberSecret } : {}) };
}

/** The live (not revoked) key with this secret, or undefined. */
export async function findApiKey(db: Db, key: string): Promise<FoundApiKey | undefined> {
  const row = await apiDb(db)
    .selectFrom('api_keys')
    .selectAll()
    .where('secret_sha256', '=', hashKey(key))
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return row ? { ...keyRowToKey(row), memberSecret: row.member_secret } : undefined;
}

/** Every origin some live publishable key may be used from (what CORS allows). */
export async function publishableOrigins(db: Db): Promise<Set<string>> {
  const rows = await apiDb(db)
    .selectFrom('api_keys')
    .select('origins')
    .where('scope', '=', 'publishable')
    .where('revoked_at', 'is', null)
    .execute();
  return new Set(rows.flatMap((r) => originsOf(r.origins)));
}

function originsOf(text: string | null): string[] {
  if (!text) return [];
  const parsed: unknown = JSON.parse(text);
  return Array.isArray(parsed) ? parsed.filter((o): o is string => typeof o === 'string') : [];
}

/** Every key, newest first. */
export async function listApiKeys(db: Db): Promise<ApiKey[]> {
  const rows = await apiDb(db).selectFrom('api_keys').selectAll().orderBy('id', 'desc').execute();
  return rows.map(keyRowToKey);
}

/** Revokes a key; revoking twice keeps the first instant. Throws not_found for an unknown id. */
export async function revokeApiKey(db: Db, id: number, now: number): Promise<ApiKey> {
  const adb = apiDb(db);
  await adb
    .updateTable('api_keys')
    .set({ revoked_at: now })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .execute();
  const row = await adb.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new ComebackError('not_found', `no API key with id ${id}`);
  return keyRowToKey(row);
}

/** Records when a key was last used. */
export async function touchApiKey(db: Db, id: number, now: number): Promise<void> {
  await apiDb(db).updateTable('api_keys').set({ last_used_at: now }).where('id', '=', id).execute();
}

function keyRowToKey(row: {
  id: number;
  name: string;
  prefix: string;
  scope: ApiScope;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
  origins: string | null;
}): ApiKey {
  return {
    id: Number(row.id),
    name: row.name,
    prefix: row.prefix,
    scope: row.scope,
    createdAt: Number(row.created_at),
    lastUsedAt: row.last_used_at === null ? null : Number(row.last_used_at),
    revokedAt: row.revoked_at === null ? null : Number(row.revoked_at),
    origins: originsOf(row.origins),
  };
}

// scrypt cost: N=2^15 takes about 50 ms and 32 MiB, OWASP's floor for interactive logins.
const SCRYPT = { N: 32768, r: 8, p: 1, keylen: 32, maxmem: 64 * 1024 * 1024 };

function scryptAsync(password: string, salt: Buffer, params: { N: number; r: number; p: number }): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, SCRYPT.keylen, { ...params, maxmem: SCRYPT.maxmem }, (error, derived) =>
      error ? reject(error) : resolve(derived),
    );
  });
}

/** `scrypt$N$r$p$salt$hash` of a password with a fresh 16-byte salt. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scryptAsync(password, salt, SCRYPT);
  return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64url'), hash.toString('base64url')].join('$');
}

/** Checks a password against a stored hash in constant time. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [kind, n, r, p, salt, hash] = stored.split('$');
  if (kind !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const actual = await scryptAsync(password, Buffer.from(salt, 'base64url'), {
    N: Number(n),
    r: Number(r),
    p: Number(p),
  });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** Creates a local admin account, or sets a new password for an existing one (ending its sessions). */
export async function upsertAdminUser(
  db: Db,
  { username, password, now }: { username: string; password: string; now: number },
): Promise<{ username: string; created: boolean }> {
  const name = username.trim();
  if (!/^[\w.@-]{1,64}$/.test(name)) {
    throw new ComebackError('bad_input', 'a username is 1–64 letters, digits, or . _ @ -', {
      location: { field: 'username' },
    });
  }
  if (password.length < 8) {
    throw new ComebackError('bad_input', 'a password has at least 8 characters', { location: { field: 'password' } });
  }
  const adb = apiDb(db);
  const password_hash = await hashPassword(password);
  const existing = await adb.selectFrom('admin_users').select('id').where('username', '=', name).executeTakeFirst();
  if (existing) {
    await adb.updateTable('admin_users').set({ password_hash }).where('id', '=', existing.id).execute();
    // A new password ends every session the old one opened (a stolen cookie dies with it).
    await revokeUserSessions(db, name, now);
    return { username: name, created: false };
  }
  await adb.insertInto('admin_users').values({ username: name, password_hash, created_at: now }).execute();
  return { username: name, created: true };
}

// A fixed hash checked for unknown users, so a login takes as long whether or not the user exists.
let decoyHash: Promise<string> | undefined;

/** Whether the username and password belong to an admin account. */
export async function verifyAdminUser(db: Db, username: string, password: string): Promise<boolean> {
  const row = await apiDb(db)
    .selectFrom('admin_users')
    .select('password_hash')
    .where('username', '=', username.trim())
    .executeTakeFirst();
  if (!row) {
    decoyHash ??= hashPassword('decoy password');
    await verifyPassword(password, await decoyHash);
    return false;
  }
  return verifyPassword(password, row.password_hash);
}

/** A server setting, created with `initial()` the first time it is read (for example a signing secret). */
export async function readOrCreateSetting(db: Db, name: string, initial: () => string): Promise<string> {
  const adb = apiDb(db);
  await adb
    .insertInto('api_settings')
    .values({ name, value: initial() })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
  const row = await adb.selectFrom('api_settings').select('value').where('name', '=', name).executeTakeFirstOrThrow();
  return row.value;
}

/** The secret that signs the links in messages (unsubscribe, preferences, tracking), created on first use. */
export function messageLinkSecret(db: Db): Promise<string> {
  return readOrCreateSetting(db, 'link_secret', () => randomBytes(32).toString('base64url'));
}

/** What a key derived from the link secret is for; each purpose has its own key. */
export type SigningPurpose = 'sms-receipts' | 'webhooks' | 'helpdesk';

/**
 * The key of one purpose, derived from the link secret: hex HMAC-SHA256(link secret, purpose). Whoever
 * holds it (the SMS provider, a webhook receiver) cannot recover the link secret, so cannot sign
 * customer links (/p, /w, /m/c, /m/u); the link secret never leaves the server.
 */
export function signingKey(linkSecret: string, purpose: SigningPurpose): string {
  return createHmac('sha256', linkSecret).update(purpose, 'utf8').digest('hex');
}
