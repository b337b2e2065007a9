/**
 * What a flow or campaign really earned: treated against held-out entrants, intent to treat (everyone
 * who entered, not only those who opened), within the attribution window. Pure arithmetic on counts.
 *
 * - Conversion: the difference of two proportions with Newcombe's hybrid score interval (method 10 of
 *   R. G. Newcombe, "Interval estimation for the difference between independent proportions",
 *   Statistics in Medicine 17 (1998) 873–890), built from Wilson score intervals (E. B. Wilson, JASA
 *   22 (1927) 209–212). It behaves at 0 %, 100 % and small counts, where the Wald interval does not.
 * - Orders and revenue per entrant: the difference of means with Welch's standard error and a normal
 *   quantile (large-sample interval; both arms need at least two entrants).
 * - Entrants still needed: the total that gives 80 % power at the 5 % level for the observed rates and
 *   the observed split, n = (z₀.₉₇₅ + z₀.₈)² (p₁q₁/(1−s) + p₀q₀/s) / (p₁ − p₀)², s the control share
 *   (the usual normal-approximation sample size for two proportions, e.g. Fleiss, Levin & Paik,
 *   Statistical Methods for Rates and Proportions, 3rd ed., §4.2, with unequal allocation).
 */

/** z for a two-sided 95 % interval, and for 80 % power. */
export const Z_95 = 1.959963984540054;
export const Z_POWER_80 = 0.8416212335729143;

/** The sums one arm needs, per entrant, over the attribution window. Revenue in minor units. */
export interface ArmTotals {
  entrants: number;
  /** Entrants with at least one attributed order. */
  converters: number;
  orders: number;
  /** Sum over entrants of their attributed orders squared (for the variance). */
  ordersSquared: number;
  revenueMinor: number;
  /** Sum over entrants of their attributed revenue squared, in minor units squared. */
  revenueSquared: number;
}

/** An estimate with its 95 % interval; low and high are null when the data cannot give one. */
export interface Interval {
  estimate: number;
  low: number | null;
  high: number | null;
}

/** The Wilson score interval for x successes in n trials. */
export function wilson(x: number, n: number, z = Z_95): { low: number; high: number } {
  if (n <= 0) throw new RangeError('wilson: n must be positive');
  const p = x / n;
  const z2 = z * z;
  const centre = (x + z2 / 2) / (n + z2);
  const half = (z / (n + z2)) * Math.sqrt((x * (n - x)) / n + z2 / 4);
  // Exactly 0 and n sit on the boundary: floating point must not move them inside.
  return { low: x === 0 ? 0 : Math.min(p, centre - half), high: x === n ? 1 : Math.max(p, centre + half) };
}

/** p₁ − p₀ with Newcombe's hybrid score interval (method 10). */
export function proportionDifference(x1: number, n1: number, x0: number, n0: number, z = Z_95): Interval {
  const p1 = x1 / n1;
  const p0 = x0 / n0;
  const a = wilson(x1, n1, z);
  const b = wilson(x0, n0, z);
  const d = p1 - p0;
  return {
    estimate: d,
    low: d - Math.sqrt((p1 - a.low) ** 2 + (b.high - p0) ** 2),
    high: d + Math.sqrt((a.high - p1) ** 2 + (p0 - b.low) ** 2),
  };
}

/** Mean₁ − mean₀ from sums and sums of squares, with Welch's standard error and a normal quantile. */
export function meanDifference(
  sum1: number,
  sumSq1: number,
  n1: number,
  sum0: number,
  sumSq0: number,
  n0: number,
  z = Z_95,
): Interval {
  const m1 = sum1 / n1;
  const m0 = sum0 / n0;
  const d = m1 - m0;
  if (n1 < 2 || n0 < 2) return { estimate: d, low: null, high: null };
  const v1 = Math.max(0, (sumSq1 - n1 * m1 * m1) / (n1 - 1));
  const v0 = Math.max(0, (sumSq0 - n0 * m0 * m0) / (n0 - 1));
  const se = Math.sqrt(v1 / n1 + v0 / n0);
  // No variation in either arm (every entrant alike): a normal interval would be a single point.
  if (se === 0) return { estimate: d, low: null, high: null };
  return { estimate: d, low: d - z * se, high: d + z * se };
}

