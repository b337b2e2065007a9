import {
  type CustomerSummaries,
  customerSummaries,
  defaultAsOf,
  holdoutPurchases,
  type LeftOutCurrency,
  lastDayBefore,
  leftOutCurrencies,
  type SummaryUnit,
} from '../analytics/index.js';
import { ComebackError } from '../errors.js';
import {
  type ChurnBand,
  churnBand,
  churnRisk,
  compareHoldout,
  discountedCustomerValue,
  type FitDiagnostic,
  type FitResult,
  fitGammaGamma,
  fitPurchaseModel,
  type GammaGammaParams,
  ggConditionalExpectedSpend,
  ggParams,
  type HoldoutComparison,
  isPurchaseModel,
  type ModelName,
  NOT_IDENTIFIED_CODES,
  PURCHASE_MODELS,
  type PurchaseModelName,
  purchasePredictor,
  rfmSummary,
  spendFrequencyCorrelation,
  timeToNextOrder,
} from '../models/index.js';
import { GrowingColumns, idRanges } from '../shared/columns.js';
import { MS_PER_DAY } from '../shared/dates.js';
import type { Db } from '../store/index.js';

/** Days in one model time unit. */
export const UNIT_DAYS: Record<SummaryUnit, number> = { day: 1, week: 7 };
const DAYS_PER_MONTH = 365.25 / 12;

/** The calibration/hold-out check of a purchase model. */
export interface HoldoutCheck {
  calibrationEnd: number;
  holdoutEnd: number;
  /** Length of the hold-out in model time units. */
  length: number;
  comparison: HoldoutComparison;
  /** Mean over customers of |predicted − actual| hold-out purchases: what `--model auto` compares. */
  meanAbsoluteError?: number;
}

/** True when a purchase fit's P(alive) says something: it has an estimate and its dropout is identified. */
export function pAliveInformative(fit: FitResult): boolean {
  return fit.failure === undefined && !fit.diagnostics.some((d) => d.code === 'dropout_not_identified');
}

/** The diagnostic that makes P(alive) uninformative, for storing beside the scores. */
export function pAliveNote(fit: FitResult): string | undefined {
  if (fit.failure !== undefined) return `the fit failed: ${fit.failure}`;
  return fit.diagnostics.find((d) => d.code === 'dropout_not_identified')?.message;
}

/** A model fitted to the store's own customers and recorded in `model_fits`. */
export interface StoreFit {
  id: number;
  fit: FitResult;
  unit: SummaryUnit;
  currency: string | null;
  calibrationEnd: number;
  asOf: number;
  holdout: HoldoutCheck | undefined;
  /** Pearson correlation of frequency and spend among repeaters (Gamma-Gamma only). */
  spendCorrelation?: number;
}

export interface FitStoreOptions {
  model: ModelName;
  /** End (exclusive instant) of the data the check may read; default the day after the last sale. */
  asOf?: number;
  /**
   * End (exclusive instant) of the calibration period; default `asOf` (no hold-out). A typed
   * `--calibration-end D` includes day D, so this is the midnight after D.
   */
  calibrationEnd?: number;
  unit?: SummaryUnit;
  currency?: string;
  /** The moment the fit is recorded. */
  now: number;
}

/** A fitted model before it is recorded. */
export type ModelEvaluation = Omit<StoreFit, 'id'>;

/**
 * Fits a model to the per-customer summary of the calibration period, writing nothing. A purchase
 * model whose calibration ends before `asOf` is also checked against the hold-out: predicted against
 * actual purchases in (calibrationEnd, asOf], in total and by calibration frequency.
 */
