/**
 * Every retention figure, the whole cohort tables, new vs returning, time to second purchase and the
 * per-customer summary of the shipped real samples, against an independent computation: DuckDB
 * reading the raw sample files itself, with SQL written apart from
 * `*.queries.ts` (set operations instead of one conditional scan, DuckDB's own date functions for
 * months and ISO weeks) and the rates worked out here by hand. The importers' rules are replicated in
 * DuckDB: Online Retail's C-invoice lines take back their units from the customer's earlier invoices
 * holding the stock code, latest first, never more units than bought nor more money than the invoice
 * has left (a greedy pass written here, over rows DuckDB reads), an invoice refunded in full is no sale, A-invoices are skipped and rows without a CustomerID
 * are guest orders; Shopify's Financial Status and the offset in `Created at`; CDNOW's every row.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { createRetailRefunds, onlineRetailSales } from '../../test/duck.js';
import { dropWhenClosed } from '../../test/pg-drop.js';
import { DIALECTS, freshDatabase, type TestDb } from '../../test/setup.js';
import { type FormatName, importFile } from '../ingest/index.js';
import { samplePath } from '../shared/paths.js';
import { newVsReturning, timeToSecondOrder } from './acquisition.queries.js';
import { type CohortMetric, type CohortPeriod, cohortTable } from './cohorts.queries.js';
import { COMPARED_METRICS, type PeriodFigures, retentionReport } from './report.queries.js';
import { customerSummaries } from './summary.queries.js';

const NOW = Date.UTC(2026, 0, 1);

/** A DuckDB query producing `sales(customer varchar, ts timestamp (UTC), d date (local), net bigint cents)`. */
interface Dataset {
  name: string;
  file: string;
  format: FormatName;
  currency: string;
  sales: string;
  asOf: string;
  /** Tables the `sales` query reads besides the raw file, built first. */
  prepare?: (connection: DuckDBConnection) => Promise<void>;
  /** End (exclusive) of the calibration period of the per-customer summary check. */
  calibrationEnd: string;
  periods: Array<{ from: string; to: string; previousFrom: string; windowDays: number }>;
}

const RETAIL = samplePath('online-retail', 'online-retail-sample.csv.gz');
const CDNOW = samplePath('cdnow', 'CDNOW_sample.txt');
const SHOPIFY = samplePath('shopify', 'orders_export_1.devstore.redacted.csv');

const retailSales = onlineRetailSales(RETAIL);
const retailRefunds = (connection: DuckDBConnection) => createRetailRefunds(connection, RETAIL);

const cdnowSales = `
  with fields as (
    select string_split_regex(trim(regexp_replace(line, '\\r', '')), '\\s+') as f
    from read_csv('${CDNOW}', header = false, columns = {'line': 'varchar'}, delim = '|', quote = '')
    where trim(line) <> '')
  select cast(cast(f[2] as integer) as varchar) as customer, strptime(f[3], '%Y%m%d') as ts,
         cast(strptime(f[3], '%Y%m%d') as date) as d, cast(round(cast(f[5] as decimal(18, 2)) * 100) as bigint) as net
  from fields`;

const shopifySales = `
  with raw as (select * from read_csv('${SHOPIFY}', all_varchar = true)),
  orders as (
    select "Name" as name, lower(max("Email")) as customer, any_value("Created at") as created,
           max("Financial Status") as status, max("Cancelled at") as cancelled_at,
           nullif(max("Payment Method"), '') as payment,
           max(cast(round(cast("Total" as decimal(18, 2)) * 100) as bigint)) as total,
           coalesce(max(cast(round(cast("Refunded Amount" as decimal(18, 2)) * 100) as bigint)), 0) as refunded
    from raw group by "Name"),
  timed as (
    select *, strptime(substr(created, 1, 19), '%Y-%m-%d %H:%M:%S') as local_ts,
           (case when substr(created, 21, 1) = '-' then -1 else 1 end)
             * (cast(substr(created, 22, 2) as integer) * 60 + cast(substr(created, 24, 2) as integer)) as offset_min
    from orders)
  select customer, local_ts - to_minutes(offset_min) as ts, cast(local_ts as date) as d, total - refunded as net,
         payment as grp
  from timed
  where status in ('paid', 'partially_refunded') and cancelled_at is null`;

