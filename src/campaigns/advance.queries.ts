import { randomUUID } from 'node:crypto';
import { ComebackError } from '../errors.js';
import { feedbackDb, feedbackFields } from '../feedback/index.js';
import { pausedAt } from '../hosted/index.js';
import { randomCode } from '../loyalty/index.js';
import { currencyExponent } from '../shared/money.js';
import { type Db, REVENUE_STATUSES } from '../store/index.js';
import { blocksRead, ContextLoader, emptyBlocks } from './context.queries.js';
import { type JourneyAction, type JourneyFacts, type JourneyState, nextActions } from './engine.js';
import { feedbackLinks } from './feedback-links.queries.js';
import { CHANNELS, type Channel, type FlowDefinition, kakaoKind, type Offer } from './flow.js';
import { flowVersion, latestTemplateIn, type SavedTemplate } from './flows.queries.js';
import { type Arm, holdoutDraw } from './holdout.js';
import {
  type AdvertiserIdentity,
  addSeoulMonths,
  isKoreanRecipient,
  koreanAdHtml,
  koreanAdSubject,
  koreanAdText,
  NIGHT_CONSENT_CHANNEL,
  smsType,
} from './korea.js';
import { type LinkPurpose, signLink } from './links.js';
import { decideSend, type SendDecision, type SuppressionReason } from './policy.js';
import { type MessageContext, renderLiquid, renderMessage } from './render.js';
import { fillAlimtalk } from './senders/kakao.js';
import { type MessagingSettings, messagingSettings } from './settings.js';
import { type CampaignDb, campaignDb, type OutboxStatus } from './tables.js';
import { trackHtml } from './tracking.js';

/** What the advance step needs beyond the database: the instant and the secret that signs links. */
export interface AdvanceOptions {
  now: number;
  linkSecret: string;
  /** At most this many journeys per pass (default 500). */
  limit?: number;
}

/** What one pass did. */
export interface AdvanceSummary {
  journeys: number;
  queued: number;
  heldOut: number;
  skipped: number;
  deferred: number;
  exited: number;
  completed: number;
}

const LINK_DAYS = 180;
const DAY = 86_400_000;

/**
 * Moves every due journey forward: runs the engine on the customer's facts as of `now`, stores the new
 * journey state, and turns each send into an outbox row after the one policy check (hold-out,
 * suppression, consent, quiet hours, the shared cap). Held-out and skipped sends are rows too, with
 * their reason, so the report and the customer's 360 see every decision. Rows are keyed by (journey,
 * step): a retried pass writes nothing twice. A journey another worker moved first is left alone.
 */
