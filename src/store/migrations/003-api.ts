import type { Kysely } from 'kysely';
import { type DialectName, idColumn } from './columns.js';

/**
 * What the HTTP API keeps: API keys (only a hash of the secret), local admin accounts (scrypt hashes),
 * the ids of webhooks already received (so a replay writes nothing) and a few server settings such as
 * the secret that signs dashboard sessions.
 */
export function apiMigration(dialect: DialectName) {
  return {
    // biome-ignore lint/suspicious/noExplicitAny: migrations are written against the schema they create.
    async up(db: Kysely<any>): Promise<void> {
      await idColumn(db.schema.createTable('api_keys'), dialect)
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('prefix', 'text', (c) => c.notNull())
        .addColumn('secret_sha256', 'text', (c) => c.notNull().unique())
        .addColumn('scope', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('last_used_at', 'bigint')
        .addColumn('revoked_at', 'bigint')
        .execute();

      await idColumn(db.schema.createTable('admin_users'), dialect)
        .addColumn('username', 'text', (c) => c.notNull().unique())
        .addColumn('password_hash', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('webhook_receipts')
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('webhook_id', 'text', (c) => c.notNull())
        .addColumn('topic', 'text', (c) => c.notNull())
        .addColumn('received_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('webhook_receipts_pk', ['source', 'webhook_id'])
        .execute();

      await db.schema
        .createTable('api_settings')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .execute();
    },
  };
}
