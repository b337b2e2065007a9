import { sql } from 'kysely';
import { type Db, REVENUE_STATUSES } from '../store/index.js';
import { loadFlow } from './flows.queries.js';
import { type ArmTotals, type LiftReport, liftReport } from './lift.js';
import { outreachCounts } from './outreach.queries.js';
import { campaignDb } from './tables.js';

/** What happened at one step, per arm. */
export interface StepFigures {
  stepId: string;
  treated: { sent: number; queued: number; skipped: Record<string, number>; failed: number; uncertain: number };
  heldOut: number;
  opened: number;
  clicked: number;
  unsubscribed: number;
  /**
   * The lift of this step: entrants who reached it (treated sent or skipped, control held out), with
   * their orders from the step until `attributionDays` after it. For an A/B split, each variant's lift.
   */
  lift: LiftReport;
}

/** A flow's report: entrants, per-step figures and the lift against its hold-out. */
export interface FlowReport {
  key: string;
  name: string;
  asOf: number;
  attributionDays: number;
  /** The currency revenue is counted in (the one most attributed orders were in); others are left out. */
  currency: string | null;
  entrants: { treatment: number; control: number };
  steps: StepFigures[];
  lift: LiftReport;
  /** Coupons issued and used, as secondary attribution (never the lift). */
  coupons: { issued: number; used: number };
  /** Staff outreach tasks of treated entrants: created, done and still open (`comeback flows outreach`). */
  outreach: { created: number; done: number; open: number };
}

const DAY = 86_400_000;

/**
 * Treated against held-out entrants of a flow, intent to treat: every customer who entered counts in
 * their arm, whether or not a message reached them. An entrant's attributed orders are their paid
 * orders from entering until `attributionDays` after their last step (sent or held out) — the same
 * window for both arms — and before `asOf`. Revenue is net of refunds dated before `asOf`.
 */
