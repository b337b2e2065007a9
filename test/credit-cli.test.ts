import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { adjust, enrolMember, type Program, redeem, saveProgram } from '../src/loyalty/index.js';
import { creditProgramConfig } from './credit-fixtures.js';
import { addCustomer, addOrder, cancelOrder } from './loyalty-fixtures.js';
import { runCli } from './run-cli.js';
import { DIALECTS, freshDatabase, type TestDb } from './setup.js';

// `comeback loyalty sync` spends, gives back and expires store credit; `loyalty credit` shows it and
// `loyalty credit adjust` moves it by hand. On both databases, in-process and as the installed command.

const ROOT = join(import.meta.dirname, '..');
const T0 = Date.UTC(2025, 0, 1);
const DAY = 86_400_000;
const day = (n: number) => T0 + n * DAY;
/** The end of day `n` as the CLI's --as-of takes it. */
const asOf = (n: number) => ['--as-of', new Date(day(n)).toISOString().slice(0, 10)];

interface SyncJson {
  credit: {
    spends: number;
    restores: number;
    spent: Array<{ currency: string; minor: number }>;
    restored: Array<{ currency: string; minor: number }>;
    overUses: Array<{ orderId: number; requestedMinor: number; spentMinor: number; code: string }>;
    otherCurrency: number;
    expired: Array<{ currency: string; minor: number }>;
    outstanding: Array<{ currency: string; beforeMinor: number; afterMinor: number; otherMinor: number }>;
  };
}

