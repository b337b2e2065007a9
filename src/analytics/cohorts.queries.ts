import { type RawBuilder, sql } from 'kysely';
import { ComebackError } from '../errors.js';
import { MS_PER_DAY } from '../shared/dates.js';
import { toMajor } from '../shared/money.js';
import type { Db } from '../store/index.js';
import { weightedQuantile } from './formulas.js';
import { GROUP_RULES, type Grouping, groupAssignment, groupingName } from './groups.queries.js';
import { epochDayToDate, isoWeekLabel, monthLabel, weekOfEpochDay } from './periods.js';
import {
  customerKey,
  int,
  monthIndex,
  net,
  ordersAsOf,
  resolveCurrency,
  salesWhere,
  weekIndex,
} from './sales.queries.js';

export type CohortPeriod = 'month' | 'week';
export type CohortMetric = 'customers' | 'revenue' | 'ltv';
export type CohortBreakdown = 'value' | 'country' | 'discount';

export const COHORT_PERIODS: readonly CohortPeriod[] = ['month', 'week'];
export const COHORT_METRICS: readonly CohortMetric[] = ['customers', 'revenue', 'ltv'];
export const COHORT_BREAKDOWNS: readonly CohortBreakdown[] = ['value', 'country', 'discount'];

export interface CohortOptions {
  period?: CohortPeriod;
  metric?: CohortMetric;
  /** Only sales placed before this instant count; periods after it are not shown. */
  asOf: number;
  /** Split each cohort by its first order's value quartile, country, or discount-code use. */
  breakdown?: CohortBreakdown;
  /** Default the main currency of the store. */
  currency?: string;
  /** Split each cohort by who the customers are as of `asOf` (see `groupAssignment`); not with `breakdown`. */
  by?: Grouping;
}

/** One acquisition cohort (one group of it, with a breakdown). */
export interface CohortRow {
  /** `2011-01` (month) or `2011-W01` (ISO week, Monday first). */
  cohort: string;
  /** First day of the cohort period, `YYYY-MM-DD`. */
  start: string;
  group?: string;
  /** Customers whose first sale falls in the cohort period. */
  size: number;
  /**
   * One value per period since acquisition (index 0 = the acquisition period), up to the period that
   * holds `asOf`: the share of the cohort that bought (customers), revenue per original customer
   * (revenue) or cumulative revenue per original customer (ltv), in major units.
   */
  values: number[];
}

/** The cohort matrix. */
export interface CohortTable {
  period: CohortPeriod;
  metric: CohortMetric;
  breakdown: CohortBreakdown | null;
  /** The grouping of `by` (`country`, `segment:vip` …) and how it assigns customers; null without. */
  by: { name: string; rule: string } | null;
  currency: string | null;
  asOf: number;
  /** With the `value` breakdown: the first-order value quartiles, major units. */
  bands?: Array<{ group: string; min: number; max: number }>;
  /**
   * The period that holds the last day before asOf when the data stops inside it (9 days of December
   * 2011 in Online Retail): the last value of every row falls in it and covers only those days, so it
   * is marked, never read as a drop. Null when asOf is the end of a whole period.
   */
  partial: { cohort: string; start: string; lastDay: string; days: number; ofDays: number } | null;
  /**
   * The cohort of the period the data starts in (`firstSaleDay`, the first sale in this currency): the
   * data cannot tell whether its customers bought before it, so it holds everyone already a customer
   * then, not only the newly acquired (2010-12 in Online Retail). Marked, never compared as a cohort
   * like the others. Null without sales.
   */
  firstCohort: { cohort: string; firstSaleDay: string } | null;
  cohorts: CohortRow[];
}

/** The period that holds an instant (UTC), as the SQL above numbers it. */
function bucketOf(ms: number, period: CohortPeriod): number {
  const d = new Date(ms);
  return period === 'month' ? d.getUTCFullYear() * 12 + d.getUTCMonth() : weekOfEpochDay(Math.floor(ms / MS_PER_DAY));
}

function bucketLabel(bucket: number, period: CohortPeriod): { cohort: string; start: string } {
  if (period === 'month') return { cohort: monthLabel(bucket), start: `${monthLabel(bucket)}-01` };
  return { cohort: isoWeekLabel(bucket), start: epochDayToDate(bucket * 7 - 3) };
}

