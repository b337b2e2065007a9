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

// Sixteen-point Gauss–Legendre rule on [−1, 1] (A&S Table 25.4), nodes ±x with weights w.
const GL16_NODES = [
  0.0950125098376374, 0.2816035507792589, 0.4580167776572274, 0.6178762444026438, 0.755404408355003, 0.8656312023878318,
  0.9445750230732326, 0.9894009349916499,
];
const GL16_WEIGHTS = [
  0.1894506104550685, 0.1826034150449236, 0.1691565193950025, 0.1495959888165767, 0.1246289712555339,
  0.0951585116824928, 0.0622535239386479, 0.0271524594117541,
];

/** How to discount expected purchases continuously over a horizon of any length. */
export interface ContinuousClvOptions {
  /** The horizon in model time units (a week-fitted model and a 10-day horizon: 10/7). */
  horizon: number;
  /** Model time units per month (4.348 in weeks, 30.44 in days): converts the monthly rate. */
  periodsPerMonth: number;
  /** Discount rate per month (0.01 ≈ 12.7 % a year); compounded continuously as δ = ln(1 + d). */
  monthlyDiscountRate?: number;
  /** Share of revenue that is profit; 1 gives discounted revenue. */
  margin?: number;
}

/**
 * Discounted expected value over (T, T+H] with continuous discounting, as in Fader, Hardie & Lee
 * (2005, "RFM and CLV: Using Iso-Value Curves for Customer Base Analysis", JMR 42, eq. 3's
 * DERL ∫ e^−δt dE[Y(t)]): CLV = AOV · margin · ∫₀^H e^−δt dE[Y(t)], δ = ln(1+d) per month over the
 * periods per month, which integration by parts turns into
 * e^−δH E[Y(H)] + δ ∫₀^H e^−δt E[Y(t)] dt, integrated with a 16-point Gauss–Legendre rule (E[Y(t)]
 * is smooth in t). Any horizon works, a week as well as a year: nothing is rounded to whole months.
 */
export function discountedCustomerValue(
  predictor: PurchasePredictor,
  x: number,
  tx: number,
  T: number,
  averageOrderValue: number,
  options: ContinuousClvOptions,
): number {
  const { horizon, periodsPerMonth, monthlyDiscountRate = 0.01, margin = 1 } = options;
  if (!(periodsPerMonth > 0)) throw new RangeError(`periodsPerMonth must be positive, got ${periodsPerMonth}`);
  if (!(horizon >= 0)) throw new RangeError(`horizon must be ≥ 0, got ${horizon}`);
  if (horizon === 0) return 0;
  const delta = Math.log(1 + monthlyDiscountRate) / periodsPerMonth;
  const expected = (t: number) => predictor.conditionalExpectedPurchases(t, x, tx, T);
  let integral = 0;
  if (delta > 0) {
    const half = horizon / 2;
    for (let i = 0; i < GL16_NODES.length; i++) {
      const offset = half * (GL16_NODES[i] ?? 0);
      const weight = half * (GL16_WEIGHTS[i] ?? 0);
      for (const t of [half - offset, half + offset]) integral += weight * Math.exp(-delta * t) * expected(t);
    }
  }
  const value = Math.exp(-delta * horizon) * expected(horizon) + delta * integral;
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
