import { type RawBuilder, sql } from 'kysely';
import { ComebackError } from '../errors.js';
import { interOrderDays } from '../segments/customers.queries.js';
import { gapThresholds, stageRank, stageSilenceLimits } from '../segments/lifecycle.js';
import { dayInZone, isValidTimeZone, MS_PER_DAY, wallTimeInZone } from '../shared/dates.js';
import { toMajor } from '../shared/money.js';
import type { Db } from '../store/index.js';
import {
  type NewVsReturningMonth,
  newVsReturning,
  type TimeToSecondOrder,
  timesToSecondOrder,
} from './acquisition.queries.js';
import { type Engagement, engagement } from './engagement.queries.js';
import {
  averageLifespanPeriods,
  averageOrderValue,
  change,
  churnRate,
  customerRetentionRate,
  customerValue,
  netRevenueRetention,
  purchaseFrequency,
  repeatPurchaseRate,
  returningCustomerRate,
  revenueChurn,
  simpleClv,
  weightedQuantile,
} from './formulas.js';
import { GROUP_RULES, type Grouping, groupAssignment, groupingName } from './groups.queries.js';
import { defaultPeriod, type Period, previousPeriod } from './periods.js';
import {
  customerKey,
  int,
  latestSaleEnd,
  localDay,
  net,
  ordersAsOf,
  saleCurrencies,
  salesWhere,
} from './sales.queries.js';

/** The active window when the store has too few repeat purchases to derive one from (see `activeWindowOf`). */
export const DEFAULT_ACTIVE_WINDOW_DAYS = 365;

export interface RetentionOptions {
  /** Start of the period (inclusive); default: the last full calendar month before `asOf`. */
  from?: number;
  /** End of the period (exclusive). */
  to?: number;
  /** Only sales placed before this instant exist for the report. */
  asOf: number;
  /**
   * "A customer at time t" has a sale in the `activeWindowDays` before t; default derived from the
   * store's own repeat-purchase gaps (`activeWindowOf`).
   */
  activeWindowDays?: number;
  /** One currency only; default every currency, the main one at the top level. */
  currency?: string;
  /** Also give every figure per group of customers (main currency), side by side: see `groupAssignment`. */
  by?: Grouping;
  /**
   * The store's IANA zone: the default period is the last full month of its local dates (a Seoul
   * store's order at 2024-03-01 08:00+09:00 is in March). Default UTC.
   */
  timeZone?: string;
}

/** One group's figures of the period and of the previous one. */
export interface GroupFigures extends PeriodFigures {
  group: string;
  /**
   * Lifecycle stages only: the stage's customers were silent so briefly at the period's start that none
   * could leave the active window before its end (the stage's silence limit + the period's days ≤ the
   * window), so its churn of 0 is by construction, not a finding. False for every other grouping.
   */
  cannotLeave: boolean;
  previous: PeriodFigures;
}

/** The figures per group: each customer in the group they were in at the end of each period. */
export interface GroupedFigures {
  /** `country`, `payment`, `segment:vip` … */
  by: string;
  /** How a customer's group is decided, in words. */
  rule: string;
  currency: string;
  /** Largest first (customers at the end, then buyers), then by name. */
  groups: GroupFigures[];
}

/** The retention figures of one period in one currency. Rates are fractions, money is in major units. */
export interface PeriodFigures {
  /** The period `[from, to)` in epoch ms: `to` is exclusive, the instant after `lastDay`. */
  from: number;
  to: number;
  /** The last day the period includes, `YYYY-MM-DD` (UTC). */
  lastDay: string;
  /**
   * S: customers active at the start (a sale in the active window before `from`); null when the period
   * starts before the store's first sale (`period_before_history`), as are N and the returning figures.
   */
  customersStart: number | null;
  /** E: customers active at the end; null for a period wholly before the sales (`period_outside_history`), as are the buyers, orders and revenue. */
  customersEnd: number | null;
  /** N: customers whose first sale falls in the period. */
  newCustomers: number | null;
  /** Customers active at the start and no longer active at the end; null when the history cannot tell. */
  customersLost: number | null;
  /** Customers active at the start and still active at the end (S − lost). */
  retainedCustomers: number | null;
  /**
   * Customers active at the end, not at the start, whose first sale was before the period: they came
   * back. The textbook (E − N) / S counts them as retained, which is how it can exceed 100 %.
   */
  reactivatedCustomers: number | null;
  /** Customer retention rate: retained / S (never above 1); null when S is 0 or the history too short. */
  crr: number | null;
  churnRate: number | null;
  /** Customers with ≥ 2 sales before the end of the period / customers with ≥ 1. */
  repeatPurchaseRate: number | null;
  /** Customers who bought in the period. */
  buyers: number | null;
  /** Buyers of the period whose first sale was before it. */
  returningCustomers: number | null;
  returningCustomerRate: number | null;
  orders: number | null;
  revenue: number | null;
  aov: number | null;
  purchaseFrequency: number | null;
  /** AOV × purchase frequency: revenue per buying customer in the period. */
  customerValue: number | null;
  /** Period length / churn rate, in days. */
  averageLifespanDays: number | null;
  /** Customer value × lifespan in periods. */
  clv: number | null;
  revenueChurn: number | null;
  netRevenueRetention: number | null;
  /** Sales without a customer (guest checkouts): in no customer figure, shown apart. */
  guestOrders: number | null;
  guestRevenue: number | null;
  /** True when the period ends after `asOf` (the data stops inside it): its figures cover part of it. */
  partial: boolean;
  /** Why some figures are null: e.g. `history_shorter_than_window`, with a sentence for people. */
  unsupported: FigureIssue[];
}

