import type { Kysely } from 'kysely';
import { type DialectName, idColumn } from './columns.js';

/**
 * Surveys, answers, product reviews and the consent ledger. A survey link is a row (`survey_links`)
 * so that a link answers once and response rates have a denominator; an answer is keyed by its link
 * (answers collected elsewhere by `import:<key>`), a review by (customer, product, order). Every
 * consent change is appended to `consent_changes` with its source; `customer_consents` keeps the
 * current state per channel, `consent_topics` per topic, and `marketing_pauses` a pause's end.
 */
export function feedbackMigration(dialect: DialectName) {
  return {
    // biome-ignore lint/suspicious/noExplicitAny: migrations are written against the schema they create.
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('surveys')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('kind', 'text', (c) => c.notNull())
        /** The validated definition as JSON. */
        .addColumn('definition', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('survey_links')
        /** The link's own random id, signed into its token. */
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('survey_key', 'text', (c) => c.notNull())
        .addColumn('customer_id', 'bigint', (c) => c.notNull().references('customers.id').onDelete('cascade'))
        /** The order (CSAT after an order, reviews) or support contact the link asks about. */
        .addColumn('context', 'text')
        .addColumn('issued_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('used_at', 'bigint')
        .execute();
      await db.schema
        .createIndex('survey_links_customer')
        .on('survey_links')
        .columns(['customer_id', 'issued_at'])
        .execute();

      await idColumn(db.schema.createTable('survey_responses'), dialect)
        .addColumn('survey_key', 'text', (c) => c.notNull())
        /** `nps`, `csat`, `exit`, `cart` or `custom`. */
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('customer_id', 'bigint', (c) => c.notNull().references('customers.id').onDelete('cascade'))
        /** `link:<link id>`, `import:<id or row digest>`, `api:<id>`: an answer is stored once per key. */
        .addColumn('response_key', 'text', (c) => c.notNull().unique())
        .addColumn('source', 'text', (c) => c.notNull())
        /** NPS 0–10 or CSAT 1–5; null for surveys without a score. */
        .addColumn('score', 'integer')
        /** The chosen reason of an exit or cart survey. */
        .addColumn('reason', 'text')
        .addColumn('comment', 'text')
        /** Every answer by question id, as JSON. */
        .addColumn('answers', 'text', (c) => c.notNull())
        .addColumn('context', 'text')
        .addColumn('answered_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('survey_responses_customer')
        .on('survey_responses')
        .columns(['customer_id', 'kind', 'answered_at'])
        .execute();
      await db.schema
        .createIndex('survey_responses_kind')
        .on('survey_responses')
        .columns(['kind', 'answered_at'])
        .execute();

      await idColumn(db.schema.createTable('product_reviews'), dialect)
        .addColumn('customer_id', 'bigint', (c) => c.notNull().references('customers.id').onDelete('cascade'))
        .addColumn('product_id', 'bigint', (c) => c.notNull().references('products.id').onDelete('cascade'))
        .addColumn('order_id', 'bigint', (c) => c.notNull())
        .addColumn('rating', 'integer', (c) => c.notNull())
        .addColumn('body', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('product_reviews_natural', ['customer_id', 'product_id', 'order_id'])
        .execute();
      await db.schema.createIndex('product_reviews_product').on('product_reviews').columns(['product_id']).execute();

      await idColumn(db.schema.createTable('consent_changes'), dialect)
        .addColumn('customer_id', 'bigint', (c) => c.notNull().references('customers.id').onDelete('cascade'))
        /** `email`, `sms`, `kakao`, `topic:<name>` or `pause`. */
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('granted', 'integer', (c) => c.notNull())
        /** Where the change came from: `preference_centre`, `unsubscribe`, `import`, `api` … */
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('detail', 'text')
        .addColumn('occurred_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('consent_changes_customer')
        .on('consent_changes')
        .columns(['customer_id', 'occurred_at'])
        .execute();

      await db.schema
        .createTable('consent_topics')
        .addColumn('customer_id', 'bigint', (c) => c.notNull().references('customers.id').onDelete('cascade'))
        .addColumn('topic', 'text', (c) => c.notNull())
        .addColumn('granted', 'integer', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('consent_topics_pk', ['customer_id', 'topic'])
        .execute();

      await db.schema
        .createTable('marketing_pauses')
        .addColumn('customer_id', 'bigint', (c) => c.primaryKey().references('customers.id').onDelete('cascade'))
        .addColumn('until', 'bigint', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
    },
  };
}
