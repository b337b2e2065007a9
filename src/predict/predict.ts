import {
  type CustomerSummaries,
  customerSummaries,
  defaultAsOf,
  holdoutPurchases,
  lastDayBefore,
  type SummaryUnit,
} from '../analytics/index.js';
import { ComebackError } from '../errors.js';
import {
  type ChurnBand,
  churnBand,
  churnRisk,
  compareHoldout,
  customerLifetimeValue,
  type FitResult,
  fitGammaGamma,
  fitPurchaseModel,
  type GammaGammaParams,
  ggConditionalExpectedSpend,
  ggParams,
  type HoldoutComparison,
  type ModelName,
  type PurchaseModelName,
  purchasePredictor,
  rfmSummary,
  spendFrequencyCorrelation,
  timeToNextOrder,
} from '../models/index.js';
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
  /** End (exclusive) of the data the check may read; default the day after the last sale. */
  asOf?: number;
  /** End (exclusive) of the calibration period; default `asOf` (no hold-out). */
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
  if (options.model === 'gg') {
    fit = fitGammaGamma({ x: summary.x, mean: summary.monetary });
    spendCorrelation = spendFrequencyCorrelation({ x: summary.x, mean: summary.monetary }).correlation;
  } else {
    fit = fitPurchaseModel(options.model, rfmSummary(summary.x, summary.tx, summary.T));
    if (calibrationEnd < asOf) holdout = await holdoutCheck(db, fit, summary, calibrationEnd, asOf, options.currency);
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
  const predicted = new Float64Array(summary.count);
  for (let i = 0; i < summary.count; i++) {
    predicted[i] = predictor.conditionalExpectedPurchases(length, summary.x[i]!, summary.tx[i]!, summary.T[i]!);
  }
  return { calibrationEnd, holdoutEnd, length, comparison: compareHoldout(summary.x, predicted, actual.purchases) };
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
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return Number(row.id);
}

export interface ScoreOptions {
  model?: PurchaseModelName;
  asOf?: number;
  unit?: SummaryUnit;
  /** How far ahead expected purchases and CLV look, in days (default 365). */
  horizonDays?: number;
  currency?: string;
  /** Monthly discount rate of the CLV (default 0.01). */
  monthlyDiscountRate?: number;
  /** Share of revenue that is margin (default 1: CLV as discounted revenue). */
  margin?: number;
  now: number;
}

/** One customer's scores, as stored in `customer_scores`. */
export interface CustomerScore {
  customerId: number;
  probabilityAlive: number;
  churnRisk: number;
  churnBand: ChurnBand;
  expectedPurchases: number;
  expectedSpend: number;
  clv: number;
  /** Expected instant of the next order; null when the model expects none within two years. */
  nextOrderAt: number | null;
}

export interface ScoreRun {
  purchaseFit: StoreFit;
  spendFit: StoreFit | undefined;
  asOf: number;
  horizonDays: number;
  currency: string | null;
  scores: CustomerScore[];
}

/** Scores computed and not (yet) stored. */
export interface ScoreComputation extends Omit<ScoreRun, 'purchaseFit' | 'spendFit'> {
  model: PurchaseModelName;
  purchaseFit: ModelEvaluation;
  spendFit: ModelEvaluation | undefined;
}

/**
 * Scores every customer with a purchase model and the Gamma-Gamma spend model fitted at `asOf`,
 * writing nothing: P(alive), churn risk and band, expected purchases and discounted CLV over the
 * horizon, expected order value and next order. Without enough repeaters for Gamma-Gamma (or with a
 * spend model whose mean is infinite, q ≤ 1) the expected order value is the customer's own average.
 */