/** A figure the data cannot support: a stable code, the figures it nulls, and a sentence. */
export interface FigureIssue {
  /**
   * `history_shorter_than_window`: the sales start less than an active window before the period, so
   * nobody could be seen leaving; `period_before_history`: the period starts on the first sale's day or
   * before it, so nobody could be seen as a customer at its start or returning in it;
   * `period_outside_history`: the period ends before the first sale's day, so the data holds nothing of it.
   */
  code: 'history_shorter_than_window' | 'period_before_history' | 'period_outside_history';
  figures: string[];
  /** The first day of the store's sales and the day a whole window before the period starts. */
  historyStart: string;
  needed: string;
  message: string;
}

/** The numeric metrics that get a previous-period value and a change. */
export const COMPARED_METRICS = [
  'customersStart',
  'customersEnd',
  'newCustomers',
  'customersLost',
  'retainedCustomers',
  'reactivatedCustomers',
  'crr',
  'churnRate',
  'repeatPurchaseRate',
  'buyers',
  'returningCustomers',
  'returningCustomerRate',
  'orders',
  'revenue',
  'aov',
  'purchaseFrequency',
  'customerValue',
  'averageLifespanDays',
  'clv',
  'revenueChurn',
  'netRevenueRetention',
  'guestOrders',
  'guestRevenue',
] as const satisfies ReadonlyArray<keyof PeriodFigures>;

export type ComparedMetric = (typeof COMPARED_METRICS)[number];

/** One currency's figures with the previous period beside them and the change (current − previous). */
export interface CurrencyReport extends PeriodFigures {
  currency: string;
  previous: PeriodFigures;
  change: Record<ComparedMetric, number | null>;
  /** New and returning customers and revenue per month of the period. */
  newVsReturning: NewVsReturningMonth[];
  /**
   * Time to the second purchase of the customers acquired in the period, and in the previous one; null
   * for a period that starts on the first sale's day or before it (`period_before_history`,
   * `period_outside_history`): who was acquired in it cannot be seen, as N cannot.
   */
  timeToSecondOrder: { current: TimeToSecondOrder | null; previous: TimeToSecondOrder | null };
}

/**
 * The retention report. The top level holds the figures of one currency (`currency`: the one asked
 * for, else the main currency of the store, the one with most sales); `byCurrency` holds every
 * currency's figures, since amounts in different currencies are never added together.
 */
export interface RetentionReport extends Omit<CurrencyReport, 'currency'> {
  /** The currency of the top-level figures; null when the store has no sales. */
  currency: string | null;
  asOf: number;
  activeWindowDays: number;
  /** How the active window was chosen: given, derived from the store's repeat gaps, or the fallback. */
  activeWindow: ActiveWindow;
  /** What "a customer at time t" means here, in words, for the output. */
  definition: string;
  /** Whether the period was chosen by default (the last full month before asOf). */
  defaultPeriod: boolean;
  byCurrency: CurrencyReport[];
  /** E-mail and visit engagement of the period and the previous one, from events; null when the store sent none (Comeback's own events aside). */
  engagement: { current: Engagement | null; previous: Engagement | null } | null;
  /** The figures per group when `by` was asked for; null otherwise. */
  byGroup: GroupedFigures | null;
  /**
   * Currencies left out of `byCurrency` because nobody was active and nothing sold in them in either
   * period, with the day of their last sale before the as-of (YYYY-MM-DD): another shop's history in the
   * same database, reported with `currency` and that day as the as-of. Empty when a currency was asked for.
   */
  leftOutCurrencies: Array<{ currency: string; lastSaleDay: string }>;
  notes: string[];
}

interface Counts {
  s: number;
  e: number;
  n: number;
  lost: number;
  reactivated: number;
  repeaters: number;
  ever: number;
  buyers: number;
  returners: number;
  orders: number;
  revenue: number;
  prevRevenue: number;
  lapsedPrevRevenue: number;
  retainedRevenue: number;
  guestOrders: number;
  guestRevenue: number;
}

