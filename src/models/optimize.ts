/**
 * Unconstrained minimisation for the likelihood fits: BFGS with a strong-Wolfe line search (Nocedal &
 * Wright, "Numerical Optimization", 2nd ed., Algorithms 6.1, 3.5 and 3.6) using an analytic gradient
 * or central differences, Nelder–Mead with restarts as the derivative-free fallback, and the
 * numerical Hessian with its inverse for standard errors. Dimensions here are small (two to four
 * parameters), so matrices are plain arrays of rows.
 */

/**
 * A function to minimise. When the caller declares `analyticGradient`, the function fills `gradient`
 * whenever it is given one; otherwise it may ignore the argument.
 */
export type Objective = (x: Float64Array, gradient?: Float64Array) => number;

/** A square matrix as an array of rows. */
export type Matrix = number[][];

/** Options shared by the minimisers. */
export interface MinimizeOptions {
  /** The objective computes its own gradient; otherwise central differences are used. */
  analyticGradient?: boolean;
  /** Iteration cap (BFGS iterations, or Nelder–Mead iterations over all restarts). */
  maxIterations?: number;
  /** Converged when max |∂f/∂xᵢ| ≤ gradientTolerance · max(1, |f|). */
  gradientTolerance?: number;
  /** Converged when the predicted remaining decrease ½ gᵀH⁻¹g ≤ valueTolerance · max(1, |f|). */
  valueTolerance?: number;
}

/** The outcome of a minimisation. */
export interface MinimizeResult {
  x: Float64Array;
  value: number;
  /** The gradient at x (central differences when the objective has none). */
  gradient: Float64Array;
  iterations: number;
  /** Calls of the objective, including those made for finite differences. */
  evaluations: number;
  converged: boolean;
}

const EPSILON = Number.EPSILON;
const CBRT_EPSILON = Math.cbrt(EPSILON);
const FOURTH_ROOT_EPSILON = Math.sqrt(Math.sqrt(EPSILON));

/** Central-difference gradient of f at x (step ε^⅓ · max(1, |xᵢ|), error O(step²)); returns the evaluations used. */
export function centralGradient(f: (x: Float64Array) => number, x: Float64Array, out: Float64Array): number {
  const probe = Float64Array.from(x);
  for (let i = 0; i < x.length; i++) {
    const xi = x[i] ?? 0;
    // Rounding the step to a representable difference keeps (x+h) − (x−h) exactly 2h.
    const h = xi + CBRT_EPSILON * Math.max(1, Math.abs(xi)) - xi;
    probe[i] = xi + h;
    const up = f(probe);
    probe[i] = xi - h;
    const down = f(probe);
    probe[i] = xi;
    out[i] = (up - down) / (2 * h);
  }
  return 2 * x.length;
}

/** Counts evaluations and hides whether the gradient is analytic or by finite differences. */
class Evaluator {
  evaluations = 0;
  private readonly valueOnly: (x: Float64Array) => number;

  constructor(
    private readonly objective: Objective,
    readonly analytic: boolean,
  ) {
    this.valueOnly = (x) => {
      this.evaluations++;
      return objective(x);
    };
  }

  value(x: Float64Array): number {
    return this.valueOnly(x);
  }

  /** f and its gradient; `knownValue` saves an evaluation when f(x) was just computed. */
  valueAndGradient(x: Float64Array, gradient: Float64Array, knownValue?: number): number {
    if (this.analytic) {
      this.evaluations++;
      return this.objective(x, gradient);
    }
    const value = knownValue ?? this.valueOnly(x);
    centralGradient(this.valueOnly, x, gradient);
    return value;
  }
}

interface LineSearchResult {
  step: number;
  value: number;
  x: Float64Array;
  gradient: Float64Array;
}

const C1 = 1e-4;
const C2 = 0.9;
const MAX_LINE_SEARCH = 40;

/**
 * Finds a step along p that satisfies the strong Wolfe conditions (Nocedal & Wright Alg. 3.5 with
 * the zoom of Alg. 3.6 and cubic interpolation, eq. 3.59). Non-finite values count as too-long steps.
 * Returns undefined when no step decreases f (at the noise floor of f, or a bad direction).
 */
