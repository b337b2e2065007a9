/**
 * What a fitted purchase model says about each customer in money and time: discounted lifetime value,
 * the expected time of the next order, and churn risk in bands. Model-agnostic: everything goes
 * through `PurchasePredictor`.
 */
import type { PurchasePredictor } from './fit.js';
import type { RfmSummary } from './histories.js';

/** How to turn expected purchases into a discounted value. */
export interface ClvOptions {
  /** Model time units per month: 4.345 when the model is fitted in weeks, 30 in days, 1 in months. */
  periodsPerMonth: number;
  /** Horizon in months. */
  months?: number;
  /** Discount rate per month (0.01 ≈ 12.7% a year). */
  monthlyDiscountRate?: number;
  /** Share of revenue that is profit; 1 gives discounted revenue. */
  margin?: number;
}

/**
 * Discounted expected value of one customer over a horizon, as lifetimes' `customer_lifetime_value`
 * computes it: Σᵢ (E[Y(i·u)] − E[Y((i−1)·u)]) · AOV · margin / (1 + d)ⁱ over months i = 1…months,
 * with E[Y(t)] the conditional expected purchases and u the periods per month.
 */
export function customerLifetimeValue(
  predictor: PurchasePredictor,
  x: number,
  tx: number,
  T: number,
  averageOrderValue: number,
  options: ClvOptions,
): number {
  const { periodsPerMonth, months = 12, monthlyDiscountRate = 0.01, margin = 1 } = options;
  if (!(periodsPerMonth > 0)) throw new RangeError(`periodsPerMonth must be positive, got ${periodsPerMonth}`);
  let value = 0;
  let previous = 0;
  let discount = 1;
  for (let month = 1; month <= months; month++) {
    const cumulative = predictor.conditionalExpectedPurchases(month * periodsPerMonth, x, tx, T);
    discount /= 1 + monthlyDiscountRate;
    value += (cumulative - previous) * discount;
    previous = cumulative;
  }
  return value * averageOrderValue * margin;
}

/** `customerLifetimeValue` for every customer of a summary; `averageOrderValue` is per customer. */
export function customerLifetimeValues(
  predictor: PurchasePredictor,
  summary: RfmSummary,
  averageOrderValue: ArrayLike<number>,
  options: ClvOptions,
): Float64Array {
  const n = summary.x.length;
  if (averageOrderValue.length !== n) {
    throw new RangeError(`averageOrderValue has ${averageOrderValue.length} entries for ${n} customers`);
  }
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = customerLifetimeValue(
      predictor,
      summary.x[i] ?? 0,
      summary.tx[i] ?? 0,
      summary.T[i] ?? 0,
      averageOrderValue[i] ?? 0,
      options,
    );
  }
  return out;
}

/** Options for `timeToNextOrder`. */
export interface NextOrderOptions {
  /** Look no further than this many model time units after T. */
  cap: number;
  /** Absolute precision of the answer, in model time units. */
  tolerance?: number;
}

/**
 * The expected time of the next order, in model time units after T: the t at which the customer's
 * conditional expected purchases E[Y(t) | x, t_x, T] reach 1. We chose this over 1/(purchase rate)
 * because it accounts for dropout: a customer who has probably left never expects a whole purchase
 * and gets Infinity, instead of a date that will not come. Infinity also when it lies beyond `cap`.
 */
export function timeToNextOrder(
  predictor: PurchasePredictor,
  x: number,
  tx: number,
  T: number,
  options: NextOrderOptions,
): number {
  const { cap, tolerance = 1e-6 * Math.max(1, options.cap) } = options;
  const excess = (t: number): number => predictor.conditionalExpectedPurchases(t, x, tx, T) - 1;
  let hi = cap;
  let fHi = excess(hi);
  if (!(fHi >= 0)) return Number.POSITIVE_INFINITY;
  let lo = 0;
  let fLo = -1;
  // Illinois false position (Dowell & Jarratt 1971): E[Y(t)] is increasing and smooth in t, and the
  // halving of the stale end's value keeps regula falsi from creeping along a concave curve.
  let side = 0;
  for (let i = 0; i < 200 && hi - lo > tolerance; i++) {
    const t = (lo * fHi - hi * fLo) / (fHi - fLo);
    const f = excess(t);
    if (f === 0) return t;
    if (f < 0) {
      lo = t;
      fLo = f;
      if (side === -1) fHi /= 2;
      side = -1;
    } else {
      hi = t;
      fHi = f;
      if (side === 1) fLo /= 2;
      side = 1;
    }
  }
  return (lo + hi) / 2;
}

/** Churn risk bands. */
export type ChurnBand = 'low' | 'medium' | 'high';

/** Where the bands start: risk below `medium` is low, below `high` is medium, the rest high. */
export interface ChurnThresholds {
  medium: number;
  high: number;
}

/** Default bands: risk < 0.3 low, < 0.7 medium, otherwise high. */
export const DEFAULT_CHURN_THRESHOLDS: Readonly<ChurnThresholds> = Object.freeze({ medium: 0.3, high: 0.7 });

/** Churn risk, 1 − P(alive). */
export function churnRisk(probabilityAlive: number): number {
  return 1 - probabilityAlive;
}

/** The band a churn risk falls in. */
export function churnBand(risk: number, thresholds: ChurnThresholds = DEFAULT_CHURN_THRESHOLDS): ChurnBand {
  if (!(thresholds.medium <= thresholds.high)) {
    throw new RangeError(
      `churn thresholds must satisfy medium ≤ high, got ${thresholds.medium} and ${thresholds.high}`,
    );
  }
  if (risk < thresholds.medium) return 'low';
  if (risk < thresholds.high) return 'medium';
  return 'high';
}

/** Per-customer predictions over a horizon, as typed arrays in the order of the summary. */
export interface CustomerPredictions {
  probabilityAlive: Float64Array;
  churnRisk: Float64Array;
  churnBand: ChurnBand[];
  /** Conditional expected purchases in (T, T + horizon]. */
  expectedPurchases: Float64Array;
}

/** P(alive), churn risk and band, and expected purchases over `horizon` model time units for every customer. */
export function predictCustomers(
  predictor: PurchasePredictor,
  summary: RfmSummary,
  horizon: number,
  thresholds: ChurnThresholds = DEFAULT_CHURN_THRESHOLDS,
): CustomerPredictions {
  const n = summary.x.length;
  const alive = new Float64Array(n);
  const risk = new Float64Array(n);
  const bands: ChurnBand[] = [];
  const expected = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const x = summary.x[i] ?? 0;
    const tx = summary.tx[i] ?? 0;
    const T = summary.T[i] ?? 0;
    const p = predictor.probabilityAlive(x, tx, T);
    alive[i] = p;
    risk[i] = churnRisk(p);
    bands.push(churnBand(churnRisk(p), thresholds));
    expected[i] = predictor.conditionalExpectedPurchases(horizon, x, tx, T);
  }
  return { probabilityAlive: alive, churnRisk: risk, churnBand: bands, expectedPurchases: expected };
}
