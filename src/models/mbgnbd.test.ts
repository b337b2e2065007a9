import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { groupHistories, ungroupedHistories } from './histories.js';
import {
  fitMbgNbd,
  MBGNBD_PARAMS,
  type MbgNbdParams,
  mbgnbdConditionalExpectedPurchases,
  mbgnbdCustomerLogLikelihood,
  mbgnbdExpectedPurchases,
  mbgnbdLogLikelihood,
  mbgnbdProbabilityAlive,
  mbgnbdProbabilityOfPurchases,
} from './mbgnbd.js';
import { seededRng, simulateBgNbd } from './simulate.js';

const BTYDPLUS: MbgNbdParams = { r: 0.525, alpha: 6.183, a: 0.891, b: 1.614 };
const truth: MbgNbdParams = { r: 0.8, alpha: 5, a: 1.5, b: 3 };
const ages = Float64Array.from({ length: 4000 }, (_, i) => 26 + (i % 13));
const simulated = simulateBgNbd(truth, ages, seededRng(11), true);

function relativeError(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);
}

describe('MBG/NBD likelihood', () => {
  const histories = groupHistories(simulated);

  it('has an analytic gradient that matches central differences', () => {
    for (const params of [BTYDPLUS, { r: 1.7, alpha: 0.6, a: 2.2, b: 0.4 }]) {
      const gradient = new Float64Array(4);
      mbgnbdLogLikelihood(params, histories, gradient);
      MBGNBD_PARAMS.forEach((name, i) => {
        const h = 1e-6 * params[name];
        const up = mbgnbdLogLikelihood({ ...params, [name]: params[name] + h }, histories);
        const down = mbgnbdLogLikelihood({ ...params, [name]: params[name] - h }, histories);
        const numeric = (up - down) / (2 * h);
        assert.ok(relativeError(gradient[i] ?? 0, numeric) < 1e-6, `∂/∂${name}: ${gradient[i]} vs ${numeric}`);
      });
    }
  });

  it('weighted by histories equals the sum over customers', () => {
    let sum = 0;
    for (let i = 0; i < simulated.x.length; i++) {
      sum += mbgnbdCustomerLogLikelihood(BTYDPLUS, simulated.x[i] ?? 0, simulated.tx[i] ?? 0, simulated.T[i] ?? 0);
    }
    assert.ok(histories.count < simulated.x.length);
    assert.ok(relativeError(mbgnbdLogLikelihood(BTYDPLUS, histories), sum) < 1e-13);
    assert.ok(relativeError(mbgnbdLogLikelihood(BTYDPLUS, ungroupedHistories(simulated)), sum) < 1e-13);
  });
});

describe('MBG/NBD fit', () => {
  it('recovers the parameters of simulated customers within three standard errors', () => {
    const fit = fitMbgNbd(simulated);
    assert.equal(fit.converged, true);
    assert.deepEqual(fit.warnings, []);
    for (const name of MBGNBD_PARAMS) {
      const error = Math.abs((fit.params[name] ?? 0) - truth[name]) / (fit.stderr[name] ?? 0);
      assert.ok(error < 3, `${name}: ${fit.params[name]} ± ${fit.stderr[name]} vs ${truth[name]}`);
    }
  });
});

describe('MBG/NBD predictions', () => {
  it('P(alive) is below 1 even without repeat purchases, unlike BG/NBD', () => {
    const p = mbgnbdProbabilityAlive(BTYDPLUS, 0, 0, 38.86);
    assert.ok(p > 0 && p < 1);
    // With x = 0 and t_x = 0 only the dropout at the first purchase is possible: b/(a+b).
    const share = BTYDPLUS.b / (BTYDPLUS.a + BTYDPLUS.b);
    assert.ok(mbgnbdProbabilityAlive(BTYDPLUS, 0, 0, 1e-12) - share < 1e-9);
  });

  it('P(X(t) = n) sums to 1 and its mean is E[X(t)]', () => {
    for (const t of [0.5, 39, 200]) {
      let total = 0;
      let mean = 0;
      for (let n = 0; n < 1500; n++) {
        const p = mbgnbdProbabilityOfPurchases(BTYDPLUS, n, t);
        total += p;
        mean += n * p;
      }
      assert.ok(Math.abs(total - 1) < 1e-9, `Σ P = ${total} at t = ${t}`);
      assert.ok(relativeError(mean, mbgnbdExpectedPurchases(BTYDPLUS, t)) < 1e-8, `mean at t = ${t}`);
    }
    // Those who drop out at once never buy again: P(X(t) = 0) ≥ a/(a+b) for every t.
    assert.ok(mbgnbdProbabilityOfPurchases(BTYDPLUS, 0, 1e6) >= BTYDPLUS.a / (BTYDPLUS.a + BTYDPLUS.b));
  });

  it('expected purchases never fall as the horizon grows', () => {
    let previous = 0;
    let previousConditional = 0;
    for (const t of [0.1, 1, 5, 39, 100, 520, 5200]) {
      const e = mbgnbdExpectedPurchases(BTYDPLUS, t);
      const c = mbgnbdConditionalExpectedPurchases(BTYDPLUS, t, 2, 30.43, 38.86);
      assert.ok(e > previous && c > previousConditional, `monotone at t = ${t}`);
      previous = e;
      previousConditional = c;
    }
  });
});
