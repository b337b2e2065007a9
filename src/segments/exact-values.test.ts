import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ComebackError } from '../errors.js';
import { gapThresholds, lifecycleStage } from './lifecycle.js';
import { rfmGroup } from './rfm-groups.js';
import { parseRule } from './rules.js';

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
