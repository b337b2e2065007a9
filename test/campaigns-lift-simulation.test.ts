import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { enrolNewEntrants, flowReport, saveFlow, setFlowEnabled, validateFlow } from '../src/campaigns/index.js';
import { campaignDb } from '../src/campaigns/tables.js';
import type { Db } from '../src/store/index.js';
import { customerRow } from './campaign-fixtures.js';
import { DIALECTS, freshDatabase, type TestDb } from './setup.js';

/**
 * A simulated store with a known true effect. Customers visit (an event that triggers the flow), half
 * are held out by the flow's own hash, and then each buys within the attribution window with a known
 * probability that depends on their arm; order values are drawn from a known distribution, and orders
 * outside the window are noise the report must not count. The report must recover the effect within
 * its 95 % interval; a store where both arms buy alike must give an interval that spans zero.
 */

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 2, 2, 9, 0, 0);
const N = 2400;

/** mulberry32: a small seeded generator, so the simulated store is the same on every run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Scenario {
  key: string;
  /** Probability that a treated / held-out entrant buys within the window. */
  pTreated: number;
  pControl: number;
  seed: number;
}

/** Order values uniform on 2000..6000 minor units: mean 4000. */
const MEAN_ORDER = 4000;
/** A converter buys a second time within the window with this probability, in both arms. */
const P_SECOND = 0.2;

async function simulate(db: Db, s: Scenario): Promise<void> {
  const cdb = campaignDb(db);
  const random = rng(s.seed);
  const definition = validateFlow({
    key: s.key,
    name: s.key,
    trigger: { type: 'event', events: [`Visit ${s.key}`] },
    holdoutShare: 0.5,
    attributionDays: 5,
    steps: [{ id: 'hello', type: 'send', channels: ['webhook'], template: 'hello', purpose: 'marketing' }],
  });
  if (!definition.ok) throw new Error(JSON.stringify(definition.problems));
  await saveFlow(db, definition.flow, T0 - DAY);
  await setFlowEnabled(db, s.key, true, T0 - DAY);
  const base = (await cdb
    .selectFrom('customers')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirst())!;
  const offset = Number(base.n);
  const customers = Array.from({ length: N }, (_, i) => offset + i + 1);
  for (let i = 0; i < N; i += 500) {
    const ids = customers.slice(i, i + 500);
    await cdb
      .insertInto('customers')
      .values(ids.map((id) => customerRow(id, T0 - 100 * DAY, { source: 'sim', country: 'GB' })))
      .execute();
    await cdb
      .insertInto('events')
      .values(
        ids.map((id) => ({
          message_id: `${s.key}-visit-${id}`,
          type: 'track',
          event: `Visit ${s.key}`,
          customer_id: id,
          anonymous_id: null,
          session_id: null,
          properties: '{}',
          occurred_at: T0 + (id % 600) * 60_000,
          received_at: T0 + (id % 600) * 60_000,
        })),
      )
      .execute();
  }
  // Enter everyone through the real trigger path (one pass reads at most a batch of events).
  for (let pass = 0; pass < 10; pass++) {
    const entered = await enrolNewEntrants(db, T0 + DAY);
    if (entered.entered === 0) break;
  }
  const journeys = await cdb
    .selectFrom('journeys')
    .innerJoin('flows', 'flows.id', 'journeys.flow_id')
    .select(['journeys.customer_id', 'journeys.arm', 'journeys.entered_at'])
    .where('flows.key', '=', s.key)
    .orderBy('journeys.customer_id')
    .execute();
  assert.equal(journeys.length, N);
  const orders: Array<{ customer: number; at: number; total: number }> = [];
  for (const j of journeys) {
    const p = j.arm === 'treatment' ? s.pTreated : s.pControl;
    if (random() < p) {
      orders.push({ customer: j.customer_id, at: j.entered_at + 2 * DAY, total: 2000 + Math.floor(random() * 4001) });
      if (random() < P_SECOND) {
        orders.push({ customer: j.customer_id, at: j.entered_at + 3 * DAY, total: 2000 + Math.floor(random() * 4001) });
      }
    }
    // Noise outside the window (and one before entering), the same in both arms.
    if (random() < 0.3) orders.push({ customer: j.customer_id, at: j.entered_at + 9 * DAY, total: 9999 });
    if (random() < 0.3) orders.push({ customer: j.customer_id, at: j.entered_at - DAY, total: 9999 });
  }
  for (let i = 0; i < orders.length; i += 500) {
    await cdb
      .insertInto('orders')
      .values(
        orders.slice(i, i + 500).map((o, k) => ({
          source: 'sim',
          external_id: `${s.key}-${i + k}`,
          customer_id: o.customer,
          email: null,
          placed_at: o.at,
          placed_offset: 0,
          placed_date: new Date(o.at).toISOString().slice(0, 10),
          currency: 'GBP',
          subtotal_minor: o.total,
          shipping_minor: 0,
          tax_minor: 0,
          discount_minor: 0,
          total_minor: o.total,
          refunded_minor: 0,
          status: 'paid' as const,
          discount_codes: '',
          country: 'GB',
          cancelled_at: null,
          imported_at: o.at,
        })),
      )
      .execute();
  }
}

