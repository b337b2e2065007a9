import type { Kysely } from 'kysely';
import type { DialectName } from './columns.js';

const ORDER_COLUMNS = [
  'payment_method',
  'referring_site',
  'landing_site',
  'sales_channel',
  'utm_source',
  'utm_medium',
  'utm_campaign',
] as const;
const EVENT_COLUMNS = ['utm_source', 'utm_medium', 'utm_campaign', 'referrer'] as const;

/**
 * Where a customer came from and how they paid, for the figures by group: an order's payment method,
 * referring site, landing site (with the UTM parameters read from it) and sales channel (Shopify's
 * `Source`), and an event's `context.campaign` and page referrer. All nullable: most formats lack them.
 */
export function acquisitionMigration(_dialect: DialectName) {
  return {
    // biome-ignore lint/suspicious/noExplicitAny: migrations are written against the schema they create.
    async up(db: Kysely<any>): Promise<void> {
      for (const column of ORDER_COLUMNS) await db.schema.alterTable('orders').addColumn(column, 'text').execute();
      for (const column of EVENT_COLUMNS) await db.schema.alterTable('events').addColumn(column, 'text').execute();
    },
  };
}
