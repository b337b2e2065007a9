import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { addCustomer, addEvent, addOrder, DAY, HOUR, MINUTE } from '../../test/segments-fixtures.js';
import { DIALECTS, freshDatabase, type TestDb } from '../../test/setup.js';
import { computePersonas, PERSONA_ORDER, PERSONAS, type Persona } from './personas.js';

const T = Date.UTC(2025, 5, 1);

test('every persona carries a retention play', () => {
  for (const persona of PERSONA_ORDER) assert.ok(PERSONAS[persona].play.length > 20, persona);
});

for (const dialect of DIALECTS) {
  describe(`personas on hand-made histories on ${dialect.name}`, { skip: dialect.skip }, () => {
    let t: TestDb;
    const expected = new Map<number, Persona | undefined>();
    const persona = async (want: Persona | undefined, build: (id: number) => Promise<unknown>) => {
      const id = await addCustomer(t.store.db);
      await build(id);
      expected.set(id, want);
    };

    before(async () => {
      t = await freshDatabase(dialect.name);
      const db = t.store.db;
      // Bouncers: single-page sessions, by session id or by 30-minute gaps.
      await persona('bouncer', (id) => addEvent(db, { customerId: id, at: T - 2 * DAY }));
      await persona('bouncer', async (id) => {
        await addEvent(db, { customerId: id, at: T - 2 * DAY });
        await addEvent(db, { customerId: id, at: T - 2 * DAY + 30 * MINUTE + 1 });
      });
      await persona(undefined, async (id) => {
        // Exactly 30 minutes apart: still one session of two pages, so not a bounce.
        await addEvent(db, { customerId: id, at: T - 2 * DAY });
        await addEvent(db, { customerId: id, at: T - 2 * DAY + 30 * MINUTE });
      });
      await persona('bouncer', async (id) => {
        await addEvent(db, { customerId: id, sessionId: 's1', at: T - 2 * DAY });
        await addEvent(db, { customerId: id, sessionId: 's2', at: T - 2 * DAY + MINUTE });
      });
      await persona(undefined, async (id) => {
        await addEvent(db, { customerId: id, sessionId: 's3', at: T - 2 * DAY });
        await addEvent(db, { customerId: id, sessionId: 's3', at: T - 2 * DAY + 5 * MINUTE });
      });
      // Behaviour older than the 30-day lookback does not count.
      // The lookback is [asOf − 30 days, asOf): its first instant is in, the one before it out, asOf itself out.
      await persona(undefined, (id) => addEvent(db, { customerId: id, at: T - 30 * DAY - 1 }));
      await persona('bouncer', (id) => addEvent(db, { customerId: id, at: T - 30 * DAY }));
      await persona(undefined, (id) => addEvent(db, { customerId: id, at: T }));
      // Anonymous events of a linked visitor count for the customer.
      await persona('passive_browser', async (id) => {
        await db
          .insertInto('anonymous_ids')
          .values({ anonymous_id: `anon-${id}`, customer_id: id, linked_at: T })
          .execute();
        await addEvent(db, { anonymousId: `anon-${id}`, event: 'Product Viewed', at: T - DAY });
      });
      await persona('passive_browser', async (id) => {
        await addEvent(db, { customerId: id, at: T - DAY });
        await addEvent(db, { customerId: id, event: 'Product Viewed', at: T - DAY + MINUTE });
      });
      // Cart abandoners: the 24-hour window is inclusive at its end.
      await persona('cart_abandoner', (id) =>
        addEvent(db, { customerId: id, event: 'Product Added', at: T - 24 * HOUR }),
      );
      await persona(undefined, (id) => addEvent(db, { customerId: id, event: 'Product Added', at: T - 24 * HOUR + 1 }));
      await persona('cart_abandoner', (id) =>
        addEvent(db, { customerId: id, event: 'Checkout Started', at: T - 3 * DAY }),
      );
      await persona('first_time_low_value', async (id) => {
        await addEvent(db, { customerId: id, event: 'Product Added', at: T - 3 * DAY });
        await addOrder(db, id, { at: T - 3 * DAY, totalMinor: 1000 });
      });
      await persona('cart_abandoner', async (id) => {
        await addOrder(db, id, { at: T - 20 * DAY, totalMinor: 5000 });
        await addOrder(db, id, { at: T - 10 * DAY, totalMinor: 5000 });
        await addEvent(db, { customerId: id, event: 'Product Added', at: T - 2 * DAY });
      });
      await persona('repeat_buyer', async (id) => {
        await addOrder(db, id, { at: T - 20 * DAY, totalMinor: 5000 });
        await addOrder(db, id, { at: T - 10 * DAY, totalMinor: 5000 });
        await addEvent(db, { customerId: id, event: 'Product Added', at: T - 2 * DAY });
        await addOrder(db, id, { at: T - 2 * DAY + HOUR });
      });
      // First orders 1000, 2000, 3000, 3000 and 5000 twice (repeat buyers): median 3000; at the median is high.
      await persona('first_time_low_value', (id) => addOrder(db, id, { at: T - 50 * DAY, totalMinor: 2000 }));
      await persona('first_time_high_value', (id) => addOrder(db, id, { at: T - 50 * DAY, totalMinor: 3000 }));
      // A refunded order is not a sale: one sale left, a first-time buyer.
      await persona('first_time_high_value', async (id) => {
        await addOrder(db, id, { at: T - 60 * DAY, totalMinor: 9000, status: 'refunded', refundedMinor: 9000 });
        await addOrder(db, id, { at: T - 40 * DAY, totalMinor: 3000 });
      });
      await persona(undefined, async () => {});
    });
    after(async () => t?.drop());

    test('each customer gets the persona of its history, with a reason and a play', async () => {
      const found = new Map((await computePersonas(t.store.db, { asOf: T })).map((p) => [p.customerId, p]));
      for (const [id, want] of expected) {
        assert.equal(found.get(id)?.persona, want, `customer ${id}: ${found.get(id)?.reason}`);
        if (want) assert.equal(found.get(id)?.play, PERSONAS[want].play);
      }
    });

    test('a first-time buyer’s reason names the money with its currency, not raw minor units', async () => {
      const reasons = (await computePersonas(t.store.db, { asOf: T }))
        .filter((p) => p.persona?.startsWith('first_time'))
        .map((p) => p.reason);
      // First orders of 20.00 and 30.00 GBP against the median first order, 30.00 GBP.
      assert.ok(reasons.includes('one order of £20.00, below £30.00'), reasons.join('; '));
      assert.ok(reasons.includes('one order of £30.00, at or above £30.00'), reasons.join('; '));
      for (const reason of reasons) assert.doesNotMatch(reason, /minor units/);
    });

    test('the window, the threshold and the lookback are configurable', async () => {
      const found = new Map(
        (
          await computePersonas(t.store.db, {
            asOf: T,
            cartWindowHours: 72,
            firstOrderThresholdMinor: 1000,
            lookbackDays: 31,
          })
        ).map((p) => [p.customerId, p.persona]),
      );
      const counts = (p: Persona) => [...found.values()].filter((v) => v === p).length;
      // Only the 3-day-old checkout passes a 72-hour window.
      assert.equal(counts('cart_abandoner'), 1);
      assert.equal(counts('first_time_low_value'), 0);
      assert.equal(counts('first_time_high_value'), 4);
      // The page view exactly 30 days old now counts.
      assert.equal(counts('bouncer'), 5);
    });

    test('a subset of customers gives the same answer as the whole store', async () => {
      const ids = [...expected.keys()].slice(0, 5);
      const some = await computePersonas(t.store.db, { asOf: T, customerIds: ids });
      for (const p of some) assert.equal(p.persona, expected.get(p.customerId));
    });
  });
}
