import { sql } from 'kysely';
import { ComebackError } from '../errors.js';
import { feedbackDb } from '../feedback/index.js';
import {
  type GapThresholds,
  gapThresholds,
  type LifecycleStage,
  lifecycleStage,
  salesAsOf,
} from '../segments/index.js';
import { MS_PER_DAY } from '../shared/dates.js';
import type { Db } from '../store/index.js';
import { addressFor, consentFor, preferredChannel } from './advance.queries.js';
import { type ExitReason, enterJourney, type JourneyFacts, type JourneyState, nextActions } from './engine.js';
import type { Channel, FlowDefinition } from './flow.js';
import { type Arm, assignArm, holdoutDraw } from './holdout.js';
import { decideSend, type SuppressionReason } from './policy.js';
import { type MessagingSettings, messagingSettings } from './settings.js';
import { campaignDb } from './tables.js';

/**
 * A backtest runs a flow definition over the store's past: who would have entered between two instants,
 * when, in which arm, and which messages they would have received after the same policy check the
 * worker applies (consent, suppression, the shared cap, quiet hours). It only reads: nothing is sent,
 * no journey, outbox row or coupon is written. The journey engine is the one the worker runs.
 */

/** One message the flow would have produced. */
export interface BacktestMessage {
  stepId: string;
  /** When it would have left: the step's instant, or the end of quiet hours when deferred. */
  at: number;
  /** The channel chosen among the step's (the customer's preferred), `outreach` for a staff task. */
  channel: Channel | 'outreach';
  template: string;
  purpose: 'marketing' | 'transactional';
  outcome: 'would_send' | 'held_out' | 'skipped';
  /** Why it was skipped (`no_consent:email`, `frequency_cap:…`, `no_address:email`) or deferred (`quiet_hours`). */
  reason: string | null;
}

/** One entrant of the backtest. */
export interface BacktestEntrant {
  customerId: number;
  /** The customer's id in the store's own system (the first identity), when known. */
  externalId: string | null;
  enteredAt: number;
  /** What made them enter: `lifecycle:at_risk@…`, `event:<message id>`, `order:<id>`, `birthday:<year>`. */
  occurrence: string;
  arm: Arm;
  /** How the journey stood at the end of the period: still running, completed, or exited and why. */
  end: { status: 'running' | 'completed' | 'exited'; reason?: ExitReason; at?: number };
  messages: BacktestMessage[];
}

/** What a backtest found. */
export interface BacktestReport {
  key: string;
  /** The period, half-open instants [from, to). */
  from: number;
  to: number;
  /** The day thresholds lifecycle stages were replayed with (the store's as of `to`), when the flow needs them. */
  thresholds: GapThresholds | null;
  /** What the backtest could not reproduce from past data, said plainly. */
  notes: string[];
  entrants: BacktestEntrant[];
  totals: {
    entrants: number;
    treatment: number;
    control: number;
    /** Occurrences that did not enter: the customer was already in the flow or may not re-enter. */
    notEntered: number;
    wouldSend: number;
    heldOut: number;
    deferred: number;
    skipped: Record<string, number>;
  };
}

interface Occurrence {
  customerId: number;
  at: number;
  key: string;
}

const BACKTEST_TRIGGERS = new Set(['segment_entered', 'event', 'order', 'date', 'tier_reached']);

/**
 * Runs `definition` over [from, to) (instants; `--from D --to D` are inclusive days at the faces).
 * Nobody is in the flow at `from`; each trigger occurrence in the period enters under the flow's
 * re-entry rule (one journey at a time), the hold-out arm is the same hash of (flow, customer) the
 * worker uses, and each journey is walked with `nextActions` at its wake times up to `to`.
 *
 * Lifecycle segments (`lifecycle:at_risk`, `lifecycle:lapsed` …) are replayed from the sales: without
 * model scores a customer is staged by the whole days since their last sale against the store's gap
 * thresholds as of `to` (`lifecycleStage`), so they enter a stage at last sale + (⌊threshold⌋ + 1) days
 * unless they buy before. Other segment kinds, events, orders and birthdays are read as stored.
 * Consent and suppression are read as of each send (rows changed after it count as unknown: no consent);
 * the cap counts the store's real marketing messages and the backtest's own. Read-only. Throws
 * `bad_input` for an empty period or a trigger the backtest cannot replay.
 */
