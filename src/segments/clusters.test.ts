import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { addCustomer, addOrder, DAY } from '../../test/segments-fixtures.js';
import { DIALECTS, freshDatabase, type TestDb } from '../../test/setup.js';
import type { Db } from '../store/index.js';
import { type ClusterResult, canonicalKMeans, computeClusters } from './clusters.js';
import { salesAggregates } from './customers.queries.js';

const AS_OF = Date.UTC(2024, 5, 1);

/** An order with one product line of `category`, the whole order's total. */
async function orderOf(
  db: Db,
  customerId: number,
  {
    daysAgo,
    totalMinor,
    category,
    discountMinor = 0,
  }: {
    daysAgo: number;
    totalMinor: number;
    category: string;
    discountMinor?: number;
  },
): Promise<void> {
  const orderId = await addOrder(db, customerId, { at: AS_OF - daysAgo * DAY, totalMinor, discountMinor });
  const existing = await db.selectFrom('products').select('id').where('sku', '=', category).executeTakeFirst();
  const productId =
    existing?.id ??
    (
      await db
        .insertInto('products')
        .values({ sku: category, title: category, category })
        .returning('id')
        .executeTakeFirstOrThrow()
    ).id;
  await db
    .insertInto('order_lines')
    .values({
      order_id: orderId,
      line_no: 1,
      product_id: Number(productId),
      sku: category,
      title: category,
      quantity: 1,
      unit_price_minor: totalMinor,
      discount_minor: 0,
      total_minor: totalMinor,
      kind: 'product',
    })
    .execute();
}

test('k-means over the same customers read in any order labels each customer the same', () => {
  // The corners of a square, which k = 2 may split either way depending on the seeds k-means++ draws by
  // position: read in the canonical order (by features, then id), every one of the 24 orders of the
  // four customers gets the same split with the same cluster numbers.
  const corners: Array<[id: number, x: number, y: number]> = [
    [11, 0, 0],
    [12, 0, 1],
    [13, 1, 0],
    [14, 1, 1],
  ];
  const labelsOf = (rows: Array<[number, number, number]>) => {
    const result = canonicalKMeans(
      Float64Array.from(rows.flatMap(([, x, y]) => [x, y])),
      2,
      rows.map(([id]) => id),
      { k: 2, seed: 1 },
    );
    return new Map(rows.map(([id], i) => [id, result.labels[i]]));
  };
  const permutations = <T>(items: T[]): T[][] =>
    items.length <= 1
      ? [items]
      : items.flatMap((x, i) => permutations(items.filter((_, j) => j !== i)).map((p) => [x, ...p]));
  const expected = labelsOf(corners);
  assert.equal(new Set(expected.values()).size, 2, 'two clusters');
  const orders = permutations(corners);
  assert.equal(orders.length, 24);
  for (const order of orders) assert.deepEqual(labelsOf(order), expected, order.map(([id]) => id).join(' '));
});

