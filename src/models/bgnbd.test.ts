import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BGNBD_PARAMS,
  type BgNbdParams,
  bgnbdConditionalExpectedPurchases,
  bgnbdCustomerLogLikelihood,
  bgnbdExpectedPurchases,
  bgnbdLogLikelihood,
  bgnbdParams,
  bgnbdProbabilityAlive,
  bgnbdProbabilityOfPurchases,
  fitBgNbd,
} from './bgnbd.js';
import { groupHistories, rfmSummary, ungroupedHistories } from './histories.js';
import { seededRng, simulateBgNbd } from './simulate.js';

const PUBLISHED: BgNbdParams = { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 };

/** A deterministic spread of histories over 39 weeks, repeated so that grouping has work to do. */
function syntheticSummary(n: number) {
  const x: number[] = [];
  const tx: number[] = [];
  const T: number[] = [];
  for (let i = 0; i < n; i++) {
    const age = 27 + ((i * 37) % 13);
    const count = (i * 7) % 9 === 0 ? 0 : (i * 5) % 6;
    x.push(count);
    T.push(age);
    tx.push(count === 0 ? 0 : Math.round(((age * (1 + ((i * 11) % 10))) / 11) * 7) / 7);
  }
  return rfmSummary(x, tx, T);
}

function relativeError(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);
}

describe('BG/NBD likelihood', () => {
  const histories = groupHistories(syntheticSummary(300));

  it('has an analytic gradient that matches central differences', () => {
    for (const params of [PUBLISHED, { r: 1.7, alpha: 0.6, a: 2.2, b: 0.4 }]) {
      const gradient = new Float64Array(4);
      bgnbdLogLikelihood(params, histories, gradient);
      BGNBD_PARAMS.forEach((name, i) => {
        const h = 1e-6 * params[name];
        const up = bgnbdLogLikelihood({ ...params, [name]: params[name] + h }, histories);
        const down = bgnbdLogLikelihood({ ...params, [name]: params[name] - h }, histories);
        const numeric = (up - down) / (2 * h);
        assert.ok(relativeError(gradient[i] ?? 0, numeric) < 1e-6, `∂/∂${name}: ${gradient[i]} vs ${numeric}`);
      });
    }
  });

  it('weighted by histories equals the sum over customers', () => {
    const summary = syntheticSummary(300);
    let sum = 0;
    for (let i = 0; i < summary.x.length; i++) {
      sum += bgnbdCustomerLogLikelihood(PUBLISHED, summary.x[i] ?? 0, summary.tx[i] ?? 0, summary.T[i] ?? 0);
    }
    assert.ok(histories.count < summary.x.length);
    assert.ok(relativeError(bgnbdLogLikelihood(PUBLISHED, histories), sum) < 1e-13);
    assert.ok(relativeError(bgnbdLogLikelihood(PUBLISHED, ungroupedHistories(summary)), sum) < 1e-13);
  });

  it('stays finite for extreme histories', () => {
    const ll = bgnbdCustomerLogLikelihood({ r: 0.01, alpha: 1e-3, a: 50, b: 1e-3 }, 400, 0.01, 1000);
    assert.ok(Number.isFinite(ll));
  });
});

describe('BG/NBD fit', () => {
  it('recovers the parameters of simulated customers within three standard errors', () => {
    const truth: BgNbdParams = { r: 0.8, alpha: 5, a: 1.5, b: 3 };
    const ages = Float64Array.from({ length: 4000 }, (_, i) => 26 + (i % 13));
    const fit = fitBgNbd(simulateBgNbd(truth, ages, seededRng(7)));
    assert.equal(fit.converged, true);
    assert.deepEqual(fit.warnings, []);
    assert.ok(fit.histories < fit.customers);
    for (const name of BGNBD_PARAMS) {
      const error = Math.abs((fit.params[name] ?? 0) - truth[name]) / (fit.stderr[name] ?? 0);
      assert.ok(error < 3, `${name}: ${fit.params[name]} ± ${fit.stderr[name]} vs ${truth[name]}`);
    }
  });

  it('warns on a small sample and when nobody came back', () => {
    const small = fitBgNbd(syntheticSummary(20));
    assert.ok(small.warnings.some((w) => w.includes('20 customers')));
    const none = fitBgNbd(rfmSummary(new Array(50).fill(0), new Array(50).fill(0), new Array(50).fill(30)));
    assert.ok(none.warnings.some((w) => w.includes('no customer made a repeat purchase')));
  });

  it('reports an unidentified dropout process instead of a silent answer', () => {
    // Every customer's history here is explained equally well by any dropout heterogeneity: the
    // estimate of (a, b) runs off towards infinity and the fit must say so.
    const fit = fitBgNbd(syntheticSummary(300));
    assert.ok(fit.converged === false || fit.warnings.length > 0);
  });

  it('reads its parameters back from a record', () => {
    assert.deepEqual(bgnbdParams({ r: 1, alpha: 2, a: 3, b: 4 }), { r: 1, alpha: 2, a: 3, b: 4 });
    assert.throws(() => bgnbdParams({ r: 1, alpha: 2, a: 3 }), /parameter b/);
    assert.throws(() => bgnbdParams({ r: 1, alpha: -2, a: 3, b: 4 }), /parameter alpha/);
  });
});

