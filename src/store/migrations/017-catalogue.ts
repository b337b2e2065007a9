import type { Kysely } from 'kysely';
import { type DialectName, idColumn } from './columns.js';

/**
 * The product catalogue (image, url, vendor, type, tags, status, inventory, compare-at price and the
 * price history) and the stored recommendation builds (per-item statistics and item-item neighbours).
 */
export function catalogueMigration(dialect: DialectName) {
  return {
    // biome-ignore lint/suspicious/noExplicitAny: migrations are written against the schema they create.
    async up(db: Kysely<any>): Promise<void> {
      const columns: Array<[string, 'text' | 'bigint' | 'integer']> = [
        ['handle', 'text'],
        ['image_url', 'text'],
        ['url', 'text'],
        ['vendor', 'text'],
        ['product_type', 'text'],
        ['tags', 'text'],
        ['inventory_quantity', 'integer'],
        ['compare_at_minor', 'bigint'],
        ['catalogue_source', 'text'],
        ['updated_at', 'bigint'],
      ];
      for (const [name, type] of columns) await db.schema.alterTable('products').addColumn(name, type).execute();
      await db.schema
        .alterTable('products')
        .addColumn('status', 'text', (c) => c.notNull().defaultTo('active'))
        .execute();
      await db.schema.createIndex('products_handle').on('products').column('handle').execute();

      await db.schema
        .createTable('product_prices')
        .addColumn('product_id', 'bigint', (c) => c.notNull().references('products.id').onDelete('cascade'))
        .addColumn('observed_at', 'bigint', (c) => c.notNull())
        .addColumn('price_minor', 'bigint', (c) => c.notNull())
        .addColumn('compare_at_minor', 'bigint')
        .addColumn('currency', 'text', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('product_prices_pk', ['product_id', 'observed_at'])
        .execute();

      await idColumn(db.schema.createTable('recommend_builds'), dialect)
        .addColumn('as_of', 'bigint', (c) => c.notNull())
        .addColumn('params', 'text', (c) => c.notNull())
        .addColumn('stats', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('recommend_items')
        .addColumn('build_id', 'bigint', (c) => c.notNull().references('recommend_builds.id').onDelete('cascade'))
        .addColumn('product_id', 'bigint', (c) => c.notNull())
        .addColumn('buyers', 'integer', (c) => c.notNull())
        .addColumn('orders', 'integer', (c) => c.notNull())
        .addColumn('recent_orders', 'integer', (c) => c.notNull())
        .addColumn('trend', 'double precision')
        .addColumn('repeat_buyers', 'integer', (c) => c.notNull())
        .addColumn('repurchase_days', 'double precision')
        .addColumn('repeat_item', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('recommend_items_pk', ['build_id', 'product_id'])
        .execute();
      // One row per (item, relation): the item's neighbours, best first, as a JSON array of
      // [neighbour product id, score, support] — a row of the sparse matrix, read in one lookup.
      await db.schema
        .createTable('recommend_neighbours')
        .addColumn('build_id', 'bigint', (c) => c.notNull().references('recommend_builds.id').onDelete('cascade'))
        .addColumn('product_id', 'bigint', (c) => c.notNull())
        .addColumn('relation', 'text', (c) => c.notNull())
        .addColumn('neighbours', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('recommend_neighbours_pk', ['build_id', 'product_id', 'relation'])
        .execute();
    },
  };
}