export async function advanceJourneys(db: Db, options: AdvanceOptions): Promise<AdvanceSummary> {
  const { now, limit = 500 } = options;
  const cdb = campaignDb(db);
  const settings = await messagingSettings(db);
  const due = await cdb
    .selectFrom('journeys')
    .innerJoin('flows', 'flows.id', 'journeys.flow_id')
    .select([
      'journeys.id',
      'journeys.flow_id',
      'journeys.version',
      'journeys.customer_id',
      'journeys.arm',
      'journeys.entered_at',
      'journeys.step_id',
      'journeys.step_started_at',
      'journeys.updated_at',
      'journeys.occurrence',
      'journeys.trigger_data',
      'flows.key as flow_key',
    ])
    .where('journeys.status', '=', 'active')
    .where('journeys.wake_at', '<=', now)
    .orderBy('journeys.wake_at')
    .limit(limit)
    .execute();
  const summary: AdvanceSummary = {
    journeys: due.length,
    queued: 0,
    heldOut: 0,
    skipped: 0,
    deferred: 0,
    exited: 0,
    completed: 0,
  };
  const definitions = new Map<string, FlowDefinition>();
  // The blocks every message of the pass may read: loyalty for all its customers in one go.
  const blocks = new ContextLoader(db, now, { locale: settings.language, storeUrl: settings.storeUrl });
  await blocks.prefetch(due.map((j) => j.customer_id));
  for (const journey of due) {
    const versionKey = `${journey.flow_id}:${journey.version}`;
    let definition = definitions.get(versionKey);
    if (!definition) {
      definition = await flowVersion(db, journey.flow_id, journey.version);
      definitions.set(versionKey, definition);
    }
    const facts = await journeyFacts(db, journey.customer_id, journey.entered_at, definition, settings, now);
    const state: JourneyState = {
      stepId: journey.step_id ?? undefined,
      stepStartedAt: journey.step_started_at,
      enteredAt: journey.entered_at,
      arm: journey.arm === 'control' ? 'control' : 'treatment',
      status: 'active',
    };
    const next = nextActions(definition, state, facts.journey, now);
    const wait = next.actions.find((a) => a.type === 'wait');
    await db.transaction().execute(async (tx) => {
      const trx = campaignDb(tx);
      // Optimistic: only the worker that read this version of the journey moves it.
      const moved = await trx
        .updateTable('journeys')
        .set({
          step_id: next.state.stepId ?? null,
          step_started_at: next.state.stepStartedAt,
          status: next.state.status,
          exit_reason: next.state.exitReason ?? null,
          wake_at: next.state.status === 'active' ? (wait?.type === 'wait' ? wait.until : now) : null,
          updated_at: Math.max(now, journey.updated_at + 1),
        })
        .where('id', '=', journey.id)
        .where('updated_at', '=', journey.updated_at)
        .where('status', '=', 'active')
        .executeTakeFirst();
      if (Number(moved.numUpdatedRows) === 0) return;
      for (const action of next.actions) {
        if (action.type === 'exit') summary.exited += 1;
        if (action.type === 'complete') summary.completed += 1;
        if (action.type !== 'send' && action.type !== 'outreach') continue;
        const status = await enqueue(trx, journey, definition, action, facts, settings, { ...options, blocks, tx });
        if (status === 'pending') summary.queued += 1;
        else if (status === 'held_out') summary.heldOut += 1;
        else if (status === 'deferred') summary.deferred += 1;
        else if (status === 'skipped') summary.skipped += 1;
      }
    });
  }
  return summary;
}

/**
 * What the send policy reads about a customer as of `now`: addresses, zone, last paid order, consent
 * per channel (a row's value is false while a pause runs), the pause, suppressions and whether the
 * Korean rules apply. Gathered by `policyFacts`, both when a send is queued and again just before it leaves.
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

/** The customer as sending needs them: the policy's facts plus what branches, the cap and rendering read. */
interface CustomerFacts extends PolicyFacts {
  journey: JourneyFacts;
  recentMarketingSends: number[];
  /** Opens and clicks per channel: the preferred channel is the one the customer engages with. */
  engagement: ReadonlyMap<string, number>;
  clv: { value: number; currency: string } | null;
}

/** Reads a customer's `PolicyFacts` as of `now` (rows written after `now` are not seen); throws when the customer is unknown. */
export async function policyFacts(
  db: Db,
  customerId: number,
  settings: MessagingSettings,
  now: number,
): Promise<PolicyFacts & { consentRows: Array<{ channel: string; granted: number; updated_at: number }> }> {
  const cdb = campaignDb(db);
  const customer = await cdb
    .selectFrom('customers')
    .select(['id', 'email', 'phone', 'first_name', 'last_name', 'country', 'time_zone'])
    .where('id', '=', customerId)
    .executeTakeFirstOrThrow();
  const lastOrder = await cdb
    .selectFrom('orders')
    .select((eb) => eb.fn.max('placed_at').as('at'))
    .where('customer_id', '=', customerId)
    .where('status', 'in', REVENUE_STATUSES)
    .where('placed_at', '<=', now)
    .executeTakeFirst();
  const consentRows = await cdb
    .selectFrom('customer_consents')
    .select(['channel', 'granted', 'updated_at'])
    .where('customer_id', '=', customerId)
    .execute();
  // A pause chosen on the preference centre withholds every channel's marketing consent until it ends.
  const paused = await pausedAt(db, customerId, now);
  const consent = new Map(
    consentRows.filter((c) => c.updated_at <= now).map((c) => [c.channel, c.granted === 1 && !paused]),
  );
  const topicsOff = new Set(
    (
      await feedbackDb(db)
        .selectFrom('consent_topics')
        .select('topic')
        .where('customer_id', '=', customerId)
        .where('granted', '=', 0)
        .where('updated_at', '<=', now)
        .execute()
    ).map((t) => t.topic),
  );
  const addresses = [customer.email, customer.phone].filter((a): a is string => a !== null);
  const suppressions =
    addresses.length === 0
      ? []
      : await cdb
          .selectFrom('suppressions')
          .select(['channel', 'address', 'reason', 'created_at'])
          .where('address', 'in', addresses)
          .where('created_at', '<=', now)
          .execute();
  const suppressed = new Map<string, SuppressionReason>();
  for (const s of suppressions) {
    const reason = s.reason === 'bounce' || s.reason === 'complaint' ? s.reason : 'unsubscribe';
    if (suppressed.get(s.channel) !== 'bounce') suppressed.set(s.channel, reason);
  }
  const { time_zone, ...rest } = customer;
  return {
    customer: rest,
    timeZone: time_zone ?? settings.timeZone,
    ...(lastOrder?.at != null ? { lastOrderAt: Number(lastOrder.at) } : {}),
    consent,
    paused,
    topicsOff,
    suppressed,
    korean: isKoreanRecipient(customer),
    consentRows,
  };
}

