import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { sql } from 'kysely';
import { addCustomer, addEvent, addOrder, addRefund, DAY } from '../../test/segments-fixtures.js';
import { DIALECTS, freshDatabase, type TestDb } from '../../test/setup.js';
import { ComebackError } from '../errors.js';
import { applyRefund } from '../ingest/index.js';
import type { Db, OrderStatus } from '../store/index.js';
import { computeLifecycle, lifecycleMigration } from './lifecycle.js';
import { loadLatestScores } from './profile.queries.js';
import { computeRfm } from './rfm.js';
import { parseRule } from './rules.js';
import { selectByRule } from './rules.queries.js';

const A = Date.UTC(2024, 2, 1);

/** A fitted-model row for score rows to point at; returns its id. */
async function addFit(db: Db, asOf: number): Promise<number> {
  const row = await db
    .insertInto('model_fits')
    .values({
      model: 'bgnbd',
      params: '{}',
      stderr: '{}',
      log_likelihood: 0,
      customers: 1,
      histories: 1,
      iterations: 1,
      converged: 1,
      warnings: '[]',
      unit: 'week',
      currency: 'GBP',
      calibration_end: asOf,
      as_of: asOf,
      holdout: null,
      created_at: asOf,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return Number(row.id);
}

async function addScore(db: Db, customerId: number, asOf: number, pAlive: number): Promise<void> {
  await db
    .insertInto('customer_scores')
    .values({
      customer_id: customerId,
      model: 'bgnbd',
      as_of: asOf,
      fit_id: await addFit(db, asOf),
      spend_fit_id: null,
      p_alive: pAlive,
      churn_risk: null,
      churn_band: null,
      expected_purchases: 1,
      horizon_days: 365,
      expected_spend: null,
      clv: 10,
      currency: 'GBP',
      next_order_at: null,
    })
    .execute();
}

for (const dialect of DIALECTS) {
  describe(`as of a past date, on ${dialect.name}`, { skip: dialect.skip }, () => {
    let t: TestDb;
    before(async () => {
      t = await freshDatabase(dialect.name);
    });
    after(async () => t?.drop());

    test('tied customers score the middle, and a store of one customer is not Lost', async () => {
      const db = t.store.db;
      // Four customers bought the same on the same day (in JPY, so only they are scored), one in KRW alone.
      for (let i = 0; i < 4; i++) await addOrder(db, await addCustomer(db), { at: A - DAY, currency: 'JPY' });
      await addOrder(db, await addCustomer(db), { at: A - 1, currency: 'KRW' });
      for (const currency of ['JPY', 'KRW']) {
        const rfm = await computeRfm(db, { asOf: A, currency });
        assert.equal(rfm.customers.length, currency === 'JPY' ? 4 : 1);
        for (const c of rfm.customers) {
          assert.deepEqual([c.r, c.f, c.m, c.group], [3, 3, 3, 'Need attention'], currency);
        }
      }
      const kr = (await computeRfm(db, { asOf: A, currency: 'KRW' })).customers[0]!;
      assert.equal(kr.recencyDays, 0);
    });

    test('the migration to column is the lifecycle as of TO, both dates with the same thresholds', async () => {
      const db = t.store.db;
      const B = A + 5 * DAY;
      const ids: Record<string, number[]> = { steady: [], returning: [], single: [] };
      // Five customers with a gap of 10 days, the last order the day before A.
      for (let i = 0; i < 5; i++) {
        const id = await addCustomer(db, { firstSeenAt: A - 11 * DAY });
        await addOrder(db, id, { at: A - 11 * DAY });
        await addOrder(db, id, { at: A - DAY });
        ids.steady!.push(id);
      }
      // Five customers who bought 98 days before A and come back 2 days after it: gaps of 100 days.
      for (let i = 0; i < 5; i++) {
        const id = await addCustomer(db, { firstSeenAt: A - 98 * DAY });
        await addOrder(db, id, { at: A - 98 * DAY });
        await addOrder(db, id, { at: A + 2 * DAY });
        ids.returning!.push(id);
      }
      // One customer with a single order 15 days before A, who does not order again.
      const x = await addCustomer(db, { firstSeenAt: A - 15 * DAY });
      await addOrder(db, x, { at: A - 15 * DAY });
      // Scores computed long after B say x is gone; neither date may read them.
      await addScore(db, x, B + 100 * DAY, 0.01);

      // As of A the gaps are five 10s: x at 15 days would be lapsed by A's own thresholds. As of B the
      // gaps are five 10s and five 100s: p80 = p95 = 100 days (type 7), churned beyond 200.
      const scoresTo = await loadLatestScores(db, { asOf: B });
      assert.equal(scoresTo, undefined, 'no score was computed by B');
      const lifecycleB = await computeLifecycle(db, { asOf: B, scores: scoresTo });
      assert.deepEqual(lifecycleB.thresholds, { atRiskDays: 100, lapsedDays: 100, churnedDays: 200, gaps: 10 });
      const matrix = await lifecycleMigration(db, {
        from: A,
        to: B,
        scoresFrom: await loadLatestScores(db, { asOf: A }),
        scoresTo,
      });
      const at = (from: string, to: string) =>
        matrix.counts[matrix.stages.indexOf(from as never)]![matrix.stages.indexOf(to as never)]!;
      // Among the JPY / KRW customers of the test above: five single orders 0–1 day old, new → new.
      assert.equal(at('active', 'active'), 5);
      assert.equal(at('new', 'active'), 5);
      assert.equal(at('new', 'new'), 1 + 5);
      assert.equal(at('lapsed', 'new'), 0, 'nobody improves because the thresholds moved');
      assert.equal(
        matrix.counts.flat().reduce((s, n) => s + n, 0),
        16,
      );
      // The to column, stage by stage, is the lifecycle as of B.
      for (const stage of ['new', 'active', 'at_risk', 'lapsed', 'churned']) {
        const column = matrix.counts.reduce((s, row) => s + row[matrix.stages.indexOf(stage as never)]!, 0);
        assert.equal(column, lifecycleB.customers.filter((c) => c.stage === stage).length, stage);
      }
      // Long after B, the late scores apply: x is churned by them.
      const late = B + 100 * DAY;
      const later = await computeLifecycle(db, { asOf: late, scores: await loadLatestScores(db, { asOf: late }) });
      assert.equal(later.customers.find((c) => c.customerId === x)?.stage, 'churned');
      await assert.rejects(
        lifecycleMigration(db, { from: B, to: A }),
        (e: unknown) => e instanceof ComebackError && e.kind === 'bad_input',
      );
    });

    test('refunds and cancellations dated after the as-of do not reach back', async () => {
      const db = t.store.db;
      const refunded = await addCustomer(db, { firstSeenAt: A - 10 * DAY });
      const order = await addOrder(db, refunded, {
        at: A - 10 * DAY,
        currency: 'CHF',
        totalMinor: 4000,
        status: 'refunded',
        refundedMinor: 4000,
      });
      await addRefund(db, order, { at: A + DAY, amountMinor: 4000, currency: 'CHF' });
      const cancelled = await addCustomer(db, { firstSeenAt: A - 10 * DAY });
      await addOrder(db, cancelled, {
        at: A - 10 * DAY,
        currency: 'CHF',
        totalMinor: 1000,
        status: 'cancelled',
        cancelledAt: A + 3 * DAY,
      });
      const before = await computeRfm(db, { asOf: A, currency: 'CHF' });
      assert.deepEqual(
        before.customers.map((c) => [c.customerId, c.frequency, c.monetaryMinor]),
        [
          [refunded, 1, 4000],
          [cancelled, 1, 1000],
        ],
      );
      assert.deepEqual(
        (await computeRfm(db, { asOf: A + 2 * DAY, currency: 'CHF' })).customers.map((c) => c.customerId),
        [cancelled],
      );
      assert.deepEqual((await computeRfm(db, { asOf: A + 4 * DAY, currency: 'CHF' })).customers, []);
      const stagedAtA = (await computeLifecycle(db, { asOf: A })).customers.map((c) => c.customerId);
      assert.ok(stagedAtA.includes(refunded) && stagedAtA.includes(cancelled));
      const stagedLater = (await computeLifecycle(db, { asOf: A + 4 * DAY })).customers.map((c) => c.customerId);
      assert.ok(!stagedLater.includes(refunded) && !stagedLater.includes(cancelled));
    });
  });
}

/** Random histories: what happened before D, and what was added after it. */
const D = Date.UTC(2024, 5, 1);
const order = fc.record({
  customer: fc.integer({ min: 0, max: 7 }),
  daysBefore: fc.integer({ min: 0, max: 90 }),
  ms: fc.constantFrom(0, 1, 3_600_000, DAY - 1),
  total: fc.constantFrom(500, 1250, 3000),
  status: fc.constantFrom<OrderStatus>('paid', 'paid', 'partially_refunded', 'refunded', 'cancelled', 'pending'),
  currency: fc.constantFrom('GBP', 'GBP', 'EUR'),
});
const laterData = fc.record({
  orders: fc.array(
    fc.record({
      customer: fc.integer({ min: 0, max: 9 }),
      daysAfter: fc.integer({ min: 0, max: 30 }),
      ms: fc.nat(DAY),
    }),
    { maxLength: 6 },
  ),
  refunds: fc.array(fc.record({ order: fc.nat(), daysAfter: fc.integer({ min: 0, max: 30 }), part: fc.boolean() }), {
    maxLength: 4,
  }),
  cancels: fc.array(fc.record({ order: fc.nat(), daysAfter: fc.integer({ min: 0, max: 30 }) }), { maxLength: 3 }),
  events: fc.array(
    fc.record({ customer: fc.integer({ min: 0, max: 9 }), daysAfter: fc.integer({ min: 0, max: 30 }) }),
    {
      maxLength: 4,
    },
  ),
  scores: fc.array(fc.record({ customer: fc.integer({ min: 0, max: 7 }), pAlive: fc.double({ min: 0, max: 1 }) }), {
    maxLength: 3,
  }),
});
const history = fc.record({
  orders: fc.array(order, { minLength: 3, maxLength: 20 }),
  events: fc.array(
    fc.record({ customer: fc.integer({ min: 0, max: 7 }), daysBefore: fc.integer({ min: 0, max: 40 }) }),
    {
      maxLength: 6,
    },
  ),
  scores: fc.array(
    fc.record({
      customer: fc.integer({ min: 0, max: 7 }),
      daysBefore: fc.integer({ min: 0, max: 60 }),
      pAlive: fc.double({ min: 0, max: 1 }),
    }),
    { maxLength: 4 },
  ),
  later: laterData,
});

/** Rule segments of every kind that reads data by date (label rules read the last refresh instead). */
const RULES = [
  { orders: 'count', withinDays: 30, op: 'gte', value: 1 },
  { orders: 'count', op: 'gte', value: 2 },
  { orders: 'revenue', withinDays: 60, op: 'gte', value: 20 },
  { orders: 'count', currency: 'EUR', op: 'gte', value: 1 },
  { events: 'Product Viewed', withinDays: 14, op: 'gte', value: 1 },
  { score: 'p_alive', op: 'lt', value: 0.5 },
  { not: { orders: 'count', withinDays: 7, op: 'gte', value: 1 } },
  { field: 'first_seen_at', op: 'lte', value: '2024-05-31' },
].map((r) => parseRule(r));

async function figuresAsOf(db: Db, asOf: number) {
  const rfm = await computeRfm(db, { asOf });
  const lifecycle = await computeLifecycle(db, { asOf, scores: await loadLatestScores(db, { asOf }) });
  const rules = [];
  for (const rule of RULES) rules.push(await selectByRule(db, rule, { asOf }));
  return { rfm, lifecycle, rules };
}

for (const dialect of DIALECTS) {
  describe(`figures as of D are unchanged by data added after D, on ${dialect.name}`, { skip: dialect.skip }, () => {
    let t: TestDb;
    before(async () => {
      t = await freshDatabase(dialect.name);
    });
    after(async () => t?.drop());

    test('RFM, lifecycle and rule segments as of D, before and after later orders, refunds, cancellations, events and scores', async () => {
      const db = t.store.db;
      let informative = 0;
      await fc.assert(
        fc.asyncProperty(history, async (h) => {
          for (const table of ['refunds', 'events', 'customer_scores', 'model_fits', 'orders', 'customers']) {
            await sql`delete from ${sql.table(table)}`.execute(db);
          }
          const customers: number[] = [];
          for (let i = 0; i < 8; i++) customers.push(await addCustomer(db, { firstSeenAt: D - 100 * DAY + i * DAY }));
          const orders: Array<{ id: number; status: OrderStatus; total: number; currency: string }> = [];
          for (const o of h.orders) {
            const refunded = o.status === 'refunded' ? o.total : o.status === 'partially_refunded' ? 250 : 0;
            const at = D - o.daysBefore * DAY - o.ms - 1;
            const id = await addOrder(db, customers[o.customer]!, {
              at,
              totalMinor: o.total,
              status: o.status,
              currency: o.currency,
              refundedMinor: refunded,
              cancelledAt: o.status === 'cancelled' ? at + DAY : null,
            });
            // Refunds before D are dated before D (a cancellation whose day reaches D is dated at D − 1).
            if (refunded > 0)
              await addRefund(db, id, { at: Math.min(at + DAY, D - 1), amountMinor: refunded, currency: o.currency });
            if (o.status === 'cancelled') {
              await db
                .updateTable('orders')
                .set({ cancelled_at: Math.min(at + DAY, D - 1) })
                .where('id', '=', id)
                .execute();
            }
            orders.push({ id, status: o.status, total: o.total, currency: o.currency });
          }
          for (const e of h.events) {
            await addEvent(db, {
              customerId: customers[e.customer]!,
              event: 'Product Viewed',
              at: D - e.daysBefore * DAY - 1,
            });
          }
          for (const s of h.scores) await addScore(db, customers[s.customer]!, D - s.daysBefore * DAY, s.pAlive);

          const before = await figuresAsOf(db, D);
          if (before.rfm.customers.length > 1) informative += 1;

          // What happens from D on.
          for (let i = 0; i < 2; i++) customers.push(await addCustomer(db, { firstSeenAt: D + i }));
          for (const o of h.later.orders) {
            await addOrder(db, customers[o.customer]!, { at: D + o.daysAfter * DAY + o.ms });
          }
          const refundable = orders.filter((o) => o.status === 'paid');
          // What each order still has to give back: a refund never exceeds what is left (the store refuses it).
          const left = new Map(refundable.map((o) => [o.id, o.total]));
          for (const r of h.later.refunds) {
            const target = refundable[r.order % Math.max(1, refundable.length)];
            if (!target) break;
            const remaining = left.get(target.id)!;
            if (remaining === 0) continue;
            const amount = r.part ? Math.min(100, remaining) : remaining;
            left.set(target.id, remaining - amount);
            await addRefund(db, target.id, {
              at: D + r.daysAfter * DAY,
              amountMinor: amount,
              currency: target.currency,
            });
            await applyRefund(db, target.id, amount);
            target.status = left.get(target.id) === 0 ? 'refunded' : 'partially_refunded';
          }
          const cancellable = orders.filter((o) => o.status === 'paid' || o.status === 'partially_refunded');
          for (const c of h.later.cancels) {
            const target = cancellable[c.order % Math.max(1, cancellable.length)];
            if (!target) break;
            await db
              .updateTable('orders')
              .set({ status: 'cancelled', cancelled_at: D + c.daysAfter * DAY })
              .where('id', '=', target.id)
              .execute();
          }
          for (const e of h.later.events) {
            await addEvent(db, {
              customerId: customers[e.customer]!,
              event: 'Product Viewed',
              at: D + e.daysAfter * DAY,
            });
          }
          for (const s of h.later.scores) await addScore(db, customers[s.customer]!, D + 1, s.pAlive);

          const afterwards = await figuresAsOf(db, D);
          assert.deepEqual(afterwards.rfm, before.rfm, 'RFM');
          assert.deepEqual(afterwards.lifecycle, before.lifecycle, 'lifecycle');
          assert.deepEqual(afterwards.rules, before.rules, 'rule segments');
        }),
        { numRuns: 12, seed: 13 },
      );
      assert.ok(informative >= 8, `${informative} of 12 histories scored more than one customer`);
    });

    test('loadLatestScores: the latest run per customer, across id ranges, of the customers asked for only', async () => {
      const db = t.store.db;
      const D = A + 400 * DAY;
      const early = await addCustomer(db);
      const gone = await addCustomer(db);
      // A customer whose id lies beyond the first 50,000-id range the whole-store read takes.
      await sql`insert into customers (id, source, created_at, first_seen_at) values (${early + 120_000}, 'test', 0, 0)`.execute(
        db,
      );
      const far = early + 120_000;
      await addScore(db, early, D, 0.2);
      await addScore(db, early, D + DAY, 0.7);
      await addScore(db, far, D + DAY, 0.4);
      await addScore(db, gone, D, 0.9);
      // gone's latest run could not tell who has left: it falls back to the recency rule.
      await sql`update customer_scores set p_alive = null where customer_id = ${gone} and as_of = ${D}`.execute(db);
      const all = await loadLatestScores(db, { asOf: D + DAY });
      assert.deepEqual([all?.get(early)?.pAlive, all?.get(far)?.pAlive, all?.has(gone)], [0.7, 0.4, false]);
      const keys = [...(all?.keys() ?? [])];
      assert.deepEqual(
        keys.filter((id) => [early, far, gone].includes(id)),
        [early, far],
        'in id order',
      );
      assert.deepEqual(
        keys,
        [...keys].sort((a, b) => a - b),
      );
      assert.equal(
        (await loadLatestScores(db, { asOf: D }))?.get(early)?.pAlive,
        0.2,
        'a past as-of reads the run then',
      );
      const one = await loadLatestScores(db, { asOf: D + DAY, customerIds: [far] });
      assert.deepEqual([one?.size, one?.get(far)?.pAlive, one?.get(early)], [1, 0.4, undefined]);
      assert.equal(await loadLatestScores(db, { customerIds: [gone] }), undefined);
    });
  });
}
