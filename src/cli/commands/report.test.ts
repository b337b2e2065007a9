import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { dropWhenClosed } from '../../../test/pg-drop.js';
import { DIALECTS, freshDatabase, type TestDb } from '../../../test/setup.js';
import { importFile } from '../../ingest/index.js';
import { samplePath } from '../../shared/paths.js';
import type { Io } from '../io.js';
import { main } from '../main.js';

const NOW = Date.UTC(2026, 0, 1);
const WOOCOMMERCE = join(import.meta.dirname, '../../../test/fixtures/import/woocommerce-orders.csv');

/** Runs `comeback ARGS…` in-process; `tty` makes stdout look like a terminal. */
async function run(args: string[], { tty = false, env = {} }: { tty?: boolean; env?: NodeJS.ProcessEnv } = {}) {
  let out = '';
  let err = '';
  const sink = (write: (s: string) => void) =>
    new Writable({
      write(chunk, _encoding, done) {
        write(String(chunk));
        done();
      },
    });
  const stdout = Object.assign(
    sink((s) => {
      out += s;
    }),
    { isTTY: tty },
  );
  const io: Io = {
    out: stdout,
    err: sink((s) => {
      err += s;
    }),
  };
  const code = await main(['node', 'comeback', ...args], io, { ...env });
  return { code, out, err };
}

/** The top-level keys the issue promises in `comeback report --json`. */
const KEYS = [
  'customersStart',
  'customersEnd',
  'newCustomers',
  'customersLost',
  'crr',
  'churnRate',
  'repeatPurchaseRate',
  'returningCustomerRate',
  'aov',
  'purchaseFrequency',
  'clv',
  'revenueChurn',
  'netRevenueRetention',
  'currency',
];