async function journeyFacts(
  db: Db,
  customerId: number,
  enteredAt: number,
  definition: FlowDefinition,
  settings: MessagingSettings,
  now: number,
): Promise<CustomerFacts> {
  const cdb = campaignDb(db);
  const { consentRows: consents, ...policy } = await policyFacts(db, customerId, settings, now);
  const { suppressed } = policy;
  const capDays = settings.cap?.days ?? 0;
  const recent = await cdb
    .selectFrom('outbox')
    .select(['sent_at', 'send_after'])
    .where('customer_id', '=', customerId)
    .where('purpose', '=', 'marketing')
    .where('status', 'in', ['sent', 'sending', 'claimed', 'pending', 'uncertain'])
    .where('send_after', '>', now - capDays * DAY)
    .execute();
  const segments = await cdb
    .selectFrom('customer_segments')
    .select(['kind', 'value'])
    .where('customer_id', '=', customerId)
    .execute();
  const segmentSet = new Set(segments.map((s) => `${s.kind}:${s.value}`));
  const exitEvents = definition.exitWhen.flatMap((c) => (c.type === 'event' ? c.events : []));
  const lastEventAt = new Map<string, number>();
  if (exitEvents.length > 0) {
    const events = await cdb
      .selectFrom('events')
      .select(['event', (eb) => eb.fn.max('occurred_at').as('at')])
      .where('customer_id', '=', customerId)
      .where('event', 'in', exitEvents)
      .where('occurred_at', '>', enteredAt)
      .groupBy('event')
      .execute();
    for (const e of events) if (e.event !== null && e.at !== null) lastEventAt.set(e.event, Number(e.at));
  }
  const score = await cdb
    .selectFrom('customer_scores')
    .select(['p_alive', 'clv', 'currency', 'churn_band'])
    .where('customer_id', '=', customerId)
    .where('as_of', '<=', now)
    .orderBy('as_of', 'desc')
    .limit(1)
    .executeTakeFirst();
  const engagementRows = await cdb
    .selectFrom('message_events')
    .innerJoin('outbox', 'outbox.id', 'message_events.outbox_id')
    .select(['outbox.channel', (eb) => eb.fn.countAll<number>().as('n')])
    .where('message_events.customer_id', '=', customerId)
    .where('message_events.kind', 'in', ['opened', 'clicked'])
    .groupBy('outbox.channel')
    .execute();
  const unsubscribedAt = [...consents]
    .filter((c) => c.granted === 0 && c.updated_at <= now)
    .reduce<number | undefined>((at, c) => (at === undefined ? c.updated_at : Math.min(at, c.updated_at)), undefined);
  const everyChannelWithdrawn =
    consents.length > 0 && consents.every((c) => c.granted === 0 || c.updated_at > now) ? unsubscribedAt : undefined;
  const suppressedAll = [...suppressed.values()].some((r) => r === 'unsubscribe') ? now : undefined;
  return {
    ...policy,
    journey: {
      timeZone: policy.timeZone,
      ...(policy.lastOrderAt !== undefined ? { lastOrderAt: policy.lastOrderAt } : {}),
      ...((everyChannelWithdrawn ?? suppressedAll) !== undefined
        ? { unsubscribedAt: everyChannelWithdrawn ?? suppressedAll }
        : {}),
      segments: segmentSet,
      lastEventAt,
      values: {
        country: policy.customer.country,
        'score.p_alive': score?.p_alive ?? null,
        'score.clv': score?.clv ?? null,
        'score.churn_band': score?.churn_band ?? null,
        // Feedback fields (surveys and reviews) as of now, for branches: `survey.nps_group` …
        ...Object.fromEntries(
          Object.entries(await feedbackFields(db, customerId, now + 1)).map(([k, v]) => [`survey.${k}`, v]),
        ),
        // A stable draw in [0, 1) per (flow, customer), apart from the hold-out's: A/B splits branch on it.
        'ab.draw': holdoutDraw(`${definition.key}:ab`, customerId),
      },
    },
    recentMarketingSends: recent.map((r) => r.sent_at ?? r.send_after),
    engagement: new Map(engagementRows.map((r) => [r.channel, Number(r.n)])),
    clv: score?.clv != null && score.currency ? { value: score.clv, currency: score.currency } : null,
  };
}

