import type { Kysely } from 'kysely';
import { type DialectName, idColumn } from './columns.js';

/**
 * Dashboard sessions kept on the server, so that signing out, changing the password or revoking the
 * session ends it at once: the cookie holds a random token, the table its keyed hash. A session opened
 * with an API key remembers the key (revoking the key ends the session) and carries the key's scope.
 * Also the order's name as the store shows it (Shopify's `#1001`, beside its numeric id), null where
 * the format has none.
 */
export function sessionsMigration(dialect: DialectName) {
  return {
    // biome-ignore lint/suspicious/noExplicitAny: migrations are written against the schema they create.
    async up(db: Kysely<any>): Promise<void> {
      await idColumn(db.schema.createTable('api_sessions'), dialect)
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('username', 'text')
        .addColumn('api_key_id', 'bigint')
        .addColumn('scope', 'text', (c) => c.notNull())
        .addColumn('address', 'text')
        .addColumn('user_agent', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
        .addColumn('revoked_at', 'bigint')
        .execute();
      await db.schema.createIndex('api_sessions_username').on('api_sessions').column('username').execute();
      await db.schema.alterTable('orders').addColumn('name', 'text').execute();
    },
  };
}
