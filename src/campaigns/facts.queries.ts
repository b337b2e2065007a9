import { feedbackDb, feedbackFieldsMany } from '../feedback/index.js';
import { pausedAmong } from '../hosted/index.js';
import { type Db, REVENUE_STATUSES } from '../store/index.js';
import type { JourneyFacts } from './engine.js';
import type { FlowDefinition } from './flow.js';
import { holdoutDraw } from './holdout.js';
import { isKoreanRecipient } from './korea.js';
import type { SuppressionReason } from './policy.js';
import type { MessagingSettings } from './settings.js';
import { campaignDb } from './tables.js';

/**
 * The facts the send policy and the journey engine read about customers, gathered set-based: each
 * table is read once per 1,000 customers (`customer_id IN (…)`) rather than once per customer, and
 * the rows are grouped in memory. One customer is the batch of one, so the check just before a
 * message leaves (`policyFacts`) and the advance pass read the same way.
 */

const DAY = 86_400_000;
const CHUNK = 1000;

/**
 * What the send policy reads about a customer as of `now`: addresses, zone, last paid order, consent
 * per channel (a row's value is false while a pause runs), the pause, suppressions and whether the
 * Korean rules apply. Gathered both when a send is queued and again just before it leaves.
 */
export interface PolicyFacts {
  customer: {
    id: number;
    email: string | null;
    phone: string | null;
    first_name: string | null;
    last_name: string | null;
    country: string | null;
  };
  /** The customer's IANA zone, else the store's. */
  timeZone: string;
  /** The customer's last paid order at or before `now` (ms), if any. */
  lastOrderAt?: number;
  /** Consent rows recorded at or before `now`, per channel: granted and not paused. A channel without a row is absent. */
  consent: ReadonlyMap<string, boolean>;
  /** A pause chosen on the preference centre is running at `now`. */
  paused: boolean;
  /** The preference-centre topics the customer turned off, as recorded at or before `now`. */
  topicsOff: ReadonlySet<string>;
  suppressed: ReadonlyMap<string, SuppressionReason>;
  /** A Korean recipient (+82 or country KR): the advertising rules of `korea.ts` apply to marketing. */
  korean: boolean;
}

/** `PolicyFacts` plus every consent row as stored (for the engine's unsubscribe exit). */
export type PolicyFactsWithRows = PolicyFacts & {
  consentRows: Array<{ channel: string; granted: number; updated_at: number }>;
};

/** The customer as sending needs them: the policy's facts plus what branches, the cap and rendering read. */
export interface CustomerFacts extends PolicyFacts {
  journey: JourneyFacts;
  /**
   * Instants of the customer's marketing messages counted by the shared cap. One array per customer
   * in a pass: the advance pass appends each marketing message it queues, so a customer's second
   * journey in the same pass sees the first one's message, as it would if read again.
   */
  recentMarketingSends: number[];
  /** Opens and clicks per channel: the preferred channel is the one the customer engages with. */
  engagement: ReadonlyMap<string, number>;
  clv: { value: number; currency: string } | null;
}

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}

/**
 * `PolicyFacts` of many customers as of `now` (rows written after `now` are not seen), by customer id;
 * throws when one of them is unknown. Statements: six per 1,000 customers.
 */