/**
 * Counts what the figures of consecutive periods need (each period's `to` is the next one's `from`) in
 * one scan of one currency's sales grouped per customer; the first period only lends its revenue to
 * the second's revenue churn. Guests fall into the NULL group, which the outer query keeps apart.
 */
async function chainCounts(
  db: Db,
  periods: readonly Period[],
  windowMs: number,
  asOf: number,
  currency: string,
): Promise<Counts[]> {
  return (
    (await chainCountsBy(db, periods, windowMs, asOf, currency)).get('') ?? periods.slice(1).map(() => zeroCounts())
  );
}

function zeroCounts(): Counts {
  return {
    s: 0,
    e: 0,
    n: 0,
    lost: 0,
    reactivated: 0,
    repeaters: 0,
    ever: 0,
    buyers: 0,
    returners: 0,
    orders: 0,
    revenue: 0,
    prevRevenue: 0,
    lapsedPrevRevenue: 0,
    retainedRevenue: 0,
    guestOrders: 0,
    guestRevenue: 0,
  };
}

/**
 * `chainCounts` per group of customers: `groups` is a `(customer_id, grp)` subquery (see
 * `groupAssignment`); the map's keys are the groups ('' without `groups`). Guest sales belong to no
 * group: with groups they are left out.
 */
async function chainCountsBy(
  db: Db,
  periods: readonly Period[],
  windowMs: number,
  asOf: number,
  currency: string,
  groups?: RawBuilder<unknown>,
): Promise<Map<string, Counts[]>> {
  const window = int(windowMs, 'activeWindowDays');
  const at = sql.ref('o.placed_at');
  const inside = (p: Period) => sql`${at} >= ${int(p.from, 'from')} and ${at} < ${int(p.to, 'to')}`;
  const activeAt = (t: number) => sql`${at} >= ${int(t, 'from')} - ${window} and ${at} < ${int(t, 'to')}`;
  const perCustomer = periods.flatMap((p, i) => [
    sql`sum(case when ${inside(p)} then 1 else 0 end) as ${sql.ref(`o${i}`)}`,
    sql`sum(case when ${inside(p)} then ${net('o')} else 0 end) as ${sql.ref(`r${i}`)}`,
    sql`sum(case when ${at} < ${int(p.to, 'to')} then 1 else 0 end) as ${sql.ref(`b${i}`)}`,
    sql`max(case when ${activeAt(p.from)} then 1 else 0 end) as ${sql.ref(`s${i}`)}`,
    sql`max(case when ${activeAt(p.to)} then 1 else 0 end) as ${sql.ref(`e${i}`)}`,
  ]);
  const total = (expression: RawBuilder<unknown>, name: string) =>
    sql`coalesce(sum(${expression}), 0) as ${sql.ref(name)}`;
  const col = (name: string) => sql.ref(name);
  const outer = periods.slice(1).flatMap((p, j) => {
    const i = j + 1;
    const [o, r, b, s, e] = ['o', 'r', 'b', 's', 'e'].map((c) => col(`${c}${i}`));
    const [oPrev, rPrev] = [col(`o${i - 1}`), col(`r${i - 1}`)];
    const from = int(p.from, 'from');
    const to = int(p.to, 'to');
    return [
      total(s!, `s_${i}`),
      total(e!, `e_${i}`),
      total(sql`case when first_at >= ${from} and first_at < ${to} then 1 else 0 end`, `n_${i}`),
      total(sql`case when ${s} = 1 and ${e} = 0 then 1 else 0 end`, `lost_${i}`),
      total(sql`case when ${s} = 0 and ${e} = 1 and first_at < ${from} then 1 else 0 end`, `reactivated_${i}`),
      total(sql`case when ${b} >= 2 then 1 else 0 end`, `repeaters_${i}`),
      total(sql`case when ${b} >= 1 then 1 else 0 end`, `ever_${i}`),
      total(sql`case when ${o} > 0 then 1 else 0 end`, `buyers_${i}`),
      total(sql`case when ${o} > 0 and first_at < ${from} then 1 else 0 end`, `returners_${i}`),
      total(o!, `orders_${i}`),
      total(r!, `revenue_${i}`),
      total(rPrev, `prev_revenue_${i}`),
      total(sql`case when ${oPrev} > 0 and ${o} = 0 then ${rPrev} else 0 end`, `lapsed_${i}`),
      total(sql`case when ${oPrev} > 0 then ${r} else 0 end`, `retained_${i}`),
    ];
  });
  const { rows } = await sql<Record<string, number | string | null>>`
    with per as (
      select ${customerKey('o')} as customer_id, min(o.placed_at) as first_at, ${sql.join(perCustomer)}
      from ${ordersAsOf(asOf)} o
      where ${salesWhere('o', { currency, before: asOf, guests: true })}
      group by 1
    )
    select case when per.customer_id is null then 1 else 0 end as guest, ${groups ? sql`g.grp` : sql`''`} as grp,
      ${sql.join(outer)}
    from per ${groups ? sql`join (${groups}) g on g.customer_id = per.customer_id` : sql``}
    group by 1, 2`.execute(db);
  const guests = rows.find((r) => Number(r.guest) === 1);
  const result = new Map<string, Counts[]>();
  for (const customers of rows.filter((r) => Number(r.guest) === 0)) {
    result.set(String(customers.grp ?? ''), countsOf(customers, groups ? undefined : guests));
  }
  if (!groups && !result.has('')) result.set('', countsOf(undefined, guests));
  return result;

  function countsOf(
    customers: Record<string, number | string | null> | undefined,
    guests: Record<string, number | string | null> | undefined,
  ): Counts[] {
    return periods.slice(1).map((_, j) => {
      const i = j + 1;
      const get = (name: string) => Number(customers?.[`${name}_${i}`] ?? 0);
      return {
        s: get('s'),
        e: get('e'),
        n: get('n'),
        lost: get('lost'),
        reactivated: get('reactivated'),
        repeaters: get('repeaters'),
        ever: get('ever'),
        buyers: get('buyers'),
        returners: get('returners'),
        orders: get('orders'),
        revenue: get('revenue'),
        prevRevenue: get('prev_revenue'),
        lapsedPrevRevenue: get('lapsed'),
        retainedRevenue: get('retained'),
        guestOrders: Number(guests?.[`orders_${i}`] ?? 0),
        guestRevenue: Number(guests?.[`revenue_${i}`] ?? 0),
      };
    });
  }
}

