/**
 * One definition for the purchase models (BG/NBD, MBG/NBD, Pareto/NBD): each model file states its
 * parameters, likelihood and predictions, and this file gives every model the same parameter reader,
 * gradient hand-off to the optimiser, fit wrapper and identifiability checks.
 */
import {
  type FitDiagnostic,
  type FitOptions,
  type FitResult,
  failedFit,
  fitMaximumLikelihood,
  formatEstimate,
  MIN_REPEATERS,
  type ModelName,
  type PurchasePredictor,
  positiveParam,
  withDiagnostics,
} from './fit.js';
import { groupHistories, type Histories, type RfmSummary } from './histories.js';
import { nbdLogLikelihood } from './nbd.js';

/** The models of purchase counts and dropout. */
export type PurchaseModelName = Exclude<ModelName, 'gg'>;

/** What a model file states; `definePurchaseModel` adds the rest. */
export interface PurchaseModelSpec<P> {
  model: PurchaseModelName;
  /** Parameter names in the order the fit reports them (and `fromArray` reads them). */
  names: readonly string[];
  /** The parameters from values in the order of `names`. */
  fromArray(theta: ArrayLike<number>): P;
  /** Starting values for the fit, in the order of `names`. */
  start(histories: Histories): number[];
  /** The weighted log-likelihood; fills ∂LL/∂θ (in the order of `names`) into `gradient` when given. */
  logLikelihood(params: P, histories: Histories, gradient?: Float64Array): number;
  /** The model's predictions for one set of parameters. */
  predictions(params: P): Omit<PurchasePredictor, 'model'>;
  /** The parameters of the dropout process; in the NBD limit the first goes to 0 or the second to ∞. */
  dropoutParameters: readonly [string, string];
}

/** A purchase model: its definition and the shared machinery. */
export interface PurchaseModel<P> extends PurchaseModelSpec<P> {
  /** Reads the parameters from a record such as `FitResult.params`; throws unless each is positive and finite. */
  params(record: Readonly<Record<string, number>>): P;
  /** Fits by maximum likelihood over the distinct histories of a calibration summary, with diagnostics. */
  fit(summary: RfmSummary, options?: FitOptions): FitResult;
  /** The predictions behind the common interface. */
  predictor(params: P): PurchasePredictor;
}

/** A model's closed-form predictions, each taking the parameters first (as the model files export them). */
export interface ClosedForms<P> {
  probabilityAlive(params: P, x: number, tx: number, T: number): number;
  conditionalExpectedPurchases(params: P, t: number, x: number, tx: number, T: number): number;
  expectedPurchases(params: P, t: number): number;
  probabilityOfPurchases(params: P, n: number, t: number): number;
}

/** `PurchaseModelSpec.predictions` from a model's closed forms: binds them to one set of parameters. */
export function closedFormPredictions<P>(forms: ClosedForms<P>): PurchaseModelSpec<P>['predictions'] {
  return (params) => ({
    probabilityAlive: (x, tx, T) => forms.probabilityAlive(params, x, tx, T),
    conditionalExpectedPurchases: (t, x, tx, T) => forms.conditionalExpectedPurchases(params, t, x, tx, T),
    expectedPurchases: (t) => forms.expectedPurchases(params, t),
    probabilityOfPurchases: (n, t) => forms.probabilityOfPurchases(params, n, t),
  });
}

/**
 * Evidence (in log-likelihood) that a model needs its dropout process: it must beat the NBD, its
 * limit without dropout, by more than this. 2.57 nats is half the 5 % critical value (5.14) of the
 * ½χ²₁ + ½χ²₂ mixture that a likelihood-ratio statistic follows when the null sits on the boundary
 * of the parameter space (Self & Liang 1987, "Asymptotic properties of maximum likelihood estimators
 * and likelihood ratio tests under nonstandard conditions", JASA 82, case 6).
 */
export const DROPOUT_EVIDENCE = 2.57;

