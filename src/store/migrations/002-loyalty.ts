import { type Kysely, sql } from 'kysely';
import { type DialectName, idColumn } from './columns.js';

/**
 * The loyalty program: versioned program configurations, members with a balance row (the row that
 * redemptions lock or conditionally update), the append-only points ledger keyed by idempotency key,
 * the per-order earning state, redemption codes, tier history and referrals.
 */
export function loyaltyMigration(dialect: DialectName) {
  return {
    // biome-ignore lint/suspicious/noExplicitAny: migrations are written against the schema they create.
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('loyalty_programs')
        .addColumn('version', 'integer', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('currency', 'text', (c) => c.notNull())
        .addColumn('config', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('loyalty_members')
        .addColumn('customer_id', 'bigint', (c) => c.primaryKey().references('customers.id').onDelete('cascade'))
        .addColumn('enrolled_at', 'bigint', (c) => c.notNull())
        .addColumn('balance', 'bigint', (c) => c.notNull())
        .addColumn('pending', 'bigint', (c) => c.notNull())
        .addColumn('settled_at', 'bigint', (c) => c.notNull())
        .addColumn('lifetime_earned', 'bigint', (c) => c.notNull())
        .addColumn('gross_earned', 'bigint', (c) => c.notNull())
        .addColumn('tier', 'text', (c) => c.notNull())
        .addColumn('tier_since', 'bigint', (c) => c.notNull())
        .addColumn('tier_review_at', 'bigint', (c) => c.notNull())
        .addColumn('referral_code', 'text', (c) => c.notNull().unique())
        .addColumn('last_activity_at', 'bigint', (c) => c.notNull())
        .addCheckConstraint('loyalty_members_balance_nonnegative', sql`balance >= 0`)
        .execute();

      await idColumn(db.schema.createTable('loyalty_ledger'), dialect)
        .addColumn('customer_id', 'bigint', (c) => c.notNull().references('loyalty_members.customer_id'))
        .addColumn('amount', 'bigint', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('rule', 'text', (c) => c.notNull())
        .addColumn('idempotency_key', 'text', (c) => c.notNull().unique())
        .addColumn('bucket', 'text', (c) => c.notNull())
        .addColumn('available_at', 'bigint', (c) => c.notNull())
        .addColumn('occurred_at', 'bigint', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('program_version', 'integer', (c) => c.notNull())
        .addColumn('order_id', 'bigint')
        .addColumn('meta', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('loyalty_ledger_customer')
        .on('loyalty_ledger')
        .columns(['customer_id', 'occurred_at'])
        .execute();
      await db.schema
        .createIndex('loyalty_ledger_pending')
        .on('loyalty_ledger')
        .columns(['customer_id', 'bucket', 'available_at'])
        .execute();
      await db.schema
        .createIndex('loyalty_ledger_rule')
        .on('loyalty_ledger')
        .columns(['rule', 'customer_id'])
        .execute();
      await db.schema.createIndex('loyalty_ledger_order').on('loyalty_ledger').column('order_id').execute();
      // The ledger is append-only: corrections are new entries (reverse, adjust), never edits.
      if (dialect === 'postgres') {
        await sql`create function loyalty_ledger_append_only() returns trigger language plpgsql as $$
          begin raise exception 'loyalty_ledger is append-only'; end $$`.execute(db);
        await sql`create trigger loyalty_ledger_append_only before update or delete on loyalty_ledger
          for each row execute function loyalty_ledger_append_only()`.execute(db);
      } else {
        for (const action of ['update', 'delete']) {
          await sql`create trigger ${sql.raw(`loyalty_ledger_no_${action}`)} before ${sql.raw(action)} on loyalty_ledger
            begin select raise(abort, 'loyalty_ledger is append-only'); end`.execute(db);
        }
      }

      await db.schema
        .createTable('loyalty_orders')
        .addColumn('order_id', 'bigint', (c) => c.primaryKey())
        .addColumn('customer_id', 'bigint', (c) => c.notNull())
        .addColumn('earned', 'bigint', (c) => c.notNull())
        .addColumn('reversed', 'bigint', (c) => c.notNull())
        .addColumn('shortfall', 'bigint', (c) => c.notNull())
        .addColumn('refunded_seen', 'bigint', (c) => c.notNull())
        .addColumn('status_seen', 'text', (c) => c.notNull())
        .addColumn('earn_available_at', 'bigint', (c) => c.notNull())
        .addColumn('processed_at', 'bigint', (c) => c.notNull())
        .execute();

      await idColumn(db.schema.createTable('loyalty_redemptions'), dialect)
        .addColumn('code', 'text', (c) => c.notNull().unique())
        .addColumn('customer_id', 'bigint', (c) => c.notNull())
        .addColumn('reward_key', 'text', (c) => c.notNull())
        .addColumn('reward', 'text', (c) => c.notNull())
        .addColumn('points', 'bigint', (c) => c.notNull())
        .addColumn('idempotency_key', 'text', (c) => c.notNull().unique())
        .addColumn('min_order_minor', 'bigint', (c) => c.notNull())
        .addColumn('issued_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('used_at', 'bigint')
        .addColumn('used_order_id', 'bigint')
        .addColumn('program_version', 'integer', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('loyalty_redemptions_customer')
        .on('loyalty_redemptions')
        .column('customer_id')
        .execute();

      await idColumn(db.schema.createTable('loyalty_tier_history'), dialect)
        .addColumn('customer_id', 'bigint', (c) => c.notNull())
        .addColumn('from_tier', 'text')
        .addColumn('to_tier', 'text', (c) => c.notNull())
        .addColumn('changed_at', 'bigint', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('qualifying_value', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('loyalty_tier_history_customer')
        .on('loyalty_tier_history')
        .columns(['customer_id', 'changed_at'])
        .execute();

      await db.schema
        .createTable('loyalty_referrals')
        .addColumn('referee_id', 'bigint', (c) => c.primaryKey())
        .addColumn('referrer_id', 'bigint', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('reason', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('rewarded_at', 'bigint')
        .addColumn('order_id', 'bigint')
        .execute();
      await db.schema.createIndex('loyalty_referrals_referrer').on('loyalty_referrals').column('referrer_id').execute();
    },
  };
}
