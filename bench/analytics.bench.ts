/**
 * `npm run bench:analytics`: imports the full UCI Online Retail file into a fresh SQLite file, then
 * times `retentionReport` (the `report` command) and `cohortTable` (the `cohorts` command) against
 * DuckDB computing the same figures from the same order rows in the same run: the store's sales are
 * copied into an in-memory DuckDB table once (not timed), then DuckDB answers the same questions —
 * the period figures of the current and the previous period, new vs returning per month, time to
 * second purchase, and the monthly cohort matrix. Target: within 5× of DuckDB on SQLite.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { cohortTable, defaultAsOf, previousPeriod, reportPeriod, retentionReport } from '../src/analytics/index.js';
import { importFile } from '../src/ingest/index.js';
import { packageRoot } from '../src/shared/paths.js';
import { openStore, REVENUE_STATUSES } from '../src/store/index.js';

const FILE = join(packageRoot(), '..', 'shared', 'datasets', 'online-retail', 'online_retail_by_day_concat.csv');
const RUNS = 7;

if (!existsSync(FILE)) {
  console.log(`bench:analytics skipped: ${FILE} is not here (see shared/datasets/README.md)`);
  process.exit(0);
}

/** The median of `RUNS` timed runs after one warm-up run, in milliseconds. */
async function time(run: () => Promise<unknown>): Promise<number> {
  await run();
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    await run();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(RUNS / 2)]!;
}

const iso = (ms: number) => `timestamp '${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')}'`;

/** DuckDB's answer to the report: both periods' figures, new vs returning, time to second purchase. */
async function duckReport(duck: DuckDBConnection, from: number, to: number, asOf: number, windowDays: number) {
  const previous = previousPeriod({ from, to });
  const before = previousPeriod(previous);
  const figures = (f: number, t: number, pf: number) => `
    with cust as (select * from sales where customer_id is not null and ts < ${iso(asOf)}),
    active_start as (select distinct customer_id from cust where ts >= ${iso(f)} - to_days(${windowDays}) and ts < ${iso(f)}),
    active_end as (select distinct customer_id from cust where ts >= ${iso(t)} - to_days(${windowDays}) and ts < ${iso(t)}),
    firsts as (select customer_id, min(ts) as first_ts from cust group by customer_id),
    in_period as (select * from cust where ts >= ${iso(f)} and ts < ${iso(t)}),
    prev_period as (select * from cust where ts >= ${iso(pf)} and ts < ${iso(f)})
    select
      (select count(*) from active_start) as s,
      (select count(*) from active_end) as e,
      (select count(*) from firsts where first_ts >= ${iso(f)} and first_ts < ${iso(t)}) as n,
      (select count(*) from (select customer_id from active_start except select customer_id from active_end)) as lost,
      (select count(*) from (select customer_id from cust where ts < ${iso(t)} group by customer_id having count(*) >= 2)) as repeaters,
      (select count(distinct customer_id) from cust where ts < ${iso(t)}) as ever,
      (select count(distinct customer_id) from in_period) as buyers,
      (select count(distinct customer_id) from in_period join firsts using (customer_id) where first_ts < ${iso(f)}) as returners,
      (select count(*) from in_period) as orders,
      (select sum(net) from in_period) as revenue,
      (select sum(net) from prev_period where customer_id not in (select customer_id from in_period)) as lapsed,
      (select sum(net) from in_period where customer_id in (select customer_id from prev_period)) as retained,
      (select count(*) from sales where customer_id is null and ts >= ${iso(f)} and ts < ${iso(t)}) as guests`;
  const secondOrder = (f: number, t: number) => `
    with days as (select distinct customer_id, d from sales where customer_id is not null and ts < ${iso(asOf)}),
    ranked as (select customer_id, d, row_number() over (partition by customer_id order by d) as r from days),
    gaps as (select customer_id, min(d) as fd, max(case when r = 2 then d end) - min(d) as gap from ranked group by customer_id)
    select count(*), count(gap), quantile_cont(gap, [0.25, 0.5, 0.75]),
           count(*) filter (where fd + 30 < ${iso(asOf)}::date and gap <= 30)
    from gaps where fd >= ${iso(f)}::date and fd < ${iso(t)}::date`;
  const results = [];
  results.push(await duck.runAndReadAll('select currency, count(*) from sales group by currency order by 2 desc'));
  results.push(await duck.runAndReadAll(figures(from, to, previous.from)));
  results.push(await duck.runAndReadAll(figures(previous.from, previous.to, before.from)));
  results.push(
    await duck.runAndReadAll(`
      with cust as (select * from sales where customer_id is not null and ts < ${iso(Math.min(to, asOf))}),
      firsts as (select customer_id, min(date_trunc('month', d)) as fm from cust group by customer_id)
      select date_trunc('month', d) as m,
             count(distinct customer_id) filter (where date_trunc('month', d) = fm) as new_customers,
             count(distinct customer_id) filter (where date_trunc('month', d) > fm) as returning_customers,
             sum(net) filter (where date_trunc('month', d) = fm) as new_revenue,
             sum(net) filter (where date_trunc('month', d) > fm) as returning_revenue
      from cust join firsts using (customer_id) where ts >= ${iso(from)} group by m order by m`),
  );
  results.push(await duck.runAndReadAll(secondOrder(from, to)));
  results.push(await duck.runAndReadAll(secondOrder(previous.from, previous.to)));
  return results;
}

