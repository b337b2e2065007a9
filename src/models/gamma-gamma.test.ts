import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  fitGammaGamma,
  type GammaGammaParams,
  GG_PARAMS,
  ggConditionalExpectedSpend,
  ggCustomerLogLikelihood,
  ggExpectedSpend,
  ggLogLikelihood,
  groupSpend,
  spendFrequencyCorrelation,
} from './gamma-gamma.js';
import { seededRng, simulateGammaGamma } from './simulate.js';

const PUBLISHED: GammaGammaParams = { p: 6.25, q: 3.74, gamma: 15.44 };
const truth: GammaGammaParams = { p: 5, q: 4, gamma: 20 };
const x = Float64Array.from({ length: 3000 }, (_, i) => (i % 3 === 0 ? 0 : 1 + (i % 7)));
const mean = simulateGammaGamma(truth, x, seededRng(17));

function relativeError(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);
}

describe('Gamma-Gamma likelihood', () => {
  const groups = groupSpend({ x, mean });

  it('uses only repeat customers with a positive mean spend', () => {
    assert.equal(groups.customers, 2000);
    const withRefund = groupSpend({ x: Float64Array.from([2, 3, 0]), mean: Float64Array.from([-5, 10, 0]) });
    assert.equal(withRefund.customers, 1);
  });

  it('has an analytic gradient that matches central differences', () => {
    for (const params of [PUBLISHED, { p: 0.7, q: 1.4, gamma: 3 }]) {
      const gradient = new Float64Array(3);
      ggLogLikelihood(params, groups, gradient);
      GG_PARAMS.forEach((name, i) => {
        const h = 1e-6 * params[name];
        const up = ggLogLikelihood({ ...params, [name]: params[name] + h }, groups);
        const down = ggLogLikelihood({ ...params, [name]: params[name] - h }, groups);
        const numeric = (up - down) / (2 * h);
        assert.ok(relativeError(gradient[i] ?? 0, numeric) < 1e-6, `∂/∂${name}: ${gradient[i]} vs ${numeric}`);
      });
    }
  });

  it('weighted by groups equals the sum over customers', () => {
    let sum = 0;
    for (let i = 0; i < x.length; i++) {
      if ((x[i] ?? 0) > 0) sum += ggCustomerLogLikelihood(PUBLISHED, x[i] ?? 0, mean[i] ?? 0);
    }
    assert.ok(relativeError(ggLogLikelihood(PUBLISHED, groups), sum) < 1e-13);
  });

  it('is a density in m: it integrates to 1 over the mean spend', () => {
    // ∫₀^∞ f(m) dm with m = e^v, by the trapezoid rule on a wide grid in v.
    for (const count of [1, 4]) {
      let total = 0;
      const step = 0.001;
      for (let v = -15; v < 15; v += step)
        total += Math.exp(ggCustomerLogLikelihood(PUBLISHED, count, Math.exp(v)) + v) * step;
      assert.ok(Math.abs(total - 1) < 1e-6, `x = ${count}: ${total}`);
    }
  });
});

describe('Gamma-Gamma fit', () => {
  it('recovers the parameters of simulated spend within three standard errors', () => {
    const fit = fitGammaGamma({ x, mean });
    assert.equal(fit.converged, true);
    assert.deepEqual(fit.warnings, []);
    for (const name of GG_PARAMS) {
      const error = Math.abs((fit.params[name] ?? 0) - truth[name]) / (fit.stderr[name] ?? 0);
      assert.ok(error < 3, `${name}: ${fit.params[name]} ± ${fit.stderr[name]} vs ${truth[name]}`);
    }
  });

  it('warns with fewer than ten repeat customers and when spend follows frequency', () => {
    const few = fitGammaGamma({ x: Float64Array.from([1, 2, 3, 0]), mean: Float64Array.from([10, 12, 9, 0]) });
    assert.ok(few.warnings.some((w) => w.includes('only 3 repeat customers')));
    const counts = Float64Array.from({ length: 200 }, (_, i) => 1 + (i % 10));
    const tied = Float64Array.from(counts, (c, i) => 10 * c + ((i * 7) % 5));
    const correlated = fitGammaGamma({ x: counts, mean: tied });
    assert.ok(correlated.warnings.some((w) => w.includes('correlated')));
  });
});

describe('Gamma-Gamma predictions', () => {
  it('shrinks a customer’s mean towards the population mean, less so with more transactions', () => {
    const population = ggExpectedSpend(PUBLISHED);
    assert.ok(relativeError(population, (6.25 * 15.44) / 2.74) < 1e-15);
    assert.equal(ggConditionalExpectedSpend(PUBLISHED, 0, 0), population);
    const own = 80;
    let previous = population;
    for (const count of [1, 2, 5, 20, 1000]) {
      const e = ggConditionalExpectedSpend(PUBLISHED, count, own);
      assert.ok(e > previous && e < own, `x = ${count}`);
      previous = e;
    }
    // It is the weighted average of eq. 5.
    const count = 3;
    const weight = (6.25 * count) / (6.25 * count + 3.74 - 1);
    assert.ok(
      relativeError(ggConditionalExpectedSpend(PUBLISHED, count, own), (1 - weight) * population + weight * own) <
        1e-14,
    );
    assert.equal(ggExpectedSpend({ p: 1, q: 0.9, gamma: 1 }), Number.POSITIVE_INFINITY);
  });

  it('measures the correlation of frequency and spend among repeaters only', () => {
    const result = spendFrequencyCorrelation({
      x: Float64Array.from([0, 1, 2, 3]),
      mean: Float64Array.from([0, 10, 20, 30]),
    });
    assert.equal(result.repeaters, 3);
    assert.ok(Math.abs(result.correlation - 1) < 1e-15);
    assert.ok(
      Number.isNaN(spendFrequencyCorrelation({ x: Float64Array.from([1]), mean: Float64Array.from([5]) }).correlation),
    );
  });
});
