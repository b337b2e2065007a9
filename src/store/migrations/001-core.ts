import { type Kysely, sql } from 'kysely';
import { type DialectName, idColumn } from './columns.js';

/** Customers, products, orders, lines, refunds and events: the data every other part reads. */
export function coreMigration(dialect: DialectName) {
  return {
    // biome-ignore lint/suspicious/noExplicitAny: migrations are written against the schema they create.
    async up(db: Kysely<any>): Promise<void> {
      await idColumn(db.schema.createTable('customers'), dialect)
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('email', 'text')
        .addColumn('phone', 'text')
        .addColumn('first_name', 'text')
        .addColumn('last_name', 'text')
        .addColumn('birthday', 'text')
        .addColumn('country', 'text')
        .addColumn('city', 'text')
        .addColumn('address', 'text')
        .addColumn('first_seen_at', 'bigint', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('customers_email').unique().on('customers').column('email').execute();
      await db.schema.createIndex('customers_phone').on('customers').column('phone').execute();

      await db.schema
        .createTable('customer_identities')
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('external_id', 'text', (c) => c.notNull())
        .addColumn('customer_id', 'bigint', (c) => c.notNull().references('customers.id').onDelete('cascade'))
        .addPrimaryKeyConstraint('customer_identities_pk', ['source', 'external_id'])
        .execute();
      await db.schema
        .createIndex('customer_identities_customer')
        .on('customer_identities')
        .column('customer_id')
        .execute();

      await db.schema
        .createTable('customer_consents')
        .addColumn('customer_id', 'bigint', (c) => c.notNull().references('customers.id').onDelete('cascade'))
        .addColumn('channel', 'text', (c) => c.notNull())
        .addColumn('granted', 'integer', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('customer_consents_pk', ['customer_id', 'channel'])
        .execute();

      await db.schema
        .createTable('anonymous_ids')
        .addColumn('anonymous_id', 'text', (c) => c.primaryKey())
        .addColumn('customer_id', 'bigint', (c) => c.notNull().references('customers.id').onDelete('cascade'))
        .addColumn('linked_at', 'bigint', (c) => c.notNull())
        .execute();

      await idColumn(db.schema.createTable('products'), dialect)
        .addColumn('sku', 'text', (c) => c.notNull().unique())
        .addColumn('title', 'text')
        .addColumn('category', 'text')
        .addColumn('price_minor', 'bigint')
        .addColumn('currency', 'text')
        .execute();

      await idColumn(db.schema.createTable('orders'), dialect)
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('external_id', 'text', (c) => c.notNull())
        .addColumn('customer_id', 'bigint', (c) => c.references('customers.id').onDelete('set null'))
        .addColumn('email', 'text')
        .addColumn('placed_at', 'bigint', (c) => c.notNull())
        .addColumn('placed_offset', 'integer', (c) => c.notNull())
        .addColumn('placed_date', 'text', (c) => c.notNull())
        .addColumn('currency', 'text', (c) => c.notNull())
        .addColumn('subtotal_minor', 'bigint', (c) => c.notNull())
        .addColumn('shipping_minor', 'bigint', (c) => c.notNull())
        .addColumn('tax_minor', 'bigint', (c) => c.notNull())
        .addColumn('discount_minor', 'bigint', (c) => c.notNull())
        .addColumn('total_minor', 'bigint', (c) => c.notNull())
        .addColumn('refunded_minor', 'bigint', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('discount_codes', 'text', (c) => c.notNull())
        .addColumn('country', 'text')
        .addColumn('cancelled_at', 'bigint')
        .addColumn('imported_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('orders_source_external', ['source', 'external_id'])
        .execute();
      await db.schema
        .createIndex('orders_customer_placed')
        .on('orders')
        .columns(['customer_id', 'placed_at'])
        .execute();
      await db.schema.createIndex('orders_placed').on('orders').column('placed_at').execute();

      // Lines are keyed by (order, line number) alone; on SQLite the table is clustered on that key
      // (WITHOUT ROWID), so an import maintains one b-tree per line instead of two. `product_id` is
      // a plain column, not a foreign key: the writer sets it from the products it upserts, a line
      // keeps its own sku and title, and SQLite's per-row parent check tripled import time.
      const lines = db.schema
        .createTable('order_lines')
        .addColumn('order_id', 'bigint', (c) => c.notNull().references('orders.id').onDelete('cascade'))
        .addColumn('line_no', 'integer', (c) => c.notNull())
        .addColumn('product_id', 'bigint')
        .addColumn('sku', 'text')
        .addColumn('title', 'text')
        .addColumn('quantity', 'integer', (c) => c.notNull())
        .addColumn('unit_price_minor', 'bigint', (c) => c.notNull())
        .addColumn('discount_minor', 'bigint', (c) => c.notNull())
        .addColumn('total_minor', 'bigint', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('order_lines_pk', ['order_id', 'line_no']);
      await (dialect === 'sqlite' ? lines.modifyEnd(sql`without rowid`) : lines).execute();
      await db.schema.createIndex('order_lines_product').on('order_lines').column('product_id').execute();

      await idColumn(db.schema.createTable('refunds'), dialect)
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('external_id', 'text', (c) => c.notNull())
        .addColumn('order_id', 'bigint', (c) => c.references('orders.id').onDelete('cascade'))
        .addColumn('customer_id', 'bigint', (c) => c.references('customers.id').onDelete('set null'))
        .addColumn('amount_minor', 'bigint', (c) => c.notNull())
        .addColumn('currency', 'text', (c) => c.notNull())
        .addColumn('refunded_at', 'bigint', (c) => c.notNull())
        .addColumn('reason', 'text')
        .addUniqueConstraint('refunds_source_external', ['source', 'external_id'])
        .execute();
      await db.schema.createIndex('refunds_order').on('refunds').column('order_id').execute();

      await idColumn(db.schema.createTable('events'), dialect)
        .addColumn('message_id', 'text', (c) => c.notNull().unique())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('event', 'text')
        .addColumn('customer_id', 'bigint', (c) => c.references('customers.id').onDelete('set null'))
        .addColumn('anonymous_id', 'text')
        .addColumn('session_id', 'text')
        .addColumn('properties', 'text', (c) => c.notNull())
        .addColumn('occurred_at', 'bigint', (c) => c.notNull())
        .addColumn('received_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('events_customer').on('events').columns(['customer_id', 'occurred_at']).execute();
      await db.schema.createIndex('events_anonymous').on('events').columns(['anonymous_id', 'occurred_at']).execute();
      await db.schema.createIndex('events_name').on('events').columns(['type', 'event', 'occurred_at']).execute();

      await idColumn(db.schema.createTable('imports'), dialect)
        .addColumn('file', 'text', (c) => c.notNull())
        .addColumn('format', 'text', (c) => c.notNull())
        .addColumn('sha256', 'text', (c) => c.notNull())
        .addColumn('rows', 'integer', (c) => c.notNull())
        .addColumn('orders', 'integer', (c) => c.notNull())
        .addColumn('rejected', 'integer', (c) => c.notNull())
        .addColumn('imported_at', 'bigint', (c) => c.notNull())
        .execute();
    },
  };
}
