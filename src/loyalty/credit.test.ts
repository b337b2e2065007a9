import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { addCustomer, addOrder, cancelOrder, testProgramConfig } from '../../test/loyalty-fixtures.js';
import { DIALECTS, freshDatabase, type TestDb, tempDir } from '../../test/setup.js';
import { ComebackError } from '../errors.js';
import { importFile } from '../ingest/index.js';
import { MS_PER_DAY } from '../shared/dates.js';
import type { Db } from '../store/index.js';
import { openStore, type Store } from '../store/index.js';
import {
  adjust,
  adjustCredit,
  applyCreditCodes,
  auditLedger,
  creditStatus,
  enrolMember,
  expireCredit,
  memberStatus,
  type Program,
  type ProgramConfig,
  programReport,
  redeem,
  saveProgram,
  spendCredit,
  validateProgramConfig,
} from './index.js';
import type { LoyaltyTables } from './loyalty-tables.js';

const T0 = Date.UTC(2025, 0, 1);
const day = (n: number) => T0 + n * MS_PER_DAY;
const WORKER = join(import.meta.dirname, '../../test/credit-spend-worker.ts');

/** The test program with a £5.00 store-credit reward for 100 points, spendable for 365 days. */
function creditConfig(overrides: Partial<ProgramConfig> = {}): ProgramConfig {
  const base = testProgramConfig({ actions: {} });
  return {
    ...base,
    rewards: [
      ...base.rewards,
      { key: 'credit-5', name: '£5 store credit', type: 'store_credit', cost: 100, amountMinor: 500, validDays: 365 },
    ],
    ...overrides,
  };
}

function ok<T>(result: { ok: true; value: T } | { ok: false; error: { kind: string; message: string } }): T {
  if (!result.ok) assert.fail(`expected ok, got ${result.error.kind}: ${result.error.message}`);
  return result.value;
}

const SHOPIFY_HEADER =
  'Name,Email,Financial Status,Accepts Marketing,Currency,Subtotal,Shipping,Taxes,Total,Discount Code,Discount Amount,Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku,Lineitem discount,Billing Name,Billing Country,Refunded Amount,Vendor,Id';

/** A Shopify orders export: #c1 uses the credit code for 6.00 off 20.00 (status and refund as given). */
function shopifyExport(code: string, c1: { status: string; refunded: string }, more = ''): string {
  return `${SHOPIFY_HEADER}
#c1,m@x.test,${c1.status},yes,GBP,20.00,0.00,0.00,14.00,${code.toLowerCase()},6.00,2025-03-05 10:00:00 +0000,1,P,20.00,SKU-1,0.00,Mo Ray,GB,${c1.refunded},V,c1
${more}`;
}

async function creditLedgerSum(db: Db, customerId: number): Promise<number> {
  const rows = await db
    .withTables<LoyaltyTables>()
    .selectFrom('store_credit_ledger')
    .select('amount_minor')
    .where('customer_id', '=', customerId)
    .execute();
  return rows.reduce((s, r) => s + Number(r.amount_minor), 0);
}