const DATASETS: Dataset[] = [
  {
    name: 'Online Retail sample',
    file: RETAIL,
    format: 'online-retail',
    currency: 'GBP',
    sales: retailSales,
    prepare: retailRefunds,
    asOf: '2011-12-10',
    calibrationEnd: '2011-06-01',
    periods: [
      { from: '2010-12-01', to: '2011-12-01', previousFrom: '2009-12-01', windowDays: 365 },
      { from: '2011-06-01', to: '2011-12-01', previousFrom: '2010-12-01', windowDays: 90 },
      { from: '2010-12-01', to: '2011-06-01', previousFrom: '2010-06-01', windowDays: 90 },
      { from: '2011-03-01', to: '2011-09-01', previousFrom: '2010-09-01', windowDays: 60 },
    ],
  },
  {
    name: 'CDNOW sample',
    file: CDNOW,
    format: 'cdnow',
    currency: 'USD',
    sales: cdnowSales,
    asOf: '1998-07-01',
    calibrationEnd: '1997-10-01',
    periods: [
      { from: '1997-07-01', to: '1998-07-01', previousFrom: '1996-07-01', windowDays: 365 },
      { from: '1997-10-01', to: '1998-04-01', previousFrom: '1997-04-01', windowDays: 180 },
      { from: '1997-04-01', to: '1997-07-01', previousFrom: '1997-01-01', windowDays: 60 },
    ],
  },
  {
    name: 'Shopify export',
    file: SHOPIFY,
    format: 'shopify',
    currency: 'INR',
    sales: shopifySales,
    asOf: '2025-12-08',
    calibrationEnd: '2025-12-07',
    periods: [{ from: '2025-12-01', to: '2026-01-01', previousFrom: '2025-11-01', windowDays: 365 }],
  },
];

/** One in-memory DuckDB per data set, holding its `sales` read once from the raw file. */
class Duck {
  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
  ) {}

  static async open(data: Dataset): Promise<Duck> {
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    await data.prepare?.(connection);
    await connection.run(`create table sales as ${data.sales}`);
    return new Duck(instance, connection);
  }

  async rows(query: string): Promise<Array<Record<string, unknown>>> {
    return (await this.connection.runAndReadAll(query)).getRowObjectsJS();
  }

  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
  }
}

const ts = (date: string) => `timestamp '${date} 00:00:00'`;

