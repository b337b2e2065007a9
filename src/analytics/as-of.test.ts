import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { addCustomer, addEvent, addOrder, addRefund, DAY, HOUR } from '../../test/segments-fixtures.js';
import { DIALECTS, freshDatabase, type TestDb } from '../../test/setup.js';
import { applyRefund } from '../ingest/index.js';
import { customerProfile } from '../segments/index.js';
import type { Db } from '../store/index.js';
import { cohortTable } from './cohorts.queries.js';
import { retentionReport } from './report.queries.js';

/** `--as-of D`: the end of day D, the instant after it. */
const endOf = (day: string) => Date.parse(`${day}T00:00:00Z`) + DAY;
const at = (iso: string) => Date.parse(iso);
// January: the store's first sale is C's on the 5th, so nobody's earlier purchases can be seen and the
// report shows no new customers (null, `period_before_history`); its sales and revenue count.
const JANUARY = { from: Date.UTC(2024, 0, 1), to: Date.UTC(2024, 1, 1) };

/**
 * Three customers acquired in January 2024 (GBP), whose orders are refunded or cancelled later:
 * - A: £40 on 10 January, refunded in full on 15 February;
 * - B: £30 on 20 January, cancelled on 20 February (nothing refunded); £20 on 5 February;
 * - C: £50 on 5 January, £10 refunded on 25 January and £15 at 00:00 UTC on 10 February.
 */
async function seed(db: Db): Promise<void> {
  const a = await addCustomer(db, { email: 'a@example.com' });
  const b = await addCustomer(db, { email: 'b@example.com' });
  const c = await addCustomer(db, { email: 'c@example.com' });
  const a1 = await addOrder(db, a, { at: at('2024-01-10T12:00:00Z'), totalMinor: 4000 });
  await addRefund(db, a1, { at: at('2024-02-15T09:00:00Z'), amountMinor: 4000 });
  await applyRefund(db, a1, 4000);
  await addOrder(db, b, {
    at: at('2024-01-20T12:00:00Z'),
    totalMinor: 3000,
    status: 'cancelled',
    cancelledAt: at('2024-02-20T08:00:00Z'),
  });
  await addOrder(db, b, { at: at('2024-02-05T12:00:00Z'), totalMinor: 2000 });
  const c1 = await addOrder(db, c, { at: at('2024-01-05T12:00:00Z'), totalMinor: 5000 });
  await addRefund(db, c1, { at: at('2024-01-25T12:00:00Z'), amountMinor: 1000 });
  await applyRefund(db, c1, 1000);
  await addRefund(db, c1, { at: at('2024-02-10T00:00:00Z'), amountMinor: 1500 });
  await applyRefund(db, c1, 1500);
}

