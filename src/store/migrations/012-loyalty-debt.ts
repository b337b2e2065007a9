import { type Kysely, sql } from 'kysely';
import type { DialectName } from './columns.js';

/**
 * Loyalty debt and redemption links: `loyalty_members.debt` holds the points a refund could not take
 * back because the member had already spent them (repaid first from later earnings; the ledger's
 * `debt` bucket records each move), and `loyalty_redemptions.ledger_key` names the debit of each code so
 * that the ledger audit can find a code issued without one (older rows: their idempotency key).
 */
export function loyaltyDebtMigration(_dialect: DialectName) {
  return {
    // biome-ignore lint/suspicious/noExplicitAny: migrations are written against the schema they create.
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .alterTable('loyalty_members')
        .addColumn('debt', 'bigint', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema.alterTable('loyalty_redemptions').addColumn('ledger_key', 'text').execute();
      await sql`create index loyalty_ledger_kind on loyalty_ledger (kind, occurred_at)`.execute(db);
    },
  };
}
