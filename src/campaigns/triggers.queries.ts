import { sql } from 'kysely';
import { expiringPoints, findProgram } from '../loyalty/index.js';
import { dueReplenishments } from '../recommend/index.js';
import type { Db } from '../store/index.js';
import type { FlowDefinition } from './flow.js';
import { flowVersion } from './flows.queries.js';
import { assignArm } from './holdout.js';
import { type CampaignDb, campaignDb } from './tables.js';

/** One trigger occurrence: who, when, and the natural key that keeps it from entering twice. */
export interface Occurrence {
  customerId: number;
  at: number;
  /** The event's message id, `order:<id>`, `birthday:<year>` … */
  key: string;
  /** What the occurrence carried beyond its key (points and date, tiers, the product due), kept on the journey. */
  data?: Record<string, string | number>;
}

/** What an enrolment pass did. */
export interface EnrolSummary {
  flows: number;
  entered: number;
  /** Occurrences that found their journey already there (a retry, or a customer who may not re-enter). */
  skipped: number;
}

const BATCH = 2000;
const DAY = 86_400_000;

/** The Segment event of a new subscriber (Segment's spec name; the storefront's e-mail capture sends it). */
export const SIGNED_UP = 'Signed Up';

/**
 * Enters the customers whose trigger fired since the last pass into every enabled flow, under the
 * flow's current version. Each (flow, customer, occurrence) enters once: the journey row has a unique
 * key and the insert does nothing when it exists. The arm is drawn from (flow, customer) and recorded.
 * Events and orders are read past a per-flow cursor, so a pass costs what arrived since the last one.
 */
export async function enrolNewEntrants(db: Db, now: number): Promise<EnrolSummary> {
  const cdb = campaignDb(db);
  const flows = await cdb
    .selectFrom('flows')
    .select(['id', 'key', 'current_version', 'event_cursor', 'order_cursor', 'tier_cursor', 'points_checked_at'])
    .where('enabled', '=', 1)
    .where('kind', '=', 'flow')
    .orderBy('id')
    .execute();
  const summary: EnrolSummary = { flows: flows.length, entered: 0, skipped: 0 };
  for (const flow of flows) {
    const definition = await flowVersion(db, flow.id, flow.current_version);
    // The ledger replay of points_expiring runs at most once a UTC day per flow.
    const pointsDue = Math.floor(now / DAY) > Math.floor(Number(flow.points_checked_at) / DAY);
    if (definition.trigger.type === 'points_expiring' && !pointsDue) continue;
    const found = await occurrences(db, definition, flow, now);
    const entered = await enterMany(cdb, flow.id, flow.key, flow.current_version, definition, found.items, now);
    summary.entered += entered;
    summary.skipped += found.items.length - entered;
    await cdb
      .updateTable('flows')
      .set({
        event_cursor: found.eventCursor,
        order_cursor: found.orderCursor,
        tier_cursor: found.tierCursor,
        ...(definition.trigger.type === 'points_expiring' ? { points_checked_at: now } : {}),
      })
      .where('id', '=', flow.id)
      .execute();
  }
  return summary;
}

