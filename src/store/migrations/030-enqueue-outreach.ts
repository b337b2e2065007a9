import type { Kysely } from 'kysely';

/**
 * The points_expiring trigger's last scan (ms; the ledger is replayed at most once a UTC day per flow),
 * and the staff outreach queue's record of finished tasks: who marked an outreach row done, when, and
 * their note (one row per outbox row; the outbox row itself becomes `sent` at that instant).
 */
export function enqueueOutreachMigration() {
  return {
    // biome-ignore lint/suspicious/noExplicitAny: migrations are written against the schema they create.
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .alterTable('flows')
        .addColumn('points_checked_at', 'bigint', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema
        .createTable('outreach_done')
        .addColumn('outbox_id', 'bigint', (c) => c.primaryKey())
        .addColumn('customer_id', 'bigint', (c) => c.notNull())
        .addColumn('done_at', 'bigint', (c) => c.notNull())
        .addColumn('done_by', 'text', (c) => c.notNull())
        .addColumn('note', 'text')
        .execute();
    },
  };
}