for (const dialect of DIALECTS) {
  describe(`store credit on ${dialect.name}`, { skip: dialect.skip }, () => {
    let t: TestDb;
    let db: Db;
    let program: Program;
    /** A member with `points` points, enrolled at T0. */
    const member = async (points: number, email?: string) => {
      const customerId = await addCustomer(db, { email });
      ok(await enrolMember(db, program, { customerId, now: T0 }));
      if (points > 0) ok(await adjust(db, program, { customerId, points, reason: 'test', now: T0 }));
      return customerId;
    };
    before(async () => {
      t = await freshDatabase(dialect.name);
      db = t.store.db;
      program = await saveProgram(db, creditConfig(), { now: T0 });
    });
    after(async () => t?.drop());

    test('redeeming store credit debits points and credits the credit ledger; a retry credits nothing more', async () => {
      const c = await member(300);
      const first = ok(
        await redeem(db, program, { customerId: c, rewardKey: 'credit-5', now: day(1), idempotencyKey: 'a' }),
      );
      const second = ok(await redeem(db, program, { customerId: c, rewardKey: 'credit-5', now: day(2) }));
      // 300 − 2 × 100 points; 2 × 500 minor units of credit.
      assert.equal(second.balance, 100);
      assert.deepEqual(
        [first.credit?.amountMinor, first.credit?.balanceMinor, second.credit?.balanceMinor],
        [500, 500, 1000],
      );
      assert.match(first.code, /^CR-[2-9A-HJKMNP-Z]{12}$/);
      assert.equal(second.code, first.code, 'one personal code per member and currency');
      const again = ok(
        await redeem(db, program, { customerId: c, rewardKey: 'credit-5', now: day(3), idempotencyKey: 'a' }),
      );
      assert.deepEqual(
        [again.created, again.code, again.credit?.balanceMinor, again.balance],
        [false, first.code, 1000, 100],
      );
      const status = (await memberStatus(db, program, c, { asOf: day(3) }))!;
      assert.deepEqual(status.credit, { currency: 'GBP', balanceMinor: 1000, code: first.code });
      assert.equal(status.redemptions.length, 0, 'a store-credit receipt is not a code to use');
      const history = await creditStatus(db, c, { asOf: day(3) });
      assert.deepEqual(
        history.entries.map((e) => [e.kind, e.amountMinor, e.reference]),
        [
          ['issued', 500, 'reward:credit-5'],
          ['issued', 500, 'reward:credit-5'],
        ],
      );
      // As of before the second redemption, one issue only.
      assert.equal((await creditStatus(db, c, { asOf: day(1) })).accounts[0]!.balanceMinor, 500);
      assert.deepEqual((await auditLedger(db)).problems, []);
    });

    test('too few points: no credit, no account', async () => {
      const c = await member(99);
      const refused = await redeem(db, program, { customerId: c, rewardKey: 'credit-5', now: day(1) });
      assert.equal(refused.ok ? 'ok' : refused.error.kind, 'insufficient_points');
      assert.deepEqual((await creditStatus(db, c, { asOf: day(9) })).accounts, []);
    });

    test('a Shopify order with the code spends its discount once, bounded by the balance; a refund restores it once', async () => {
      const c = await member(200, 'm@x.test');
      ok(await redeem(db, program, { customerId: c, rewardKey: 'credit-5', now: day(1) }));
      const { code } = ok(await redeem(db, program, { customerId: c, rewardKey: 'credit-5', now: day(1) }));
      const dir = tempDir();
      const file = join(dir, 'orders.csv');
      const load = async (text: string) => {
        writeFileSync(file, text);
        await importFile(db, file, { format: 'shopify', now: day(100) });
        return applyCreditCodes(db, { now: day(100) });
      };
      const first = await load(shopifyExport(code, { status: 'paid', refunded: '0.00' }));
      assert.deepEqual([first.spends, first.spent, first.overUses], [1, [{ currency: 'GBP', minor: 600 }], []]);
      assert.equal((await creditStatus(db, c, { asOf: day(100) })).accounts[0]!.balanceMinor, 1000 - 600);
      const again = await load(shopifyExport(code, { status: 'paid', refunded: '0.00' }));
      assert.deepEqual([again.spends, again.restores], [0, 0], 're-importing the same order spends nothing more');

      // #c2 takes 7.00 off; 4.00 is left: 4.00 is spent and the 3.00 over-use reported.
      const c2 = `#c2,m@x.test,paid,yes,GBP,30.00,0.00,0.00,23.00,${code},7.00,2025-03-06 10:00:00 +0000,1,P,30.00,SKU-1,0.00,Mo Ray,GB,0.00,V,c2\n`;
      const over = await load(shopifyExport(code, { status: 'paid', refunded: '0.00' }, c2));
      assert.equal(over.spends, 1);
      assert.deepEqual(
        over.overUses.map((o) => [o.requestedMinor, o.spentMinor, o.code]),
        [[700, 400, code]],
      );
      assert.equal((await creditStatus(db, c, { asOf: day(100) })).accounts[0]!.balanceMinor, 0);

      // #c1 refunded in full: its 6.00 comes back, once, however often the export is imported again.
      const refunded = await load(shopifyExport(code, { status: 'refunded', refunded: '14.00' }, c2));
      assert.deepEqual([refunded.restores, refunded.restored], [1, [{ currency: 'GBP', minor: 600 }]]);
      const twice = await load(shopifyExport(code, { status: 'refunded', refunded: '14.00' }, c2));
      assert.deepEqual([twice.spends, twice.restores], [0, 0]);
      const history = await creditStatus(db, c, { asOf: day(100) });
      // 500 + 500 − 600 − 400 + 600 = 600.
      assert.equal(history.accounts[0]!.balanceMinor, 600);
      assert.equal(await creditLedgerSum(db, c), 600);
      assert.deepEqual(
        history.entries.map((e) => [e.kind, e.amountMinor]),
        [
          ['restored', 600],
          ['spent', -400],
          ['spent', -600],
          ['issued', 500],
          ['issued', 500],
        ],
      );
      assert.match(history.entries[1]!.reason, /asked £7\.00, £4\.00 was available/);
      assert.deepEqual((await auditLedger(db)).problems, []);
    });

    test('a cancelled order gives its credit back once; one first seen cancelled spends nothing', async () => {
      const c = await member(100);
      const { code } = ok(await redeem(db, program, { customerId: c, rewardKey: 'credit-5', now: day(1) }));
      const order = async (status: 'paid' | 'cancelled', discount: number) => {
        const id = await addOrder(db, {
          customerId: c,
          placedAt: day(5),
          subtotalMinor: 2000,
          discountCodes: [code],
          status,
        });
        await db
          .updateTable('orders')
          .set({ discount_minor: discount, total_minor: 2000 - discount })
          .where('id', '=', id)
          .execute();
        return id;
      };
      const paid = await order('paid', 250);
      await order('cancelled', 100);
      assert.equal((await applyCreditCodes(db, { now: day(10) })).spends, 1);
      assert.equal((await creditStatus(db, c, { asOf: day(10) })).accounts[0]!.balanceMinor, 250);
      await cancelOrder(db, paid, day(11));
      assert.equal((await applyCreditCodes(db, { now: day(12) })).restores, 1);
      assert.equal((await applyCreditCodes(db, { now: day(13) })).restores, 0);
      assert.equal((await creditStatus(db, c, { asOf: day(13) })).accounts[0]!.balanceMinor, 500);
    });

    test('a sync as of a day spends nothing for an order placed at or after it; the next sync does', async () => {
      const c = await member(100);
      const { code } = ok(await redeem(db, program, { customerId: c, rewardKey: 'credit-5', now: day(1) }));
      const id = await addOrder(db, { customerId: c, placedAt: day(5), subtotalMinor: 2000, discountCodes: [code] });
      await db.updateTable('orders').set({ discount_minor: 300, total_minor: 1700 }).where('id', '=', id).execute();
      // as of the order's own instant: placed_at < asOf is false, so the order is not in the sync's past.
      assert.equal((await applyCreditCodes(db, { now: day(5) })).spends, 0);
      assert.equal((await creditStatus(db, c, { asOf: day(5) })).accounts[0]!.balanceMinor, 500);
      assert.equal((await applyCreditCodes(db, { now: day(5) + 1 })).spends, 1);
      assert.equal((await creditStatus(db, c, { asOf: day(6) })).accounts[0]!.balanceMinor, 200);
    });

    test('staff adjustments need a reason, name the field, never go below zero and write the actor', async () => {
      const c = await member(0);
      const input = { customerId: c, currency: 'GBP', now: day(1) };
      const noReason = await adjustCredit(db, { ...input, amountMinor: 100, reason: ' ' });
      assert.match(noReason.ok ? '' : noReason.error.message, /^reason: /);
      const up = ok(
        await adjustCredit(db, { ...input, amountMinor: 250, reason: 'goodwill', actor: 'cli', idempotencyKey: 'k' }),
      );
      assert.deepEqual([up.balanceMinor, up.applied], [250, true]);
      const retry = ok(await adjustCredit(db, { ...input, amountMinor: 250, reason: 'goodwill', idempotencyKey: 'k' }));
      assert.deepEqual([retry.balanceMinor, retry.applied], [250, false]);
      const tooMuch = await adjustCredit(db, { ...input, amountMinor: -251, reason: 'oops' });
      assert.equal(tooMuch.ok ? '' : tooMuch.error.kind, 'bad_input');
      assert.match(tooMuch.ok ? '' : tooMuch.error.message, /^amountMinor: .*£2\.50/);
      ok(await adjustCredit(db, { ...input, amountMinor: -50, reason: 'correction' }));
      const entries = (await creditStatus(db, c, { asOf: day(1) })).entries;
      assert.deepEqual(
        entries.map((e) => [e.kind, e.amountMinor, e.reason, e.actor]),
        [
          ['adjusted', -50, 'correction', null],
          ['adjusted', 250, 'goodwill', 'cli'],
        ],
      );
      const stranger = await addCustomer(db);
      const notMember = await adjustCredit(db, { ...input, customerId: stranger, amountMinor: 100, reason: 'x' });
      assert.equal(notMember.ok ? '' : notMember.error.kind, 'not_found');
    });

    test('credit expires validDays after its issue, less what was spent from it, once', async () => {
      const c = await member(100);
      ok(await redeem(db, program, { customerId: c, rewardKey: 'credit-5', now: day(1) }));
      ok(
        await spendCredit(db, {
          customerId: c,
          currency: 'GBP',
          amountMinor: 200,
          reason: 'x',
          reference: null,
          idempotencyKey: `e-${c}`,
          now: day(2),
        }),
      );
      ok(await adjustCredit(db, { customerId: c, currency: 'GBP', amountMinor: 70, reason: 'goodwill', now: day(3) }));
      const expiredOf = async () =>
        (await creditStatus(db, c, { asOf: day(400) })).entries
          .filter((e) => e.kind === 'expired')
          .map((e) => e.amountMinor);
      const spendable = async (d: number) => {
        const account = (await creditStatus(db, c, { asOf: day(d) })).accounts[0]!;
        return [account.balanceMinor, account.dueExpiryMinor];
      };
      // Read before any sync books the expiry: 500 − 200 + 70 on day 365; on day 366 the 300 left of
      // the issue have lapsed and are not offered, though no expiry is booked yet.
      assert.deepEqual(await spendable(365), [370, 0]);
      assert.deepEqual(await spendable(366), [70, 300]);
      await expireCredit(db, { now: day(365) });
      assert.deepEqual(await expiredOf(), [], 'not yet: issued on day 1 for 365 days');
      // 500 issued − 200 spent = 300 expire on day 366; the 70 adjusted by hand do not.
      await expireCredit(db, { now: day(366) });
      await expireCredit(db, { now: day(367) });
      assert.deepEqual(await expiredOf(), [-300], 'once');
      assert.equal((await creditStatus(db, c, { asOf: day(367) })).accounts[0]!.balanceMinor, 70);
      assert.deepEqual(await spendable(367), [70, 0], 'booked: nothing due on read any more');
    });

    test('a spend after the credit lapsed takes only what is still valid; the lapse is booked first, once', async () => {
      const c = await member(100);
      ok(await redeem(db, program, { customerId: c, rewardKey: 'credit-5', now: day(1) }));
      ok(await adjustCredit(db, { customerId: c, currency: 'GBP', amountMinor: 70, reason: 'goodwill', now: day(3) }));
      // An order on day 398 asks for £5: the reward's £5 lapsed on day 366, only the 70 by hand are valid.
      const spend = ok(
        await spendCredit(db, {
          customerId: c,
          currency: 'GBP',
          amountMinor: 500,
          reason: 'order',
          reference: null,
          idempotencyKey: `late-${c}`,
          now: day(399),
          occurredAt: day(398),
        }),
      );
      assert.deepEqual([spend.spentMinor, spend.shortMinor, spend.balanceMinor], [70, 430, 0]);
      const kinds = (await creditStatus(db, c, { asOf: day(399) })).entries.map((e) => [e.kind, e.amountMinor]);
      assert.deepEqual(kinds.slice(0, 2), [
        ['spent', -70],
        ['expired', -500],
      ]);
      const lapse = (await creditStatus(db, c, { asOf: day(399) })).entries.find((e) => e.kind === 'expired');
      assert.equal(lapse?.occurredAt, day(366), 'dated when the credit lapsed, not when the spend came to book it');
      // A later sync finds nothing more to expire.
      assert.deepEqual(await expireCredit(db, { now: day(399) }), []);
      assert.equal((await creditStatus(db, c, { asOf: day(399) })).accounts[0]!.balanceMinor, 0);
      // A staff debit takes only valid credit too: nothing is left, and the refusal says what lapsed.
      const c2 = await member(100);
      ok(await redeem(db, program, { customerId: c2, rewardKey: 'credit-5', now: day(1) }));
      const late = await adjustCredit(db, {
        customerId: c2,
        currency: 'GBP',
        amountMinor: -200,
        reason: 'x',
        now: day(398),
      });
      assert.equal(late.ok, false);
      assert.match(
        late.ok ? '' : late.error.message,
        /^amountMinor: customer #\d+ has £0\.00 of store credit \(£5\.00 more lapsed by then\), cannot take £2\.00$/,
      );
      assert.deepEqual(
        (await creditStatus(db, c2, { asOf: day(399) })).entries.map((e) => e.kind),
        ['issued'],
        'a refused debit writes nothing, not even the expiry',
      );
    });

    test('the report shows credit outstanding per currency beside the points liability', async () => {
      const report = await programReport(db, program, { asOf: day(400) });
      const all = await db
        .withTables<LoyaltyTables>()
        .selectFrom('store_credit_accounts')
        .select('balance_minor')
        .execute();
      const gbp = report.credit.find((x) => x.currency === 'GBP')!;
      assert.equal(
        gbp.outstandingMinor,
        all.reduce((s, r) => s + Number(r.balance_minor), 0),
      );
      assert.equal(
        gbp.issuedMinor - gbp.spentMinor + gbp.restoredMinor - gbp.expiredMinor + gbp.adjustedMinor,
        gbp.outstandingMinor,
      );
      // What members can spend leaves out credit lapsed by day 400 that no sync has booked: the earlier
      // test's second member's £5, issued on day 1 for 365 days, each account as creditStatus reads it.
      const members = await db
        .withTables<LoyaltyTables>()
        .selectFrom('store_credit_accounts')
        .select('customer_id')
        .execute();
      let due = 0;
      let spending = 0;
      for (const m of members) {
        for (const a of (await creditStatus(db, Number(m.customer_id), { asOf: day(400) })).accounts) {
          if (a.currency !== 'GBP') continue;
          due += a.dueExpiryMinor;
          if (a.balanceMinor > 0) spending += 1;
        }
      }
      assert.ok(due >= 500, `lapsed and not booked: ${due}`);
      // Accounts are those with credit to spend: one whose credit all lapsed (booked or not) is not one.
      assert.equal(gbp.accounts, spending);
      assert.ok(spending < all.filter((r) => Number(r.balance_minor) > 0).length, 'a lapsed £5 is not counted');
      assert.equal(gbp.lapsedMinor, due);
      assert.equal(gbp.spendableMinor, gbp.outstandingMinor - due);
    });

    test('two writers spending the same credit at once never overdraw it', async () => {
      const c = await member(0);
      ok(await adjustCredit(db, { customerId: c, currency: 'GBP', amountMinor: 1000, reason: 'concurrency', now: T0 }));
      // Two writers × 10 spends of 70 = 1400 asked of 1000: exactly 1000 is spent, the balance ends at 0.
      const results =
        dialect.name === 'sqlite'
          ? await runWorkers(t.url, c, ['a', 'b'], 10, 70)
          : await spendInPools(t.url, c, 2, 10, 70);
      assert.deepEqual(
        results.flatMap((r) => r.errors),
        [],
      );
      const spent = results.flatMap((r) => r.spent);
      assert.equal(spent.length, 20);
      assert.equal(
        spent.reduce((s, x) => s + x, 0),
        1000,
      );
      // 14 whole spends of 70 (980), then one of the 20 left, then zeros.
      assert.deepEqual(
        spent.filter((x) => x > 0).sort((a, b) => a - b),
        [20, ...Array(14).fill(70)],
      );
      assert.equal((await creditStatus(db, c, { asOf: day(1) })).accounts[0]!.balanceMinor, 0);
      assert.equal(await creditLedgerSum(db, c), 0);
      assert.deepEqual((await auditLedger(db)).problems, []);
    });
  });
}

