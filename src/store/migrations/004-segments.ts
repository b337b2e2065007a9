import type { Kysely } from 'kysely';
import { type DialectName, idColumn } from './columns.js';

/**
 * What segments keep: each customer's current label per kind (RFM group, persona, lifecycle stage,
 * and any label another module writes, such as a loyalty tier), saved rule segments with their
 * members, and each saved segment's size over time.
 */
export function segmentsMigration(dialect: DialectName) {
  return {
    // biome-ignore lint/suspicious/noExplicitAny: migrations are written against the schema they create.
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('customer_segments')
        .addColumn('customer_id', 'bigint', (c) => c.notNull().references('customers.id').onDelete('cascade'))
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('value', 'text', (c) => c.notNull())
        .addColumn('since', 'bigint', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('customer_segments_pk', ['customer_id', 'kind'])
        .execute();
      await db.schema
        .createIndex('customer_segments_kind')
        .on('customer_segments')
        .columns(['kind', 'value'])
        .execute();

      await idColumn(db.schema.createTable('saved_segments'), dialect)
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('rules', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('segment_members')
        .addColumn('segment_id', 'bigint', (c) => c.notNull().references('saved_segments.id').onDelete('cascade'))
        .addColumn('customer_id', 'bigint', (c) => c.notNull().references('customers.id').onDelete('cascade'))
        .addColumn('since', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('segment_members_pk', ['segment_id', 'customer_id'])
        .execute();
      await db.schema.createIndex('segment_members_customer').on('segment_members').column('customer_id').execute();

      await db.schema
        .createTable('segment_sizes')
        .addColumn('segment_id', 'bigint', (c) => c.notNull().references('saved_segments.id').onDelete('cascade'))
        .addColumn('as_of', 'bigint', (c) => c.notNull())
        .addColumn('size', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('segment_sizes_pk', ['segment_id', 'as_of'])
        .execute();
    },
  };
}