for (const dialect of DIALECTS) {
  describe(`cohorts and the report as of a past date ignore later refunds and cancellations, on ${dialect.name}`, {
    skip: dialect.skip,
  }, () => {
    let t: TestDb;
    before(async () => {
      t = await freshDatabase(dialect.name);
      await seed(t.store.db);
    });
    after(async () => t?.drop());

    test('as of 31 January all three January sales count: £40 + £30 + £40 net', async () => {
      const db = t.store.db;
      const cohorts = await cohortTable(db, { asOf: endOf('2024-01-31'), metric: 'revenue' });
      assert.deepEqual(
        cohorts.cohorts.map((c) => [c.cohort, c.size, c.values]),
        [['2024-01', 3, [110 / 3]]],
      );
      const report = await retentionReport(db, { asOf: endOf('2024-01-31'), ...JANUARY, activeWindowDays: 365 });
      assert.equal(report.orders, 3);
      assert.equal(report.revenue, 110);
      assert.equal(report.buyers, 3);
      assert.equal(report.newCustomers, null);
    });

    test('a refund at 00:00 on 10 February counts as of 10 February, not as of 9 February', async () => {
      const db = t.store.db;
      // As of the 9th: A and B's January orders are still sales, C has £10 of £50 back: 40 + 30 + 40.
      const ninth = await cohortTable(db, { asOf: endOf('2024-02-09'), metric: 'revenue' });
      assert.deepEqual(
        ninth.cohorts.map((c) => [c.cohort, c.size, c.values]),
        [['2024-01', 3, [110 / 3, 20 / 3]]],
      );
      // As of the 10th: C has £25 of £50 back: 40 + 30 + 25 in January; B's £20 in February.
      const tenth = await cohortTable(db, { asOf: endOf('2024-02-10'), metric: 'revenue' });
      assert.deepEqual(
        tenth.cohorts.map((c) => [c.cohort, c.size, c.values]),
        [['2024-01', 3, [95 / 3, 20 / 3]]],
      );
      const report = await retentionReport(db, { asOf: endOf('2024-02-10'), ...JANUARY, activeWindowDays: 365 });
      assert.equal(report.orders, 3);
      assert.equal(report.revenue, 95);
      // C's profile: £50 less £10 by the 9th, less £25 by the 10th.
      const c = Number(
        (await db.selectFrom('customers').select('id').where('email', '=', 'c@example.com').executeTakeFirstOrThrow())
          .id,
      );
      const revenueOf = async (day: string) =>
        (await customerProfile(db, c, { asOf: endOf(day) }))?.revenue.map((r) => [
          r.currency,
          r.orders,
          r.revenueMinor,
        ]);
      assert.deepEqual(await revenueOf('2024-02-09'), [['GBP', 1, 4000]]);
      assert.deepEqual(await revenueOf('2024-02-10'), [['GBP', 1, 2500]]);
      assert.deepEqual(await revenueOf('2024-01-04'), []);
    });

    test('as of 29 February only C is left of January (£25) and B starts in February', async () => {
      const db = t.store.db;
      const cohorts = await cohortTable(db, { asOf: endOf('2024-02-29'), metric: 'revenue' });
      assert.deepEqual(
        cohorts.cohorts.map((c) => [c.cohort, c.size, c.values]),
        [
          ['2024-01', 1, [25, 0]],
          ['2024-02', 1, [20]],
        ],
      );
      const report = await retentionReport(db, { asOf: endOf('2024-02-29'), ...JANUARY, activeWindowDays: 365 });
      assert.equal(report.orders, 1);
      assert.equal(report.revenue, 25);
      assert.equal(report.newCustomers, null);
    });
  });

  describe(`a Seoul store's report months are its local months, on ${dialect.name}`, { skip: dialect.skip }, () => {
    let t: TestDb;
    before(async () => {
      t = await freshDatabase(dialect.name);
    });
    after(async () => t?.drop());

    test('2024-03-01 08:00+09:00 is a March order; 2024-02-29 23:30+09:00 a February one', async () => {
      const db = t.store.db;
      const a = await addCustomer(db, { email: 'a@example.kr' });
      const b = await addCustomer(db, { email: 'b@example.kr' });
      await addOrder(db, a, { at: at('2024-03-01T08:00:00+09:00'), totalMinor: 30_000, currency: 'KRW' });
      await addOrder(db, b, { at: at('2024-02-29T23:30:00+09:00'), totalMinor: 20_000, currency: 'KRW' });
      // As of the end of 31 March in Seoul (15:00Z): the last full local month is March.
      const asOf = at('2024-03-31T15:00:00Z');
      const seoul = await retentionReport(db, { asOf, activeWindowDays: 365, timeZone: 'Asia/Seoul' });
      assert.deepEqual([seoul.from, seoul.to], [at('2024-02-29T15:00:00Z'), asOf]);
      assert.deepEqual([seoul.orders, seoul.revenue, seoul.newCustomers], [1, 30_000, 1]);
      assert.deepEqual([seoul.previous.orders, seoul.previous.revenue], [1, 20_000]);
      // The same data read in UTC months puts both orders in February.
      const utc = await retentionReport(db, { asOf, activeWindowDays: 365 });
      assert.deepEqual([utc.from, utc.to], [at('2024-02-01T00:00:00Z'), at('2024-03-01T00:00:00Z')]);
      assert.equal(utc.orders, 2);
      await assert.rejects(retentionReport(db, { asOf, timeZone: 'Mars/Olympus' }), /timeZone/);
    });
  });

  describe(`any figure as of D is unchanged by data added after D, on ${dialect.name}`, {
    skip: dialect.skip,
  }, () => {
    let t: TestDb;
    before(async () => {
      t = await freshDatabase(dialect.name);
    });
    after(async () => t?.drop());

    const D = endOf('2024-03-31');
    const START = Date.UTC(2023, 6, 1);
    const order = fc.record({
      customer: fc.integer({ min: 0, max: 5 }),
      offset: fc.integer({ min: 0, max: Math.floor((D - START) / HOUR) - 1 }),
      totalMinor: fc.integer({ min: 1, max: 20_000 }),
      currency: fc.constantFrom('GBP', 'GBP', 'EUR'),
      refundShare: fc.constantFrom(0, 0.25, 1),
    });
    const later = fc.record({
      kind: fc.constantFrom('order', 'refund', 'cancel', 'event'),
      customer: fc.integer({ min: 0, max: 6 }),
      hours: fc.integer({ min: 0, max: 24 * 200 }),
      totalMinor: fc.integer({ min: 1, max: 20_000 }),
      currency: fc.constantFrom('GBP', 'EUR', 'USD'),
      share: fc.constantFrom(0.5, 1),
      pick: fc.nat(),
    });

    test('cohorts and the report, over random histories and random later orders, refunds, cancellations and events', async () => {
      const db = t.store.db;
      let runs = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.array(order, { minLength: 1, maxLength: 12 }),
          fc.array(later, { minLength: 1, maxLength: 8 }),
          async (past, future) => {
            runs += 1;
            for (const table of ['events', 'refunds', 'orders', 'customers'] as const) {
              await db.deleteFrom(table).execute();
            }
            const customers: number[] = [];
            for (let i = 0; i < 7; i++) customers.push(await addCustomer(db, { email: `p${i}@example.com` }));
            const orders: { id: number; total: number; refunded: number }[] = [];
            for (const o of past) {
              const placed = START + o.offset * HOUR;
              const id = await addOrder(db, customers[o.customer]!, {
                at: placed,
                totalMinor: o.totalMinor,
                currency: o.currency,
              });
              const refund = Math.floor(o.totalMinor * o.refundShare);
              if (refund > 0) {
                // Refunded between the sale and D (at most D − 1 ms).
                await addRefund(db, id, {
                  at: Math.min(placed + DAY, D - 1),
                  amountMinor: refund,
                  currency: o.currency,
                });
                await applyRefund(db, id, refund);
              }
              orders.push({ id, total: o.totalMinor, refunded: refund });
            }
            await addEvent(db, { customerId: customers[0]!, at: D - DAY, type: 'page' });
            // A refusal (no sales in the currency as of D) must stay the same refusal too.
            const settle = (p: Promise<unknown>) => p.catch((e: Error) => `refused: ${e.message}`);
            const figures = async () => ({
              cohorts: await settle(cohortTable(db, { asOf: D, metric: 'revenue' })),
              weeks: await settle(cohortTable(db, { asOf: D, period: 'week', metric: 'customers' })),
              report: await settle(retentionReport(db, { asOf: D })),
              fixed: await settle(retentionReport(db, { asOf: D, activeWindowDays: 90, currency: past[0]!.currency })),
            });
            const before = await figures();

            for (const f of future) {
              const when = D + f.hours * HOUR;
              const target = orders[f.pick % orders.length]!;
              if (f.kind === 'order') {
                await addOrder(db, customers[f.customer]!, {
                  at: when,
                  totalMinor: f.totalMinor,
                  currency: f.currency,
                });
              } else if (f.kind === 'refund' && target.refunded < target.total) {
                const amount = Math.max(1, Math.floor((target.total - target.refunded) * f.share));
                await addRefund(db, target.id, { at: when, amountMinor: amount });
                await applyRefund(db, target.id, amount);
                target.refunded += amount;
              } else if (f.kind === 'cancel') {
                await db
                  .updateTable('orders')
                  .set({ status: 'cancelled', cancelled_at: when })
                  .where('id', '=', target.id)
                  .execute();
              } else {
                await addEvent(db, { customerId: customers[f.customer]!, at: when, type: 'page' });
              }
            }
            assert.deepEqual(await figures(), before);
          },
        ),
        { numRuns: dialect.name === 'sqlite' ? 20 : 5, seed: 13 },
      );
      assert.ok(runs >= 5, `only ${runs} runs`);
    });
  });
}