/**
 * Acquisition cohorts: customers grouped by the month or ISO week of their first sale, with what each
 * cohort did in every period since. Computed in SQL from the sales grouped per customer and period
 * (refunded and cancelled orders excluded, one currency); with a breakdown, each customer's first sale
 * gives the group.
 */
export async function cohortTable(db: Db, options: CohortOptions): Promise<CohortTable> {
  const { period = 'month', metric = 'customers', asOf, breakdown } = options;
  if (!COHORT_PERIODS.includes(period)) throw new ComebackError('bad_input', `period ${period}: use month or week`);
  if (!COHORT_METRICS.includes(metric)) {
    throw new ComebackError('bad_input', `metric ${metric}: use customers, revenue or ltv`);
  }
  if (breakdown !== undefined && !COHORT_BREAKDOWNS.includes(breakdown)) {
    throw new ComebackError('bad_input', `breakdown ${breakdown}: use value, country or discount`);
  }
  if (breakdown !== undefined && options.by !== undefined) {
    throw new ComebackError('bad_input', 'by: give either a breakdown or a grouping, not both');
  }
  const currency = await resolveCurrency(db, options.currency, asOf);
  const table: CohortTable = {
    period,
    metric,
    breakdown: breakdown ?? null,
    by: options.by
      ? { name: groupingName(options.by), rule: `${GROUP_RULES[options.by.kind]} (as of the table's as-of)` }
      : null,
    currency: currency ?? null,
    asOf,
    partial: null,
    firstCohort: null,
    cohorts: [],
  };
  if (currency === undefined) return table;
  table.partial = partialPeriod(asOf, period);
  const { rows: first } = await sql<{ at: number | null }>`
    select min(o.placed_at) as at from ${ordersAsOf(asOf)} o where ${salesWhere('o', { currency, before: asOf })}`.execute(
    db,
  );
  if (first[0]?.at != null) {
    const at = Number(first[0].at);
    table.firstCohort = {
      cohort: bucketLabel(bucketOf(at, period), period).cohort,
      firstSaleDay: epochDayToDate(Math.floor(at / MS_PER_DAY)),
    };
  }
  const bucket = period === 'month' ? monthIndex('o') : weekIndex('o');
  const where = salesWhere('o', { currency, before: asOf });

  // Grouped by position below: PostgreSQL would see a parameterised expression twice as two expressions.
  let group: RawBuilder<string> = sql`''`;
  let groups = sql``;
  if (breakdown !== undefined) {
    // The first sale of each customer (earliest, then lowest id), for the breakdown by its attributes.
    const firsts = sql`
      select customer_id, net as first_net, country, discount_codes
      from (
        select o.customer_id, ${net('o')} as net, o.country, o.discount_codes,
               row_number() over (partition by o.customer_id order by o.placed_at, o.id) as rn
        from ${ordersAsOf(asOf)} o where ${where}
      ) ranked
      where rn = 1`;
    if (breakdown === 'country') {
      group = sql`coalesce(f.country, (select c.country from customers c where c.id = f.customer_id), 'unknown')`;
    } else if (breakdown === 'discount') {
      group = sql`case when f.discount_codes is null or f.discount_codes = '[]' then 'no discount' else 'discount' end`;
    } else {
      const bands = await valueBands(db, firsts, currency);
      table.bands = bands.map((b) => ({ group: b.group, min: b.min, max: b.max }));
      group = sql`case ${sql.join(
        bands.slice(0, -1).map((b) => sql`when f.first_net <= ${int(b.maxMinor)} then ${sql.lit(b.group)}`),
        sql` `,
      )} else ${sql.lit(bands[bands.length - 1]!.group)} end`;
    }
    groups = sql`join (select f.customer_id, ${group} as grp from (${firsts}) f) g on g.customer_id = x.customer_id`;
    group = sql`g.grp`;
  } else if (options.by !== undefined) {
    groups = sql`join (${await groupAssignment(db, options.by, asOf)}) g on g.customer_id = x.customer_id`;
    group = sql`g.grp`;
  }

  // One sort: sales grouped per customer and period; the cohort is each customer's earliest period, and
  // a cohort's size is its number of customers in period 0.
  const cells = await sql<{ cohort: number; grp: string; k: number; customers: number; revenue: number }>`
    with cb as (
      select ${customerKey('o')} as customer_id, ${bucket} as bucket, sum(${net('o')}) as revenue
      from ${ordersAsOf(asOf)} o
      where ${where}
      group by 1, 2
    ),
    x as (select customer_id, bucket, revenue, min(bucket) over (partition by customer_id) as cohort from cb)
    select x.cohort, ${group} as grp, x.bucket - x.cohort as k, count(*) as customers, sum(x.revenue) as revenue
    from x ${groups}
    group by 1, 2, 3`.execute(db);

  const last = bucketOf(asOf - 1, period);
  const rows = new Map<
    string,
    { bucket: number; group: string; size: number; customers: number[]; revenue: number[] }
  >();
  for (const r of cells.rows) {
    if (Number(r.k) !== 0) continue;
    const cohort = Number(r.cohort);
    const length = Math.max(1, last - cohort + 1);
    rows.set(`${cohort}|${r.grp}`, {
      bucket: cohort,
      group: r.grp,
      size: Number(r.customers),
      customers: new Array<number>(length).fill(0),
      revenue: new Array<number>(length).fill(0),
    });
  }
  for (const c of cells.rows) {
    const row = rows.get(`${Number(c.cohort)}|${c.grp}`);
    const k = Number(c.k);
    if (!row || k < 0 || k >= row.customers.length) continue;
    row.customers[k] = Number(c.customers);
    row.revenue[k] = Number(c.revenue);
  }
  const ordered = [...rows.values()].sort((a, b) => a.bucket - b.bucket || a.group.localeCompare(b.group));
  for (const row of ordered) {
    let cumulative = 0;
    const values = row.customers.map((customers, k) => {
      if (metric === 'customers') return customers / row.size;
      const perCustomer = toMajor(row.revenue[k]!, currency) / row.size;
      cumulative += perCustomer;
      return metric === 'revenue' ? perCustomer : cumulative;
    });
    table.cohorts.push({
      ...bucketLabel(row.bucket, period),
      ...(breakdown || options.by ? { group: row.group } : {}),
      size: row.size,
      values,
    });
  }
  return table;
}

