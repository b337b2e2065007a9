import type { Kysely } from 'kysely';
import { type DialectName, idColumn } from './columns.js';

/**
 * Double opt-in of the storefront's e-mail capture: one row per confirmation asked for, written with
 * the outbox row of its confirmation e-mail. The signed link names the row; `confirmed_at` is set once,
 * so a link answers once. Rows of the last day per address are what the per-address rate limit counts.
 */
export function storefrontOptInMigration(dialect: DialectName) {
  return {
    // biome-ignore lint/suspicious/noExplicitAny: migrations are written against the schema they create.
    async up(db: Kysely<any>): Promise<void> {
      await idColumn(db.schema.createTable('storefront_opt_ins'), dialect)
        /** The address as typed, normalised (lower case, trimmed). */
        .addColumn('email', 'text', (c) => c.notNull())
        /** The customer whose address it is (made at capture for a new address, without consent). */
        .addColumn('customer_id', 'bigint', (c) => c.notNull().references('customers.id').onDelete('cascade'))
        /** The store's signed-in customer id, when the form was sent signed in. */
        .addColumn('user_id', 'text')
        .addColumn('locale', 'text', (c) => c.notNull())
        /** The form's message id, so a retried capture confirms into the same events. */
        .addColumn('message_id', 'text')
        .addColumn('requested_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('confirmed_at', 'bigint')
        .addColumn('outbox_id', 'bigint')
        .execute();
      await db.schema
        .createIndex('storefront_opt_ins_email')
        .on('storefront_opt_ins')
        .columns(['email', 'requested_at'])
        .execute();
    },
  };
}