/** What decides whether a period's figures can be read: the window, the first sale's day and asOf. */
interface Coverage {
  windowMs: number;
  /** UTC midnight of the day of the first sale in this currency; undefined without sales. */
  historyStart: number | undefined;
  asOf: number;
}

/**
 * The figures of a period from its counts. When the store's history does not reach back a whole
 * active window before the period's start (`historyStart > from − window`), nobody whose last sale
 * lies before the data could be seen as lost: S is short and lost is 0 by construction, so the
 * retention, churn, lifespan and CLV figures are null with the code `history_shorter_than_window`.
 */
function figuresOf(period: Period, c: Counts, currency: string, coverage: Coverage): PeriodFigures {
  const major = (minor: number) => toMajor(minor, currency);
  const needed = period.from - coverage.windowMs;
  const short = coverage.historyStart !== undefined && coverage.historyStart > needed;
  const churn = short ? null : churnRate(c.s, c.lost);
  const aov = averageOrderValue(major(c.revenue), c.orders);
  const frequency = purchaseFrequency(c.orders, c.buyers);
  const value = customerValue(aov, frequency);
  const lifespan = averageLifespanPeriods(churn);
  const periodDays = (period.to - period.from) / MS_PER_DAY;
  const unsupported: FigureIssue[] = [];
  if (short) {
    const windowDays = Math.round(coverage.windowMs / MS_PER_DAY);
    unsupported.push({
      code: 'history_shorter_than_window',
      figures: ['customersLost', 'retainedCustomers', 'crr', 'churnRate', 'averageLifespanDays', 'clv'],
      historyStart: isoDay(coverage.historyStart!, period.timeZone),
      needed: isoDay(needed, period.timeZone),
      message:
        `the sales start on ${isoDay(coverage.historyStart!, period.timeZone)}, but a ${windowDays}-day active window before ` +
        `${isoDay(period.from, period.timeZone)} needs them from ${isoDay(needed, period.timeZone)}: nobody could be seen leaving, so retention ` +
        'and churn are not shown (use a shorter --active-window or a later period)',
    });
  }
  // From the first sale's day or before it, nothing earlier can be seen: everyone who buys looks new, so S,
  // N and the returning figures are 0 or all by construction.
  const before = coverage.historyStart !== undefined && coverage.historyStart >= period.from;
  if (before) {
    unsupported.push({
      code: 'period_before_history',
      figures: [
        'customersStart',
        'newCustomers',
        'reactivatedCustomers',
        'returningCustomers',
        'returningCustomerRate',
      ],
      historyStart: isoDay(coverage.historyStart!, period.timeZone),
      needed: isoDay(period.from, period.timeZone),
      message:
        `the period starts on ${isoDay(period.from, period.timeZone)} and the sales on ${isoDay(coverage.historyStart!, period.timeZone)}: ` +
        'no purchase before the period can be seen, so customers at the start, new, reactivated and returning customers are not shown',
    });
  }
  // Ending on or before the first sale's day, the period lies wholly before the data: it holds no sale
  // because nothing was recorded, not because nothing was sold, so its counts and revenue are unknown
  // rather than 0 (a previous period of zeros would make every change look like growth).
  const outside = coverage.historyStart !== undefined && period.to <= coverage.historyStart;
  if (outside) {
    // It says all the rest: one issue naming every figure not shown.
    const others = unsupported.splice(0).flatMap((u) => u.figures);
    unsupported.push({
      code: 'period_outside_history',
      figures: [...new Set([...others, 'customersEnd', 'buyers', 'orders', 'revenue', 'guestOrders', 'guestRevenue'])],
      historyStart: isoDay(coverage.historyStart!, period.timeZone),
      needed: isoDay(period.from, period.timeZone),
      message:
        `the period ends on ${isoDay(period.to - 1, period.timeZone)}, before the sales start on ${isoDay(coverage.historyStart!, period.timeZone)}: ` +
        'the data holds nothing of it, so none of its figures is shown (its customers, orders and revenue are unknown, not 0)',
    });
  }
  const known = (value: number) => (outside ? null : value);
  return {
    from: period.from,
    to: period.to,
    lastDay: isoDay(period.to - 1, period.timeZone),
    customersStart: before ? null : c.s,
    customersEnd: known(c.e),
    newCustomers: before ? null : c.n,
    customersLost: short ? null : c.lost,
    retainedCustomers: short ? null : c.s - c.lost,
    reactivatedCustomers: before ? null : c.reactivated,
    crr: short ? null : customerRetentionRate(c.s, c.s - c.lost),
    churnRate: churn,
    repeatPurchaseRate: repeatPurchaseRate(c.repeaters, c.ever),
    buyers: known(c.buyers),
    returningCustomers: before ? null : c.returners,
    returningCustomerRate: before ? null : returningCustomerRate(c.returners, c.buyers),
    orders: known(c.orders),
    revenue: known(major(c.revenue)),
    aov,
    purchaseFrequency: frequency,
    customerValue: value,
    averageLifespanDays: lifespan === null ? null : lifespan * periodDays,
    clv: simpleClv(value, lifespan),
    revenueChurn: revenueChurn(c.lapsedPrevRevenue, c.prevRevenue),
    netRevenueRetention: netRevenueRetention(c.retainedRevenue, c.prevRevenue),
    guestOrders: known(c.guestOrders),
    guestRevenue: known(major(c.guestRevenue)),
    partial: period.to > coverage.asOf,
    unsupported,
  };
}