export async function backtestFlow(
  db: Db,
  definition: FlowDefinition,
  { from, to }: { from: number; to: number },
): Promise<BacktestReport> {
  if (!(from < to)) {
    throw new ComebackError('bad_input', `the period is empty: from ${day(from)} is not before to ${day(to - 1)}`, {
      location: { field: 'from' },
    });
  }
  if (!BACKTEST_TRIGGERS.has(definition.trigger.type)) {
    throw new ComebackError(
      'bad_input',
      `the backtest cannot replay a ${definition.trigger.type} trigger yet (it replays ${[...BACKTEST_TRIGGERS].join(', ')})`,
      { location: { field: 'trigger.type' } },
    );
  }
  const cdb = campaignDb(db);
  const settings = await messagingSettings(db);
  const notes: string[] = [];

  // Every sale known as of `to`, by customer, oldest first: the lifecycle replay and the `ordered` exit read them.
  const saleRows = await sql<{ id: number; customer_id: number; placed_at: number }>`
    select s.id, s.customer_id, s.placed_at from ${salesAsOf(to)} s
    where s.customer_id is not null order by s.customer_id, s.placed_at, s.id`.execute(db);
  const sales = new Map<number, Array<{ id: number; at: number }>>();
  for (const r of saleRows.rows) {
    const list = sales.get(Number(r.customer_id)) ?? [];
    list.push({ id: Number(r.id), at: Number(r.placed_at) });
    sales.set(Number(r.customer_id), list);
  }

  const lifecycleWanted = new Set<string>();
  const segmentNames = [
    ...(definition.trigger.type === 'segment_entered' ? definition.trigger.segments : []),
    ...definition.exitWhen.flatMap((c) => (c.type === 'left_segment' ? c.segments : [])),
    ...definition.steps.flatMap((s) =>
      s.type === 'branch'
        ? s.cases.flatMap((c) =>
            c.when.fact === 'segment' ? [c.when.eq, ...(c.when.in ?? [])].filter((v) => v !== undefined) : [],
          )
        : [],
    ),
  ].map(String);
  for (const s of segmentNames) if (s.startsWith('lifecycle:')) lifecycleWanted.add(s);
  let thresholds: GapThresholds | null = null;
  if (lifecycleWanted.size > 0) {
    const gaps: number[] = [];
    for (const list of sales.values()) {
      for (let i = 1; i < list.length; i++) gaps.push((list[i]!.at - list[i - 1]!.at) / MS_PER_DAY);
    }
    thresholds = gapThresholds(Float64Array.from(gaps));
    notes.push(
      `lifecycle stages replayed from the sales with the store's thresholds as of ${day(to - 1)}: at risk beyond ${thresholds.atRiskDays.toFixed(1)} days, lapsed beyond ${thresholds.lapsedDays.toFixed(1)}, churned beyond ${thresholds.churnedDays.toFixed(1)}${thresholds.gaps === 0 ? ' (no repeat orders: the 90/180-day defaults)' : ''}; model scores are not replayed`,
    );
  }
  const stageAt = (customerId: number, at: number): LifecycleStage | undefined => {
    const list = sales.get(customerId);
    if (!list || thresholds === null) return undefined;
    let count = 0;
    let last = 0;
    for (const s of list) {
      if (s.at >= at) break;
      count += 1;
      last = s.at;
    }
    if (count === 0) return undefined;
    return lifecycleStage(
      { sales: count, daysSinceLastSale: Math.floor((at - last) / MS_PER_DAY), asOf: at },
      thresholds,
    ).stage;
  };

  // The trigger's occurrences in [from, to).
  const occurrences: Occurrence[] = [];
  const trigger = definition.trigger;
  if (trigger.type === 'segment_entered') {
    const replayed = trigger.segments
      .filter((s) => s.startsWith('lifecycle:'))
      .map((s) => s.slice('lifecycle:'.length));
    if (replayed.length > 0 && thresholds !== null) {
      const t = thresholds;
      const entryDays: Record<LifecycleStage, number | undefined> = {
        new: undefined,
        active: undefined,
        // daysSinceLastSale = ⌊(t − last) / day⌋ first exceeds a threshold T at ⌊T⌋ + 1 whole days.
        at_risk: Math.floor(t.atRiskDays) + 1,
        lapsed: Math.floor(t.lapsedDays) + 1,
        churned: Math.floor(t.churnedDays) + 1,
      };
      for (const [customerId, list] of sales) {
        for (let i = 0; i < list.length; i++) {
          const next = list[i + 1]?.at ?? Number.POSITIVE_INFINITY;
          for (const stage of replayed) {
            const days = entryDays[stage as LifecycleStage];
            if (days === undefined) continue;
            const at = list[i]!.at + days * MS_PER_DAY;
            // Buying again before (or at) that instant keeps the customer out of the stage.
            if (at >= next || at < from || at >= to) continue;
            if (stageAt(customerId, at) !== stage) continue; // e.g. at_risk skipped straight to lapsed
            occurrences.push({ customerId, at, key: `lifecycle:${stage}@${list[i]!.id}` });
          }
        }
      }
    }
    const stored = trigger.segments.filter((s) => !s.startsWith('lifecycle:'));
    if (stored.length > 0) {
      const wanted = stored.map((s) => {
        const [kind, ...rest] = s.split(':');
        return rest.length === 0 ? { kind: undefined, name: s } : { kind, name: rest.join(':') };
      });
      const rows = await cdb
        .selectFrom('events')
        .select(['customer_id', 'message_id', 'occurred_at', 'properties'])
        .where('type', '=', 'segment_entered')
        .where(
          'event',
          'in',
          wanted.map((w) => w.name),
        )
        .where('occurred_at', '>=', from)
        .where('occurred_at', '<', to)
        .where('customer_id', 'is not', null)
        .execute();
      for (const r of rows) {
        const kind = kindOf(r.properties);
        if (!wanted.some((w) => w.kind === undefined || w.kind === kind)) continue;
        occurrences.push({ customerId: r.customer_id!, at: r.occurred_at, key: `event:${r.message_id}` });
      }
    }
  } else if (trigger.type === 'event') {
    const rows = await cdb
      .selectFrom('events')
      .select(['customer_id', 'message_id', 'occurred_at'])
      .where('type', 'in', ['track', 'screen'])
      .where('event', 'in', trigger.events)
      .where('occurred_at', '>=', from)
      .where('occurred_at', '<', to)
      .where('customer_id', 'is not', null)
      .execute();
    for (const r of rows)
      occurrences.push({ customerId: r.customer_id!, at: r.occurred_at, key: `event:${r.message_id}` });
  } else if (trigger.type === 'order') {
    for (const [customerId, list] of sales) {
      list.forEach((s, i) => {
        if (s.at < from || s.at >= to) return;
        if (trigger.nth !== undefined && i + 1 !== trigger.nth) return;
        occurrences.push({ customerId, at: s.at, key: `order:${s.id}` });
      });
    }
    notes.push('orders are counted as sales known at the end of the period (a later full refund is no order)');
  } else if (trigger.type === 'date') {
    const rows = await cdb
      .selectFrom('customers')
      .select(['id', 'birthday'])
      .where('birthday', 'is not', null)
      .execute();
    const daysBefore = trigger.daysBefore ?? 0;
    for (let dayStart = Math.floor(from / MS_PER_DAY) * MS_PER_DAY; dayStart < to; dayStart += MS_PER_DAY) {
      const at = Math.max(dayStart, from);
      const target = new Date(dayStart + daysBefore * MS_PER_DAY);
      const monthDay = target.toISOString().slice(5, 10);
      for (const r of rows) {
        if (r.birthday!.slice(-5) === monthDay) {
          occurrences.push({ customerId: r.id, at, key: `birthday:${target.getUTCFullYear()}` });
        }
      }
    }
  }
  if (trigger.type === 'tier_reached') {
    let query = cdb
      .selectFrom('loyalty_tier_history')
      .select(['id', 'customer_id', 'from_tier', 'to_tier', 'changed_at'])
      .where('changed_at', '>=', from)
      .where('changed_at', '<', to);
    if (trigger.tiers) query = query.where('to_tier', 'in', trigger.tiers);
    for (const r of await query.execute()) {
      if (r.from_tier !== r.to_tier)
        occurrences.push({ customerId: r.customer_id, at: r.changed_at, key: `tier:${r.id}` });
    }
  }
  occurrences.sort((a, b) => a.customerId - b.customerId || a.at - b.at || a.key.localeCompare(b.key));
  const customerIds = [...new Set(occurrences.map((o) => o.customerId))];

  // What the policy and the engine need about those customers, read once.
  const customers = new Map<
    number,
    { id: number; email: string | null; phone: string | null; country: string | null; time_zone: string | null }
  >();
  const consents = new Map<number, Array<{ channel: string; granted: number; updated_at: number }>>();
  const topicChoices = new Map<number, Array<{ topic: string; granted: number; updated_at: number }>>();
  const identities = new Map<number, string>();
  const scores = new Map<
    number,
    Array<{ as_of: number; p_alive: number | null; clv: number | null; band: string | null }>
  >();
  const events = new Map<number, Array<{ event: string; at: number }>>();
  const realSends = new Map<number, number[]>();
  const engagement = new Map<number, Map<string, number>>();
  const memberships = new Map<number, Set<string>>();
  const exitEvents = definition.exitWhen.flatMap((c) => (c.type === 'event' ? c.events : []));
  const suppressionsByAddress = new Map<string, Array<{ channel: string; reason: string; created_at: number }>>();
  const capDays = settings.cap?.days ?? 0;
  for (let i = 0; i < customerIds.length; i += 500) {
    const ids = customerIds.slice(i, i + 500);
    for (const c of await cdb
      .selectFrom('customers')
      .select(['id', 'email', 'phone', 'country', 'time_zone'])
      .where('id', 'in', ids)
      .execute()) {
      customers.set(c.id, c);
    }
    for (const c of await cdb
      .selectFrom('customer_consents')
      .select(['customer_id', 'channel', 'granted', 'updated_at'])
      .where('customer_id', 'in', ids)
      .execute()) {
      push(consents, c.customer_id, c);
    }
    for (const t of await feedbackDb(db)
      .selectFrom('consent_topics')
      .select(['customer_id', 'topic', 'granted', 'updated_at'])
      .where('customer_id', 'in', ids)
      .execute()) {
      push(topicChoices, t.customer_id, t);
    }
    for (const r of await cdb
      .selectFrom('customer_identities')
      .select(['customer_id', 'source', 'external_id'])
      .where('customer_id', 'in', ids)
      .orderBy('source')
      .orderBy('external_id')
      .execute()) {
      if (!identities.has(r.customer_id)) identities.set(r.customer_id, r.external_id);
    }
    for (const r of await cdb
      .selectFrom('customer_scores')
      .select(['customer_id', 'as_of', 'p_alive', 'clv', 'churn_band'])
      .where('customer_id', 'in', ids)
      .where('as_of', '<', to)
      .orderBy('as_of')
      .execute()) {
      push(scores, r.customer_id, { as_of: r.as_of, p_alive: r.p_alive, clv: r.clv, band: r.churn_band });
    }
    if (exitEvents.length > 0) {
      for (const r of await cdb
        .selectFrom('events')
        .select(['customer_id', 'event', 'occurred_at'])
        .where('customer_id', 'in', ids)
        .where('event', 'in', exitEvents)
        .where('occurred_at', '>=', from)
        .where('occurred_at', '<', to)
        .execute()) {
        if (r.event !== null) push(events, r.customer_id!, { event: r.event, at: r.occurred_at });
      }
    }
    for (const r of await cdb
      .selectFrom('outbox')
      .select(['customer_id', 'sent_at', 'send_after'])
      .where('customer_id', 'in', ids)
      .where('purpose', '=', 'marketing')
      .where('status', 'in', ['sent', 'sending', 'pending', 'uncertain'])
      .where('send_after', '>=', from - capDays * MS_PER_DAY)
      .where('send_after', '<', to)
      .execute()) {
      push(realSends, r.customer_id, r.sent_at ?? r.send_after);
    }
    for (const r of await cdb
      .selectFrom('message_events')
      .innerJoin('outbox', 'outbox.id', 'message_events.outbox_id')
      .select(['message_events.customer_id', 'outbox.channel', (eb) => eb.fn.countAll<number>().as('n')])
      .where('message_events.customer_id', 'in', ids)
      .where('message_events.kind', 'in', ['opened', 'clicked'])
      .where('message_events.occurred_at', '<', to)
      .groupBy(['message_events.customer_id', 'outbox.channel'])
      .execute()) {
      const m = engagement.get(r.customer_id) ?? new Map<string, number>();
      m.set(r.channel, Number(r.n));
      engagement.set(r.customer_id, m);
    }
    for (const r of await cdb
      .selectFrom('customer_segments')
      .select(['customer_id', 'kind', 'value'])
      .where('customer_id', 'in', ids)
      .where('kind', '<>', 'lifecycle')
      .execute()) {
      const set = memberships.get(r.customer_id) ?? new Set<string>();
      set.add(`${r.kind}:${r.value}`);
      memberships.set(r.customer_id, set);
    }
    const addresses = ids.flatMap((id) => {
      const c = customers.get(id);
      return [c?.email, c?.phone].filter((a): a is string => typeof a === 'string');
    });
    const suppressionRows =
      addresses.length === 0
        ? []
        : await cdb
            .selectFrom('suppressions')
            .select(['channel', 'address', 'reason', 'created_at'])
            .where('address', 'in', addresses)
            .where('created_at', '<', to)
            .execute();
    for (const s of suppressionRows) push(suppressionsByAddress, s.address, s);
  }
  if (memberships.size > 0) {
    notes.push('segments other than lifecycle are read as they are today, not as they were');
  }

  const entrants: BacktestEntrant[] = [];
  let notEntered = 0;
  const byCustomer = new Map<number, Occurrence[]>();
  for (const o of occurrences) push(byCustomer, o.customerId, o);
  for (const [customerId, list] of byCustomer) {
    const customer = customers.get(customerId);
    if (!customer) continue;
    const timeZone = customer.time_zone ?? settings.timeZone;
    const simulatedSends: number[] = [];
    const factsAt = (now: number, enteredAt: number): JourneyFacts => {
      const own = sales.get(customerId) ?? [];
      let lastOrderAt: number | undefined;
      for (const s of own) if (s.at <= now) lastOrderAt = s.at;
      const segments = new Set(memberships.get(customerId) ?? []);
      const stage = stageAt(customerId, now + 1);
      if (stage) segments.add(`lifecycle:${stage}`);
      const lastEventAt = new Map<string, number>();
      for (const e of events.get(customerId) ?? []) {
        if (e.at > enteredAt && e.at <= now) lastEventAt.set(e.event, Math.max(lastEventAt.get(e.event) ?? 0, e.at));
      }
      const known = (consents.get(customerId) ?? []).filter((c) => c.updated_at <= now);
      const withdrawn = known.filter((c) => c.granted === 0).map((c) => c.updated_at);
      const all = consents.get(customerId) ?? [];
      const everyWithdrawn = all.length > 0 && all.every((c) => c.granted === 0 || c.updated_at > now);
      const unsubscribedBySuppression = [...suppressedAt(customer, now).values()].some((r) => r === 'unsubscribe');
      const unsubscribedAt =
        everyWithdrawn && withdrawn.length > 0 ? Math.min(...withdrawn) : unsubscribedBySuppression ? now : undefined;
      const score = [...(scores.get(customerId) ?? [])].reverse().find((s) => s.as_of <= now);
      return {
        timeZone,
        ...(lastOrderAt !== undefined ? { lastOrderAt } : {}),
        ...(unsubscribedAt !== undefined ? { unsubscribedAt } : {}),
        segments,
        lastEventAt,
        values: {
          country: customer.country,
          'score.p_alive': score?.p_alive ?? null,
          'score.clv': score?.clv ?? null,
          'score.churn_band': score?.band ?? null,
          'ab.draw': holdoutDraw(`${definition.key}:ab`, customerId),
        },
      };
    };

    let current: { entrant: BacktestEntrant; state: JourneyState; wake: number } | null = null;
    let lastEnteredAt: number | null = null;
    /** Walks the current journey through its wake times before `until`. */
    const advanceUntil = (until: number) => {
      while (current && current.state.status === 'active' && current.wake < until) {
        const now: number = current.wake;
        const step = nextActions(definition, current.state, factsAt(now, current.state.enteredAt), now);
        for (const action of step.actions) {
          if (action.type === 'send' || action.type === 'outreach') {
            current.entrant.messages.push(
              decide(action, customer, now, {
                settings,
                timeZone,
                consent: new Map(
                  (consents.get(customerId) ?? [])
                    .filter((c) => c.updated_at <= now)
                    .map((c) => [c.channel, c.granted === 1]),
                ),
                // A topic choice is current state only: one recorded after `now` is not known then (on).
                topicsOff: new Set(
                  (topicChoices.get(customerId) ?? [])
                    .filter((t) => t.granted === 0 && t.updated_at <= now)
                    .map((t) => t.topic),
                ),
                suppressed: suppressedAt(customer, now),
                engagement: engagement.get(customerId) ?? new Map(),
                recent: [...(realSends.get(customerId) ?? []), ...simulatedSends],
              }),
            );
            const m = current.entrant.messages[current.entrant.messages.length - 1]!;
            if (m.outcome === 'would_send' && m.purpose === 'marketing' && m.channel !== 'outreach') {
              simulatedSends.push(m.at);
            }
          } else if (action.type === 'exit') {
            current.entrant.end = { status: 'exited', reason: action.reason, at: action.at };
          } else if (action.type === 'complete') {
            current.entrant.end = { status: 'completed', at: action.at };
          }
        }
        current.state = step.state;
        const wait = step.actions.find((a) => a.type === 'wait');
        if (step.state.status !== 'active') break;
        current.wake = wait?.type === 'wait' ? wait.until : now;
      }
    };
    for (const occurrence of list) {
      advanceUntil(occurrence.at);
      if (current && current.state.status === 'active') {
        notEntered += 1; // one journey at a time per flow and customer
        continue;
      }
      if (lastEnteredAt !== null) {
        if (
          definition.reentry.type === 'never' ||
          occurrence.at < lastEnteredAt + definition.reentry.days * MS_PER_DAY
        ) {
          notEntered += 1;
          continue;
        }
      }
      const arm = assignArm(definition.key, customerId, definition.holdoutShare);
      const entrant: BacktestEntrant = {
        customerId,
        externalId: identities.get(customerId) ?? null,
        enteredAt: occurrence.at,
        occurrence: occurrence.key,
        arm,
        end: { status: 'running' },
        messages: [],
      };
      entrants.push(entrant);
      lastEnteredAt = occurrence.at;
      current = { entrant, state: enterJourney(occurrence.at, arm), wake: occurrence.at };
    }
    advanceUntil(to);
  }
  entrants.sort((a, b) => a.enteredAt - b.enteredAt || a.customerId - b.customerId);

  const skipped: Record<string, number> = {};
  let wouldSend = 0;
  let heldOut = 0;
  let deferred = 0;
  for (const e of entrants) {
    for (const m of e.messages) {
      if (m.outcome === 'would_send') wouldSend += 1;
      if (m.outcome === 'held_out') heldOut += 1;
      if (m.outcome === 'would_send' && m.reason === 'quiet_hours') deferred += 1;
      if (m.outcome === 'skipped') {
        const reason = (m.reason ?? 'unknown').split(':')[0]!;
        skipped[reason] = (skipped[reason] ?? 0) + 1;
      }
    }
  }
  return {
    key: definition.key,
    from,
    to,
    thresholds,
    notes,
    entrants,
    totals: {
      entrants: entrants.length,
      treatment: entrants.filter((e) => e.arm === 'treatment').length,
      control: entrants.filter((e) => e.arm === 'control').length,
      notEntered,
      wouldSend,
      heldOut,
      deferred,
      skipped,
    },
  };

  function suppressedAt(
    customer: { email: string | null; phone: string | null },
    now: number,
  ): Map<string, SuppressionReason> {
    const out = new Map<string, SuppressionReason>();
    for (const address of [customer.email, customer.phone]) {
      if (address === null) continue;
      for (const s of suppressionsByAddress.get(address) ?? []) {
        if (s.created_at > now) continue;
        const reason = s.reason === 'bounce' || s.reason === 'complaint' ? s.reason : 'unsubscribe';
        if (out.get(s.channel) !== 'bounce') out.set(s.channel, reason);
      }
    }
    return out;
  }
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** The decision for one send or outreach of the backtest: the worker's channel choice and policy check. */
function decide(
  action: Extract<ReturnType<typeof nextActions>['actions'][number], { type: 'send' | 'outreach' }>,
  customer: { id: number; email: string | null; phone: string | null },
  now: number,
  facts: {
    settings: MessagingSettings;
    timeZone: string;
    consent: ReadonlyMap<string, boolean>;
    topicsOff: ReadonlySet<string>;
    suppressed: ReadonlyMap<string, SuppressionReason>;
    engagement: ReadonlyMap<string, number>;
    recent: readonly number[];
  },
): BacktestMessage {
  if (action.type === 'outreach') {
    return {
      stepId: action.stepId,
      at: now,
      channel: 'outreach',
      template: 'outreach',
      purpose: 'marketing',
      outcome: action.heldOut ? 'held_out' : 'would_send',
      reason: action.heldOut ? 'held_out' : null,
    };
  }
  const chosen = preferredChannel(action.channels, { customer, ...facts }, action.purpose) ?? action.channels[0]!;
  const base = { stepId: action.stepId, channel: chosen, template: action.template, purpose: action.purpose };
  if (action.heldOut) return { ...base, at: now, outcome: 'held_out', reason: 'held_out' };
  if (addressFor(chosen, customer) === null) {
    return { ...base, at: now, outcome: 'skipped', reason: `no_address:${chosen}` };
  }
  const { settings } = facts;
  const decision = decideSend(
    {
      purpose: action.purpose,
      channel: chosen,
      timeZone: facts.timeZone,
      heldOut: false,
      consent: consentFor(chosen, facts.consent),
      ...(action.purpose === 'marketing' && action.topic
        ? { topic: { name: action.topic, on: !facts.topicsOff.has(action.topic) } }
        : {}),
      ...(facts.suppressed.has(chosen) ? { suppressed: facts.suppressed.get(chosen)! } : {}),
      recentMarketingSends: facts.recent,
    },
    {
      ...(settings.quietHours ? { quietHours: settings.quietHours } : {}),
      ...(settings.cap ? { cap: settings.cap } : {}),
    },
    now,
  );
  if (decision.type === 'skip') {
    return {
      ...base,
      at: now,
      outcome: 'skipped',
      reason: decision.detail ? `${decision.reason}:${decision.detail}` : decision.reason,
    };
  }
  if (decision.type === 'defer') return { ...base, at: decision.until, outcome: 'would_send', reason: 'quiet_hours' };
  return { ...base, at: now, outcome: 'would_send', reason: null };
}

/** Reads the `kind` of a segment event's properties (`{"kind":"lifecycle",…}`). */
function kindOf(properties: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(properties);
    return parsed && typeof parsed === 'object' && 'kind' in parsed && typeof parsed.kind === 'string'
      ? parsed.kind
      : undefined;
  } catch {
    return undefined;
  }
}

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
