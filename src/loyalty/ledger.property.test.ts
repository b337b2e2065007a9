import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { addCustomer, addOrder, cancelOrder, refundOrder, testProgramConfig } from '../../test/loyalty-fixtures.js';
import { DIALECTS, freshDatabase, type TestDb } from '../../test/setup.js';
import type { Db } from '../store/index.js';
import {
  adjust,
  auditLedger,
  enrolMember,
  memberStatus,
  type Program,
  type ProgramReport,
  programReport,
  redeem,
  saveProgram,
  settle,
  syncOrders,
} from './index.js';
import type { LoyaltyTables } from './loyalty-tables.js';

// A model of the program written from its rules, not from the product's helpers: 1 point per whole
// pound of merchandise (shipping excluded) times the tier's multiplier, rounded down; points pending
// for 14 days; a refund takes back floor(earned × refunded ÷ total), everything once fully refunded or
// cancelled, and what the member already spent becomes a debt that later points repay first. Tiers
// (Blue 0, Gold 500 ×1.5, Platinum 2,000 ×2) are held on the points earned net of reversals in the
// last 365 days: an upgrade applies at once, a refund that breaks the tier's qualification drops it at
// once, and otherwise a lower tier applies only at the review, 365 + 30 days after the last change.
const DAY = 86_400_000;
const WINDOW = 365 * DAY;
const PERIOD = (365 + 30) * DAY;
const RETURN = 14 * DAY;
const THRESHOLDS = [0, 500, 2000];
const PERCENT = [100, 150, 200];
const TIERS = ['blue', 'gold', 'platinum'];
const REWARDS: Record<string, { cost: number; minTier: number }> = {
  'five-off': { cost: 100, minTier: 0 },
  'ten-percent': { cost: 250, minTier: 0 },
  ship: { cost: 60, minTier: 0 },
  vip: { cost: 10, minTier: 1 },
};

type Op =
  | { t: 'order'; pounds: number; pence: number; shipping: number }
  | { t: 'refund'; pick: number; percent: number }
  | { t: 'cancel'; pick: number }
  | { t: 'redeem'; reward: string }
  | { t: 'adjust'; points: number }
  | { t: 'retry' }
  | { t: 'reuse' }
  | { t: 'review'; days: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      t: fc.constant('order' as const),
      pounds: fc.oneof(fc.integer({ min: 0, max: 1500 }), fc.constantFrom(499, 500, 1999, 2000)),
      pence: fc.integer({ min: 0, max: 99 }),
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
    weight: 4,
    arbitrary: fc.record({ t: fc.constant('redeem' as const), reward: fc.constantFrom(...Object.keys(REWARDS)) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('adjust' as const),
      points: fc.integer({ min: -400, max: 400 }).filter((n) => n !== 0),
    }),
  },
  { weight: 2, arbitrary: fc.constant({ t: 'retry' as const }) },
  { weight: 1, arbitrary: fc.constant({ t: 'reuse' as const }) },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('review' as const),
      days: fc.oneof(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 300, max: 420 })),
    }),
  },
);

const T0 = Date.UTC(2025, 0, 1);

interface ModelOrder {
  id: number;
  placedAt: number;
  subtotal: number;
  total: number;
  refunded: number;
  cancelled: boolean;
  earned: number;
  /** Taken back so far (from the balance, pending points or as debt). */
  reversed: number;
  /** Of which taken while the points were still pending. */
  reversedPending: number;
}

/** The member as the rules say it must be. */
class Model {
  tier = 0;
  reviewAt: number;
  orders: ModelOrder[] = [];
  /** Qualifying events: (when, points), earns positive, reversals negative. */
  events: Array<{ at: number; points: number }> = [];
  /** Everything the member was given less everything taken (earns, reversals, redemptions, adjustments). */
  net = 0;

  constructor(enrolledAt: number) {
    this.reviewAt = enrolledAt + PERIOD;
  }

  pending(now: number): number {
    let sum = 0;
    for (const o of this.orders) if (o.placedAt + RETURN > now) sum += o.earned - o.reversedPending;
    return sum;
  }

