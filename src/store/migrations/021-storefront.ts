import type { Kysely } from 'kysely';

/**
 * Publishable (browser) keys: the origins a storefront may call from (a JSON array of
 * `scheme://host[:port]`) and the secret the store signs its signed-in customer's id with
 * (HMAC-SHA256), which the server needs in clear to check those signatures. Both are null for
 * server keys.
 */
export function storefrontMigration() {
  return {
    // biome-ignore lint/suspicious/noExplicitAny: migrations are written against the schema they create.
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('api_keys').addColumn('origins', 'text').execute();
      await db.schema.alterTable('api_keys').addColumn('member_secret', 'text').execute();
    },
  };
}