/** Total entrants for 80 % power at 5 % for rates p1 (treated) and p0 (control), control share s. */
export function entrantsForPower(p1: number, p0: number, controlShare: number): number | null {
  const d = p1 - p0;
  if (d === 0 || controlShare <= 0 || controlShare >= 1) return null;
  const k = (Z_95 + Z_POWER_80) ** 2;
  return Math.ceil((k * ((p1 * (1 - p1)) / (1 - controlShare) + (p0 * (1 - p0)) / controlShare)) / (d * d));
}

/** One arm's figures, per entrant. */
export interface ArmFigures extends ArmTotals {
  conversionRate: number | null;
  ordersPerEntrant: number | null;
  revenuePerEntrantMinor: number | null;
}

/** The lift of a flow or campaign. */
export interface LiftReport {
  treatment: ArmFigures;
  control: ArmFigures;
  /** Treated minus control conversion rate (fractions), with its interval. */
  conversionLift: Interval | null;
  ordersPerEntrantLift: Interval | null;
  revenuePerEntrantLiftMinor: Interval | null;
  /** The per-entrant lifts times the treated entrants: what the sends added. */
  incrementalOrders: Interval | null;
  incrementalRevenueMinor: Interval | null;
  /** Discounts given on the treated arm's attributed orders. */
  couponCostMinor: number;
  /** Incremental revenue less the coupon cost. */
  netIncrementalRevenueMinor: number | null;
  /**
   * `positive` / `negative`: the conversion interval excludes zero; `inconclusive`: it spans zero;
   * `no_data`: an arm has no entrants.
   */
  verdict: 'positive' | 'negative' | 'inconclusive' | 'no_data';
  /** When inconclusive: about how many more entrants the observed rates need for 80 % power. */
  moreEntrantsNeeded: number | null;
}

function figures(t: ArmTotals): ArmFigures {
  const per = (v: number) => (t.entrants > 0 ? v / t.entrants : null);
  return {
    ...t,
    conversionRate: per(t.converters),
    ordersPerEntrant: per(t.orders),
    revenuePerEntrantMinor: per(t.revenueMinor),
  };
}

const scale = (i: Interval, k: number): Interval => ({
  estimate: i.estimate * k,
  low: i.low === null ? null : i.low * k,
  high: i.high === null ? null : i.high * k,
});

/** Compares the treated and the held-out entrants of one flow, campaign or step. */
export function liftReport(treatment: ArmTotals, control: ArmTotals, couponCostMinor = 0): LiftReport {
  const t = figures(treatment);
  const c = figures(control);
  if (treatment.entrants === 0 || control.entrants === 0) {
    return {
      treatment: t,
      control: c,
      conversionLift: null,
      ordersPerEntrantLift: null,
      revenuePerEntrantLiftMinor: null,
      incrementalOrders: null,
      incrementalRevenueMinor: null,
      couponCostMinor,
      netIncrementalRevenueMinor: null,
      verdict: 'no_data',
      moreEntrantsNeeded: null,
    };
  }
  const conversion = proportionDifference(
    treatment.converters,
    treatment.entrants,
    control.converters,
    control.entrants,
  );
  const orders = meanDifference(
    treatment.orders,
    treatment.ordersSquared,
    treatment.entrants,
    control.orders,
    control.ordersSquared,
    control.entrants,
  );
  const revenue = meanDifference(
    treatment.revenueMinor,
    treatment.revenueSquared,
    treatment.entrants,
    control.revenueMinor,
    control.revenueSquared,
    control.entrants,
  );
  const incrementalRevenue = scale(revenue, treatment.entrants);
  const excludesZero =
    conversion.low !== null && conversion.high !== null && (conversion.low > 0 || conversion.high < 0);
  const verdict = excludesZero ? (conversion.estimate > 0 ? 'positive' : 'negative') : 'inconclusive';
  const total = treatment.entrants + control.entrants;
  const needed =
    verdict === 'inconclusive'
      ? entrantsForPower(t.conversionRate!, c.conversionRate!, control.entrants / total)
      : null;
  return {
    treatment: t,
    control: c,
    conversionLift: conversion,
    ordersPerEntrantLift: orders,
    revenuePerEntrantLiftMinor: revenue,
    incrementalOrders: scale(orders, treatment.entrants),
    incrementalRevenueMinor: incrementalRevenue,
    couponCostMinor,
    netIncrementalRevenueMinor: incrementalRevenue.estimate - couponCostMinor,
    verdict,
    moreEntrantsNeeded: needed === null ? null : Math.max(0, needed - total),
  };
}
