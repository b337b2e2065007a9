import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { addCustomer, addOrder, refundOrder, testProgramConfig } from '../../test/loyalty-fixtures.js';
import { DIALECTS, freshDatabase } from '../../test/setup.js';
import { rewardsPage } from '../hosted/account-pages.js';
import { MS_PER_DAY } from '../shared/dates.js';
import type { Db } from '../store/index.js';
import {
  adjust,
  auditLedger,
  earnForAction,
  enrolMember,
  markCodesUsed,
  memberStatus,
  type Program,
  type ProgramConfig,
  programReport,
  redeem,
  saveProgram,
  settle,
  syncOrders,
} from './index.js';
import type { LoyaltyTables } from './loyalty-tables.js';

// Every expected value below is worked out by hand from the program: 1 point per £1 of merchandise,
// point value 1 minor unit, tiers Blue 0 (×1), Gold 500 (×1.5), Platinum 2,000 (×2) unless a test says
// otherwise; rewards five-off 100, ten-percent 250, ship 60, vip 10 (Gold and up), valid 30 days.

const T0 = Date.UTC(2025, 0, 1);
const day = (n: number) => T0 + n * MS_PER_DAY;
/** Tiers out of reach, so that multipliers stay 1 where a test is about something else. */
const HIGH_TIERS: ProgramConfig['tiers'] = {
  ...testProgramConfig().tiers,
  levels: [
    { key: 'blue', name: 'Blue', threshold: 0, multiplier: 1, perks: [] },
    { key: 'gold', name: 'Gold', threshold: 50_000, multiplier: 1.5, perks: [] },
    { key: 'platinum', name: 'Platinum', threshold: 100_000, multiplier: 2, perks: [] },
  ],
};

function ok<T>(result: { ok: true; value: T } | { ok: false; error: { kind: string; message: string } }): T {
  if (!result.ok) assert.fail(`expected ok, got ${result.error.kind}: ${result.error.message}`);
  return result.value;
}

function refused(
  result: { ok: true; value: unknown } | { ok: false; error: { kind: string; message: string } },
  kind: string,
): string {
  if (result.ok) assert.fail(`expected a ${kind} refusal, got ${JSON.stringify(result.value)}`);
  assert.equal(result.error.kind, kind, result.error.message);
  return result.error.message;
}

async function ledgerOf(db: Db, customerId: number) {
  return db
    .withTables<LoyaltyTables>()
    .selectFrom('loyalty_ledger')
    .selectAll()
    .where('customer_id', '=', customerId)
    .orderBy('id')
    .execute();
}

/** A member with `pounds` of one paid order placed on day 1, synced and settled on day 16 (available). */
async function memberWith(db: Db, program: Program, pounds: number): Promise<{ customerId: number; orderId: number }> {
  const customerId = await addCustomer(db);
  ok(await enrolMember(db, program, { customerId, now: day(0) }));
  const orderId = await addOrder(db, { customerId, placedAt: day(1), subtotalMinor: pounds * 100 });
  await syncOrders(db, program, { now: day(16) });
  return { customerId, orderId };
}

