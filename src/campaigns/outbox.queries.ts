import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { type Db, immediateTransaction, isPostgres } from '../store/index.js';
import { recheckBeforeSending } from './advance.queries.js';
import type { SendDecision } from './policy.js';
import { backoffMs, type Sender, type SendOutcome } from './senders/sender.js';
import { type MessagingSettings, messagingSettings } from './settings.js';
import { type CampaignDb, campaignDb } from './tables.js';

/**
 * The outbox is the only way a message leaves. Claiming is one statement that sets attempts + 1, a
 * lease and a claim token (`FOR UPDATE SKIP LOCKED` on PostgreSQL, an immediate transaction on
 * SQLite); `now` is a parameter, never SQL `now()`. Finishing needs the token: zero rows updated means
 * the lease was lost, and nothing is overwritten. A lease that runs out on a row that may have reached
 * the provider marks it `uncertain`: it is reported and resent only on request, with the same Message-ID.
 */

/** A claimed row, ready to send. */
export interface ClaimedMessage {
  id: number;
  customerId: number;
  channel: string;
  /** `marketing` rows pass the policy check again just before they are handed over (`deliverDue`). */
  purpose: string;
  /** The preference-centre topic of a marketing row (null: none); read again by that check. */
  topic: string | null;
  to: string;
  messageId: string;
  payload: Record<string, unknown>;
  attempts: number;
  /** The row's send-by time (ms): pending past it, it expires. */
  sendBy: number;
  token: string;
}

/** Claims up to `limit` due rows of the given channels for `leaseMs`. */
export async function claimDue(
  db: Db,
  options: { now: number; limit: number; leaseMs: number; channels: readonly string[] },
): Promise<ClaimedMessage[]> {
  const { now, limit, leaseMs, channels } = options;
  if (channels.length === 0) return [];
  const cdb = campaignDb(db);
  const token = randomUUID();
  const rows = await immediateTransaction(cdb, async (trx) => {
    let candidates = trx
      .selectFrom('outbox')
      .select('id')
      .where('status', '=', 'pending')
      .where('send_after', '<=', now)
      .where('send_by', '>', now)
      .where('channel', 'in', channels)
      .orderBy('send_after')
      .orderBy('id')
      .limit(limit);
    if (isPostgres(trx)) candidates = candidates.forUpdate().skipLocked();
    const ids = (await candidates.execute()).map((r) => r.id);
    if (ids.length === 0) return [];
    return trx
      .updateTable('outbox')
      .set({
        status: 'claimed',
        attempts: sql<number>`attempts + 1`,
        claim_token: token,
        lease_until: now + leaseMs,
      })
      .where('id', 'in', ids)
      .where('status', '=', 'pending')
      .returning([
        'id',
        'customer_id',
        'channel',
        'purpose',
        'topic',
        'to_address',
        'message_id',
        'payload',
        'attempts',
        'send_by',
      ])
      .execute();
  });
  return rows.map((r) => ({
    id: r.id,
    customerId: r.customer_id,
    channel: r.channel,
    purpose: r.purpose,
    topic: r.topic,
    to: r.to_address ?? '',
    messageId: r.message_id,
    payload: r.payload ? (JSON.parse(r.payload) as Record<string, unknown>) : {},
    attempts: r.attempts,
    sendBy: Number(r.send_by),
    token,
  }));
}

/** At most this many attempts before a message that keeps failing for a temporary reason fails for good. */
export const MAX_ATTEMPTS = 8;

/**
 * Records what a send did, if this worker still holds the row: sent, back to pending after a back-off,
 * or failed (a permanent failure also suppresses the address). Returns false when the lease was lost.
 */
