import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { dropWhenClosed } from '../../test/pg-drop.js';
import { addCustomer, addOrder } from '../../test/segments-fixtures.js';
import { DIALECTS, freshDatabase, type TestDb } from '../../test/setup.js';
import { cohortTable } from './cohorts.queries.js';

const AS_OF = Date.UTC(2024, 2, 1);

/**
 * Five customers acquired in January 2024 with first orders of 10, 20, 30, 40 and 50 euros, and one
 * more order of 5 euros from the 20-euro customer in February. The quartiles of the first orders
 * (type 7, Hyndman & Fan) are exactly 20, 30 and 40: each band's upper edge is a customer's value, and
 * a band includes its upper edge (Q1 = up to and including 20 €).
 */
const FIRST_ORDERS = [
  { email: 'a', euros: 10, day: '2024-01-03', country: 'FR' },
  { email: 'b', euros: 20, day: '2024-01-05', country: 'DE' },
  { email: 'c', euros: 30, day: '2024-01-31', country: null },
  { email: 'd', euros: 40, day: '2024-01-10', country: 'FR' },
  { email: 'e', euros: 50, day: '2024-01-20', country: 'FR' },
];

for (const dialect of DIALECTS) {
  describe(`cohort breakdowns at their edges on ${dialect.name}`, { skip: dialect.skip }, () => {
    let t: TestDb;
    before(async () => {
      t = await freshDatabase(dialect.name);
      const db = t.store.db;
      const order = (customerId: number, euros: number, day: string, country: string | null, codes: string[]) =>
        addOrder(db, customerId, {
          at: Date.parse(`${day}T12:00:00Z`),
          currency: 'EUR',
          totalMinor: euros * 100,
          codes,
          country,
        });
      for (const c of FIRST_ORDERS) {
        const id = await addCustomer(db, { email: `${c.email}@x.test` });
        await order(id, c.euros, c.day, c.country, c.email === 'b' ? ['HELLO'] : []);
        if (c.email === 'b') await order(id, 5, '2024-02-02', 'DE', []);
      }
    });
    after(() => dropWhenClosed(t));

    test('value quartiles: the cut points are the 25th, 50th and 75th percentiles, each band includes its top', async () => {
      const table = await cohortTable(t.store.db, { asOf: AS_OF, breakdown: 'value' });
      assert.deepEqual(table.bands, [
        { group: 'Q1', min: 10, max: 20 },
        { group: 'Q2', min: 20, max: 30 },
        { group: 'Q3', min: 30, max: 40 },
        { group: 'Q4', min: 40, max: 50 },
      ]);
      assert.deepEqual(
        table.cohorts.map((c) => [c.cohort, c.group, c.size, c.values]),
        [
          ['2024-01', 'Q1', 2, [1, 0.5]],
          ['2024-01', 'Q2', 1, [1, 0]],
          ['2024-01', 'Q3', 1, [1, 0]],
          ['2024-01', 'Q4', 1, [1, 0]],
        ],
        'the 20 € customer is in Q1 (20 ≤ 20) and came back in February',
      );
    });

    test('country of the first order, else unknown; discount use of the first order', async () => {
      const country = await cohortTable(t.store.db, { asOf: AS_OF, breakdown: 'country' });
      assert.deepEqual(
        country.cohorts.map((c) => [c.group, c.size]),
        [
          ['DE', 1],
          ['FR', 3],
          ['unknown', 1],
        ],
      );
      const discount = await cohortTable(t.store.db, { asOf: AS_OF, breakdown: 'discount' });
      assert.deepEqual(
        discount.cohorts.map((c) => [c.group, c.size, c.values]),
        [
          ['discount', 1, [1, 1]],
          ['no discount', 4, [1, 0]],
        ],
      );
    });

    test('asOf is exclusive: a first order at asOf is not yet a customer', async () => {
      const before31 = await cohortTable(t.store.db, { asOf: Date.parse('2024-01-31T12:00:00Z') });
      assert.equal(before31.cohorts[0]!.size, 4, 'c buys at 12:00 on the 31st');
      const at31 = await cohortTable(t.store.db, { asOf: Date.parse('2024-01-31T12:00:00Z') + 1 });
      assert.equal(at31.cohorts[0]!.size, 5);
    });
  });
}