/** The local date of an instant in the store's zone (`Period.timeZone`, default UTC). */
const isoDay = (ms: number, timeZone?: string) => dayInZone(ms, timeZone);

/** Midnight (in `timeZone`, default UTC) of the day of the first sale of one currency before `asOf`, or undefined. */
async function historyStartOf(db: Db, currency: string, asOf: number, timeZone = 'UTC'): Promise<number | undefined> {
  const { rows } = await sql<{ first: number | null }>`
    select min(o.placed_at) as first from ${ordersAsOf(asOf)} o
    where ${salesWhere('o', { currency, before: asOf })}`.execute(db);
  const first = rows[0]?.first;
  if (first === null || first === undefined) return undefined;
  return wallTimeInZone(Date.parse(dayInZone(Number(first), timeZone)), timeZone).epochMs;
}

/**
 * The figures of a period and of the period before it, in one currency, from one scan of its sales.
 * Only sales placed before `asOf` exist for them.
 */
export async function periodFigures(
  db: Db,
  period: Period,
  {
    asOf,
    activeWindowDays = DEFAULT_ACTIVE_WINDOW_DAYS,
    currency,
  }: { asOf: number; activeWindowDays?: number; currency: string },
): Promise<{ current: PeriodFigures; previous: PeriodFigures }> {
  const previous = previousPeriod(period);
  const chain = [previousPeriod(previous), previous, period];
  const windowMs = activeWindowDays * MS_PER_DAY;
  const [before, now] = await chainCounts(db, chain, windowMs, asOf, currency);
  const coverage: Coverage = {
    windowMs,
    historyStart: await historyStartOf(db, currency, asOf, period.timeZone),
    asOf,
  };
  return {
    current: figuresOf(period, now!, currency, coverage),
    previous: figuresOf(previous, before!, currency, coverage),
  };
}

/**
 * Every figure of a period and the previous one per group of customers, in one currency: one scan per
 * period, each customer in the group they were in at that period's end (its start for the lifecycle
 * stage), or at asOf if earlier.
 */
