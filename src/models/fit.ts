/**
 * The shared layer of the model fits: the result every fit returns, the maximum-likelihood driver
 * (optimise on log-parameters, polish with Newton steps, standard errors from the observed
 * information) and the warnings that replace a silent bad answer.
 */
import {
  centralGradient,
  cholesky,
  choleskySolve,
  hessianFromGradient,
  inverseSymmetric,
  type Matrix,
  minimize,
  numericalHessian,
} from './optimize.js';

/** The models Comeback fits. */
export type ModelName = 'bgnbd' | 'mbgnbd' | 'pnbd' | 'gg';

/** What a fit returns, the same shape for every model. */
export interface FitResult {
  model: ModelName;
  /** Maximum-likelihood estimates by the paper's names (r, alpha, a, b / r, alpha, s, beta / p, q, gamma). */
  params: Record<string, number>;
  /** Asymptotic standard errors from the inverse observed information; NaN when unavailable. */
  stderr: Record<string, number>;
  /** The maximised log-likelihood, summed over customers. */
  logLikelihood: number;
  /** Customers the fit used. */
  customers: number;
  /** Distinct histories the likelihood was evaluated on. */
  histories: number;
  /** Optimiser iterations, including the Newton polish. */
  iterations: number;
  /** True when the estimate is a verified maximum: positive-definite Hessian and a vanishing Newton step. */
  converged: boolean;
  /** Reasons not to trust the numbers blindly; empty when all is well. */
  warnings: string[];
}

/** Options every fit accepts. */
export interface FitOptions {
  /** Starting values by parameter name; the defaults are guesses scaled to the data. */
  start?: Record<string, number>;
  /** Cap on optimiser iterations. */
  maxIterations?: number;
}

/** What a fitted purchase model predicts; CLV, next-order and churn helpers take any of them. */
export interface PurchasePredictor {
  readonly model: ModelName;
  /** P(alive at T | x, t_x, T). */
  probabilityAlive(x: number, tx: number, T: number): number;
  /** Expected purchases in (T, T + t] for a customer with history (x, t_x, T). */
  conditionalExpectedPurchases(t: number, x: number, tx: number, T: number): number;
  /** E[X(t)], expected repeat purchases in (0, t] for a new customer. */
  expectedPurchases(t: number): number;
  /** P(X(t) = n) for a new customer. */
  probabilityOfPurchases(n: number, t: number): number;
}

/** Fewer customers than this and a fit warns that its estimates are unstable. */
export const MIN_CUSTOMERS = 30;
/** Fewer repeat customers than this and a Gamma-Gamma fit warns. */
export const MIN_REPEATERS = 10;
/** Parameters outside [1/EDGE, EDGE] mean the optimum is on the boundary: the data do not identify them. */
const EDGE = 1e8;
/** Converged when the Newton step would still raise the log-likelihood by less than this (nats). */
const NEWTON_DECREMENT_TOLERANCE = 1e-8;
const POLISH_STEPS = 6;

/** A maximum-likelihood problem as the driver sees it; each model file builds one. */
export interface LikelihoodProblem {
  model: ModelName;
  names: readonly string[];
  /** Starting values, all positive, in the order of `names`. */
  start: readonly number[];
  /** Weighted log-likelihood at θ; fills ∂LL/∂θ into `gradient` when given (only if `analyticGradient`). */
  logLikelihood(theta: Float64Array, gradient?: Float64Array): number;
  analyticGradient: boolean;
  customers: number;
  histories: number;
  /** Warnings about the data found while building the problem. */
  warnings: string[];
}

/**
 * Maximises a likelihood over positive parameters: BFGS (with Nelder–Mead fallback) on log θ, then
 * Newton steps with a numerical Hessian until the Newton decrement vanishes, then standard errors by
 * the delta method, se(θ) = θ · se(log θ), from the inverse Hessian in log space.
 */