  /** Available (≥ 0) and debt (≥ 0) at `now`: at most one of them is non-zero. */
  spendable(now: number): { available: number; debt: number } {
    const x = this.net - this.pending(now);
    return { available: Math.max(0, x), debt: Math.max(0, -x) };
  }

  qualifying(at: number): number {
    let sum = 0;
    for (const e of this.events) if (e.at > at - WINDOW && e.at <= at) sum += e.points;
    return sum;
  }

  reached(value: number): number {
    let tier = 0;
    THRESHOLDS.forEach((threshold, i) => {
      if (value >= threshold) tier = i;
    });
    return tier;
  }

  /**
   * Every review due by `now`, each on its own date and over the year before that date (a review is
   * not held late: read at `now`, a review due months ago still decides on the points of the year
   * before it was due).
   */
  reviewsDue(now: number): void {
    while (this.reviewAt <= now) this.review(this.reviewAt);
  }

  /** The review on its date (or an upgrade at any time). */
  review(at: number): void {
    const reached = this.reached(this.qualifying(at));
    if (reached > this.tier) {
      this.tier = reached;
      this.reviewAt = at + PERIOD;
    } else if (at >= this.reviewAt) {
      this.tier = reached;
      this.reviewAt = at + PERIOD;
    }
  }

  order(o: ModelOrder): void {
    this.reviewsDue(o.placedAt);
    o.earned = Math.floor((o.subtotal * PERCENT[this.tier]!) / 10_000);
    this.orders.push(o);
    if (o.earned > 0) {
      this.net += o.earned;
      this.events.push({ at: o.placedAt, points: o.earned });
      if (this.reached(this.qualifying(o.placedAt)) > this.tier) this.review(o.placedAt);
    }
  }

  reverse(o: ModelOrder, at: number): void {
    if (o.earned === 0) return;
    const all = o.cancelled || o.refunded >= o.total;
    const target = all ? o.earned : Math.floor((o.earned * o.refunded) / o.total);
    const delta = target - o.reversed;
    if (delta <= 0) return;
    o.reversed += delta;
    if (o.placedAt + RETURN > at) o.reversedPending += delta;
    this.net -= delta;
    this.events.push({ at, points: -delta });
    const after = this.qualifying(at);
    if (this.reached(after + delta) >= this.tier && this.reached(after) < this.tier) {
      this.tier = this.reached(after);
      this.reviewAt = at + PERIOD;
    }
  }
}

