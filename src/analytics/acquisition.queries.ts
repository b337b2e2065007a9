import { sql } from 'kysely';
import { MS_PER_DAY } from '../shared/dates.js';
import { toMajor } from '../shared/money.js';
import type { Db } from '../store/index.js';
import { ratio, weightedQuantile } from './formulas.js';
import { monthLabel } from './periods.js';
import {
  customerKey,
  int,
  isSale,
  localDay,
  monthIndex,
  net,
  ordersAsOf,
  resolveCurrency,
  salesWhere,
} from './sales.queries.js';
import { lastDayBefore } from './summary.queries.js';

export interface AcquisitionOptions {
  /** Only sales placed before this instant count. */
  asOf: number;
  /** Limit to sales (new vs returning) or first purchases (time to second order) in `[from, to)`. */
  from?: number;
  to?: number;
  /** Default the main currency of the store. */
  currency?: string;
}

/** One month's buyers split by whether the month holds their first sale. */
export interface NewVsReturningMonth {
  month: string;
  newCustomers: number;
  returningCustomers: number;
  newOrders: number;
  returningOrders: number;
  /** Net revenue, major units. */
  newRevenue: number;
  returningRevenue: number;
  /** True when the data stops inside the month (it ends after asOf or the range's end): part of a month. */
  partial: boolean;
  /**
   * True for the month the data starts in: its buyers' earlier purchases cannot be seen, so every one
   * of them counts as new (Online Retail's 2010-12: 883 new, 0 returning). Marked, not a finding.
   */
  dataStarts: boolean;
}

/** New and returning customers, orders and revenue per calendar month (of the local order date). */
export async function newVsReturning(
  db: Db,
  options: AcquisitionOptions,
): Promise<{ currency: string | null; months: NewVsReturningMonth[] }> {
  const currency = await resolveCurrency(db, options.currency, options.asOf);
  if (currency === undefined) return { currency: null, months: [] };
  const from = int(options.from ?? 0, 'from');
  const to = Math.min(options.to ?? options.asOf, options.asOf);
  const inRange = sql`+o.placed_at >= ${from}`;
  // Grouped per customer and month first (one sort), then each month's rows split by the first month.
  const { rows } = await sql<{
    month: number;
    new_customers: number;
    returning_customers: number;
    new_orders: number;
    returning_orders: number;
    new_revenue: number;
    returning_revenue: number;
    data_first: number;
  }>`
    with cm as (
      select ${customerKey('o')} as customer_id, ${monthIndex('o')} as month,
             sum(case when ${inRange} then 1 else 0 end) as orders,
             sum(case when ${inRange} then ${net('o')} else 0 end) as revenue
      from ${ordersAsOf(options.asOf)} o
      where ${salesWhere('o', { currency, before: to })}
      group by 1, 2
    ),
    x as (select month, orders, revenue, min(month) over (partition by customer_id) as first_month,
                 min(month) over () as data_first from cm)
    select month, min(data_first) as data_first,
      sum(case when month = first_month then 1 else 0 end) as new_customers,
      sum(case when month > first_month then 1 else 0 end) as returning_customers,
      sum(case when month = first_month then orders else 0 end) as new_orders,
      sum(case when month > first_month then orders else 0 end) as returning_orders,
      sum(case when month = first_month then revenue else 0 end) as new_revenue,
      sum(case when month > first_month then revenue else 0 end) as returning_revenue
    from x
    where orders > 0
    group by month
    order by month`.execute(db);
  return {
    currency,
    months: rows.map((r) => ({
      month: monthLabel(Number(r.month)),
      newCustomers: Number(r.new_customers),
      returningCustomers: Number(r.returning_customers),
      newOrders: Number(r.new_orders),
      returningOrders: Number(r.returning_orders),
      newRevenue: toMajor(Number(r.new_revenue), currency),
      returningRevenue: toMajor(Number(r.returning_revenue), currency),
      partial: monthEndOf(Number(r.month)) > to,
      dataStarts: Number(r.month) === Number(r.data_first),
    })),
  };
}

/** The exclusive end (next month's UTC midnight) of a month numbered `year × 12 + month − 1`. */
function monthEndOf(month: number): number {
  return Date.UTC(Math.floor(month / 12), (month % 12) + 1, 1);
}

/** Days after which the share of customers with a second purchase is reported. */
export const SECOND_ORDER_HORIZONS = [30, 60, 90, 180, 365] as const;

/** How long customers take to come back for a second purchase day. */
export interface TimeToSecondOrder {
  currency: string | null;
  /** Customers whose first purchase is in the range. */
  customers: number;
  /** Of them, those with a second purchase day before asOf. */
  withSecondOrder: number;
  /** Days from first to second purchase day among those who came back (quantiles by linear interpolation). */
  median: number | null;
  q1: number | null;
  q3: number | null;
  mean: number | null;
  /**
   * Per horizon d: among customers whose first purchase is at least d days before asOf (so that every
   * one of them could have come back within d days), the share who did.
   */
  within: Array<{ days: number; eligible: number; returned: number; share: number | null }>;
}