for (const dialect of DIALECTS) {
  describe(`loyalty integrity on ${dialect.name}`, { skip: dialect.skip }, () => {
    /** Runs a test on its own fresh database, so that program-wide figures see only its members. */
    const fresh = async (config: ProgramConfig, fn: (db: Db, program: Program) => Promise<void>) => {
      const t = await freshDatabase(dialect.name);
      try {
        await fn(t.store.db, await saveProgram(t.store.db, config, { now: T0 }));
      } finally {
        await t.drop();
      }
    };
    const plain = testProgramConfig({ actions: { review: { points: 20 } } });

    test('a redemption keyed like an earn entry (order:ID:earn) posts its debit; a retry returns the same code', async () =>
      fresh(plain, async (db, program) => {
        const { customerId, orderId } = await memberWith(db, program, 300);
        const key = `order:${orderId}:earn`;
        const first = ok(
          await redeem(db, program, { customerId, rewardKey: 'five-off', now: day(16), idempotencyKey: key }),
        );
        assert.equal(first.created, true);
        assert.equal(first.balance, 200, '300 earned − 100 for five-off');
        const again = ok(
          await redeem(db, program, { customerId, rewardKey: 'five-off', now: day(17), idempotencyKey: key }),
        );
        assert.equal(again.created, false);
        assert.equal(again.code, first.code);
        assert.equal(again.balance, 200, 'the retry takes nothing');
        const entries = await ledgerOf(db, customerId);
        assert.deepEqual(
          entries.map((e) => [e.kind, e.amount]),
          [
            ['earn', 300],
            ['redeem', -100],
          ],
        );
        assert.deepEqual((await auditLedger(db)).problems, []);
      }));

    test('no debit, no code: a redemption whose ledger key is taken is refused and issues nothing', async () =>
      fresh(plain, async (db, program) => {
        const { customerId } = await memberWith(db, program, 300);
        // An entry already holding the debit's key (as an older version could leave one).
        await db
          .withTables<LoyaltyTables>()
          .insertInto('loyalty_ledger')
          .values({
            customer_id: customerId,
            amount: 0,
            kind: 'adjust',
            reason: 'legacy',
            source: 'admin',
            rule: 'adjust',
            idempotency_key: `redeem:${customerId}:legacy-1`,
            bucket: 'available',
            available_at: day(2),
            occurred_at: day(2),
            created_at: day(2),
            program_version: program.version,
            order_id: null,
            meta: '{}',
          })
          .execute();
        refused(
          await redeem(db, program, { customerId, rewardKey: 'five-off', now: day(16), idempotencyKey: 'legacy-1' }),
          'conflict',
        );
        const codes = await db
          .withTables<LoyaltyTables>()
          .selectFrom('loyalty_redemptions')
          .select('code')
          .where('customer_id', '=', customerId)
          .execute();
        assert.equal(codes.length, 0);
        assert.equal((await memberStatus(db, program, customerId, { asOf: day(16) }))?.available, 300);
      }));

    test('the ledger audit names a code issued without its debit', async () =>
      fresh(plain, async (db, program) => {
        const { customerId, orderId } = await memberWith(db, program, 300);
        assert.deepEqual((await auditLedger(db)).problems, []);
        // The state the old bug left: a code whose key was an earn's key, and no redeem entry.
        await db
          .withTables<LoyaltyTables>()
          .insertInto('loyalty_redemptions')
          .values({
            code: 'CB-NODEBIT01',
            customer_id: customerId,
            reward_key: 'five-off',
            reward: '{}',
            points: 100,
            idempotency_key: `order:${orderId}:earn`,
            min_order_minor: 0,
            issued_at: day(16),
            expires_at: day(46),
            used_at: null,
            used_order_id: null,
            program_version: program.version,
            ledger_key: null,
          })
          .execute();
        assert.deepEqual((await auditLedger(db)).problems, [
          `code CB-NODEBIT01 of member ${customerId}: no redeem debit of 100 points in the ledger`,
        ]);
        assert.equal((await auditLedger(db, { customerId })).problems.length, 1);
      }));

    test('an idempotency key reused with another customer, reward, action or amount is refused (conflict)', async () =>
      fresh(plain, async (db, program) => {
        const a = await memberWith(db, program, 300);
        const b = await memberWith(db, program, 300);
        const first = ok(
          await redeem(db, program, {
            customerId: a.customerId,
            rewardKey: 'five-off',
            now: day(16),
            idempotencyKey: 'k1',
          }),
        );
        const otherCustomer = refused(
          await redeem(db, program, {
            customerId: b.customerId,
            rewardKey: 'five-off',
            now: day(16),
            idempotencyKey: 'k1',
          }),
          'conflict',
        );
        assert.match(otherCustomer, new RegExp(`k1 was already used for reward five-off for customer ${a.customerId}`));
        assert.doesNotMatch(otherCustomer, new RegExp(first.code), "never another customer's code");
        refused(
          await redeem(db, program, {
            customerId: a.customerId,
            rewardKey: 'ship',
            now: day(16),
            idempotencyKey: 'k1',
          }),
          'conflict',
        );
        assert.equal((await memberStatus(db, program, b.customerId, { asOf: day(16) }))?.available, 300);
        assert.equal((await memberStatus(db, program, a.customerId, { asOf: day(16) }))?.available, 200);

        ok(
          await earnForAction(db, program, {
            customerId: a.customerId,
            action: 'review',
            reference: 'r1',
            now: day(16),
            idempotencyKey: 'e1',
          }),
        );
        refused(
          await earnForAction(db, program, {
            customerId: b.customerId,
            action: 'review',
            reference: 'r1',
            now: day(16),
            idempotencyKey: 'e1',
          }),
          'conflict',
        );
        refused(
          await earnForAction(db, program, {
            customerId: a.customerId,
            action: 'review',
            reference: 'r2',
            now: day(16),
            idempotencyKey: 'e1',
          }),
          'conflict',
        );
        const retried = ok(
          await earnForAction(db, program, {
            customerId: a.customerId,
            action: 'review',
            reference: 'r1',
            now: day(17),
            idempotencyKey: 'e1',
          }),
        );
        assert.equal(retried.applied, false);
        // The same key for an order's entry and for an action never meet: order:ID:earn is free here.
        const sameAsOrder = ok(
          await earnForAction(db, program, {
            customerId: a.customerId,
            action: 'review',
            reference: 'r3',
            now: day(17),
            idempotencyKey: `order:${a.orderId}:earn`,
          }),
        );
        assert.equal(sameAsOrder.applied, true);

        ok(
          await adjust(db, program, {
            customerId: a.customerId,
            points: 10,
            reason: 'goodwill',
            now: day(18),
            idempotencyKey: 'j1',
          }),
        );
        refused(
          await adjust(db, program, {
            customerId: a.customerId,
            points: 20,
            reason: 'goodwill',
            now: day(18),
            idempotencyKey: 'j1',
          }),
          'conflict',
        );
        refused(
          await adjust(db, program, {
            customerId: b.customerId,
            points: 10,
            reason: 'goodwill',
            now: day(18),
            idempotencyKey: 'j1',
          }),
          'conflict',
        );
        assert.equal(
          ok(
            await adjust(db, program, {
              customerId: a.customerId,
              points: 10,
              reason: 'goodwill',
              now: day(19),
              idempotencyKey: 'j1',
            }),
          ).applied,
          false,
        );
        // 300 − 100 (five-off) + 20 (r1) + 20 (r3) + 10 (goodwill once).
        assert.equal((await memberStatus(db, program, a.customerId, { asOf: day(19) }))?.available, 250);
        assert.deepEqual((await auditLedger(db)).problems, []);
      }));

    test('points spent before a refund become a debt that later earnings repay first, on the member and in the report', async () =>
      fresh(plain, async (db, program) => {
        const { customerId, orderId } = await memberWith(db, program, 300);
        ok(await redeem(db, program, { customerId, rewardKey: 'ten-percent', now: day(16) }));
        await refundOrder(db, orderId, 30_000, day(20));
        const sync = await syncOrders(db, program, { now: day(21) });
        assert.equal(sync.pointsReversed, 50, 'the 50 left of 300 after 250 were spent');
        assert.equal(sync.shortfall, 250);
        let status = await memberStatus(db, program, customerId, { asOf: day(21) });
        assert.equal(status?.available, 0);
        assert.equal(status?.debt, 250);
        let report = await programReport(db, program, { asOf: day(21) });
        assert.equal(report.outstanding.debt, 250);
        assert.equal(report.outstanding.membersInDebt, 1);
        assert.equal(report.outstanding.debtValueMinor, 250);
        assert.equal(report.points.reversed, 300, '50 taken back and 250 owed');
        refused(await redeem(db, program, { customerId, rewardKey: 'ship', now: day(21) }), 'insufficient_points');

        // £100 more: 100 points pending until day 39, then they repay the debt instead of being spendable.
        await addOrder(db, { customerId, placedAt: day(25), subtotalMinor: 10_000 });
        await syncOrders(db, program, { now: day(26) });
        status = await memberStatus(db, program, customerId, { asOf: day(26) });
        assert.deepEqual([status?.available, status?.pending, status?.debt], [0, 100, 250]);
        status = await memberStatus(db, program, customerId, { asOf: day(40) });
        assert.deepEqual([status?.available, status?.pending, status?.debt], [0, 0, 150], 'shown as it will settle');
        await settle(db, program, { now: day(40) });
        status = await memberStatus(db, program, customerId, { asOf: day(40) });
        assert.deepEqual([status?.available, status?.debt], [0, 150]);
        ok(await adjust(db, program, { customerId, points: 200, reason: 'goodwill', now: day(41) }));
        status = await memberStatus(db, program, customerId, { asOf: day(41) });
        assert.deepEqual([status?.available, status?.debt], [50, 0], '200 repay the 150 owed, 50 are left');
        assert.deepEqual((await auditLedger(db)).problems, []);

        report = await programReport(db, program, { asOf: day(41) });
        assert.deepEqual(
          [report.outstanding.available, report.outstanding.debt, report.outstanding.membersInDebt],
          [50, 0, 0],
        );
        report = await programReport(db, program, { asOf: day(40) });
        assert.equal(report.outstanding.debt, 150);
        report = await programReport(db, program, { asOf: day(21) });
        assert.equal(report.outstanding.debt, 250, 'as of day 21, whenever it runs');
      }));

    test('read years later, a tier steps down review by review, each on the window ending at its date, as a sync then books it', async () =>
      fresh(plain, async (db, program) => {
        const customerId = await addCustomer(db);
        ok(await enrolMember(db, program, { customerId, now: day(0) }));
        await addOrder(db, { customerId, placedAt: day(1), subtotalMinor: 250_000 });
        await syncOrders(db, program, { now: day(2) });
        const platinum = (await memberStatus(db, program, customerId, { asOf: day(2) }))!;
        assert.equal(platinum.tier.key, 'platinum');
        const period = (365 + 30) * MS_PER_DAY;
        const r1 = platinum.tier.reviewAt;
        // 100 days before the first review, £600 at Platinum ×2: 1,200 points in its window (Gold, not
        // Platinum; the £2,500 order is more than 365 days before it).
        await addOrder(db, { customerId, placedAt: r1 - 100 * MS_PER_DAY, subtotalMinor: 60_000 });
        await syncOrders(db, program, { now: r1 - 80 * MS_PER_DAY });
        // Keeping Platinum at r1 takes 2,000 points in (r1 − 365 days, r1]: 1,200 so far, 800 to go. The
        // member's own page says so, in the store's words.
        const mid = (await memberStatus(db, program, customerId, { asOf: r1 - 80 * MS_PER_DAY }))!;
        assert.deepEqual(mid.tierKeep, { reviewAt: r1, threshold: 2_000, counted: 1_200, missing: 800 });
        const date = new Date(r1 - 1).toLocaleDateString('en-GB', {
          day: 'numeric',
          month: 'long',
          year: 'numeric',
          timeZone: 'UTC',
        });
        assert.match(
          rewardsPage('en', mid, program.config),
          new RegExp(`<p class="muted" data-keep-tier>800 points more by ${date} to keep Platinum</p>`),
        );
        // Read three periods after the first review, nothing synced since: Gold from the first review,
        // Blue from the second (nothing earned in the window before it), no change at the third.
        const asOf = r1 + 3 * period + MS_PER_DAY;
        const read = (await memberStatus(db, program, customerId, { asOf }))!;
        assert.deepEqual([read.tier.key, read.tier.since, read.tier.reviewAt], ['blue', r1 + period, r1 + 4 * period]);
        assert.deepEqual(read.tierHistory.slice(-2), [
          { from: 'platinum', to: 'gold', at: r1, reason: 'downgrade' },
          { from: 'gold', to: 'blue', at: r1 + period, reason: 'downgrade' },
        ]);
        const summary = await settle(db, program, { now: asOf });
        assert.equal(summary.downgrades, 1, 'one member downgraded');
        const booked = (await memberStatus(db, program, customerId, { asOf }))!;
        assert.deepEqual(booked.tier, read.tier);
        assert.deepEqual(booked.tierHistory, read.tierHistory);
        const history = await db
          .withTables<LoyaltyTables>()
          .selectFrom('loyalty_tier_history')
          .select(['to_tier', 'qualifying_value'])
          .where('customer_id', '=', customerId)
          .where('reason', '=', 'downgrade')
          .orderBy('changed_at')
          .execute();
        assert.deepEqual(
          history.map((h) => [h.to_tier, Number(h.qualifying_value)]),
          [
            ['gold', 1_200],
            ['blue', 0],
          ],
        );
      }));

    test('a refunded order that lifted a member to the top tier drops them at once; the next £100 earns ×1', async () =>
      fresh(plain, async (db, program) => {
        const customerId = await addCustomer(db);
        ok(await enrolMember(db, program, { customerId, now: day(0) }));
        const big = await addOrder(db, { customerId, placedAt: day(1), subtotalMinor: 250_000 });
        let sync = await syncOrders(db, program, { now: day(2) });
        assert.equal(sync.upgrades, 1);
        assert.equal((await memberStatus(db, program, customerId, { asOf: day(2) }))?.tier.key, 'platinum');
        await refundOrder(db, big, 250_000, day(3));
        sync = await syncOrders(db, program, { now: day(4) });
        assert.equal(sync.downgrades, 1);
        const status = await memberStatus(db, program, customerId, { asOf: day(4) });
        assert.equal(status?.tier.key, 'blue');
        assert.deepEqual(status?.tierHistory.at(-1), { from: 'platinum', to: 'blue', at: day(3), reason: 'refund' });
        const next = await addOrder(db, { customerId, placedAt: day(5), subtotalMinor: 10_000 });
        await syncOrders(db, program, { now: day(6) });
        const earn = (await ledgerOf(db, customerId)).find((e) => e.order_id === next && e.kind === 'earn');
        assert.equal(earn?.amount, 100, '£100 at the base multiplier, not 200 at Platinum');
        const report = await programReport(db, program, { asOf: day(6) });
        assert.deepEqual([report.upgrades, report.downgrades], [1, 1]);
        assert.deepEqual(
          report.tiers.map((t) => t.members),
          [1, 0, 0],
        );
      }));

    test('on a spend basis too, a refunded order that lifted the tier drops it at once', async () =>
      fresh(
        {
          ...plain,
          tiers: {
            ...plain.tiers,
            basis: 'spend',
            levels: [
              { key: 'blue', name: 'Blue', threshold: 0, multiplier: 1, perks: [] },
              { key: 'gold', name: 'Gold', threshold: 50_000, multiplier: 1.5, perks: [] },
              { key: 'platinum', name: 'Platinum', threshold: 200_000, multiplier: 2, perks: [] },
            ],
          },
        },
        async (db, program) => {
          const customerId = await addCustomer(db);
          ok(await enrolMember(db, program, { customerId, now: day(0) }));
          await addOrder(db, { customerId, placedAt: day(1), subtotalMinor: 60_000 });
          const big = await addOrder(db, { customerId, placedAt: day(2), subtotalMinor: 250_000 });
          await syncOrders(db, program, { now: day(3) });
          assert.equal((await memberStatus(db, program, customerId, { asOf: day(3) }))?.tier.key, 'platinum');
          // £2,500 of £3,100 refunded: £600 net still holds Gold (£500), not Platinum (£2,000).
          await refundOrder(db, big, 250_000, day(4));
          await syncOrders(db, program, { now: day(5) });
          assert.equal((await memberStatus(db, program, customerId, { asOf: day(5) }))?.tier.key, 'gold');
          const next = await addOrder(db, { customerId, placedAt: day(6), subtotalMinor: 10_000 });
          await syncOrders(db, program, { now: day(7) });
          const earn = (await ledgerOf(db, customerId)).find((e) => e.order_id === next && e.kind === 'earn');
          assert.equal(earn?.amount, 150, '£100 at Gold ×1.5');
        },
      ));

    test('a refund that leaves the qualifying points above the tier keeps it', async () =>
      fresh(plain, async (db, program) => {
        const customerId = await addCustomer(db);
        ok(await enrolMember(db, program, { customerId, now: day(0) }));
        const first = await addOrder(db, { customerId, placedAt: day(1), subtotalMinor: 50_000 });
        await syncOrders(db, program, { now: day(2) });
        await addOrder(db, { customerId, placedAt: day(3), subtotalMinor: 10_000 });
        await syncOrders(db, program, { now: day(4) });
        // 500 (Gold from here) + 150 (£100 at ×1.5) = 650; refunding £10 of the first takes 10: 640 ≥ 500.
        await refundOrder(db, first, 1_000, day(5));
        const sync = await syncOrders(db, program, { now: day(6) });
        assert.equal(sync.downgrades, 0);
        assert.equal((await memberStatus(db, program, customerId, { asOf: day(6) }))?.tier.key, 'gold');
        // Refunding the rest of it takes 490 more: 150 < 500, back to Blue.
        await refundOrder(db, first, 49_000, day(7));
        await syncOrders(db, program, { now: day(8) });
        assert.equal((await memberStatus(db, program, customerId, { asOf: day(8) }))?.tier.key, 'blue');
      }));

    test('the report as of a date reads the ledger up to it: the same figures before and after later activity', async () =>
      fresh({ ...plain, tiers: HIGH_TIERS }, async (db, program) => {
        const customerId = await addCustomer(db);
        ok(await enrolMember(db, program, { customerId, now: day(0) }));
        await addOrder(db, { customerId, placedAt: day(1), subtotalMinor: 20_000 });
        await syncOrders(db, program, { now: day(2) });
        const before = await programReport(db, program, { asOf: day(10) });
        assert.deepEqual(
          [before.members, before.outstanding.available, before.outstanding.pending, before.outstanding.liabilityMinor],
          [1, 0, 200, 200],
          '200 points pending until day 15, worth 200 pence',
        );
        // Later: the points settle, half are spent, more orders, a new member.
        await settle(db, program, { now: day(20) });
        ok(await redeem(db, program, { customerId, rewardKey: 'five-off', now: day(20) }));
        await addOrder(db, { customerId, placedAt: day(21), subtotalMinor: 5_000 });
        const other = await addCustomer(db);
        ok(await enrolMember(db, program, { customerId: other, now: day(21) }));
        await syncOrders(db, program, { now: day(22) });
        await settle(db, program, { now: day(60) });
        assert.deepEqual(await programReport(db, program, { asOf: day(10) }), before);
        const later = await programReport(db, program, { asOf: day(20) });
        assert.deepEqual(
          [later.members, later.outstanding.available, later.outstanding.pending, later.points.redeemed],
          [1, 100, 0, 100],
        );
        const last = await programReport(db, program, { asOf: day(60) });
        assert.deepEqual([last.members, last.outstanding.available, last.outstanding.pending], [2, 150, 0]);
      }));

    test('points issued gross and net of reversals, each with its redemption rate', async () =>
      fresh({ ...plain, tiers: HIGH_TIERS }, async (db, program) => {
        const customerId = await addCustomer(db);
        ok(await enrolMember(db, program, { customerId, now: day(0) }));
        await addOrder(db, { customerId, placedAt: day(1), subtotalMinor: 60_000 });
        const second = await addOrder(db, { customerId, placedAt: day(1), subtotalMinor: 40_000 });
        await syncOrders(db, program, { now: day(16) });
        await refundOrder(db, second, 20_000, day(17));
        await syncOrders(db, program, { now: day(18) });
        for (let i = 0; i < 5; i++) ok(await redeem(db, program, { customerId, rewardKey: 'five-off', now: day(18) }));
        const r = await programReport(db, program, { asOf: day(18) });
        // 1,000 issued, 200 reversed (half of the £400 order), 500 redeemed: 50 % of gross, 62.5 % of net.
        assert.deepEqual(
          [r.points.issuedGross, r.points.reversed, r.points.issuedNet, r.points.redeemed],
          [1000, 200, 800, 500],
        );
        assert.equal(r.redemptionRateGross, 0.5);
        assert.equal(r.redemptionRateNet, 0.625);
      }));

    test('a refund outside the return window takes its own lot; expiry takes the oldest remaining (issue 13)', async () =>
      fresh(
        {
          ...plain,
          tiers: HIGH_TIERS,
          expiry: { mode: 'lot', days: 365 },
          earning: { ...plain.earning, returnWindowDays: 0 },
        },
        async (db, program) => {
          const at = (text: string) => Date.parse(`${text}T00:00:00Z`);
          const customerId = await addCustomer(db);
          ok(await enrolMember(db, program, { customerId, now: at('2023-01-01') }));
          await addOrder(db, { customerId, placedAt: at('2023-01-10'), subtotalMinor: 10_000 });
          await syncOrders(db, program, { now: at('2023-01-11') });
          ok(await redeem(db, program, { customerId, rewardKey: 'ship', now: at('2023-02-01') }));
          const b = await addOrder(db, { customerId, placedAt: at('2023-06-01'), subtotalMinor: 10_000 });
          await syncOrders(db, program, { now: at('2023-06-02') });
          await refundOrder(db, b, 10_000, at('2023-07-01'));
          await syncOrders(db, program, { now: at('2023-07-02') });
          // Lot A (100 on 2023-01-10) lost 60 to the redemption; lot B (2023-06-01) went back with its refund.
          const first = await settle(db, program, { now: at('2024-01-11') });
          assert.equal(first.expired, 40);
          const expiry = (await ledgerOf(db, customerId)).filter((e) => e.kind === 'expire');
          assert.deepEqual(
            expiry.map((e) => [e.amount, e.occurred_at]),
            [[-40, at('2024-01-10')]],
          );
          assert.match(expiry[0]!.reason, /2023-01-10/);
          assert.equal((await settle(db, program, { now: at('2024-06-01') })).expired, 0, 'nothing of lot B is left');
          assert.deepEqual((await auditLedger(db)).problems, []);
        },
      ));

    test('a reward code counts for an order placed exactly at its expiry, not one a millisecond later', async () =>
      fresh(plain, async (db, program) => {
        const { customerId } = await memberWith(db, program, 300);
        const onTime = ok(await redeem(db, program, { customerId, rewardKey: 'five-off', now: day(16) }));
        const late = ok(await redeem(db, program, { customerId, rewardKey: 'five-off', now: day(16) }));
        assert.equal(onTime.expiresAt, day(46), '30 days');
        const o1 = await addOrder(db, {
          customerId,
          placedAt: day(46),
          subtotalMinor: 3_000,
          discountCodes: [onTime.code],
        });
        await addOrder(db, { customerId, placedAt: day(46) + 1, subtotalMinor: 3_000, discountCodes: [late.code] });
        assert.equal(await markCodesUsed(db), 1);
        const used = await db
          .withTables<LoyaltyTables>()
          .selectFrom('loyalty_redemptions')
          .select(['code', 'used_order_id'])
          .orderBy('id')
          .execute();
        assert.deepEqual(used, [
          { code: onTime.code, used_order_id: o1 },
          { code: late.code, used_order_id: null },
        ]);
      }));

    test('a member exactly at the tier a reward needs redeems it; one point below does not', async () =>
      fresh(plain, async (db, program) => {
        const gold = await memberWith(db, program, 500);
        const blue = await memberWith(db, program, 499);
        assert.equal((await memberStatus(db, program, gold.customerId, { asOf: day(16) }))?.tier.key, 'gold');
        assert.equal((await memberStatus(db, program, blue.customerId, { asOf: day(16) }))?.tier.key, 'blue');
        const issued = ok(await redeem(db, program, { customerId: gold.customerId, rewardKey: 'vip', now: day(16) }));
        assert.equal(issued.balance, 490);
        refused(
          await redeem(db, program, { customerId: blue.customerId, rewardKey: 'vip', now: day(16) }),
          'forbidden',
        );
      }));
  });
}
