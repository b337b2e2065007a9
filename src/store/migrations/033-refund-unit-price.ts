import type { Kysely } from 'kysely';

/**
 * Refunds allocated by units (an Online Retail cancellation line) keep the unit price they take back
 * at: a manual credit (`M`) takes back only `M` units bought at its price, so the units of an order's
 * `M` line already taken back are counted per price. Refunds stored before have none (null).
 */
export function refundUnitPriceMigration() {
  return {
    // biome-ignore lint/suspicious/noExplicitAny: migrations are written against the schema they create.
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('refunds').addColumn('unit_price_minor', 'bigint').execute();
    },
  };
}
