import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, describe, test } from 'node:test';
import { main } from '../src/cli/main.js';
import type { LoyaltyTables } from '../src/loyalty/index.js';
import { openStore } from '../src/store/index.js';
import { tempDir } from './setup.js';

const ROOT = join(import.meta.dirname, '..');
const dir = tempDir('comeback-loyalty-cli-');
after(() => rmSync(dir, { recursive: true, force: true }));

function collector() {
  let text = '';
  const stream: Writable & { isTTY?: boolean } = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  return { stream, text: () => text };
}

/** Runs the `comeback` command line in-process (the entry point and exit codes a user gets). */
async function comeback(...args: string[]) {
  return comebackOn('loyalty.db', false, ...args);
}

/** The same on another database file, with stderr a terminal or not. */
async function comebackOn(file: string, tty: boolean, ...args: string[]) {
  const out = collector();
  const err = collector();
  if (tty) err.stream.isTTY = true;
  const code = await main(
    ['node', 'comeback', ...args],
    { out: out.stream, err: err.stream },
    {
      ...process.env,
      COMEBACK_DB: `sqlite:${join(dir, file)}`,
    },
  );
  return { code, out: out.text(), err: err.text() };
}

describe('comeback loyalty', () => {
  test("a member with an entry made live, after the store's data, is shown as of that entry, as their own pages show them", async () => {
    const run = (...args: string[]) => comebackOn('live.db', false, ...args);
    const sample = join(ROOT, 'samples/online-retail/online-retail-sample.csv.gz');
    assert.equal((await run('import', sample, '--format', 'online-retail')).code, 0);
    const example = join(ROOT, 'samples/loyalty/program.example.json');
    assert.equal((await run('loyalty', 'init', '--config', example)).code, 0);
    assert.equal((await run('loyalty', 'sync')).code, 0);
    const before = JSON.parse((await run('loyalty', 'member', '8', '--json')).out);
    assert.ok(before.available > 1000, "points earned over 2011, not yet expired at the data's end");
    // Named by the store's own customer id (Online Retail's CustomerID), as the human face names it.
    assert.match(before.storeId, /^1\d{4}$/);
    assert.match(
      (await run('loyalty', 'member', '8')).out,
      new RegExp(`^member online-retail:${before.storeId}, #8: `),
    );
    // The store's data ends in 2011; the customer's own pages read today, when those points have
    // expired: the owner is told what the customer sees, beside the figures as of the data's end.
    assert.deepEqual(before.today && { available: before.today.available, tier: before.today.tier }, {
      available: 0,
      tier: 'blue',
    });
    const stale = await run('loyalty', 'member', '8');
    assert.match(
      stale.out,
      /^note: the store's data ends on 2011-12-09; today \(\d{4}-\d{2}-\d{2}\) the customer's own pages show 0 points \(£0\.00\) and Blue, after the expiries and tier reviews due since \(`loyalty sync --as-of \d{4}-\d{2}-\d{2}` books them\)$/m,
    );
    // A review answered years later (as the hosted page credits it, live): its 50 points are booked in 2026.
    const earned = await run('loyalty', 'earn', '8', '--action', 'review', '--as-of', '2026-12-03');
    assert.equal(earned.code, 0, earned.err);
    // What the member can spend after it, as `loyalty member` reads it: not the booked column.
    assert.equal(earned.out, '+50 points for review; available 50 points (£0.50)\n');
    const live = JSON.parse((await run('loyalty', 'member', '8', '--as-of', '2026-12-03', '--json')).out);
    // By 2026 the 2011 points have expired (12 months after earning): only the review's 50 are left.
    assert.equal(live.available, 50);
    const shown = JSON.parse((await run('loyalty', 'member', '8', '--json')).out);
    assert.equal(shown.available, 50, 'not the 2011 balance plus points booked in 2026');
    assert.equal(shown.asOf, Date.UTC(2026, 11, 4) - 1);
    const human = await run('loyalty', 'member', '8');
    assert.match(human.out, /^available 50 points \(£0\.50\), pending 0, earned in all /m);
    assert.match(
      human.out,
      /^note: shown as of 2026-12-03, the day the member's ledger is booked up to \(a sync, live reviews, answers, redemptions\), after the store's latest data \(2011-12-09\); as the customer's own pages show it$/m,
    );
    // The 2011 points lapsed by 2026 are shown as due, with what books them: not "the next sync", which
    // runs as of the store's data (2011) and books nothing of 2026.
    assert.match(human.out, / expire +points available since .* due \(a sync as of this day or later books it\)$/m);
    // A hand-made entry at the store's default as-of (2011) is not written back in time, behind the 2026
    // review (10 points booked in 2011 would have expired in 2012): it is dated with the latest entry, and says so.
    const adjusted = await run('loyalty', 'adjust', '8', '--points', '10', '--reason', 'goodwill');
    assert.equal(adjusted.code, 0, adjusted.err);
    assert.equal(adjusted.out, '+10 points; available 60 points (£0.60)\n');
    assert.match(
      adjusted.err,
      /^note: dated 2026-12-03, the member's latest ledger entry, after the store's latest data \(2011-12-09\): a member's ledger is not written back in time$/m,
    );
    // A typed date after today is refused too: the ledger is dated when things happen.
    const ahead = await run(
      'loyalty',
      'credit',
      'adjust',
      '8',
      '--amount',
      '1.00',
      '--reason',
      'x',
      '--as-of',
      '2099-01-01',
    );
    assert.equal(ahead.code, 1);
    assert.match(
      ahead.err,
      /as-of: 2099-01-01 is after today \(\d{4}-\d{2}-\d{2}\): a ledger entry is dated when it happens, never ahead of it/,
    );
    const syncAhead = await run('loyalty', 'sync', '--as-of', '2099-01-01');
    assert.equal(syncAhead.code, 1, 'a sync as of next year would expire what has not expired yet');
    // A typed date before the ledger is refused, naming the flag, and writes nothing.
    const back = await run('loyalty', 'redeem', '8', '--reward', 'five-off', '--as-of', '2011-12-01');
    assert.equal(back.code, 1);
    assert.match(
      back.err,
      /as-of: 2011-12-01 is before the member's ledger, booked up to 2026-12-03 \(syncs, redemptions, reviews\); write the member as of that day or later/,
    );
    const customer = await run('customer', '8');
    assert.match(
      customer.out,
      /^loyalty: Blue, 60 points available \(£0\.60\), 0 pending \(as of 2026-12-03, the latest ledger entry\)$/m,
    );
    // Store credit adjusted by hand at the default as-of joins the ledger in 2026 too, and `loyalty credit`
    // reads it there (as the customer's own pages do) rather than as of 2011, before it.
    const credited = await run('loyalty', 'credit', 'adjust', '8', '--amount', '5.00', '--reason', 'late delivery');
    assert.equal(credited.code, 0, credited.err);
    const credit = await run('loyalty', 'credit', '8');
    assert.equal(credit.code, 0, credit.err);
    assert.match(credit.out, /^customer online-retail:\d+, #\d+: £5\.00 of store credit, checkout code CR-/m);
    assert.match(credit.out, /^note: shown as of 2026-12-03, the member's latest ledger entry/m);
    assert.match(credit.out, /^2026-12-03 +\+£5\.00 +adjusted +late delivery +cli$/m);
    // The customer's profile shows the credit beside the points.
    assert.match(
      (await run('customer', '8')).out,
      /^loyalty: Blue, 60 points available \(£0\.60\), 0 pending, store credit £5\.00 \(as of 2026-12-03, the latest ledger entry\)$/m,
    );
    const creditThen = JSON.parse((await run('loyalty', 'credit', '8', '--as-of', '2011-12-09', '--json')).out);
    assert.equal(creditThen.accounts.length === 0 || creditThen.accounts[0].balanceMinor === 0, true, 'none then');
    // A sync as of today books every member through today: a member with no live entry is then read as
    // of that day too, as every other member is, not as of whichever expiry the sync booked last for them.
    const quiet = JSON.parse((await run('loyalty', 'dormant', '--json', '--limit', '5')).out).members.find(
      (m: { customerId: number }) => m.customerId !== 8,
    );
    assert.equal((await run('loyalty', 'sync', '--as-of', '2026-12-03')).code, 0);
    const synced = JSON.parse((await run('loyalty', 'member', String(quiet.customerId), '--json')).out);
    assert.equal(synced.asOf, Date.UTC(2026, 11, 4) - 1);
    assert.equal(synced.available, 0, 'every 2011 point has expired by then');
  });

  test('init, sync over the sample, member, redeem, adjust, report and dormant', async () => {
    const sample = join(ROOT, 'samples/online-retail/online-retail-sample.csv.gz');
    assert.equal((await comeback('import', sample, '--format', 'online-retail')).code, 0);
    assert.equal((await comeback('loyalty', 'status')).code, 1, 'no program yet');
    const example = join(ROOT, 'samples/loyalty/program.example.json');
    assert.equal(JSON.parse((await comeback('loyalty', 'init', '--config', example, '--json')).out).version, 1);
    assert.equal(
      JSON.parse((await comeback('loyalty', 'init', '--config', example, '--json')).out).version,
      1,
      'same file, same version',
    );

    const asOf = ['--as-of', '2011-12-31'];
    const sync = JSON.parse((await comeback('loyalty', 'sync', ...asOf, '--json')).out);
    assert.ok(sync.orders.enrolled > 400);
    assert.equal(JSON.parse((await comeback('loyalty', 'sync', ...asOf, '--json')).out).orders.ledgerEntries, 0);

    const member = JSON.parse((await comeback('loyalty', 'member', '8', ...asOf, '--json')).out);
    assert.ok(member.available > 800);
    // The human face names the member by the store's id (and the internal one), each entry by the
    // store's order number.
    const human = await comeback('loyalty', 'member', '8', ...asOf);
    assert.equal(human.code, 0, human.err);
    assert.match(human.out, /^member [\w-]+:\S+, #\d+: /);
    assert.doesNotMatch(human.out, /^note: the ledger holds/m);
    // The ledger is booked to the sync's day: a member read as of a day before it is refused, since
    // the balance would hold the points of the months after it.
    const early = await comeback('loyalty', 'member', '8', '--as-of', '2011-06-30');
    assert.equal(early.code, 1);
    assert.match(
      early.err,
      /as-of: 2011-06-30 is before the member's ledger, booked up to 2011-12-31 \(syncs, redemptions, reviews\); read the member as of that day or later/,
    );
    // Above the lowest tier, what keeping it takes by its review (or that it is kept), from the JSON's figures.
    assert.ok(member.tierKeep, 'member 8 is above the lowest tier');
    {
      const keep = member.tierKeep as { missing: number; counted: number; threshold: number };
      const n = (v: number) => v.toLocaleString('en-GB');
      assert.match(
        human.out,
        keep.missing > 0
          ? new RegExp(
              `\\nto keep \\w+ at the review on \\d{4}-\\d\\d-\\d\\d: ${n(keep.missing)} points more by then \\(${n(keep.counted)} of ${n(keep.threshold)} points counted so far\\)\\n`,
            )
          : new RegExp(
              `\\n\\w+ is kept at the review on \\d{4}-\\d\\d-\\d\\d \\(${n(keep.counted)} of ${n(keep.threshold)} points counted\\)\\n`,
            ),
      );
    }
    const json = JSON.parse((await comeback('loyalty', 'member', '8', ...asOf, '--json')).out) as {
      entries: Array<{ kind: string; orderId: number | null; orderNumber: string | null }>;
    };
    const earned = json.entries.find(
      (e) => e.kind === 'earn' && e.orderNumber !== null && e.orderNumber !== String(e.orderId),
    );
    assert.ok(earned, 'an entry whose store order number is not its internal id');
    assert.match(human.out, new RegExp(` earn +order ${earned.orderNumber} `));
    assert.doesNotMatch(human.out, new RegExp(` earn +order ${earned.orderId} `));
    const redeemed = JSON.parse(
      (await comeback('loyalty', 'redeem', '8', '--reward', 'five-off', '--key', 'k-8', ...asOf, '--json')).out,
    );
    assert.match(redeemed.code, /^CB-/);
    assert.equal(redeemed.balance, member.available - 500);
    const retried = await comeback('loyalty', 'redeem', '8', '--reward', 'five-off', '--key', 'k-8', ...asOf, '--json');
    assert.equal(retried.code, 0, retried.err);
    assert.equal(JSON.parse(retried.out).code, redeemed.code, 'the same key and reward: the first code');
    const reused = await comeback('loyalty', 'redeem', '8', '--reward', 'free-shipping', '--key', 'k-8', ...asOf);
    assert.equal(reused.code, 1, 'the key with another reward');
    assert.match(reused.err, /idempotency key k-8 was already used for reward five-off for customer 8/);
    // The issue's example: a key that is also an order's earn entry (order:1:earn) still debits.
    const earnKey = await comeback(
      'loyalty',
      'redeem',
      '8',
      '--reward',
      'free-shipping',
      '--key',
      'order:1:earn',
      ...asOf,
      '--json',
    );
    assert.equal(earnKey.code, 0, earnKey.err);
    assert.equal(JSON.parse(earnKey.out).balance, member.available - 500 - 300);
    assert.equal(
      JSON.parse((await comeback('loyalty', 'member', '8', ...asOf, '--json')).out).available,
      member.available - 800,
    );

    const noReason = await comeback('loyalty', 'adjust', '8', '--points', '10', '--reason', ' ');
    assert.equal(noReason.code, 1);
    assert.match(noReason.err, /reason/);
    assert.equal((await comeback('loyalty', 'adjust', '8', '--points', 'ten', '--reason', 'x')).code, 2);
    assert.equal((await comeback('loyalty', 'earn', '8', '--action', 'dance')).code, 2);
    const share = await comeback('loyalty', 'earn', '8', '--action', 'share', '--reference', 'https://x/1', ...asOf);
    assert.equal(share.code, 0, share.err);
    assert.match(share.out, /\+10 points/);
    // Made as of 2011-12-31, the entry is dated that day (its last millisecond), not the next midnight.
    const shared = JSON.parse((await comeback('loyalty', 'member', '8', ...asOf, '--json')).out).entries.find(
      (e: { reason: string }) => /share/.test(e.reason),
    );
    assert.equal(shared?.occurredAt, Date.parse('2012-01-01T00:00:00Z') - 1);
    assert.match((await comeback('loyalty', 'member', '8', ...asOf)).out, /\n2011-12-31 +10 +earn +[^\n]*share/);

    const report = JSON.parse((await comeback('loyalty', 'report', ...asOf, '--json')).out);
    assert.equal(report.points.redeemed, 800, 'five-off 500 and free-shipping 300');
    assert.match((await comeback('loyalty', 'report', ...asOf)).out, /liability\s+£/);
    const dormantJson = JSON.parse((await comeback('loyalty', 'dormant', '--days', '180', ...asOf, '--json')).out);
    const dormant = dormantJson.members;
    assert.equal(dormantJson.total, dormant.length);
    const dormantTable = (await comeback('loyalty', 'dormant', '--days', '180', ...asOf)).out.split('\n');
    assert.match(dormantTable[0]!, /^customer +store id +inactive days .* next reward \(points short\)$/);
    // The next reward with the points it needs, said without a minus sign that reads as a debt.
    const short = dormant.find((m: { nextReward?: unknown }) => m.nextReward);
    if (short) {
      const row = dormantTable.find((line) => line.trimStart().startsWith(`#${short.customerId} `))!;
      assert.ok(row.endsWith(`${short.nextReward.key} (${short.nextReward.missing.toLocaleString('en-GB')})`), row);
    }
    assert.match(
      dormantTable[1]!,
      new RegExp(`^ *#${dormant[0].customerId} +\\S+ +\\d`),
      'the internal and the store id',
    );
    assert.equal(dormantTable.filter((line) => line !== '').at(-1), `${dormant.length} dormant members`);
    // Cut by --limit, the table says how many there are in all.
    const two = (await comeback('loyalty', 'dormant', '--days', '180', '--limit', '2', ...asOf)).out.split('\n');
    assert.equal(two.filter((line) => /^ *#\d/.test(line)).length, 2);
    assert.ok(
      two.includes(
        `2 of ${dormant.length} dormant members, largest balance first (--limit ${dormant.length} shows them all)`,
      ),
      two.join('\n'),
    );
    // Who is dormant, read independently from the raw ledger: members whose latest earn (of points) or
    // redemption is at least 180 days before the end of 2011-12-31. The list must be exactly them.
    const ledgerStore = await openStore(`sqlite:${join(dir, 'loyalty.db')}`);
    const cutoff = Date.parse('2012-01-01T00:00:00Z') - 180 * 86_400_000;
    let expectedDormant: number[];
    try {
      const rows = await ledgerStore.db
        .withTables<LoyaltyTables>()
        .selectFrom('loyalty_members as m')
        .select('m.customer_id')
        .where((eb) =>
          eb.not(
            eb.exists(
              eb
                .selectFrom('loyalty_ledger as l')
                .select('l.id')
                .whereRef('l.customer_id', '=', 'm.customer_id')
                .where((w) =>
                  w.or([w.and([w('l.kind', '=', 'earn'), w('l.amount', '>', 0)]), w('l.kind', '=', 'redeem')]),
                )
                .where('l.occurred_at', '>', cutoff),
            ),
          ),
        )
        .execute();
      expectedDormant = rows.map((r) => Number(r.customer_id)).sort((x, y) => x - y);
    } finally {
      await ledgerStore.close();
    }
    assert.ok(expectedDormant.length > 0, 'the sample has dormant members: the check below is not vacuous');
    assert.deepEqual(
      dormant.map((m: { customerId: number }) => m.customerId).sort((x: number, y: number) => x - y),
      expectedDormant,
    );
    assert.ok(dormant.every((m: { daysInactive: number }) => m.daysInactive >= 180));
    const status = await comeback('loyalty', 'status', ...asOf);
    assert.equal(status.code, 0, status.err);
    // The example program: a point is worth a penny, said in money.
    assert.match(status.out, /, GBP, 1 point = £0\.01\n/);

    const clean = await comeback('loyalty', 'audit', '--json');
    assert.equal(clean.code, 0, clean.err);
    assert.deepEqual(JSON.parse(clean.out).problems, []);
    // The state the old redemption bug left: a code with no debit. The audit names it and exits 1.
    const store = await openStore(`sqlite:${join(dir, 'loyalty.db')}`);
    try {
      await store.db
        .withTables<LoyaltyTables>()
        .insertInto('loyalty_redemptions')
        .values({
          code: 'CB-NODEBIT99',
          customer_id: 8,
          reward_key: 'five-off',
          reward: '{}',
          points: 500,
          idempotency_key: 'order:1:earn-legacy',
          min_order_minor: 0,
          issued_at: 0,
          expires_at: 0,
          used_at: null,
          used_order_id: null,
          program_version: 1,
          ledger_key: null,
        })
        .execute();
    } finally {
      await store.close();
    }
    const dirty = await comeback('loyalty', 'audit');
    assert.equal(dirty.code, 1);
    assert.match(dirty.out, /code CB-NODEBIT99 of member 8: no redeem debit of 500 points/);
    assert.match(dirty.err, /found 1 problem/);
  });

  test("sync defaults to the store's latest data, counts tier moves and shows progress on a terminal", async () => {
    const sample = join(ROOT, 'samples/online-retail/online-retail-sample.csv.gz');
    const example = join(ROOT, 'samples/loyalty/program.example.json');
    assert.equal((await comebackOn('default.db', false, 'import', sample, '--format', 'online-retail')).code, 0);
    assert.equal((await comebackOn('default.db', false, 'loyalty', 'init', '--config', example)).code, 0);
    const run = await comebackOn('default.db', true, 'loyalty', 'sync', '--json');
    assert.equal(run.code, 0, run.err);
    const sync = JSON.parse(run.out);
    // The sample's last sale is 2011-12-09 12:49 (by hand from the file): the default is that day's end,
    // not today, so nothing of a year's points expired.
    assert.ok(sync.asOf > Date.UTC(2011, 11, 9, 12, 49) && sync.asOf <= Date.UTC(2011, 11, 10, 23, 59), sync.asOf);
    assert.equal(sync.settle.expired, 0);
    assert.match(run.err, /loyalty sync as of the end of 2011-12-09 \(the end of the day of the latest sale\)/);
    assert.match(run.err, /loyalty sync \[.*\] \d+% \| \d+\/\d+ orders/, 'a progress bar on the terminal');
    const report = JSON.parse((await comebackOn('default.db', false, 'loyalty', 'report', '--json')).out);
    assert.equal(report.asOf, sync.asOf, 'every loyalty command shares the default');
    const aboveBase = report.tiers.slice(1).reduce((n: number, t: { members: number }) => n + t.members, 0);
    assert.ok(aboveBase > 0);
    assert.ok(sync.upgrades >= aboveBase, `${sync.upgrades} upgrades for ${aboveBase} members above the base tier`);
    assert.ok(report.upgrades >= aboveBase);
    const human = await comebackOn('default.db', false, 'loyalty', 'report');
    assert.match(
      human.out,
      new RegExp(`tier upgrades / downgrades \\(365 days\\)\\s+${report.upgrades} / ${report.downgrades}`),
    );
    assert.match(human.out, /redemption rate of gross issued/);
    assert.match(human.out, /redemption rate of net issued/);
    const quiet = await comebackOn('default.db', false, 'loyalty', 'sync');
    assert.doesNotMatch(quiet.err, /\[.*\] \d+%/, 'no bar when stderr is not a terminal');
  });

  test('a program in a currency the store never sold in is refused, naming the field; nothing is stored', async () => {
    const example = join(ROOT, 'samples/loyalty/program.example.json');
    const csv = join(dir, 'eur.csv');
    writeFileSync(csv, 'order_id,customer_id,placed_at,total,currency\no-1,c-1,2011-03-01,20.00,EUR\n');
    const imported = await comebackOn('eur.db', false, 'import', csv, '--format', 'csv');
    assert.equal(imported.code, 0, imported.err);
    // The example program is in GBP: it could never earn here, and a sync would pass over the orders for good.
    const refused = await comebackOn('eur.db', false, 'loyalty', 'init', '--config', example);
    assert.equal(refused.code, 1);
    assert.match(refused.err, /program\.example\.json: currency: the store has no sales in GBP, only in EUR/);
    const status = await comebackOn('eur.db', false, 'loyalty', 'status');
    assert.equal(status.code, 1, 'no program was stored');
    assert.match(status.err, /loyalty init/);
  });

  test('a sync says how many orders are in other currencies, members or not (CDNOW in USD beside a GBP program)', async () => {
    const example = join(ROOT, 'samples/loyalty/program.example.json');
    const csv = join(dir, 'two.csv');
    writeFileSync(
      csv,
      'order_id,customer_id,placed_at,total,currency\no-1,c-1,2011-03-01,20.00,GBP\no-2,c-2,2011-03-02,30.00,USD\no-3,c-3,2011-03-03,40.00,USD\n',
    );
    assert.equal((await comebackOn('two.db', false, 'import', csv, '--format', 'csv')).code, 0);
    assert.equal((await comebackOn('two.db', false, 'loyalty', 'init', '--config', example)).code, 0);
    const sync = await comebackOn('two.db', false, 'loyalty', 'sync');
    assert.equal(sync.code, 0, sync.err);
    assert.match(sync.out, /^orders in other currencies +2 *$/m);
    assert.match(
      sync.out,
      /^note: 2 orders looked at are in other currencies than the program's GBP: they earn no points and enrol no one$/m,
    );
  });

  test('a bad program file is refused naming the field', async () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ name: 'x', currency: 'GBP' }));
    const result = await comeback('loyalty', 'init', '--config', bad);
    assert.equal(result.code, 1);
    assert.match(result.err, /bad\.json: pointValueMinor: Expected required property/);
  });
});