for (const dialect of DIALECTS) {
  describe(`store credit on the command line (${dialect.name})`, { skip: dialect.skip }, () => {
    let t: TestDb;
    let program: Program;
    let member = 0;
    let code = '';
    let orderB = 0;
    const cli = (...args: string[]) => runCli(...args, '--db', t.url);

    before(async () => {
      t = await freshDatabase(dialect.name);
      const db = t.store.db;
      program = await saveProgram(db, creditProgramConfig(), { now: T0 });
      member = await addCustomer(db, { email: 'cred@example.com' });
      assert.ok((await enrolMember(db, program, { customerId: member, now: T0 })).ok);
      assert.ok((await adjust(db, program, { customerId: member, points: 100, reason: 'test', now: T0 })).ok);
      const redeemed = await redeem(db, program, { customerId: member, rewardKey: 'credit-5', now: day(1) });
      assert.ok(redeemed.ok);
      code = redeemed.value.code;
      // Two orders carry the code (lower case, as shoppers type it): 2.50 off, then 4.00 off with 2.50 left.
      const withDiscount = async (placedAt: number, discount: number) => {
        const id = await addOrder(db, {
          customerId: member,
          placedAt,
          subtotalMinor: 2000,
          discountCodes: [code.toLowerCase()],
        });
        await db
          .updateTable('orders')
          .set({ discount_minor: discount, total_minor: 2000 - discount })
          .where('id', '=', id)
          .execute();
        return id;
      };
      await withDiscount(day(5), 250);
      orderB = await withDiscount(day(6), 400);
    });
    after(() => t?.drop());

    test('sync spends the codes, flags the over-use, reconciles; a second sync changes nothing', async () => {
      const first = await cli('loyalty', 'sync', ...asOf(10), '--json');
      assert.equal(first.code, 0, first.err);
      const { credit } = JSON.parse(first.out) as SyncJson;
      assert.deepEqual(
        [credit.spends, credit.spent, credit.restores, credit.expired],
        [2, [{ currency: 'GBP', minor: 500 }], 0, []],
      );
      assert.deepEqual(
        credit.overUses.map((o) => [o.orderId, o.requestedMinor, o.spentMinor, o.code]),
        [[orderB, 400, 250, code]],
      );
      assert.deepEqual(credit.outstanding, [{ currency: 'GBP', beforeMinor: 500, afterMinor: 0, otherMinor: 0 }]);

      const second = await cli('loyalty', 'sync', ...asOf(10), '--json');
      assert.equal(second.code, 0, second.err);
      const again = (JSON.parse(second.out) as SyncJson).credit;
      assert.deepEqual(
        [again.spends, again.restores, again.spent, again.restored, again.overUses, again.expired],
        [0, 0, [], [], [], []],
      );
      assert.deepEqual(again.outstanding, [{ currency: 'GBP', beforeMinor: 0, afterMinor: 0, otherMinor: 0 }]);
    });

    test('a cancelled order gives its credit back once, in the table; credit lapses after validDays once', async () => {
      await cancelOrder(t.store.db, orderB, day(11));
      const human = await cli('loyalty', 'sync', ...asOf(12));
      assert.equal(human.code, 0, human.err);
      assert.match(human.out, /orders that spent store credit \(0\)\s+£0\.00/);
      assert.match(human.out, /store credit given back by refunds \(1\)\s+£2\.50/);
      assert.match(human.out, /store credit outstanding in GBP: £0\.00 before the sync, £2\.50 after\n/);
      const twice = JSON.parse((await cli('loyalty', 'sync', ...asOf(12), '--json')).out) as SyncJson;
      assert.equal(twice.credit.restores, 0);

      // Issued on day 1 for 365 days: 500 issued − 250 spent (net of the restore) lapse on day 366.
      const lapsed = JSON.parse((await cli('loyalty', 'sync', ...asOf(370), '--json')).out) as SyncJson;
      assert.deepEqual(lapsed.credit.expired, [{ currency: 'GBP', minor: 250 }]);
      assert.deepEqual(lapsed.credit.outstanding, [
        { currency: 'GBP', beforeMinor: 250, afterMinor: 0, otherMinor: 0 },
      ]);
      const more = JSON.parse((await cli('loyalty', 'sync', ...asOf(371), '--json')).out) as SyncJson;
      assert.deepEqual(more.credit.expired, []);
      const shown = await cli('loyalty', 'credit', 'cred@example.com', ...asOf(371));
      assert.equal(shown.code, 0, shown.err);
      assert.match(shown.out, new RegExp(`^customer #${member}: £0\\.00 of store credit, checkout code ${code}$`, 'm'));
      assert.match(shown.out, /expired\s+store credit past its expiry date/);
      assert.match(shown.out, new RegExp(`restored\\s+order ${orderB} cancelled`));
    });

    test('credit adjust: money in major units, a reason, once per key; mistakes name the field (exit 1)', async () => {
      const adjustCli = (...args: string[]) =>
        cli('loyalty', 'credit', 'adjust', String(member), ...asOf(371), ...args);
      const up = await adjustCli('--amount', '5.00', '--reason', 'goodwill', '--key', 'g-1', '--json');
      assert.equal(up.code, 0, up.err);
      assert.deepEqual(JSON.parse(up.out), {
        customerId: member,
        currency: 'GBP',
        amountMinor: 500,
        balanceMinor: 500,
        applied: true,
      });
      const retry = await adjustCli('--amount', '5.00', '--reason', 'goodwill', '--key', 'g-1');
      assert.deepEqual([retry.code, retry.out], [0, 'already applied (+£5.00); store credit £5.00\n']);
      const down = await adjustCli('--amount', '-1.5', '--reason', 'correction');
      assert.deepEqual([down.code, down.out], [0, '-£1.50; store credit £3.50\n']);
      const mistakes: Array<[string[], RegExp]> = [
        [['--amount', '1.234', '--reason', 'x'], /^comeback: amount: "1\.234" has 3 decimals; GBP has 2\n$/],
        [['--amount', 'five', '--reason', 'x'], /^comeback: amount: "five" is not a number\n$/],
        [['--amount', '0', '--reason', 'x'], /^comeback: amount: must not be zero\n$/],
        [['--amount', '-3.51', '--reason', 'x'], /^comeback: amount: customer #\d+ has £3\.50 of store credit/],
        [['--amount', '1', '--currency', 'ZZZ', '--reason', 'x'], /^comeback: currency: "ZZZ" is not an ISO 4217/],
        [['--amount', '1', '--reason', ' '], /^comeback: reason: an adjustment needs a reason\n$/],
        [['--amount', '2', '--reason', 'x', '--key', 'g-1'], /idempotency key g-1 was already used/],
      ];
      for (const [args, message] of mistakes) {
        const run = await adjustCli(...args);
        assert.equal(run.code, 1, args.join(' '));
        assert.match(run.err, message, args.join(' '));
      }
      const report = await cli('loyalty', 'report', ...asOf(371));
      assert.match(report.out, /store credit outstanding \(1 member\)\s+£3\.50/);
      const stranger = await addCustomer(t.store.db, { email: 'no-member@example.com' });
      const notMember = await cli('loyalty', 'credit', 'adjust', String(stranger), '--amount', '1', '--reason', 'x');
      assert.equal(notMember.code, 1);
      const json = JSON.parse((await cli('loyalty', 'credit', String(member), ...asOf(371), '--json')).out);
      assert.deepEqual(json.accounts, [{ currency: 'GBP', balanceMinor: 350, dueExpiryMinor: 0, code }]);
      assert.deepEqual(
        json.entries
          .slice(0, 2)
          .map((e: { kind: string; amountMinor: number; actor: string }) => [e.kind, e.amountMinor, e.actor]),
        [
          ['adjusted', -150, 'cli'],
          ['adjusted', 500, 'cli'],
        ],
      );
    });

    test('the installed command (bin/comeback.js, built) adjusts and refuses the same way', () => {
      const bin = (...args: string[]) =>
        spawnSync(process.execPath, [join(ROOT, 'bin/comeback.js'), ...args, '--db', t.url], {
          encoding: 'utf8',
          env: { ...process.env, COMEBACK_DB: '' },
        });
      const ok = bin(
        'loyalty',
        'credit',
        'adjust',
        'cred@example.com',
        '--amount',
        '0.50',
        '--reason',
        'child',
        ...asOf(371),
      );
      assert.equal(ok.status, 0, ok.stderr);
      assert.equal(ok.stdout, '+£0.50; store credit £4.00\n');
      const bad = bin('loyalty', 'credit', 'adjust', 'cred@example.com', '--amount', '1,5', '--reason', 'x');
      assert.equal(bad.status, 1);
      assert.match(bad.stderr, /^comeback: amount: "1,5" /);
      const shown = bin('loyalty', 'credit', 'cred@example.com', ...asOf(371));
      assert.equal(shown.status, 0, shown.stderr);
      assert.match(shown.stdout, /£4\.00 of store credit/);
      assert.match(shown.stdout, /adjusted\s+child\s+cli/);
    });
  });
}