export async function groupedFigures(
  db: Db,
  period: Period,
  options: { asOf: number; activeWindowDays: number; currency: string; by: Grouping },
): Promise<GroupedFigures> {
  const { asOf, currency, by } = options;
  const windowMs = options.activeWindowDays * MS_PER_DAY;
  const previous = previousPeriod(period);
  // Lifecycle stages are taken at the period's start: see groups.queries.ts.
  const at = (p: Period) => Math.min(by.kind === 'lifecycle' ? p.from : p.to, asOf);
  const current = await chainCountsBy(
    db,
    [previous, period],
    windowMs,
    asOf,
    currency,
    await groupAssignment(db, by, at(period), asOf),
  );
  const before = await chainCountsBy(
    db,
    [previousPeriod(previous), previous],
    windowMs,
    asOf,
    currency,
    await groupAssignment(db, by, at(previous), asOf),
  );
  const coverage: Coverage = {
    windowMs,
    historyStart: await historyStartOf(db, currency, asOf, period.timeZone),
    asOf,
  };
  const names = [...new Set([...current.keys(), ...before.keys()])];
  // A stage's customers were silent less than its limit at the start (the thresholds the stages used).
  const limits = by.kind === 'lifecycle' ? stageSilenceLimits(gapThresholds(await interOrderDays(db, at(period)))) : {};
  const periodDays = (Math.min(period.to, asOf) - period.from) / MS_PER_DAY;
  const groups = names.map((group) => {
    const limit = limits[group];
    return {
      group,
      ...figuresOf(period, current.get(group)?.[0] ?? zeroCounts(), currency, coverage),
      cannotLeave: limit !== undefined && limit + periodDays <= options.activeWindowDays,
      previous: figuresOf(previous, before.get(group)?.[0] ?? zeroCounts(), currency, coverage),
    };
  });
  // Lifecycle stages in the lifecycle's order; other groups largest first.
  groups.sort(
    (a, b) =>
      (by.kind === 'lifecycle' ? stageRank(a.group) - stageRank(b.group) : 0) ||
      (b.customersEnd ?? 0) - (a.customersEnd ?? 0) ||
      (b.buyers ?? 0) - (a.buyers ?? 0) ||
      a.group.localeCompare(b.group),
  );
  const rule =
    by.kind === 'lifecycle' ? `${GROUP_RULES.lifecycle}, taken at the start of the period` : GROUP_RULES[by.kind];
  return { by: groupingName(by), rule, currency, groups };
}

/** How the active window of a report was chosen. */
export interface ActiveWindow {
  days: number;
  /** `given` (flag or query), `derived` (from the store's repeat gaps) or `fallback` (too few gaps). */
  source: 'given' | 'derived' | 'fallback';
  /** The rule, in words, for the output. */
  rule: string;
  /** The derivation's inputs: how many repeat gaps, and their 90th percentile in days. */
  repeatGaps: number;
  p90GapDays: number | null;
}

/** Fewer repeat gaps than this and the window falls back to `DEFAULT_ACTIVE_WINDOW_DAYS`. */
export const MIN_REPEAT_GAPS = 30;

/**
 * The default active window of a store: the 90th percentile of the days between consecutive purchase
 * days of the same customer (local days, sales before `asOf`, one currency; type-7 quantile), rounded
 * up to whole 30-day months, at least 30 and at most 730 days. Nine in ten returns happen within it,
 * so a customer silent for longer has probably left. With fewer than `MIN_REPEAT_GAPS` gaps, 365 days.
 */
export async function activeWindowOf(db: Db, options: { asOf: number; currency: string }): Promise<ActiveWindow> {
  const { rows } = await sql<{ gap: number; n: number }>`
    with days as (
      select ${customerKey('o')} as customer_id, ${localDay('o')} as day
      from ${ordersAsOf(options.asOf)} o
      where ${salesWhere('o', { currency: options.currency, before: options.asOf })}
      group by 1, 2
    ),
    gaps as (select day - lag(day) over (partition by customer_id order by day) as gap from days)
    select gap, count(*) as n from gaps where gap is not null group by gap order by gap`.execute(db);
  const values = rows.map((r) => Number(r.gap));
  const counts = rows.map((r) => Number(r.n));
  const repeatGaps = counts.reduce((a, b) => a + b, 0);
  const p90 = weightedQuantile(values, counts, 0.9);
  if (repeatGaps < MIN_REPEAT_GAPS || p90 === null) {
    return {
      days: DEFAULT_ACTIVE_WINDOW_DAYS,
      source: 'fallback',
      rule: `${repeatGaps} repeat purchases are too few to derive a window from (${MIN_REPEAT_GAPS} needed): ${DEFAULT_ACTIVE_WINDOW_DAYS} days`,
      repeatGaps,
      p90GapDays: p90,
    };
  }
  const days = Math.min(730, Math.max(30, Math.ceil(p90 / 30) * 30));
  return {
    days,
    source: 'derived',
    rule: `derived: 9 in 10 of the store's ${repeatGaps.toLocaleString('en-US')} repeat purchases came within ${Math.round(p90)} days of the previous one (rounded up to whole 30-day months)`,
    repeatGaps,
    p90GapDays: p90,
  };
}