/** The period holding the last day before `asOf` when `asOf` falls inside it, with how many days it covers. */
function partialPeriod(asOf: number, period: CohortPeriod): CohortTable['partial'] {
  const bucket = bucketOf(asOf - 1, period);
  const start = Date.parse(`${bucketLabel(bucket, period).start}T00:00:00Z`);
  const end =
    period === 'month'
      ? Date.UTC(new Date(start).getUTCFullYear(), new Date(start).getUTCMonth() + 1, 1)
      : start + 7 * MS_PER_DAY;
  if (asOf >= end) return null;
  return {
    ...bucketLabel(bucket, period),
    lastDay: epochDayToDate(Math.floor((asOf - 1) / MS_PER_DAY)),
    days: Math.ceil((asOf - start) / MS_PER_DAY),
    ofDays: Math.round((end - start) / MS_PER_DAY),
  };
}

/** First-order value quartiles: the upper bound of each band in minor units, labelled Q1 … Q4. */
async function valueBands(db: Db, firsts: RawBuilder<unknown>, currency: string) {
  const { rows } = await sql<{ v: number; n: number }>`
    select f.first_net as v, count(*) as n from (${firsts}) f group by f.first_net order by f.first_net`.execute(db);
  const values = rows.map((r) => Number(r.v));
  const counts = rows.map((r) => Number(r.n));
  const min = values[0] ?? 0;
  const max = values[values.length - 1] ?? 0;
  const cuts = [0.25, 0.5, 0.75].map((q) => Math.floor(weightedQuantile(values, counts, q) ?? 0));
  const bounds = [...cuts, max];
  return bounds.map((upper, i) => ({
    group: `Q${i + 1}`,
    maxMinor: upper,
    min: toMajor(i === 0 ? min : bounds[i - 1]!, currency),
    max: toMajor(upper, currency),
  }));
}