function wolfeLineSearch(
  evaluator: Evaluator,
  x: Float64Array,
  value: number,
  gradient: Float64Array,
  p: Float64Array,
  initialStep: number,
): LineSearchResult | undefined {
  const n = x.length;
  const slope0 = dot(gradient, p);
  const trial = new Float64Array(n);
  const trialGradient = new Float64Array(n);
  let best: LineSearchResult | undefined;

  const at = (step: number): number => {
    for (let i = 0; i < n; i++) trial[i] = (x[i] ?? 0) + step * (p[i] ?? 0);
    const v = evaluator.value(trial);
    return Number.isFinite(v) ? v : Number.POSITIVE_INFINITY;
  };
  const slopeAt = (v: number): number => {
    evaluator.valueAndGradient(trial, trialGradient, v);
    return dot(trialGradient, p);
  };
  const accept = (step: number, v: number): LineSearchResult => ({
    step,
    value: v,
    x: Float64Array.from(trial),
    gradient: Float64Array.from(trialGradient),
  });

  const zoom = (
    lo: number,
    fLo: number,
    dLo: number,
    hi: number,
    fHi: number,
    dHi: number,
  ): LineSearchResult | undefined => {
    for (let i = 0; i < MAX_LINE_SEARCH; i++) {
      const width = Math.abs(hi - lo);
      if (width <= EPSILON * Math.max(1, Math.abs(lo))) break;
      let step = cubicMinimiser(lo, fLo, dLo, hi, fHi, dHi);
      const low = Math.min(lo, hi) + 0.1 * width;
      const high = Math.max(lo, hi) - 0.1 * width;
      if (!(step >= low && step <= high)) step = (lo + hi) / 2;
      const v = at(step);
      if (v > value + C1 * step * slope0 || v >= fLo) {
        hi = step;
        fHi = v;
        dHi = Number.NaN;
        continue;
      }
      const d = slopeAt(v);
      best = accept(step, v);
      if (Math.abs(d) <= -C2 * slope0) return best;
      if (d * (hi - lo) >= 0) {
        hi = lo;
        fHi = fLo;
        dHi = dLo;
      }
      lo = step;
      fLo = v;
      dLo = d;
    }
    // A step with sufficient decrease but unverified curvature is still progress; BFGS skips its update.
    return best;
  };

  let previous = 0;
  let fPrevious = value;
  let dPrevious = slope0;
  let step = initialStep;
  for (let i = 0; i < MAX_LINE_SEARCH; i++) {
    const v = at(step);
    if (v > value + C1 * step * slope0 || (i > 0 && v >= fPrevious)) {
      return zoom(previous, fPrevious, dPrevious, step, v, Number.NaN);
    }
    const d = slopeAt(v);
    if (Math.abs(d) <= -C2 * slope0) return accept(step, v);
    if (d >= 0) return zoom(step, v, d, previous, fPrevious, dPrevious);
    best = accept(step, v);
    previous = step;
    fPrevious = v;
    dPrevious = d;
    step *= 2;
  }
  return best;
}

/**
 * Minimiser of the cubic through (a, fa, da) and (b, fb, db) (Nocedal & Wright 2006, eq. 3.59); of the
 * quadratic through fa, da and fb when db is NaN (unknown); NaN when there is none (fb not finite, a
 * cubic with no real turning point, a quadratic that is not convex). Exported for its tests.
 */
export function cubicMinimiser(a: number, fa: number, da: number, b: number, fb: number, db: number): number {
  if (!Number.isFinite(fb)) return Number.NaN;
  if (Number.isNaN(db)) {
    // Quadratic through fa, da and fb.
    const h = b - a;
    const curvature = (fb - fa - da * h) / (h * h);
    return curvature > 0 ? a - da / (2 * curvature) : Number.NaN;
  }
  const d1 = da + db - (3 * (fa - fb)) / (a - b);
  const discriminant = d1 * d1 - da * db;
  if (discriminant < 0) return Number.NaN;
  const d2 = Math.sign(b - a) * Math.sqrt(discriminant);
  return b - (b - a) * ((db + d2 - d1) / (db - da + 2 * d2));
}

/**
 * BFGS on an unconstrained objective. Converges when the gradient is small relative to |f|, or when
 * the predicted remaining decrease ½ gᵀH⁻¹g (the Newton decrement, with BFGS's inverse-Hessian
 * estimate) is below `valueTolerance` relative to |f|: for a log-likelihood that means the estimate
 * is within a tiny fraction of a standard error of the optimum.
 */