export async function finishMessage(
  db: Db,
  message: ClaimedMessage,
  outcome: SendOutcome,
  options: { now: number; random: number },
): Promise<boolean> {
  const cdb = campaignDb(db);
  const { now } = options;
  return cdb.transaction().execute(async (trx) => {
    const owned = trx
      .updateTable('outbox')
      .where('id', '=', message.id)
      .where('claim_token', '=', message.token)
      .where('status', '=', 'sending');
    let result: { numUpdatedRows: bigint };
    if (outcome.type === 'sent') {
      result = await owned
        .set({ status: 'sent', sent_at: now, provider_id: outcome.providerId, claim_token: null, lease_until: null })
        .executeTakeFirst();
    } else if (outcome.type === 'retry' && message.attempts < MAX_ATTEMPTS) {
      const wait = outcome.afterMs ?? backoffMs(message.attempts, options.random);
      result = await owned
        .set({
          status: 'pending',
          send_after: now + wait,
          last_error: outcome.reason,
          claim_token: null,
          lease_until: null,
        })
        .executeTakeFirst();
    } else {
      const reason =
        outcome.type === 'failed' ? outcome.reason : `gave up after ${message.attempts} attempts: ${outcome.reason}`;
      result = await owned
        .set({ status: 'failed', last_error: reason, claim_token: null, lease_until: null })
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) > 0 && outcome.type === 'failed' && outcome.permanent) {
        await suppress(trx, message.channel, message.to, 'bounce', 'provider', now);
      }
    }
    return Number(result.numUpdatedRows) > 0;
  });
}

/** Puts an address on the suppression list (idempotent; a hard bounce is never downgraded). */
export async function suppress(
  cdb: CampaignDb,
  channel: string,
  address: string,
  reason: 'bounce' | 'complaint' | 'unsubscribe',
  source: string,
  now: number,
): Promise<void> {
  await cdb
    .insertInto('suppressions')
    .values({ channel, address, reason, source, created_at: now })
    .onConflict((oc) =>
      reason === 'bounce'
        ? oc.columns(['channel', 'address']).doUpdateSet({ reason, source, created_at: now })
        : oc.columns(['channel', 'address']).doNothing(),
    )
    .execute();
}

/**
 * Housekeeping at `now`, for rows whose worker's lease ran out: rows being handed to a provider
 * (`sending`) may have reached it, so they become `uncertain` (never resent silently); rows only
 * claimed were never handed over and wait again (`released`). Pending rows past their send-by time
 * expire instead of arriving late. Returns how many of each.
 */
export async function recoverOutbox(
  db: Db,
  now: number,
): Promise<{ uncertain: number; expired: number; released: number }> {
  const cdb = campaignDb(db);
  // Claimed but never handed to a provider: nobody has it, so it simply waits again.
  const released = await cdb
    .updateTable('outbox')
    .set({ status: 'pending', claim_token: null, lease_until: null })
    .where('status', '=', 'claimed')
    .where('lease_until', '<', now)
    .executeTakeFirst();
  const uncertain = await cdb
    .updateTable('outbox')
    .set({ status: 'uncertain', last_error: 'the worker stopped while sending: the provider may have it' })
    .where('status', '=', 'sending')
    .where('lease_until', '<', now)
    .executeTakeFirst();
  const expired = await cdb
    .updateTable('outbox')
    .set({ status: 'expired', last_error: 'not sent before its send-by time' })
    .where('status', '=', 'pending')
    .where('send_by', '<=', now)
    // An outreach task waits for a person, however long: it is open until marked done (outreach.queries.ts).
    .where('channel', '!=', 'outreach')
    .executeTakeFirst();
  return {
    uncertain: Number(uncertain.numUpdatedRows),
    expired: Number(expired.numUpdatedRows),
    released: Number(released.numUpdatedRows),
  };
}

/** Puts uncertain messages back in the queue, on request; they keep their Message-ID. */
export async function resendUncertain(db: Db, now: number, ids?: readonly number[]): Promise<number> {
  let query = campaignDb(db)
    .updateTable('outbox')
    .set({ status: 'pending', send_after: now, send_by: now + 86_400_000, claim_token: null, lease_until: null })
    .where('status', '=', 'uncertain');
  if (ids) query = query.where('id', 'in', ids.length > 0 ? ids : [-1]);
  return Number((await query.executeTakeFirst()).numUpdatedRows);
}

/**
 * Writes what the check before sending decided for a claimed row this worker still holds: a skip with
 * the policy's reason (`no_consent:email`, `suppressed:unsubscribe` …), or pending again at the end of
 * the deferral. Returns false when the lease was lost.
 */