describe('store_credit rewards in the program file', () => {
  const invalid = (reward: Record<string, unknown>) => {
    const config = creditConfig();
    const value = { ...config, rewards: [...config.rewards.slice(0, 4), reward] };
    try {
      validateProgramConfig(value, 'program.json');
    } catch (error) {
      assert.ok(error instanceof ComebackError);
      return error.describe();
    }
    return 'accepted';
  };
  const credit = { key: 'c', name: 'Credit', type: 'store_credit', cost: 100, validDays: 30 };
  test('validation names the field', () => {
    assert.equal(
      invalid(credit),
      'program.json: rewards.4.amountMinor: a store_credit reward needs amountMinor (minor units of GBP)',
    );
    assert.match(invalid({ ...credit, amountMinor: 0 }), /^program\.json: rewards\.4\.amountMinor: /);
    assert.match(invalid({ ...credit, amountMinor: 1.5 }), /^program\.json: rewards\.4\.amountMinor: /);
    assert.equal(
      invalid({ ...credit, amountMinor: 500, percent: 10 }),
      'program.json: rewards.4.percent: a store_credit reward has no percent',
    );
    assert.equal(
      invalid({ ...credit, amountMinor: 500, minOrderMinor: 100 }),
      'program.json: rewards.4.minOrderMinor: a store_credit reward has no minOrderMinor',
    );
    assert.equal(invalid({ ...credit, amountMinor: 500 }), 'accepted');
  });
});

