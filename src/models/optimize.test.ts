import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  bfgs,
  centralGradient,
  cholesky,
  hessianFromGradient,
  inverseSymmetric,
  type Matrix,
  minimize,
  nelderMead,
  numericalHessian,
  type Objective,
  standardErrors,
} from './optimize.js';

const rosenbrock: Objective = (x, gradient) => {
  const a = x[0] ?? 0;
  const b = x[1] ?? 0;
  if (gradient) {
    gradient[0] = -400 * a * (b - a * a) - 2 * (1 - a);
    gradient[1] = 200 * (b - a * a);
  }
  return 100 * (b - a * a) ** 2 + (1 - a) ** 2;
};

// f(x) = ½(x − m)ᵀA(x − m) + 3, whose minimum is at m and whose Hessian is A everywhere.
const A: Matrix = [
  [4, 1, 0.5],
  [1, 3, -0.4],
  [0.5, -0.4, 2],
];
const m = [1.5, -2, 0.25];
const quadratic: Objective = (x, gradient) => {
  const d = m.map((mi, i) => (x[i] ?? 0) - mi);
  const ad = A.map((row) => row.reduce((sum, aij, j) => sum + aij * (d[j] ?? 0), 0));
  if (gradient) gradient.set(ad);
  return 0.5 * d.reduce((sum, di, i) => sum + di * (ad[i] ?? 0), 0) + 3;
};

function assertNear(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number, what: string): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) {
    const error = Math.abs((actual[i] ?? Number.NaN) - (expected[i] ?? Number.NaN));
    assert.ok(error <= tolerance, `${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
  }
}

function assertMatrixNear(actual: Matrix, expected: Matrix, tolerance: number, what: string): void {
  expected.forEach((row, i) => {
    assertNear(actual[i] ?? [], row, tolerance, `${what}[${i}]`);
  });
}

describe('bfgs', () => {
  it('solves Rosenbrock from (−1.2, 1) with the analytic gradient', () => {
    const result = bfgs(rosenbrock, [-1.2, 1], { analyticGradient: true });
    assert.equal(result.converged, true);
    assertNear(result.x, [1, 1], 1e-6, 'x');
    assert.ok(result.value < 1e-12);
    assert.ok(result.iterations < 100);
  });

  it('solves Rosenbrock with central-difference gradients', () => {
    const result = bfgs(rosenbrock, [-1.2, 1]);
    assert.equal(result.converged, true);
    assertNear(result.x, [1, 1], 1e-6, 'x');
  });

  it('finds the minimum of a quadratic', () => {
    const result = bfgs(quadratic, [0, 0, 0], { analyticGradient: true });
    assert.equal(result.converged, true);
    // Converged means the predicted remaining decrease is below 1e-15 · |f|, so x is within ~1e-7.
    assertNear(result.x, m, 1e-7, 'x');
    assert.ok(Math.abs(result.value - 3) < 1e-15);
  });

  it('steps back from regions where the objective is not finite', () => {
    // log barrier: undefined for x ≤ 0, minimum at x = 1.
    const barrier: Objective = (x) => {
      const v = x[0] ?? 0;
      return v > 0 ? v - Math.log(v) : Number.NaN;
    };
    const result = bfgs(barrier, [20]);
    assert.equal(result.converged, true);
    assertNear(result.x, [1], 1e-6, 'x');
  });
});

describe('nelderMead', () => {
  it('solves Rosenbrock without derivatives', () => {
    const result = nelderMead(rosenbrock, [-1.2, 1]);
    assert.equal(result.converged, true);
    assertNear(result.x, [1, 1], 1e-6, 'x');
  });

  it('finds the minimum of a quadratic', () => {
    const result = nelderMead(quadratic, [0, 0, 0]);
    assert.equal(result.converged, true);
    assertNear(result.x, m, 1e-6, 'x');
  });
});

describe('minimize', () => {
  it('falls back to Nelder–Mead when BFGS cannot move and still converges', () => {
    // Infinite at the start point's neighbourhood in one direction only: BFGS from a NaN start fails.
    let calls = 0;
    const awkward: Objective = (x) => {
      calls++;
      const v = x[0] ?? 0;
      return v < -0.5 ? Number.POSITIVE_INFINITY : (v - 2) ** 2;
    };
    const result = minimize(awkward, [0]);
    assert.equal(result.converged, true);
    assertNear(result.x, [2], 1e-6, 'x');
    assert.equal(result.evaluations > 0, true);
    assert.ok(calls >= result.evaluations);
  });
});

describe('derivatives', () => {
  it('central differences reproduce an analytic gradient', () => {
    const x = Float64Array.from([-0.7, 0.4]);
    const analytic = new Float64Array(2);
    rosenbrock(x, analytic);
    const numeric = new Float64Array(2);
    centralGradient((p) => rosenbrock(p), x, numeric);
    assertNear(numeric, analytic, 1e-7, 'gradient');
  });

  it('recovers the known Hessian of a quadratic', () => {
    const at = [0.3, -1, 2];
    assertMatrixNear(
      numericalHessian((x) => quadratic(x), at),
      A,
      1e-6,
      'from values',
    );
    const gradient = (x: Float64Array, out: Float64Array): void => {
      quadratic(x, out);
    };
    assertMatrixNear(hessianFromGradient(gradient, at), A, 1e-9, 'from the gradient');
  });

  it('recovers the Rosenbrock Hessian at the optimum', () => {
    // ∇²f(1, 1) = [[802, −400], [−400, 200]].
    const hessian = numericalHessian((x) => rosenbrock(x), [1, 1]);
    assertMatrixNear(
      hessian,
      [
        [802, -400],
        [-400, 200],
      ],
      1e-3,
      'Rosenbrock',
    );
  });
});

describe('inverse and standard errors', () => {
  it('inverts a symmetric positive-definite matrix', () => {
    const inverse = inverseSymmetric(A);
    assert.ok(inverse);
    const product = A.map((row) =>
      inverse.map((_, j) => row.reduce((sum, aik, k) => sum + aik * (inverse[k]?.[j] ?? 0), 0)),
    );
    assertMatrixNear(
      product,
      [
        [1, 0, 0],
        [0, 1, 0],
        [0, 0, 1],
      ],
      1e-14,
      'A·A⁻¹',
    );
  });

  it('gives √diag(H⁻¹) as standard errors', () => {
    // A diagonal information matrix n/σ² has standard errors σ/√n.
    const se = standardErrors([
      [100 / 4, 0],
      [0, 400 / 9],
    ]);
    assert.ok(se);
    assertNear(se, [2 / 10, 3 / 20], 1e-15, 'se');
    const inverse = inverseSymmetric(A);
    assert.ok(inverse);
    assertNear(
      standardErrors(A) ?? [],
      [0, 1, 2].map((i) => Math.sqrt(inverse[i]?.[i] ?? 0)),
      1e-15,
      'se',
    );
  });

  it('refuses matrices that are not positive definite', () => {
    const saddle: Matrix = [
      [1, 0],
      [0, -1],
    ];
    assert.equal(cholesky(saddle), undefined);
    assert.equal(standardErrors(saddle), undefined);
    assert.equal(
      standardErrors([
        [1, 1],
        [1, 1],
      ]),
      undefined,
    );
  });
});
