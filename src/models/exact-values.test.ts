// Values worked out independently of the product's code paths (closed forms written out by hand in the
// test, or properties any correct implementation has), for the mutants a sampled mutation run of
// src/models found surviving (docs/mutation.md).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fitMaximumLikelihood } from './fit.js';
import { fitGammaGamma } from './gamma-gamma.js';
import { groupHistories, rfmSummary } from './histories.js';
import { mbgnbdProbabilityAlive } from './mbgnbd.js';
import { degenerateHistories, repeaterDiagnostics } from './model-definition.js';
import { cubicMinimiser } from './optimize.js';
import { normalVariate, seededRng } from './simulate.js';
import { appellF1 } from './special.js';

describe('MBG/NBD P(alive), written out (Batislam et al. 2007, Appendix A eq. 5)', () => {
  it('is 1 / (1 + a/(b+x)·((α+T)/(α+t_x))^(r+x)) at hand-picked points', () => {
    const params = { r: 0.5, alpha: 4, a: 0.8, b: 2.5 };
    // x = 2, t_x = 10, T = 30: a/(b+x) = 0.8/4.5; (34/14)^2.5.
    const expected = 1 / (1 + (0.8 / 4.5) * (34 / 14) ** 2.5);
    assert.ok(Math.abs(mbgnbdProbabilityAlive(params, 2, 10, 30) - expected) < 1e-14);
    // A buyer seen at T exactly: (α+T)/(α+t_x) = 1, so P = 1/(1 + a/(b+x)).
    assert.ok(Math.abs(mbgnbdProbabilityAlive(params, 3, 30, 30) - 1 / (1 + 0.8 / 5.5)) < 1e-14);
    // Longer silence lowers it.
    assert.ok(mbgnbdProbabilityAlive(params, 2, 10, 60) < mbgnbdProbabilityAlive(params, 2, 10, 30));
  });
});

describe("Appell's F1 outside 0 ≤ x, y < 1", () => {
  it('is NaN at x = 1, y = 1, below 0 and for NaN arguments, and finite just inside', () => {
    assert.ok(Number.isNaN(appellF1(1, 0.5, 0.5, 2, 1, 0.5)), 'x = 1');
    assert.ok(Number.isNaN(appellF1(1, 0.5, 0.5, 2, 0.5, 1)), 'y = 1');
    assert.ok(Number.isNaN(appellF1(1, 0.5, 0.5, 2, -0.1, 0.5)), 'x < 0');
    assert.ok(Number.isNaN(appellF1(1, 0.5, 0.5, 2, 0.5, -0.1)), 'y < 0');
    assert.ok(Number.isNaN(appellF1(Number.NaN, 0.5, 0.5, 2, 0.5, 0.5)), 'NaN a');
    assert.ok(Number.isFinite(appellF1(1, 0.5, 0.5, 2, 0.999, 0.5)), 'x just below 1');
  });
});

describe('repeaterDiagnostics', () => {
  it('counts the customers with a repeat purchase (x > 0), not the others', () => {
    // 4 repeaters (x = 1, 1, 2, 5) and 6 one-time buyers.
    const x = [1, 1, 2, 5, 0, 0, 0, 0, 0, 0];
    const summary = rfmSummary(
      x,
      x.map((v) => (v > 0 ? 10 : 0)),
      x.map(() => 30),
    );
    const [finding, ...rest] = repeaterDiagnostics(groupHistories(summary));
    assert.equal(rest.length, 0);
    assert.equal(finding?.code, 'few_repeaters');
    assert.match(finding?.message ?? '', /^only 4 customers made a repeat purchase/);
  });
  it('says nothing at 10 repeaters (MIN_REPEATERS) and something at 9', () => {
    const at = (n: number) => {
      const x = [...Array.from({ length: n }, () => 2), 0, 0];
      return repeaterDiagnostics(
        groupHistories(
          rfmSummary(
            x,
            x.map((v) => (v ? 5 : 0)),
            x.map(() => 20),
          ),
        ),
      );
    };
    assert.deepEqual(at(10), []);
    assert.equal(at(9).length, 1);
  });
});

describe('Gamma-Gamma refused with findings', () => {
  it('gives every finding as a warning sentence, then the reason', () => {
    // Two zero-spend repeaters (left out, a finding) and one repeater with a spend: nothing to fit.
    const fit = fitGammaGamma({ x: Float64Array.from([2, 3, 1, 0]), mean: Float64Array.from([0, 0, 12.5, 0]) });
    assert.ok(fit.warnings.length >= 2);
    for (const w of fit.warnings) assert.equal(typeof w, 'string');
    assert.match(fit.warnings[0] ?? '', /^2 repeat customers with a mean spend of zero were left out/);
    assert.match(fit.warnings.at(-1) ?? '', /only one repeat customer with a positive spend/);
  });
});

