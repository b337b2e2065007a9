import type { Kysely } from 'kysely';

/**
 * The two-yearly re-confirmation of advertising consent for Korean recipients (정보통신망법 시행령
 * 제62조의3): one row per (customer, consent channel, due date), written with the outbox row of the
 * notice, so a job that runs again tells nobody twice and the store can show whom it told.
 */
export function consentReconfirmMigration() {
  return {
    // biome-ignore lint/suspicious/noExplicitAny: migrations are written against the schema they create.
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('consent_reconfirmations')
        .addColumn('customer_id', 'bigint', (c) => c.notNull().references('customers.id').onDelete('cascade'))
        /** The consent channel (`sms`, `email`, `ad_night`). */
        .addColumn('channel', 'text', (c) => c.notNull())
        /** When the consent was given (customer_consents.updated_at at the time). */
        .addColumn('consented_at', 'bigint', (c) => c.notNull())
        /** The re-confirmation date this notice answers (consent date + 2, 4 … years). */
        .addColumn('due_at', 'bigint', (c) => c.notNull())
        .addColumn('notified_at', 'bigint', (c) => c.notNull())
        /** The notice's outbox row; null when the customer has no address on that channel. */
        .addColumn('outbox_id', 'bigint')
        .addColumn('status', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('consent_reconfirmations_pk', ['customer_id', 'channel', 'due_at'])
        .execute();
    },
  };
}