export function bfgs(objective: Objective, x0: ArrayLike<number>, options: MinimizeOptions = {}): MinimizeResult {
  const {
    analyticGradient = false,
    maxIterations = 500,
    gradientTolerance = 1e-9,
    valueTolerance = analyticGradient ? 1e-15 : 1e-14,
  } = options;
  const evaluator = new Evaluator(objective, analyticGradient);
  const n = x0.length;
  let x: Float64Array = Float64Array.from(x0);
  let g: Float64Array = new Float64Array(n);
  let f = evaluator.valueAndGradient(x, g);
  const fail = (iterations: number): MinimizeResult => ({
    x,
    value: f,
    gradient: g,
    iterations,
    evaluations: evaluator.evaluations,
    converged: false,
  });
  if (!Number.isFinite(f) || !g.every(Number.isFinite)) return fail(0);

  let inverse = identity(n);
  let updates = 0;
  let resetAfterFailure = false;
  const p = new Float64Array(n);
  for (let iteration = 0; iteration < maxIterations; iteration++) {
    const scale = Math.max(1, Math.abs(f));
    multiply(inverse, g, p);
    const predictedDecrease = dot(g, p) / 2;
    if (maxAbs(g) <= gradientTolerance * scale || (updates >= n && predictedDecrease <= valueTolerance * scale)) {
      return { x, value: f, gradient: g, iterations: iteration, evaluations: evaluator.evaluations, converged: true };
    }
    for (let i = 0; i < n; i++) p[i] = -(p[i] ?? 0);
    if (dot(g, p) >= 0) {
      // Not a descent direction: the curvature estimate went bad, start again from steepest descent.
      inverse = identity(n);
      updates = 0;
      for (let i = 0; i < n; i++) p[i] = -(g[i] ?? 0);
    }
    const initialStep = updates === 0 ? Math.min(1, 1 / maxAbs(g)) : 1;
    const found = wolfeLineSearch(evaluator, x, f, g, p, initialStep);
    if (!found) {
      if (resetAfterFailure || updates === 0) return fail(iteration);
      resetAfterFailure = true;
      inverse = identity(n);
      updates = 0;
      continue;
    }
    resetAfterFailure = false;
    const s = new Float64Array(n);
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      s[i] = (found.x[i] ?? 0) - (x[i] ?? 0);
      y[i] = (found.gradient[i] ?? 0) - (g[i] ?? 0);
    }
    const sy = dot(s, y);
    if (sy > EPSILON * Math.sqrt(dot(s, s) * dot(y, y))) {
      if (updates === 0) {
        // Scale the first inverse Hessian to the observed curvature (Nocedal & Wright eq. 6.20).
        inverse = scaledIdentity(n, sy / dot(y, y));
      }
      bfgsUpdate(inverse, s, y, sy);
      updates++;
    }
    x = found.x;
    f = found.value;
    g = found.gradient;
  }
  return fail(maxIterations);
}

/** The BFGS inverse-Hessian update H ← (I − ρsyᵀ)H(I − ρysᵀ) + ρssᵀ (Nocedal & Wright eq. 6.17). */
function bfgsUpdate(inverse: Matrix, s: Float64Array, y: Float64Array, sy: number): void {
  const n = s.length;
  const rho = 1 / sy;
  const hy = multiply(inverse, y, new Float64Array(n));
  const yhy = dot(y, hy);
  for (let i = 0; i < n; i++) {
    const row = inverse[i];
    if (!row) continue;
    for (let j = 0; j < n; j++) {
      const si = s[i] ?? 0;
      const sj = s[j] ?? 0;
      row[j] = (row[j] ?? 0) - rho * ((hy[i] ?? 0) * sj + si * (hy[j] ?? 0)) + (rho * rho * yhy + rho) * si * sj;
    }
  }
}

/** Options for Nelder–Mead. */
export interface NelderMeadOptions {
  /** Iteration cap over all restarts. */
  maxIterations?: number;
  /** Initial simplex edge, relative to max(1, |xᵢ|). */
  initialStep?: number;
  /** Stop when the simplex values agree to this, relative to max(1, |f|). */
  valueTolerance?: number;
  /** Stop when the simplex vertices agree to this, relative to max(1, |xᵢ|). */
  pointTolerance?: number;
  /** Restarts from the best vertex with a fresh simplex, which unsticks a collapsed simplex. */
  restarts?: number;
}

/**
 * Nelder–Mead with the dimension-adaptive coefficients of Gao & Han (2012, "Implementing the
 * Nelder-Mead simplex algorithm with adaptive parameters", Comput. Optim. Appl. 51), restarted from the
 * best vertex until a restart no longer improves the value. Derivative-free, so it tolerates noisy
 * or non-smooth objectives; non-finite values are treated as +∞.
 */
