import { sql } from 'kysely';
import type { Db } from '../store/index.js';
import type { FlowDefinition } from './flow.js';
import { loadFlow, saveFlow } from './flows.queries.js';
import { type DeliverySummary, deliverDue, recoverOutbox } from './outbox.queries.js';
import { httpSender } from './senders/http.js';
import { messagingSettings } from './settings.js';
import { campaignDb, newOutboxRow } from './tables.js';

/**
 * Low-score alerts to a helpdesk. Every answer that emits `NPS Detractor` (0–6) or `Low CSAT` (1–2) on
 * the customer's timeline — through a hosted survey page, `POST /survey-responses` or a CSV import —
 * becomes one outbox row on the `helpdesk` channel, read past a cursor over `events`, so no path that
 * stores answers has to remember to call anything. The row is keyed by the alert event (a journey of
 * the disabled system flow `helpdesk-alerts`, occurrence `helpdesk:<event message id>`), so passes in
 * several processes queue it once; the outbox delivers it with the same claiming, back-off and
 * uncertainty rules as every message, signed like the webhook channel (`X-Comeback-Signature:
 * t=…,v1=hex HMAC-SHA256(key, "t.body")`) with the `helpdesk` key derived from the link secret.
 */

/** The system flow that owns the helpdesk rows (never enabled: it is not entered by triggers). */
export const HELPDESK_FLOW_KEY = 'helpdesk-alerts';

/** The events that raise an alert. */
export const HELPDESK_EVENTS = ['NPS Detractor', 'Low CSAT'] as const;

/** Answers older than this when first seen (an import of last year's answers) are not sent: 7 days. */
export const HELPDESK_FRESH_MS = 7 * 86_400_000;

const DAY = 86_400_000;
const CURSOR = 'helpdesk_cursor';

const helpdeskFlow: FlowDefinition = {
  key: HELPDESK_FLOW_KEY,
  name: 'Helpdesk alerts (detractors and low CSAT)',
  description: 'Written by the worker and `comeback serve` when a helpdeskUrl is set; not entered by triggers.',
  trigger: { type: 'event', events: [...HELPDESK_EVENTS] },
  exitWhen: [],
  steps: [{ id: 'alert', type: 'send', channels: ['webhook'], template: HELPDESK_FLOW_KEY, purpose: 'transactional' }],
  holdoutShare: 0,
  attributionDays: 1,
  reentry: { type: 'never' },
};

/** What one queueing pass did. */
export interface HelpdeskQueueSummary {
  /** New outbox rows. */
  queued: number;
  /** Alerts answered more than `HELPDESK_FRESH_MS` before they were first seen: passed over. */
  stale: number;
}

/**
 * Queues the alerts that arrived since the last pass (up to `limit`) as `helpdesk` outbox rows at
 * `now`, when a helpdesk address is set; without one the cursor stays, so alerts wait for it (within
 * their freshness). The body: `{type, survey, kind, score, reason, comment, context, source,
 * answeredAt, customer: {id, email, phone, firstName, lastName}}`.
 */