describe('cubicMinimiser (Nocedal & Wright eq. 3.59)', () => {
  it('finds the minimum of a cubic from two points and slopes', () => {
    // f(t) = t³ − 3t: f(0) = 0, f′(0) = −3; f(2) = 2, f′(2) = 9; minimum at t = 1.
    assert.ok(Math.abs(cubicMinimiser(0, 0, -3, 2, 2, 9) - 1) < 1e-12);
    // The same cubic seen from the other end (a > b).
    assert.ok(Math.abs(cubicMinimiser(2, 2, 9, 0, 0, -3) - 1) < 1e-12);
    // f(t) = (t − 1.5)³ − 12(t − 1.5) has its minimum at t = 3.5: points 1 and 4.
    const f = (t: number) => (t - 1.5) ** 3 - 12 * (t - 1.5);
    const df = (t: number) => 3 * (t - 1.5) ** 2 - 12;
    assert.ok(Math.abs(cubicMinimiser(1, f(1), df(1), 4, f(4), df(4)) - 3.5) < 1e-12);
  });
  it('uses the quadratic through f(a), f′(a) and f(b) when f′(b) is unknown', () => {
    // f(t) = (t − 1)²: f(0) = 1, f′(0) = −2, f(3) = 4 → minimum at 1.
    assert.ok(Math.abs(cubicMinimiser(0, 1, -2, 3, 4, Number.NaN) - 1) < 1e-12);
    // A concave quadratic has no minimiser.
    assert.ok(Number.isNaN(cubicMinimiser(0, 0, 1, 1, 0, Number.NaN)));
    assert.ok(Number.isNaN(cubicMinimiser(0, 0, -1, 1, Number.POSITIVE_INFINITY, 1)));
  });
});

describe('normalVariate (Box–Muller)', () => {
  it('has mean 0, variance 1 and symmetric quartiles over 40,000 seeded draws', () => {
    const rng = seededRng(2026);
    const n = 40_000;
    const draws = Float64Array.from({ length: n }, () => normalVariate(rng));
    const mean = draws.reduce((s, v) => s + v, 0) / n;
    const variance = draws.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1);
    // Standard errors: mean 1/√n = 0.005, variance √(2/n) = 0.007; 5 standard errors either side.
    assert.ok(Math.abs(mean) < 0.025, `mean ${mean}`);
    assert.ok(Math.abs(variance - 1) < 0.035, `variance ${variance}`);
    const sorted = Array.from(draws).sort((a, b) => a - b);
    // Φ⁻¹(0.25) = −0.6745.
    assert.ok(Math.abs((sorted[n / 4] ?? 0) + 0.6745) < 0.03);
    assert.ok(Math.abs((sorted[(3 * n) / 4] ?? 0) - 0.6745) < 0.03);
  });
});

describe('degenerateHistories', () => {
  const histories = (x: number[], T = 30) =>
    groupHistories(
      rfmSummary(
        x,
        x.map((v) => (v > 0 ? 10 : 0)),
        x.map(() => T),
      ),
    );
  it('refuses no customer, one customer, no time, and nobody who came back, each with its reason', () => {
    assert.equal(degenerateHistories(histories([])), 'no customers to fit');
    assert.equal(degenerateHistories(histories([3])), 'only one customer: a population model needs many customers');
    assert.match(degenerateHistories(histories([0, 0, 0], 0)) ?? '', /^every customer first bought at the end/);
    assert.match(degenerateHistories(histories([0, 0, 0])) ?? '', /^no customer made a repeat purchase/);
  });
  it('accepts histories where everyone, or only one customer, came back', () => {
    assert.equal(degenerateHistories(histories([1, 2, 3])), undefined);
    assert.equal(degenerateHistories(histories([0, 0, 0, 0, 1])), undefined);
  });
});

describe('parameter_at_bound', () => {
  const fit = (logLikelihood: (t: ArrayLike<number>) => number) =>
    fitMaximumLikelihood({
      model: 'bgnbd',
      names: ['a', 'b'],
      start: [1, 1],
      analyticGradient: false,
      logLikelihood,
      customers: 500,
      histories: 10,
      diagnostics: [],
    });
  const atBound = (r: ReturnType<typeof fit>) =>
    r.diagnostics.filter((d) => d.code === 'parameter_at_bound').map((d) => d.parameter);
  it('names a parameter whose likelihood grows without bound towards ∞, and only that one', () => {
    // LL = −1/a − (b − 2)²: a runs off to ∞, b = 2.
    const r = fit((t) => -1 / (t[0] ?? 1) - ((t[1] ?? 1) - 2) ** 2);
    assert.deepEqual(atBound(r), ['a']);
    assert.ok(Math.abs((r.params.b ?? 0) - 2) < 1e-4);
  });
  it('and towards 0', () => {
    // LL = −b − (a − 3)²: b runs off to 0, a = 3.
    const r = fit((t) => -(t[1] ?? 1) - ((t[0] ?? 1) - 3) ** 2);
    assert.deepEqual(atBound(r), ['b']);
  });
  it('is not noted for an interior maximum', () => {
    const r = fit((t) => -(((t[0] ?? 1) - 3) ** 2) - ((t[1] ?? 1) - 0.5) ** 2);
    assert.deepEqual(atBound(r), []);
  });
});