export async function policyFactsMany(
  db: Db,
  customerIds: readonly number[],
  settings: MessagingSettings,
  now: number,
): Promise<Map<number, PolicyFactsWithRows>> {
  const cdb = campaignDb(db);
  const unique = [...new Set(customerIds)];
  const out = new Map<number, PolicyFactsWithRows>();
  const paused = await pausedAmong(db, unique, now);
  for (const ids of chunks(unique)) {
    const customers = await cdb
      .selectFrom('customers')
      .select(['id', 'email', 'phone', 'first_name', 'last_name', 'country', 'time_zone'])
      .where('id', 'in', ids)
      .execute();
    if (customers.length !== ids.length) {
      const found = new Set(customers.map((c) => Number(c.id)));
      throw new Error(`no customer ${ids.find((id) => !found.has(id))}`);
    }
    const lastOrders = await cdb
      .selectFrom('orders')
      .select(['customer_id', (eb) => eb.fn.max('placed_at').as('at')])
      .where('customer_id', 'in', ids)
      .where('status', 'in', REVENUE_STATUSES)
      .where('placed_at', '<=', now)
      .groupBy('customer_id')
      .execute();
    const lastOrderOf = new Map(lastOrders.map((r) => [Number(r.customer_id), r.at]));
    const consentRows = await cdb
      .selectFrom('customer_consents')
      .select(['customer_id', 'channel', 'granted', 'updated_at'])
      .where('customer_id', 'in', ids)
      .execute();
    const consentsOf = new Map<number, Array<{ channel: string; granted: number; updated_at: number }>>();
    for (const r of consentRows) {
      const id = Number(r.customer_id);
      const list = consentsOf.get(id) ?? [];
      list.push({ channel: r.channel, granted: r.granted, updated_at: r.updated_at });
      consentsOf.set(id, list);
    }
    const topicsOffOf = new Map<number, Set<string>>();
    const topicRows = await feedbackDb(db)
      .selectFrom('consent_topics')
      .select(['customer_id', 'topic'])
      .where('customer_id', 'in', ids)
      .where('granted', '=', 0)
      .where('updated_at', '<=', now)
      .execute();
    for (const t of topicRows) {
      const id = Number(t.customer_id);
      const set = topicsOffOf.get(id) ?? new Set<string>();
      set.add(t.topic);
      topicsOffOf.set(id, set);
    }
    const addresses = [...new Set(customers.flatMap((c) => [c.email, c.phone]).filter((a): a is string => a !== null))];
    const suppressionsOf = new Map<string, Array<{ channel: string; reason: string }>>();
    for (const part of chunks(addresses)) {
      const rows = await cdb
        .selectFrom('suppressions')
        .select(['channel', 'address', 'reason'])
        .where('address', 'in', part)
        .where('created_at', '<=', now)
        .execute();
      for (const s of rows) {
        const list = suppressionsOf.get(s.address) ?? [];
        list.push(s);
        suppressionsOf.set(s.address, list);
      }
    }
    for (const row of customers) {
      const id = Number(row.id);
      const rows = consentsOf.get(id) ?? [];
      const isPaused = paused.has(id);
      const consent = new Map(
        rows.filter((c) => c.updated_at <= now).map((c) => [c.channel, c.granted === 1 && !isPaused]),
      );
      const suppressed = new Map<string, SuppressionReason>();
      const own = [row.email, row.phone].filter((a): a is string => a !== null);
      for (const s of own.flatMap((a) => suppressionsOf.get(a) ?? [])) {
        const reason = s.reason === 'bounce' || s.reason === 'complaint' ? s.reason : 'unsubscribe';
        if (suppressed.get(s.channel) !== 'bounce') suppressed.set(s.channel, reason);
      }
      const { time_zone, ...customer } = row;
      const lastOrderAt = lastOrderOf.get(id);
      out.set(id, {
        customer: { ...customer, id },
        timeZone: time_zone ?? settings.timeZone,
        ...(lastOrderAt != null ? { lastOrderAt: Number(lastOrderAt) } : {}),
        consent,
        paused: isPaused,
        topicsOff: topicsOffOf.get(id) ?? new Set<string>(),
        suppressed,
        korean: isKoreanRecipient(row),
        consentRows: rows,
      });
    }
  }
  return out;
}

/** One journey whose facts are wanted: the customer, when they entered, and the flow version's definition. */
export interface FactsRequest {
  customerId: number;
  enteredAt: number;
  definition: FlowDefinition;
}

/**
 * `CustomerFacts` for each request, in order, as of `now`: the policy's facts plus the shared cap's
 * recent marketing messages, segments, the exit events after entering, the latest score, engagement
 * per channel and the feedback fields, each table read once per 1,000 customers. Requests of the same
 * customer share one `recentMarketingSends` array (see `CustomerFacts`).
 */
