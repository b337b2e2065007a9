import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { enrolNewEntrants, saveFlow, setFlowEnabled, validateFlow } from '../src/campaigns/index.js';
import { campaignDb } from '../src/campaigns/tables.js';
import type { Result } from '../src/errors.js';
import { adjust, enrolMember, expiringPoints, redeem, saveProgram } from '../src/loyalty/index.js';
import { addCustomer, testProgramConfig } from './loyalty-fixtures.js';
import { DIALECTS, freshDatabase, type TestDb } from './setup.js';

const T0 = Date.UTC(2025, 0, 1);
const day = (n: number) => T0 + n * 86_400_000;

function ok<T>(result: Result<T>): T {
  if (!result.ok) throw new Error(result.error.message);
  return result.value;
}

/**
 * A: 100 points on day 0 and 50 on day 20, then a 60-point reward on day 25 taken from the oldest lot,
 * so 40 of day 0's lot are left. B: 10 points on day 10. With lots that expire after 30 days, A's 40
 * go on day 30, A's 50 on day 50 and B's 10 on day 40. With expiry after 30 days of inactivity, A's 90
 * go on day 55 (last activity the reward on day 25) and B's 10 on day 30 (an adjustment by hand is
 * not activity: B's last is enrolling on day 0).
 */
for (const dialect of DIALECTS) {
  describe(`points about to expire, and the flow trigger that reminds (${dialect.name})`, {
    skip: dialect.skip,
  }, () => {
    let t: TestDb;
    let a: number;
    let b: number;
    before(async () => {
      t = await freshDatabase(dialect.name);
      const db = t.store.db;
      const program = await saveProgram(db, testProgramConfig({ expiry: { mode: 'lot', days: 30 }, actions: {} }), {
        now: T0,
      });
      a = await addCustomer(db, { email: 'a@x.test' });
      b = await addCustomer(db, { email: 'b@x.test' });
      ok(await enrolMember(db, program, { customerId: a, now: day(0) }));
      ok(await enrolMember(db, program, { customerId: b, now: day(0) }));
      ok(await adjust(db, program, { customerId: a, points: 100, reason: 'lot one', now: day(0) }));
      ok(await adjust(db, program, { customerId: b, points: 10, reason: 'lot', now: day(10) }));
      ok(await adjust(db, program, { customerId: a, points: 50, reason: 'lot two', now: day(20) }));
      ok(await redeem(db, program, { customerId: a, rewardKey: 'ship', now: day(25) }));
    });
    after(async () => {
      await t?.drop();
    });

    test('lot expiry: what is left of each lot due in the window, at its first date', async () => {
      const db = t.store.db;
      const program = await saveProgram(db, testProgramConfig({ expiry: { mode: 'lot', days: 30 }, actions: {} }), {
        now: day(25),
      });
      // The window is [now, now + days): as of day 25 (its midnight), 6 days reach the instant day 30
      // begins, 5 days end just before it.
      assert.deepEqual(await expiringPoints(db, program, day(25), 6), [
        { customerId: a, points: 40, expiresAt: day(30) },
      ]);
      assert.deepEqual(await expiringPoints(db, program, day(25), 5), [], 'day 30 is not within 5 days of day 25');
      assert.deepEqual(await expiringPoints(db, program, day(25), 26), [
        { customerId: a, points: 90, expiresAt: day(30) },
        { customerId: b, points: 10, expiresAt: day(40) },
      ]);
      assert.deepEqual(
        await expiringPoints(db, program, day(30), 5),
        [{ customerId: a, points: 40, expiresAt: day(30) }],
        'a lot that expires at the instant of the as-of is not due yet: the reminder still counts it',
      );
      assert.deepEqual(await expiringPoints(db, program, day(30) + 1, 5), [], 'a moment later it is the settle pass’s');
    });

    test('inactivity expiry: the whole balance, at the last activity plus the period', async () => {
      const db = t.store.db;
      const program = await saveProgram(
        db,
        testProgramConfig({ expiry: { mode: 'inactivity', days: 30 }, actions: {} }),
        { now: day(25) },
      );
      assert.deepEqual(await expiringPoints(db, program, day(25), 15), [
        { customerId: b, points: 10, expiresAt: day(30) },
      ]);
      assert.deepEqual(await expiringPoints(db, program, day(25), 31), [
        { customerId: a, points: 90, expiresAt: day(55) },
        { customerId: b, points: 10, expiresAt: day(30) },
      ]);
      const none = await saveProgram(db, testProgramConfig({ expiry: { mode: 'none' }, actions: {} }), {
        now: day(25),
      });
      assert.deepEqual(await expiringPoints(db, none, day(25), 365), []);
    });

    test('the points_expiring trigger enters each member once per expiry date', async () => {
      const db = t.store.db;
      await saveProgram(db, testProgramConfig({ expiry: { mode: 'lot', days: 30 }, actions: {} }), { now: day(25) });
      const flow = validateFlow({
        key: 'use-them',
        name: 'Use your points',
        trigger: { type: 'points_expiring', daysBefore: 7 },
        steps: [{ id: 'remind', type: 'send', channels: ['email'], template: 'welcome', purpose: 'marketing' }],
      });
      if (!flow.ok) throw new Error(JSON.stringify(flow.problems));
      await saveFlow(db, flow.flow, day(25));
      await setFlowEnabled(db, 'use-them', true, day(25));
      assert.deepEqual(await enrolNewEntrants(db, day(25)), { flows: 1, entered: 1, skipped: 0 });
      assert.deepEqual(await enrolNewEntrants(db, day(26)), { flows: 1, entered: 0, skipped: 1 }, 'the same date');
      const journeys = await campaignDb(db)
        .selectFrom('journeys')
        .select(['customer_id', 'occurrence', 'trigger_data'])
        .execute();
      assert.deepEqual(
        journeys.map((j) => [j.customer_id, j.occurrence, JSON.parse(j.trigger_data ?? 'null')]),
        [[a, 'points_expiring:2025-01-31', { points: 40, expires_on: '2025-01-31' }]],
        'the journey keeps the points and the date, for `trigger.points` and `trigger.expires_on`',
      );
    });
  });
}
