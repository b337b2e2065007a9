import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { addCustomer, addOrder, DAY } from '../../test/segments-fixtures.js';
import { DIALECTS, freshDatabase, type TestDb } from '../../test/setup.js';
import { ComebackError } from '../errors.js';
import { newVsReturning } from './acquisition.queries.js';
import { type CohortOptions, cohortTable } from './cohorts.queries.js';
import { GROUP_KINDS, parseGrouping } from './groups.queries.js';
import { reportPeriod, retentionReport } from './report.queries.js';
import { customerSummaries, holdoutPurchases } from './summary.queries.js';

// Values written out by hand, each stating what a sampled mutant of `npm run test:mutation` changed
// (docs/mutation.md, seed 20261201).

const badInput = (message: RegExp) => (e: unknown) =>
  e instanceof ComebackError && e.kind === 'bad_input' && message.test(e.message);

test('every grouping `--by` accepts parses to its kind, in any case; only segment takes a name', () => {
  assert.deepEqual(GROUP_KINDS, [
    'segment',
    'rfm',
    'persona',
    'lifecycle',
    'tier',
    'country',
    'payment',
    'source',
    'medium',
    'campaign',
    'referrer',
    'channel',
  ]);
  for (const kind of GROUP_KINDS.filter((k) => k !== 'segment')) assert.deepEqual(parseGrouping(kind), { kind });
  assert.deepEqual(parseGrouping(' Country '), { kind: 'country' });
  assert.deepEqual(parseGrouping('segment: big spenders '), { kind: 'segment', segment: 'big spenders' });
  // A name may hold a colon: everything after the first one is the name.
  assert.deepEqual(parseGrouping('segment:vip:2024'), { kind: 'segment', segment: 'vip:2024' });
  assert.throws(() => parseGrouping('segment:'), badInput(/^by segment:: name the saved segment, segment:NAME$/));
  assert.throws(() => parseGrouping('segment: '), badInput(/name the saved segment/));
  assert.throws(() => parseGrouping('country:GB'), badInput(/^by country:GB: only segment takes a name$/));
  assert.throws(
    () => parseGrouping('planet'),
    badInput(
      /^by planet: choose one of segment, rfm, persona, lifecycle, tier, country, payment, source, medium, campaign, referrer, channel \(segment:NAME\)$/,
    ),
  );
});

test('a report period must end after it starts, by one millisecond at least', () => {
  const asOf = Date.UTC(2024, 5, 15);
  const from = Date.UTC(2024, 4, 1);
  assert.deepEqual(reportPeriod({ from, to: from + 1, asOf }), { from, to: from + 1, isDefault: false });
  assert.throws(() => reportPeriod({ from, to: from, asOf }), badInput(/^from: must be before to$/));
  assert.throws(() => reportPeriod({ from, to: from - 1, asOf }), badInput(/^from: must be before to$/));
  // Without `to`, the period runs to asOf; without `from`, it starts a month before `to`'s month.
  assert.deepEqual(reportPeriod({ from, asOf }), { from, to: asOf, isDefault: false });
  assert.deepEqual(reportPeriod({ to: Date.UTC(2024, 2, 10), asOf }), {
    from: Date.UTC(2024, 1, 1),
    to: Date.UTC(2024, 2, 10),
    isDefault: false,
  });
  assert.deepEqual(reportPeriod({ asOf }), { from: Date.UTC(2024, 4, 1), to: Date.UTC(2024, 5, 1), isDefault: true });
  assert.throws(
    () => reportPeriod({ asOf, timeZone: 'Mars/Olympus' }),
    badInput(/^timeZone: Mars\/Olympus is not an IANA time zone$/),
  );
});