export async function evaluateModel(db: Db, options: Omit<FitStoreOptions, 'now'>): Promise<ModelEvaluation> {
  const unit = options.unit ?? 'week';
  const asOf = options.asOf ?? (await defaultAsOf(db, options.currency));
  if (asOf === undefined) throw new ComebackError('bad_input', 'the store has no sales to fit a model to');
  const calibrationEnd = options.calibrationEnd ?? asOf;
  if (calibrationEnd > asOf) throw new ComebackError('usage', '--calibration-end must not be after --as-of');
  const summary = await customerSummaries(db, {
    asOf: calibrationEnd,
    calibrationEnd,
    unit,
    currency: options.currency,
  });
  if (summary.count === 0) throw new ComebackError('bad_input', 'no customer bought before the calibration end');
  let fit: FitResult;
  let holdout: HoldoutCheck | undefined;
  let spendCorrelation: number | undefined;
  // The fits sum over customers in an order of their values, not of the store's ids (which SQLite
  // and PostgreSQL number differently on one import), so both databases give bit-identical fits.
  const order = valueOrder([summary.x, summary.tx, summary.T, summary.monetary]);
  const x = permute(summary.x, order);
  if (options.model === 'gg') {
    const mean = permute(summary.monetary, order);
    fit = fitGammaGamma({ x, mean });
    spendCorrelation = spendFrequencyCorrelation({ x, mean }).correlation;
  } else {
    fit = fitPurchaseModel(options.model, rfmSummary(x, permute(summary.tx, order), permute(summary.T, order)));
  }
  if (fit.failure !== undefined) throw new ComebackError('bad_input', `${options.model}: ${fit.failure}`);
  if (options.model !== 'gg' && calibrationEnd < asOf) {
    holdout = await holdoutCheck(db, fit, summary, calibrationEnd, asOf, options.currency);
  }
  return { fit, unit, currency: summary.currency, calibrationEnd, asOf, holdout, spendCorrelation };
}

/** `evaluateModel`, then recorded in `model_fits` (what `comeback fit` does). */
export async function fitStoreModel(db: Db, options: FitStoreOptions): Promise<StoreFit> {
  const evaluation = await evaluateModel(db, options);
  return { id: await recordFit(db, evaluation, options.now), ...evaluation };
}

async function holdoutCheck(
  db: Db,
  fit: FitResult,
  summary: CustomerSummaries,
  calibrationEnd: number,
  holdoutEnd: number,
  currency: string | undefined,
): Promise<HoldoutCheck> {
  const actual = await holdoutPurchases(db, { calibrationEnd, holdoutEnd, currency });
  const predictor = purchasePredictor(fit);
  const length = (lastDayBefore(holdoutEnd) - lastDayBefore(calibrationEnd)) / UNIT_DAYS[summary.unit];
  // Summed in an order of the values (see `valueOrder`), so the error does not depend on the ids.
  const purchases = Float64Array.from({ length: summary.count }, (_, i) => actual.purchases[i] ?? 0);
  const order = valueOrder([summary.x, summary.tx, summary.T, purchases]);
  const [x, tx, T, held] = [summary.x, summary.tx, summary.T, purchases].map((column) => permute(column, order));
  const predicted = new Float64Array(summary.count);
  let absolute = 0;
  for (let i = 0; i < summary.count; i++) {
    predicted[i] = predictor.conditionalExpectedPurchases(length, x![i]!, tx![i]!, T![i]!);
    absolute += Math.abs(predicted[i]! - held![i]!);
  }
  return {
    calibrationEnd,
    holdoutEnd,
    length,
    comparison: compareHoldout(x!, predicted, held!),
    meanAbsoluteError: summary.count > 0 ? absolute / summary.count : Number.NaN,
  };
}

/**
 * The row indices sorted by the values of `columns` (lexicographically): an order that depends on the
 * customers' figures only, so sums over it are the same whatever ids the database gave them. Rows
 * equal in every column are interchangeable in any sum over those columns.
 */
export function valueOrder(columns: readonly ArrayLike<number>[]): Int32Array {
  const n = columns[0]?.length ?? 0;
  const order = Int32Array.from({ length: n }, (_, i) => i);
  return order.sort((a, b) => {
    for (const column of columns) {
      const diff = column[a]! - column[b]!;
      if (diff !== 0) return diff;
    }
    return a - b;
  });
}