export function nelderMead(
  objective: Objective,
  x0: ArrayLike<number>,
  options: NelderMeadOptions = {},
): MinimizeResult {
  const {
    maxIterations = 5000,
    initialStep = 0.1,
    valueTolerance = 1e-13,
    pointTolerance = 1e-9,
    restarts = 5,
  } = options;
  const n = x0.length;
  let evaluations = 0;
  const f = (x: Float64Array): number => {
    evaluations++;
    const v = objective(x);
    return Number.isFinite(v) ? v : Number.POSITIVE_INFINITY;
  };
  const reflect = 1;
  const expand = 1 + 2 / n;
  const contract = 0.75 - 1 / (2 * n);
  const shrink = 1 - 1 / n;

  let best: Float64Array = Float64Array.from(x0);
  let bestValue = f(best);
  let iterations = 0;
  let converged = false;
  for (let round = 0; round <= restarts && iterations < maxIterations; round++) {
    const startValue = bestValue;
    const points: Float64Array[] = [Float64Array.from(best)];
    for (let i = 0; i < n; i++) {
      const vertex = Float64Array.from(best);
      vertex[i] = (vertex[i] ?? 0) + initialStep * Math.max(1, Math.abs(vertex[i] ?? 0));
      points.push(vertex);
    }
    const values = points.map(f);
    let settled = false;
    while (iterations < maxIterations) {
      iterations++;
      const order = values.map((_, i) => i).sort((i, j) => (values[i] ?? 0) - (values[j] ?? 0));
      const sortedPoints = order.map((i) => points[i] ?? new Float64Array(n));
      const sortedValues = order.map((i) => values[i] ?? Number.POSITIVE_INFINITY);
      points.splice(0, points.length, ...sortedPoints);
      values.splice(0, values.length, ...sortedValues);
      const lowest = values[0] ?? Number.POSITIVE_INFINITY;
      const highest = values[n] ?? Number.POSITIVE_INFINITY;
      const first = points[0] ?? new Float64Array(n);
      let spread = 0;
      for (const point of points) {
        for (let i = 0; i < n; i++) {
          spread = Math.max(spread, Math.abs((point[i] ?? 0) - (first[i] ?? 0)) / Math.max(1, Math.abs(first[i] ?? 0)));
        }
      }
      if (highest - lowest <= valueTolerance * Math.max(1, Math.abs(lowest)) && spread <= pointTolerance) {
        settled = true;
        break;
      }
      const centroid = new Float64Array(n);
      for (let k = 0; k < n; k++) {
        const point = points[k] ?? new Float64Array(n);
        for (let i = 0; i < n; i++) centroid[i] = (centroid[i] ?? 0) + (point[i] ?? 0) / n;
      }
      const worst = points[n] ?? new Float64Array(n);
      const along = (coefficient: number): Float64Array =>
        centroid.map((c, i) => c + coefficient * (c - (worst[i] ?? 0)));
      const reflected = along(reflect);
      const reflectedValue = f(reflected);
      const secondWorst = values[n - 1] ?? Number.POSITIVE_INFINITY;
      if (reflectedValue < lowest) {
        const expanded = along(reflect * expand);
        const expandedValue = f(expanded);
        const better = expandedValue < reflectedValue;
        points[n] = better ? expanded : reflected;
        values[n] = better ? expandedValue : reflectedValue;
        continue;
      }
      if (reflectedValue < secondWorst) {
        points[n] = reflected;
        values[n] = reflectedValue;
        continue;
      }
      const outside = reflectedValue < highest;
      const contracted = along(outside ? reflect * contract : -contract);
      const contractedValue = f(contracted);
      if (contractedValue < (outside ? reflectedValue : highest)) {
        points[n] = contracted;
        values[n] = contractedValue;
        continue;
      }
      for (let k = 1; k <= n; k++) {
        const point = points[k] ?? new Float64Array(n);
        const shrunk = point.map((v, i) => (first[i] ?? 0) + shrink * (v - (first[i] ?? 0)));
        points[k] = shrunk;
        values[k] = f(shrunk);
      }
    }
    const roundBest = values.indexOf(Math.min(...values));
    if ((values[roundBest] ?? Number.POSITIVE_INFINITY) <= bestValue) {
      best = points[roundBest] ?? best;
      bestValue = values[roundBest] ?? bestValue;
    }
    if (settled && startValue - bestValue <= valueTolerance * Math.max(1, Math.abs(bestValue))) {
      converged = round > 0 || restarts === 0;
      if (converged) break;
    }
  }
  const gradient = new Float64Array(n);
  if (Number.isFinite(bestValue)) evaluations += centralGradient((x) => objective(x), best, gradient);
  return { x: best, value: bestValue, gradient, iterations, evaluations, converged };
}