for (const dialect of DIALECTS) {
  describe(`persona clusters of a hand-made store (${dialect.name})`, { skip: dialect.skip }, () => {
    let t: TestDb;
    let result: ClusterResult;
    const ids: Record<'a' | 'b' | 'c', number[]> = { a: [], b: [], c: [] };
    before(async () => {
      t = await freshDatabase(dialect.name);
      const db = t.store.db;
      // Three groups of two identical customers, so that k = 3 clusters them into the three groups
      // whatever the seed (k-means++ never draws a point at distance 0 from a centre already drawn).
      // a: four orders of 5,000 in four categories, the last 10 days ago, in GB, birthdays known;
      // b: two orders of 3,000 of books, the last 100 days ago, no country;
      // c: one order of 1,000 of books with a discount, 400 days ago, in DE.
      for (const birthday of ['1990-06-01', '1980-06-02']) {
        const id = await addCustomer(db, { country: 'GB', birthday });
        ids.a.push(id);
        for (const [i, category] of ['shoes', 'bags', 'hats', 'belts'].entries())
          await orderOf(db, id, { daysAgo: 10 + 30 * i, totalMinor: 5000, category });
      }
      for (let n = 0; n < 2; n++) {
        const id = await addCustomer(db);
        ids.b.push(id);
        for (const daysAgo of [100, 150]) await orderOf(db, id, { daysAgo, totalMinor: 3000, category: 'books' });
      }
      for (let n = 0; n < 2; n++) {
        const id = await addCustomer(db, { country: 'DE' });
        ids.c.push(id);
        await orderOf(db, id, { daysAgo: 400, totalMinor: 1000, category: 'books', discountMinor: 200 });
      }
      result = await computeClusters(db, { asOf: AS_OF, k: 3 });
    });
    after(async () => {
      await t?.drop();
    });

    test('the features are the store’s top categories and the countries that are known', () => {
      // Category spend: books 2·2·3,000 + 2·1,000 = 14,000; bags, belts, hats, shoes 2·5,000 = 10,000 each
      // (ties by name). Countries: GB 2, DE 2 (ties by name); the two customers without one are no feature.
      assert.deepEqual(result.features, [
        'recency_days',
        'log_orders',
        'log_spend',
        'category:books',
        'category:bags',
        'category:belts',
        'category:hats',
        'category:shoes',
        'discount_share',
        'country:DE',
        'country:GB',
      ]);
      assert.equal(result.currency, 'GBP');
      assert.equal(result.k, 3);
    });

    test('each group is one card, with its size, revenue, medians, categories, countries and ages', () => {
      // Net revenue: a 2·20,000 = 40,000, b 2·6,000 = 12,000, c 2·1,000 = 2,000; of 54,000.
      // Standardised centres (population sd over the six customers, two per group):
      //   recency 10, 100, 400 days: mean 170, sd √((160² + 70² + 230²)/3) = 166.7 →
      //     z = −0.96, −0.42, 1.38, read negated: recent (> 0.5), a while ago, long gone (< −0.5);
      //   log orders ln 5, ln 3, ln 2: mean 1.1337, sd 0.3749 → z = 1.27, −0.09, −1.18:
      //     frequent, occasional, rare;
      //   log spend ln 20,001, ln 6,001, ln 1,001: mean 8.504, sd 1.2304 → z = 1.14, 0.16, −1.30:
      //     high, mid, low spend.
      // Ages on 2024-06-01: born 1990-06-01, 12,419 days = 34.002 years → 34; born 1980-06-02,
      // 16,070 days = 43.998 years → 43; median 38.5.
      const cards = result.cards.map(({ cluster: _, ...card }) => card);
      assert.deepEqual(cards, [
        {
          label: 'recent, frequent, high spend',
          size: 2,
          share: 2 / 6,
          revenueShare: 40_000 / 54_000,
          typicalOrderMinor: 5000,
          typicalOrders: 4,
          typicalRecencyDays: 10,
          discountShare: 0,
          // Four categories of 10,000 each; the three first by name.
          topCategories: [
            { category: 'bags', share: 0.25 },
            { category: 'belts', share: 0.25 },
            { category: 'hats', share: 0.25 },
          ],
          topCountries: [{ country: 'GB', share: 1 }],
          medianAge: 38.5,
          agesKnown: 2,
          gender: null,
        },
        {
          label: 'a while ago, occasional, mid spend',
          size: 2,
          share: 2 / 6,
          revenueShare: 12_000 / 54_000,
          typicalOrderMinor: 3000,
          typicalOrders: 2,
          typicalRecencyDays: 100,
          discountShare: 0,
          topCategories: [{ category: 'books', share: 1 }],
          topCountries: [{ country: 'unknown', share: 1 }],
          medianAge: null,
          agesKnown: 0,
          gender: null,
        },
        {
          label: 'long gone, rare, low spend',
          size: 2,
          share: 2 / 6,
          revenueShare: 2_000 / 54_000,
          typicalOrderMinor: 1000,
          typicalOrders: 1,
          typicalRecencyDays: 400,
          discountShare: 1,
          topCategories: [{ category: 'books', share: 1 }],
          topCountries: [{ country: 'DE', share: 1 }],
          medianAge: null,
          agesKnown: 0,
          gender: null,
        },
      ]);
    });

    test('the sales aggregates of chosen customers are theirs alone, and of no customers none', async () => {
      const db = t.store.db;
      const [b1] = ids.b;
      const [c1, c2] = ids.c;
      const chosen = await salesAggregates(db, { asOf: AS_OF, currency: 'GBP', customerIds: [c2!, b1!] });
      // b: two sales of 3,000, 150 and 100 days ago; c: one of 1,000 (its 200 discount is already off
      // the total), 400 days ago. Ordered by customer id: b before c.
      assert.deepEqual(chosen, {
        customerId: [b1, c2],
        firstSaleAt: Float64Array.of(AS_OF - 150 * DAY, AS_OF - 400 * DAY),
        lastSaleAt: Float64Array.of(AS_OF - 100 * DAY, AS_OF - 400 * DAY),
        sales: Float64Array.of(2, 1),
        netMinor: Float64Array.of(6000, 1000),
      });
      const none = await salesAggregates(db, { asOf: AS_OF, currency: 'GBP', customerIds: [] });
      assert.deepEqual(none.customerId, []);
      const all = await salesAggregates(db, { asOf: AS_OF, currency: 'GBP' });
      assert.equal(all.customerId.length, 6);
      assert.ok(all.customerId.includes(c1!));
    });

    test('the members of a group share its card’s cluster, and nobody is left out', () => {
      const clusterOf = new Map(result.members.map((m) => [m.customerId, m.cluster]));
      assert.equal(result.members.length, 6);
      const [a, b, c] = result.cards.map((card) => card.cluster);
      for (const id of ids.a) assert.equal(clusterOf.get(id), a);
      for (const id of ids.b) assert.equal(clusterOf.get(id), b);
      for (const id of ids.c) assert.equal(clusterOf.get(id), c);
      assert.equal(new Set([a, b, c]).size, 3);
    });
  });
}
