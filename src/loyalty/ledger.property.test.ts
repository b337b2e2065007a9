import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { addCustomer, addOrder, cancelOrder, refundOrder, testProgramConfig } from '../../test/loyalty-fixtures.js';
import { DIALECTS, freshDatabase, type TestDb } from '../../test/setup.js';
import { MS_PER_DAY } from '../shared/dates.js';
import type { Db } from '../store/index.js';
import {
  adjust,
  auditLedger,
  earnableMinor,
  enrolMember,
  orderPoints,
  type Program,
  redeem,
  reversalTarget,
  saveProgram,
  settle,
  syncOrders,
} from './index.js';
import type { LoyaltyTables } from './loyalty-tables.js';

type Op =
  | { t: 'order'; subtotal: number; shipping: number }
  | { t: 'refund'; pick: number; percent: number }
  | { t: 'cancel'; pick: number }
  | { t: 'redeem'; reward: string }
  | { t: 'adjust'; points: number }
  | { t: 'retry' }
  | { t: 'advance'; days: number }
  | { t: 'sync' };

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      t: fc.constant('order' as const),
      subtotal: fc.integer({ min: 0, max: 150_000 }),
      shipping: fc.integer({ min: 0, max: 900 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('refund' as const),
      pick: fc.nat(),
      percent: fc.integer({ min: 1, max: 100 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('cancel' as const), pick: fc.nat() }) },
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant('redeem' as const),
      reward: fc.constantFrom('five-off', 'ten-percent', 'ship', 'vip'),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('adjust' as const),
      points: fc.integer({ min: -400, max: 400 }).filter((n) => n !== 0),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ t: 'retry' as const }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('advance' as const), days: fc.integer({ min: 1, max: 60 }) }) },
  { weight: 2, arbitrary: fc.constant({ t: 'sync' as const }) },
);

const T0 = Date.UTC(2025, 0, 1);

