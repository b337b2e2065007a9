import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { backtestFlow, enrolNewEntrants, saveFlow, setFlowEnabled, validateFlow } from '../src/campaigns/index.js';
import { campaignDb } from '../src/campaigns/tables.js';
import type { LoyaltyTables } from '../src/loyalty/index.js';
import { addCustomer } from './campaign-fixtures.js';
import { DIALECTS, freshDatabase, type TestDb } from './setup.js';

const T0 = Date.parse('2026-06-01T10:00:00Z');

for (const dialect of DIALECTS) {
  describe(`the tier_reached trigger reads the loyalty tier history (${dialect.name})`, { skip: dialect.skip }, () => {
    let t: TestDb;
    before(async () => {
      t = await freshDatabase(dialect.name);
    });
    after(async () => {
      await t?.drop();
    });

    test('enters customers who reach a listed tier after the flow is on, once', async () => {
      const db = t.store.db;
      const cdb = campaignDb(db);
      for (const id of [1, 2, 3]) {
        await addCustomer(db, id, T0 - 1000, { country: 'GB' });
      }
      const change = (customer_id: number, from_tier: string | null, to_tier: string, changed_at: number) =>
        db
          .withTables<LoyaltyTables>()
          .insertInto('loyalty_tier_history')
          .values({ customer_id, from_tier, to_tier, changed_at, reason: 'test', qualifying_value: 0 })
          .execute();
      await change(1, 'silver', 'gold', T0 - 1000); // before the flow was turned on: not entered
      const flow = validateFlow({
        key: 'gold-welcome',
        name: 'Welcome to gold',
        trigger: { type: 'tier_reached', tiers: ['gold'] },
        steps: [{ id: 'hi', type: 'send', channels: ['email'], template: 'welcome', purpose: 'marketing' }],
      });
      if (!flow.ok) throw new Error(JSON.stringify(flow.problems));
      await saveFlow(db, flow.flow, T0);
      await setFlowEnabled(db, 'gold-welcome', true, T0);
      await change(2, 'bronze', 'silver', T0 + 1000); // not a listed tier
      await change(3, 'silver', 'gold', T0 + 2000);
      assert.deepEqual(await enrolNewEntrants(db, T0 + 5000), { flows: 1, entered: 1, skipped: 0 });
      const journeys = await cdb.selectFrom('journeys').select(['customer_id', 'entered_at']).execute();
      assert.deepEqual(
        journeys.map((j) => [j.customer_id, Number(j.entered_at)]),
        [[3, T0 + 2000]],
      );
      assert.deepEqual(await enrolNewEntrants(db, T0 + 6000), { flows: 1, entered: 0, skipped: 0 });
      // The backtest over the same history sees both gold arrivals (it starts before the flow was on).
      const backtest = await backtestFlow(db, flow.flow, { from: T0 - 10_000, to: T0 + 10_000 });
      assert.deepEqual(
        backtest.entrants.map((e) => [e.customerId, e.enteredAt]),
        [
          [1, T0 - 1000],
          [3, T0 + 2000],
        ],
      );
    });
  });
}