/** DuckDB's monthly cohort matrix: cohort size, buyers and revenue per period since acquisition. */
async function duckCohorts(duck: DuckDBConnection, asOf: number) {
  return duck.runAndReadAll(`
    with cust as (select * from sales where customer_id is not null and ts < ${iso(asOf)}),
    firsts as (select customer_id, min(date_trunc('month', d)) as cohort from cust group by customer_id)
    select cohort, date_diff('month', cohort, date_trunc('month', d)) as k,
           count(distinct customer_id) as buyers, sum(net) as revenue
    from cust join firsts using (customer_id) group by all order by all`);
}

const dir = mkdtempSync(join(tmpdir(), 'comeback-bench-'));
try {
  const store = await openStore(`sqlite:${join(dir, 'comeback.db')}`);
  const importStart = performance.now();
  const summary = await importFile(store.db, FILE, { format: 'online-retail', now: Date.now() });
  const importMs = performance.now() - importStart;
  const asOf = (await defaultAsOf(store.db))!;
  const period = reportPeriod({ asOf });

  // The same rows for DuckDB: the store's sales, copied once through a CSV (not timed).
  const rows = await store.db
    .selectFrom('orders')
    .select(['customer_id', 'placed_at', 'placed_offset', 'placed_date', 'currency', 'total_minor', 'refunded_minor'])
    .where('status', 'in', REVENUE_STATUSES)
    .execute();
  const csv = join(dir, 'sales.csv');
  writeFileSync(
    csv,
    `customer_id,placed_at,placed_date,currency,net\n${rows
      .map(
        (r) =>
          `${r.customer_id ?? ''},${r.placed_at},${r.placed_date},${r.currency},${r.total_minor - r.refunded_minor}`,
      )
      .join('\n')}\n`,
  );
  const instance = await DuckDBInstance.create(':memory:');
  const duck = await instance.connect();
  await duck.run(`
    create table sales as
    select customer_id, make_timestamp(placed_at * 1000) as ts, cast(placed_date as date) as d, currency, net
    from read_csv('${csv}', columns = {'customer_id': 'bigint', 'placed_at': 'bigint', 'placed_date': 'varchar',
                                      'currency': 'varchar', 'net': 'bigint'}, header = true)`);

  const reportMs = await time(() => retentionReport(store.db, { asOf }));
  const cohortsMs = await time(() => cohortTable(store.db, { asOf, period: 'month', metric: 'ltv' }));
  const duckReportMs = await time(() => duckReport(duck, period.from, period.to, asOf, 365));
  const duckCohortsMs = await time(() => duckCohorts(duck, asOf));
  const report = await retentionReport(store.db, { asOf });
  const cohorts = await cohortTable(store.db, { asOf, period: 'month', metric: 'ltv' });
  duck.closeSync();
  instance.closeSync();
  await store.close();

  const peakMb = process.resourceUsage().maxRSS / 1024;
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  console.log(`file: ${FILE}`);
  console.log(
    `imported ${summary.rows.toLocaleString('en-US')} rows → ${summary.orders.toLocaleString('en-US')} orders in ${(importMs / 1000).toFixed(1)} s (not timed below)`,
  );
  console.log(
    `report ${day(period.from)} … ${day(period.to - 1)}: ${(report.orders ?? 0).toLocaleString('en-US')} orders, ` +
      `${report.customersEnd} customers at the end, ${report.currency} ${(report.revenue ?? 0).toLocaleString('en-US')}; ` +
      `cohorts: ${cohorts.cohorts.length} monthly cohorts`,
  );
  console.log(`median of ${RUNS} runs after a warm-up:`);
  console.log(
    `  report  (SQLite, comeback) ${reportMs.toFixed(1)} ms   DuckDB ${duckReportMs.toFixed(1)} ms   ratio ${(reportMs / duckReportMs).toFixed(2)}×`,
  );
  console.log(
    `  cohorts (SQLite, comeback) ${cohortsMs.toFixed(1)} ms   DuckDB ${duckCohortsMs.toFixed(1)} ms   ratio ${(cohortsMs / duckCohortsMs).toFixed(2)}×`,
  );
  const ratio = (reportMs + cohortsMs) / (duckReportMs + duckCohortsMs);
  console.log(`  together ${ratio.toFixed(2)}× DuckDB (target ≤ 5×): ${ratio <= 5 ? 'met' : 'NOT met'}`);
  console.log(`peak RSS: ${peakMb.toFixed(0)} MB`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
