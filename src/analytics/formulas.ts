/**
 * The retention formulas of the literature as pure functions of counts and sums. Every rate is a
 * fraction between 0 and 1 (the faces multiply by 100 for display); a rate whose denominator is zero
 * is null, never NaN or Infinity, so that JSON stays valid and "no data" reads as "no data".
 */

/** `a / b`, or null when `b` is zero. */
export function ratio(numerator: number, denominator: number): number | null {
  return denominator === 0 ? null : numerator / denominator;
}

/**
 * Customer retention rate = customers active at both the start and the end of the period / customers
 * active at the start (S = 2,000 of whom 1,800 are still active gives 0.9). Never above 1. The
 * textbook (E − N) / S also counts as retained the customers who were not active at the start and
 * came back during the period (reactivated), and exceeds 100 % when they outnumber the lost; they are
 * reported on their own instead.
 */
export function customerRetentionRate(start: number, retained: number): number | null {
  return ratio(retained, start);
}

/** Churn rate = customers lost during the period / customers at the start (500 and 50 give 0.1). */
export function churnRate(start: number, lost: number): number | null {
  return ratio(lost, start);
}

/** Repeat-purchase rate: customers with two or more orders / customers with at least one. */
export function repeatPurchaseRate(repeaters: number, buyers: number): number | null {
  return ratio(repeaters, buyers);
}

/** Returning-customer rate: buyers of the period who had bought before it / all buyers of the period. */
export function returningCustomerRate(returning: number, buyers: number): number | null {
  return ratio(returning, buyers);
}

/** Average order value: net revenue / orders. */
export function averageOrderValue(revenue: number, orders: number): number | null {
  return ratio(revenue, orders);
}

/** Purchase frequency: orders / distinct customers who placed them. */
export function purchaseFrequency(orders: number, customers: number): number | null {
  return ratio(orders, customers);
}

/** Customer value = average order value × purchase frequency (revenue per buying customer in the period). */
export function customerValue(aov: number | null, frequency: number | null): number | null {
  return aov === null || frequency === null ? null : aov * frequency;
}

/**
 * Average customer lifespan in periods = 1 / churn rate: with a constant share of customers lost each
 * period, the expected number of periods a customer stays is its reciprocal (10 % churn → 10 periods).
 * Null when nobody churned (the lifespan is unbounded on this data) or there is no churn figure.
 */
export function averageLifespanPeriods(churn: number | null): number | null {
  return churn === null || churn === 0 ? null : 1 / churn;
}

/** The simple CLV = customer value per period × average lifespan in periods. */
export function simpleClv(value: number | null, lifespanPeriods: number | null): number | null {
  return value === null || lifespanPeriods === null ? null : value * lifespanPeriods;
}

/**
 * Revenue churn: the share of the previous period's revenue that came from customers who did not buy
 * again in this period.
 */
export function revenueChurn(previousRevenueOfLapsed: number, previousRevenue: number): number | null {
  return ratio(previousRevenueOfLapsed, previousRevenue);
}

/**
 * Net revenue retention: this period's revenue from the previous period's buyers / what those buyers
 * spent in the previous period (above 1 when the retained customers spend more than before).
 */
export function netRevenueRetention(revenueFromPreviousBuyers: number, previousRevenue: number): number | null {
  return ratio(revenueFromPreviousBuyers, previousRevenue);
}

/** The change of a metric against the previous period: absolute difference (null when either is missing). */
export function change(current: number | null, previous: number | null): number | null {
  return current === null || previous === null ? null : current - previous;
}

/**
 * The q-quantile (0 ≤ q ≤ 1) of a distribution given as sorted distinct values with counts, by linear
 * interpolation between order statistics (type 7 of Hyndman & Fan 1996, the default of R and NumPy).
 */
export function weightedQuantile(values: ArrayLike<number>, counts: ArrayLike<number>, q: number): number | null {
  let n = 0;
  for (let i = 0; i < counts.length; i++) n += counts[i]!;
  if (n === 0) return null;
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const at = (rank: number): number => {
    let seen = 0;
    for (let i = 0; i < values.length; i++) {
      seen += counts[i]!;
      if (rank < seen) return values[i]!;
    }
    return values[values.length - 1]!;
  };
  const low = at(lo);
  return lo + 1 < n ? low + (h - lo) * (at(lo + 1) - low) : low;
}