async function holdClaimed(
  db: Db,
  message: ClaimedMessage,
  decision: Exclude<SendDecision, { type: 'send' }>,
  settings: MessagingSettings,
): Promise<boolean> {
  const owned = campaignDb(db)
    .updateTable('outbox')
    .where('id', '=', message.id)
    .where('claim_token', '=', message.token)
    .where('status', '=', 'claimed');
  const result =
    decision.type === 'skip'
      ? await owned
          .set({
            status: 'skipped',
            reason: decision.detail ? `${decision.reason}:${decision.detail}` : decision.reason,
            last_error: 'stopped by the policy check just before sending',
            claim_token: null,
            lease_until: null,
          })
          .executeTakeFirst()
      : await owned
          .set({
            status: 'pending',
            reason: decision.reason,
            send_after: decision.until,
            send_by: Math.max(message.sendBy, decision.until + settings.sendWithinHours * 3_600_000),
            attempts: sql<number>`attempts - 1`,
            claim_token: null,
            lease_until: null,
          })
          .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** What one delivery pass did. */
export interface DeliverySummary {
  claimed: number;
  sent: number;
  retried: number;
  failed: number;
  /** Marketing rows the check before sending stopped (consent withdrawn, paused, suppressed): `skipped` with the reason. */
  skipped: number;
  /** Marketing rows the check before sending found inside the Korean night or quiet hours: pending again until they end. */
  deferred: number;
  /** Rows whose lease was lost before the outcome was written. */
  lost: number;
}

/**
 * Claims due messages for the channels that have a sender and sends them, `concurrency` at a time; each
 * outcome is written as soon as it is known, so a crash leaves at most the in-flight ones uncertain.
 * Just before a claimed marketing row is handed over, the policy runs again at `now()`
 * (`recheckBeforeSending`): consent withdrawn, its topic turned off, a pause or a suppression since it was queued makes it
 * `skipped` with the policy's reason; the Korean night (21:00–08:00 Seoul without night consent) or the
 * store's quiet hours put it back to `pending` until they end, the attempt not counted and its send-by
 * moved to at least the end plus the store's `sendWithinHours`. Transactional rows go as they are.
 */
export async function deliverDue(
  db: Db,
  senders: Readonly<Record<string, Sender>>,
  options: { now: () => number; random: () => number; limit?: number; leaseMs?: number; concurrency?: number },
): Promise<DeliverySummary> {
  const claimed = await claimDue(db, {
    now: options.now(),
    limit: options.limit ?? 100,
    leaseMs: options.leaseMs ?? 60_000,
    channels: Object.keys(senders),
  });
  const summary: DeliverySummary = {
    claimed: claimed.length,
    sent: 0,
    retried: 0,
    failed: 0,
    skipped: 0,
    deferred: 0,
    lost: 0,
  };
  let settings: MessagingSettings | undefined;
  let next = 0;
  const work = async () => {
    while (next < claimed.length) {
      const message = claimed[next++]!;
      if (message.purpose === 'marketing') {
        settings ??= await messagingSettings(db);
        const now = options.now();
        const decision = await recheckBeforeSending(db, message, settings, now);
        if (decision.type !== 'send') {
          if (!(await holdClaimed(db, message, decision, settings))) summary.lost += 1;
          else if (decision.type === 'skip') summary.skipped += 1;
          else summary.deferred += 1;
          continue;
        }
      }
      // Marked just before it is handed over: a crash leaves only these few uncertain, the rest claimed.
      const handing = await campaignDb(db)
        .updateTable('outbox')
        .set({ status: 'sending' })
        .where('id', '=', message.id)
        .where('claim_token', '=', message.token)
        .where('status', '=', 'claimed')
        .executeTakeFirst();
      if (Number(handing.numUpdatedRows) === 0) {
        summary.lost += 1;
        continue;
      }
      const outcome = await senders[message.channel]!.send(message);
      const kept = await finishMessage(db, message, outcome, { now: options.now(), random: options.random() });
      if (!kept) summary.lost += 1;
      else if (outcome.type === 'sent') summary.sent += 1;
      else if (outcome.type === 'retry' && message.attempts < MAX_ATTEMPTS) summary.retried += 1;
      else summary.failed += 1;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 5) }, work));
  return summary;
}