/** The address a channel sends to, if the customer has one. Webhooks go to the store, always. */
export function addressFor(
  channel: Channel,
  customer: Pick<CustomerFacts['customer'], 'id' | 'email' | 'phone'>,
): string | null {
  if (channel === 'email') return customer.email;
  if (channel === 'sms' || channel === 'kakao') return customer.phone;
  return `customer:${customer.id}`;
}

/**
 * The channel a customer gets among a step's: those with an address (and, for marketing, consent and no
 * suppression), the one with most opens and clicks first, the step's order breaking ties.
 */
export function preferredChannel(
  channels: readonly Channel[],
  facts: {
    customer: Pick<CustomerFacts['customer'], 'id' | 'email' | 'phone'>;
    consent: ReadonlyMap<string, boolean>;
    /** A preference-centre pause runs (closes the transaction exception). */
    paused?: boolean;
    suppressed: ReadonlyMap<string, SuppressionReason>;
    engagement: ReadonlyMap<string, number>;
  },
  purpose: 'marketing' | 'transactional',
  /**
   * The Korean 6-month transaction exception is in force (setting on, a paid order within 6 months): it
   * stands in for consent on a channel where `transactionExceptionOpen` (the policy checks it again).
   */
  consentException = false,
): Channel | undefined {
  const usable = channels.filter(
    (c) =>
      addressFor(c, facts.customer) !== null &&
      (c === 'webhook' ||
        purpose === 'transactional' ||
        ((consentFor(c, facts.consent) || (consentException && transactionExceptionOpen(c, facts))) &&
          !facts.suppressed.has(c))),
  );
  return [...usable].sort(
    (a, b) =>
      (facts.engagement.get(b) ?? 0) - (facts.engagement.get(a) ?? 0) || channels.indexOf(a) - channels.indexOf(b),
  )[0];
}

/**
 * The recorded consent that governs a channel's marketing, or undefined when no row is recorded:
 * e-mail and SMS read their own rows; KakaoTalk reads its own row (the preference centre's KakaoTalk
 * switch) and falls back to the SMS row only when the customer has no KakaoTalk row at all (a store that
 * collects one consent for text messages). Webhooks go to the store and need none (true).
 */
export function recordedConsentFor(channel: Channel, consent: ReadonlyMap<string, boolean>): boolean | undefined {
  if (channel === 'webhook') return true;
  if (channel === 'kakao' && !consent.has('kakao')) return consent.get('sms');
  return consent.get(channel);
}

/**
 * Whether the Korean transaction exception (제50조 제1항 단서) may stand in for consent on `channel`: only
 * when no consent row governs the channel (`recordedConsentFor` is undefined: never a recorded "no",
 * 제50조 제2항) and no preference-centre pause runs. The setting and the 6 months are checked by the caller.
 */
export function transactionExceptionOpen(
  channel: Channel,
  facts: { consent: ReadonlyMap<string, boolean>; paused?: boolean },
): boolean {
  return facts.paused !== true && recordedConsentFor(channel, facts.consent) === undefined;
}

/** Consent for a channel's marketing (`recordedConsentFor` is true): KakaoTalk's own row, else SMS's. */
export function consentFor(channel: Channel, consent: ReadonlyMap<string, boolean>): boolean {
  return recordedConsentFor(channel, consent) === true;
}

/**
 * The one policy check (`decideSend`, policy.ts) of a send on `channel` for a customer's facts at `now`,
 * under the store's quiet hours, cap and Korean choices. The cap is checked only when
 * `recentMarketingSends` is given (instants in ms of the customer's marketing sent or queued); the
 * customer's topic choice only when the message has a `topic` (null: none).
 */
