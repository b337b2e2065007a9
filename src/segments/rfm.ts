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
 * RFM of every customer as compact columns, one element per customer, ordered by customer id: what
 * `computeRfm` returns as objects, without an object per customer (a whole-store export streams from
 * these). `r`, `f`, `m` are the scores 1–5.
 */
export interface RfmColumns {
  asOf: number;
  currency: string | null;
  customerId: number[];
  /** Whole days from the last sale to `asOf`. */
  recencyDays: Float64Array;
  frequency: Float64Array;
  /** Net spend in minor units of `currency`. */
  monetaryMinor: Float64Array;
  r: Uint8Array;
  f: Uint8Array;
  m: Uint8Array;
}

/**
 * RFM of every customer with a sale in `currency` (default: the store's main currency) up to `asOf`,
 * as columns (see `computeRfm` for the rules). Memory: about 60 bytes a customer.
 */
export async function rfmColumns(db: Db, { asOf, currency }: { asOf: number; currency?: string }): Promise<RfmColumns> {
  const chosen = currency ?? (await mainCurrency(db, asOf));
  if (!chosen) {
    const none = new Float64Array(0);
    const scores = new Uint8Array(0);
    return {
      asOf,
      currency: null,
      customerId: [],
      recencyDays: none,
      frequency: none,
      monetaryMinor: none,
      r: scores,
      f: scores,
      m: scores,
    };
  }
  const agg = await salesAggregates(db, { asOf, currency: chosen });
  const n = agg.customerId.length;
  const recency = new Float64Array(n);
  for (let i = 0; i < n; i++) recency[i] = Math.floor((asOf - agg.lastSaleAt[i]!) / 86_400_000);
  return {
    asOf,
    currency: chosen,
    customerId: agg.customerId,
    recencyDays: recency,
    frequency: agg.sales,
    monetaryMinor: agg.netMinor,
    r: quintileScores(recency, false),
    f: quintileScores(agg.sales, true),
    m: quintileScores(agg.netMinor, true),
  };
}

/** The `i`th customer of `columns` as one `RfmScore`, with its group and the group's reason. */
export function rfmScoreAt(columns: RfmColumns, i: number): RfmScore {
  const r = columns.r[i]!;
  const f = columns.f[i]!;
  const m = columns.m[i]!;
  const { group, reason } = rfmGroup(r, f, m);
  return {
    customerId: columns.customerId[i]!,
    recencyDays: columns.recencyDays[i]!,
    frequency: columns.frequency[i]!,
    monetaryMinor: columns.monetaryMinor[i]!,
    r,
    f,
    m,
    group,
    reason,
  };
}

/**
 * RFM of every customer with a sale in `currency` (default: the store's main currency) up to `asOf`.
 * Customers who bought only in other currencies are not scored, because spends in different
 * currencies cannot be ranked together. Scores are quintiles of the store's own customers with ties
 * kept together (see `quintileScores`); recency ranks fewer days as better. One object per customer:
 * a whole-store export reads `rfmColumns` instead.
 */
export async function computeRfm(db: Db, { asOf, currency }: { asOf: number; currency?: string }): Promise<RfmResult> {
  const columns = await rfmColumns(db, { asOf, currency });
  const customers: RfmScore[] = new Array(columns.customerId.length);
  for (let i = 0; i < customers.length; i++) customers[i] = rfmScoreAt(columns, i);
  return { asOf, currency: columns.currency, customers };
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
