import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bgnbdPredictor } from './bgnbd.js';
import {
  churnBand,
  churnRisk,
  customerLifetimeValue,
  customerLifetimeValues,
  DEFAULT_CHURN_THRESHOLDS,
  predictCustomers,
  timeToNextOrder,
} from './clv.js';
import type { PurchasePredictor } from './fit.js';
import { rfmSummary } from './histories.js';

/** A customer who buys at a steady `rate` per period and never leaves: every answer has a closed form. */
function steady(rate: number, alive = 1): PurchasePredictor {
  return {
    model: 'bgnbd',
    probabilityAlive: () => alive,
    conditionalExpectedPurchases: (t) => alive * rate * t,
    expectedPurchases: (t) => rate * t,
    probabilityOfPurchases: () => Number.NaN,
  };
}

const bgnbd = bgnbdPredictor({ r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 });

describe('customerLifetimeValue', () => {
  it('discounts each month’s expected purchases as lifetimes does', () => {
    // 0.5 purchases a week, 4.345 weeks a month: 2.1725 purchases a month at 40 each, for 12 months at 1%.
    const monthly = 0.5 * 4.345 * 40;
    let expected = 0;
    for (let month = 1; month <= 12; month++) expected += monthly / 1.01 ** month;
    const value = customerLifetimeValue(steady(0.5), 3, 10, 20, 40, { periodsPerMonth: 4.345 });
    assert.ok(Math.abs(value - expected) < 1e-9);
  });

  it('scales with the margin and equals the undiscounted revenue at a zero rate', () => {
    const options = { periodsPerMonth: 30, months: 6, monthlyDiscountRate: 0 };
    const revenue = customerLifetimeValue(steady(0.1), 0, 0, 10, 25, options);
    assert.ok(Math.abs(revenue - 0.1 * 180 * 25) < 1e-9);
    const profit = customerLifetimeValue(steady(0.1), 0, 0, 10, 25, { ...options, margin: 0.3 });
    assert.ok(Math.abs(profit - 0.3 * revenue) < 1e-9);
  });

  it('values a likely-lost customer below a likely-active one with the same frequency', () => {
    const options = { periodsPerMonth: 4.345, months: 24 };
    const active = customerLifetimeValue(bgnbd, 4, 37, 38.86, 30, options);
    const lapsed = customerLifetimeValue(bgnbd, 4, 8, 38.86, 30, options);
    assert.ok(active > lapsed && lapsed > 0);
    const values = customerLifetimeValues(bgnbd, rfmSummary([4, 4], [37, 8], [38.86, 38.86]), [30, 30], options);
    assert.deepEqual(Array.from(values), [active, lapsed]);
    assert.throws(() => customerLifetimeValues(bgnbd, rfmSummary([4], [37], [38.86]), [], options), RangeError);
    assert.throws(() => customerLifetimeValue(bgnbd, 4, 37, 38.86, 30, { periodsPerMonth: 0 }), RangeError);
  });
});

describe('timeToNextOrder', () => {
  it('is 1/rate for a steady buyer', () => {
    const t = timeToNextOrder(steady(0.25), 0, 0, 0, { cap: 100 });
    assert.ok(Math.abs(t - 4) < 1e-5);
  });

  it('is the time at which one purchase is expected, for a fitted model', () => {
    const t = timeToNextOrder(bgnbd, 6, 37, 38.86, { cap: 520 });
    assert.ok(Number.isFinite(t) && t > 0);
    assert.ok(Math.abs(bgnbd.conditionalExpectedPurchases(t, 6, 37, 38.86) - 1) < 1e-6);
  });

  it('is Infinity when one purchase is not expected within the cap', () => {
    assert.equal(timeToNextOrder(steady(0.25), 0, 0, 0, { cap: 3 }), Number.POSITIVE_INFINITY);
    // Ten purchases in the first two weeks and silence since: almost surely lost, so fewer than one
    // purchase is expected even over twenty years.
    assert.equal(timeToNextOrder(bgnbd, 10, 2, 38.86, { cap: 1040 }), Number.POSITIVE_INFINITY);
  });
});

describe('churn', () => {
  it('is 1 − P(alive) in three bands', () => {
    assert.equal(churnRisk(0.8), 1 - 0.8);
    assert.deepEqual(
      [0, 0.29, 0.3, 0.69, 0.7, 1].map((risk) => churnBand(risk)),
      ['low', 'low', 'medium', 'medium', 'high', 'high'],
    );
    assert.deepEqual(DEFAULT_CHURN_THRESHOLDS, { medium: 0.3, high: 0.7 });
  });

  it('takes other thresholds and rejects inverted ones', () => {
    assert.equal(churnBand(0.5, { medium: 0.1, high: 0.4 }), 'high');
    assert.throws(() => churnBand(0.5, { medium: 0.8, high: 0.4 }), RangeError);
  });

  it('predicts every customer of a summary', () => {
    const summary = rfmSummary([0, 4, 4], [0, 37, 8], [38.86, 38.86, 38.86]);
    const predictions = predictCustomers(bgnbd, summary, 39);
    assert.equal(predictions.probabilityAlive[0], 1);
    assert.deepEqual(predictions.churnBand, ['low', 'low', 'high']);
    assert.ok(Math.abs((predictions.churnRisk[2] ?? 0) - (1 - (predictions.probabilityAlive[2] ?? 0))) < 1e-15);
    assert.equal(predictions.expectedPurchases[1], bgnbd.conditionalExpectedPurchases(39, 4, 37, 38.86));
  });
});
