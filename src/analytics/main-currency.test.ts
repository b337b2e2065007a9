import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { dropWhenClosed } from '../../test/pg-drop.js';
import { addCustomer, addOrder } from '../../test/segments-fixtures.js';
import { DIALECTS, freshDatabase, type TestDb } from '../../test/setup.js';
import { mainCurrency } from '../segments/index.js';
import type { Db, OrderStatus } from '../store/index.js';
import { storeStats } from '../store/index.js';
import { retentionReport } from './report.queries.js';
import { defaultAsOf, resolveCurrency, saleCurrencies } from './sales.queries.js';
import { customerSummaries } from './summary.queries.js';

const at = (iso: string) => Date.parse(`${iso}T12:00:00Z`);
const endOf = (iso: string) => Date.parse(`${iso}T00:00:00Z`) + 86_400_000;

/**
 * One database holding two shops' exports, as a new user's trial database does: an old USD shop (eight
 * sales in 1998, more than the other) and a current KRW one (five orders in 2025, two of them refunded
 * with the refund given only as the order's refunded total, as Cafe24's export does).
 */
const ORDERS: Array<{
  customer: string;
  date: string;
  total: number;
  currency: string;
  status?: OrderStatus;
  refunded?: number;
}> = [
  { customer: 'U1', date: '1998-01-05', total: 10, currency: 'USD' },
  { customer: 'U1', date: '1998-02-05', total: 12, currency: 'USD' },
  { customer: 'U2', date: '1998-01-20', total: 30, currency: 'USD' },
  { customer: 'U3', date: '1998-03-02', total: 8, currency: 'USD' },
  { customer: 'U3', date: '1998-05-02', total: 9, currency: 'USD' },
  { customer: 'U4', date: '1998-04-11', total: 15, currency: 'USD' },
  { customer: 'U5', date: '1998-06-01', total: 20, currency: 'USD' },
  { customer: 'U6', date: '1998-06-30', total: 25, currency: 'USD' },
  { customer: 'K1', date: '2025-04-03', total: 30_000, currency: 'KRW' },
  { customer: 'K1', date: '2025-05-20', total: 12_000, currency: 'KRW' },
  { customer: 'K2', date: '2025-05-07', total: 45_000, currency: 'KRW', status: 'refunded', refunded: 45_000 },
  { customer: 'K3', date: '2025-06-01', total: 20_000, currency: 'KRW', status: 'partially_refunded', refunded: 5_000 },
  { customer: 'K3', date: '2025-06-26', total: 18_000, currency: 'KRW' },
];

/** KRW has no minor unit; USD amounts are whole dollars stored as cents. */
const minor = (total: number, currency: string) => (currency === 'KRW' ? total : total * 100);

async function load(db: Db): Promise<void> {
  const ids = new Map<string, number>();
  for (const o of ORDERS) {
    let customerId = ids.get(o.customer);
    if (customerId === undefined) {
      customerId = await addCustomer(db, { email: `${o.customer}@x.test`, firstSeenAt: at(o.date) });
      ids.set(o.customer, customerId);
    }
    await addOrder(db, customerId, {
      at: at(o.date),
      currency: o.currency,
      totalMinor: minor(o.total, o.currency),
      refundedMinor: minor(o.refunded ?? 0, o.currency),
      status: o.status,
    });
  }
}

for (const dialect of DIALECTS) {
  describe(`an old shop's sales beside a current one's on ${dialect.name}`, { skip: dialect.skip }, () => {
    let t: TestDb;
    before(async () => {
      t = await freshDatabase(dialect.name);
      await load(t.store.db);
    });
    after(() => dropWhenClosed(t));

    test("the default as-of is the store's latest data; the main currency is the one sold in the year before it", async () => {
      const db = t.store.db;
      const asOf = await defaultAsOf(db);
      assert.equal(asOf, endOf('2025-06-26'));
      assert.equal(await defaultAsOf(db, 'usd'), endOf('1998-06-30'));
      assert.deepEqual(await saleCurrencies(db, asOf), [
        { currency: 'KRW', orders: 4, recentOrders: 4 },
        { currency: 'USD', orders: 8, recentOrders: 0 },
      ]);
      assert.equal(await resolveCurrency(db, undefined, asOf), 'KRW', 'more USD sales in all, none in the last year');
      assert.equal(await mainCurrency(db, asOf!), 'KRW', "segments choose by the analytics' rule");
      assert.equal(await resolveCurrency(db, undefined, endOf('1998-06-30')), 'USD');
      assert.equal((await customerSummaries(db, { asOf: asOf! })).currency, 'KRW', 'predict models the current shop');
    });

    test('the report leaves out a currency nobody was active in and says how to report it', async () => {
      const r = await retentionReport(t.store.db, { asOf: endOf('2025-06-26') });
      assert.equal(r.currency, 'KRW');
      assert.deepEqual(
        r.byCurrency.map((c) => c.currency),
        ['KRW'],
      );
      assert.deepEqual(r.leftOutCurrencies, [{ currency: 'USD', lastSaleDay: '1998-06-30' }]);
      assert.ok(
        r.notes.some((n) => n.includes('USD: nobody active') && n.includes('--currency USD --as-of 1998-06-30')),
        r.notes.join('\n'),
      );
      assert.equal(r.orders, 1, "May 2025: K1's second order; K2's refunded one is not a sale");
    });

    test("as of the old shop's last day, nothing after it is read, not even the later currency's name", async () => {
      const r = await retentionReport(t.store.db, { asOf: endOf('1998-06-30') });
      assert.equal(r.currency, 'USD');
      assert.deepEqual(
        r.byCurrency.map((c) => c.currency),
        ['USD'],
      );
      assert.ok(!r.notes.some((n) => n.includes('KRW')), r.notes.join('\n'));
      assert.deepEqual(r.leftOutCurrencies, []);
      assert.equal(r.orders, 2, 'June 1998: U5 and U6');
    });

    test('stats count the refunds stored only on the orders', async () => {
      const { revenue, refunds } = await storeStats(t.store.db);
      assert.equal(refunds, 0, 'no refund records');
      assert.deepEqual(
        revenue.map((r) => [r.currency, r.orders, r.revenueMinor, r.refundedOrders, r.refundedMinor]),
        [
          ['KRW', 4, 30_000 + 12_000 + 15_000 + 18_000, 2, 45_000 + 5_000],
          ['USD', 8, 12_900, 0, 0],
        ],
      );
    });
  });
}