/** Runs one random history for a new member and checks the product against the model after every step. */
async function runHistory(db: Db, program: Program, ops: Op[]): Promise<void> {
  const l = db.withTables<LoyaltyTables>();
  let now = T0;
  const customerId = await addCustomer(db);
  assert.ok((await enrolMember(db, program, { customerId, now })).ok);
  const model = new Model(now);
  let lastRedeem: { reward: string; key: string; code?: string } | undefined;
  let lastAdjust: { points: number; key: string; applied: boolean } | undefined;
  let redemptions = 0;
  let step = 0;
  // Halfway, the program report as of then: whatever happens afterwards must not change it.
  const snapshotStep = Math.ceil(ops.length / 2);
  let snapshot: { asOf: number; report: ProgramReport } | undefined;
  const sync = async () => {
    await syncOrders(db, program, { now });
    assert.equal((await syncOrders(db, program, { now })).ledgerEntries, 0, 'a second sync books nothing');
  };
  /** A redemption must succeed exactly when the model says it is deserved, and then debit its cost once. */
  const tryRedeem = async (reward: string, key: string, retry: boolean) => {
    const { cost, minTier } = REWARDS[reward]!;
    const result = await redeem(db, program, { customerId, rewardKey: reward, now, idempotencyKey: key });
    if (retry && lastRedeem?.code !== undefined) {
      assert.ok(result.ok, `the retry of an issued code must return it: ${result.ok ? '' : result.error.message}`);
      assert.equal(result.value.created, false);
      assert.equal(result.value.code, lastRedeem.code);
      return;
    }
    const { available } = model.spendable(now);
    if (model.tier < minTier) {
      assert.ok(
        !result.ok && result.error.kind === 'forbidden',
        `${reward} needs tier ${minTier}, member at ${model.tier}`,
      );
    } else if (available < cost) {
      assert.ok(
        !result.ok && result.error.kind === 'insufficient_points',
        `${reward} costs ${cost}, ${available} available`,
      );
    } else {
      assert.ok(
        result.ok,
        `deserved: ${reward} for ${cost} with ${available} available at tier ${model.tier}: ${result.ok ? '' : result.error.message}`,
      );
      assert.equal(result.value.created, true);
      model.net -= cost;
      redemptions += 1;
      lastRedeem = { reward, key, code: result.value.code };
      return;
    }
    lastRedeem = { reward, key };
  };

  for (const o of ops) {
    step += 1;
    now += 60_000;
    switch (o.t) {
      case 'order': {
        const subtotal = o.pounds * 100 + o.pence;
        const id = await addOrder(db, {
          customerId,
          placedAt: now,
          subtotalMinor: subtotal,
          shippingMinor: o.shipping,
        });
        const entry: ModelOrder = {
          id,
          placedAt: now,
          subtotal,
          total: subtotal + o.shipping,
          refunded: 0,
          cancelled: false,
          earned: 0,
          reversed: 0,
          reversedPending: 0,
        };
        model.order(entry);
        await sync();
        break;
      }
      case 'refund':
      case 'cancel': {
        const open = model.orders.filter((x) => !x.cancelled && x.refunded < x.total);
        if (open.length === 0) break;
        const target = open[o.pick % open.length]!;
        if (o.t === 'cancel') {
          await cancelOrder(db, target.id, now);
          target.cancelled = true;
        } else {
          const left = target.total - target.refunded;
          const amount = Math.max(1, Math.ceil((left * o.percent) / 100));
          await refundOrder(db, target.id, amount, now);
          target.refunded += amount;
        }
        model.reverse(target, now);
        await sync();
        break;
      }
      case 'redeem':
        await tryRedeem(o.reward, `prop:${customerId}:${step}`, false);
        break;
      case 'adjust': {
        const key = `prop:${customerId}:${step}`;
        const result = await adjust(db, program, {
          customerId,
          points: o.points,
          reason: 'property test',
          now,
          idempotencyKey: key,
        });
        const { available } = model.spendable(now);
        if (o.points < 0 && available < -o.points) {
          assert.ok(!result.ok && result.error.kind === 'insufficient_points', `−${-o.points} with ${available}`);
          lastAdjust = { points: o.points, key, applied: false };
        } else {
          assert.ok(result.ok, `deserved: ${o.points} with ${available}: ${result.ok ? '' : result.error.message}`);
          assert.equal(result.value.applied, true);
          model.net += o.points;
          lastAdjust = { points: o.points, key, applied: true };
        }
        break;
      }
      case 'retry': {
        // The same redemption and the same adjustment again: nothing may be applied twice.
        if (lastRedeem) await tryRedeem(lastRedeem.reward, lastRedeem.key, true);
        if (lastAdjust?.applied) {
          const again = await adjust(db, program, {
            customerId,
            points: lastAdjust.points,
            reason: 'property test',
            now,
            idempotencyKey: lastAdjust.key,
          });
          assert.ok(again.ok, `an applied adjustment retried must answer ok: ${again.ok ? '' : again.error.message}`);
          assert.equal(again.value.applied, false);
        }
        await sync();
        break;
      }
      case 'reuse': {
        // The last redemption's key with another reward: refused, whatever the balance.
        if (!lastRedeem?.code) break;
        const other = lastRedeem.reward === 'ship' ? 'five-off' : 'ship';
        const result = await redeem(db, program, { customerId, rewardKey: other, now, idempotencyKey: lastRedeem.key });
        assert.ok(!result.ok && result.error.kind === 'conflict');
        break;
      }
      case 'review':
        now += o.days * DAY;
        await settle(db, program, { now });
        model.reviewsDue(now);
        break;
    }
    const status = await memberStatus(db, program, customerId, { asOf: now });
    const expected = model.spendable(now);
    assert.deepEqual(
      { available: status?.available, pending: status?.pending, debt: status?.debt, tier: status?.tier.key },
      { ...expected, pending: model.pending(now), tier: TIERS[model.tier] },
      `after step ${step} (${JSON.stringify(o)})`,
    );
    const audit = await auditLedger(db, { customerId });
    assert.deepEqual(audit.problems, [], `after step ${step} (${o.t})`);
    if (step === snapshotStep) snapshot = { asOf: now, report: await programReport(db, program, { asOf: now }) };
  }
  assert.ok(snapshot);
  // Every figure is the same; only whether a sync has booked the expiries due by then may differ.
  const bookedLater = (r: ProgramReport) => ({ ...r, points: { ...r.points, expiredUnbooked: 0 } });
  assert.deepEqual(
    bookedLater(await programReport(db, program, { asOf: snapshot.asOf })),
    bookedLater(snapshot.report),
    'the report as of a date is unchanged by what happened after it',
  );

  const entries = await l.selectFrom('loyalty_ledger').selectAll().where('customer_id', '=', customerId).execute();
  const codes = await l.selectFrom('loyalty_redemptions').selectAll().where('customer_id', '=', customerId).execute();
  assert.equal(codes.length, redemptions);
  for (const code of codes) {
    const debit = entries.filter((e) => e.kind === 'redeem' && e.idempotency_key === code.ledger_key);
    assert.deepEqual(
      debit.map((e) => e.amount),
      [-code.points],
      `code ${code.code} has exactly its debit`,
    );
  }
  assert.equal(entries.filter((e) => e.kind === 'redeem').length, redemptions, 'no debit without a code');
  for (const o of model.orders) {
    const order = await db.selectFrom('orders').selectAll().where('id', '=', o.id).executeTakeFirstOrThrow();
    assert.ok(order.refunded_minor <= order.total_minor, `order ${o.id}: refunded ${order.refunded_minor} ≤ total`);
    const earned = entries.filter((e) => e.order_id === o.id && e.kind === 'earn').map((e) => e.amount);
    assert.deepEqual(earned, o.earned > 0 ? [o.earned] : [], `order ${o.id}: earned`);
    const reversed = entries
      .filter((e) => e.order_id === o.id && e.kind === 'reverse')
      .reduce((s, e) => s - e.amount, 0);
    assert.equal(reversed, o.reversed, `order ${o.id}: reversed (from the balance and as debt)`);
  }
}