export async function queueHelpdeskAlerts(
  db: Db,
  { now, limit = 500 }: { now: number; limit?: number },
): Promise<HelpdeskQueueSummary> {
  const settings = await messagingSettings(db);
  const summary: HelpdeskQueueSummary = { queued: 0, stale: 0 };
  if (!settings.helpdeskUrl) return summary;
  const cdb = campaignDb(db);
  const saved = await cdb
    .selectFrom('messaging_settings')
    .select('value')
    .where('name', '=', CURSOR)
    .executeTakeFirst();
  const cursor = saved ? Number(saved.value) : 0;
  const alerts = await db
    .selectFrom('events as e')
    .leftJoin('customers as c', 'c.id', 'e.customer_id')
    .select([
      'e.id',
      'e.message_id',
      'e.event',
      'e.customer_id',
      'e.properties',
      'e.occurred_at',
      'c.email',
      'c.phone',
      'c.first_name',
      'c.last_name',
    ])
    .where('e.id', '>', cursor)
    .where('e.event', 'in', [...HELPDESK_EVENTS])
    .orderBy('e.id')
    .limit(limit)
    .execute();
  if (alerts.length === 0) return summary;
  const flow = await loadFlow(db, HELPDESK_FLOW_KEY).catch(async () => (await saveFlow(db, helpdeskFlow, now)).flow);
  for (const a of alerts) {
    if (a.customer_id === null) continue;
    const answeredAt = Number(a.occurred_at);
    if (answeredAt < now - HELPDESK_FRESH_MS) {
      summary.stale += 1;
      continue;
    }
    const p = (a.properties ? JSON.parse(a.properties) : {}) as Record<string, unknown>;
    const body = {
      type: a.event,
      survey: p.survey ?? null,
      kind: p.kind ?? null,
      score: p.score ?? null,
      reason: p.reason ?? null,
      comment: p.comment ?? null,
      context: p.context ?? null,
      source: p.source ?? null,
      answeredAt: new Date(answeredAt).toISOString(),
      customer: {
        id: a.customer_id,
        email: a.email ?? null,
        phone: a.phone ?? null,
        firstName: a.first_name ?? null,
        lastName: a.last_name ?? null,
      },
    };
    const customerId = a.customer_id;
    const created = await cdb.transaction().execute(async (trx) => {
      const journey = await trx
        .insertInto('journeys')
        .values({
          flow_id: flow.id,
          version: flow.version,
          customer_id: customerId,
          occurrence: `helpdesk:${a.message_id}`,
          arm: 'treatment',
          entered_at: now,
          step_id: 'alert',
          step_started_at: now,
          wake_at: null,
          status: 'completed',
          exit_reason: null,
          updated_at: now,
        })
        .onConflict((oc) => oc.columns(['flow_id', 'customer_id', 'occurrence']).doNothing())
        .returning('id')
        .executeTakeFirst();
      if (!journey) return false;
      await trx
        .insertInto('outbox')
        .values(
          newOutboxRow({
            journey_id: journey.id,
            flow_id: flow.id,
            step_id: 'alert',
            customer_id: customerId,
            arm: 'treatment',
            channel: 'helpdesk',
            purpose: 'transactional',
            template_key: HELPDESK_FLOW_KEY,
            to_address: settings.helpdeskUrl ?? null,
            status: 'pending',
            reason: a.event,
            payload: JSON.stringify(body),
            send_after: now,
            send_by: now + 7 * DAY,
            created_at: now,
          }),
        )
        .execute();
      return true;
    });
    if (created) summary.queued += 1;
  }
  const last = String(alerts[alerts.length - 1]!.id);
  // Never moves back: another process may have read further meanwhile.
  await cdb
    .insertInto('messaging_settings')
    .values({ name: CURSOR, value: last })
    .onConflict((oc) =>
      oc
        .column('name')
        .doUpdateSet({ value: last })
        .where(sql<number>`cast(messaging_settings.value as bigint)`, '<', Number(last)),
    )
    .execute();
  return summary;
}

/** What one helpdesk pass did. */
export interface HelpdeskPassSummary extends HelpdeskQueueSummary {
  delivered: DeliverySummary | null;
}

/**
 * One pass of helpdesk alerts, as `comeback serve` and the worker run it: queue what arrived, recover
 * lost leases, then deliver due `helpdesk` rows to the address set now, signed with `signingKey` (the
 * `helpdesk` key of `flows settings --signing-keys`). Nothing is delivered without an address.
 */
export async function helpdeskPass(
  db: Db,
  options: { now: () => number; random: () => number; signingKey: string; timeoutMs?: number },
): Promise<HelpdeskPassSummary> {
  const queued = await queueHelpdeskAlerts(db, { now: options.now() });
  const url = (await messagingSettings(db)).helpdeskUrl;
  if (!url) return { ...queued, delivered: null };
  await recoverOutbox(db, options.now());
  const delivered = await deliverDue(db, { helpdesk: helpdeskSender(url, options) }, options);
  return { ...queued, delivered };
}

/** The `helpdesk` channel's sender: a signed JSON POST of the alert (the webhook channel's scheme). */
export function helpdeskSender(url: string, options: { now: () => number; signingKey: string; timeoutMs?: number }) {
  return httpSender({
    url,
    signingSecret: options.signingKey,
    now: options.now,
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
  });
}