/** The period figures by DuckDB, from set operations over the raw sales, and the rates worked out here. */
async function duckFigures(
  duck: Duck,
  data: Dataset,
  from: string,
  to: string,
  previousFrom: string,
  windowDays: number,
  group?: { name: string; fallbackToFirst: boolean },
) {
  // With a group: the customers whose latest sale before the period's end (or asOf) has `grp = group`,
  // else (no such sale yet) their first sale's; guests are in no group.
  const at = Date.parse(to) < Date.parse(data.asOf) ? to : data.asOf;
  const members =
    group === undefined
      ? ''
      : `and customer in (select customer from (
           select customer, coalesce(arg_max(grp, ts) filter (where ts < ${ts(at)} and grp is not null),
                                     ${group.fallbackToFirst ? 'arg_min(grp, ts)' : 'null'}, 'unknown') as g
           from sales where customer is not null and ts < ${ts(data.asOf)} group by customer)
         where g = '${group.name.replaceAll("'", "''")}')`;
  const [row] = await duck.rows(`
    with all_sales as (select * from sales where true ${members} ${group === undefined ? '' : 'or customer is null and false'}),
    store as (select * from sales where customer is not null and ts < ${ts(data.asOf)}),
    cust as (select * from all_sales where customer is not null and ts < ${ts(data.asOf)}),
    active_start as (select distinct customer from cust
                     where ts >= ${ts(from)} - to_days(${windowDays}) and ts < ${ts(from)}),
    active_end as (select distinct customer from cust where ts >= ${ts(to)} - to_days(${windowDays}) and ts < ${ts(to)}),
    firsts as (select customer, min(ts) as first_ts from cust group by customer),
    lost as (select customer from active_start except select customer from active_end),
    kept as (select customer from active_start intersect select customer from active_end),
    back as (select customer from (select customer from active_end except select customer from active_start)
             join firsts using (customer) where first_ts < ${ts(from)}),
    in_period as (select * from cust where ts >= ${ts(from)} and ts < ${ts(to)}),
    prev_period as (select * from cust where ts >= ${ts(previousFrom)} and ts < ${ts(from)}),
    guests as (select * from all_sales where ${group === undefined ? 'true' : 'false'} and customer is null and ts >= ${ts(from)} and ts < ${ts(to)}
               and ts < ${ts(data.asOf)})
    select
      (select count(*) from active_start) as s,
      (select count(*) from active_end) as e,
      (select count(*) from firsts where first_ts >= ${ts(from)} and first_ts < ${ts(to)}) as n,
      (select count(*) from lost) as lost,
      (select count(*) from kept) as kept,
      (select count(*) from back) as back,
      -- 1 when the first sale's day is later than a whole window before the period: nobody could be seen lost.
      (select case when min(cast(ts as date)) > cast(${ts(from)} - to_days(${windowDays}) as date) then 1 else 0 end
       from store) as short,
      -- 1 when the period starts on the first sale's day or before: no purchase before it can be seen.
      (select case when min(cast(ts as date)) >= cast(${ts(from)} as date) then 1 else 0 end from store) as before,
      -- 1 when the period ends before the first sale's day: the data holds nothing of it.
      (select case when min(cast(ts as date)) >= cast(${ts(to)} as date) then 1 else 0 end from store) as outside,
      (select count(*) from (select customer from cust where ts < ${ts(to)} group by customer having count(*) >= 2)) as repeaters,
      (select count(distinct customer) from cust where ts < ${ts(to)}) as ever,
      (select count(distinct customer) from in_period) as buyers,
      (select count(distinct customer) from in_period join firsts using (customer) where first_ts < ${ts(from)}) as returners,
      (select count(*) from in_period) as orders,
      (select coalesce(sum(net), 0) from in_period) as revenue,
      (select coalesce(sum(net), 0) from prev_period) as prev_revenue,
      (select coalesce(sum(net), 0) from prev_period where customer not in (select customer from in_period)) as lapsed,
      (select coalesce(sum(net), 0) from in_period where customer in (select customer from prev_period)) as retained,
      (select count(*) from guests) as guest_orders,
      (select coalesce(sum(net), 0) from guests) as guest_revenue`);
  const c = Object.fromEntries(Object.entries(row!).map(([k, v]) => [k, Number(v)]));
  const div = (a: number, b: number) => (b === 0 ? null : a / b);
  const short = c.short === 1;
  const before = c.before === 1;
  const known = (v: number) => (c.outside === 1 ? null : v);
  const churn = short ? null : div(c.lost!, c.s!);
  const aov = div(c.revenue! / 100, c.orders!);
  const frequency = div(c.orders!, c.buyers!);
  const value = aov === null || frequency === null ? null : aov * frequency;
  const days = (Date.parse(to) - Date.parse(from)) / 86_400_000;
  return {
    customersStart: before ? null : c.s!,
    customersEnd: known(c.e!),
    newCustomers: before ? null : c.n!,
    customersLost: short ? null : c.lost!,
    retainedCustomers: short ? null : c.kept!,
    reactivatedCustomers: before ? null : c.back!,
    crr: short ? null : div(c.kept!, c.s!),
    churnRate: churn,
    repeatPurchaseRate: div(c.repeaters!, c.ever!),
    buyers: known(c.buyers!),
    returningCustomers: before ? null : c.returners!,
    returningCustomerRate: before ? null : div(c.returners!, c.buyers!),
    orders: known(c.orders!),
    revenue: known(c.revenue! / 100),
    aov,
    purchaseFrequency: frequency,
    customerValue: value,
    averageLifespanDays: churn ? days / churn : null,
    clv: churn && value !== null ? value / churn : null,
    revenueChurn: div(c.lapsed!, c.prev_revenue!),
    netRevenueRetention: div(c.retained!, c.prev_revenue!),
    guestOrders: known(c.guest_orders!),
    guestRevenue: known(c.guest_revenue! / 100),
  };
}