/**
 * Minimises with BFGS and falls back to Nelder–Mead (then BFGS again from its answer) when BFGS
 * stalls, so that a bad start or a rough patch of the surface does not end the fit.
 */
export function minimize(objective: Objective, x0: ArrayLike<number>, options: MinimizeOptions = {}): MinimizeResult {
  const first = bfgs(objective, x0, options);
  if (first.converged) return first;
  const start = Number.isFinite(first.value) ? first.x : x0;
  const simplex = nelderMead(objective, start, { maxIterations: options.maxIterations ?? 5000 });
  const second = bfgs(
    objective,
    simplex.value <= first.value || !Number.isFinite(first.value) ? simplex.x : first.x,
    options,
  );
  const iterations = first.iterations + simplex.iterations + second.iterations;
  const evaluations = first.evaluations + simplex.evaluations + second.evaluations;
  const bestOf = [second, simplex, first].reduce((a, b) => (b.value < a.value ? b : a));
  const winner = second.converged ? second : bestOf;
  return { ...winner, iterations, evaluations };
}

/**
 * The Hessian of f at x by central second differences, step ε^¼ · max(1, |xᵢ|): f(x ± hᵢ ± hⱼ) for
 * the off-diagonal terms (Abramowitz & Stegun 25.3.26). Use `hessianFromGradient` when a gradient exists.
 */
export function numericalHessian(f: (x: Float64Array) => number, x: ArrayLike<number>): Matrix {
  const n = x.length;
  const at = Float64Array.from(x);
  const h = Array.from(at, (xi) => xi + FOURTH_ROOT_EPSILON * Math.max(1, Math.abs(xi)) - xi);
  const centre = f(at);
  const shifted = (i: number, di: number, j: number, dj: number): number => {
    const probe = Float64Array.from(at);
    probe[i] = (probe[i] ?? 0) + di;
    probe[j] = (probe[j] ?? 0) + dj;
    return f(probe);
  };
  const hessian: Matrix = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    const hi = h[i] ?? 0;
    const row = hessian[i] ?? [];
    row[i] = (shifted(i, hi, i, 0) - 2 * centre + shifted(i, -hi, i, 0)) / (hi * hi);
    for (let j = 0; j < i; j++) {
      const hj = h[j] ?? 0;
      const value =
        (shifted(i, hi, j, hj) - shifted(i, hi, j, -hj) - shifted(i, -hi, j, hj) + shifted(i, -hi, j, -hj)) /
        (4 * hi * hj);
      row[j] = value;
      const other = hessian[j];
      if (other) other[i] = value;
    }
  }
  return hessian;
}

/** The Hessian as central differences of an analytic gradient (step ε^⅓ · max(1, |xᵢ|)), symmetrised. */
export function hessianFromGradient(
  gradient: (x: Float64Array, out: Float64Array) => void,
  x: ArrayLike<number>,
): Matrix {
  const n = x.length;
  const probe = Float64Array.from(x);
  const up = new Float64Array(n);
  const down = new Float64Array(n);
  const columns: Float64Array[] = [];
  for (let i = 0; i < n; i++) {
    const xi = probe[i] ?? 0;
    const h = xi + CBRT_EPSILON * Math.max(1, Math.abs(xi)) - xi;
    probe[i] = xi + h;
    gradient(probe, up);
    probe[i] = xi - h;
    gradient(probe, down);
    probe[i] = xi;
    columns.push(up.map((u, k) => (u - (down[k] ?? 0)) / (2 * h)));
  }
  return Array.from({ length: n }, (_, i) =>
    Array.from({ length: n }, (_, j) => ((columns[i]?.[j] ?? 0) + (columns[j]?.[i] ?? 0)) / 2),
  );
}

/**
 * A pivot below this fraction of its diagonal entry means the matrix is singular to working precision
 * (a variable is a linear combination of the others up to 1e-10), which for an information matrix
 * means a parameter is not identified.
 */
const SINGULAR_PIVOT = 1e-10;

