import { type FeedbackDb, feedbackDb } from '../feedback/index.js';
import { type PreferenceTopic, TOPICS } from '../feedback/tables.js';
import { type Db, immediateTransaction, skipQueuedMarketing, skipQueuedTopic } from '../store/index.js';

/** The channels a customer chooses on the preference centre. */
export const CHANNELS = ['email', 'sms', 'kakao'] as const;
export type PreferenceChannel = (typeof CHANNELS)[number];
export { type PreferenceTopic, TOPICS };

/** What the preference centre shows: consent per channel and topic, and a pause's end. */
export interface Preferences {
  channels: Record<PreferenceChannel, boolean>;
  /** A topic without a recorded choice is on: the channel's consent governs. */
  topics: Record<PreferenceTopic, boolean>;
  pausedUntil: number | null;
}

/** The days "pause" stops marketing for. */
export const PAUSE_DAYS = 30;

/** A customer's current choices as of `now` (a pause that ended is not shown). */
export async function preferencesOf(db: Db, customerId: number, now: number): Promise<Preferences> {
  return readPreferences(feedbackDb(db), customerId, now);
}

async function readPreferences(fdb: FeedbackDb, customerId: number, now: number): Promise<Preferences> {
  const consents = await fdb
    .selectFrom('customer_consents')
    .select(['channel', 'granted'])
    .where('customer_id', '=', customerId)
    .execute();
  const topics = await fdb
    .selectFrom('consent_topics')
    .select(['topic', 'granted'])
    .where('customer_id', '=', customerId)
    .execute();
  const pause = await fdb
    .selectFrom('marketing_pauses')
    .select('until')
    .where('customer_id', '=', customerId)
    .executeTakeFirst();
  const granted = (channel: string) => consents.some((c) => c.channel === channel && c.granted === 1);
  const topic = (name: string) => topics.find((t) => t.topic === name)?.granted !== 0;
  return {
    channels: { email: granted('email'), sms: granted('sms'), kakao: granted('kakao') },
    topics: Object.fromEntries(TOPICS.map((t) => [t, topic(t)])) as Record<PreferenceTopic, boolean>,
    pausedUntil: pause && Number(pause.until) > now ? Number(pause.until) : null,
  };
}

/** A change asked for on the preference centre. */
export type PreferenceChange =
  | { type: 'save'; channels: Record<PreferenceChannel, boolean>; topics: Record<PreferenceTopic, boolean> }
  | { type: 'unsubscribe_all' }
  | { type: 'pause' }
  | { type: 'resume' };

/**
 * Applies a change at `now`: every channel or topic whose state changes gets a row in the consent
 * ledger (`consent_changes`, with `source`), and the current state is updated (`customer_consents`
 * per channel, `consent_topics`, `marketing_pauses`). Unchanged choices write nothing, except that
 * "unsubscribe from everything" stores a "no" on every channel never answered before. A channel
 * withdrawn or a pause started skips the customer's pending marketing rows at once (`skipQueuedMarketing`),
 * and so does a topic turned off for the rows of that topic (`skipQueuedTopic`).
 * Returns the number of ledger rows written.
 */
