import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { dropWhenClosed } from '../../test/pg-drop.js';
import { addCustomer, addOrder } from '../../test/segments-fixtures.js';
import { DIALECTS, freshDatabase, type TestDb } from '../../test/setup.js';
import type { Db, OrderStatus } from '../store/index.js';
import { newVsReturning, timeToSecondOrder } from './acquisition.queries.js';
import { cohortTable } from './cohorts.queries.js';
import { retentionReport } from './report.queries.js';
import { customerSummaries } from './summary.queries.js';

const at = (iso: string) => Date.parse(`${iso}T12:00:00Z`);
const AS_OF = Date.UTC(2025, 0, 15);
const PERIOD = { from: Date.UTC(2024, 0, 1), to: Date.UTC(2025, 0, 1) };

interface TestOrder {
  customer: string | null;
  date: string;
  total: number;
  currency?: string;
  status?: OrderStatus;
  refunded?: number;
  codes?: string[];
  country?: string;
}

/**
 * A small store worked out by hand (amounts in whole euros, stored as cents). Period 2024, previous
 * 2023, active window 365 days:
 * A buys 2023-03 and 2024-02 (and 2025-01-20, after asOf); B only 2023-06 (lost); C is new in 2024-05
 * (two orders that day) and buys again 2024-08; D has only a refunded and a cancelled order (no
 * customer); E buys 2023-11 (100, 40 refunded) and 2024-11; F buys 2022-06 and comes back 2024-12;
 * a guest buys 2024-06; G buys once in USD.
 */
const ORDERS: TestOrder[] = [
  { customer: 'A', date: '2023-03-01', total: 100 },
  { customer: 'A', date: '2024-02-01', total: 50 },
  { customer: 'A', date: '2025-01-20', total: 500 },
  { customer: 'B', date: '2023-06-01', total: 200 },
  { customer: 'C', date: '2024-05-01', total: 80, codes: ['WELCOME'], country: 'FR' },
  { customer: 'C', date: '2024-05-01', total: 20 },
  { customer: 'C', date: '2024-08-01', total: 40 },
  { customer: 'D', date: '2024-03-01', total: 60, status: 'refunded', refunded: 60 },
  { customer: 'D', date: '2024-04-01', total: 30, status: 'cancelled' },
  { customer: 'E', date: '2023-11-01', total: 100, status: 'partially_refunded', refunded: 40, country: 'DE' },
  { customer: 'E', date: '2024-11-01', total: 10 },
  { customer: 'F', date: '2022-06-01', total: 70, country: 'FR' },
  { customer: 'F', date: '2024-12-15', total: 90 },
  { customer: null, date: '2024-06-01', total: 25 },
  { customer: 'G', date: '2024-02-01', total: 999, currency: 'USD' },
];

async function load(db: Db): Promise<Map<string, number>> {
  const ids = new Map<string, number>();
  for (const o of ORDERS) {
    let customerId: number | null = null;
    if (o.customer !== null) {
      customerId = ids.get(o.customer) ?? null;
      if (customerId === null) {
        customerId = await addCustomer(db, { email: `${o.customer}@x.test`, firstSeenAt: at(o.date) });
        ids.set(o.customer, customerId);
      }
    }
    await addOrder(db, customerId, {
      at: at(o.date),
      currency: o.currency ?? 'EUR',
      totalMinor: o.total * 100,
      refundedMinor: (o.refunded ?? 0) * 100,
      status: o.status ?? 'paid',
      codes: o.codes,
      country: o.country ?? null,
    });
  }
  return ids;
}

const close = (a: number | null, b: number, digits = 9) => {
  assert.notEqual(a, null);
  assert.equal(Number(a!.toFixed(digits)), Number(b.toFixed(digits)));
};