for (const dialect of DIALECTS) {
  describe(`summaries and hold-outs at their edges (${dialect.name})`, { skip: dialect.skip }, () => {
    let t: TestDb;
    const END = Date.UTC(2024, 5, 1);
    before(async () => {
      t = await freshDatabase(dialect.name);
    });
    after(async () => {
      await t?.drop();
    });

    test('a cohort table refuses a period, metric or breakdown it does not know, naming it', async () => {
      // Options as a JavaScript caller or a JSON body gives them: no type stops an unknown name.
      const options = (json: string): CohortOptions => ({ asOf: END, ...JSON.parse(json) });
      const refuses = (json: string, message: RegExp) =>
        assert.rejects(cohortTable(t.store.db, options(json)), badInput(message));
      await refuses('{"period": "year"}', /^period year: use month or week$/);
      await refuses('{"metric": "churn"}', /^metric churn: use customers, revenue or ltv$/);
      await refuses('{"breakdown": "age"}', /^breakdown age: use value, country or discount$/);
      await refuses(
        '{"breakdown": "value", "by": {"kind": "country"}}',
        /^by: give either a breakdown or a grouping, not both$/,
      );
      const empty = await cohortTable(t.store.db, options('{"metric": "ltv", "period": "week"}'));
      assert.equal(empty.metric, 'ltv');
      assert.equal(empty.period, 'week');
    });

    test('a store without sales has no hold-out purchases, and a hold-out may end where calibration ends', async () => {
      const none = await holdoutPurchases(t.store.db, { calibrationEnd: END, holdoutEnd: END });
      assert.deepEqual(none, { customerIds: new Float64Array(0), purchases: new Float64Array(0) });
      const ann = await addCustomer(t.store.db);
      await addOrder(t.store.db, ann, { at: END - 10 * DAY });
      await addOrder(t.store.db, ann, { at: END + 2 * DAY });
      // An empty hold-out (it ends where calibration ends): Ann is in it, with no purchase day in it.
      const empty = await holdoutPurchases(t.store.db, { calibrationEnd: END, holdoutEnd: END });
      assert.deepEqual(empty, { customerIds: Float64Array.of(ann), purchases: Float64Array.of(0) });
      // A hold-out of three days takes in the order of END + 2 days (its last day is END + 2 days).
      const one = await holdoutPurchases(t.store.db, { calibrationEnd: END, holdoutEnd: END + 3 * DAY });
      assert.deepEqual(one, { customerIds: Float64Array.of(ann), purchases: Float64Array.of(1) });
      await assert.rejects(
        holdoutPurchases(t.store.db, { calibrationEnd: END, holdoutEnd: END - 1 }),
        badInput(/^holdoutEnd: must not be before calibrationEnd$/),
      );
      await assert.rejects(
        customerSummaries(t.store.db, { asOf: END, calibrationEnd: END + 1 }),
        badInput(/^calibrationEnd: must not be after asOf$/),
      );
      const s = await customerSummaries(t.store.db, { asOf: END, calibrationEnd: END });
      assert.deepEqual([...s.customerIds], [ann]);
    });
  });
}