function assertClose(actual: number | null, expected: number | null, label: string): void {
  if (expected === null || actual === null) {
    assert.equal(actual, expected, label);
    return;
  }
  assert.ok(
    Math.abs(actual - expected) <= 1e-9 * Math.max(1, Math.abs(expected)),
    `${label}: ${actual} vs ${expected}`,
  );
}

function assertFigures(got: PeriodFigures, expected: Awaited<ReturnType<typeof duckFigures>>, label: string): void {
  assert.deepEqual(Object.keys(expected).sort(), [...COMPARED_METRICS].sort(), 'DuckDB gives every metric');
  for (const key of COMPARED_METRICS) assertClose(got[key], expected[key], `${label} ${key}`);
}

/** The cohort matrix by DuckDB: month numbers and ISO weeks from DuckDB's own date functions. */
async function duckCohorts(duck: Duck, data: Dataset, period: CohortPeriod, metric: CohortMetric) {
  const bucket = (d: string) =>
    period === 'month'
      ? `(year(${d}) * 12 + month(${d}) - 1)`
      : `(date_trunc('week', ${d})::date - date '1970-01-05') // 7`;
  const label =
    period === 'month' ? `strftime(fd, '%Y-%m')` : `isoyear(fd) || '-W' || lpad(cast(week(fd) as varchar), 2, '0')`;
  const lastDay = `cast(${ts(data.asOf)} - interval 1 millisecond as date)`;
  const rows = await duck.rows(`
    with cust as (select * from sales where customer is not null and ts < ${ts(data.asOf)}),
    firsts as (select customer, arg_min(d, ts) as fd from cust group by customer),
    sizes as (select ${label} as cohort, ${bucket('fd')} as b, count(*) as size from firsts group by all),
    cells as (
      select ${label} as cohort, ${bucket('c.d')} - ${bucket('fd')} as k, count(distinct customer) as buyers, sum(net) as revenue
      from cust c join firsts using (customer) group by all)
    select s.cohort, s.size, ${bucket(lastDay)} - s.b + 1 as length, list(c.k order by c.k) as ks,
           list(c.buyers order by c.k) as buyers, list(c.revenue order by c.k) as revenue
    from sizes s join cells c using (cohort) group by s.cohort, s.size, s.b order by s.b`);
  return rows.map((r) => {
    const size = Number(r.size);
    const values = new Array<number>(Number(r.length)).fill(0);
    const numbers = (value: unknown) => (Array.isArray(value) ? value.map(Number) : []);
    const ks = numbers(r.ks);
    const buyers = numbers(r.buyers);
    const revenue = numbers(r.revenue);
    ks.forEach((k, i) => {
      values[k] = metric === 'customers' ? buyers[i]! / size : revenue[i]! / 100 / size;
    });
    if (metric === 'ltv') for (let k = 1; k < values.length; k++) values[k]! += values[k - 1]!;
    return { cohort: String(r.cohort), size, values };
  });
}

