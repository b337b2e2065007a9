import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { addCustomer, addOrder, DAY } from '../../test/segments-fixtures.js';
import { DIALECTS, freshDatabase, type TestDb } from '../../test/setup.js';
import { ComebackError } from '../errors.js';
import { type CohortOptions, cohortTable } from './cohorts.queries.js';
import { GROUP_KINDS, parseGrouping } from './groups.queries.js';
import { reportPeriod } from './report.queries.js';
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
