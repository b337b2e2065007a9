import type { Generated, Kysely } from 'kysely';
import type { Database, Db } from '../store/index.js';

/** The tables of migration 003, which only the API and its CLI commands read. */
// A type alias, not an interface: Kysely's `withTables` wants a type with an index signature.
export type ApiTables = {
  api_keys: ApiKeyTable;
  admin_users: AdminUserTable;
  webhook_receipts: WebhookReceiptTable;
  api_settings: ApiSettingTable;
  api_sessions: ApiSessionTable;
};

/** `publishable` keys live in storefront pages: events and the signed-in member's own data only. */
export type ApiScope = 'publishable' | 'read' | 'write' | 'admin';

export interface ApiKeyTable {
  id: Generated<number>;
  name: string;
  /** The first characters of the key (`cb_write_AbCd`), shown in lists so a key can be recognised. */
  prefix: string;
  /** Hex SHA-256 of the whole key; the key itself is never stored. */
  secret_sha256: string;
  scope: ApiScope;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
  /** Publishable keys: JSON array of the origins (`https://shop.example`) browsers may call from. */
  origins: string | null;
  /** Publishable keys: the secret the store signs its signed-in customer's id with (HMAC-SHA256). */
  member_secret: string | null;
}

export interface AdminUserTable {
  id: Generated<number>;
  username: string;
  /** `scrypt$N$r$p$salt$hash`, salt and hash base64url. */
  password_hash: string;
  created_at: number;
}

export interface WebhookReceiptTable {
  source: string;
  webhook_id: string;
  topic: string;
  received_at: number;
}

export interface ApiSettingTable {
  name: string;
  value: string;
}

/** A dashboard session (migration 027): a password sign-in (`username`) or an API key traded for one. */
export interface ApiSessionTable {
  id: Generated<number>;
  /** HMAC-SHA256 of the cookie's token under the server's session secret; the token is never stored. */
  token_hash: string;
  /** The admin account; null for a session opened with an API key. */
  username: string | null;
  api_key_id: number | null;
  scope: ApiScope;
  address: string | null;
  user_agent: string | null;
  created_at: number;
  expires_at: number;
  last_seen_at: number;
  revoked_at: number | null;
}

/** A database handle that also knows the API's tables. */
export type ApiDb = Kysely<Database & ApiTables>;

/** Widens a store handle (or transaction) with the API's tables. */
export function apiDb(db: Db): ApiDb {
  return db.withTables<ApiTables>();
}
