import type { Db } from '../store/index.js';
import { mainCurrency, salesAggregates } from './customers.queries.js';
import { quintileScores } from './quintiles.js';
import { type RfmGroup, rfmGroup } from './rfm-groups.js';

/** One customer's RFM: the measures, the three scores and the group with its reason. */
export interface RfmScore {
  customerId: number;
  /** Whole days from the last sale to `asOf`. */
  recencyDays: number;
  /** Number of sales. */
  frequency: number;
  /** Net spend in minor units of the result's currency. */
  monetaryMinor: number;
  r: number;
  f: number;
  m: number;
  group: RfmGroup;
  reason: string;
}

export interface RfmResult {
  asOf: number;
  /** The currency the scores are in: the main currency of the store unless asked otherwise. */
  currency: string | null;
  customers: RfmScore[];
}

/**
 * RFM of every customer with a sale in `currency` (default: the store's main currency) up to `asOf`.
 * Customers who bought only in other currencies are not scored, because spends in different
 * currencies cannot be ranked together. Scores are quintiles of the store's own customers with ties
 * kept together (see `quintileScores`); recency ranks fewer days as better.
 */
export async function computeRfm(db: Db, { asOf, currency }: { asOf: number; currency?: string }): Promise<RfmResult> {
  const chosen = currency ?? (await mainCurrency(db, asOf));
  if (!chosen) return { asOf, currency: null, customers: [] };
  const agg = await salesAggregates(db, { asOf, currency: chosen });
  const n = agg.customerId.length;
  const recency = new Float64Array(n);
  for (let i = 0; i < n; i++) recency[i] = Math.floor((asOf - agg.lastSaleAt[i]!) / 86_400_000);
  const r = quintileScores(recency, false);
  const f = quintileScores(agg.sales, true);
  const m = quintileScores(agg.netMinor, true);
  const customers: RfmScore[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const { group, reason } = rfmGroup(r[i]!, f[i]!, m[i]!);
    customers[i] = {
      customerId: agg.customerId[i]!,
      recencyDays: recency[i]!,
      frequency: agg.sales[i]!,
      monetaryMinor: agg.netMinor[i]!,
      r: r[i]!,
      f: f[i]!,
      m: m[i]!,
      group,
      reason,
    };
  }
  return { asOf, currency: chosen, customers };
}

/** Customers per group, in the order of the group table, with empty groups kept. */
export function countBy<T extends string>(
  values: Iterable<T>,
  order: readonly T[],
): Array<{ value: T; count: number }> {
  const counts = new Map<T, number>(order.map((v) => [v, 0]));
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts].map(([value, count]) => ({ value, count }));
}