/**
 * The distribution of the time from the first to the second purchase day (a second order on the first
 * day is the same purchase occasion). The shares are right-censoring safe: a customer acquired 10 days
 * before asOf counts for no horizon beyond 10 days.
 */
export async function timeToSecondOrder(db: Db, options: AcquisitionOptions): Promise<TimeToSecondOrder> {
  const [only] = await timesToSecondOrder(db, { ...options, ranges: [{ from: options.from, to: options.to }] });
  return only!;
}

/**
 * `timeToSecondOrder` for several ranges of acquisition dates at once (the report's period and the one
 * before it), from one query.
 */
export async function timesToSecondOrder(
  db: Db,
  options: { asOf: number; currency?: string; ranges: ReadonlyArray<{ from?: number; to?: number }> },
): Promise<TimeToSecondOrder[]> {
  const currency = await resolveCurrency(db, options.currency, options.asOf);
  const lastDay = lastDayBefore(options.asOf);
  const ranges = options.ranges.map((r) => ({
    fromDay: r.from === undefined ? 0 : Math.ceil(r.from / MS_PER_DAY),
    toDay: r.to === undefined ? lastDay + 1 : lastDayBefore(r.to) + 1,
  }));
  const rows =
    currency === undefined || ranges.length === 0
      ? []
      : (
          await sql<{ range: number; first_day: number; gap: number | null; n: number }>`
    with days as (
      select ${customerKey('o')} as customer_id, ${localDay('o')} as day
      from ${ordersAsOf(options.asOf)} o
      where o.customer_id is not null and ${isSale('o')} and o.currency = ${currency}
        and ${localDay('o')} <= ${int(lastDay, 'asOf')}
      group by 1, 2
    ),
    -- Numbered rather than joined to themselves: one sort, and no nested loop where PostgreSQL has no
    -- statistics yet on a freshly imported table.
    ranked as (select customer_id, day, row_number() over (partition by customer_id order by day) as rn from days),
    firsts as (
      select first_day, second_day,
        case ${sql.join(
          ranges.map(
            (r, i) =>
              sql`when first_day >= ${int(r.fromDay, 'from')} and first_day < ${int(r.toDay, 'to')} then ${sql.lit(i)}`,
          ),
          sql` `,
        )} end as range
      from (
        select customer_id, min(day) as first_day, max(case when rn = 2 then day end) as second_day
        from ranked where rn <= 2 group by customer_id
      ) f
    )
    select range, first_day, second_day - first_day as gap, count(*) as n
    from firsts
    where range is not null
    group by 1, 2, 3`.execute(db)
        ).rows;
  return ranges.map((_, i) =>
    summariseSecondOrders(
      rows.filter((r) => Number(r.range) === i),
      lastDay,
      currency ?? null,
    ),
  );
}

/** The distribution of (first day, gap, customers) rows: quantiles of the gaps and the censoring-safe shares. */
function summariseSecondOrders(
  rows: ReadonlyArray<{ first_day: number; gap: number | null; n: number }>,
  lastDay: number,
  currency: string | null,
): TimeToSecondOrder {
  let customers = 0;
  const gaps = new Map<number, number>();
  const within: TimeToSecondOrder['within'] = SECOND_ORDER_HORIZONS.map((days) => ({
    days,
    eligible: 0,
    returned: 0,
    share: null,
  }));
  for (const r of rows) {
    const n = Number(r.n);
    const firstDay = Number(r.first_day);
    const gap = r.gap === null ? null : Number(r.gap);
    customers += n;
    if (gap !== null) gaps.set(gap, (gaps.get(gap) ?? 0) + n);
    for (const h of within) {
      if (firstDay + h.days > lastDay) continue;
      h.eligible += n;
      if (gap !== null && gap <= h.days) h.returned += n;
    }
  }
  for (const h of within) h.share = ratio(h.returned, h.eligible);
  const values = [...gaps.keys()].sort((a, b) => a - b);
  const counts = values.map((v) => gaps.get(v)!);
  const withSecond = counts.reduce((a, b) => a + b, 0);
  const total = values.reduce((sum, v, i) => sum + v * counts[i]!, 0);
  return {
    currency,
    customers,
    withSecondOrder: withSecond,
    median: weightedQuantile(values, counts, 0.5),
    q1: weightedQuantile(values, counts, 0.25),
    q3: weightedQuantile(values, counts, 0.75),
    mean: ratio(total, withSecond),
    within,
  };
}