export function policyDecision(
  channel: Channel,
  purpose: 'marketing' | 'transactional',
  facts: PolicyFacts,
  settings: MessagingSettings,
  now: number,
  recentMarketingSends?: readonly number[],
  topic?: string | null,
): SendDecision {
  return decideSend(
    {
      purpose,
      channel,
      timeZone: facts.timeZone,
      heldOut: false,
      consent: consentFor(channel, facts.consent),
      ...(topic ? { topic: { name: topic, on: !facts.topicsOff.has(topic) } } : {}),
      ...(facts.suppressed.has(channel) ? { suppressed: facts.suppressed.get(channel)! } : {}),
      recentMarketingSends: recentMarketingSends ?? [],
      ...(facts.korean && channel !== 'webhook'
        ? {
            korea: {
              adConsent: consentFor(channel, facts.consent),
              refused: !transactionExceptionOpen(channel, facts),
              nightConsent: facts.consent.get(NIGHT_CONSENT_CHANNEL) === true,
              ...(facts.lastOrderAt !== undefined ? { lastTransactionAt: facts.lastOrderAt } : {}),
            },
          }
        : {}),
    },
    {
      ...(settings.quietHours ? { quietHours: settings.quietHours } : {}),
      ...(settings.cap && recentMarketingSends ? { cap: settings.cap } : {}),
      korea: { transactionException: settings.korea.transactionException },
    },
    now,
  );
}

/**
 * The policy check again, for a claimed marketing row just before it is handed to a provider: consent,
 * pause, the row's topic (turned off since it was queued: `topic_opted_out`), suppression, the Korean
 * night rule and quiet hours as of `now` (`policyFacts` +
 * `policyDecision`). The cap is not counted again: the row was counted when it was queued.
 * Transactional rows and rows of a customer or channel the policy does not know always `send`.
 */
export async function recheckBeforeSending(
  db: Db,
  row: { customerId: number; channel: string; purpose: string; topic?: string | null },
  settings: MessagingSettings,
  now: number,
): Promise<SendDecision> {
  if (row.purpose !== 'marketing' || !isChannel(row.channel)) return { type: 'send' };
  const facts = await policyFacts(db, row.customerId, settings, now);
  return policyDecision(row.channel, 'marketing', facts, settings, now, undefined, row.topic);
}

const isChannel = (c: string): c is Channel => (CHANNELS as readonly string[]).includes(c);

type Enqueued = OutboxStatus | 'deferred';

/** The journey fields a message's blocks are read from. */
interface JourneyRow {
  id: number;
  flow_id: number;
  customer_id: number;
  arm: string;
  flow_key: string;
  occurrence: string;
  trigger_data?: string | null;
}

