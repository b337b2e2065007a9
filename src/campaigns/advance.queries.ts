import { ComebackError } from '../errors.js';
import { randomCode } from '../loyalty/index.js';
import { currencyExponent } from '../shared/money.js';
import type { Db } from '../store/index.js';
import { blocksRead, ContextLoader, emptyBlocks } from './context.queries.js';
import { type JourneyAction, type JourneyState, nextActions } from './engine.js';
import {
  type CustomerFacts,
  journeyFactsMany,
  type PolicyFacts,
  type PolicyFactsWithRows,
  policyFactsMany,
} from './facts.queries.js';
import { feedbackLinks } from './feedback-links.queries.js';
import { CHANNELS, type Channel, type FlowDefinition, kakaoKind, type Offer } from './flow.js';
import { flowVersion, latestTemplateIn, type SavedTemplate } from './flows.queries.js';
import type { Arm } from './holdout.js';
import {
  type AdvertiserIdentity,
  addSeoulMonths,
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
import { type CampaignDb, campaignDb, newOutboxRow, type OutboxStatus } from './tables.js';
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
 *
 * Set-based: the facts of the whole batch are read a few statements per 1,000 customers
 * (`journeyFactsMany`), and the batch is written in one transaction with multi-row outbox inserts.
 * Decisions are those of a pass that took the journeys one at a time in `wake_at` order: a customer's
 * journeys are written in rounds (their first in the first round, …), and each queued marketing
 * message joins the customer's cap count before their next journey is decided.
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
    .orderBy('journeys.id')
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
  if (due.length === 0) return summary;
  const definitions = new Map<string, FlowDefinition>();
  const definitionOf = (journey: { flow_id: number; version: number }) =>
    definitions.get(`${journey.flow_id}:${journey.version}`)!;
  for (const journey of due) {
    const versionKey = `${journey.flow_id}:${journey.version}`;
    if (!definitions.has(versionKey))
      definitions.set(versionKey, await flowVersion(db, journey.flow_id, journey.version));
  }
  const facts = await journeyFactsMany(
    db,
    due.map((j) => ({ customerId: j.customer_id, enteredAt: j.entered_at, definition: definitionOf(j) })),
    settings,
    now,
  );
  const plans = due.map((journey, i) => {
    const state: JourneyState = {
      stepId: journey.step_id ?? undefined,
      stepStartedAt: journey.step_started_at,
      enteredAt: journey.entered_at,
      arm: journey.arm === 'control' ? 'control' : 'treatment',
      status: 'active',
    };
    const next = nextActions(definitionOf(journey), state, facts[i]!.journey, now);
    return { journey, facts: facts[i]!, next, wait: next.actions.find((a) => a.type === 'wait') };
  });
  // The blocks every message of the pass may read: loyalty for all its customers in one go.
  const blocks = new ContextLoader(db, now, { locale: settings.language, storeUrl: settings.storeUrl });
  await blocks.prefetch(due.map((j) => j.customer_id));
  await db.transaction().execute(async (tx) => {
    const trx = campaignDb(tx);
    // Optimistic: only the worker that read this version of a journey moves it.
    const moved: typeof plans = [];
    for (const plan of plans) {
      const { journey, next, wait } = plan;
      const result = await trx
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
      if (Number(result.numUpdatedRows) > 0) moved.push(plan);
    }
    // Rows already written for (journey, step): a step visited again (a flow that loops) writes nothing.
    const written = new Set<string>();
    for (let i = 0; i < moved.length; i += 1000) {
      const rows = await trx
        .selectFrom('outbox')
        .select(['journey_id', 'step_id'])
        .where(
          'journey_id',
          'in',
          moved.slice(i, i + 1000).map((p) => p.journey.id),
        )
        .execute();
      for (const r of rows) written.add(`${r.journey_id}:${r.step_id}`);
    }
    // Rounds: a customer's n-th journey of the batch is written in round n.
    const rounds: Array<typeof moved> = [];
    const seen = new Map<number, number>();
    for (const plan of moved) {
      const n = seen.get(plan.journey.customer_id) ?? 0;
      seen.set(plan.journey.customer_id, n + 1);
      if (rounds[n] === undefined) rounds[n] = [];
      rounds[n]!.push(plan);
    }
    for (const round of rounds) {
      const items: EnqueueItem[] = [];
      for (const plan of round) {
        for (const action of plan.next.actions) {
          if (action.type === 'exit') summary.exited += 1;
          if (action.type === 'complete') summary.completed += 1;
          if (action.type !== 'send' && action.type !== 'outreach') continue;
          items.push({ journey: plan.journey, definition: definitionOf(plan.journey), action, facts: plan.facts });
        }
      }
      for (const status of await enqueueMany(trx, items, written, settings, { ...options, blocks, tx })) {
        if (status === 'pending') summary.queued += 1;
        else if (status === 'held_out') summary.heldOut += 1;
        else if (status === 'deferred') summary.deferred += 1;
        else if (status === 'skipped') summary.skipped += 1;
      }
    }
  });
  return summary;
}

export type { CustomerFacts, PolicyFacts } from './facts.queries.js';