for (const dialect of DIALECTS) {
  describe(`retention figures of a hand-checked store on ${dialect.name}`, { skip: dialect.skip }, () => {
    let t: TestDb;
    let ids: Map<string, number>;
    before(async () => {
      t = await freshDatabase(dialect.name);
      ids = await load(t.store.db);
    });
    after(() => dropWhenClosed(t));

    test('S, E, N, lost, CRR, churn and the order figures of 2024', async () => {
      const r = await retentionReport(t.store.db, { ...PERIOD, asOf: AS_OF, activeWindowDays: 365 });
      assert.equal(r.currency, 'EUR', 'the main currency (most sales) is at the top level');
      assert.deepEqual(
        r.byCurrency.map((c) => c.currency),
        ['EUR', 'USD'],
      );
      assert.equal(r.customersStart, 3, 'A, B, E bought in 2023');
      assert.equal(r.customersEnd, 4, 'A, C, E, F bought in 2024');
      assert.equal(r.newCustomers, 1, 'C');
      assert.equal(r.customersLost, 1, 'B');
      assert.equal(r.retainedCustomers, 2, 'A and E: active at both ends');
      assert.equal(r.reactivatedCustomers, 1, 'F: silent through 2023, back in December 2024');
      close(r.crr, 2 / 3, 9);
      close(r.churnRate, 1 / 3);
      assert.equal(r.partial, false);
      assert.deepEqual(r.unsupported, []);
      assert.equal(r.repeatPurchaseRate, 0.8, 'A, C, E, F of A, B, C, E, F');
      assert.equal(r.buyers, 4);
      assert.equal(r.returningCustomers, 3);
      assert.equal(r.returningCustomerRate, 0.75);
      assert.equal(r.orders, 6, 'refunded and cancelled orders, the guest and USD are not counted');
      assert.equal(r.revenue, 290);
      close(r.aov, 290 / 6);
      assert.equal(r.purchaseFrequency, 1.5);
      close(r.customerValue, 72.5);
      close(r.averageLifespanDays, 3 * 366);
      close(r.clv, 217.5);
      // B brought 200 of the 360 of 2023 (E counts at its net 60).
      close(r.revenueChurn, 200 / 360);
      close(r.netRevenueRetention, 60 / 360);
      assert.equal(r.guestOrders, 1);
      assert.equal(r.guestRevenue, 25);
    });

    test('the previous period (2023) beside it and the change', async () => {
      const r = await retentionReport(t.store.db, { ...PERIOD, asOf: AS_OF, activeWindowDays: 365 });
      const p = r.previous;
      assert.deepEqual([p.from, p.to], [Date.UTC(2023, 0, 1), Date.UTC(2024, 0, 1)]);
      assert.equal(p.customersStart, 1, 'F');
      assert.equal(p.customersEnd, 3);
      assert.equal(p.newCustomers, 3);
      // The sales start on 2022-06-01: a 365-day window before 2023-01-01 needs them from 2022-01-01.
      assert.equal(p.customersLost, null);
      assert.equal(p.retainedCustomers, null);
      assert.equal(p.crr, null);
      assert.equal(p.churnRate, null);
      assert.equal(p.clv, null);
      assert.deepEqual(
        p.unsupported.map((u) => u.code),
        ['history_shorter_than_window'],
      );
      assert.match(p.unsupported[0]!.message, /the sales start on 2022-06-01.*from 2022-01-01/);
      assert.equal(p.repeatPurchaseRate, 0);
      assert.equal(p.revenue, 360);
      assert.equal(p.revenueChurn, 1, "F's 70 of 2022 did not come back in 2023");
      assert.equal(p.netRevenueRetention, 0);
      assert.equal(r.change.crr, null);
      assert.equal(r.change.customersStart, 2);
      assert.equal(r.change.revenue, -70);
    });

    test('currencies are never added: USD has its own figures; --currency picks one', async () => {
      const r = await retentionReport(t.store.db, { ...PERIOD, asOf: AS_OF, currency: 'usd' });
      assert.equal(r.currency, 'USD');
      assert.equal(r.byCurrency.length, 1);
      assert.equal(r.revenue, 999);
      // USD's sales start on 2024-02-01, inside the period: who was already a USD customer cannot be seen.
      assert.equal(r.newCustomers, null);
      assert.deepEqual(
        r.unsupported.map((u) => u.code),
        ['history_shorter_than_window', 'period_before_history'],
      );
      assert.equal(r.buyers, 1);
      await assert.rejects(retentionReport(t.store.db, { ...PERIOD, asOf: AS_OF, currency: 'JPY' }), /currency JPY/);
    });

    test('a shorter active window changes who counts as a customer', async () => {
      const r = await retentionReport(t.store.db, { ...PERIOD, asOf: AS_OF, activeWindowDays: 90 });
      // Active on 2024-01-01 with 90 days: only E (2023-11-01). On 2025-01-01: E (2024-11-01) and F (2024-12-15).
      assert.equal(r.customersStart, 1);
      assert.equal(r.customersEnd, 2);
      assert.equal(r.customersLost, 0);
      assert.equal(r.newCustomers, 1, 'C, no longer active on 2025-01-01');
      // E = {E, F}: E was retained, F came back (reactivated), C is new but already lapsed.
      assert.equal(r.retainedCustomers, 1);
      assert.equal(r.reactivatedCustomers, 1);
      assert.equal(r.crr, 1);
    });

    test('the history must reach a whole window before the period: exactly on the day, not a day later', async () => {
      // The first sale is on 2022-06-01; 2022-06-01 + 214 days = 2023-01-01, the previous period's start.
      const covered = await retentionReport(t.store.db, { ...PERIOD, asOf: AS_OF, activeWindowDays: 214 });
      assert.deepEqual(covered.previous.unsupported, []);
      assert.equal(covered.previous.customersLost, 1, 'F, active on 2023-01-01 (214 days), lost by 2024');
      assert.equal(covered.previous.crr, 0);
      const short = await retentionReport(t.store.db, { ...PERIOD, asOf: AS_OF, activeWindowDays: 215 });
      assert.equal(short.previous.crr, null);
      assert.equal(short.previous.unsupported[0]?.code, 'history_shorter_than_window');
      assert.notEqual(short.crr, null, 'the current period is covered');
    });

    test('a period that ends after the data is marked partial', async () => {
      const r = await retentionReport(t.store.db, {
        from: Date.UTC(2025, 0, 1),
        to: Date.UTC(2025, 1, 1),
        asOf: AS_OF,
        activeWindowDays: 365,
      });
      assert.equal(r.partial, true);
      assert.equal(r.previous.partial, false);
      assert.match(r.notes.join('\n'), /partial period/);
    });

    test('cohorts by month: share who bought, revenue and cumulative revenue per customer', async () => {
      const customers = await cohortTable(t.store.db, { asOf: AS_OF, metric: 'customers' });
      assert.deepEqual(customers.partial, {
        cohort: '2025-01',
        start: '2025-01-01',
        lastDay: '2025-01-14',
        days: 14,
        ofDays: 31,
      });
      const whole = await cohortTable(t.store.db, { asOf: Date.UTC(2025, 1, 1), metric: 'customers' });
      assert.equal(whole.partial, null, 'as of the end of 2025-01-31: January is whole');
      const oneDay = await cohortTable(t.store.db, { asOf: Date.UTC(2025, 1, 1) + 1, metric: 'customers' });
      assert.equal(oneDay.partial?.cohort, '2025-02');
      assert.equal(oneDay.partial?.days, 1);
      const weeks = await cohortTable(t.store.db, { asOf: AS_OF, period: 'week' });
      assert.deepEqual(weeks.partial, {
        cohort: '2025-W03',
        start: '2025-01-13',
        lastDay: '2025-01-14',
        days: 2,
        ofDays: 7,
      });
      assert.deepEqual(
        customers.cohorts.map((c) => [c.cohort, c.size, c.values.length]),
        [
          ['2022-06', 1, 32],
          ['2023-03', 1, 23],
          ['2023-06', 1, 20],
          ['2023-11', 1, 15],
          ['2024-05', 1, 9],
        ],
      );
      const c = customers.cohorts[4]!;
      assert.deepEqual(c.values, [1, 0, 0, 1, 0, 0, 0, 0, 0]);
      const revenue = await cohortTable(t.store.db, { asOf: AS_OF, metric: 'revenue' });
      assert.deepEqual(revenue.cohorts[4]!.values, [100, 0, 0, 40, 0, 0, 0, 0, 0]);
      assert.equal(revenue.cohorts[3]!.values[0], 60, 'E at its net amount');
      assert.equal(revenue.cohorts[3]!.values[12], 10);
      const ltv = await cohortTable(t.store.db, { asOf: AS_OF, metric: 'ltv' });
      assert.deepEqual(ltv.cohorts[4]!.values, [100, 100, 100, 140, 140, 140, 140, 140, 140]);
    });

    test('cohorts by ISO week and with breakdowns', async () => {
      const weeks = await cohortTable(t.store.db, { asOf: AS_OF, period: 'week', metric: 'revenue' });
      const c = weeks.cohorts.find((row) => row.cohort === '2024-W18')!;
      assert.equal(c.start, '2024-04-29', 'Wednesday 2024-05-01 is in the week starting Monday 2024-04-29');
      assert.equal(c.values[0], 100);
      assert.equal(c.values[13], 40, '2024-08-01 is 13 weeks later');
      const discount = await cohortTable(t.store.db, { asOf: AS_OF, breakdown: 'discount' });
      assert.deepEqual(
        discount.cohorts.map((row) => [row.cohort, row.group]),
        [
          ['2022-06', 'no discount'],
          ['2023-03', 'no discount'],
          ['2023-06', 'no discount'],
          ['2023-11', 'no discount'],
          ['2024-05', 'discount'],
        ],
      );
      const country = await cohortTable(t.store.db, { asOf: AS_OF, breakdown: 'country' });
      assert.deepEqual(
        country.cohorts.map((row) => row.group),
        ['FR', 'unknown', 'unknown', 'DE', 'FR'],
      );
      const value = await cohortTable(t.store.db, { asOf: AS_OF, breakdown: 'value' });
      assert.equal(value.bands?.length, 4);
      assert.equal(value.cohorts.find((row) => row.cohort === '2023-06')!.group, 'Q4', 'B: the largest first order');
    });

    test('time to second purchase day and new vs returning per month', async () => {
      const t2 = await timeToSecondOrder(t.store.db, { asOf: AS_OF });
      // Gaps: C 92 days, A 337, E 366, F 928; B never came back; A's 2025-01-20 order is after asOf.
      // C (acquired 2024-05-01) is too recent to count for the 365-day horizon.
      assert.equal(t2.customers, 5);
      assert.equal(t2.withSecondOrder, 4);
      assert.equal(t2.median, (337 + 366) / 2);
      assert.equal(t2.within[0]!.days, 30);
      assert.deepEqual(
        t2.within.map((h) => [h.days, h.eligible, h.returned]),
        [
          [30, 5, 0],
          [60, 5, 0],
          [90, 5, 0],
          [180, 5, 1],
          [365, 4, 1],
        ],
      );
      const acquired2024 = await timeToSecondOrder(t.store.db, { asOf: AS_OF, ...PERIOD });
      assert.equal(acquired2024.customers, 1);
      const months = await newVsReturning(t.store.db, { asOf: AS_OF, ...PERIOD });
      assert.deepEqual(
        months.months.find((m) => m.month === '2024-05'),
        {
          month: '2024-05',
          newCustomers: 1,
          returningCustomers: 0,
          newOrders: 2,
          returningOrders: 0,
          newRevenue: 100,
          returningRevenue: 0,
          partial: false,
          dataStarts: false,
        },
      );
      const all = await newVsReturning(t.store.db, { asOf: AS_OF });
      // Only the month of the store's first sale is marked: every buyer in it counts as new.
      assert.deepEqual(
        all.months.filter((m) => m.dataStarts).map((m) => m.month),
        [all.months[0]!.month],
      );
      assert.deepEqual(
        all.months.filter((m) => m.partial).map((m) => m.month),
        [],
        'A buys on 2025-01-20, after asOf: January 2025 has no sale before asOf',
      );
      const january = await newVsReturning(t.store.db, { asOf: Date.UTC(2025, 0, 21) });
      assert.deepEqual(
        january.months.filter((m) => m.partial).map((m) => m.month),
        ['2025-01'],
        'as of 2025-01-20 (end of day) January is partial',
      );
      const whole = await newVsReturning(t.store.db, { asOf: Date.UTC(2025, 1, 1) });
      assert.deepEqual(
        whole.months.filter((m) => m.partial),
        [],
        'as of the end of 2025-01-31 it is whole',
      );
      assert.deepEqual(
        months.months.map((m) => m.month),
        ['2024-02', '2024-05', '2024-08', '2024-11', '2024-12'],
      );
    });

    test('the per-customer summary counts a day with two orders as one purchase', async () => {
      const s = await customerSummaries(t.store.db, { asOf: AS_OF, unit: 'day' });
      const i = s.customerIds.indexOf(ids.get('C')!);
      assert.equal(s.x[i], 1);
      assert.equal(s.orders[i], 3);
      assert.equal(s.tx[i], 92);
      assert.equal(s.monetary[i], 40);
      assert.equal(s.totalSpent[i], 140);
      assert.equal(s.customerIds.indexOf(ids.get('D')!), -1, 'no sales, no summary');
      const e = s.customerIds.indexOf(ids.get('E')!);
      assert.equal(s.totalSpent[e], 70, 'net of the refund');
    });
  });
}
