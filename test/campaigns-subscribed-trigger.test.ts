import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { enrolNewEntrants, saveFlow, setFlowEnabled, validateFlow } from '../src/campaigns/index.js';
import { campaignDb } from '../src/campaigns/tables.js';
import { addCustomer, addEvent, addOrder } from './segments-fixtures.js';
import { DIALECTS, freshDatabase, type TestDb } from './setup.js';

const T0 = Date.parse('2026-06-01T10:00:00Z');

for (const dialect of DIALECTS) {
  describe(`the subscribed trigger nurtures sign-ups who have not bought (${dialect.name})`, {
    skip: dialect.skip,
  }, () => {
    let t: TestDb;
    before(async () => {
      t = await freshDatabase(dialect.name);
    });
    after(async () => {
      await t?.drop();
    });

    test('a Signed Up by a customer with no sale before it enters, once; a buyer and a visitor do not', async () => {
      const db = t.store.db;
      const flow = validateFlow({
        key: 'welcome-series',
        name: 'Welcome series',
        trigger: { type: 'subscribed' },
        exitWhen: [{ type: 'ordered' }],
        steps: [{ id: 'hello', type: 'send', channels: ['email'], template: 'welcome', purpose: 'marketing' }],
      });
      if (!flow.ok) throw new Error(JSON.stringify(flow.problems));
      await saveFlow(db, flow.flow, T0);
      await setFlowEnabled(db, 'welcome-series', true, T0);
      const subscriber = await addCustomer(db, { email: 'new@x.test' });
      const buyer = await addCustomer(db, { email: 'buyer@x.test' });
      const laterBuyer = await addCustomer(db, { email: 'later@x.test' });
      await addOrder(db, buyer, { at: T0 - 86_400_000 });
      await addEvent(db, { customerId: subscriber, event: 'Signed Up', at: T0 + 1000 });
      await addEvent(db, { customerId: buyer, event: 'Signed Up', at: T0 + 2000 });
      await addEvent(db, { customerId: laterBuyer, event: 'Signed Up', at: T0 + 3000 });
      await addOrder(db, laterBuyer, { at: T0 + 3001 }); // bought after signing up: a subscriber when it signed up
      await addEvent(db, { anonymousId: 'visitor', event: 'Signed Up', at: T0 + 4000 });
      await addEvent(db, { customerId: subscriber, event: 'Product Viewed', at: T0 + 5000 });
      assert.deepEqual(await enrolNewEntrants(db, T0 + 10_000), { flows: 1, entered: 2, skipped: 0 });
      const journeys = await campaignDb(db)
        .selectFrom('journeys')
        .select(['customer_id', 'entered_at'])
        .orderBy('customer_id')
        .execute();
      assert.deepEqual(
        journeys.map((j) => [j.customer_id, Number(j.entered_at)]),
        [
          [subscriber, T0 + 1000],
          [laterBuyer, T0 + 3000],
        ],
      );
      assert.deepEqual(await enrolNewEntrants(db, T0 + 20_000), { flows: 1, entered: 0, skipped: 0 });
    });
  });
}