/** Writes one send (or outreach) as an outbox row with its decision; returns the row's status. */
async function enqueue(
  trx: CampaignDb,
  journey: JourneyRow,
  definition: FlowDefinition,
  action: Extract<JourneyAction, { type: 'send' | 'outreach' }>,
  facts: CustomerFacts,
  settings: MessagingSettings,
  options: AdvanceOptions & { blocks: ContextLoader; tx: Db },
): Promise<Enqueued> {
  const { now } = options;
  const purpose = action.type === 'send' ? action.purpose : 'marketing';
  const channels: readonly Channel[] = action.type === 'send' ? action.channels : [];
  const exception =
    facts.korean &&
    settings.korea.transactionException &&
    facts.journey.lastOrderAt !== undefined &&
    now < addSeoulMonths(facts.journey.lastOrderAt, 6);
  const chosen =
    action.type === 'send' ? (preferredChannel(channels, facts, purpose, exception) ?? channels[0]!) : undefined;
  const channel = chosen ?? 'outreach';
  const address = chosen ? addressFor(chosen, facts.customer) : null;
  let status: OutboxStatus = 'pending';
  let reason: string | null = null;
  let sendAfter = now;
  if (action.heldOut) {
    status = 'held_out';
    reason = 'held_out';
  } else if (chosen) {
    if (address === null) {
      status = 'skipped';
      reason = `no_address:${chosen}`;
    } else if (
      chosen === 'kakao' &&
      action.type === 'send' &&
      kakaoKind(action) === 'alimtalk' &&
      purpose !== 'transactional'
    ) {
      // Validation refuses this when a flow is saved or enabled; a definition stored before the rule is refused here.
      status = 'skipped';
      reason = 'alimtalk_promotional';
    } else {
      const decision = policyDecision(
        chosen,
        purpose,
        facts,
        settings,
        now,
        facts.recentMarketingSends,
        action.type === 'send' ? action.topic : undefined,
      );
      if (decision.type === 'skip') {
        status = 'skipped';
        reason = decision.detail ? `${decision.reason}:${decision.detail}` : decision.reason;
      } else if (decision.type === 'defer') {
        sendAfter = decision.until;
        reason = decision.reason;
      }
    }
  }
  const messageId = `<${randomUUID()}@comeback>`;
  const inserted = await trx
    .insertInto('outbox')
    .values({
      journey_id: journey.id,
      flow_id: journey.flow_id,
      step_id: action.stepId,
      customer_id: journey.customer_id,
      arm: journey.arm,
      channel,
      purpose,
      topic: action.type === 'send' && purpose === 'marketing' ? (action.topic ?? null) : null,
      template_key: action.type === 'send' ? action.template : 'outreach',
      template_version: null,
      to_address: address,
      status,
      reason,
      payload: action.type === 'outreach' ? JSON.stringify({ note: action.note }) : null,
      coupon_code: null,
      attempts: 0,
      claim_token: null,
      lease_until: null,
      send_after: sendAfter,
      send_by: sendAfter + settings.sendWithinHours * 3_600_000,
      message_id: messageId,
      provider_id: null,
      last_error: null,
      created_at: now,
      sent_at: null,
    })
    .onConflict((oc) => oc.columns(['journey_id', 'step_id']).doNothing())
    .returning('id')
    .executeTakeFirst();
  if (!inserted) return 'skipped';
  if (status === 'pending' && action.type === 'send' && chosen) {
    const coupon = action.offer
      ? await issueCoupon(trx, inserted.id, journey.customer_id, action.offer, definition, facts, now)
      : null;
    let payload: { version: number | null; body: Record<string, unknown> };
    try {
      payload = await renderPayload(
        trx,
        inserted.id,
        journey,
        definition,
        action,
        chosen,
        facts,
        settings,
        coupon,
        options,
      );
    } catch (error) {
      if (!(error instanceof KakaoRefusal)) throw error;
      await trx
        .updateTable('outbox')
        .set({ status: 'skipped', reason: error.reason, last_error: error.message })
        .where('id', '=', inserted.id)
        .execute();
      return 'skipped';
    }
    await trx
      .updateTable('outbox')
      .set({
        payload: JSON.stringify(payload.body),
        template_version: payload.version,
        coupon_code: coupon?.code ?? null,
      })
      .where('id', '=', inserted.id)
      .execute();
  }
  return status === 'pending' && sendAfter > now ? 'deferred' : status;
}

/** A coupon issued for one message. */
interface IssuedCoupon {
  code: string;
  description: string;
  expiresAt: number;
}

/**
 * Issues a unique single-use code for an offer. The discount is capped so that it never exceeds the
 * configured share of the customer's predicted value (CLV); without a prediction there is no cap.
 */
async function issueCoupon(
  trx: CampaignDb,
  outboxId: number,
  customerId: number,
  offer: Offer,
  definition: FlowDefinition,
  facts: CustomerFacts,
  now: number,
): Promise<IssuedCoupon> {
  const currency = facts.clv?.currency ?? null;
  const cap =
    offer.maxShareOfPredictedValue !== undefined && facts.clv
      ? Math.floor(facts.clv.value * offer.maxShareOfPredictedValue * 10 ** currencyExponent(facts.clv.currency))
      : null;
  const amount = offer.type === 'amount' && offer.amountMinor !== undefined ? offer.amountMinor : null;
  const maxDiscount = amount !== null && cap !== null ? Math.min(amount, cap) : (amount ?? cap);
  const code = `${definition.key.slice(0, 4).toUpperCase()}-${randomCode(10)}`;
  const expiresAt = now + offer.validDays * DAY;
  await trx
    .insertInto('coupons')
    .values({
      code,
      customer_id: customerId,
      outbox_id: outboxId,
      offer: JSON.stringify(offer),
      currency,
      max_discount_minor: maxDiscount,
      expires_at: expiresAt,
      used_order_id: null,
      created_at: now,
    })
    .execute();
  return { code, description: describeOffer(offer, maxDiscount, currency), expiresAt };
}