export async function applyPreferences(
  db: Db,
  customerId: number,
  change: PreferenceChange,
  { source, now }: { source: string; now: number },
): Promise<number> {
  return immediateTransaction(db, async (base) => {
    const trx = feedbackDb(base);
    const before = await readPreferences(trx, customerId, now);
    let written = 0;
    const log = async (subject: string, granted: boolean, detail: string | null = null) => {
      await trx
        .insertInto('consent_changes')
        .values({ customer_id: customerId, subject, granted: granted ? 1 : 0, source, detail, occurred_at: now })
        .execute();
      written += 1;
    };
    // Channels with a stored answer (yes or no); a channel never answered has none.
    const answered = new Set(
      (
        await trx
          .selectFrom('customer_consents')
          .select('channel')
          .where('customer_id', '=', customerId)
          .where('updated_at', '<=', now)
          .execute()
      ).map((r) => r.channel),
    );
    /**
     * `explicit`: store the answer even when the channel reads the same already because it was never
     * answered. "Unsubscribe from everything" is a "no" on every channel, and a stored "no" is what keeps
     * the Korean 6-month transaction exception (korea.ts) from standing in for consent afterwards.
     */
    const setChannel = async (channel: PreferenceChannel, granted: boolean, explicit = false) => {
      if (before.channels[channel] === granted && !(explicit && !answered.has(channel))) return;
      await trx
        .insertInto('customer_consents')
        .values({ customer_id: customerId, channel, granted: granted ? 1 : 0, updated_at: now, source })
        .onConflict((oc) =>
          oc.columns(['customer_id', 'channel']).doUpdateSet({ granted: granted ? 1 : 0, updated_at: now, source }),
        )
        .execute();
      await log(channel, granted);
      // Withdrawn consent stops what is already queued on the channel, in this transaction.
      if (!granted) await skipQueuedMarketing(base, customerId, channel);
    };
    const setTopic = async (topic: PreferenceTopic, granted: boolean) => {
      if (before.topics[topic] === granted) return;
      await trx
        .insertInto('consent_topics')
        .values({ customer_id: customerId, topic, granted: granted ? 1 : 0, updated_at: now, source })
        .onConflict((oc) =>
          oc.columns(['customer_id', 'topic']).doUpdateSet({ granted: granted ? 1 : 0, updated_at: now, source }),
        )
        .execute();
      await log(`topic:${topic}`, granted);
      // A topic turned off stops what is already queued on it, in this transaction.
      if (!granted) await skipQueuedTopic(base, customerId, topic);
    };
    if (change.type === 'save') {
      for (const c of CHANNELS) await setChannel(c, change.channels[c]);
      for (const t of TOPICS) await setTopic(t, change.topics[t]);
    } else if (change.type === 'unsubscribe_all') {
      for (const c of CHANNELS) await setChannel(c, false, true);
    } else if (change.type === 'pause') {
      const until = now + PAUSE_DAYS * 86_400_000;
      await trx
        .insertInto('marketing_pauses')
        .values({ customer_id: customerId, until, source, created_at: now })
        .onConflict((oc) => oc.column('customer_id').doUpdateSet({ until, source, created_at: now }))
        .execute();
      await log('pause', false, new Date(until).toISOString());
      await skipQueuedMarketing(base, customerId, 'pause');
    } else if (before.pausedUntil !== null) {
      await trx.updateTable('marketing_pauses').set({ until: now }).where('customer_id', '=', customerId).execute();
      await log('pause', true, 'resumed');
    }
    return written;
  });
}

/** One row of the consent ledger. */
export interface ConsentChange {
  subject: string;
  granted: boolean;
  source: string;
  detail: string | null;
  occurredAt: number;
}

/** A customer's consent ledger, oldest first. */
export async function consentLedger(db: Db, customerId: number): Promise<ConsentChange[]> {
  const rows = await feedbackDb(db)
    .selectFrom('consent_changes')
    .selectAll()
    .where('customer_id', '=', customerId)
    .orderBy('occurred_at')
    .orderBy('id')
    .execute();
  return rows.map((r) => ({
    subject: r.subject,
    granted: r.granted === 1,
    source: r.source,
    detail: r.detail,
    occurredAt: Number(r.occurred_at),
  }));
}

/** Whether marketing to the customer is paused at `now` (the preference centre's "pause for 30 days"). */
export async function pausedAt(db: Db, customerId: number, now: number): Promise<boolean> {
  const row = await feedbackDb(db)
    .selectFrom('marketing_pauses')
    .select('until')
    .where('customer_id', '=', customerId)
    .executeTakeFirst();
  return row !== undefined && Number(row.until) > now;
}

/** The customers among `customerIds` whose marketing pause runs at `now` (`pausedAt` for many, one statement per 1,000). */
export async function pausedAmong(db: Db, customerIds: readonly number[], now: number): Promise<Set<number>> {
  const paused = new Set<number>();
  const unique = [...new Set(customerIds)];
  for (let i = 0; i < unique.length; i += 1000) {
    const rows = await feedbackDb(db)
      .selectFrom('marketing_pauses')
      .select(['customer_id', 'until'])
      .where('customer_id', 'in', unique.slice(i, i + 1000))
      .execute();
    for (const r of rows) if (Number(r.until) > now) paused.add(Number(r.customer_id));
  }
  return paused;
}