/** Reads a customer's `PolicyFacts` as of `now` (rows written after `now` are not seen); throws when the customer is unknown. */
export async function policyFacts(
  db: Db,
  customerId: number,
  settings: MessagingSettings,
  now: number,
): Promise<PolicyFactsWithRows> {
  return (await policyFactsMany(db, [customerId], settings, now)).get(customerId)!;
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

/**
 * Whether the Korean 6-month transaction exception is in force for a customer at `now`: a Korean
 * recipient, the store turned it on (`settings.korea.transactionException`), and a paid order less than
 * 6 months (Seoul calendar, `addSeoulMonths`) before. Per channel it also needs `transactionExceptionOpen`.
 */
export function transactionExceptionInForce(
  facts: { korean: boolean; lastOrderAt?: number },
  settings: MessagingSettings,
  now: number,
): boolean {
  return (
    facts.korean &&
    settings.korea.transactionException &&
    facts.lastOrderAt !== undefined &&
    now < addSeoulMonths(facts.lastOrderAt, 6)
  );
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

/** One send (or outreach) of a journey to write. */
interface EnqueueItem {
  journey: JourneyRow;
  definition: FlowDefinition;
  action: Extract<JourneyAction, { type: 'send' | 'outreach' }>;
  facts: CustomerFacts;
}

/** What the policy decided for one send, before it is written. */
interface RowDecision {
  channel: string;
  chosen: Channel | undefined;
  address: string | null;
  purpose: 'marketing' | 'transactional';
  status: OutboxStatus;
  reason: string | null;
  sendAfter: number;
}

/** The channel, address and policy decision of one send (or outreach); pure. */
function decideRow(item: EnqueueItem, settings: MessagingSettings, now: number): RowDecision {
  const { action, facts } = item;
  const purpose = action.type === 'send' ? action.purpose : 'marketing';
  const channels: readonly Channel[] = action.type === 'send' ? action.channels : [];
  const exception = transactionExceptionInForce(facts, settings, now);
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
  return { channel, chosen, address, purpose, status, reason, sendAfter };
}

/** Outbox rows per multi-row insert (23 columns: well under both databases' parameter limits). */
const INSERT_ROWS = 500;

/**
 * Writes sends (or outreach) as outbox rows with their decisions, at most one item per customer (a
 * round of `advanceJourneys`): decisions in memory, multi-row inserts, then the coupon and the render
 * of each queued send. A (journey, step) in `written` writes nothing and counts as skipped, as a
 * conflicting insert does. A queued marketing message joins the customer's cap count. Returns each
 * item's status, in order.
 */
async function enqueueMany(
  trx: CampaignDb,
  items: readonly EnqueueItem[],
  written: Set<string>,
  settings: MessagingSettings,
  options: AdvanceOptions & { blocks: ContextLoader; tx: Db },
): Promise<Enqueued[]> {
  const { now } = options;
  const statuses: Enqueued[] = items.map(() => 'skipped');
  const decisions = items.map((item) => decideRow(item, settings, now));
  const fresh: number[] = [];
  for (const [i, item] of items.entries()) {
    const key = `${item.journey.id}:${item.action.stepId}`;
    if (written.has(key)) continue;
    written.add(key);
    fresh.push(i);
  }
  const ids = new Map<number, number>();
  for (let start = 0; start < fresh.length; start += INSERT_ROWS) {
    const part = fresh.slice(start, start + INSERT_ROWS);
    const inserted = await trx
      .insertInto('outbox')
      .values(
        part.map((i) => {
          const { journey, action } = items[i]!;
          const d = decisions[i]!;
          return newOutboxRow({
            journey_id: journey.id,
            flow_id: journey.flow_id,
            step_id: action.stepId,
            customer_id: journey.customer_id,
            arm: journey.arm,
            channel: d.channel,
            purpose: d.purpose,
            topic: action.type === 'send' && d.purpose === 'marketing' ? (action.topic ?? null) : null,
            template_key: action.type === 'send' ? action.template : 'outreach',
            to_address: d.address,
            status: d.status,
            reason: d.reason,
            payload: action.type === 'outreach' ? JSON.stringify({ note: action.note }) : null,
            send_after: d.sendAfter,
            send_by: d.sendAfter + settings.sendWithinHours * 3_600_000,
            created_at: now,
          });
        }),
      )
      .onConflict((oc) => oc.columns(['journey_id', 'step_id']).doNothing())
      .returning(['id', 'journey_id', 'step_id'])
      .execute();
    const byKey = new Map(inserted.map((r) => [`${r.journey_id}:${r.step_id}`, Number(r.id)]));
    for (const i of part) {
      const id = byKey.get(`${items[i]!.journey.id}:${items[i]!.action.stepId}`);
      if (id !== undefined) ids.set(i, id);
    }
  }
  for (const [i, outboxId] of ids) {
    const { journey, definition, action, facts } = items[i]!;
    const d = decisions[i]!;
    let status: OutboxStatus = d.status;
    if (status === 'pending' && action.type === 'send' && d.chosen) {
      const coupon = action.offer
        ? await issueCoupon(trx, outboxId, journey.customer_id, action.offer, definition, facts, now)
        : null;
      try {
        const payload = await renderPayload(
          trx,
          outboxId,
          journey,
          definition,
          action,
          d.chosen,
          facts,
          settings,
          coupon,
          options,
        );
        await trx
          .updateTable('outbox')
          .set({
            payload: JSON.stringify(payload.body),
            template_version: payload.version,
            coupon_code: coupon?.code ?? null,
          })
          .where('id', '=', outboxId)
          .execute();
      } catch (error) {
        if (!(error instanceof KakaoRefusal)) throw error;
        await trx
          .updateTable('outbox')
          .set({ status: 'skipped', reason: error.reason, last_error: error.message })
          .where('id', '=', outboxId)
          .execute();
        status = 'skipped';
      }
    }
    // The cap counts queued marketing (outreach included) from its send-after instant.
    const capDays = settings.cap?.days ?? 0;
    if (d.purpose === 'marketing' && status === 'pending' && d.sendAfter > now - capDays * DAY) {
      facts.recentMarketingSends.push(d.sendAfter);
    }
    statuses[i] = status === 'pending' && d.sendAfter > now ? 'deferred' : status;
  }
  return statuses;
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
