import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fitMaximumLikelihood, type LikelihoodProblem, MIN_CUSTOMERS } from './fit.js';

/** A small deterministic sample (a linear congruential generator), so the tests need no randomness. */
function sample(n: number, draw: (u: number) => number): number[] {
  let state = 12345;
  return Array.from({ length: n }, () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return draw((state + 0.5) / 2147483648);
  });
}

function problem(
  overrides: Partial<LikelihoodProblem> & Pick<LikelihoodProblem, 'names' | 'logLikelihood'>,
): LikelihoodProblem {
  return {
    model: 'gg',
    start: overrides.names.map(() => 1),
    analyticGradient: false,
    customers: 1000,
    histories: 1000,
    diagnostics: [],
    ...overrides,
  };
}

describe('fitMaximumLikelihood', () => {
  it('gives the exponential rate and its standard error λ/√n', () => {
    const data = sample(400, (u) => -Math.log(u) / 2.5);
    const n = data.length;
    const sum = data.reduce((a, b) => a + b, 0);
    const fit = fitMaximumLikelihood(
      problem({
        names: ['lambda'],
        customers: n,
        analyticGradient: true,
        logLikelihood: (theta, gradient) => {
          const lambda = theta[0] ?? 0;
          if (gradient) gradient[0] = n / lambda - sum;
          return n * Math.log(lambda) - lambda * sum;
        },
      }),
    );
    const mle = n / sum;
    assert.equal(fit.converged, true);
    // Converged to a small fraction of a standard error.
    assert.ok(Math.abs((fit.params.lambda ?? 0) - mle) < 1e-4 * (mle / Math.sqrt(n)));
    assert.ok(Math.abs((fit.stderr.lambda ?? 0) / (mle / Math.sqrt(n)) - 1) < 1e-6);
    assert.ok(Math.abs(fit.logLikelihood - (n * Math.log(mle) - n)) < 1e-9);
  });

  it('gives the normal mean and standard deviation with se σ/√n and σ/√(2n), by finite differences', () => {
    const data = sample(250, (u) => 10 + 2 * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * ((u * 7919) % 1)));
    const n = data.length;
    const mean = data.reduce((a, b) => a + b, 0) / n;
    const sd = Math.sqrt(data.reduce((a, b) => a + (b - mean) ** 2, 0) / n);
    const fit = fitMaximumLikelihood(
      problem({
        names: ['mu', 'sigma'],
        customers: n,
        start: [5, 5],
        logLikelihood: (theta) => {
          const mu = theta[0] ?? 0;
          const sigma = theta[1] ?? 0;
          let ll = -n * Math.log(sigma);
          for (const v of data) ll -= (v - mu) ** 2 / (2 * sigma * sigma);
          return ll;
        },
      }),
    );
    assert.equal(fit.converged, true);
    assert.deepEqual(fit.warnings, []);
    assert.ok(Math.abs((fit.params.mu ?? 0) - mean) < 1e-7 * mean);
    assert.ok(Math.abs((fit.params.sigma ?? 0) - sd) < 1e-7 * sd);
    assert.ok(Math.abs((fit.stderr.mu ?? 0) / (sd / Math.sqrt(n)) - 1) < 1e-5);
    assert.ok(Math.abs((fit.stderr.sigma ?? 0) / (sd / Math.sqrt(2 * n)) - 1) < 1e-5);
  });

  it('warns about small data', () => {
    const fit = fitMaximumLikelihood(
      problem({
        names: ['lambda'],
        customers: 12,
        logLikelihood: (theta) => 12 * Math.log(theta[0] ?? 0) - (theta[0] ?? 0) * 30,
      }),
    );
    assert.equal(fit.converged, true);
    assert.ok(fit.warnings.some((w) => w.includes('12 customers') && w.includes(String(MIN_CUSTOMERS))));
  });

  it('warns when the Hessian is singular instead of reporting standard errors', () => {
    // Only the product θ₁θ₂ is identified: a ridge of maxima with a singular Hessian.
    const fit = fitMaximumLikelihood(
      problem({
        names: ['u', 'v'],
        analyticGradient: true,
        logLikelihood: (theta, gradient) => {
          const u = theta[0] ?? 0;
          const v = theta[1] ?? 0;
          const log = Math.log(u * v) - 1;
          if (gradient) {
            gradient[0] = (-2 * log) / u;
            gradient[1] = (-2 * log) / v;
          }
          return -log * log;
        },
      }),
    );
    assert.equal(fit.converged, false);
    assert.ok(Number.isNaN(fit.stderr.u));
    assert.ok(fit.warnings.some((w) => w.includes('not positive definite')));
  });

  it('warns when the optimum runs off to the boundary', () => {
    // LL = −1/θ keeps rising as θ → ∞.
    const fit = fitMaximumLikelihood(problem({ names: ['theta'], logLikelihood: (theta) => -1 / (theta[0] ?? 0) }));
    assert.ok(fit.warnings.some((w) => w.includes('edge of its range')));
  });

  it('reports a likelihood that is nowhere finite', () => {
    const fit = fitMaximumLikelihood(problem({ names: ['theta'], logLikelihood: () => Number.NaN }));
    assert.equal(fit.converged, false);
    assert.ok(fit.warnings.some((w) => w.includes('not finite')));
  });
});
