import type { Kysely } from 'kysely';

/**
 * What webhooks and Segment calls need to reflect what really happened: the source's own `updated_at` of
 * the order state kept (so an older webhook arriving late cannot overwrite a newer state), the
 * presentment (customer) currency beside the shop currency, a refund's order id kept while its order has
 * not arrived, what a refund's lines said when no money moved, and Segment `group` memberships.
 */
export function webhookTruthMigration() {
  return {
    // biome-ignore lint/suspicious/noExplicitAny: migrations are written against the schema they create.
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('orders').addColumn('source_updated_at', 'bigint').execute();
      await db.schema.alterTable('orders').addColumn('presentment_currency', 'text').execute();
      await db.schema.alterTable('orders').addColumn('presentment_total_minor', 'bigint').execute();
      await db.schema.alterTable('refunds').addColumn('order_external_id', 'text').execute();
      await db.schema.alterTable('refunds').addColumn('presentment_currency', 'text').execute();
      await db.schema.alterTable('refunds').addColumn('presentment_amount_minor', 'bigint').execute();
      await db.schema.alterTable('refunds').addColumn('lines_amount_minor', 'bigint').execute();
      await db.schema
        .createIndex('refunds_order_external')
        .on('refunds')
        .columns(['source', 'order_external_id'])
        .execute();
      await db.schema
        .createTable('customer_groups')
        .addColumn('customer_id', 'bigint', (c) => c.notNull().references('customers.id').onDelete('cascade'))
        .addColumn('group_id', 'text', (c) => c.notNull())
        .addColumn('traits', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('customer_groups_pk', ['customer_id', 'group_id'])
        .execute();
    },
  };
}