export async function computeScores(db: Db, options: Omit<ScoreOptions, 'now'>): Promise<ScoreComputation> {
  const model = options.model ?? 'bgnbd';
  const unit = options.unit ?? 'week';
  const horizonDays = options.horizonDays ?? 365;
  const purchaseFit = await evaluateModel(db, { model, asOf: options.asOf, unit, currency: options.currency });
  const asOf = purchaseFit.asOf;
  const summary = await customerSummaries(db, { asOf, calibrationEnd: asOf, unit, currency: options.currency });
  let spendFit: ModelEvaluation | undefined;
  let spend: GammaGammaParams | undefined;
  const repeaters = summary.x.reduce((n, x, i) => (x > 0 && summary.monetary[i]! > 0 ? n + 1 : n), 0);
  if (repeaters >= 2) {
    spendFit = await evaluateModel(db, { model: 'gg', asOf, unit, currency: options.currency });
    const params = spendFit.fit.params;
    if (Number.isFinite(params.p) && Number.isFinite(params.q) && params.q! > 1) spend = ggParams(params);
  }
  const predictor = purchasePredictor(purchaseFit.fit);
  const unitDays = UNIT_DAYS[unit];
  const horizon = horizonDays / unitDays;
  const clvOptions = {
    periodsPerMonth: DAYS_PER_MONTH / unitDays,
    months: Math.max(1, Math.round(horizonDays / DAYS_PER_MONTH)),
    monthlyDiscountRate: options.monthlyDiscountRate ?? 0.01,
    margin: options.margin ?? 1,
  };
  const nextDayStart = (lastDayBefore(asOf) + 1) * MS_PER_DAY;
  const scores: CustomerScore[] = [];
  for (let i = 0; i < summary.count; i++) {
    const x = summary.x[i]!;
    const tx = summary.tx[i]!;
    const T = summary.T[i]!;
    const pAlive = predictor.probabilityAlive(x, tx, T);
    const risk = churnRisk(pAlive);
    const expectedSpend = spend ? ggConditionalExpectedSpend(spend, x, summary.monetary[i]!) : summary.averageSpent[i]!;
    const next = timeToNextOrder(predictor, x, tx, T, { cap: (2 * 365) / unitDays });
    scores.push({
      customerId: summary.customerIds[i]!,
      probabilityAlive: pAlive,
      churnRisk: risk,
      churnBand: churnBand(risk),
      expectedPurchases: predictor.conditionalExpectedPurchases(horizon, x, tx, T),
      expectedSpend,
      clv: customerLifetimeValue(predictor, x, tx, T, expectedSpend, clvOptions),
      nextOrderAt: Number.isFinite(next) ? Math.round(nextDayStart + next * unitDays * MS_PER_DAY) : null,
    });
  }
  return { model, purchaseFit, spendFit, asOf, horizonDays, currency: summary.currency, scores };
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
    const rows = run.scores.map((s) => ({
      customer_id: s.customerId,
      model: run.model,
      as_of: run.asOf,
      fit_id: run.purchaseFit.id,
      spend_fit_id: run.spendFit?.id ?? null,
      p_alive: s.probabilityAlive,
      churn_risk: s.churnRisk,
      churn_band: s.churnBand,
      expected_purchases: s.expectedPurchases,
      horizon_days: run.horizonDays,
      expected_spend: Number.isFinite(s.expectedSpend) ? s.expectedSpend : null,
      clv: Number.isFinite(s.clv) ? s.clv : null,
      currency: run.currency,
      next_order_at: s.nextOrderAt,
    }));
    for (let start = 0; start < rows.length; start += 500) {
      await trx
        .insertInto('customer_scores')
        .values(rows.slice(start, start + 500))
        .execute();
    }
  });
}

/** The newest scores `scoreCustomers` stored for a model, with the fits that produced them. */
export async function latestStoredScores(
  db: Db,
  { model = 'bgnbd' }: { model?: PurchaseModelName } = {},
): Promise<ScoreRun | undefined> {
  const latest = await db
    .selectFrom('customer_scores')
    .select((eb) => eb.fn.max('as_of').as('as_of'))
    .where('model', '=', model)
    .executeTakeFirst();
  if (latest?.as_of === null || latest?.as_of === undefined) return undefined;
  const asOf = Number(latest.as_of);
  const rows = await db
    .selectFrom('customer_scores')
    .selectAll()
    .where('model', '=', model)
    .where('as_of', '=', asOf)
    .orderBy('customer_id')
    .execute();
  const first = rows[0];
  if (!first) return undefined;
  const purchaseFit = await loadFit(db, first.fit_id);
  const spendFit = first.spend_fit_id === null ? undefined : await loadFit(db, first.spend_fit_id);
  const number = (value: number | null) => (value === null ? Number.NaN : Number(value));
  return {
    purchaseFit,
    spendFit,
    asOf,
    horizonDays: first.horizon_days,
    currency: first.currency,
    scores: rows.map((row) => ({
      customerId: Number(row.customer_id),
      probabilityAlive: number(row.p_alive),
      churnRisk: number(row.churn_risk),
      churnBand: (row.churn_band ?? 'high') as ChurnBand,
      expectedPurchases: number(row.expected_purchases),
      expectedSpend: number(row.expected_spend),
      clv: number(row.clv),
      nextOrderAt: row.next_order_at === null ? null : Number(row.next_order_at),
    })),
  };
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
    },
    unit: row.unit as SummaryUnit,
    currency: row.currency,
    calibrationEnd: Number(row.calibration_end),
    asOf: Number(row.as_of),
    holdout: row.holdout === null ? undefined : (JSON.parse(row.holdout) as HoldoutCheck),
  };
}