for (const dialect of DIALECTS) {
  describe(`loyalty ledger properties on ${dialect.name}`, { skip: dialect.skip }, () => {
    let t: TestDb;
    let program: Program;
    before(async () => {
      t = await freshDatabase(dialect.name);
      program = await saveProgram(t.store.db, testProgramConfig({ actions: {} }), { now: T0 });
    });
    after(async () => t?.drop());

    test('random orders, refunds, cancellations, redemptions, adjustments, retries and tier reviews follow the rules', async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 30 }), (ops) => runHistory(t.store.db, program, ops)),
        {
          numRuns: dialect.name === 'sqlite' ? 40 : 25,
          verbose: 1,
          // Found by a CI run: Gold from the first order, a second order 30 days later, then read 630 days
          // on. The review due on day 395 counts the year before day 395, which holds the second order
          // (a minute inside it): Gold is kept until day 790. The model had reviewed on day 630 instead.
          examples: [
            [
              [
                { t: 'order', pounds: 500, pence: 0, shipping: 0 },
                { t: 'review', days: 30 },
                { t: 'order', pounds: 499, pence: 0, shipping: 0 },
                { t: 'review', days: 300 },
                { t: 'review', days: 300 },
              ],
            ],
          ],
        },
      );
      const audit = await auditLedger(t.store.db);
      assert.deepEqual(audit.problems, []);
    });
  });
}
