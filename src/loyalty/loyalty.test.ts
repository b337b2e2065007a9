import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { addCustomer, addOrder, cancelOrder, refundOrder, testProgramConfig } from '../../test/loyalty-fixtures.js';
import { DIALECTS, freshDatabase, type TestDb } from '../../test/setup.js';
import { importFile } from '../ingest/index.js';
import { MS_PER_DAY } from '../shared/dates.js';
import { samplePath } from '../shared/paths.js';
import type { Db } from '../store/index.js';
import {
  adjust,
  auditLedger,
  dormantMembers,
  earnForAction,
  enrolMember,
  markCodesUsed,
  memberStatus,
  type Program,
  type ProgramConfig,
  programReport,
  redeem,
  reversalTarget,
  saveProgram,
  settle,
  syncOrders,
} from './index.js';
import type { LoyaltyTables } from './loyalty-tables.js';

const T0 = Date.UTC(2025, 0, 1);
const day = (n: number) => T0 + n * MS_PER_DAY;

function ok<T>(result: { ok: true; value: T } | { ok: false; error: { kind: string; message: string } }): T {
  if (!result.ok) assert.fail(`expected ok, got ${result.error.kind}: ${result.error.message}`);
  return result.value;
}

async function assertAudit(db: Db) {
  const audit = await auditLedger(db);
  assert.deepEqual(audit.problems, []);
}

