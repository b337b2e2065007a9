import type { Kysely } from 'kysely';

/**
 * What a journey's trigger occurrence carried when it entered (JSON, null when the occurrence key says
 * all): the points and date of a points_expiring reminder, the tiers of a tier change, the product and
 * due date of a replenishment reminder. Templates read it as `trigger`.
 */
export function journeyTriggerDataMigration() {
  return {
    // biome-ignore lint/suspicious/noExplicitAny: migrations are written against the schema they create.
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('journeys').addColumn('trigger_data', 'text').execute();
    },
  };
}