/**
 * Resolves the period of a report: the one given, or the last full month before `asOf` in the store's
 * `timeZone` (local midnights; default UTC). Given instants are taken as they are.
 */
export function reportPeriod(options: {
  from?: number;
  to?: number;
  asOf: number;
  timeZone?: string;
}): Period & { isDefault: boolean } {
  const { asOf, timeZone = 'UTC' } = options;
  if (!isValidTimeZone(timeZone))
    throw new ComebackError('bad_input', `timeZone: ${timeZone} is not an IANA time zone`);
  const zone = timeZone === 'UTC' ? {} : { timeZone };
  if (options.from === undefined && options.to === undefined) {
    return { ...defaultPeriod(asOf, timeZone), isDefault: true };
  }
  const to = options.to ?? asOf;
  const from = options.from ?? defaultPeriod(to, timeZone).from;
  if (from >= to) throw new ComebackError('bad_input', 'from: must be before to');
  return { from, to, ...zone, isDefault: false };
}

/** The current and previous figures of one currency with the change of each metric. */
async function currencyReport(
  db: Db,
  period: Period,
  options: { asOf: number; activeWindowDays: number; currency: string },
): Promise<CurrencyReport> {
  const { current, previous } = await periodFigures(db, period, options);
  const before = previousPeriod(period);
  const { asOf, currency } = options;
  const secondOrders = await timesToSecondOrder(db, { asOf, currency, ranges: [period, before] });
  return {
    currency,
    ...current,
    previous,
    change: compare(current, previous),
    newVsReturning: (await newVsReturning(db, { asOf, currency, from: period.from, to: period.to })).months,
    timeToSecondOrder: {
      current: current.newCustomers === null ? null : secondOrders[0]!,
      previous: previous.newCustomers === null ? null : secondOrders[1]!,
    },
  };
}

/** The retention report of a period (see `RetentionReport`), computed in SQL on either database. */
export async function retentionReport(db: Db, options: RetentionOptions): Promise<RetentionReport> {
  const { asOf } = options;
  const given = options.activeWindowDays;
  if (given !== undefined && !(Number.isSafeInteger(given) && given > 0)) {
    throw new ComebackError('bad_input', `activeWindowDays: ${given} is not a positive whole number of days`);
  }
  const period = reportPeriod(options);
  const all = await saleCurrencies(db, asOf);
  let currencies = all.map((c) => c.currency);
  if (options.currency !== undefined) {
    const code = options.currency.trim().toUpperCase();
    if (!currencies.includes(code)) {
      throw new ComebackError(
        'bad_input',
        `currency ${options.currency}: the store has no sales in it (it has ${currencies.join(', ') || 'none'})`,
      );
    }
    currencies = [code];
  }
  // One window for every currency: the given one, else the one derived from the main currency's sales.
  const windowOf = async (main: string | undefined): Promise<ActiveWindow> =>
    given !== undefined
      ? { days: given, source: 'given', rule: 'given', repeatGaps: 0, p90GapDays: null }
      : main === undefined
        ? {
            days: DEFAULT_ACTIVE_WINDOW_DAYS,
            source: 'fallback',
            rule: 'no sales: the default',
            repeatGaps: 0,
            p90GapDays: null,
          }
        : await activeWindowOf(db, { asOf, currency: main });
  const reportsOf = async (codes: string[], activeWindowDays: number): Promise<CurrencyReport[]> => {
    const reports: CurrencyReport[] = [];
    for (const currency of codes) reports.push(await currencyReport(db, period, { asOf, activeWindowDays, currency }));
    return reports;
  };
  let activeWindow = await windowOf(currencies[0]);
  let byCurrency = await reportsOf(currencies, activeWindow.days);
  const notes: string[] = [];
  const leftOutCurrencies: RetentionReport['leftOutCurrencies'] = [];
  if (period.to > asOf) {
    notes.push(
      `the period ends after the data (as of ${isoDay(asOf, period.timeZone)}): a partial period, only sales before then are counted`,
    );
  }
  if (options.currency === undefined) {
    // A currency with nobody active and nothing sold in either period is another shop's history (or a
    // shop that stopped selling in it): a table of zeros beside its all-time repeat rate would read as a
    // collapse. Say when it last sold instead, and how to report it; the main currency is then the
    // first one that did sell, and the derived window is its own.
    const quiet = byCurrency.filter((r) => isQuiet(r) && isQuiet(r.previous)).map((r) => r.currency);
    if (quiet.length > 0 && quiet.length < currencies.length) {
      for (const currency of quiet) {
        const last = isoDay((await latestSaleEnd(db, currency, asOf, period.timeZone))! - 1, period.timeZone);
        leftOutCurrencies.push({ currency, lastSaleDay: last });
        notes.push(
          `${currency}: nobody active and no sales in either period (its latest sale was on ${last}); ` +
            `left out: --currency ${currency} --as-of ${last} reports it`,
        );
      }
      const kept = currencies.filter((c) => !quiet.includes(c));
      if (given === undefined && kept[0] !== currencies[0]) {
        activeWindow = await windowOf(kept[0]);
        byCurrency = await reportsOf(kept, activeWindow.days);
      } else {
        byCurrency = byCurrency.filter((r) => !quiet.includes(r.currency));
      }
      currencies = kept;
    }
  }
  const activeWindowDays = activeWindow.days;
  if (byCurrency.length > 1) {
    notes.push(
      `several currencies: the top-level figures are in ${byCurrency[0]!.currency}, the others are in byCurrency`,
    );
  }
  const main = byCurrency[0] ?? emptyReport(period, asOf);
  const byGroup =
    options.by === undefined || currencies[0] === undefined
      ? null
      : await groupedFigures(db, period, { asOf, activeWindowDays, currency: currencies[0], by: options.by });
  return {
    ...main,
    asOf,
    activeWindowDays,
    activeWindow,
    definition: `a customer at time t has at least one sale in the ${activeWindowDays} days before t`,
    defaultPeriod: period.isDefault,
    byCurrency,
    engagement: await engagementBesidePrevious(db, period, asOf),
    byGroup,
    leftOutCurrencies,
    notes,
  };
}

