import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { addCustomer } from '../../test/campaign-fixtures.js';
import { addOrder } from '../../test/segments-fixtures.js';
import { DIALECTS, freshDatabase, type TestDb } from '../../test/setup.js';
import type { Db, OrderStatus } from '../store/index.js';
import type { FlowDefinition } from './flow.js';
import { saveFlow, setFlowEnabled } from './flows.queries.js';
import { campaignDb } from './tables.js';
import { enrolNewEntrants } from './triggers.queries.js';

const HOUR = 3_600_000;
const T0 = Date.parse('2026-06-01T10:00:00Z');

const secondOrder: FlowDefinition = {
  key: 'second-order-thanks',
  name: 'Thanks for a second order',
  trigger: { type: 'order', nth: 2 },
  exitWhen: [],
  steps: [{ id: 's', type: 'send', channels: ['email'], template: 't', purpose: 'marketing' }],
  holdoutShare: 0,
  attributionDays: 5,
  reentry: { type: 'never' },
};

let orderNo = 0;

/** An order of `customerId` at `at`; returns its id. */
async function order(db: Db, customerId: number, at: number, status: OrderStatus): Promise<number> {
  orderNo += 1;
  return addOrder(db, customerId, {
    externalId: `o-${orderNo}`,
    at,
    status,
    country: 'GB',
    refundedMinor: status === 'refunded' ? 1000 : 0,
  });
}

for (const dialect of DIALECTS) {
  describe(`an order trigger with nth (${dialect.name})`, { skip: dialect.skip }, () => {
    let t: TestDb;
    before(async () => {
      t = await freshDatabase(dialect.name);
      for (const id of [1, 2, 3]) await addCustomer(t.store.db, id, T0 - 100 * 24 * HOUR);
    });
    after(() => t.drop());

    test('enters at the second order by (placed_at, id), refunded orders counting as earlier ones', async () => {
      const db = t.store.db;
      await saveFlow(db, secondOrder, T0);
      await setFlowEnabled(db, secondOrder.key, true, T0);
      // Customer 1: two orders at the same instant (the later id is the second), then a third.
      await order(db, 1, T0 + HOUR, 'paid');
      const second = await order(db, 1, T0 + HOUR, 'paid');
      await order(db, 1, T0 + 2 * HOUR, 'paid');
      // Customer 2: one order only.
      await order(db, 2, T0 + HOUR, 'paid');
      // Customer 3: a refunded first order (no trigger itself, but it was an order), then a paid one.
      await order(db, 3, T0, 'refunded');
      const third = await order(db, 3, T0 + 3 * HOUR, 'paid');
      const summary = await enrolNewEntrants(db, T0 + 4 * HOUR);
      assert.deepEqual(summary, { flows: 1, entered: 2, skipped: 0 });
      const journeys = await campaignDb(db)
        .selectFrom('journeys')
        .select(['customer_id', 'occurrence', 'entered_at'])
        .orderBy('customer_id')
        .execute();
      assert.deepEqual(
        journeys.map((j) => [Number(j.customer_id), j.occurrence, Number(j.entered_at)]),
        [
          [1, `order:${second}`, T0 + HOUR],
          [3, `order:${third}`, T0 + 3 * HOUR],
        ],
      );
    });
  });
}