/** Adds the parameter reader, fit wrapper, NBD comparison and predictor to a model's definition. */
export function definePurchaseModel<P>(spec: PurchaseModelSpec<P>): PurchaseModel<P> {
  const params = (record: Readonly<Record<string, number>>): P =>
    spec.fromArray(spec.names.map((name) => positiveParam(spec.model, record, name)));
  const fit = (summary: RfmSummary, options: FitOptions = {}): FitResult => {
    const histories = groupHistories(summary);
    const degenerate = degenerateHistories(histories);
    if (degenerate) return failedFit(spec.model, spec.names, histories.customers, histories.count, degenerate);
    const result = fitMaximumLikelihood(
      {
        model: spec.model,
        names: spec.names,
        start: spec.start(histories),
        analyticGradient: true,
        logLikelihood: (theta, gradient) => spec.logLikelihood(spec.fromArray(theta), histories, gradient),
        customers: histories.customers,
        histories: histories.count,
        diagnostics: repeaterDiagnostics(histories),
      },
      options,
    );
    if (result.failure) return result;
    return withDiagnostics(result, dropoutDiagnostics(spec, result, histories));
  };
  return { ...spec, params, fit, predictor: (p) => ({ model: spec.model, ...spec.predictions(p) }) };
}

/**
 * Whether the data can tell who has left: the model must fit better than the NBD (no dropout) by
 * `DROPOUT_EVIDENCE`, and its dropout parameters must not sit at the NBD limit.
 */
function dropoutDiagnostics<P>(spec: PurchaseModelSpec<P>, result: FitResult, histories: Histories): FitDiagnostic[] {
  const nbd = fitMaximumLikelihood({
    model: spec.model,
    names: ['r', 'alpha'],
    start: transactionStart(histories).slice(0, 2),
    analyticGradient: true,
    logLikelihood: (theta, gradient) => nbdLogLikelihood(theta[0] ?? 0, theta[1] ?? 0, histories, gradient),
    customers: histories.customers,
    histories: histories.count,
    diagnostics: [],
  });
  const gain = result.logLikelihood - nbd.logLikelihood;
  const [shape, scale] = spec.dropoutParameters;
  const atLimit = result.diagnostics.some(
    (d) =>
      (d.code === 'parameter_at_bound' || d.code === 'large_standard_error') &&
      (d.parameter === shape || d.parameter === scale),
  );
  if (Number.isFinite(gain) && gain > DROPOUT_EVIDENCE && !atLimit) return [];
  const why = Number.isFinite(gain)
    ? `it fits only ${formatEstimate(Math.max(0, gain), 3)} nats better than the NBD without dropout (needs ${DROPOUT_EVIDENCE})`
    : 'the NBD comparison failed';
  return [
    {
      code: 'dropout_not_identified',
      message: `this history cannot tell who has left: the model reduced to NBD (${shape} = ${formatEstimate(result.params[shape])}, ${scale} = ${formatEstimate(result.params[scale])}; ${why}); P(alive) is not informative`,
    },
  ];
}

/**
 * Why a purchase model cannot be fitted to these histories at all, or undefined: no customer, a
 * single customer, no time observed (every T = 0), or nobody who came back.
 */
export function degenerateHistories(histories: Histories): string | undefined {
  if (histories.customers === 0) return 'no customers to fit';
  if (histories.customers === 1) return 'only one customer: a population model needs many customers';
  let exposure = 0;
  let repeaters = 0;
  for (let i = 0; i < histories.count; i++) {
    exposure += (histories.weight[i] ?? 0) * (histories.T[i] ?? 0);
    if ((histories.x[i] ?? 0) > 0) repeaters += histories.weight[i] ?? 0;
  }
  if (!(exposure > 0)) {
    return 'every customer first bought at the end of the calibration period (T = 0): there is no time in which to observe repeat purchases';
  }
  if (repeaters === 0) return 'no customer made a repeat purchase: the purchase and dropout rates are not identified';
  return undefined;
}

/**
 * Starting values for (r, α, ·, ·): r = 1 and α so that the mean purchase rate r/α matches the
 * observed repeat purchases per unit of time; the dropout parameters start at 1.
 */
export function transactionStart(histories: Histories): number[] {
  let purchases = 0;
  let exposure = 0;
  for (let i = 0; i < histories.count; i++) {
    const w = histories.weight[i] ?? 0;
    purchases += w * (histories.x[i] ?? 0);
    exposure += w * (histories.T[i] ?? 0);
  }
  const alpha = purchases > 0 && exposure > 0 ? exposure / purchases : 1;
  return [1, alpha, 1, 1];
}

/** A finding when few customers come back for the dropout process to be identified. */
export function repeaterDiagnostics(histories: Histories): FitDiagnostic[] {
  let repeaters = 0;
  for (let i = 0; i < histories.count; i++) if ((histories.x[i] ?? 0) > 0) repeaters += histories.weight[i] ?? 0;
  if (repeaters < MIN_REPEATERS) {
    return [
      { code: 'few_repeaters', message: `only ${repeaters} customers made a repeat purchase: estimates are unstable` },
    ];
  }
  return [];
}