const within = (i: { low: number | null; high: number | null } | null, value: number) =>
  i !== null && i.low !== null && i.high !== null && i.low <= value && value <= i.high;

for (const dialect of DIALECTS) {
  describe(`the lift report on a simulated store with a known effect (${dialect.name})`, { skip: dialect.skip }, () => {
    let t: TestDb;
    before(async () => {
      t = await freshDatabase(dialect.name);
    });
    after(async () => {
      await t?.drop();
    });

    test('a 10-point true lift in conversion is recovered within the interval, which excludes zero', async () => {
      await simulate(t.store.db, { key: 'sim-effect', pTreated: 0.3, pControl: 0.2, seed: 16 });
      const r = await flowReport(t.store.db, 'sim-effect', T0 + 30 * DAY);
      // The hash splits 2400 entrants about evenly: within 4 standard deviations of 1200 (sd √600 ≈ 24.5).
      assert.ok(Math.abs(r.entrants.control - N / 2) < 4 * Math.sqrt(N / 4), `control ${r.entrants.control}`);
      const trueConversion = 0.3 - 0.2;
      assert.ok(within(r.lift.conversionLift, trueConversion), JSON.stringify(r.lift.conversionLift));
      assert.equal(r.lift.verdict, 'positive');
      // Orders per entrant: p × (1 + P_SECOND); revenue per entrant: that × the mean order value.
      const trueOrders = trueConversion * (1 + P_SECOND);
      assert.ok(within(r.lift.ordersPerEntrantLift, trueOrders), JSON.stringify(r.lift.ordersPerEntrantLift));
      assert.ok(
        within(r.lift.revenuePerEntrantLiftMinor, trueOrders * MEAN_ORDER),
        JSON.stringify(r.lift.revenuePerEntrantLiftMinor),
      );
      // The noise orders (9999, outside the window) are never counted.
      assert.ok(r.lift.treatment.revenueMinor < r.lift.treatment.orders * 6001);
      assert.ok(r.lift.control.revenueMinor < r.lift.control.orders * 6001);
    });

    test('a store where the flow does nothing gives an interval that spans zero and says so', async () => {
      await simulate(t.store.db, { key: 'sim-null', pTreated: 0.25, pControl: 0.25, seed: 61 });
      const r = await flowReport(t.store.db, 'sim-null', T0 + 30 * DAY);
      assert.ok(within(r.lift.conversionLift, 0), JSON.stringify(r.lift.conversionLift));
      assert.ok(within(r.lift.revenuePerEntrantLiftMinor, 0), JSON.stringify(r.lift.revenuePerEntrantLiftMinor));
      assert.equal(r.lift.verdict, 'inconclusive');
      assert.ok(r.lift.moreEntrantsNeeded === null || r.lift.moreEntrantsNeeded > 0);
    });
  });
}