describe('BG/NBD predictions', () => {
  it('P(alive) is 1 without repeat purchases and falls as the silence lengthens', () => {
    assert.equal(bgnbdProbabilityAlive(PUBLISHED, 0, 0, 38.86), 1);
    let previous = 1;
    for (const T of [5, 10, 20, 40, 80]) {
      const p = bgnbdProbabilityAlive(PUBLISHED, 3, 5, T);
      assert.ok(p > 0 && p < previous, `P(alive) at T = ${T}`);
      previous = p;
    }
  });

  it('P(X(t) = n) matches the BTYD package (bgnbd.pmf)', () => {
    // Values from BTYD's documentation examples, as quoted in lifetimes' tests.
    assert.ok(relativeError(bgnbdProbabilityOfPurchases(PUBLISHED, 10, 2), 1.07869e-7) < 1e-5);
    assert.ok(relativeError(bgnbdProbabilityOfPurchases(PUBLISHED, 0, 39), 0.5737864) < 1e-6);
    const expected = [
      0.0019995214, 0.0015170236, 0.001163315, 0.0009003148, 0.0007023638, 0.0005517902, 0.0004361913, 0.0003467171,
      0.0002769613, 0.000222226,
    ];
    expected.forEach((value, k) => {
      // BTYD prints ten decimals: agree to half a unit in the last one.
      assert.ok(Math.abs(bgnbdProbabilityOfPurchases(PUBLISHED, 11 + k, 30) - value) <= 5e-11, `n = ${11 + k}`);
    });
  });

  it('P(X(t) = n) sums to 1 and its mean is E[X(t)]', () => {
    for (const t of [0.5, 39, 200]) {
      let total = 0;
      let mean = 0;
      for (let n = 0; n < 1500; n++) {
        const p = bgnbdProbabilityOfPurchases(PUBLISHED, n, t);
        total += p;
        mean += n * p;
      }
      assert.ok(Math.abs(total - 1) < 1e-9, `Σ P = ${total} at t = ${t}`);
      assert.ok(relativeError(mean, bgnbdExpectedPurchases(PUBLISHED, t)) < 1e-8, `mean at t = ${t}`);
    }
  });

  it('expected purchases start at 0, grow with t at first at rate r/α, and never fall', () => {
    assert.equal(bgnbdExpectedPurchases(PUBLISHED, 0), 0);
    const t0 = 1e-4;
    assert.ok(relativeError(bgnbdExpectedPurchases(PUBLISHED, t0) / t0, PUBLISHED.r / PUBLISHED.alpha) < 1e-3);
    let previous = 0;
    let previousConditional = 0;
    for (const t of [0.1, 1, 5, 39, 100, 520, 5200]) {
      const e = bgnbdExpectedPurchases(PUBLISHED, t);
      const c = bgnbdConditionalExpectedPurchases(PUBLISHED, t, 2, 30.43, 38.86);
      assert.ok(e > previous && c > previousConditional, `monotone at t = ${t}`);
      previous = e;
      previousConditional = c;
    }
  });

  it('is continuous through a = 1, where the closed forms are 0/0', () => {
    const at = (a: number) => bgnbdConditionalExpectedPurchases({ ...PUBLISHED, a }, 39, 2, 30.43, 38.86);
    const left = at(1 - 1e-3);
    const right = at(1 + 1e-3);
    const middle = at(1);
    assert.ok(Number.isFinite(middle));
    assert.ok(Math.abs(middle - (left + right) / 2) < 1e-5);
    assert.ok(Number.isFinite(bgnbdExpectedPurchases({ ...PUBLISHED, a: 1 }, 39)));
  });
});
