import type { Kysely } from 'kysely';

/** The customer's postcode as its own field (ad-platform exports need it apart from the address text). */
export function postcodeMigration() {
  return {
    // biome-ignore lint/suspicious/noExplicitAny: migrations are written against the schema they create.
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('customers').addColumn('postcode', 'text').execute();
    },
  };
}
