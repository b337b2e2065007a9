import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { addCustomer } from '../../test/campaign-fixtures.js';
import { addEvent, addOrder } from '../../test/segments-fixtures.js';
import { DIALECTS, freshDatabase, type TestDb } from '../../test/setup.js';
import type { Db, OrderStatus } from '../store/index.js';
import { ContextLoader, type TriggerBlock } from './context.queries.js';

/**
 * The `trigger` block of an event occurrence, on a store small enough to read by hand (the full
 * context, with catalogue, recommendations and loyalty, is test/campaigns-context.test.ts).
 */

const HOUR = 3_600_000;
const NOW = Date.parse('2026-06-01T10:00:00Z');

/** An event of customer 1 (see `addEvent`). */
async function event(
  db: Db,
  messageId: string,
  type: 'track' | 'segment_entered',
  name: string,
  at: number,
  properties: Record<string, unknown>,
): Promise<void> {
  await addEvent(db, { messageId, customerId: 1, type, event: name, at, properties });
}

/** An order of customer 1 shipped to GB (see `addOrder`); a cancelled one is cancelled when placed. */
async function order(db: Db, externalId: string, at: number, status: OrderStatus): Promise<void> {
  await addOrder(db, 1, { externalId, at, status, country: 'GB', cancelledAt: status === 'cancelled' ? at : null });
}

/** The block a template reading `trigger` gets for `occurrence` of an event-triggered flow. */
async function triggerBlock(db: Db, occurrence: string) {
  const loader = new ContextLoader(db, NOW, { locale: 'en', storeUrl: null });
  const blocks = await loader.load({
    customerId: 1,
    trigger: { type: 'event', events: ['Checkout Started'] },
    occurrence,
    triggerData: null,
    products: undefined,
    wants: new Set(['trigger']),
  });
  return blocks.trigger;
}

const EMPTY: TriggerBlock = {
  type: 'event',
  event: null,
  date: null,
  items: [],
  item_count: 0,
  order: null,
  points: null,
  expires_on: null,
  from_tier: null,
  to_tier: null,
  segment: null,
  product: null,
  due_on: null,
  cycle_days: null,
  last_bought_on: null,
  buy_again_url: null,
};

for (const dialect of DIALECTS) {
  describe(`the trigger block of an event occurrence (${dialect.name})`, { skip: dialect.skip }, () => {
    let t: TestDb;
    before(async () => {
      t = await freshDatabase(dialect.name);
      const db = t.store.db;
      await addCustomer(db, 1, NOW - 400 * 24 * HOUR);
      // The cart before the last paid order (5 h before) is not this checkout's; the one after it is.
      await event(db, 'add-1', 'track', 'Product Added', NOW - 5 * HOUR, {
        sku: 'GREEN',
        name: 'Green tea',
        price: 4.5,
        currency: 'GBP',
      });
      await order(db, 'paid-1', NOW - 3 * HOUR, 'paid');
      await event(db, 'add-2', 'track', 'Product Added', NOW - HOUR, {
        sku: 'BLACK',
        name: 'Black tea',
        price: '3',
        currency: 'GBP',
        quantity: 2,
      });
      // A cancelled order is no sale: it does not cut the cart.
      await order(db, 'cancelled-1', NOW - 30 * 60_000, 'cancelled');
      await event(db, 'checkout-1', 'track', 'Checkout Started', NOW, {});
      await event(db, 'seg-rfm', 'segment_entered', 'champions', NOW, { kind: 'rfm' });
      await event(db, 'seg-odd', 'segment_entered', 'champions', NOW, { kind: 7 });
    });
    after(() => t.drop());

    test('a checkout without lines carries the items added since the last paid order, within a day', async () => {
      // Product Added at −5 h precedes the paid order at −3 h: left out. The one at −1 h is in:
      // 3 (major units, GBP exponent 2) → 300 minor → £3.00, quantity 2. The cancelled order at
      // −30 min is not a sale, so it does not move the cut.
      assert.deepEqual(await triggerBlock(t.store.db, 'event:checkout-1'), {
        ...EMPTY,
        event: 'Checkout Started',
        date: '2026-06-01',
        item_count: 1,
        items: [
          { product_id: null, sku: 'BLACK', title: 'Black tea', url: null, image: null, price: '£3.00', quantity: 2 },
        ],
      });
    });

    test('a segment event names its kind when the kind is a string, else the bare segment', async () => {
      assert.deepEqual(await triggerBlock(t.store.db, 'event:seg-rfm'), {
        ...EMPTY,
        event: 'champions',
        date: '2026-06-01',
        segment: 'rfm:champions',
      });
      assert.deepEqual(await triggerBlock(t.store.db, 'event:seg-odd'), {
        ...EMPTY,
        event: 'champions',
        date: '2026-06-01',
        segment: 'champions',
      });
    });

    test('an occurrence whose event is not stored (deleted, say) leaves the block empty', async () => {
      assert.deepEqual(await triggerBlock(t.store.db, 'event:no-such-event'), EMPTY);
    });
  });
}
