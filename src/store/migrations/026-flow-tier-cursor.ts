import type { Kysely } from 'kysely';

/** The tier_reached trigger's cursor: the id of the last loyalty tier change a flow's trigger scan has read. */
export function flowTierCursorMigration() {
  return {
    // biome-ignore lint/suspicious/noExplicitAny: migrations are written against the schema they create.
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .alterTable('flows')
        .addColumn('tier_cursor', 'bigint', (c) => c.notNull().defaultTo(0))
        .execute();
    },
  };
}
