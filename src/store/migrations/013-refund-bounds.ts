import { type Kysely, sql } from 'kysely';
import type { DialectName } from './columns.js';

/** The rule every order keeps: nothing negative refunded, and never more than its total. */
const WITHIN_TOTAL = 'refunded_minor >= 0 and (refunded_minor = 0 or refunded_minor <= total_minor)';

/**
 * Refunds within their order's total, enforced by the database on both dialects; refunds keep the sku
 * and quantity they take back (an Online Retail cancellation is allocated by units); an import is
 * recorded when it starts and marked complete when it ends.
 *
 * PostgreSQL gets a CHECK constraint. SQLite cannot add a CHECK to an existing table without rebuilding
 * it, and rebuilding `orders` means copying every order with foreign keys switched off (outside the
 * migration's transaction) while order_lines, refunds and the loyalty ledger point at it; two triggers
 * (insert, and update of the two columns) refuse the same rows with one cheap test per written order,
 * inside the migration's transaction, and can be dropped again.
 */
export function refundBoundsMigration(dialect: DialectName) {
  return {
    // biome-ignore lint/suspicious/noExplicitAny: migrations are written against the schema they create.
    async up(db: Kysely<any>): Promise<void> {
      // Orders stored before the rule (an Online Retail cancellation matched twice, a negative refund):
      // a refund is taken as its size, and capped at what the order was worth.
      await sql`update orders set refunded_minor = -refunded_minor where refunded_minor < 0`.execute(db);
      await sql`update orders set refunded_minor = case when total_minor > 0 then total_minor else 0 end,
          status = case when status = 'cancelled' or total_minor <= 0 then status else 'refunded' end
        where refunded_minor > 0 and refunded_minor > total_minor`.execute(db);
      if (dialect === 'postgres') {
        await sql`alter table orders add constraint orders_refunded_within_total check (${sql.raw(WITHIN_TOTAL)})`.execute(
          db,
        );
      } else {
        const refuse = (row: string) =>
          sql.raw(
            `when not (${WITHIN_TOTAL.replaceAll('refunded_minor', `${row}.refunded_minor`).replaceAll('total_minor', `${row}.total_minor`)})`,
          );
        await sql`create trigger orders_refunded_within_total_insert before insert on orders
          for each row ${refuse('new')}
          begin select raise(abort, 'CHECK constraint failed: orders_refunded_within_total'); end`.execute(db);
        await sql`create trigger orders_refunded_within_total_update before update of refunded_minor, total_minor on orders
          for each row ${refuse('new')}
          begin select raise(abort, 'CHECK constraint failed: orders_refunded_within_total'); end`.execute(db);
      }
      // An Online Retail cancellation line is now stored as numbered pieces (`C536379:1#1`, `#2`…), one
      // per order it is allocated to; the single piece stored before keeps re-imports idempotent.
      await sql`update refunds set external_id = external_id || '#1' where source = 'online-retail'`.execute(db);
      await db.schema.alterTable('refunds').addColumn('sku', 'text').execute();
      await db.schema.alterTable('refunds').addColumn('quantity', 'integer').execute();
      await db.schema.alterTable('imports').addColumn('completed_at', 'bigint').execute();
      await sql`update imports set completed_at = imported_at`.execute(db);
      await db.schema.createIndex('imports_sha256').on('imports').column('sha256').execute();
    },
  };
}
