import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Db } from '../store/index.js';
import { type LinkRefusal, verifyLink } from './links.js';
import { suppress } from './outbox.queries.js';
import { campaignDb } from './tables.js';

/**
 * Records an open (`purpose` open) or a click (`purpose` click) from a signed tracking link as a
 * message event of the message it came from. A click answers the address to redirect to, which is
 * inside the signed token: a forged or altered link is refused, never redirected.
 */
export async function recordTracking(
  db: Db,
  secret: string,
  token: string,
  purpose: 'open' | 'click',
  now: number,
): Promise<{ ok: true; url: string | null } | { ok: false; reason: LinkRefusal | 'unknown_message' }> {
  const checked = verifyLink(secret, token, purpose, now);
  if (!checked.ok) return checked;
  const { c, m, u } = checked.claims;
  if (m === undefined || (purpose === 'click' && u === undefined)) return { ok: false, reason: 'malformed' };
  const cdb = campaignDb(db);
  const message = await cdb
    .selectFrom('outbox')
    .select('id')
    .where('id', '=', m)
    .where('customer_id', '=', c)
    .executeTakeFirst();
  if (!message) return { ok: false, reason: 'unknown_message' };
  await cdb
    .insertInto('message_events')
    .values({
      outbox_id: m,
      customer_id: c,
      kind: purpose === 'open' ? 'opened' : 'clicked',
      detail: u ?? null,
      occurred_at: now,
    })
    .execute();
  return { ok: true, url: u ?? null };
}

/** The signature an SMS provider puts on a delivery receipt: `sha256=` hex HMAC-SHA256 of the raw body. */
export function receiptSignature(secret: string, rawBody: string): string {
  return `sha256=${createHmac('sha256', secret).update(rawBody).digest('hex')}`;
}

/** A delivery receipt as the provider contract defines it. */
export interface DeliveryReceipt {
  /** The id the provider answered when it accepted the message. */
  providerId: string;
  status: 'delivered' | 'failed';
  /** A failure that will not change on retry (unknown number, landline): the number is suppressed. */
  permanent?: boolean;
  error?: string;
}

/**
 * Applies a signed SMS delivery receipt: checks the signature in constant time, records `delivered` or
 * `delivery_failed` on the message, and suppresses the number (reason bounce) on a permanent failure.
 * Unknown provider ids are refused so that the provider can see its mistake.
 */
export async function applyDeliveryReceipt(
  db: Db,
  secret: string,
  rawBody: string,
  signature: string | undefined,
  now: number,
): Promise<
  | { ok: true; suppressed: boolean; alreadyRecorded: boolean }
  | { ok: false; reason: 'forged' | 'malformed' | 'unknown_message'; field?: string }
> {
  const expected = Buffer.from(receiptSignature(secret, rawBody));
  const given = Buffer.from(signature ?? '');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'forged' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(rawBody);
  } catch {
    return { ok: false, reason: 'malformed', field: '(body)' };
  }
  const receipt = parsed as Partial<DeliveryReceipt> | null;
  if (!receipt || typeof receipt !== 'object' || typeof receipt.providerId !== 'string' || receipt.providerId === '') {
    return { ok: false, reason: 'malformed', field: 'providerId' };
  }
  if (receipt.status !== 'delivered' && receipt.status !== 'failed')
    return { ok: false, reason: 'malformed', field: 'status' };
  const cdb = campaignDb(db);
  const message = await cdb
    .selectFrom('outbox')
    .select(['id', 'customer_id', 'channel', 'to_address'])
    .where('provider_id', '=', receipt.providerId)
    .where('channel', 'in', ['sms', 'kakao'])
    .executeTakeFirst();
  if (!message) return { ok: false, reason: 'unknown_message', field: 'providerId' };
  const kind = receipt.status === 'delivered' ? 'delivered' : 'delivery_failed';
  const seen = await cdb
    .selectFrom('message_events')
    .select('id')
    .where('outbox_id', '=', message.id)
    .where('kind', '=', kind)
    .executeTakeFirst();
  if (seen) return { ok: true, suppressed: false, alreadyRecorded: true };
  const permanent = receipt.status === 'failed' && receipt.permanent === true;
  await cdb.transaction().execute(async (trx) => {
    await trx
      .insertInto('message_events')
      .values({
        outbox_id: message.id,
        customer_id: message.customer_id,
        kind,
        detail: receipt.error === undefined ? null : String(receipt.error).slice(0, 500),
        occurred_at: now,
      })
      .execute();
    if (permanent && message.to_address)
      await suppress(trx, message.channel, message.to_address, 'bounce', 'sms-receipt', now);
  });
  return { ok: true, suppressed: permanent && message.to_address !== null, alreadyRecorded: false };
}