export async function journeyFactsMany(
  db: Db,
  requests: readonly FactsRequest[],
  settings: MessagingSettings,
  now: number,
): Promise<CustomerFacts[]> {
  const cdb = campaignDb(db);
  const ids = [...new Set(requests.map((r) => r.customerId))];
  const policy = await policyFactsMany(db, ids, settings, now);
  const capDays = settings.cap?.days ?? 0;
  const recentOf = new Map<number, number[]>(ids.map((id) => [id, []]));
  const segmentsOf = new Map<number, Set<string>>(ids.map((id) => [id, new Set()]));
  const scoreOf = new Map<
    number,
    { p_alive: number | null; clv: number | null; currency: string | null; churn_band: string | null; as_of: number }
  >();
  const engagementOf = new Map<number, Map<string, number>>(ids.map((id) => [id, new Map()]));
  // The latest instant of each exit event per customer: the latest after entering exists exactly when
  // the latest of all is after entering, and then it is that one.
  const lastEventOf = new Map<number, Map<string, number>>();
  const exitEvents = [
    ...new Set(requests.flatMap((r) => r.definition.exitWhen.flatMap((c) => (c.type === 'event' ? c.events : [])))),
  ];
  for (const part of chunks(ids)) {
    const recent = await cdb
      .selectFrom('outbox')
      .select(['customer_id', 'sent_at', 'send_after'])
      .where('customer_id', 'in', part)
      .where('purpose', '=', 'marketing')
      .where('status', 'in', ['sent', 'sending', 'claimed', 'pending', 'uncertain'])
      .where('send_after', '>', now - capDays * DAY)
      .execute();
    for (const r of recent) recentOf.get(Number(r.customer_id))!.push(r.sent_at ?? r.send_after);
    const segments = await cdb
      .selectFrom('customer_segments')
      .select(['customer_id', 'kind', 'value'])
      .where('customer_id', 'in', part)
      .execute();
    for (const s of segments) segmentsOf.get(Number(s.customer_id))!.add(`${s.kind}:${s.value}`);
    if (exitEvents.length > 0) {
      const events = await cdb
        .selectFrom('events')
        .select(['customer_id', 'event', (eb) => eb.fn.max('occurred_at').as('at')])
        .where('customer_id', 'in', part)
        .where('event', 'in', exitEvents)
        .groupBy(['customer_id', 'event'])
        .execute();
      for (const e of events) {
        if (e.customer_id === null || e.event === null || e.at === null) continue;
        const map = lastEventOf.get(Number(e.customer_id)) ?? new Map<string, number>();
        map.set(e.event, Number(e.at));
        lastEventOf.set(Number(e.customer_id), map);
      }
    }
    const scores = await cdb
      .selectFrom('customer_scores')
      .select(['customer_id', 'p_alive', 'clv', 'currency', 'churn_band', 'as_of'])
      .where('customer_id', 'in', part)
      .where('as_of', '<=', now)
      .execute();
    for (const s of scores) {
      const seen = scoreOf.get(Number(s.customer_id));
      if (!seen || Number(s.as_of) > seen.as_of) scoreOf.set(Number(s.customer_id), { ...s, as_of: Number(s.as_of) });
    }
    const engagement = await cdb
      .selectFrom('message_events')
      .innerJoin('outbox', 'outbox.id', 'message_events.outbox_id')
      .select(['message_events.customer_id', 'outbox.channel', (eb) => eb.fn.countAll<number>().as('n')])
      .where('message_events.customer_id', 'in', part)
      .where('message_events.kind', 'in', ['opened', 'clicked'])
      .groupBy(['message_events.customer_id', 'outbox.channel'])
      .execute();
    for (const e of engagement) engagementOf.get(Number(e.customer_id))!.set(e.channel, Number(e.n));
  }
  const feedback = await feedbackFieldsMany(db, ids, now + 1);
  return requests.map(({ customerId, enteredAt, definition }) => {
    const { consentRows: consents, ...facts } = policy.get(customerId)!;
    const score = scoreOf.get(customerId);
    const lastEventAt = new Map<string, number>();
    const exits = new Set(definition.exitWhen.flatMap((c) => (c.type === 'event' ? c.events : [])));
    for (const [event, at] of lastEventOf.get(customerId) ?? []) {
      if (exits.has(event) && at > enteredAt) lastEventAt.set(event, at);
    }
    const unsubscribedAt = consents
      .filter((c) => c.granted === 0 && c.updated_at <= now)
      .reduce<number | undefined>((at, c) => (at === undefined ? c.updated_at : Math.min(at, c.updated_at)), undefined);
    const everyChannelWithdrawn =
      consents.length > 0 && consents.every((c) => c.granted === 0 || c.updated_at > now) ? unsubscribedAt : undefined;
    const suppressedAll = [...facts.suppressed.values()].some((r) => r === 'unsubscribe') ? now : undefined;
    return {
      ...facts,
      journey: {
        timeZone: facts.timeZone,
        ...(facts.lastOrderAt !== undefined ? { lastOrderAt: facts.lastOrderAt } : {}),
        ...((everyChannelWithdrawn ?? suppressedAll) !== undefined
          ? { unsubscribedAt: everyChannelWithdrawn ?? suppressedAll }
          : {}),
        segments: segmentsOf.get(customerId)!,
        lastEventAt,
        values: {
          country: facts.customer.country,
          'score.p_alive': score?.p_alive ?? null,
          'score.clv': score?.clv ?? null,
          'score.churn_band': score?.churn_band ?? null,
          // Feedback fields (surveys and reviews) as of now, for branches: `survey.nps_group` …
          ...Object.fromEntries(Object.entries(feedback.get(customerId)!).map(([k, v]) => [`survey.${k}`, v])),
          // A stable draw in [0, 1) per (flow, customer), apart from the hold-out's: A/B splits branch on it.
          'ab.draw': holdoutDraw(`${definition.key}:ab`, customerId),
        },
      },
      recentMarketingSends: recentOf.get(customerId)!,
      engagement: engagementOf.get(customerId)!,
      clv: score?.clv != null && score.currency ? { value: score.clv, currency: score.currency } : null,
    };
  });
}
