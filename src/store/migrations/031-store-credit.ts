import { type Kysely, sql } from 'kysely';
import { type DialectName, idColumn } from './columns.js';

/**
 * Store credit, a loyalty reward paid in money: one account row per (customer, currency) holding the
 * balance that spends lock and conditionally update (never below zero, checked by the database too)
 * and the member's personal checkout code; and the append-only credit ledger, one signed amount in
 * minor units per row, keyed by an idempotency key, whose sum per account is the balance.
 */
export function storeCreditMigration(dialect: DialectName) {
  return {
    // biome-ignore lint/suspicious/noExplicitAny: migrations are written against the schema they create.
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('store_credit_accounts')
        .addColumn('customer_id', 'bigint', (c) => c.notNull().references('customers.id').onDelete('cascade'))
        .addColumn('currency', 'text', (c) => c.notNull())
        .addColumn('balance_minor', 'bigint', (c) => c.notNull())
        .addColumn('code', 'text', (c) => c.notNull().unique())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('store_credit_accounts_pk', ['customer_id', 'currency'])
        .addCheckConstraint('store_credit_accounts_balance_nonnegative', sql`balance_minor >= 0`)
        .execute();

      await idColumn(db.schema.createTable('store_credit_ledger'), dialect)
        .addColumn('customer_id', 'bigint', (c) => c.notNull())
        .addColumn('currency', 'text', (c) => c.notNull())
        .addColumn('amount_minor', 'bigint', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('reference', 'text')
        .addColumn('idempotency_key', 'text', (c) => c.notNull().unique())
        .addColumn('order_id', 'bigint')
        .addColumn('expires_at', 'bigint')
        .addColumn('occurred_at', 'bigint', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('actor', 'text')
        .addForeignKeyConstraint('store_credit_ledger_account', ['customer_id', 'currency'], 'store_credit_accounts', [
          'customer_id',
          'currency',
        ])
        .execute();
      await db.schema
        .createIndex('store_credit_ledger_account')
        .on('store_credit_ledger')
        .columns(['customer_id', 'currency', 'id'])
        .execute();
      await db.schema.createIndex('store_credit_ledger_order').on('store_credit_ledger').column('order_id').execute();
      // Append-only, as the points ledger: corrections are new rows (restored, adjusted), never edits.
      if (dialect === 'postgres') {
        await sql`create function store_credit_ledger_append_only() returns trigger language plpgsql as $$
          begin raise exception 'store_credit_ledger is append-only'; end $$`.execute(db);
        await sql`create trigger store_credit_ledger_append_only before update or delete on store_credit_ledger
          for each row execute function store_credit_ledger_append_only()`.execute(db);
      } else {
        for (const action of ['update', 'delete']) {
          await sql`create trigger ${sql.raw(`store_credit_ledger_no_${action}`)} before ${sql.raw(action)} on store_credit_ledger
            begin select raise(abort, 'store_credit_ledger is append-only'); end`.execute(db);
        }
      }
    },
  };
}
