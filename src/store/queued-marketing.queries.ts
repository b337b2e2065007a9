import type { Db } from './db.js';

/**
 * Withdrawn consent, a pause and a topic turned off take effect at once on what is already queued: the customer's pending
 * marketing outbox rows on the channels concerned become `skipped` with the reason, in the caller's
 * transaction. It lives in store/ because every writer of consent calls it (ingest's importer and
 * events, hosted's preference centre, campaigns' unsubscribe and `consent set`), and those folders may
 * not import one another. Transactional rows, rows already claimed or sent, webhooks and staff
 * outreach are left alone (a claimed row meets the policy again just before it is handed over).
 */

/** The outbox's columns this module reads and writes (the table is campaigns', migration 020). */
type OutboxColumns = {
  outbox: {
    customer_id: number;
    channel: string;
    purpose: string;
    status: string;
    reason: string | null;
    topic: string | null;
  };
  customer_consents: { customer_id: number; channel: string; granted: number };
};

/**
 * The outbox channels whose marketing a consent channel governs: e-mail and SMS their own, and SMS also
 * KakaoTalk's when the customer has no KakaoTalk row of their own (campaigns' `recordedConsentFor`);
 * KakaoTalk its own; `ad_night` none (it only moves a Korean message to the morning).
 */
async function governedChannels(db: Db, customerId: number, consentChannel: string): Promise<string[]> {
  if (consentChannel === 'email' || consentChannel === 'kakao') return [consentChannel];
  if (consentChannel !== 'sms') return [];
  const kakao = await db
    .withTables<OutboxColumns>()
    .selectFrom('customer_consents')
    .select('granted')
    .where('customer_id', '=', customerId)
    .where('channel', '=', 'kakao')
    .executeTakeFirst();
  return kakao ? ['sms'] : ['sms', 'kakao'];
}

/**
 * Skips a customer's pending marketing rows after consent on `consentChannel` was withdrawn (reason
 * `no_consent:<outbox channel>`, as the policy writes it), or after a pause started (`'pause'`: every
 * message channel, reason `paused`). Call it in the transaction that records the change. Returns the
 * number of rows skipped.
 */
export async function skipQueuedMarketing(db: Db, customerId: number, cause: string): Promise<number> {
  const channels = cause === 'pause' ? ['email', 'sms', 'kakao'] : await governedChannels(db, customerId, cause);
  let skipped = 0;
  for (const channel of channels) {
    const result = await db
      .withTables<OutboxColumns>()
      .updateTable('outbox')
      .set({ status: 'skipped', reason: cause === 'pause' ? 'paused' : `no_consent:${channel}` })
      .where('customer_id', '=', customerId)
      .where('channel', '=', channel)
      .where('purpose', '=', 'marketing')
      .where('status', '=', 'pending')
      .executeTakeFirst();
    skipped += Number(result.numUpdatedRows);
  }
  return skipped;
}

/**
 * Skips a customer's pending marketing rows of a preference-centre topic after they turned it off, on
 * every channel, with the reason the check before sending would write (`topic_opted_out:<topic>`). Call
 * it in the transaction that records the change. Returns the number of rows skipped.
 */
export async function skipQueuedTopic(db: Db, customerId: number, topic: string): Promise<number> {
  const result = await db
    .withTables<OutboxColumns>()
    .updateTable('outbox')
    .set({ status: 'skipped', reason: `topic_opted_out:${topic}` })
    .where('customer_id', '=', customerId)
    .where('topic', '=', topic)
    .where('purpose', '=', 'marketing')
    .where('status', '=', 'pending')
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}