/** Runs one random history for a new member and checks every invariant after each step and at the end. */
async function runHistory(db: Db, program: Program, ops: Op[]): Promise<void> {
  const l = db.withTables<LoyaltyTables>();
  let now = T0;
  const customerId = await addCustomer(db);
  const enrolled = await enrolMember(db, program, { customerId, now });
  assert.ok(enrolled.ok);
  const orders: number[] = [];
  let redeemedPoints = 0;
  let redemptions = 0;
  let adjusted = 0;
  let lastAdjust: { points: number; key: string } | undefined;
  let step = 0;
  for (const o of ops) {
    step += 1;
    now += 60_000;
    switch (o.t) {
      case 'order':
        orders.push(
          await addOrder(db, { customerId, placedAt: now, subtotalMinor: o.subtotal, shippingMinor: o.shipping }),
        );
        break;
      case 'refund':
      case 'cancel': {
        if (orders.length === 0) break;
        const id = orders[o.pick % orders.length]!;
        const order = await db.selectFrom('orders').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
        if (order.status === 'cancelled' || order.refunded_minor >= order.total_minor) break;
        if (o.t === 'cancel') await cancelOrder(db, id, now);
        else {
          const left = order.total_minor - order.refunded_minor;
          await refundOrder(db, id, Math.max(1, Math.ceil((left * o.percent) / 100)), now);
        }
        break;
      }
      case 'redeem': {
        const result = await redeem(db, program, { customerId, rewardKey: o.reward, now });
        if (result.ok) {
          redemptions += 1;
          redeemedPoints += result.value.points;
        } else assert.ok(['insufficient_points', 'forbidden'].includes(result.error.kind), result.error.message);
        break;
      }
      case 'adjust': {
        const key = `prop:${customerId}:${step}`;
        const result = await adjust(db, program, {
          customerId,
          points: o.points,
          reason: 'property test',
          now,
          idempotencyKey: key,
        });
        if (result.ok) {
          adjusted += o.points;
          lastAdjust = { points: o.points, key };
        } else assert.equal(result.error.kind, 'insufficient_points');
        break;
      }
      case 'retry': {
        // The same adjustment and the same sync again: nothing may be applied twice.
        if (lastAdjust) {
          const again = await adjust(db, program, {
            customerId,
            points: lastAdjust.points,
            reason: 'property test',
            now,
            idempotencyKey: lastAdjust.key,
          });
          if (again.ok) assert.equal(again.value.applied, false);
        }
        await syncOrders(db, program, { now });
        const rerun = await syncOrders(db, program, { now });
        assert.equal(rerun.ledgerEntries, 0);
        break;
      }
      case 'advance':
        now += o.days * MS_PER_DAY;
        await settle(db, program, { now });
        break;
      case 'sync':
        await syncOrders(db, program, { now });
        break;
    }
    const audit = await auditLedger(db, { customerId });
    assert.deepEqual(audit.problems, [], `after step ${step} (${o.t})`);
  }
  await syncOrders(db, program, { now });
  await settle(db, program, { now });
  const audit = await auditLedger(db, { customerId });
  assert.deepEqual(audit.problems, []);

  const entries = await l.selectFrom('loyalty_ledger').selectAll().where('customer_id', '=', customerId).execute();
  const sum = (kind: string) => entries.filter((e) => e.kind === kind).reduce((s, e) => s + e.amount, 0);
  assert.equal(0 - sum('redeem'), redeemedPoints, 'each successful redemption debited once');
  assert.equal(entries.filter((e) => e.kind === 'redeem').length, redemptions);
  assert.equal(sum('adjust'), adjusted, 'each adjustment applied once');
  const codes = await l
    .selectFrom('loyalty_redemptions')
    .select('code')
    .where('customer_id', '=', customerId)
    .execute();
  assert.equal(codes.length, redemptions);

  for (const id of orders) {
    const order = await db.selectFrom('orders').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    const state = await l.selectFrom('loyalty_orders').selectAll().where('order_id', '=', id).executeTakeFirstOrThrow();
    const earn = entries.filter((e) => e.order_id === id && e.kind === 'earn');
    assert.ok(earn.length <= 1);
    const earned = earn[0]?.amount ?? 0;
    assert.equal(state.earned, earned);
    if (earn[0]) {
      const meta = JSON.parse(earn[0].meta) as { multiplier: number; netMinor: number };
      assert.equal(meta.netMinor, earnableMinor(program.config, order));
      assert.equal(earned, orderPoints(program.config, meta.netMinor, meta.multiplier));
    }
    const reversed =
      0 - entries.filter((e) => e.order_id === id && e.kind === 'reverse').reduce((s, e) => s + e.amount, 0);
    const cancelled = order.status === 'cancelled' || order.status === 'refunded';
    const target = reversalTarget(earned, order.refunded_minor, order.total_minor, cancelled);
    assert.equal(reversed, state.reversed);
    assert.equal(reversed + state.shortfall, target, `order ${id}: refund reverses exactly its share`);
  }
}

for (const dialect of DIALECTS) {
  describe(`loyalty ledger properties on ${dialect.name}`, { skip: dialect.skip }, () => {
    let t: TestDb;
    let program: Program;
    before(async () => {
      t = await freshDatabase(dialect.name);
      program = await saveProgram(
        t.store.db,
        testProgramConfig({
          expiry: { mode: 'lot', days: 45 },
          earning: { ...testProgramConfig().earning, returnWindowDays: 14 },
        }),
        { now: T0 },
      );
    });
    after(async () => t?.drop());

    test('random orders, refunds, cancellations, redemptions, adjustments, retries and expiry keep every invariant', async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 30 }), (ops) => runHistory(t.store.db, program, ops)),
        { numRuns: dialect.name === 'sqlite' ? 40 : 25, verbose: 1 },
      );
      const audit = await auditLedger(t.store.db);
      assert.deepEqual(audit.problems, []);
    });
  });
}