/** How an offer reads in a message: "15 % off (up to 12.00 GBP)". */
export function describeOffer(offer: Offer, maxDiscountMinor: number | null, currency: string | null): string {
  const money = (minor: number) =>
    currency
      ? `${(minor / 10 ** currencyExponent(currency)).toFixed(currencyExponent(currency))} ${currency}`
      : `${minor}`;
  const upTo = maxDiscountMinor !== null && offer.type === 'percent' ? ` (up to ${money(maxDiscountMinor)})` : '';
  const min = offer.minOrderMinor ? ` on orders over ${money(offer.minOrderMinor)}` : '';
  switch (offer.type) {
    case 'amount':
      return `${money(maxDiscountMinor ?? offer.amountMinor ?? 0)} off${min}`;
    case 'percent':
      return `${offer.percent} % off${upTo}${min}`;
    case 'free_shipping':
      return `free shipping${min}`;
    case 'bogo':
      return `buy one, get one free${min}`;
    case 'gift':
      return `a gift with your order${min}`;
    case 'early_access':
      return 'early access';
  }
}

/** A KakaoTalk message that must not be sent (a promotional template as 알림톡, a template that does not fill). */
class KakaoRefusal extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The template a step's send uses on `channel`: `<key>-<channel>` when the step's template is for
 * another channel and the store has that one (`cart-reminder-sms` beside the `cart-reminder` e-mail),
 * else the step's own (an e-mail template sent as SMS sends its plain-text part).
 */
async function templateFor(trx: CampaignDb, key: string, channel: Channel): Promise<SavedTemplate> {
  const template = await latestTemplateIn(trx, key);
  if (template.channel === channel) return template;
  try {
    return await latestTemplateIn(trx, `${key}-${channel}`);
  } catch (error) {
    if (error instanceof ComebackError && error.kind === 'not_found') return template;
    throw error;
  }
}

/**
 * Renders a message for the outbox: fixed at enqueue, so a resend sends the same content. A marketing
 * message to a Korean recipient gets `(광고)`, the sender and the free opt-out (`korea.ts`).
 */
