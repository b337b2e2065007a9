import { type Db, skipQueuedMarketing } from '../store/index.js';
import { type LinkRefusal, verifyLink } from './links.js';
import { suppress } from './outbox.queries.js';
import { campaignDb } from './tables.js';

/** What following an unsubscribe link did. */
export type UnsubscribeResult =
  | { ok: true; customerId: number; channel: string; alreadyDone: boolean }
  | { ok: false; reason: LinkRefusal | 'unknown_message' };

/**
 * Honours an unsubscribe at once, from the link, the one-click header (RFC 8058 POST) or the API: the
 * message's channel's marketing consent (e-mail, SMS or KakaoTalk; e-mail for a link without a message)
 * is withdrawn (source `unsubscribe`), the address joins the suppression
 * list, the customer's pending marketing rows on the channel are skipped (`no_consent:<channel>`) and the
 * message records the event. The state changes once; following the link again answers
 * "already done", and the link keeps working for months.
 */
export async function unsubscribeByToken(
  db: Db,
  secret: string,
  token: string,
  now: number,
): Promise<UnsubscribeResult> {
  const verified = verifyLink(secret, token, 'unsubscribe', now);
  if (!verified.ok) return verified;
  const { c: customerId, m: outboxId } = verified.claims;
  const cdb = campaignDb(db);
  const message =
    outboxId === undefined
      ? undefined
      : await cdb
          .selectFrom('outbox')
          .select(['id', 'channel', 'to_address', 'customer_id'])
          .where('id', '=', outboxId)
          .executeTakeFirst();
  if (outboxId !== undefined && (!message || message.customer_id !== customerId))
    return { ok: false, reason: 'unknown_message' };
  // A KakaoTalk message withdraws the KakaoTalk consent, which from then on governs KakaoTalk (not SMS's).
  const channel = message?.channel === 'sms' || message?.channel === 'kakao' ? message.channel : 'email';
  return db.transaction().execute(async (base) => {
    const trx = campaignDb(base);
    const current = await trx
      .selectFrom('customer_consents')
      .select('granted')
      .where('customer_id', '=', customerId)
      .where('channel', '=', channel)
      .executeTakeFirst();
    const alreadyDone = current?.granted === 0;
    if (!alreadyDone) {
      await trx
        .insertInto('customer_consents')
        .values({ customer_id: customerId, channel, granted: 0, updated_at: now, source: 'unsubscribe' })
        .onConflict((oc) =>
          oc.columns(['customer_id', 'channel']).doUpdateSet({ granted: 0, updated_at: now, source: 'unsubscribe' }),
        )
        .execute();
      if (message) {
        await trx
          .insertInto('message_events')
          .values({
            outbox_id: message.id,
            customer_id: customerId,
            kind: 'unsubscribed',
            detail: null,
            occurred_at: now,
          })
          .execute();
      }
    }
    if (message?.to_address) await suppress(trx, channel, message.to_address, 'unsubscribe', 'link', now);
    // What is already queued on the channel stops now, not when it comes up for sending.
    await skipQueuedMarketing(base, customerId, channel);
    return { ok: true, customerId, channel, alreadyDone };
  });
}