export function fitMaximumLikelihood(problem: LikelihoodProblem, options: FitOptions = {}): FitResult {
  const { names, analyticGradient } = problem;
  const n = names.length;
  const theta = new Float64Array(n);
  const thetaGradient = new Float64Array(n);
  // The optimiser minimises −LL over φ = log θ; the chain rule gives ∂/∂φ = θ ∂/∂θ.
  const objective = (phi: Float64Array, gradient?: Float64Array): number => {
    for (let i = 0; i < n; i++) theta[i] = Math.exp(phi[i] ?? 0);
    const ll = problem.logLikelihood(theta, gradient && analyticGradient ? thetaGradient : undefined);
    if (!Number.isFinite(ll)) return Number.POSITIVE_INFINITY;
    if (gradient && analyticGradient) {
      for (let i = 0; i < n; i++) gradient[i] = -(theta[i] ?? 0) * (thetaGradient[i] ?? 0);
    }
    return -ll;
  };
  const gradientAt = (phi: Float64Array, out: Float64Array): void => {
    if (analyticGradient) objective(phi, out);
    else centralGradient((p) => objective(p), phi, out);
  };
  const hessianAt = (phi: Float64Array): Matrix =>
    analyticGradient ? hessianFromGradient(gradientAt, phi) : numericalHessian((p) => objective(p), phi);

  const start = names.map((name, i) => options.start?.[name] ?? problem.start[i] ?? 1);
  const found = minimize(objective, start.map(Math.log), {
    analyticGradient,
    maxIterations: options.maxIterations ?? 500,
  });

  // Newton polish: BFGS's curvature is an estimate; the numerical Hessian is what the standard errors
  // use, so a vanishing Newton step with it is the convergence test that matters.
  let phi = found.x;
  let value = found.value;
  let iterations = found.iterations;
  const gradient = new Float64Array(n);
  let hessian: Matrix = [];
  let decrement = Number.POSITIVE_INFINITY;
  let positiveDefinite = false;
  for (let step = 0; step <= POLISH_STEPS && Number.isFinite(value); step++) {
    gradientAt(phi, gradient);
    hessian = hessianAt(phi);
    const factor = cholesky(hessian);
    positiveDefinite = factor !== undefined;
    if (!factor) break;
    const newton = choleskySolve(factor, gradient);
    decrement = newton.reduce((sum, v, i) => sum + v * (gradient[i] ?? 0), 0) / 2;
    if (!(decrement > NEWTON_DECREMENT_TOLERANCE) || step === POLISH_STEPS) break;
    let moved = false;
    for (let scale = 1; scale > 1e-4; scale /= 2) {
      const candidate = phi.map((p, i) => p - scale * (newton[i] ?? 0));
      const candidateValue = objective(candidate);
      if (candidateValue < value) {
        phi = candidate;
        value = candidateValue;
        moved = true;
        break;
      }
    }
    iterations++;
    if (!moved) break;
  }

  const params: Record<string, number> = {};
  const stderr: Record<string, number> = {};
  const covariance = positiveDefinite ? inverseSymmetric(hessian) : undefined;
  names.forEach((name, i) => {
    const estimate = Math.exp(phi[i] ?? Number.NaN);
    params[name] = estimate;
    stderr[name] = covariance ? estimate * Math.sqrt(covariance[i]?.[i] ?? Number.NaN) : Number.NaN;
  });

  const converged = Number.isFinite(value) && positiveDefinite && decrement <= NEWTON_DECREMENT_TOLERANCE;
  const warnings = [...problem.warnings];
  if (problem.customers < MIN_CUSTOMERS) {
    warnings.push(`only ${problem.customers} customers: too few for stable estimates (want at least ${MIN_CUSTOMERS})`);
  }
  if (!Number.isFinite(value)) {
    warnings.push('the log-likelihood is not finite at any point the optimiser tried: the data do not fit this model');
  } else if (!positiveDefinite) {
    warnings.push(
      'the Hessian is not positive definite at the estimate: it may be a saddle point or on a boundary, and standard errors are unavailable',
    );
  } else if (!converged) {
    warnings.push(
      `the optimiser did not converge (a Newton step would still gain ${decrement.toExponential(2)} in log-likelihood): the parameters may not be the maximum-likelihood estimates`,
    );
  }
  for (const name of names) {
    const estimate = params[name] ?? Number.NaN;
    if (estimate > EDGE || estimate < 1 / EDGE) {
      warnings.push(`${name} = ${estimate.toPrecision(3)} is at the edge of its range: the data barely identify it`);
    }
  }
  return {
    model: problem.model,
    params,
    stderr,
    logLikelihood: -value,
    customers: problem.customers,
    histories: problem.histories,
    iterations,
    converged,
    warnings,
  };
}

/** One parameter from a record (e.g. `FitResult.params`), insisting that it is a positive finite number. */
export function positiveParam(model: ModelName, record: Readonly<Record<string, number>>, name: string): number {
  const value = record[name];
  if (value === undefined || !(value > 0) || !Number.isFinite(value)) {
    throw new RangeError(`${model}: parameter ${name} must be a positive number, got ${value}`);
  }
  return value;
}