/** The lower Cholesky factor L with LLᵀ = A, or undefined when A is not (numerically) positive definite. */
export function cholesky(a: Matrix): Matrix | undefined {
  const n = a.length;
  const l: Matrix = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = a[i]?.[j] ?? Number.NaN;
      for (let k = 0; k < j; k++) sum -= (l[i]?.[k] ?? 0) * (l[j]?.[k] ?? 0);
      const row = l[i] ?? [];
      if (i === j) {
        if (!(sum > SINGULAR_PIVOT * Math.abs(a[i]?.[i] ?? 0) && sum > 0)) return undefined;
        row[i] = Math.sqrt(sum);
      } else {
        row[j] = sum / (l[j]?.[j] ?? Number.NaN);
      }
    }
  }
  return l;
}

/** Solves A v = b given the Cholesky factor L of A (forward then back substitution). */
export function choleskySolve(l: Matrix, b: ArrayLike<number>): Float64Array {
  const n = l.length;
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let sum = b[i] ?? 0;
    for (let k = 0; k < i; k++) sum -= (l[i]?.[k] ?? 0) * (y[k] ?? 0);
    y[i] = sum / (l[i]?.[i] ?? Number.NaN);
  }
  const v = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let sum = y[i] ?? 0;
    for (let k = i + 1; k < n; k++) sum -= (l[k]?.[i] ?? 0) * (v[k] ?? 0);
    v[i] = sum / (l[i]?.[i] ?? Number.NaN);
  }
  return v;
}

/** The inverse of a symmetric positive-definite matrix (the covariance from a Hessian), or undefined. */
export function inverseSymmetric(a: Matrix): Matrix | undefined {
  const l = cholesky(a);
  if (!l) return undefined;
  const n = a.length;
  const columns = Array.from({ length: n }, (_, j) =>
    choleskySolve(
      l,
      Array.from({ length: n }, (_, i) => (i === j ? 1 : 0)),
    ),
  );
  return Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => columns[j]?.[i] ?? Number.NaN));
}

/**
 * Standard errors √diag(H⁻¹) from the Hessian of a negative log-likelihood at its minimum (the
 * observed information), or undefined when H is not positive definite.
 */
export function standardErrors(hessian: Matrix): Float64Array | undefined {
  const covariance = inverseSymmetric(hessian);
  if (!covariance) return undefined;
  return Float64Array.from(covariance, (row, i) => Math.sqrt(row[i] ?? Number.NaN));
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i] ?? 0) * (b[i] ?? 0);
  return sum;
}

function maxAbs(a: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] ?? 0));
  return max;
}

function multiply(m: Matrix, v: ArrayLike<number>, out: Float64Array): Float64Array {
  for (let i = 0; i < m.length; i++) out[i] = dot(m[i] ?? [], v);
  return out;
}

function identity(n: number): Matrix {
  return scaledIdentity(n, 1);
}

function scaledIdentity(n: number, scale: number): Matrix {
  return Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? scale : 0)));
}

/**
 * The eigenvalues of a symmetric matrix, ascending, by cyclic Jacobi rotations (Golub & Van Loan,
 * "Matrix Computations", 4th ed., Algorithm 8.5.3); the matrices here are 2×2 to 4×4.
 */
export function symmetricEigenvalues(m: Matrix): number[] {
  const n = m.length;
  const a = m.map((row) => [...row]);
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) off += (a[i]?.[j] ?? 0) ** 2;
    if (!(off > 1e-300)) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p]?.[q] ?? 0;
        if (apq === 0) continue;
        const app = a[p]?.[p] ?? 0;
        const aqq = a[q]?.[q] ?? 0;
        const tau = (aqq - app) / (2 * apq);
        const t = Math.sign(tau || 1) / (Math.abs(tau) + Math.sqrt(1 + tau * tau));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k]?.[p] ?? 0;
          const akq = a[k]?.[q] ?? 0;
          const rowK = a[k] ?? [];
          rowK[p] = c * akp - s * akq;
          rowK[q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p]?.[k] ?? 0;
          const aqk = a[q]?.[k] ?? 0;
          const rowP = a[p] ?? [];
          const rowQ = a[q] ?? [];
          rowP[k] = c * apk - s * aqk;
          rowQ[k] = s * apk + c * aqk;
        }
      }
    }
  }
  return Array.from({ length: n }, (_, i) => a[i]?.[i] ?? Number.NaN).sort((x, y) => x - y);
}