/** Whether a period's figures hold nobody active and no sale at all. */
function isQuiet(f: PeriodFigures): boolean {
  return (f.customersStart ?? 0) === 0 && f.customersEnd === 0 && f.orders === 0 && f.guestOrders === 0;
}

function emptyFigures(period: Period, asOf: number): PeriodFigures {
  return {
    from: period.from,
    to: period.to,
    lastDay: isoDay(period.to - 1, period.timeZone),
    customersStart: 0,
    customersEnd: 0,
    newCustomers: 0,
    customersLost: 0,
    retainedCustomers: 0,
    reactivatedCustomers: 0,
    crr: null,
    churnRate: null,
    repeatPurchaseRate: null,
    buyers: 0,
    returningCustomers: 0,
    returningCustomerRate: null,
    orders: 0,
    revenue: 0,
    aov: null,
    purchaseFrequency: null,
    customerValue: null,
    averageLifespanDays: null,
    clv: null,
    revenueChurn: null,
    netRevenueRetention: null,
    guestOrders: 0,
    guestRevenue: 0,
    partial: period.to > asOf,
    unsupported: [],
  };
}

/** The report of a store without sales: zeros and nulls, no currency. */
function emptyReport(period: Period, asOf: number): Omit<CurrencyReport, 'currency'> & { currency: null } {
  const current = emptyFigures(period, asOf);
  const previous = emptyFigures(previousPeriod(period), asOf);
  const none: TimeToSecondOrder = {
    currency: null,
    customers: 0,
    withSecondOrder: 0,
    median: null,
    q1: null,
    q3: null,
    mean: null,
    within: [],
  };
  return {
    currency: null,
    ...current,
    previous,
    change: compare(current, previous),
    newVsReturning: [],
    timeToSecondOrder: { current: none, previous: none },
  };
}

/** The change of every compared metric, current − previous. */
function compare(current: PeriodFigures, previous: PeriodFigures): Record<ComparedMetric, number | null> {
  const d = (key: ComparedMetric) => change(current[key], previous[key]);
  return {
    customersStart: d('customersStart'),
    customersEnd: d('customersEnd'),
    newCustomers: d('newCustomers'),
    customersLost: d('customersLost'),
    retainedCustomers: d('retainedCustomers'),
    reactivatedCustomers: d('reactivatedCustomers'),
    crr: d('crr'),
    churnRate: d('churnRate'),
    repeatPurchaseRate: d('repeatPurchaseRate'),
    buyers: d('buyers'),
    returningCustomers: d('returningCustomers'),
    returningCustomerRate: d('returningCustomerRate'),
    orders: d('orders'),
    revenue: d('revenue'),
    aov: d('aov'),
    purchaseFrequency: d('purchaseFrequency'),
    customerValue: d('customerValue'),
    averageLifespanDays: d('averageLifespanDays'),
    clv: d('clv'),
    revenueChurn: d('revenueChurn'),
    netRevenueRetention: d('netRevenueRetention'),
    guestOrders: d('guestOrders'),
    guestRevenue: d('guestRevenue'),
  };
}

/** Engagement of the period and of the previous one; null when the store sent events in neither. */
async function engagementBesidePrevious(db: Db, period: Period, asOf: number): Promise<RetentionReport['engagement']> {
  const before = previousPeriod(period);
  const current = await engagement(db, { from: period.from, to: Math.min(period.to, asOf) });
  const previous = await engagement(db, { from: before.from, to: Math.min(before.to, asOf) });
  return current === null && previous === null ? null : { current, previous };
}