/** The trigger occurrences of one flow past its cursors, up to `now`. */
async function occurrences(
  db: Db,
  definition: FlowDefinition,
  flow: { event_cursor: number; order_cursor: number; tier_cursor: number },
  now: number,
): Promise<{ items: Occurrence[]; eventCursor: number; orderCursor: number; tierCursor: number }> {
  const cdb = campaignDb(db);
  const trigger = definition.trigger;
  let eventCursor = flow.event_cursor;
  let orderCursor = flow.order_cursor;
  let tierCursor = Number(flow.tier_cursor);
  const items: Occurrence[] = [];
  if (trigger.type === 'segment_entered' || trigger.type === 'event' || trigger.type === 'subscribed') {
    // `lifecycle:at_risk` is a segment_entered event named `at_risk` whose properties say kind lifecycle.
    // A subscriber is a `Signed Up` (the storefront's e-mail capture, or the store's own) by a customer
    // with no sale before it.
    const tracked = trigger.type === 'event' || trigger.type === 'subscribed';
    const wanted =
      trigger.type === 'subscribed'
        ? [{ kind: undefined, name: SIGNED_UP }]
        : trigger.type === 'event'
          ? trigger.events.map((e) => ({ kind: undefined, name: e }))
          : trigger.segments.map((s) => {
              const [kind, ...rest] = s.split(':');
              return rest.length === 0 ? { kind: undefined, name: s } : { kind, name: rest.join(':') };
            });
    const rows = await cdb
      .selectFrom('events')
      .select(['id', 'customer_id', 'message_id', 'occurred_at', 'properties'])
      .where('id', '>', flow.event_cursor)
      .where('type', tracked ? 'in' : '=', tracked ? ['track', 'screen'] : 'segment_entered')
      .where(
        'event',
        'in',
        wanted.map((w) => w.name),
      )
      .where('occurred_at', '<=', now)
      .orderBy('id')
      .limit(BATCH)
      .execute();
    // A subscriber who had bought before signing up is a customer already, not one to nurture: the
    // first paid order of each customer of the batch, read in one statement.
    const firstPaid = new Map<number, number>();
    if (trigger.type === 'subscribed') {
      const ids = [...new Set(rows.flatMap((r) => (r.customer_id === null ? [] : [r.customer_id])))];
      for (let i = 0; i < ids.length; i += 1000) {
        const firsts = await cdb
          .selectFrom('orders')
          .select(['customer_id', (eb) => eb.fn.min('placed_at').as('at')])
          .where('customer_id', 'in', ids.slice(i, i + 1000))
          .where('status', 'in', ['paid', 'partially_refunded'])
          .groupBy('customer_id')
          .execute();
        for (const f of firsts)
          if (f.customer_id !== null && f.at !== null) firstPaid.set(Number(f.customer_id), Number(f.at));
      }
    }
    for (const row of rows) {
      eventCursor = Math.max(eventCursor, row.id);
      if (row.customer_id === null) continue; // an anonymous visitor cannot be messaged until identified
      if (trigger.type === 'segment_entered') {
        const kind = kindOf(row.properties);
        if (!wanted.some((w) => w.kind === undefined || w.kind === kind)) continue;
      }
      if (trigger.type === 'subscribed') {
        const first = firstPaid.get(row.customer_id);
        if (first !== undefined && first < row.occurred_at) continue; // a customer already
      }
      items.push({ customerId: row.customer_id, at: row.occurred_at, key: `event:${row.message_id}` });
    }
  } else if (trigger.type === 'order') {
    const rows = await cdb
      .selectFrom('orders')
      .select(['id', 'customer_id', 'placed_at'])
      .where('id', '>', flow.order_cursor)
      .where('status', 'in', ['paid', 'partially_refunded'])
      .where('placed_at', '<=', now)
      .orderBy('id')
      .limit(BATCH)
      .execute();
    // The n-th order: the customer's orders (refunded ones count) before it by (placed_at, id), read
    // for the whole batch in one statement per 1,000 customers.
    const ordersOf = new Map<number, Array<{ id: number; placed_at: number }>>();
    if (trigger.nth !== undefined) {
      const ids = [...new Set(rows.flatMap((r) => (r.customer_id === null ? [] : [r.customer_id])))];
      for (let i = 0; i < ids.length; i += 1000) {
        const all = await cdb
          .selectFrom('orders')
          .select(['id', 'customer_id', 'placed_at'])
          .where('customer_id', 'in', ids.slice(i, i + 1000))
          .where('status', 'in', ['paid', 'partially_refunded', 'refunded'])
          .execute();
        for (const o of all) {
          if (o.customer_id === null) continue;
          const list = ordersOf.get(Number(o.customer_id)) ?? [];
          list.push({ id: Number(o.id), placed_at: Number(o.placed_at) });
          ordersOf.set(Number(o.customer_id), list);
        }
      }
    }
    for (const row of rows) {
      orderCursor = Math.max(orderCursor, row.id);
      if (row.customer_id === null) continue;
      if (trigger.nth !== undefined) {
        const earlier = (ordersOf.get(row.customer_id) ?? []).filter(
          (o) => o.placed_at < row.placed_at || (o.placed_at === row.placed_at && o.id < row.id),
        ).length;
        if (earlier + 1 !== trigger.nth) continue;
      }
      items.push({ customerId: row.customer_id, at: row.placed_at, key: `order:${row.id}` });
    }
  } else if (trigger.type === 'date') {
    items.push(...(await birthdays(cdb, trigger.daysBefore ?? 0, now)));
  } else if (trigger.type === 'tier_reached') {
    // The loyalty ledger's tier changes (upgrades and downgrades alike) into one of the listed tiers.
    let query = cdb
      .selectFrom('loyalty_tier_history')
      .select(['id', 'customer_id', 'from_tier', 'to_tier', 'changed_at'])
      .where('id', '>', tierCursor)
      .where('changed_at', '<=', now);
    if (trigger.tiers) query = query.where('to_tier', 'in', trigger.tiers);
    for (const row of await query.orderBy('id').limit(BATCH).execute()) {
      tierCursor = Math.max(tierCursor, Number(row.id));
      if (row.from_tier === row.to_tier) continue;
      items.push({
        customerId: row.customer_id,
        at: row.changed_at,
        key: `tier:${row.id}`,
        data: { ...(row.from_tier ? { from_tier: row.from_tier } : {}), to_tier: row.to_tier },
      });
    }
  } else if (trigger.type === 'points_expiring') {
    // Members whose points expire within `daysBefore` days, once per expiry date (the first one due).
    const program = await findProgram(db);
    for (const due of program ? await expiringPoints(db, program, now, trigger.daysBefore) : []) {
      const day = new Date(due.expiresAt).toISOString().slice(0, 10);
      items.push({
        customerId: due.customerId,
        at: now,
        key: `points_expiring:${day}`,
        data: { points: due.points, expires_on: day },
      });
    }
  } else if (trigger.type === 'replenishment_due') {
    // A product's repurchase cycle has come due for a customer who bought it (recommend/), once per
    // (customer, product, due day); a need more than REPLENISH_MAX_CYCLES cycles overdue has ended.
    for (const due of await dueReplenishments(db, now)) {
      items.push({
        customerId: due.customerId,
        at: now,
        key: `replenishment:${due.productId}:${due.dueOn}`,
        data: {
          product_id: due.productId,
          sku: due.sku,
          due_on: due.dueOn,
          cycle_days: due.cycleDays,
          last_bought_at: due.lastBoughtAt,
        },
      });
    }
  }
  return { items, eventCursor, orderCursor, tierCursor };
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

/** Customers whose birthday (`YYYY-MM-DD` or `--MM-DD`) falls `daysBefore` days after today (UTC), once a year. */
async function birthdays(cdb: CampaignDb, daysBefore: number, now: number): Promise<Occurrence[]> {
  const target = new Date(now + daysBefore * 86_400_000);
  const monthDay = target.toISOString().slice(5, 10);
  const rows = await cdb
    .selectFrom('customers')
    .select(['id'])
    .where(sql<string>`substr(birthday, length(birthday) - 4, 5)`, '=', monthDay)
    .execute();
  return rows.map((r) => ({ customerId: r.id, at: now, key: `birthday:${target.getUTCFullYear()}` }));
}

/**
 * Enters occurrences of one flow, set-based: the customers' journeys in this flow are read once per
 * 1,000 customers, the re-entry rule is decided in memory in occurrence order (an occurrence entered
 * counts as the customer's latest journey for the next one, as if entered one at a time), and the
 * journeys are written by multi-row inserts that do nothing on an existing (flow, customer, occurrence).
 * The arm is drawn from (flow, customer) as always. Returns how many entered.
 */
async function enterMany(
  cdb: CampaignDb,
  flowId: number,
  flowKey: string,
  version: number,
  definition: FlowDefinition,
  occurrences: readonly Occurrence[],
  now: number,
): Promise<number> {
  if (occurrences.length === 0) return 0;
  const ids = [...new Set(occurrences.map((o) => o.customerId))];
  const latest = new Map<number, { entered_at: number; status: string }>();
  const keys = new Set<string>();
  for (let i = 0; i < ids.length; i += 1000) {
    const rows = await cdb
      .selectFrom('journeys')
      .select(['customer_id', 'occurrence', 'entered_at', 'status'])
      .where('flow_id', '=', flowId)
      .where('customer_id', 'in', ids.slice(i, i + 1000))
      .execute();
    for (const r of rows) {
      keys.add(`${r.customer_id}:${r.occurrence}`);
      const seen = latest.get(Number(r.customer_id));
      if (!seen || Number(r.entered_at) > seen.entered_at) {
        latest.set(Number(r.customer_id), { entered_at: Number(r.entered_at), status: r.status });
      }
    }
  }
  const values = [];
  for (const occurrence of occurrences) {
    const previous = latest.get(occurrence.customerId);
    if (previous) {
      if (previous.status === 'active') continue; // one journey at a time per flow and customer
      if (definition.reentry.type === 'never') continue;
      if (occurrence.at < previous.entered_at + definition.reentry.days * DAY) continue;
    }
    const key = `${occurrence.customerId}:${occurrence.key}`;
    if (keys.has(key)) continue;
    keys.add(key);
    if (!previous || occurrence.at > previous.entered_at) {
      latest.set(occurrence.customerId, { entered_at: occurrence.at, status: 'active' });
    }
    values.push({
      flow_id: flowId,
      version,
      customer_id: occurrence.customerId,
      occurrence: occurrence.key,
      arm: assignArm(flowKey, occurrence.customerId, definition.holdoutShare),
      entered_at: occurrence.at,
      step_id: null,
      step_started_at: occurrence.at,
      wake_at: occurrence.at,
      status: 'active',
      exit_reason: null,
      updated_at: now,
      trigger_data: occurrence.data ? JSON.stringify(occurrence.data) : null,
    });
  }
  let entered = 0;
  for (let i = 0; i < values.length; i += 500) {
    const inserted = await cdb
      .insertInto('journeys')
      .values(values.slice(i, i + 500))
      .onConflict((oc) => oc.columns(['flow_id', 'customer_id', 'occurrence']).doNothing())
      .returning('id')
      .execute();
    entered += inserted.length;
  }
  return entered;
}
