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
  symmetricEigenvalues,
} from './optimize.js';

/** The models Comeback fits. */
export type ModelName = 'bgnbd' | 'mbgnbd' | 'pnbd' | 'gg';

/**
 * Why a fit's numbers should not be taken at face value, as a stable code for machines (JSON, the
 * dashboard) beside the sentence for people.
 */
export type DiagnosticCode =
  | 'degenerate_data'
  | 'likelihood_not_finite'
  | 'too_few_customers'
  | 'few_repeaters'
  | 'not_converged'
  | 'hessian_not_positive_definite'
  | 'parameter_at_bound'
  | 'large_standard_error'
  | 'flat_likelihood'
  | 'dropout_not_identified'
  | 'spend_mean_infinite'
  | 'spend_frequency_correlated'
  | 'zero_spend_left_out';

/** One finding about a fit. */
export interface FitDiagnostic {
  code: DiagnosticCode;
  /** The parameter concerned, when there is one. */
  parameter?: string;
  message: string;
}

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
  /** Reasons not to trust the numbers blindly, in words (the messages of `diagnostics`); empty when all is well. */
  warnings: string[];
  /** The same findings with their codes. */
  diagnostics: FitDiagnostic[];
  /**
   * True when the data identify every parameter: a verified maximum inside the parameter space, no
   * standard error as large as its estimate, no flat direction of the likelihood, and (purchase
   * models) a dropout process the data can tell apart from none.
   */
  identified: boolean;
  /** Set when there is no estimate at all (degenerate data, a likelihood that is nowhere finite): the reason. */
  failure?: string;
  /**
   * Eigenvalues of the observed information in log-parameters, ascending: 1/√λ is the standard
   * error of ln θ along that direction; a value near 0 is a flat direction of the likelihood.
   */
  informationEigenvalues: number[];
}

/** The codes that make a fit's estimates untrustworthy (as opposed to merely worth a note). */
export const NOT_IDENTIFIED_CODES: ReadonlySet<DiagnosticCode> = new Set<DiagnosticCode>([
  'degenerate_data',
  'likelihood_not_finite',
  'not_converged',
  'hessian_not_positive_definite',
  'parameter_at_bound',
  'large_standard_error',
  'flat_likelihood',
  'dropout_not_identified',
]);

/** Builds `warnings`, `identified` from diagnostics (after a model adds its own). */
export function withDiagnostics(result: FitResult, extra: readonly FitDiagnostic[]): FitResult {
  const diagnostics = [...result.diagnostics, ...extra];
  return {
    ...result,
    diagnostics,
    warnings: diagnostics.map((d) => d.message),
    identified: result.failure === undefined && !diagnostics.some((d) => NOT_IDENTIFIED_CODES.has(d.code)),
  };
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
/**
 * A direction of log-parameters along which the log-likelihood curves by less than this (an
 * eigenvalue of the information below 1) moves by under half a nat when the parameters change by a
 * factor e: the data cannot pin that combination down to within a factor of e.
 */
const FLAT_EIGENVALUE = 1;
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
  /** Findings about the data made while building the problem. */
  diagnostics: FitDiagnostic[];
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
  const diagnostics = [...problem.diagnostics];
  const note = (code: DiagnosticCode, message: string, parameter?: string) =>
    diagnostics.push(parameter === undefined ? { code, message } : { code, parameter, message });
  if (problem.customers < MIN_CUSTOMERS) {
    note(
      'too_few_customers',
      `only ${problem.customers} customers: too few for stable estimates (want at least ${MIN_CUSTOMERS})`,
    );
  }
  const eigenvalues = hessian.length === n && Number.isFinite(value) ? symmetricEigenvalues(hessian) : [];
  if (!Number.isFinite(value)) {
    note(
      'likelihood_not_finite',
      'the log-likelihood is not finite at any point the optimiser tried: the data do not fit this model',
    );
  } else if (!positiveDefinite) {
    note(
      'hessian_not_positive_definite',
      'the Hessian is not positive definite at the estimate: it may be a saddle point or on a boundary, and standard errors are unavailable',
    );
  } else if (!converged) {
    note(
      'not_converged',
      `the optimiser did not converge (a Newton step would still gain ${formatEstimate(decrement)} in log-likelihood): the parameters may not be the maximum-likelihood estimates`,
    );
  }
  for (const name of names) {
    const estimate = params[name] ?? Number.NaN;
    const se = stderr[name] ?? Number.NaN;
    if (estimate > EDGE || estimate < 1 / EDGE) {
      note(
        'parameter_at_bound',
        `${name} = ${formatEstimate(estimate)} is at the edge of its range: the data do not identify it`,
        name,
      );
    } else if (se >= estimate) {
      note(
        'large_standard_error',
        `${name} = ${formatEstimate(estimate)} has a standard error of ${formatEstimate(se)}, as large as the estimate itself`,
        name,
      );
    }
  }
  const smallest = eigenvalues[0];
  if (positiveDefinite && smallest !== undefined && smallest < FLAT_EIGENVALUE) {
    note(
      'flat_likelihood',
      `the likelihood is flat along one combination of the parameters (curvature ${formatEstimate(smallest)} in log-parameters): the data cannot pin it down`,
    );
  }
  const result: FitResult = {
    model: problem.model,
    params,
    stderr,
    logLikelihood: -value,
    customers: problem.customers,
    histories: problem.histories,
    iterations,
    converged,
    warnings: [],
    diagnostics: [],
    identified: false,
    informationEigenvalues: eigenvalues,
  };
  if (!Number.isFinite(value)) result.failure = 'the log-likelihood is not finite anywhere the optimiser looked';
  return withDiagnostics(result, diagnostics);
}

/**
 * A fit that has no estimate: degenerate data (`reason` says which), reported in the same shape with
 * NaN parameters, so that faces print the reason and store nothing.
 */
export function failedFit(
  model: ModelName,
  names: readonly string[],
  customers: number,
  histories: number,
  reason: string,
): FitResult {
  const nan = Object.fromEntries(names.map((name) => [name, Number.NaN]));
  return {
    model,
    params: nan,
    stderr: { ...nan },
    logLikelihood: Number.NaN,
    customers,
    histories,
    iterations: 0,
    converged: false,
    warnings: [reason],
    diagnostics: [{ code: 'degenerate_data', message: reason }],
    identified: false,
    failure: reason,
    informationEigenvalues: [],
  };
}

/**
 * An estimate as people read it: four significant digits, plain notation between 1e−4 and 1e6 and
 * scientific outside (7.8e+107, 3.1e−9), never `-0` and never `0.0000` for a tiny positive number.
 */
export function formatEstimate(value: number | undefined, digits = 4): string {
  if (value === undefined || Number.isNaN(value)) return '–';
  if (!Number.isFinite(value)) return value > 0 ? '∞' : '−∞';
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  if (magnitude >= 1e6 || magnitude < 1e-4) return value.toExponential(digits - 1).replace(/\.?0+e/, 'e');
  const text = Number(value.toPrecision(digits)).toString();
  return text === '-0' ? '0' : text;
}

/** One parameter from a record (e.g. `FitResult.params`), insisting that it is a positive finite number. */
export function positiveParam(model: ModelName, record: Readonly<Record<string, number>>, name: string): number {
  const value = record[name];
  if (value === undefined || !(value > 0) || !Number.isFinite(value)) {
    throw new RangeError(`${model}: parameter ${name} must be a positive number, got ${value}`);
  }
  return value;
}
