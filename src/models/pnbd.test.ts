import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { groupHistories, ungroupedHistories } from './histories.js';
import {
  fitParetoNbd,
  type ParetoNbdParams,
  PNBD_PARAMS,
  pnbdConditionalExpectedPurchases,
  pnbdCustomerLogLikelihood,
  pnbdExpectedPurchases,
  pnbdLogLikelihood,
  pnbdProbabilityAlive,
  pnbdProbabilityOfPurchases,
} from './pnbd.js';
import { seededRng, simulateParetoNbd } from './simulate.js';
import { lgamma } from './special.js';

const PUBLISHED: ParetoNbdParams = { r: 0.5533, alpha: 10.5776, s: 0.6061, beta: 11.665 };
// α > β exercises the other branch of the hypergeometric switch.
const OTHER_BRANCH: ParetoNbdParams = { r: 1.3, alpha: 25, s: 0.4, beta: 2.5 };

function relativeError(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);
}

/** Composite Simpson's rule with many panels: slow, simple, and independent of 2F1. */
function integrate(f: (u: number) => number, from: number, to: number, panels = 20000): number {
  if (to <= from) return 0;
  const h = (to - from) / panels;
  let sum = f(from) + f(to);
  for (let k = 1; k < panels; k++) sum += (k % 2 === 1 ? 4 : 2) * f(from + k * h);
  return (sum * h) / 3;
}

/** The likelihood straight from the model: alive throughout, or dead at some τ in (t_x, T]. */
function bruteForceLogLikelihood(p: ParetoNbdParams, x: number, tx: number, T: number): number {
  const { r, alpha, s, beta } = p;
  const constant = lgamma(r + x) - lgamma(r) + r * Math.log(alpha) + s * Math.log(beta);
  const alive = (alpha + T) ** -(r + x) * (beta + T) ** -s;
  const dead = s * integrate((u) => (alpha + u) ** -(r + x) * (beta + u) ** -(s + 1), tx, T);
  return constant + Math.log(alive + dead);
}

describe('Pareto/NBD likelihood', () => {
  it('matches direct numerical integration on both sides of α = β', () => {
    const farApart = [
      { r: 0.5, alpha: 80, s: 0.7, beta: 1 },
      { r: 0.5, alpha: 1, s: 0.7, beta: 80 },
      // r or s at 1 makes the connection formula degenerate: Euler's integral takes over.
      { r: 1, alpha: 1, s: 0.7, beta: 80 },
      { r: 0.5, alpha: 3000, s: 1, beta: 1 },
    ];
    for (const params of [PUBLISHED, OTHER_BRANCH, { ...PUBLISHED, beta: PUBLISHED.alpha }, ...farApart]) {
      for (const [x, tx, T] of [
        [0, 0, 38.86],
        [2, 30.43, 38.86],
        [1, 1.71, 38.86],
        [12, 5.5, 70],
        [5, 27, 27],
      ] as const) {
        const ours = pnbdCustomerLogLikelihood(params, x, tx, T);
        const reference = bruteForceLogLikelihood(params, x, tx, T);
        assert.ok(Math.abs(ours - reference) < 1e-9, `${JSON.stringify(params)} at (${x}, ${tx}, ${T})`);
      }
    }
  });

  it('has an analytic gradient that matches central differences, on both branches', () => {
    const ages = Float64Array.from({ length: 400 }, (_, i) => 26 + (i % 13));
    const histories = groupHistories(simulateParetoNbd(PUBLISHED, ages, seededRng(9)));
    // The far-apart scales put z close to 1, where the series gives way to other methods.
    const farApart = [
      { r: 0.5, alpha: 80, s: 0.7, beta: 1 },
      { r: 0.5, alpha: 1, s: 0.7, beta: 80 },
      // r or s at 1 makes the connection formula degenerate: Euler's integral takes over.
      { r: 1, alpha: 1, s: 0.7, beta: 80 },
      { r: 0.5, alpha: 3000, s: 1, beta: 1 },
    ];
    for (const params of [PUBLISHED, OTHER_BRANCH, { ...PUBLISHED, beta: PUBLISHED.alpha }, ...farApart]) {
      const gradient = new Float64Array(4);
      pnbdLogLikelihood(params, histories, gradient);
      PNBD_PARAMS.forEach((name, i) => {
        const h = 1e-6 * params[name];
        const up = pnbdLogLikelihood({ ...params, [name]: params[name] + h }, histories);
        const down = pnbdLogLikelihood({ ...params, [name]: params[name] - h }, histories);
        const numeric = (up - down) / (2 * h);
        assert.ok(relativeError(gradient[i] ?? 0, numeric) < 1e-6, `∂/∂${name}: ${gradient[i]} vs ${numeric}`);
      });
    }
  });

  it('weighted by histories equals the sum over customers, and stays finite for extreme histories', () => {
    const ages = Float64Array.from({ length: 500 }, (_, i) => 26 + (i % 13));
    const summary = simulateParetoNbd(PUBLISHED, ages, seededRng(3));
    let sum = 0;
    for (let i = 0; i < summary.x.length; i++) {
      sum += pnbdCustomerLogLikelihood(PUBLISHED, summary.x[i] ?? 0, summary.tx[i] ?? 0, summary.T[i] ?? 0);
    }
    assert.ok(relativeError(pnbdLogLikelihood(PUBLISHED, groupHistories(summary)), sum) < 1e-13);
    assert.ok(relativeError(pnbdLogLikelihood(PUBLISHED, ungroupedHistories(summary)), sum) < 1e-13);
    assert.ok(Number.isFinite(pnbdCustomerLogLikelihood({ r: 0.05, alpha: 1e-3, s: 30, beta: 1e4 }, 300, 0.5, 1000)));
    assert.ok(Number.isFinite(pnbdCustomerLogLikelihood({ r: 20, alpha: 1e4, s: 0.01, beta: 1e-3 }, 300, 0.5, 1000)));
  });
});

