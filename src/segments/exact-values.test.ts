import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { addCustomer, addEvent, addOrder, DAY, MINUTE } from '../../test/segments-fixtures.js';
import { DIALECTS, freshDatabase, type TestDb } from '../../test/setup.js';
import { ComebackError } from '../errors.js';
import { gapThresholds, lifecycleStage } from './lifecycle.js';
import { computePersonas } from './personas.js';
import { customerProfile } from './profile.queries.js';
import { rfmGroup } from './rfm-groups.js';
import { parseRule } from './rules.js';
import { saveSegment } from './segments.queries.js';

// Values written out by hand, each stating what a sampled mutant of `npm run test:mutation` changed
// (docs/mutation.md, seed 20261201).

test('an RFM reason names the scores, the rule in words (any score left out) and what it means', () => {
  // Lost: R=1, F 1–2, M 1–2 — a range of one value reads R=1, of several F 1–2, and 1–5 is no condition.
  assert.equal(
    rfmGroup(1, 1, 1).reason,
    'R=1 F=1 M=1 matches Lost (R=1, F 1–2, M 1–2): lowest recency, frequency and spend',
  );
  // Champions: R=5, F 4–5, M any (left out).
  assert.equal(
    rfmGroup(5, 4, 3).reason,
    'R=5 F=4 M=3 matches Champions (R=5, F 4–5): bought very recently and buy often',
  );
  // At risk: R 1–2, F 3–4, M any (Cannot lose them, before it in the table, needs F=5).
  assert.equal(rfmGroup(2, 3, 1).reason, 'R=2 F=3 M=1 matches At risk (R 1–2, F 3–4): bought often, but long ago');
  // Hibernating: R 1–2, F 1–2, M any; R=2 F=1 M=5 is not Lost (R is 2, and M 5).
  assert.equal(rfmGroup(2, 1, 5).reason, 'R=2 F=1 M=5 matches Hibernating (R 1–2, F 1–2): few orders, long ago');
});

test('a fresh stage under a model names P(alive) and the expected next order’s day', () => {
  const T = Date.UTC(2025, 5, 1);
  const th = gapThresholds(new Float64Array());
  // Next order expected 2025-06-15T18:00Z, after T: not overdue, so new (one sale) or active, and the
  // reason gives the day only.
  const next = Date.UTC(2025, 5, 15, 18);
  assert.deepEqual(
    lifecycleStage({ sales: 1, daysSinceLastSale: 3, asOf: T, scores: { pAlive: 0.9, nextOrderAt: next } }, th),
    { stage: 'new', reason: 'one order; P(alive) 0.900, next order expected 2025-06-15' },
  );
  assert.deepEqual(
    lifecycleStage({ sales: 2, daysSinceLastSale: 3, asOf: T, scores: { pAlive: 0.75, nextOrderAt: null } }, th),
    { stage: 'active', reason: 'P(alive) 0.750' },
  );
});

test('a bad rule is refused with the path of its bad part and what that part must be', () => {
  const refusal = (input: unknown) => {
    try {
      parseRule(input);
    } catch (e) {
      if (e instanceof ComebackError && e.kind === 'bad_input') return [e.location?.field, e.message];
      throw e;
    }
    assert.fail(`${JSON.stringify(input)} was accepted`);
  };
  assert.deepEqual(refusal({ all: 'x' }), ['rules.all', 'must be an array of rules']);
  assert.deepEqual(refusal({ any: [{ any: {} }] }), ['rules.any[0].any', 'must be an array of rules']);
  assert.deepEqual(refusal({ not: { score: 'ltv', op: 'gt', value: 1 } }), [
    'rules.not.score',
    'must be one of p_alive, expected_purchases, clv',
  ]);
  assert.deepEqual(parseRule({ feedback: 'nps_group', op: 'in', value: ['detractor', 'passive'] }), {
    feedback: 'nps_group',
    op: 'in',
    value: ['detractor', 'passive'],
  });
  assert.deepEqual(refusal({ feedback: 'nps_group', op: 'in', value: [] }), [
    'rules.value',
    'must be a non-empty array of strings',
  ]);
  assert.deepEqual(refusal({ feedback: 'exit_reason', op: 'in', value: ['price', 3] }), [
    'rules.value',
    'must be a non-empty array of strings',
  ]);
});

for (const dialect of DIALECTS) {
  describe(`saved segments and profiles at their edges (${dialect.name})`, { skip: dialect.skip }, () => {
    let t: TestDb;
    const T = Date.UTC(2025, 5, 1);
    before(async () => {
      t = await freshDatabase(dialect.name);
    });
    after(async () => {
      await t?.drop();
    });

    test('a segment without a name is refused, naming the name field', async () => {
      await assert.rejects(
        saveSegment(t.store.db, '  ', { all: [] }, { asOf: T, now: T }),
        (e: unknown) =>
          e instanceof ComebackError &&
          e.kind === 'bad_input' &&
          e.message === 'a segment needs a name' &&
          e.location?.field === 'name',
      );
    });

    test('a browser’s and a bouncer’s reasons count what they did', async () => {
      const db = t.store.db;
      const browser = await addCustomer(db);
      await addEvent(db, { customerId: browser, at: T - 2 * DAY });
      await addEvent(db, { customerId: browser, event: 'Product Viewed', at: T - 2 * DAY + MINUTE });
      await addEvent(db, { customerId: browser, event: 'Product Viewed', at: T - DAY });
      const bouncer = await addCustomer(db);
      await addEvent(db, { customerId: bouncer, sessionId: 's1', at: T - 3 * DAY });
      await addEvent(db, { customerId: bouncer, sessionId: 's2', at: T - 3 * DAY + MINUTE });
      const personas = await computePersonas(db, { asOf: T, customerIds: [browser, bouncer] });
      assert.deepEqual(
        personas.map((p) => [p.customerId, p.persona, p.reason]),
        [
          [browser, 'passive_browser', '2 product views, no cart, no order'],
          [bouncer, 'bouncer', '2 session(s) of a single page view, no product view, no order'],
        ],
      );
    });

    test('a profile whose latest score has no P(alive) keeps its expected purchases and CLV', async () => {
      const db = t.store.db;
      const ann = await addCustomer(db);
      await addOrder(db, ann, { at: T - 10 * DAY, totalMinor: 2500 });
      const fit = await db
        .insertInto('model_fits')
        .values({
          model: 'pnbd',
          params: '{}',
          stderr: '{}',
          log_likelihood: 0,
          customers: 1,
          histories: 1,
          iterations: 1,
          converged: 1,
          warnings: '[]',
          unit: 'week',
          currency: 'GBP',
          calibration_end: T,
          as_of: T,
          holdout: null,
          created_at: T,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      await db
        .insertInto('customer_scores')
        .values({
          customer_id: ann,
          model: 'pnbd',
          as_of: T,
          fit_id: Number(fit.id),
          spend_fit_id: null,
          p_alive: null,
          churn_risk: null,
          churn_band: null,
          expected_purchases: 1.25,
          horizon_days: 365,
          expected_spend: null,
          clv: null,
          currency: 'GBP',
          next_order_at: null,
          p_alive_note: 'every customer bought once',
        })
        .execute();
      const profile = await customerProfile(db, ann, { asOf: T });
      assert.deepEqual(profile.scores, {
        pAlive: null,
        expectedPurchases: 1.25,
        clv: null,
        nextOrderAt: null,
        nextOrderDate: null,
        currency: 'GBP',
      });
      assert.equal(profile.predictionNote, 'every customer bought once');
    });
  });
}