interface SpendResult {
  spent: number[];
  errors: string[];
}

/** SQLite: one process per writer sharing the file, released together. */
async function runWorkers(url: string, customerId: number, tags: string[], each: number, amount: number) {
  const workers = tags.map((tag) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', WORKER, url, String(customerId), String(each), String(amount), tag],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    let onReady: () => void = () => {};
    const ready = new Promise<void>((resolve) => {
      onReady = resolve;
    });
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.startsWith('ready\n')) onReady();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    const exited = new Promise<SpendResult>((resolve, reject) => {
      child.on('exit', (code) => {
        onReady();
        if (code !== 0) return reject(new Error(`worker exited with ${code}: ${err}`));
        resolve(JSON.parse(out.trim().split('\n').at(-1)!) as SpendResult);
      });
    });
    return { child, ready, exited };
  });
  await Promise.all(workers.map((w) => w.ready));
  for (const w of workers) if (w.child.exitCode === null) w.child.stdin.end('go\n');
  return Promise.all(workers.map((w) => w.exited));
}

/** PostgreSQL: one connection pool per writer, every spend in flight at once. */
async function spendInPools(url: string, customerId: number, writers: number, each: number, amount: number) {
  const stores: Store[] = [];
  for (let i = 0; i < writers; i += 1) stores.push(await openStore(url, { migrate: false }));
  try {
    return await Promise.all(
      stores.map(async (store, w) => {
        const result: SpendResult = { spent: [], errors: [] };
        await Promise.all(
          Array.from({ length: each }, async (_, i) => {
            try {
              const spend = await spendCredit(store.db, {
                customerId,
                currency: 'GBP',
                amountMinor: amount,
                reason: 'concurrency test',
                reference: null,
                idempotencyKey: `pg:${w}:${i}`,
                now: T0,
              });
              if (spend.ok) result.spent.push(spend.value.spentMinor);
              else result.errors.push(spend.error.message);
            } catch (error) {
              result.errors.push(String(error));
            }
          }),
        );
        return result;
      }),
    );
  } finally {
    for (const store of stores) await store.close();
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}