for (const dialect of DIALECTS) {
  describe(`comeback report and cohorts on ${dialect.name}`, { skip: dialect.skip }, () => {
    let t: TestDb;
    before(async () => {
      t = await freshDatabase(dialect.name);
      await importFile(t.store.db, samplePath('shopify', 'orders_export_1.devstore.redacted.csv'), {
        format: 'shopify',
        now: NOW,
      });
      await importFile(t.store.db, WOOCOMMERCE, { format: 'woocommerce', now: NOW, timeZone: 'Asia/Seoul' });
    });
    after(() => dropWhenClosed(t));

    test('report --json: the promised keys, rates as fractions, one figure per currency', async () => {
      const { code, out, err } = await run(['report', '--json', '--db', t.url]);
      assert.equal(code, 0, err);
      const report = JSON.parse(out);
      for (const key of KEYS) assert.ok(key in report, `${key} is at the top level`);
      assert.equal(report.currency, 'INR', 'the main currency: most sales');
      // INR's sales are all on 2025-12-06: November lies wholly before them, so its figures are unknown
      // (null, said), not 0. KRW sold until 2024 and nothing in either period: left out, and said.
      assert.deepEqual(
        report.byCurrency.map((c: { currency: string }) => c.currency),
        ['INR'],
      );
      assert.deepEqual(
        [report.customersEnd, report.orders, report.revenue, report.unsupported[0].code],
        [null, null, null, 'period_outside_history'],
      );
      assert.deepEqual(report.leftOutCurrencies, [{ currency: 'KRW', lastSaleDay: '2024-04-02' }]);
      assert.equal(report.asOf, '2025-12-07T00:00:00.000Z', 'default as-of: the day after the latest sale');
      assert.equal(report.from, '2025-11-01', 'default period: the last full month');
      assert.equal(report.to, '2025-12-01', 'the exclusive end');
      assert.equal(report.lastDay, '2025-11-30', 'the last day included');
      assert.equal(report.asOfLastDay, '2025-12-06', 'as of the end of the day of the latest sale');
      for (const key of ['crr', 'churnRate', 'repeatPurchaseRate', 'returningCustomerRate', 'revenueChurn']) {
        const value = report[key];
        assert.ok(value === null || (value >= 0 && value <= 1), `${key} = ${value} is a fraction`);
      }
      assert.ok('previous' in report && 'change' in report);
      const given = JSON.parse((await run(['report', '--json', '--db', t.url, '--as-of', '2025-12-06'])).out);
      assert.equal(given.asOf, '2025-12-07T00:00:00.000Z', '--as-of 2025-12-06 is the end of that day');
      assert.equal(given.asOfSource, 'given');
    });

    test('report --currency KRW --from --to: won without decimals, refunds net, the cancelled order left out', async () => {
      const { code, out, err } = await run([
        'report',
        '--json',
        '--db',
        t.url,
        '--currency',
        'KRW',
        '--from',
        '2024-03-01',
        '--to',
        '2024-04-30',
        '--active-window',
        '90d',
      ]);
      assert.equal(code, 0, err);
      const report = JSON.parse(out);
      assert.equal(report.currency, 'KRW');
      assert.equal(report.byCurrency.length, 1);
      assert.equal(report.activeWindowDays, 90);
      assert.equal(report.orders + report.guestOrders, 3);
      assert.equal(report.revenue + report.guestRevenue, 48_000 + 28_000 + 10_000);
      // The KRW sales start on the period's first day: nothing before it can be seen, so S and N are not known.
      assert.equal(report.customersStart, null);
      assert.equal(report.newCustomers, null);
      assert.deepEqual(
        report.unsupported.map((u: { code: string }) => u.code),
        ['history_shorter_than_window', 'period_before_history'],
      );
    });

    test('report as a table says what a customer is and shows the change', async () => {
      const { code, out } = await run(['report', '--db', t.url, '--currency', 'KRW', '--as-of', '2024-06-01']);
      assert.equal(code, 0);
      assert.match(out, /A customer at time t is one with at least one sale in the 365 days before t/);
      assert.match(out, /customer retention rate retained\/S/);
      assert.match(out, /customers reactivated/);
      assert.match(out, /as of the end of 2024-06-01 \(given\)/);
      assert.match(out, /metric\s+this period\s+previous\s+change/);
      assert.match(out, /₩|KRW/);
    });

    test('cohorts --json and the heatmap colours on a terminal only, never with NO_COLOR', async () => {
      const json = await run(['cohorts', '--json', '--db', t.url, '--currency', 'KRW', '--metric', 'ltv']);
      assert.equal(json.code, 0, json.err);
      const table = JSON.parse(json.out);
      assert.equal(table.period, 'month');
      assert.equal(table.metric, 'ltv');
      assert.equal(table.cohorts[0].cohort, '2024-03');
      // The data starts in the first cohort's month: it holds everyone already buying then, and says so.
      assert.equal(table.firstCohort.cohort, '2024-03');
      assert.match(table.firstCohort.firstSaleDay, /^2024-03-\d\d$/);
      const week = JSON.parse((await run(['cohorts', '--json', '--db', t.url, '--period', 'week'])).out);
      assert.match(week.cohorts[0].cohort, /^\d{4}-W\d{2}$/);
      const plain = await run(['cohorts', '--db', t.url, '--currency', 'KRW']);
      const dec = JSON.parse((await run(['cohorts', '--json', '--db', t.url, '--as-of', '2025-12-06'])).out);
      assert.deepEqual(dec.partial, {
        cohort: '2025-12',
        start: '2025-12-01',
        lastDay: '2025-12-06',
        days: 6,
        ofDays: 31,
      });
      const nov = JSON.parse((await run(['cohorts', '--json', '--db', t.url, '--as-of', '2025-11-30'])).out);
      assert.equal(nov.partial, null, 'as of the end of November 30 the last month is whole');
      const text = (await run(['cohorts', '--db', t.url, '--as-of', '2025-12-06'])).out;
      assert.match(text, /\* 2025-12 is partial: the data stops on 2025-12-06 \(6 of 31 days\)/);
      // INR's sales all start on 2025-12-06: its one cohort is the data's first, marked and said.
      assert.match(text, /^2025-12† /m);
      assert.match(
        text,
        /^† 2025-12: the data starts on 2025-12-06, so this cohort holds every customer already buying then, not only those acquired in it$/m,
      );

      // The heading says whose cohorts and as of when; KRW has no minor unit, so no decimals.
      assert.match(plain.out, /^customers who bought in KRW, as of the end of \d{4}-\d{2}-\d{2}$/m);
      const won = (await run(['cohorts', '--db', t.url, '--currency', 'KRW', '--metric', 'revenue'])).out;
      assert.match(won, /net revenue per original customer in each period \(KRW\)/);
      assert.doesNotMatch(won, /^2024-04†/m, 'only the first cohort is marked');
      assert.match(won, /^2024-03† /m);
      assert.doesNotMatch(won.split('\n').slice(3).join('\n'), /\d\.\d/, 'no decimals in won');
      assert.match(won, /\d,\d{3}/, 'thousands grouped');
      assert.ok(!plain.out.includes('\u001b['), 'no colour when stdout is not a terminal');
      const coloured = await run(['cohorts', '--db', t.url, '--currency', 'KRW'], { tty: true });
      assert.ok(coloured.out.includes('\u001b[48;5;'), 'ANSI 256-colour backgrounds on a terminal');
      const noColour = await run(['cohorts', '--db', t.url, '--currency', 'KRW'], {
        tty: true,
        env: { NO_COLOR: '1' },
      });
      assert.ok(!noColour.out.includes('\u001b['), 'NO_COLOR turns colour off');
      const breakdown = JSON.parse(
        (await run(['cohorts', '--json', '--db', t.url, '--currency', 'KRW', '--breakdown', 'discount'])).out,
      );
      // By hand from the fixture: Jisoo's first KRW order (1002, March) used WELCOME5, Minji's (1001) no code;
      // the guest's order was cancelled. An empty list must not pass.
      assert.deepEqual(
        breakdown.cohorts.map((c: { cohort: string; group: string; size: number }) => [c.cohort, c.group, c.size]),
        [
          ['2024-03', 'discount', 1],
          ['2024-03', 'no discount', 1],
        ],
      );
    });

    test('usage errors exit 2, a currency the store does not have exits 1', async () => {
      assert.equal((await run(['cohorts', '--db', t.url, '--period', 'year'])).code, 2);
      assert.equal((await run(['cohorts', '--db', t.url, '--metric', 'profit'])).code, 2);
      assert.equal((await run(['report', '--db', t.url, '--active-window', 'soon'])).code, 2);
      assert.equal((await run(['report', '--db', t.url, '--from', '2024-13-01'])).code, 2);
      assert.equal((await run(['report', '--db', t.url, '--from', '2024-05-01', '--to', '2024-03-01'])).code, 2);
      const currency = await run(['report', '--db', t.url, '--currency', 'JPY']);
      assert.equal(currency.code, 1);
      assert.match(currency.err, /currency JPY/);
    });
  });
}
