import type { Kysely } from 'kysely';

/**
 * The topic of a marketing message (`offers`, `new_products`, `rewards`, `surveys`: the preference
 * centre's topics), kept on its outbox row so the check just before sending reads the customer's topic
 * choice as of then. Null for transactional rows and marketing without a topic.
 */
export function outboxTopicMigration() {
  return {
    // biome-ignore lint/suspicious/noExplicitAny: migrations are written against the schema they create.
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('outbox').addColumn('topic', 'text').execute();
    },
  };
}