for (const dialect of DIALECTS) {
  describe(`the report of a four-customer store (${dialect.name})`, { skip: dialect.skip }, () => {
    let t: TestDb;
    const AS_OF = Date.UTC(2024, 5, 15);
    const day = (iso: string) => Date.parse(`${iso}T12:00:00Z`);
    before(async () => {
      t = await freshDatabase(dialect.name);
      const db = t.store.db;
      // D buys on 2024-03-02 (£50); C on 04-01 (£40); A on 04-25 (£10) and 05-10 (£20); B on 05-20 (£30).
      const [a, b, c, d] = [await addCustomer(db), await addCustomer(db), await addCustomer(db), await addCustomer(db)];
      await addOrder(db, d, { at: day('2024-03-02'), totalMinor: 5000 });
      await addOrder(db, c, { at: day('2024-04-01'), totalMinor: 4000 });
      await addOrder(db, a, { at: day('2024-04-25'), totalMinor: 1000 });
      await addOrder(db, a, { at: day('2024-05-10'), totalMinor: 2000 });
      await addOrder(db, b, { at: day('2024-05-20'), totalMinor: 3000 });
    });
    after(async () => {
      await t?.drop();
    });

    test('one repeat gap is too few for a window: 365 days, and then no history reaches a window back', async () => {
      const r = await retentionReport(t.store.db, { asOf: AS_OF });
      // The default period is May 2024, beside April. A's one gap: 04-25 → 05-10 = 15 days.
      assert.deepEqual([r.from, r.to], [Date.UTC(2024, 4, 1), Date.UTC(2024, 5, 1)]);
      assert.deepEqual(r.activeWindow, {
        days: 365,
        source: 'fallback',
        rule: '1 repeat purchases are too few to derive a window from (30 needed): 365 days',
        repeatGaps: 1,
        p90GapDays: 15,
      });
      // 365 days before 2024-05-01 is 2023-05-02 (the year holds 2024-02-29); the sales start on 2024-03-02.
      const figures = ['customersLost', 'retainedCustomers', 'crr', 'churnRate', 'averageLifespanDays', 'clv'];
      assert.deepEqual(r.unsupported, [
        {
          code: 'history_shorter_than_window',
          figures,
          historyStart: '2024-03-02',
          needed: '2023-05-02',
          message:
            'the sales start on 2024-03-02, but a 365-day active window before 2024-05-01 needs them from 2023-05-02: ' +
            'nobody could be seen leaving, so retention and churn are not shown (use a shorter --active-window or a later period)',
        },
      ]);
      assert.deepEqual(
        r.previous.unsupported.map((u) => [u.figures, u.needed]),
        [[figures, '2023-04-02']],
      );
      assert.equal(r.clv, null);
      assert.equal(r.change.clv, null);
    });

    test('a period that starts before the first sale shows no customers at its start, new or returning', async () => {
      // March [03-01, 04-01) starts a day before D's first sale on 03-02; its previous period, February,
      // lies wholly before the sales. Everyone looks new in them, so S, N and the returning figures are null.
      const r = await retentionReport(t.store.db, {
        asOf: AS_OF,
        activeWindowDays: 30,
        from: Date.UTC(2024, 2, 1),
        to: Date.UTC(2024, 3, 1),
      });
      const before = r.unsupported.find((u) => u.code === 'period_before_history');
      assert.deepEqual(before, {
        code: 'period_before_history',
        figures: [
          'customersStart',
          'newCustomers',
          'reactivatedCustomers',
          'returningCustomers',
          'returningCustomerRate',
        ],
        historyStart: '2024-03-02',
        needed: '2024-03-01',
        message:
          'the period starts on 2024-03-01 and the sales on 2024-03-02: no purchase before the period can be seen, ' +
          'so customers at the start, new, reactivated and returning customers are not shown',
      });
      assert.deepEqual(
        [r.customersStart, r.newCustomers, r.reactivatedCustomers, r.returningCustomers, r.returningCustomerRate],
        [null, null, null, null, null],
      );
      // What can be seen stays: D is active at the end and bought once, £50.
      assert.deepEqual([r.customersEnd, r.buyers, r.orders, r.revenue], [1, 1, 1, 50]);
      assert.equal(r.change.customersStart, null);
      // February ends before the sales start: the data holds nothing of it, so its orders and revenue are
      // unknown rather than 0, and so is every change against it (£50 against £0 is no growth).
      assert.deepEqual(
        r.previous.unsupported.map((u) => [u.code, u.historyStart]),
        [['period_outside_history', '2024-03-02']],
      );
      assert.match(
        r.previous.unsupported[0]!.message,
        /^the period ends on 2024-02-29, before the sales start on 2024-03-02: /,
      );
      for (const figure of [
        'customersEnd',
        'buyers',
        'orders',
        'revenue',
        'guestOrders',
        'guestRevenue',
        'newCustomers',
      ])
        assert.ok(r.previous.unsupported[0]!.figures.includes(figure), figure);
      assert.deepEqual(
        [r.previous.customersEnd, r.previous.buyers, r.previous.orders, r.previous.revenue, r.previous.guestRevenue],
        [null, null, null, null, null],
      );
      assert.deepEqual([r.change.revenue, r.change.orders, r.change.buyers], [null, null, null]);
      assert.equal(r.byCurrency[0]!.timeToSecondOrder.previous, null, 'nobody can be seen acquired in February');
      // Nor in March, which starts before the first sale: as N, who was acquired in it cannot be seen.
      assert.equal(r.byCurrency[0]!.timeToSecondOrder.current, null);
      // D's first sale is the data's first month's: every buyer of that month counts as new, and it is marked.
      assert.deepEqual(
        r.byCurrency[0]!.newVsReturning.map((m) => [m.month, m.dataStarts]),
        [['2024-03', true]],
      );
      // A period from the first sale's day is no better: nothing before it can be seen.
      const onTheDay = await retentionReport(t.store.db, {
        asOf: AS_OF,
        activeWindowDays: 30,
        from: Date.UTC(2024, 2, 2),
        to: Date.UTC(2024, 3, 1),
      });
      assert.equal(onTheDay.newCustomers, null);
      // From the day after, D's sale of 03-02 is before the period: D is active at its start; nobody is new in it.
      const covered = await retentionReport(t.store.db, {
        asOf: AS_OF,
        activeWindowDays: 30,
        from: Date.UTC(2024, 2, 3),
        to: Date.UTC(2024, 3, 1),
      });
      assert.equal(covered.unsupported.filter((u) => u.code === 'period_before_history').length, 0);
      assert.deepEqual([covered.customersStart, covered.newCustomers], [1, 0]);
      assert.equal(
        covered.byCurrency[0]!.timeToSecondOrder.current?.customers,
        0,
        'acquired: nobody, and that is known',
      );
    });

    test('a start that is no whole millisecond is refused, naming the field', async () => {
      await assert.rejects(
        newVsReturning(t.store.db, { asOf: AS_OF, from: 1.5 }),
        badInput(/^from: 1\.5 is not a whole number$/),
      );
    });

    test('with a 30-day window, April and May each have a CLV, and the change is their difference', async () => {
      const r = await retentionReport(t.store.db, { asOf: AS_OF, activeWindowDays: 30 });
      // April [04-01, 05-01): history from 03-02, exactly 30 days before 04-01, so covered. Active on 04-01
      // (a sale in [03-02, 04-01)): D. On 05-01 (in [04-01, 05-01)): C and A. D lost: churn 1/1, lifespan 1
      // month. Orders C £40 + A £10 from 2 buyers: AOV 25, frequency 1, value 25, CLV 25 × 1 = 25.
      assert.deepEqual(r.previous.unsupported, []);
      assert.deepEqual(
        [r.previous.customersStart, r.previous.customersEnd, r.previous.customersLost, r.previous.churnRate],
        [1, 2, 1, 1],
      );
      assert.equal(r.previous.customerValue, 25);
      assert.equal(r.previous.clv, 25);
      // May: active on 05-01: A and C; on 06-01 (in [05-02, 06-01)): A and B. C lost: churn 1/2, lifespan 2
      // months. Orders A £20 + B £30 from 2 buyers: value 25, CLV 25 × 2 = 50.
      assert.deepEqual([r.customersStart, r.customersEnd, r.customersLost, r.churnRate], [2, 2, 1, 0.5]);
      assert.equal(r.clv, 50);
      assert.equal(r.averageLifespanDays, 62);
      assert.equal(r.change.clv, 25);
      assert.equal(r.change.churnRate, -0.5);
      assert.equal(r.change.customersStart, 1);
    });
  });
}