function permute(column: ArrayLike<number>, order: Int32Array): Float64Array {
  return Float64Array.from(order, (i) => column[i]!);
}

async function recordFit(db: Db, r: ModelEvaluation, now: number): Promise<number> {
  const finite = (record: Record<string, number>) =>
    Object.fromEntries(Object.entries(record).map(([k, v]) => [k, Number.isFinite(v) ? v : null]));
  const row = await db
    .insertInto('model_fits')
    .values({
      model: r.fit.model,
      params: JSON.stringify(finite(r.fit.params)),
      stderr: JSON.stringify(finite(r.fit.stderr)),
      log_likelihood: r.fit.logLikelihood,
      customers: r.fit.customers,
      histories: r.fit.histories,
      iterations: r.fit.iterations,
      converged: r.fit.converged ? 1 : 0,
      warnings: JSON.stringify(r.fit.warnings),
      unit: r.unit,
      currency: r.currency,
      calibration_end: r.calibrationEnd,
      as_of: r.asOf,
      holdout: r.holdout ? JSON.stringify(r.holdout) : null,
      created_at: now,
      diagnostics: JSON.stringify(r.fit.diagnostics),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return Number(row.id);
}

export interface ScoreOptions {
  /** The purchase model, or `auto` (default): chosen per store by hold-out error, see `chooseModel`. */
  model?: PurchaseModelName | 'auto';
  asOf?: number;
  unit?: SummaryUnit;
  /** How far ahead expected purchases and CLV look, in days (default 365). */
  horizonDays?: number;
  currency?: string;
  /** Monthly discount rate of the CLV (default 0.01), compounded continuously. */
  monthlyDiscountRate?: number;
  /** Share of revenue that is margin (default 1: CLV as discounted revenue). */
  margin?: number;
  now: number;
}

/** One customer's scores, as stored in `customer_scores`. */
export interface CustomerScore {
  customerId: number;
  /** Null when the fit cannot tell who has left (see `ScoreRun.pAliveNote`). */
  probabilityAlive: number | null;
  churnRisk: number | null;
  churnBand: ChurnBand | null;
  expectedPurchases: number;
  /**
   * Expected net value of one purchase, major units: a purchase is a day's orders, as the purchase models
   * count them (a customer's orders on one day are one purchase). The Gamma-Gamma conditional mean
   * (Fader, Hardie & Lee 2005, eq. 5), or the customer's own average purchase without a usable spend model. Not spend over the
   * horizon: that is `expectedPurchases × expectedPurchaseValue`, discounted in `clv`.
   */
  expectedPurchaseValue: number;
  clv: number;
  /** Expected instant of the next order; null when the model expects none within two years or P(alive) is not informative. */
  nextOrderAt: number | null;
}

/**
 * The scores of a run in columns, in ascending customer-id order: 48 bytes a customer rather than an object
 * each, so a million customers' scores stay under 50 MB. Null figures are NaN in the columns; `at`
 * and iteration hand out one `CustomerScore` at a time (churn risk is 1 − P(alive), its band by
 * `churnBand`).
 */
export class ScoreTable implements Iterable<CustomerScore> {
  constructor(
    readonly columns: {
      readonly customerIds: Float64Array;
      /** NaN when the fit cannot tell who has left. */
      readonly pAlive: Float64Array;
      readonly expectedPurchases: Float64Array;
      readonly expectedPurchaseValue: Float64Array;
      readonly clv: Float64Array;
      /** NaN when there is no next order. */
      readonly nextOrderAt: Float64Array;
    },
  ) {}

  get length(): number {
    return this.columns.customerIds.length;
  }

  /** The score of row `i` (0 ≤ i < length). */
  at(i: number): CustomerScore {
    const c = this.columns;
    const pAlive = c.pAlive[i]!;
    const risk = Number.isNaN(pAlive) ? null : churnRisk(pAlive);
    const next = c.nextOrderAt[i]!;
    return {
      customerId: c.customerIds[i]!,
      probabilityAlive: Number.isNaN(pAlive) ? null : pAlive,
      churnRisk: risk,
      churnBand: risk === null ? null : churnBand(risk),
      expectedPurchases: c.expectedPurchases[i]!,
      expectedPurchaseValue: c.expectedPurchaseValue[i]!,
      clv: c.clv[i]!,
      nextOrderAt: Number.isNaN(next) ? null : next,
    };
  }

  /** The row of a customer (the ids are ascending: binary search), or -1. */
  indexOf(customerId: number): number {
    const ids = this.columns.customerIds;
    let lo = 0;
    let hi = ids.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (ids[mid] === customerId) return mid;
      if (ids[mid]! < customerId) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** Rows `[start, end)` as objects: a chunk for a writer. */
  slice(start: number, end: number): CustomerScore[] {
    const out: CustomerScore[] = [];
    for (let i = start; i < Math.min(end, this.length); i++) out.push(this.at(i));
    return out;
  }

  *[Symbol.iterator](): Iterator<CustomerScore> {
    for (let i = 0; i < this.length; i++) yield this.at(i);
  }
}

/** One candidate of `--model auto`. */
export interface ModelCandidate {
  model: PurchaseModelName;
  /** Mean absolute error per customer on the hold-out; NaN when the fit failed. */
  holdoutError: number;
  totalPredicted: number;
  totalActual: number;
  /** All parameters identified, in the fit on the whole history. */
  identified: boolean;
  pAliveInformative: boolean;
  failure?: string;
}

/** How `--model auto` chose. */
export interface ModelSelection {
  chosen: PurchaseModelName;
  calibrationEnd: number;
  holdoutEnd: number;
  candidates: ModelCandidate[];
  reason: string;
  /** Relative tolerance within which hold-out errors tie (`HOLDOUT_TIE_TOLERANCE`). */
  tieTolerance: number;
  /** Who wins a tie: the first of these (simplest model first). */
  tieOrder: PurchaseModelName[];
}

export interface ScoreRun {
  model: PurchaseModelName;
  /** How `--model auto` chose, when it did. */
  selection?: ModelSelection;
  /** Why the spend model was not used (each customer's own average spend instead), when it was not. */
  spendNote?: string;
  purchaseFit: StoreFit;
  spendFit: StoreFit | undefined;
  asOf: number;
  horizonDays: number;
  currency: string | null;
  scores: ScoreTable;
  /** Why P(alive) is not informative for this run (then no score carries P(alive) or churn risk). */
  pAliveNote?: string;
  /** The store's other currencies and the customers who bought only in them, so were not scored. */
  leftOut?: LeftOutCurrency[];
}

/** Scores computed and not (yet) stored. */
export interface ScoreComputation extends Omit<ScoreRun, 'purchaseFit' | 'spendFit'> {
  purchaseFit: ModelEvaluation;
  spendFit: ModelEvaluation | undefined;
}

/**
 * Relative tolerance within which two hold-out errors count as equal. The errors are sums over
 * thousands of customers whose last digits depend on the database's float summation order (SQLite
 * and PostgreSQL differ in the 8th significant digit on Online Retail); a difference this small says
 * nothing about which model predicts better.
 */
export const HOLDOUT_TIE_TOLERANCE = 1e-6;

const TIE_RULE = `errors within a relative ${HOLDOUT_TIE_TOLERANCE} of the lowest count as a tie, won by the simplest model (${PURCHASE_MODELS.join(', ')})`;

/**
 * The candidate with the lowest hold-out error, where errors within `HOLDOUT_TIE_TOLERANCE` (relative)
 * of the lowest tie and the tie goes to the first of `PURCHASE_MODELS` (bgnbd, mbgnbd, pnbd: simplest
 * first). `pool` must be non-empty with finite errors.
 */
export function lowestHoldoutError<C extends { model: PurchaseModelName; holdoutError: number }>(pool: C[]): C {
  const lowest = Math.min(...pool.map((c) => c.holdoutError));
  const ties = pool.filter((c) => c.holdoutError - lowest <= HOLDOUT_TIE_TOLERANCE * Math.abs(lowest));
  ties.sort((a, b) => PURCHASE_MODELS.indexOf(a.model) - PURCHASE_MODELS.indexOf(b.model));
  return ties[0]!;
}

/**
 * Chooses the purchase model for a store: each of BG/NBD, MBG/NBD and Pareto/NBD is fitted on a
 * calibration period (all but the last third of the store's history, in whole days) and scored by
 * its mean absolute error per customer on the hold-out, and fitted on the whole history to check that
 * the data identify it. The model with the lowest error wins among the identified ones; only when
 * none is identified, among those whose P(alive) is informative, and only then among the rest.
 * Errors within a relative `HOLDOUT_TIE_TOLERANCE` tie, and a tie goes to the simplest model
 * (`lowestHoldoutError`), so the choice does not flip with the database's float summation order.
 */
export async function chooseModel(
  db: Db,
  options: { asOf?: number; unit?: SummaryUnit; currency?: string },
): Promise<{ selection: ModelSelection; fits: Map<PurchaseModelName, ModelEvaluation> }> {
  const unit = options.unit ?? 'week';
  const asOf = options.asOf ?? (await defaultAsOf(db, options.currency));
  if (asOf === undefined) throw new ComebackError('bad_input', 'the store has no sales to fit a model to');
  const summary = await customerSummaries(db, { asOf, calibrationEnd: asOf, unit, currency: options.currency });
  const spanDays = Math.round(Math.max(0, ...summary.T) * UNIT_DAYS[unit]);
  const holdoutDays = Math.floor(spanDays / 3);
  if (holdoutDays < 1)
    throw new ComebackError('bad_input', 'the history is too short to hold out a period and compare models');
  const calibrationEnd = asOf - holdoutDays * MS_PER_DAY;
  const fits = new Map<PurchaseModelName, ModelEvaluation>();
  const candidates: ModelCandidate[] = [];
  for (const model of PURCHASE_MODELS) {
    try {
      const check = await evaluateModel(db, { model, asOf, calibrationEnd, unit, currency: options.currency });
      const full = await evaluateModel(db, { model, asOf, unit, currency: options.currency });
      fits.set(model, full);
      const comparison = check.holdout?.comparison;
      candidates.push({
        model,
        holdoutError: check.holdout?.meanAbsoluteError ?? Number.NaN,
        totalPredicted: comparison?.totalPredicted ?? Number.NaN,
        totalActual: comparison?.totalActual ?? Number.NaN,
        identified: full.fit.identified,
        pAliveInformative: pAliveInformative(full.fit),
      });
    } catch (error) {
      if (!(error instanceof ComebackError)) throw error;
      candidates.push({
        model,
        holdoutError: Number.NaN,
        totalPredicted: Number.NaN,
        totalActual: Number.NaN,
        identified: false,
        pAliveInformative: false,
        failure: error.message,
      });
    }
  }
  const usable = candidates.filter((c) => c.failure === undefined && Number.isFinite(c.holdoutError));
  if (usable.length === 0) {
    throw new ComebackError(
      'bad_input',
      `no purchase model could be fitted: ${candidates.map((c) => c.failure).join('; ')}`,
    );
  }
  const best = lowestHoldoutError;
  const identified = usable.filter((c) => c.identified);
  const informative = usable.filter((c) => c.pAliveInformative);
  const [winner, reason] =
    identified.length > 0
      ? [best(identified), `the lowest hold-out error among the identified models; ${TIE_RULE}`]
      : informative.length > 0
        ? [
            best(informative),
            `no model is fully identified; the lowest hold-out error among those whose P(alive) is informative; ${TIE_RULE}`,
          ]
        : [best(usable), `no model can tell who has left; the lowest hold-out error; ${TIE_RULE}`];
  return {
    selection: {
      chosen: winner.model,
      calibrationEnd,
      holdoutEnd: asOf,
      candidates,
      reason,
      tieTolerance: HOLDOUT_TIE_TOLERANCE,
      tieOrder: [...PURCHASE_MODELS],
    },
    fits,
  };
}

/**
 * Scores every customer with a purchase model and the Gamma-Gamma spend model fitted at `asOf`,
 * writing nothing: P(alive), churn risk and band, expected purchases and continuously discounted CLV
 * over the horizon, expected order value and next order. When the purchase fit cannot tell who has
 * left (`dropout_not_identified`), P(alive), churn risk and next order are left out (null) and
 * `pAliveNote` says why. Without a usable spend model (fewer than two repeaters with spend, a failed
 * fit, or q ≤ 1) the expected order value is the customer's own average and `spendNote` says why.
 */
export async function computeScores(db: Db, options: Omit<ScoreOptions, 'now'>): Promise<ScoreComputation> {
  const unit = options.unit ?? 'week';
  const horizonDays = options.horizonDays ?? 365;
  let model: PurchaseModelName;
  let purchaseFit: ModelEvaluation;
  let selection: ModelSelection | undefined;
  if (options.model === undefined || options.model === 'auto') {
    const chosen = await chooseModel(db, { asOf: options.asOf, unit, currency: options.currency });
    selection = chosen.selection;
    model = selection.chosen;
    purchaseFit = chosen.fits.get(model)!;
  } else {
    model = options.model;
    purchaseFit = await evaluateModel(db, { model, asOf: options.asOf, unit, currency: options.currency });
  }
  const asOf = purchaseFit.asOf;
  const summary = await customerSummaries(db, { asOf, calibrationEnd: asOf, unit, currency: options.currency });
  let spendFit: ModelEvaluation | undefined;
  let spend: GammaGammaParams | undefined;
  let spendNote: string | undefined;
  try {
    spendFit = await evaluateModel(db, { model: 'gg', asOf, unit, currency: options.currency });
    const params = spendFit.fit.params;
    if (Number.isFinite(params.p) && Number.isFinite(params.q) && params.q! > 1) spend = ggParams(params);
    else spendNote = 'q ≤ 1: the spend model implies an infinite mean spend';
  } catch (error) {
    if (!(error instanceof ComebackError)) throw error;
    spendNote = error.message;
  }
  if (spendNote) spendNote += '; the expected order value is each customer’s own average order';
  const predictor = purchasePredictor(purchaseFit.fit);
  const note = pAliveNote(purchaseFit.fit);
  const unitDays = UNIT_DAYS[unit];
  const horizon = horizonDays / unitDays;
  const clvOptions = {
    horizon,
    periodsPerMonth: DAYS_PER_MONTH / unitDays,
    monthlyDiscountRate: options.monthlyDiscountRate ?? 0.01,
    margin: options.margin ?? 1,
  };
  const nextDayStart = (lastDayBefore(asOf) + 1) * MS_PER_DAY;
  const n = summary.count;
  const columns = {
    customerIds: summary.customerIds,
    pAlive: new Float64Array(n),
    expectedPurchases: new Float64Array(n),
    expectedPurchaseValue: new Float64Array(n),
    clv: new Float64Array(n),
    nextOrderAt: new Float64Array(n),
  };
  for (let i = 0; i < n; i++) {
    const x = summary.x[i]!;
    const tx = summary.tx[i]!;
    const T = summary.T[i]!;
    const expectedPurchaseValue = spend
      ? ggConditionalExpectedSpend(spend, x, summary.monetary[i]!)
      : summary.averageSpent[i]!;
    const next = note === undefined ? timeToNextOrder(predictor, x, tx, T, { cap: (2 * 365) / unitDays }) : Number.NaN;
    columns.pAlive[i] = note === undefined ? predictor.probabilityAlive(x, tx, T) : Number.NaN;
    columns.expectedPurchases[i] = predictor.conditionalExpectedPurchases(horizon, x, tx, T);
    columns.expectedPurchaseValue[i] = expectedPurchaseValue;
    columns.clv[i] = discountedCustomerValue(predictor, x, tx, T, expectedPurchaseValue, clvOptions);
    columns.nextOrderAt[i] = Number.isFinite(next)
      ? Math.round(nextDayStart + next * unitDays * MS_PER_DAY)
      : Number.NaN;
  }
  const scores = new ScoreTable(columns);
  const leftOut = summary.currency === null ? [] : await leftOutCurrencies(db, { asOf, currency: summary.currency });
  return {
    model,
    purchaseFit,
    spendFit,
    asOf,
    horizonDays,
    currency: summary.currency,
    leftOut,
    scores,
    selection,
    spendNote,
    ...(note === undefined ? {} : { pAliveNote: note }),
  };
}

/**
 * `computeScores`, then the fits recorded in `model_fits` and the scores stored in `customer_scores`
 * under the model and `asOf` (a re-run for the same model and `asOf` replaces them): what
 * `comeback predict` does, and what segments and campaigns read.
 */
export async function scoreCustomers(db: Db, options: ScoreOptions): Promise<ScoreRun> {
  const computed = await computeScores(db, options);
  const purchaseFit = { id: await recordFit(db, computed.purchaseFit, options.now), ...computed.purchaseFit };
  const spendFit = computed.spendFit
    ? { id: await recordFit(db, computed.spendFit, options.now), ...computed.spendFit }
    : undefined;
  const run = { ...computed, purchaseFit, spendFit };
  await storeScores(db, run);
  return run;
}

async function storeScores(
  db: Db,
  run: Omit<ScoreRun, 'purchaseFit' | 'spendFit'> & {
    model: string;
    purchaseFit: StoreFit;
    spendFit: StoreFit | undefined;
  },
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx.deleteFrom('customer_scores').where('model', '=', run.model).where('as_of', '=', run.asOf).execute();
    // 500 rows per statement, made a chunk at a time from the columns.
    const row = (s: CustomerScore) => ({
      customer_id: s.customerId,
      model: run.model,
      as_of: run.asOf,
      fit_id: run.purchaseFit.id,
      spend_fit_id: run.spendFit?.id ?? null,
      p_alive: s.probabilityAlive,
      churn_risk: s.churnRisk,
      churn_band: s.churnBand,
      p_alive_note: run.pAliveNote ?? null,
      expected_purchases: s.expectedPurchases,
      horizon_days: run.horizonDays,
      // The column keeps its first name; it holds the expected value of one order.
      expected_spend: Number.isFinite(s.expectedPurchaseValue) ? s.expectedPurchaseValue : null,
      clv: Number.isFinite(s.clv) ? s.clv : null,
      currency: run.currency,
      next_order_at: s.nextOrderAt,
    });
    for (let start = 0; start < run.scores.length; start += 500) {
      await trx
        .insertInto('customer_scores')
        .values(run.scores.slice(start, start + 500).map(row))
        .execute();
    }
  });
}

/**
 * The newest scores `scoreCustomers` stored for a model (default: the model of the most recent run,
 * whichever it is), with the fits that produced them.
 */
export async function latestStoredScores(
  db: Db,
  { model: wanted }: { model?: PurchaseModelName } = {},
): Promise<ScoreRun | undefined> {
  let query = db.selectFrom('customer_scores').select(['model', 'as_of', 'fit_id']);
  if (wanted) query = query.where('model', '=', wanted);
  const latest = await query.orderBy('as_of', 'desc').orderBy('fit_id', 'desc').limit(1).executeTakeFirst();
  if (!latest || !isPurchaseModel(latest.model)) return undefined;
  const model = latest.model;
  const asOf = Number(latest.as_of);
  const first = await db
    .selectFrom('customer_scores')
    .selectAll()
    .where('model', '=', model)
    .where('as_of', '=', asOf)
    .orderBy('customer_id')
    .limit(1)
    .executeTakeFirst();
  if (!first) return undefined;
  const purchaseFit = await loadFit(db, first.fit_id);
  const spendFit = first.spend_fit_id === null ? undefined : await loadFit(db, first.spend_fit_id);
  return {
    purchaseFit,
    spendFit,
    asOf,
    horizonDays: first.horizon_days,
    currency: first.currency,
    model,
    ...(first.p_alive_note === null ? {} : { pAliveNote: first.p_alive_note }),
    scores: await storedScoreTable(db, model, asOf),
  };
}

/** The scores stored for one model and as-of, read 50,000 customer ids at a time into columns. */
async function storedScoreTable(db: Db, model: string, asOf: number): Promise<ScoreTable> {
  const bounds = await db
    .selectFrom('customer_scores')
    .select((eb) => [eb.fn.min('customer_id').as('lo'), eb.fn.max('customer_id').as('hi')])
    .where('model', '=', model)
    .where('as_of', '=', asOf)
    .executeTakeFirst();
  const columns = new GrowingColumns([
    'customerIds',
    'pAlive',
    'expectedPurchases',
    'expectedPurchaseValue',
    'clv',
    'nextOrderAt',
  ] as const);
  const number = (value: number | null) => (value === null ? Number.NaN : Number(value));
  for (const [from, to] of idRanges(bounds?.lo, bounds?.hi, 50_000)) {
    const rows = await db
      .selectFrom('customer_scores')
      .select(['customer_id', 'p_alive', 'expected_purchases', 'expected_spend', 'clv', 'next_order_at'])
      .where('model', '=', model)
      .where('as_of', '=', asOf)
      .where('customer_id', '>=', from)
      .where('customer_id', '<', to)
      .orderBy('customer_id')
      .execute();
    for (const row of rows) {
      const i = columns.add();
      const c = columns.data;
      c.customerIds[i] = Number(row.customer_id);
      c.pAlive[i] = number(row.p_alive);
      c.expectedPurchases[i] = number(row.expected_purchases);
      c.expectedPurchaseValue[i] = number(row.expected_spend);
      c.clv[i] = number(row.clv);
      c.nextOrderAt[i] = number(row.next_order_at);
    }
  }
  return new ScoreTable(columns.trimmed());
}

/** A recorded fit, as `fitStoreModel` returned it. */
async function loadFit(db: Db, id: number): Promise<StoreFit> {
  const row = await db.selectFrom('model_fits').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const numbers = (text: string) =>
    Object.fromEntries(
      Object.entries(JSON.parse(text) as Record<string, number | null>).map(([k, v]) => [k, v ?? Number.NaN]),
    );
  return {
    id: Number(row.id),
    fit: {
      model: row.model as ModelName,
      params: numbers(row.params),
      stderr: numbers(row.stderr),
      logLikelihood: Number(row.log_likelihood),
      customers: row.customers,
      histories: row.histories,
      iterations: row.iterations,
      converged: row.converged === 1,
      warnings: JSON.parse(row.warnings) as string[],
      ...storedDiagnostics(row.diagnostics, JSON.parse(row.warnings) as string[]),
      informationEigenvalues: [],
    },
    unit: row.unit as SummaryUnit,
    currency: row.currency,
    calibrationEnd: Number(row.calibration_end),
    asOf: Number(row.as_of),
    holdout: row.holdout === null ? undefined : (JSON.parse(row.holdout) as HoldoutCheck),
  };
}

/** Diagnostics of a stored fit; rows older than migration 010 have only their warnings. */
function storedDiagnostics(
  text: string | null,
  warnings: string[],
): { diagnostics: FitDiagnostic[]; identified: boolean } {
  if (text === null) return { diagnostics: [], identified: warnings.length === 0 };
  const diagnostics = JSON.parse(text) as FitDiagnostic[];
  return { diagnostics, identified: !diagnostics.some((d) => NOT_IDENTIFIED_CODES.has(d.code)) };
}