for (const dialect of DIALECTS) {
  describe(`loyalty on ${dialect.name}`, { skip: dialect.skip }, () => {
    let t: TestDb;
    let db: Db;
    let program: Program;
    const withConfig = async (config: ProgramConfig) => saveProgram(db, config, { now: T0 });
    before(async () => {
      t = await freshDatabase(dialect.name);
      db = t.store.db;
      program = await withConfig(testProgramConfig());
    });
    after(async () => t?.drop());

    test('configuration changes are new versions; entries name the version they were computed under', async () => {
      const same = await saveProgram(db, testProgramConfig(), { now: day(1) });
      assert.equal(same.version, program.version);
      const changed = await saveProgram(db, testProgramConfig({ dormantDays: 91 }), { now: day(1) });
      assert.equal(changed.version, program.version + 1);
      const c = await addCustomer(db);
      ok(await enrolMember(db, changed, { customerId: c, now: day(1) }));
      const entry = await db
        .withTables<LoyaltyTables>()
        .selectFrom('loyalty_ledger')
        .select('program_version')
        .where('customer_id', '=', c)
        .executeTakeFirstOrThrow();
      assert.equal(entry.program_version, changed.version);
      program = await saveProgram(db, testProgramConfig(), { now: day(2) });
      assert.equal(program.version, changed.version + 1);
    });

    test('paid orders earn pending points that settle after the return window; refunds take back their share', async () => {
      const c = await addCustomer(db);
      const before = await addOrder(db, { customerId: c, placedAt: day(-1), subtotalMinor: 10_000 });
      ok(await enrolMember(db, program, { customerId: c, now: day(0) }));
      const o1 = await addOrder(db, {
        customerId: c,
        placedAt: day(1),
        subtotalMinor: 12_345,
        shippingMinor: 495,
        taxMinor: 250,
      });
      await addOrder(db, { customerId: c, placedAt: day(1), subtotalMinor: 50_000, currency: 'EUR' });
      await addOrder(db, { customerId: c, placedAt: day(1), subtotalMinor: 50_000, status: 'pending' });
      // A customer who bought only in euros is not enrolled; the order is counted all the same.
      const euro = await addCustomer(db);
      await addOrder(db, { customerId: euro, placedAt: day(1), subtotalMinor: 7_000, currency: 'EUR' });
      const summary = await syncOrders(db, program, { now: day(1) });
      assert.equal(summary.pointsEarned, 123, 'floor(£123.45 × 1), shipping and tax excluded');
      assert.equal(summary.otherCurrency, 2, "the member's euro order and the non-member's");
      assert.equal(await memberStatus(db, program, euro, { asOf: day(2) }), undefined);
      let status = (await memberStatus(db, program, c, { asOf: day(2) }))!;
      assert.equal(status.available, 50, 'only the sign-up points are spendable');
      assert.equal(status.pending, 123);
      status = (await memberStatus(db, program, c, { asOf: day(16) }))!;
      assert.equal(status.available, 173, 'available once the 14-day window has passed (computed on read)');

      await refundOrder(db, o1, 6_545, day(3)); // half of the £130.90 total
      const again = await syncOrders(db, program, { now: day(3) });
      const half = reversalTarget(123, 6_545, 13_090, false);
      assert.equal(again.pointsReversed, half);
      assert.equal((await memberStatus(db, program, c, { asOf: day(3) }))!.pending, 123 - half);
      await refundOrder(db, o1, 6_545, day(4));
      await syncOrders(db, program, { now: day(4) });
      const rerun = await syncOrders(db, program, { now: day(4) });
      assert.equal(rerun.ledgerEntries, 0, 'a rerun books nothing');
      status = (await memberStatus(db, program, c, { asOf: day(30) }))!;
      assert.equal(status.available, 50);
      assert.equal(status.pending, 0);
      const state = await db
        .withTables<LoyaltyTables>()
        .selectFrom('loyalty_orders')
        .selectAll()
        .where('order_id', 'in', [o1, before])
        .orderBy('order_id')
        .execute();
      assert.deepEqual(
        state.map((s) => [s.earned, s.reversed]),
        [
          [0, 0],
          [123, 123],
        ],
        'the order placed before enrolment earns nothing; the refunded one is fully reversed',
      );
      await settle(db, program, { now: day(30) });
      await assertAudit(db);
    });

    test('a reversal never overdraws: points already spent are recorded as shortfall', async () => {
      const c = await addCustomer(db);
      ok(await enrolMember(db, program, { customerId: c, now: day(0) }));
      const o = await addOrder(db, { customerId: c, placedAt: day(1), subtotalMinor: 20_000 });
      await syncOrders(db, program, { now: day(1) });
      await settle(db, program, { now: day(20) });
      ok(await redeem(db, program, { customerId: c, rewardKey: 'ten-percent', now: day(20) })); // 250 ≥ 200 + 50
      await cancelOrder(db, o, day(21));
      const s = await syncOrders(db, program, { now: day(21) });
      assert.equal(s.pointsReversed, 0);
      assert.equal(s.shortfall, 200);
      assert.equal((await memberStatus(db, program, c, { asOf: day(21) }))!.available, 0);
      await assertAudit(db);
    });

    test('redemption debits points and issues a unique single-use code; codes used on imported orders are marked', async () => {
      const c = await addCustomer(db);
      ok(await enrolMember(db, program, { customerId: c, now: day(0) }));
      ok(await adjust(db, program, { customerId: c, points: 200, reason: 'goodwill', now: day(0) }));
      const r = ok(
        await redeem(db, program, { customerId: c, rewardKey: 'five-off', now: day(1), idempotencyKey: 'k1' }),
      );
      assert.match(r.code, /^CB-[2-9A-HJKMNP-Z]{10}$/);
      assert.equal(r.balance, 150);
      assert.equal(r.minOrderMinor, 2000);
      assert.equal(r.expiresAt, day(31));
      const retry = ok(
        await redeem(db, program, { customerId: c, rewardKey: 'five-off', now: day(1), idempotencyKey: 'k1' }),
      );
      assert.equal(retry.code, r.code);
      assert.equal(retry.created, false);
      assert.equal(retry.balance, 150);
      const poor = await redeem(db, program, { customerId: c, rewardKey: 'ten-percent', now: day(1) });
      assert.equal(poor.ok ? 'ok' : poor.error.kind, 'insufficient_points');
      const blue = await redeem(db, program, { customerId: c, rewardKey: 'vip', now: day(1) });
      assert.equal(blue.ok ? 'ok' : blue.error.kind, 'forbidden');
      const unknown = await redeem(db, program, { customerId: c, rewardKey: 'nope', now: day(1) });
      assert.equal(unknown.ok ? 'ok' : unknown.error.kind, 'not_found');

      await addOrder(db, { customerId: c, placedAt: day(0), subtotalMinor: 3000, discountCodes: [r.code] });
      assert.equal(await markCodesUsed(db), 0, 'an order placed before the code was issued does not use it');
      const used = await addOrder(db, {
        customerId: c,
        placedAt: day(2),
        subtotalMinor: 3000,
        discountCodes: [r.code.toLowerCase()],
      });
      assert.equal(await markCodesUsed(db), 1);
      assert.equal(await markCodesUsed(db), 0);
      const status = (await memberStatus(db, program, c, { asOf: day(3) }))!;
      assert.equal(status.redemptions[0]!.usedAt, day(2));
      const row = await db
        .withTables<LoyaltyTables>()
        .selectFrom('loyalty_redemptions')
        .select('used_order_id')
        .where('code', '=', r.code)
        .executeTakeFirstOrThrow();
      assert.equal(row.used_order_id, used);
      await assertAudit(db);
    });

    test('actions credit points under their limits', async () => {
      const a = await addCustomer(db);
      const b = await addCustomer(db);
      const c = await addCustomer(db);
      for (const id of [a, b, c]) ok(await enrolMember(db, program, { customerId: id, now: day(0) }));
      const review = (ref: string, when: number) =>
        earnForAction(db, program, { customerId: a, action: 'review', reference: ref, now: when });
      assert.equal(ok(await review('r1', day(1))).points, 20);
      assert.equal(ok(await review('r2', day(2))).points, 20);
      const third = await review('r3', day(3));
      assert.equal(third.ok ? 'ok' : third.error.kind, 'conflict');
      assert.equal(ok(await review('r4', day(40))).points, 20, 'the 30-day period rolls on');
      assert.equal(ok(await review('r4', day(41))).applied, false, 'the same review twice is a retry');

      const share = (n: number, when: number) =>
        earnForAction(db, program, { customerId: a, action: 'share', reference: `s${n}`, now: when });
      ok(await share(1, day(5) + 1000));
      ok(await share(2, day(5) + 2000));
      assert.equal((await share(3, day(5) + 3000)).ok, false, 'daily cap of 2');
      ok(await share(4, day(6) + 1000));

      assert.equal(
        ok(await earnForAction(db, program, { customerId: a, action: 'birthday', now: day(100) })).points,
        100,
      );
      assert.equal(
        ok(await earnForAction(db, program, { customerId: a, action: 'birthday', now: day(101) })).applied,
        false,
      );

      ok(await earnForAction(db, program, { customerId: a, action: 'custom:contest', now: day(1) }));
      assert.equal(
        (await earnForAction(db, program, { customerId: a, action: 'custom:contest', now: day(2), reference: 'x' })).ok,
        false,
      );
      ok(await earnForAction(db, program, { customerId: b, action: 'custom:contest', now: day(1) }));
      const overBudget = await earnForAction(db, program, { customerId: c, action: 'custom:contest', now: day(1) });
      assert.ok(!overBudget.ok && /budget/.test(overBudget.error.message));
      const missing = await earnForAction(db, program, { customerId: a, action: 'custom:nope', now: day(1) });
      assert.equal(missing.ok ? 'ok' : missing.error.kind, 'not_found');
      const stranger = await earnForAction(db, program, { customerId: 999_999, action: 'review', now: day(1) });
      assert.equal(stranger.ok ? 'ok' : stranger.error.kind, 'not_found');
      await assertAudit(db);
    });

    test('referrals: both sides on the first paid order, self-referrals refused', async () => {
      const referrer = await addCustomer(db, { email: 'ann@example.com', phone: '+441111', address: '1 high st' });
      const friend = await addCustomer(db, { email: 'bob@example.com' });
      const sameEmail = await addCustomer(db, { email: 'ann@example.com.uk', phone: '+441111' });
      const sameAddress = await addCustomer(db, { address: '1 high st' });
      const code = ok(await enrolMember(db, program, { customerId: referrer, now: day(0) })).referralCode;
      const f = ok(
        await enrolMember(db, program, { customerId: friend, now: day(1), referralCode: code.toLowerCase() }),
      );
      assert.deepEqual(f.referral, { status: 'pending', reason: null });
      const s1 = ok(await enrolMember(db, program, { customerId: sameEmail, now: day(1), referralCode: code }));
      assert.deepEqual(s1.referral, { status: 'rejected', reason: 'self-referral: same phone' });
      const s2 = ok(await enrolMember(db, program, { customerId: sameAddress, now: day(1), referralCode: code }));
      assert.deepEqual(s2.referral, { status: 'rejected', reason: 'self-referral: same address' });

      const buyer = await addCustomer(db, { email: 'old@example.com' });
      await addOrder(db, { customerId: buyer, placedAt: day(-5), subtotalMinor: 1000 });
      const existing = ok(await enrolMember(db, program, { customerId: buyer, now: day(1), referralCode: code }));
      assert.deepEqual(existing.referral, { status: 'rejected', reason: 'not a new customer: has bought before' });

      const before = (await memberStatus(db, program, referrer, { asOf: day(2) }))!.available;
      await addOrder(db, { customerId: friend, placedAt: day(2), subtotalMinor: 1000 });
      await addOrder(db, { customerId: sameAddress, placedAt: day(2), subtotalMinor: 1000 });
      await syncOrders(db, program, { now: day(2) });
      await addOrder(db, { customerId: friend, placedAt: day(3), subtotalMinor: 1000 });
      await syncOrders(db, program, { now: day(3) });
      assert.equal((await memberStatus(db, program, referrer, { asOf: day(3) }))!.available, before + 300);
      const friendStatus = (await memberStatus(db, program, friend, { asOf: day(3) }))!;
      assert.equal(friendStatus.available, 50 + 150, 'sign-up and referee points; order points still pending');
      await assertAudit(db);
    });

    test('tiers: upgrades at once on points earned in the window, downgrades only after the period and grace', async () => {
      const c = await addCustomer(db);
      ok(await enrolMember(db, program, { customerId: c, now: day(0) }));
      await addOrder(db, { customerId: c, placedAt: day(10), subtotalMinor: 60_000 }); // 600 points → gold
      await addOrder(db, { customerId: c, placedAt: day(20), subtotalMinor: 10_000 }); // 100 × 1.5
      await syncOrders(db, program, { now: day(20) });
      let status = (await memberStatus(db, program, c, { asOf: day(20) }))!;
      assert.equal(status.tier.key, 'gold');
      assert.equal(status.tier.multiplier, 1.5);
      assert.equal(status.pending, 600 + 150);
      // The qualifying window (365 days) has long passed by day 390, but review is at day 10 + 365 + 30.
      await settle(db, program, { now: day(390) });
      assert.equal((await memberStatus(db, program, c, { asOf: day(390) }))!.tier.key, 'gold');
      await settle(db, program, { now: day(406) });
      status = (await memberStatus(db, program, c, { asOf: day(406) }))!;
      assert.equal(status.tier.key, 'blue');
      assert.deepEqual(
        status.tierHistory.map((h) => [h.from, h.to, h.reason]),
        [
          [null, 'blue', 'enrolled'],
          ['blue', 'gold', 'upgrade'],
          ['gold', 'blue', 'downgrade'],
        ],
      );
      await assertAudit(db);
    });

    test('a sync weighs a refund on its own date, after the orders placed before it: the tier history reads in order', async () => {
      const c = await addCustomer(db);
      ok(await enrolMember(db, program, { customerId: c, now: day(0) }));
      const first = await addOrder(db, { customerId: c, placedAt: day(10), subtotalMinor: 60_000 }); // 600 → Gold
      await addOrder(db, { customerId: c, placedAt: day(20), subtotalMinor: 120_000 }); // 1,200 × 1.5 → Platinum
      await refundOrder(db, first, 20_000, day(30)); // a third of the first order back: −200 points
      // One sync sees it all at once. Weighed on day 30 with the second order counted (50 + 600 + 1,800
      // − 200 = 2,250), the refund keeps Platinum; weighed before it (450), it would have dropped the
      // member to Blue on day 30, behind an upgrade on day 20 that then earned at Blue's rate.
      await syncOrders(db, program, { now: day(40), batchSize: 1 });
      const status = (await memberStatus(db, program, c, { asOf: day(40) }))!;
      assert.equal(status.tier.key, 'platinum');
      assert.deepEqual(
        status.tierHistory.map((h) => [h.from, h.to, h.reason, h.at]),
        [
          [null, 'blue', 'enrolled', day(0)],
          ['blue', 'gold', 'upgrade', day(10)],
          ['gold', 'platinum', 'upgrade', day(20)],
        ],
      );
      const entries = await db
        .withTables<LoyaltyTables>()
        .selectFrom('loyalty_ledger')
        .select(['kind', 'amount', 'occurred_at'])
        .where('customer_id', '=', c)
        .where('source', '=', 'order')
        .orderBy('occurred_at')
        .execute();
      assert.deepEqual(
        entries.map((e) => [e.kind, e.amount, Number(e.occurred_at)]),
        [
          ['earn', 600, day(10)],
          ['earn', 1800, day(20)],
          ['reverse', -200, day(30)],
        ],
      );
      // Nothing is left for the next run: the refund was seen.
      const again = await syncOrders(db, program, { now: day(40) });
      assert.equal(again.ledgerEntries, 0);
      await assertAudit(db);
    });

    test('expiry: oldest lots first, or everything after inactivity; never twice', async () => {
      const lot = await withConfig(testProgramConfig({ expiry: { mode: 'lot', days: 30 }, actions: {} }));
      const c = await addCustomer(db);
      ok(await enrolMember(db, lot, { customerId: c, now: day(0) }));
      ok(await adjust(db, lot, { customerId: c, points: 100, reason: 'lot one', now: day(0) }));
      ok(await adjust(db, lot, { customerId: c, points: 50, reason: 'lot two', now: day(20) }));
      ok(await redeem(db, lot, { customerId: c, rewardKey: 'ship', now: day(25) })); // 60 from lot one
      await settle(db, lot, { now: day(31) });
      assert.equal((await memberStatus(db, lot, c, { asOf: day(31) }))!.available, 50);
      await settle(db, lot, { now: day(31) });
      await settle(db, lot, { now: day(51) });
      assert.equal((await memberStatus(db, lot, c, { asOf: day(51) }))!.available, 0);
      const expired = await db
        .withTables<LoyaltyTables>()
        .selectFrom('loyalty_ledger')
        .select('amount')
        .where('customer_id', '=', c)
        .where('kind', '=', 'expire')
        .orderBy('id')
        .execute();
      assert.deepEqual(
        expired.map((e) => e.amount),
        [-40, -50],
      );

      const idle = await withConfig(testProgramConfig({ expiry: { mode: 'inactivity', days: 60 }, actions: {} }));
      const d = await addCustomer(db);
      ok(await enrolMember(db, idle, { customerId: d, now: day(0) }));
      await addOrder(db, { customerId: d, placedAt: day(1), subtotalMinor: 7_000 });
      await syncOrders(db, idle, { now: day(1) });
      await settle(db, idle, { now: day(60) });
      assert.equal((await memberStatus(db, idle, d, { asOf: day(60) }))!.available, 70);
      await settle(db, idle, { now: day(62) });
      await settle(db, idle, { now: day(63) });
      assert.equal((await memberStatus(db, idle, d, { asOf: day(63) }))!.available, 0);
      // Not booked yet: the dormant list reads the inactivity expiry as the member's own view does.
      const e = await addCustomer(db);
      ok(await enrolMember(db, idle, { customerId: e, now: day(0) }));
      ok(await adjust(db, idle, { customerId: e, points: 50, reason: 'welcome', now: day(0) }));
      const listed = async (asOf: number) =>
        (await dormantMembers(db, idle, { asOf, days: 30 })).find((m) => m.customerId === e)?.balance;
      assert.equal(await listed(day(59)), 50, 'the welcome points, 59 days without activity');
      assert.equal(await listed(day(61)), 0, 'expired after 60 days, though no sync booked it');
      assert.equal((await memberStatus(db, idle, e, { asOf: day(61) }))!.available, 0);
      program = await withConfig(testProgramConfig());
      await assertAudit(db);
    });

    test('expired points are neither shown as available nor spent, before any sync books the expiry', async () => {
      const lot = await withConfig(testProgramConfig({ expiry: { mode: 'lot', days: 30 }, actions: {} }));
      const c = await addCustomer(db);
      ok(await enrolMember(db, lot, { customerId: c, now: day(0) }));
      ok(await adjust(db, lot, { customerId: c, points: 100, reason: 'lot one', now: day(0) }));
      ok(await adjust(db, lot, { customerId: c, points: 50, reason: 'lot two', now: day(20) }));
      // No sync runs. Day 29: both lots live. Lot one (100) expires at the instant day 30 begins: as of
      // then (an as-of is an exclusive end, the day before's midnight) it is still there, a moment
      // later it has gone; by day 50 lot two too.
      assert.equal((await memberStatus(db, lot, c, { asOf: day(29) }))!.available, 150);
      assert.equal((await memberStatus(db, lot, c, { asOf: day(30) }))!.available, 150);
      assert.equal((await memberStatus(db, lot, c, { asOf: day(30) + 1 }))!.available, 50);
      assert.equal((await memberStatus(db, lot, c, { asOf: day(50) + 1 }))!.available, 0);
      // 'ship' costs 60: on day 35 only lot two's 50 is spendable. The refusal books lot one's expiry.
      const refused = await redeem(db, lot, { customerId: c, rewardKey: 'ship', now: day(35) });
      assert.equal(refused.ok, false);
      assert.equal(!refused.ok && refused.error.kind, 'insufficient_points');
      const entries = async () =>
        (
          await db
            .withTables<LoyaltyTables>()
            .selectFrom('loyalty_ledger')
            .select(['kind', 'amount', 'occurred_at'])
            .where('customer_id', '=', c)
            .where('kind', '=', 'expire')
            .orderBy('id')
            .execute()
        ).map((e) => [e.kind, e.amount, Number(e.occurred_at)]);
      assert.deepEqual(await entries(), [['expire', -100, day(30)]]);
      // A sync at day 35 books nothing more; the status agrees with the ledger.
      await settle(db, lot, { now: day(35) });
      assert.deepEqual(await entries(), [['expire', -100, day(30)]]);
      assert.equal((await memberStatus(db, lot, c, { asOf: day(35) }))!.available, 50);
      program = await withConfig(testProgramConfig());
      await assertAudit(db);
    });

    test('the ledger is append-only: the database refuses edits and deletions', async () => {
      const ledger = db.withTables<LoyaltyTables>();
      await assert.rejects(ledger.updateTable('loyalty_ledger').set({ amount: 1_000_000 }).execute(), /append-only/);
      await assert.rejects(ledger.deleteFrom('loyalty_ledger').execute(), /append-only/);
    });

    test('adjustments need a reason and cannot take a balance below zero', async () => {
      const c = await addCustomer(db);
      ok(await enrolMember(db, program, { customerId: c, now: day(0) }));
      const noReason = await adjust(db, program, { customerId: c, points: 10, reason: ' ', now: day(0) });
      assert.ok(!noReason.ok && noReason.error.message.startsWith('reason'));
      const overdraw = await adjust(db, program, { customerId: c, points: -51, reason: 'oops', now: day(0) });
      assert.equal(overdraw.ok ? 'ok' : overdraw.error.kind, 'insufficient_points');
      assert.equal(
        ok(await adjust(db, program, { customerId: c, points: -50, reason: 'fraud', now: day(0) })).balance,
        0,
      );
      const stranger = await adjust(db, program, { customerId: 999_999, points: 5, reason: 'x', now: day(0) });
      assert.equal(stranger.ok ? 'ok' : stranger.error.kind, 'not_found');
    });
  });

  describe(`loyalty over the Online Retail sample on ${dialect.name}`, { skip: dialect.skip }, () => {
    let t: TestDb;
    let db: Db;
    let program: Program;
    const NOW = Date.UTC(2012, 0, 15);
    before(async () => {
      t = await freshDatabase(dialect.name);
      db = t.store.db;
      await importFile(db, samplePath('online-retail', 'online-retail-sample.csv.gz'), {
        format: 'online-retail',
        now: NOW,
      });
      program = await saveProgram(db, testProgramConfig({ autoEnrol: true, expiry: { mode: 'lot', days: 180 } }), {
        now: NOW,
      });
    });
    after(async () => t?.drop());

    test('the whole history: every order reversed exactly in proportion, a rerun books nothing, balances add up', async () => {
      const first = await syncOrders(db, program, { now: NOW, batchSize: 500 });
      assert.ok(first.enrolled > 400);
      assert.ok(first.pointsReversed > 0);
      const second = await syncOrders(db, program, { now: NOW });
      assert.equal(second.orders, 0);
      assert.equal(second.ledgerEntries, 0);
      await settle(db, program, { now: NOW });
      await assertAudit(db);

      const rows = await sql<{
        total_minor: number;
        refunded_minor: number;
        status: string;
        earned: number;
        reversed: number;
        shortfall: number;
      }>`
        select o.total_minor, o.refunded_minor, o.status, lo.earned, lo.reversed, lo.shortfall
        from orders o join loyalty_orders lo on lo.order_id = o.id`.execute(db);
      for (const r of rows.rows) {
        const target = reversalTarget(
          Number(r.earned),
          Number(r.refunded_minor),
          Number(r.total_minor),
          r.status === 'cancelled' || r.status === 'refunded',
        );
        assert.equal(Number(r.reversed) + Number(r.shortfall), target);
      }

      const report = await programReport(db, program, { asOf: NOW });
      const { issued, redeemed, expired, reversed } = report.points;
      assert.equal(issued - redeemed - expired - reversed, report.outstanding.available + report.outstanding.pending);
      assert.equal(report.members, first.enrolled);
      assert.equal(
        report.tiers.reduce((s, tier) => s + tier.members, 0),
        report.members,
      );
      assert.ok(report.repeatPurchase.members.customers > 0);
      const dormant = await dormantMembers(db, program, { asOf: NOW, days: 60 });
      assert.ok(dormant.length > 0);
      for (const m of dormant) assert.ok(m.daysInactive >= 60);
    });

    test('read past the last sync, the report and the dormant list count the expiries and tier reviews due by then', async () => {
      // The sample's last sync is as of NOW (2012-01-15). Two years on, every lot (180-day expiry) has
      // expired and every Gold member's review has come, though no sync has booked either.
      const later = Date.UTC(2014, 0, 1);
      const before = await programReport(db, program, { asOf: NOW });
      assert.ok(before.outstanding.available > 0);
      assert.ok(before.tiers.filter((tier) => tier.key !== 'blue').some((tier) => tier.members > 0));
      const report = await programReport(db, program, { asOf: later });
      assert.equal(report.outstanding.available, 0);
      assert.equal(report.outstanding.liabilityMinor, 0);
      assert.ok(report.points.expiredUnbooked > 0);
      const { issued, redeemed, expired, reversed } = report.points;
      assert.equal(issued - redeemed - expired - reversed, report.outstanding.available + report.outstanding.pending);
      assert.deepEqual(
        report.tiers.map((tier) => [tier.key, tier.members]),
        [
          ['blue', report.members],
          ['gold', 0],
          ['platinum', 0],
        ],
      );
      const dormant = await dormantMembers(db, program, { asOf: later, days: 60 });
      assert.equal(dormant.length, report.members);
      assert.deepEqual(
        dormant.filter((m) => m.balance !== 0 || m.tier !== 'blue'),
        [],
      );
      // Equal balances: the most recently active first (not by internal id, which differs between databases).
      assert.ok(dormant.every((m, i) => i === 0 || dormant[i - 1]!.lastActivityAt >= m.lastActivityAt));
      // The member's own view agrees with the list.
      const status = await memberStatus(db, program, dormant[0]!.customerId, { asOf: later });
      assert.equal(status?.available, 0);
      // A sync as of that day books exactly what the report counted: every figure stays, nothing is left unbooked.
      await settle(db, program, { now: later });
      const synced = await programReport(db, program, { asOf: later });
      assert.equal(synced.points.expiredUnbooked, 0);
      assert.deepEqual(synced, { ...report, points: { ...report.points, expiredUnbooked: 0 } });
      await assertAudit(db);
    });

    test("a dormant member's next reward is one their tier may redeem, not a higher tier's", async () => {
      const c = await addCustomer(db);
      ok(await enrolMember(db, program, { customerId: c, now: day(2000) }));
      // 50 sign-up points less 45: 5 points, below the Gold-only early access (10) and free shipping (60).
      ok(await adjust(db, program, { customerId: c, points: -45, reason: 'test', now: day(2000) }));
      const m = (await dormantMembers(db, program, { asOf: day(2100), days: 60 })).find((x) => x.customerId === c);
      assert.equal(m?.tier, 'blue');
      assert.deepEqual(m?.nextReward, { key: 'ship', name: 'Free shipping', cost: 60, missing: 55 });
    });

    test('dormant members as of a past date: the balance, activity and tier as they stood then', async () => {
      const c = await addCustomer(db);
      // Enrolled on day 1000 (the 50-point sign-up bonus is an earn), 5 points for a share on day 1100.
      ok(await enrolMember(db, program, { customerId: c, now: day(1000) }));
      ok(await earnForAction(db, program, { customerId: c, action: 'share', reference: 'late', now: day(1100) }));
      const find = async (asOf: number) =>
        (await dormantMembers(db, program, { asOf, days: 60 })).find((m) => m.customerId === c);
      assert.equal(await find(day(999)), undefined, 'not yet a member');
      // 60 days after the sign-up exactly: dormant (no activity for 60 days); a millisecond before, not.
      assert.equal(await find(day(1060) - 1), undefined);
      const then = await find(day(1090));
      assert.deepEqual(
        then && { balance: then.balance, daysInactive: then.daysInactive, tier: then.tier, last: then.lastActivityAt },
        { balance: 50, daysInactive: 90, tier: 'blue', last: day(1000) },
        'as of day 1090 the later share is not read',
      );
      assert.equal(await find(day(1150)), undefined, 'the share on day 1100 is 50 days before');
      // Day 1200: the sign-up's 50 points expired on day 1180 (180-day lots), though no sync booked it.
      const later = await find(day(1200));
      assert.deepEqual(
        later && { balance: later.balance, daysInactive: later.daysInactive, last: later.lastActivityAt },
        { balance: 5, daysInactive: 100, last: day(1100) },
      );
      assert.equal((await memberStatus(db, program, c, { asOf: day(1200) }))?.available, 5);
    });
  });
}
