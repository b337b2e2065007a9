/**
 * Issue 10: what a fit says when the data cannot support an answer. Each example of the issue is a
 * case here, with the value the data call for.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  discountedCustomerValue,
  fitBgNbd,
  fitGammaGamma,
  fitMbgNbd,
  fitParetoNbd,
  formatEstimate,
  type PurchasePredictor,
  rfmSummary,
} from './index.js';

/** 40 customers buying once a week: x = k, t_x = k, T = k + 3/7 for k = 5…24, two each (weeks). */
function weeklyBuyers() {
  const x: number[] = [];
  const tx: number[] = [];
  const T: number[] = [];
  for (let k = 5; k <= 24; k++) {
    for (let j = 0; j < 2; j++) {
      x.push(k);
      tx.push(k);
      T.push(k + 3 / 7);
    }
  }
  return rfmSummary(x, tx, T);
}

const codes = (fit: { diagnostics: Array<{ code: string }> }) => fit.diagnostics.map((d) => d.code);

describe('identifiability diagnostics', () => {
  it('CDNOW identifies every model: no diagnostics, P(alive) informative', () => {
    const rows = readFileSync(
      new URL('../../test/fixtures/cdnow/cdnow_customers_summary_with_transactions.csv', import.meta.url),
      'utf8',
    )
      .trim()
      .split(/\r?\n/)
      .slice(1)
      .map((line) => line.split(',').map(Number));
    const summary = rfmSummary(
      rows.map((r) => r[1] ?? 0),
      rows.map((r) => r[2] ?? 0),
      rows.map((r) => r[3] ?? 0),
    );
    for (const fit of [fitBgNbd(summary), fitMbgNbd(summary), fitParetoNbd(summary)]) {
      assert.deepEqual(codes(fit), [], fit.model);
      assert.equal(fit.identified, true, fit.model);
      assert.ok((fit.informationEigenvalues[0] ?? 0) >= 1, `${fit.model}: ${fit.informationEigenvalues}`);
    }
  });

  it('weekly buyers who never stopped: every model reduces to NBD and says so; Pareto/NBD ends in seconds', () => {
    const summary = weeklyBuyers();
    for (const fit of [fitBgNbd, fitMbgNbd, fitParetoNbd]) {
      const started = performance.now();
      const result = fit(summary);
      const seconds = (performance.now() - started) / 1000;
      assert.ok(seconds < 5, `${result.model} took ${seconds} s`);
      assert.equal(result.failure, undefined);
      assert.equal(result.identified, false);
      assert.ok(codes(result).includes('dropout_not_identified'), `${result.model}: ${codes(result)}`);
      const message = result.diagnostics.find((d) => d.code === 'dropout_not_identified')?.message ?? '';
      assert.match(message, /cannot tell who has left: the model reduced to NBD/);
      assert.match(message, /P\(alive\) is not informative/);
    }
  });

  it('a single customer, all T = 0 and nobody repeating are refused with the reason, without iterating', () => {
    const one = fitParetoNbd(rfmSummary([5], [5], [5 + 3 / 7]));
    assert.equal(one.failure, 'only one customer: a population model needs many customers');
    assert.equal(one.iterations, 0);
    const zero = fitBgNbd(rfmSummary([0, 0, 0], [0, 0, 0], [0, 0, 0]));
    assert.match(zero.failure ?? '', /T = 0/);
    const none = fitMbgNbd(rfmSummary([0, 0, 0], [0, 0, 0], [10, 20, 104]));
    assert.match(none.failure ?? '', /no customer made a repeat purchase/);
    for (const fit of [one, zero, none]) {
      assert.deepEqual(codes(fit), ['degenerate_data']);
      assert.ok(Number.isNaN(fit.params.r));
    }
  });

  it('Gamma-Gamma with one repeater or none fails instead of printing +5e109 or its start values', () => {
    const none = fitGammaGamma({ x: Float64Array.from([0, 0]), mean: Float64Array.from([0, 0]) });
    assert.match(none.failure ?? '', /no repeat customer with a positive spend/);
    assert.equal(none.iterations, 0);
    assert.ok(Number.isNaN(none.params.p));
    const one = fitGammaGamma({ x: Float64Array.from([0, 3]), mean: Float64Array.from([0, 25]) });
    assert.match(one.failure ?? '', /only one repeat customer/);
    assert.ok(Number.isNaN(one.logLikelihood));
  });

  it('Gamma-Gamma says how many zero-spend repeaters it left out', () => {
    const x = Float64Array.from([1, 2, 3, 1, 2, 4, 1, 5]);
    const mean = Float64Array.from([10, 0, 12, 0, 30, 14, 0, 22]);
    const fit = fitGammaGamma({ x, mean });
    assert.equal(fit.customers, 5);
    const left = fit.diagnostics.find((d) => d.code === 'zero_spend_left_out');
    assert.equal(
      left?.message,
      '3 repeat customers with a mean spend of zero were left out (the model needs positive spend)',
    );
  });
});

describe('numbers as people read them', () => {
  it('four significant digits, scientific outside 1e−4…1e6, never 0.0000 or −0', () => {
    assert.equal(formatEstimate(7.8e107), '7.8e+107');
    assert.equal(formatEstimate(3.798e-11), '3.798e-11');
    assert.equal(formatEstimate(0.00012346), '0.0001235');
    assert.equal(formatEstimate(0.000012346), '1.235e-5');
    assert.equal(formatEstimate(9.4486), '9.449');
    assert.equal(formatEstimate(7143.8746), '7144');
    assert.equal(formatEstimate(-0), '0');
    assert.equal(formatEstimate(-1e-12), '-1e-12');
    assert.equal(formatEstimate(Number.NaN), '–');
  });
});

describe('continuously discounted value', () => {
  // E[Y(t)] = c·t: ∫₀^H e^−δt c dt = c(1 − e^−δH)/δ exactly.
  const c = 0.5;
  const linear: PurchasePredictor = {
    model: 'bgnbd',
    probabilityAlive: () => 1,
    conditionalExpectedPurchases: (t) => c * t,
    expectedPurchases: (t) => c * t,
    probabilityOfPurchases: () => 0,
  };
  const periodsPerMonth = 365.25 / 12 / 7;

  it('a one-week horizon is one week of value, not a month', () => {
    const value = discountedCustomerValue(linear, 1, 1, 2, 100, {
      horizon: 1,
      periodsPerMonth,
      monthlyDiscountRate: 0.01,
    });
    const delta = Math.log(1.01) / periodsPerMonth;
    const exact = (100 * c * (1 - Math.exp(-delta))) / delta;
    assert.ok(Math.abs(value - exact) < 1e-9, `${value} vs ${exact}`);
    assert.ok(value < 50, 'less than one week’s undiscounted 0.5 purchases × 100');
  });

  it('a year with 1 % a month matches the closed form', () => {
    const horizon = 365 / 7;
    const value = discountedCustomerValue(linear, 1, 1, 2, 80, { horizon, periodsPerMonth, monthlyDiscountRate: 0.01 });
    const delta = Math.log(1.01) / periodsPerMonth;
    const exact = (80 * c * (1 - Math.exp(-delta * horizon))) / delta;
    assert.ok(Math.abs(value - exact) < 1e-8 * exact, `${value} vs ${exact}`);
    assert.equal(
      discountedCustomerValue(linear, 1, 1, 2, 80, { horizon, periodsPerMonth, monthlyDiscountRate: 0 }),
      80 * c * horizon,
    );
  });
});