for (const dialect of DIALECTS) {
  // One store holds the three samples (GBP, USD and INR): every figure is asked for in one currency, so
  // this also checks that currencies never mix.
  describe(`the shipped samples on ${dialect.name}: every figure against DuckDB over the raw files`, {
    skip: dialect.skip,
  }, () => {
    let t: TestDb;
    before(async () => {
      t = await freshDatabase(dialect.name);
      for (const data of DATASETS) await importFile(t.store.db, data.file, { format: data.format, now: NOW });
    });
    after(() => dropWhenClosed(t));

    for (const data of DATASETS) {
      const currency = data.currency;
      describe(data.name, () => {
        let duck: Duck;
        before(async () => {
          duck = await Duck.open(data);
        });
        after(() => duck?.close());

        for (const p of data.periods) {
          test(`report ${p.from} … ${p.to}, window ${p.windowDays} days, with its previous period`, async () => {
            const report = await retentionReport(t.store.db, {
              from: Date.parse(p.from),
              to: Date.parse(p.to),
              asOf: Date.parse(data.asOf),
              activeWindowDays: p.windowDays,
              currency,
            });
            assert.equal(report.currency, data.currency);
            assertFigures(report, await duckFigures(duck, data, p.from, p.to, p.previousFrom, p.windowDays), 'current');
            assertFigures(
              report.previous,
              await duckFigures(duck, data, p.previousFrom, p.from, previousOf(p.previousFrom, p.from), p.windowDays),
              'previous',
            );
            assert.ok(report.customersEnd! > 0, 'the period holds customers');
          });
        }

        const grouping = data.name.startsWith('Online Retail')
          ? ('country' as const)
          : data.name.startsWith('Shopify')
            ? ('payment' as const)
            : undefined;
        if (grouping !== undefined) {
          const p = data.periods[data.periods.length - 1]!;
          test(`report --by ${grouping}: every group's figures, ${p.from} … ${p.to}, against DuckDB`, async () => {
            const report = await retentionReport(t.store.db, {
              from: Date.parse(p.from),
              to: Date.parse(p.to),
              asOf: Date.parse(data.asOf),
              activeWindowDays: p.windowDays,
              currency,
              by: { kind: grouping },
            });
            const byGroup = report.byGroup!;
            assert.equal(byGroup.by, grouping);
            // Country falls back to the customer's own (their first sale's), payment method to unknown.
            const fallbackToFirst = grouping === 'country';
            const names = await duck.rows(`
              select distinct coalesce(arg_max(grp, ts) filter (where ts < ${ts(p.to < data.asOf ? p.to : data.asOf)} and grp is not null),
                                       ${fallbackToFirst ? 'arg_min(grp, ts)' : 'null'}, 'unknown') as g
              from sales where customer is not null and ts < ${ts(data.asOf)} group by customer order by g`);
            const got = byGroup.groups.map((g) => g.group);
            for (const r of names) assert.ok(got.includes(String(r.g)), `group ${r.g}`);
            assert.ok(byGroup.groups.length >= 2, 'at least two groups');
            for (const g of byGroup.groups) {
              const group = { name: g.group, fallbackToFirst };
              assertFigures(
                g,
                await duckFigures(duck, data, p.from, p.to, p.previousFrom, p.windowDays, group),
                `${g.group}`,
              );
              const before = previousOf(p.previousFrom, p.from);
              assertFigures(
                g.previous,
                await duckFigures(duck, data, p.previousFrom, p.from, before, p.windowDays, group),
                `${g.group} previous`,
              );
            }
            // The groups add up to the store (customers are in exactly one group; guests in none).
            for (const key of ['customersStart', 'customersEnd', 'newCustomers', 'orders', 'buyers'] as const) {
              // Not known for the store (the period starts before its first sale): not known for any group.
              const sum = byGroup.groups.some((g) => g[key] === null)
                ? null
                : byGroup.groups.reduce((total, g) => total + (g[key] ?? 0), 0);
              assert.equal(sum, report[key], `${key} adds up`);
            }
          });
        }

        for (const period of ['month', 'week'] as const) {
          test(`the whole cohort table by ${period}, every metric`, async () => {
            for (const metric of ['customers', 'revenue', 'ltv'] as const) {
              const got = await cohortTable(t.store.db, { period, metric, asOf: Date.parse(data.asOf), currency });
              const expected = await duckCohorts(duck, data, period, metric);
              assert.deepEqual(
                got.cohorts.map((c) => [c.cohort, c.size, c.values.length]),
                expected.map((c) => [c.cohort, c.size, c.values.length]),
                `${metric}: cohorts, sizes, periods`,
              );
              // The last column is partial when the data stops inside its period.
              const last = new Date(Date.parse(data.asOf) - 1);
              const wholeMonth =
                period === 'month' &&
                last.getUTCDate() === new Date(Date.UTC(last.getUTCFullYear(), last.getUTCMonth() + 1, 0)).getUTCDate();
              const wholeWeek = period === 'week' && last.getUTCDay() === 0;
              assert.equal(got.partial === null, wholeMonth || wholeWeek, 'partial last period');
              got.cohorts.forEach((c, i) => {
                c.values.forEach((v, k) => {
                  assertClose(v, expected[i]!.values[k]!, `${metric} ${c.cohort} [${k}]`);
                });
              });
            }
          });
        }

        test('new vs returning customers, orders and revenue per month', async () => {
          const got = await newVsReturning(t.store.db, { asOf: Date.parse(data.asOf), currency });
          const rows = await duck.rows(`
          with cust as (select * from sales where customer is not null and ts < ${ts(data.asOf)}),
          firsts as (select customer, min(date_trunc('month', d)) as fm from cust group by customer)
          select strftime(date_trunc('month', d), '%Y-%m') as month,
                 count(distinct customer) filter (where date_trunc('month', d) = fm) as new_customers,
                 count(distinct customer) filter (where date_trunc('month', d) > fm) as returning_customers,
                 count(*) filter (where date_trunc('month', d) = fm) as new_orders,
                 count(*) filter (where date_trunc('month', d) > fm) as returning_orders,
                 coalesce(sum(net) filter (where date_trunc('month', d) = fm), 0) as new_revenue,
                 coalesce(sum(net) filter (where date_trunc('month', d) > fm), 0) as returning_revenue,
                 date_trunc('month', d) + interval 1 month > ${ts(data.asOf)} as partial,
                 -- the month of the first sale (guests' too): every buyer in it counts as new
                 date_trunc('month', d) = (select min(date_trunc('month', d)) from sales where ts < ${ts(data.asOf)}) as data_starts
          from cust join firsts using (customer) group by all order by month`);
          assert.deepEqual(
            got.months,
            rows.map((r) => ({
              month: String(r.month),
              newCustomers: Number(r.new_customers),
              returningCustomers: Number(r.returning_customers),
              newOrders: Number(r.new_orders),
              returningOrders: Number(r.returning_orders),
              newRevenue: Number(r.new_revenue) / 100,
              returningRevenue: Number(r.returning_revenue) / 100,
              partial: r.partial === true,
              dataStarts: r.data_starts === true,
            })),
          );
        });

        test('the per-customer summary (x, t_x, T, monetary, orders, spend) in days', async () => {
          const got = await customerSummaries(t.store.db, {
            asOf: Date.parse(data.asOf),
            calibrationEnd: Date.parse(data.calibrationEnd),
            unit: 'day',
            currency,
          });
          const rows = await duck.rows(`
          with cust as (select * from sales where customer is not null and d < date '${data.calibrationEnd}'),
          days as (select customer, d, sum(net) as net, count(*) as orders from cust group by customer, d),
          per as (
            select customer, count(*) - 1 as x, max(d) - min(d) as tx,
                   (date '${data.calibrationEnd}' - 1) - min(d) as age, sum(orders) as orders, sum(net) as total,
                   arg_min(net, d) as first_net
            from days group by customer)
          select x, tx, age, orders, total, case when x > 0 then (total - first_net) / 100.0 / x else 0 end as monetary
          from per`);
          const key = (values: number[]) => values.map((v) => v.toFixed(6)).join('|');
          const expected = rows
            .map((r) =>
              key([
                Number(r.x),
                Number(r.tx),
                Number(r.age),
                Number(r.orders),
                Number(r.total) / 100,
                Number(r.monetary),
              ]),
            )
            .sort();
          const actual = Array.from({ length: got.count }, (_, i) =>
            key([got.x[i]!, got.tx[i]!, got.T[i]!, got.orders[i]!, got.totalSpent[i]!, got.monetary[i]!]),
          ).sort();
          assert.equal(actual.length, expected.length);
          assert.deepEqual(actual, expected);
        });

        test('the default active window: the 90th percentile of repeat gaps, rounded up to 30-day months', async () => {
          const report = await retentionReport(t.store.db, { asOf: Date.parse(data.asOf), currency });
          const [row] = await duck.rows(`
          with days as (select distinct customer, d from sales where customer is not null and ts < ${ts(data.asOf)}),
          gaps as (select d - lag(d) over (partition by customer order by d) as gap from days)
          select count(gap) as n, quantile_cont(gap, 0.9) as p90 from gaps`);
          const p90 = row!.p90 === null ? null : Number(row!.p90);
          const n = Number(row!.n);
          assert.equal(report.activeWindow.repeatGaps, n);
          assertClose(report.activeWindow.p90GapDays, p90, 'p90');
          if (n < 30) {
            assert.equal(report.activeWindow.source, 'fallback', `${n} gaps are too few`);
            assert.equal(report.activeWindowDays, 365);
          } else {
            assert.equal(report.activeWindow.source, 'derived');
            assert.equal(report.activeWindowDays, Math.min(730, Math.max(30, Math.ceil(p90! / 30) * 30)));
          }
        });

        test('time to second purchase: quantiles and shares', async () => {
          const got = await timeToSecondOrder(t.store.db, { asOf: Date.parse(data.asOf), currency });
          const [row] = await duck.rows(`
          with days as (select distinct customer, d from sales
                        where customer is not null and ts < ${ts(data.asOf)}),
          ranked as (select customer, d, dense_rank() over (partition by customer order by d) as r from days),
          gaps as (select customer, max(case when r = 2 then d end) - min(d) as gap, min(d) as fd from ranked group by customer)
          select count(*) as customers, count(gap) as came_back,
                 quantile_cont(gap, 0.5) as median, quantile_cont(gap, 0.25) as q1, quantile_cont(gap, 0.75) as q3,
                 count(*) filter (where fd + 90 <= cast(${ts(data.asOf)} - interval 1 day as date)) as eligible90,
                 count(*) filter (where fd + 90 <= cast(${ts(data.asOf)} - interval 1 day as date) and gap <= 90) as within90
          from gaps`);
          assert.equal(got.customers, Number(row!.customers));
          assert.equal(got.withSecondOrder, Number(row!.came_back));
          assertClose(got.median, row!.median === null ? null : Number(row!.median), 'median');
          assertClose(got.q1, row!.q1 === null ? null : Number(row!.q1), 'q1');
          assertClose(got.q3, row!.q3 === null ? null : Number(row!.q3), 'q3');
          const h90 = got.within.find((h) => h.days === 90)!;
          assert.equal(h90.eligible, Number(row!.eligible90));
          assert.equal(h90.returned, Number(row!.within90));
        });
      });
    }
  });
}

/** The start of the period before `[from, to)`, by calendar months as the report does for month starts. */
function previousOf(from: string, to: string): string {
  const a = new Date(from);
  const b = new Date(to);
  const months = (b.getUTCFullYear() - a.getUTCFullYear()) * 12 + b.getUTCMonth() - a.getUTCMonth();
  return new Date(Date.UTC(a.getUTCFullYear(), a.getUTCMonth() - months, 1)).toISOString().slice(0, 10);
}
