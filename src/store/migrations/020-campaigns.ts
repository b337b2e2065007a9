import type { Kysely } from 'kysely';
import { type DialectName, idColumn } from './columns.js';

/**
 * Flows and campaigns: versioned flow definitions, templates, journeys (one per flow, customer and
 * trigger occurrence), the outbox every message leaves through, suppressions, message events (opens,
 * clicks, bounces) and the coupons offers issue. Every retried write has a natural key with a unique
 * index, so an insert that finds its row says `created: false` instead of writing twice.
 */
export function campaignsMigration(dialect: DialectName) {
  return {
    // biome-ignore lint/suspicious/noExplicitAny: migrations are written against the schema they create.
    async up(db: Kysely<any>): Promise<void> {
      // The customer's own zone, for quiet hours and local send times; the store's when null.
      await db.schema.alterTable('customers').addColumn('time_zone', 'text').execute();

      await idColumn(db.schema.createTable('flows'), dialect)
        .addColumn('key', 'text', (c) => c.notNull().unique())
        .addColumn('name', 'text', (c) => c.notNull())
        /** `flow` (triggered) or `campaign` (one-off, to a saved segment). */
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('enabled', 'integer', (c) => c.notNull())
        .addColumn('current_version', 'integer', (c) => c.notNull())
        /** The id of the last event (and order) the trigger scan has looked at. */
        .addColumn('event_cursor', 'bigint', (c) => c.notNull())
        .addColumn('order_cursor', 'bigint', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('flow_versions')
        .addColumn('flow_id', 'bigint', (c) => c.notNull().references('flows.id').onDelete('cascade'))
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('definition', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('flow_versions_pk', ['flow_id', 'version'])
        .execute();

      await db.schema
        .createTable('message_templates')
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('channel', 'text', (c) => c.notNull())
        .addColumn('purpose', 'text', (c) => c.notNull())
        .addColumn('subject', 'text')
        /** Liquid source: MJML for e-mail, plain text for SMS and KakaoTalk, unused for webhooks. */
        .addColumn('body', 'text', (c) => c.notNull())
        /** E-mail: the MJML compiled once to HTML (still holding Liquid tags) when the version is saved. */
        .addColumn('compiled_html', 'text')
        .addColumn('text_body', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('message_templates_pk', ['key', 'version'])
        .execute();

      await idColumn(db.schema.createTable('journeys'), dialect)
        .addColumn('flow_id', 'bigint', (c) => c.notNull().references('flows.id').onDelete('cascade'))
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('customer_id', 'bigint', (c) => c.notNull().references('customers.id').onDelete('cascade'))
        /** What started this journey: the event's message id, the order id, `birthday:2026` … */
        .addColumn('occurrence', 'text', (c) => c.notNull())
        .addColumn('arm', 'text', (c) => c.notNull())
        .addColumn('entered_at', 'bigint', (c) => c.notNull())
        .addColumn('step_id', 'text')
        .addColumn('step_started_at', 'bigint', (c) => c.notNull())
        /** When the engine must look at this journey again; null once it ended. */
        .addColumn('wake_at', 'bigint')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('exit_reason', 'text')
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('journeys_natural', ['flow_id', 'customer_id', 'occurrence'])
        .execute();
      await db.schema.createIndex('journeys_wake').on('journeys').columns(['status', 'wake_at']).execute();
      await db.schema.createIndex('journeys_customer').on('journeys').columns(['customer_id', 'entered_at']).execute();

      await idColumn(db.schema.createTable('outbox'), dialect)
        .addColumn('journey_id', 'bigint', (c) => c.notNull().references('journeys.id').onDelete('cascade'))
        .addColumn('flow_id', 'bigint', (c) => c.notNull())
        .addColumn('step_id', 'text', (c) => c.notNull())
        .addColumn('customer_id', 'bigint', (c) => c.notNull())
        .addColumn('arm', 'text', (c) => c.notNull())
        .addColumn('channel', 'text', (c) => c.notNull())
        .addColumn('purpose', 'text', (c) => c.notNull())
        .addColumn('template_key', 'text', (c) => c.notNull())
        .addColumn('template_version', 'integer')
        .addColumn('to_address', 'text')
        /** `pending`, `sending`, `sent`, `failed`, `uncertain`, `expired`, `skipped`, `held_out`. */
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('reason', 'text')
        /** The rendered message as JSON (subject, html, text, headers or the webhook body), fixed at enqueue. */
        .addColumn('payload', 'text')
        .addColumn('coupon_code', 'text')
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('claim_token', 'text')
        .addColumn('lease_until', 'bigint')
        .addColumn('send_after', 'bigint', (c) => c.notNull())
        /** A message still unsent at this instant expires instead of arriving late. */
        .addColumn('send_by', 'bigint', (c) => c.notNull())
        .addColumn('message_id', 'text', (c) => c.notNull().unique())
        .addColumn('provider_id', 'text')
        .addColumn('last_error', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('sent_at', 'bigint')
        .addUniqueConstraint('outbox_natural', ['journey_id', 'step_id'])
        .execute();
      await db.schema.createIndex('outbox_due').on('outbox').columns(['status', 'send_after']).execute();
      await db.schema.createIndex('outbox_customer').on('outbox').columns(['customer_id', 'created_at']).execute();

      await db.schema
        .createTable('suppressions')
        .addColumn('channel', 'text', (c) => c.notNull())
        .addColumn('address', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('suppressions_pk', ['channel', 'address'])
        .execute();

      await idColumn(db.schema.createTable('message_events'), dialect)
        .addColumn('outbox_id', 'bigint', (c) => c.notNull().references('outbox.id').onDelete('cascade'))
        .addColumn('customer_id', 'bigint', (c) => c.notNull())
        /** `delivered`, `opened`, `clicked`, `bounced`, `complained`, `unsubscribed`. */
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('detail', 'text')
        .addColumn('occurred_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('message_events_outbox')
        .on('message_events')
        .columns(['outbox_id', 'kind'])
        .execute();

      await db.schema
        .createTable('coupons')
        .addColumn('code', 'text', (c) => c.primaryKey())
        .addColumn('customer_id', 'bigint', (c) => c.notNull())
        .addColumn('outbox_id', 'bigint', (c) => c.notNull().unique())
        .addColumn('offer', 'text', (c) => c.notNull())
        .addColumn('currency', 'text')
        /** The discount the offer is worth at most, in minor units (after the predicted-value cap). */
        .addColumn('max_discount_minor', 'bigint')
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('used_order_id', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('messaging_settings')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .execute();
    },
  };
}