describe('Pareto/NBD fit', () => {
  it('recovers the parameters of simulated customers within three standard errors', () => {
    const truth: ParetoNbdParams = { r: 0.8, alpha: 5, s: 0.9, beta: 15 };
    const ages = Float64Array.from({ length: 4000 }, (_, i) => 26 + (i % 13));
    const fit = fitParetoNbd(simulateParetoNbd(truth, ages, seededRng(5)));
    assert.equal(fit.converged, true);
    assert.deepEqual(fit.warnings, []);
    for (const name of PNBD_PARAMS) {
      const error = Math.abs((fit.params[name] ?? 0) - truth[name]) / (fit.stderr[name] ?? 0);
      assert.ok(error < 3, `${name}: ${fit.params[name]} ± ${fit.stderr[name]} vs ${truth[name]}`);
    }
  });
});

describe('Pareto/NBD predictions', () => {
  it('P(alive) is a probability and falls as the silence lengthens', () => {
    let previous = 1;
    for (const T of [31, 40, 60, 100]) {
      const p = pnbdProbabilityAlive(PUBLISHED, 2, 30.43, T);
      assert.ok(p > 0 && p < previous, `T = ${T}`);
      previous = p;
    }
    assert.equal(pnbdProbabilityAlive(PUBLISHED, 3, 20, 20), 1);
  });

  it('P(X(t) = n) sums to 1 and its mean is E[X(t)], on both branches', () => {
    for (const params of [PUBLISHED, OTHER_BRANCH]) {
      for (const t of [2, 39, 78]) {
        let total = 0;
        let mean = 0;
        for (let n = 0; n < 300; n++) {
          const p = pnbdProbabilityOfPurchases(params, n, t);
          total += p;
          mean += n * p;
        }
        assert.ok(Math.abs(total - 1) < 1e-9, `Σ P = ${total} at t = ${t}`);
        assert.ok(relativeError(mean, pnbdExpectedPurchases(params, t)) < 1e-8, `mean at t = ${t}`);
      }
    }
  });

  it('P(X(t) = n) matches direct integration over the lifetime', () => {
    // P(X(t)=n) = NB(n)(β/(β+t))^s + Γ(r+n)/(Γ(r) n!) α^r s β^s ∫₀ᵗ u^n (α+u)^−(r+n) (β+u)^−(s+1) du.
    for (const params of [PUBLISHED, OTHER_BRANCH]) {
      const { r, alpha, s, beta } = params;
      for (const [n, t] of [
        [0, 39],
        [3, 39],
        [10, 2],
        [25, 78],
        // Where B₁ − Σ cancels and the Appell series takes over.
        [10, 0.5],
        [20, 2],
      ] as const) {
        const logNb =
          lgamma(r + n) - lgamma(r) - lgamma(n + 1) + r * Math.log(alpha / (alpha + t)) + n * Math.log(t / (alpha + t));
        const integral = integrate((u) => u ** n * (alpha + u) ** -(r + n) * (beta + u) ** -(s + 1), 0, t);
        const reference =
          Math.exp(logNb + s * Math.log(beta / (beta + t))) +
          Math.exp(lgamma(r + n) - lgamma(r) - lgamma(n + 1) + r * Math.log(alpha) + s * Math.log(beta)) * s * integral;
        assert.ok(relativeError(pnbdProbabilityOfPurchases(params, n, t), reference) < 1e-8, `n = ${n}, t = ${t}`);
      }
    }
  });

  it('expected purchases grow with t and are continuous at s = 1', () => {
    let previous = 0;
    let previousConditional = 0;
    for (const t of [0.1, 1, 5, 39, 100, 520, 5200]) {
      const e = pnbdExpectedPurchases(PUBLISHED, t);
      const c = pnbdConditionalExpectedPurchases(PUBLISHED, t, 2, 30.43, 38.86);
      assert.ok(e > previous && c > previousConditional, `monotone at t = ${t}`);
      previous = e;
      previousConditional = c;
    }
    const at = (s: number) => pnbdExpectedPurchases({ ...PUBLISHED, s }, 39);
    assert.ok(Math.abs(at(1) - (at(1 - 1e-6) + at(1 + 1e-6)) / 2) < 1e-9);
    // At s = 1 the closed form's limit is rβ/α · ln((β+t)/β).
    const { r, alpha, beta } = PUBLISHED;
    assert.ok(relativeError(at(1), ((r * beta) / alpha) * Math.log((beta + 39) / beta)) < 1e-12);
  });
});