export async function flowReport(db: Db, key: string, asOf: number): Promise<FlowReport> {
  const flow = await loadFlow(db, key);
  const cdb = campaignDb(db);
  const window = flow.definition.attributionDays * DAY;
  const lastStep = cdb
    .selectFrom('outbox')
    .select(['journey_id', (eb) => eb.fn.max('created_at').as('last_at')])
    .where('flow_id', '=', flow.id)
    .groupBy('journey_id')
    .as('m');
  const rows = await cdb
    .selectFrom('journeys as j')
    .leftJoin(lastStep, 'm.journey_id', 'j.id')
    .leftJoin('orders as o', (join) =>
      join
        .onRef('o.customer_id', '=', 'j.customer_id')
        .on('o.status', 'in', [...REVENUE_STATUSES, 'refunded'])
        .onRef('o.placed_at', '>', 'j.entered_at')
        .on(sql<boolean>`o.placed_at < coalesce(m.last_at, j.entered_at) + ${window}`)
        .on('o.placed_at', '<', asOf),
    )
    .select([
      'j.id as journey',
      'j.arm',
      'o.id as order_id',
      'o.currency',
      'o.total_minor',
      'o.discount_codes',
      'o.discount_minor',
      sql<number>`(select coalesce(sum(r.amount_minor), 0) from refunds r where r.order_id = o.id and r.refunded_at < ${asOf})`.as(
        'refunded',
      ),
    ])
    .where('j.flow_id', '=', flow.id)
    .where('j.entered_at', '<', asOf)
    .execute();

  const currencyCount = new Map<string, number>();
  for (const r of rows) if (r.currency) currencyCount.set(r.currency, (currencyCount.get(r.currency) ?? 0) + 1);
  const currency = [...currencyCount.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0] ?? null;

  const perJourney = new Map<number, { arm: string; orders: number; revenue: number }>();
  for (const r of rows) {
    const j = perJourney.get(r.journey) ?? { arm: r.arm, orders: 0, revenue: 0 };
    if (r.order_id !== null) {
      const net = Number(r.total_minor ?? 0) - Number(r.refunded ?? 0);
      // A fully refunded order is not a conversion.
      if (net > 0) {
        j.orders += 1;
        if (r.currency === currency) j.revenue += net;
      }
    }
    perJourney.set(r.journey, j);
  }
  const totals = (arm: string): ArmTotals => armTotals([...perJourney.values()], arm);

  const coupons = await cdb
    .selectFrom('coupons')
    .innerJoin('outbox', 'outbox.id', 'coupons.outbox_id')
    .select(['coupons.code', 'coupons.customer_id'])
    .where('outbox.flow_id', '=', flow.id)
    .where('coupons.created_at', '<', asOf)
    .execute();
  const codes = new Map(coupons.map((c) => [c.code.toUpperCase(), c.customer_id]));
  let used = 0;
  let couponCost = 0;
  for (const r of rows) {
    if (r.order_id === null || !r.discount_codes) continue;
    const orderCodes = r.discount_codes.split(/[,\s]+/).map((c) => c.trim().toUpperCase());
    if (orderCodes.some((c) => codes.has(c))) {
      used += 1;
      if (r.currency === currency) couponCost += Number(r.discount_minor ?? 0);
    }
  }

  const stepRows = await cdb
    .selectFrom('outbox')
    .select(['step_id', 'arm', 'status', 'reason', (eb) => eb.fn.countAll<number>().as('n')])
    .where('flow_id', '=', flow.id)
    .where('created_at', '<', asOf)
    .groupBy(['step_id', 'arm', 'status', 'reason'])
    .execute();
  const eventRows = await cdb
    .selectFrom('message_events')
    .innerJoin('outbox', 'outbox.id', 'message_events.outbox_id')
    .select([
      'outbox.step_id',
      'message_events.kind',
      (eb) => eb.fn.count<number>('message_events.outbox_id').distinct().as('n'),
    ])
    .where('outbox.flow_id', '=', flow.id)
    .where('message_events.occurred_at', '<', asOf)
    .groupBy(['outbox.step_id', 'message_events.kind'])
    .execute();
  // Per step: every journey that reached it, and its orders within the window after the step's row.
  const stepOrders = await cdb
    .selectFrom('outbox as s')
    .innerJoin('journeys as j', 'j.id', 's.journey_id')
    .leftJoin('orders as o', (join) =>
      join
        .onRef('o.customer_id', '=', 's.customer_id')
        .on('o.status', 'in', [...REVENUE_STATUSES, 'refunded'])
        .onRef('o.placed_at', '>', 's.created_at')
        .on(sql<boolean>`o.placed_at < s.created_at + ${window}`)
        .on('o.placed_at', '<', asOf),
    )
    .select([
      's.step_id',
      's.journey_id',
      'j.arm',
      'o.id as order_id',
      'o.currency',
      'o.total_minor',
      sql<number>`(select coalesce(sum(r.amount_minor), 0) from refunds r where r.order_id = o.id and r.refunded_at < ${asOf})`.as(
        'refunded',
      ),
    ])
    .where('s.flow_id', '=', flow.id)
    .where('s.created_at', '<', asOf)
    .execute();
  const perStep = new Map<string, Map<number, { arm: string; orders: number; revenue: number }>>();
  for (const r of stepOrders) {
    const journeys = perStep.get(r.step_id) ?? new Map<number, { arm: string; orders: number; revenue: number }>();
    perStep.set(r.step_id, journeys);
    const j = journeys.get(r.journey_id) ?? { arm: r.arm, orders: 0, revenue: 0 };
    journeys.set(r.journey_id, j);
    if (r.order_id === null) continue;
    const net = Number(r.total_minor ?? 0) - Number(r.refunded ?? 0);
    if (net > 0) {
      j.orders += 1;
      if (r.currency === currency) j.revenue += net;
    }
  }
  const stepLift = (stepId: string) => {
    const journeys = [...(perStep.get(stepId)?.values() ?? [])];
    return liftReport(armTotals(journeys, 'treatment'), armTotals(journeys, 'control'));
  };

  const steps: StepFigures[] = flow.definition.steps
    .filter((s) => s.type === 'send' || s.type === 'outreach')
    .map((s) => {
      const mine = stepRows.filter((r) => r.step_id === s.id);
      const count = (status: string) =>
        mine.filter((r) => r.status === status && r.arm !== 'control').reduce((a, r) => a + Number(r.n), 0);
      const skipped: Record<string, number> = {};
      for (const r of mine.filter((r) => r.status === 'skipped')) {
        const reason = (r.reason ?? 'unknown').split(':')[0]!;
        skipped[reason] = (skipped[reason] ?? 0) + Number(r.n);
      }
      const events = (kind: string) =>
        eventRows.filter((e) => e.step_id === s.id && e.kind === kind).reduce((a, e) => a + Number(e.n), 0);
      return {
        stepId: s.id,
        treated: {
          sent: count('sent'),
          queued: count('pending') + count('claimed') + count('sending'),
          skipped,
          failed: count('failed') + count('expired'),
          uncertain: count('uncertain'),
        },
        heldOut: mine.filter((r) => r.status === 'held_out').reduce((a, r) => a + Number(r.n), 0),
        opened: events('opened'),
        clicked: events('clicked'),
        unsubscribed: events('unsubscribed'),
        lift: stepLift(s.id),
      };
    });

  const treatment = totals('treatment');
  const control = totals('control');
  return {
    key: flow.key,
    name: flow.name,
    asOf,
    attributionDays: flow.definition.attributionDays,
    currency,
    entrants: { treatment: treatment.entrants, control: control.entrants },
    steps,
    lift: liftReport(treatment, control, couponCost),
    coupons: { issued: coupons.length, used },
    outreach: await outreachCounts(db, flow.id),
  };
}

/** The sums of one arm over journeys with their attributed orders and revenue. */
function armTotals(journeys: ReadonlyArray<{ arm: string; orders: number; revenue: number }>, arm: string): ArmTotals {
  const t: ArmTotals = { entrants: 0, converters: 0, orders: 0, ordersSquared: 0, revenueMinor: 0, revenueSquared: 0 };
  for (const j of journeys) {
    if (j.arm !== arm) continue;
    t.entrants += 1;
    if (j.orders > 0) t.converters += 1;
    t.orders += j.orders;
    t.ordersSquared += j.orders * j.orders;
    t.revenueMinor += j.revenue;
    t.revenueSquared += j.revenue * j.revenue;
  }
  return t;
}
