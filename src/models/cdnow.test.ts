/**
 * The models against published results on the CDNOW sample's 39-week calibration summary
 * (test/fixtures/cdnow): Fader, Hardie & Lee (2005) for BG/NBD and Gamma-Gamma, Fader & Hardie (2005)
 * for Pareto/NBD, BTYDplus (via lifetimes' test suite) for MBG/NBD.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  bgnbdConditionalExpectedPurchases,
  bgnbdExpectedPurchases,
  bgnbdLogLikelihood,
  bgnbdParams,
  fitBgNbd,
  fitGammaGamma,
  fitMbgNbd,
  fitParetoNbd,
  ggLogLikelihood,
  groupHistories,
  groupSpend,
  mbgnbdLogLikelihood,
  mbgnbdParams,
  pnbdLogLikelihood,
  pnbdParams,
  spendFrequencyCorrelation,
  ungroupedHistories,
} from './index.js';

function loadCdnow(): { x: Float64Array; tx: Float64Array; T: Float64Array; zbar: Float64Array } {
  const url = new URL('../../test/fixtures/cdnow/cdnow_customers_summary_with_transactions.csv', import.meta.url);
  const rows = readFileSync(url, 'utf8')
    .trim()
    .split(/\r?\n/)
    .slice(1)
    .map((line) => line.split(',').map(Number));
  const column = (k: number): Float64Array => Float64Array.from(rows, (row) => row[k] ?? Number.NaN);
  return { x: column(1), tx: column(2), T: column(3), zbar: column(4) };
}

const cdnow = loadCdnow();

/** |actual − expected| ≤ half a unit in the last published digit. */
function assertDigits(actual: number | undefined, expected: number, decimals: number, what: string): void {
  assert.ok(actual !== undefined && Number.isFinite(actual), `${what} is not a number`);
  const tolerance = 0.5 * 10 ** -decimals;
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} is not ${expected} to ${decimals} decimals`);
}

function assertRelative(actual: number | undefined, expected: number, tolerance: number, what: string): void {
  assert.ok(actual !== undefined && Number.isFinite(actual), `${what} is not a number`);
  const error = Math.abs(actual - expected) / Math.abs(expected);
  assert.ok(error <= tolerance, `${what}: ${actual} vs ${expected} (relative error ${error.toExponential(2)})`);
}

describe('CDNOW sample, 39-week calibration', () => {
  it('has the 2,357 customers and 946 repeaters of the papers', () => {
    assert.equal(cdnow.x.length, 2357);
    assert.equal(
      cdnow.x.reduce((n, x) => n + (x > 0 ? 1 : 0), 0),
      946,
    );
  });

  it('BG/NBD reproduces Fader, Hardie & Lee (2005): r = 0.243, α = 4.414, a = 0.793, b = 2.426, LL = −9582.4', () => {
    const fit = fitBgNbd(cdnow);
    assert.equal(fit.converged, true);
    assert.deepEqual(fit.warnings, []);
    assert.equal(fit.customers, 2357);
    assertDigits(fit.params.r, 0.243, 3, 'r');
    assertDigits(fit.params.alpha, 4.414, 3, 'alpha');
    assertDigits(fit.params.a, 0.793, 3, 'a');
    assertDigits(fit.params.b, 2.426, 3, 'b');
    assertDigits(fit.logLikelihood, -9582.4, 1, 'log-likelihood');
    // Standard errors as lifetimes reports them for the same fit (BetaGeoFitter.summary).
    assertRelative(fit.stderr.r, 0.012557, 2e-3, 'se(r)');
    assertRelative(fit.stderr.alpha, 0.378221, 2e-3, 'se(alpha)');
    assertRelative(fit.stderr.a, 0.185719, 2e-3, 'se(a)');
    assertRelative(fit.stderr.b, 0.705345, 2e-3, 'se(b)');
    // The paper's worked example: x = 2, t_x = 30.43, T = 38.86 expects 1.226 purchases in 39 weeks.
    const params = bgnbdParams(fit.params);
    assertDigits(bgnbdConditionalExpectedPurchases(params, 39, 2, 30.43, 38.86), 1.226, 3, 'conditional expectation');
    // E[X(t)] from Hardie's BG/NBD spreadsheet (as quoted in lifetimes' tests).
    const times = [0.1429, 1, 3, 31.8571, 32, 78];
    const spreadsheet = [0.0078, 0.0532, 0.1506, 1.0405, 1.0437, 1.8576];
    times.forEach((t, i) => {
      assertRelative(bgnbdExpectedPurchases(params, t), spreadsheet[i] ?? 0, 5e-3, `E[X(${t})]`);
    });
  });

  it('Pareto/NBD reproduces Fader & Hardie (2005): r = 0.5533, α = 10.5776, s = 0.6061, β = 11.6650, LL = −9594.98', () => {
    const fit = fitParetoNbd(cdnow);
    assert.equal(fit.converged, true);
    assert.deepEqual(fit.warnings, []);
    assertRelative(fit.params.r, 0.5533, 1e-3, 'r');
    assertRelative(fit.params.alpha, 10.5776, 1e-3, 'alpha');
    assertRelative(fit.params.s, 0.6061, 1e-3, 's');
    assertRelative(fit.params.beta, 11.665, 1e-3, 'beta');
    assert.ok(Math.abs(fit.logLikelihood - -9594.98) < 0.01, `LL ${fit.logLikelihood}`);
    // Our maximum is at least as high as the published point's likelihood.
    const published = pnbdLogLikelihood({ r: 0.5533, alpha: 10.5776, s: 0.6061, beta: 11.665 }, groupHistories(cdnow));
    assert.ok(fit.logLikelihood >= published - 1e-9);
    assert.deepEqual(Object.keys(fit.stderr).sort(), ['alpha', 'beta', 'r', 's']);
    assert.ok(Object.values(fit.stderr).every((se) => se > 0 && Number.isFinite(se)));
    assert.ok(pnbdParams(fit.params).s > 0);
  });

  it('MBG/NBD reproduces BTYDplus: r = 0.525, α = 6.183, a = 0.891, b = 1.614', () => {
    const fit = fitMbgNbd(cdnow);
    assert.equal(fit.converged, true);
    assert.deepEqual(fit.warnings, []);
    assertDigits(fit.params.r, 0.525, 3, 'r');
    assertDigits(fit.params.alpha, 6.183, 3, 'alpha');
    assertDigits(fit.params.a, 0.891, 3, 'a');
    assertDigits(fit.params.b, 1.614, 3, 'b');
    assert.ok(Number.isFinite(fit.logLikelihood));
    // MBG/NBD nests no other model here, but it cannot fit much worse than BG/NBD on the same data.
    assert.ok(Math.abs(fit.logLikelihood - fitBgNbd(cdnow).logLikelihood) < 5);
    assert.ok(mbgnbdParams(fit.params).a > 0);
  });

  it('Gamma-Gamma reproduces Fader, Hardie & Lee (2005, RFM and CLV): p = 6.25, q = 3.74, γ = 15.44', () => {
    const fit = fitGammaGamma({ x: cdnow.x, mean: cdnow.zbar });
    assert.equal(fit.converged, true);
    assert.deepEqual(fit.warnings, []);
    assert.equal(fit.customers, 946);
    // The published γ = 15.44 is one unit off in its last digit from the optimum of this rounded
    // summary (15.4477; lifetimes finds 15.4472), so each estimate is held to ±1 in the last digit.
    assert.ok(Math.abs((fit.params.p ?? 0) - 6.25) <= 0.01, `p ${fit.params.p}`);
    assert.ok(Math.abs((fit.params.q ?? 0) - 3.74) <= 0.01, `q ${fit.params.q}`);
    assert.ok(Math.abs((fit.params.gamma ?? 0) - 15.44) <= 0.01, `gamma ${fit.params.gamma}`);
    // lifetimes' estimate (p = 6.2490, q = 3.7443, v = 15.4472) is no better than ours.
    const groups = groupSpend({ x: cdnow.x, mean: cdnow.zbar });
    const theirs = ggLogLikelihood({ p: 6.249, q: 3.7443, gamma: 15.4472 }, groups);
    assert.ok(fit.logLikelihood >= theirs - 1e-9);
  });

  it('finds frequency and spend nearly independent, as the paper reports (ρ = 0.11)', () => {
    const { correlation, repeaters } = spendFrequencyCorrelation({ x: cdnow.x, mean: cdnow.zbar });
    assert.equal(repeaters, 946);
    assertDigits(correlation, 0.11, 2, 'correlation');
  });

  it('weighted likelihoods over distinct histories equal the sums over customers', () => {
    const grouped = groupHistories(cdnow);
    const ungrouped = ungroupedHistories(cdnow);
    assert.ok(grouped.count < ungrouped.count);
    const bg = { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 };
    assertRelative(bgnbdLogLikelihood(bg, grouped), bgnbdLogLikelihood(bg, ungrouped), 1e-12, 'BG/NBD');
    assertRelative(mbgnbdLogLikelihood(bg, grouped), mbgnbdLogLikelihood(bg, ungrouped), 1e-12, 'MBG/NBD');
    const pnbd = { r: 0.5533, alpha: 10.5776, s: 0.6061, beta: 11.665 };
    assertRelative(pnbdLogLikelihood(pnbd, grouped), pnbdLogLikelihood(pnbd, ungrouped), 1e-12, 'Pareto/NBD');
  });
});