async function renderPayload(
  trx: CampaignDb,
  outboxId: number,
  journey: JourneyRow,
  definition: FlowDefinition,
  action: Extract<JourneyAction, { type: 'send' }>,
  channel: Channel,
  facts: CustomerFacts,
  settings: MessagingSettings,
  coupon: IssuedCoupon | null,
  options: AdvanceOptions & { blocks: ContextLoader; tx: Db },
): Promise<{ version: number | null; body: Record<string, unknown> }> {
  const link = (purpose: LinkPurpose) =>
    `${settings.publicUrl.replace(/\/$/, '')}/m/${purpose === 'unsubscribe' ? 'u' : 'p'}/${signLink(
      options.linkSecret,
      {
        c: facts.customer.id,
        p: purpose,
        m: outboxId,
        e: options.now + LINK_DAYS * DAY,
      },
    )}`;
  const templateKey = action.template;
  const template = channel === 'webhook' ? undefined : await templateFor(trx, templateKey, channel);
  // A block is read only when the template reads it; a webhook carries every block.
  const wants = template
    ? blocksRead(template.body, template.subject, template.text, ...Object.values(action.kakao?.variables ?? {}))
    : new Set(['trigger', 'products', 'new_arrivals', 'loyalty'] as const);
  const blocks = await options.blocks.load(
    {
      customerId: facts.customer.id,
      trigger: definition.trigger,
      occurrence: journey.occurrence,
      triggerData: journey.trigger_data ?? null,
      products: action.products,
      wants,
    },
    options.tx,
  );
  const context: MessageContext = {
    ...emptyBlocks(),
    ...blocks,
    customer: {
      id: facts.customer.id,
      first_name: facts.customer.first_name,
      last_name: facts.customer.last_name,
      email: facts.customer.email,
      country: facts.customer.country,
    },
    store: { name: settings.storeName, url: settings.storeUrl },
    scores: {
      p_alive: typeof facts.journey.values['score.p_alive'] === 'number' ? facts.journey.values['score.p_alive'] : null,
      clv: facts.clv?.value ?? null,
      churn_risk:
        typeof facts.journey.values['score.churn_band'] === 'string' ? facts.journey.values['score.churn_band'] : null,
    },
    coupon: coupon
      ? {
          code: coupon.code,
          description: coupon.description,
          expires_on: new Date(coupon.expiresAt).toISOString().slice(0, 10),
        }
      : null,
    links: {
      unsubscribe: link('unsubscribe'),
      preferences: link('preferences'),
      ...(await feedbackLinks(trx, {
        outboxId,
        customerId: facts.customer.id,
        templateKey: action.template,
        channel,
        publicUrl: settings.publicUrl,
        linkSecret: options.linkSecret,
        now: options.now,
      })),
    },
  };
  if (!template) {
    return { version: null, body: { type: 'comeback.message', template: templateKey, ...context } };
  }
  // KakaoTalk is a Korean service: its advertisements follow the Korean rules whoever receives them.
  const advertisement = action.purpose === 'marketing' && (facts.korean || channel === 'kakao');
  const who: AdvertiserIdentity = {
    senderName: settings.korea.senderName || settings.storeName,
    contact: settings.korea.contact || null,
    optOutNumber: settings.korea.optOutNumber || null,
    optOutLink: context.links.unsubscribe,
  };
  if (channel === 'kakao') {
    const kind = kakaoKind(action);
    const fallbackFrom = settings.kakao?.fallbackNumber ?? '';
    if (kind === 'alimtalk') {
      if (template.purpose !== 'transactional' || action.purpose !== 'transactional') {
        throw new KakaoRefusal('alimtalk_promotional', `template ${templateKey} is marketing: never 알림톡`);
      }
      const variables: Record<string, string> = {};
      for (const [name, source] of Object.entries(action.kakao?.variables ?? {})) {
        variables[name] = await renderLiquid(source, context, 'text', `${templateKey}.#{${name}}`);
      }
      let text: string;
      try {
        // The registered text, reproduced exactly: only the #{…} placeholders change.
        text = fillAlimtalk(template.body, variables);
      } catch (error) {
        throw new KakaoRefusal('alimtalk_variables', error instanceof Error ? error.message : String(error));
      }
      const type = smsType(text);
      return {
        version: template.version,
        body: {
          kakao: { type: kind, templateCode: action.kakao?.templateCode ?? null, variables, isAd: false },
          from: fallbackFrom,
          text,
          fallback: fallbackFrom && type !== 'too_long' ? { type, text } : null,
        },
      };
    }
    const message = await renderMessage(template, context);
    const text = advertisement ? koreanAdText(message.text, who) : message.text;
    const type = smsType(text);
    return {
      version: template.version,
      body: {
        kakao: {
          type: kind,
          templateCode: action.kakao?.templateCode ?? null,
          variables: {},
          isAd: action.purpose === 'marketing',
        },
        from: fallbackFrom,
        text,
        fallback: fallbackFrom && type !== 'too_long' ? { type, text } : null,
      },
    };
  }
  const message = await renderMessage(template, context);
  if (channel === 'email') {
    const unsubscribe = context.links.unsubscribe;
    return {
      version: template.version,
      body: {
        from: { name: settings.fromName, address: settings.fromEmail },
        subject: advertisement && message.subject !== null ? koreanAdSubject(message.subject) : message.subject,
        // Opens and clicks, as secondary attribution: signed redirects and a pixel served by `comeback serve`.
        html:
          message.html === null
            ? null
            : trackHtml(advertisement ? koreanAdHtml(message.html, who) : message.html, {
                publicUrl: settings.publicUrl,
                secret: options.linkSecret,
                customerId: facts.customer.id,
                outboxId,
                expiresAt: options.now + LINK_DAYS * DAY,
              }),
        text: advertisement ? koreanAdText(message.text, who) : message.text,
        // RFC 2369 and RFC 8058: one-click unsubscribe from the mail client.
        headers: {
          'List-Unsubscribe': `<${unsubscribe}>`,
          'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
        },
      },
    };
  }
  if (!advertisement) return { version: template.version, body: { from: settings.smsSender, text: message.text } };
  const text = koreanAdText(message.text, who);
  const type = smsType(text);
  return {
    version: template.version,
    body: { from: settings.smsSender, text, ...(type !== 'too_long' ? { type } : {}) },
  };
}

export type { Arm };
