/**
 * The full UCI Online Retail file (541,909 lines, 2010-12-01 … 2011-12-09), when present in
 * ../shared/datasets: the figures of issue 10 — retention never above 100 %, reactivated customers
 * apart, the store's own window, a 365-day window on one year of data said to be too long, December
 * 2011 marked partial — with the customer counts checked against DuckDB over the raw file. SQLite only:
 * the same SQL runs on PostgreSQL in every other analytics test; this one is about the data.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { createRetailRefunds, onlineRetailSales } from '../../test/duck.js';
import { importFile } from '../ingest/index.js';
import { packageRoot } from '../shared/paths.js';
import { openStore, type Store } from '../store/index.js';
import { cohortTable } from './cohorts.queries.js';
import { type PeriodFigures, retentionReport } from './report.queries.js';

const FILE = join(packageRoot(), '..', 'shared', 'datasets', 'online-retail', 'online_retail_by_day_concat.csv');
const present = existsSync(FILE);
const AS_OF = Date.UTC(2011, 11, 10);
const NOVEMBER = { from: Date.UTC(2011, 10, 1), to: Date.UTC(2011, 11, 1) };

const RATES = ['crr', 'churnRate', 'repeatPurchaseRate', 'returningCustomerRate', 'revenueChurn'] as const;

function assertRates(f: PeriodFigures, label: string): void {
  for (const key of RATES) {
    const v = f[key];
    assert.ok(v === null || (v >= 0 && v <= 1), `${label} ${key} = ${v} is within 0 … 100 %`);
  }
}

describe('the full Online Retail file', { skip: present ? false : `${FILE} is absent` }, () => {
  let dir: string;
  let store: Store;
  let duck: DuckDBConnection;
  /** One row of a DuckDB query, numbers as numbers, on the connection that holds the allocated refunds. */
  const duckOne = async (query: string) => {
    const [row] = (await duck.runAndReadAll(query)).getRowObjectsJS();
    return Object.fromEntries(Object.entries(row ?? {}).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v]));
  };
  before(async () => {
    duck = await (await DuckDBInstance.create(':memory:')).connect();
    await createRetailRefunds(duck, FILE);
    dir = mkdtempSync(join(tmpdir(), 'comeback-or-'));
    store = await openStore(`sqlite:${join(dir, 'or.db')}`);
    await importFile(store.db, FILE, { format: 'online-retail', now: Date.UTC(2026, 0, 1) });
  });
  after(async () => {
    duck?.closeSync();
    await store?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('90-day window, November 2011: retention 90.7 %, not 102.2 %; counts as DuckDB has them', async () => {
    const r = await retentionReport(store.db, { ...NOVEMBER, asOf: AS_OF, activeWindowDays: 90 });
    const sales = onlineRetailSales(FILE);
    const d = await duckOne(`
      with s as (${sales}),
      cust as (select * from s where customer is not null),
      firsts as (select customer, min(ts) as f from cust group by customer),
      a as (select distinct customer from cust where ts >= timestamp '2011-11-01' - interval 90 day and ts < timestamp '2011-11-01'),
      b as (select distinct customer from cust where ts >= timestamp '2011-12-01' - interval 90 day and ts < timestamp '2011-12-01')
      select (select count(*) from a) as s, (select count(*) from b) as e,
             (select count(*) from firsts where f >= timestamp '2011-11-01' and f < timestamp '2011-12-01') as n,
             (select count(*) from (select * from a except select * from b)) as lost,
             (select count(*) from (select * from a intersect select * from b)) as kept,
             (select count(*) from (select * from b except select * from a) x join firsts using (customer)
              where f < timestamp '2011-11-01') as back`);
    assert.deepEqual(
      [r.customersStart, r.customersEnd, r.newCustomers, r.customersLost, r.retainedCustomers, r.reactivatedCustomers],
      [d.s, d.e, d.n, d.lost, d.kept, d.back],
    );
    assert.deepEqual([r.customersStart, r.customersLost, r.reactivatedCustomers], [2455, 229, 284]);
    assert.equal(Number(r.crr!.toFixed(4)), Number((2226 / 2455).toFixed(4)));
    assert.ok((r.customersEnd! - r.newCustomers!) / r.customersStart! > 1, 'the textbook (E − N) / S is 102.2 %');
    assertRates(r, 'current');
    assertRates(r.previous, 'previous');
  });

  test('the default window is derived (120 days) and no rate exceeds 100 %, store-wide or by country', async () => {
    const r = await retentionReport(store.db, { asOf: AS_OF, by: { kind: 'country' } });
    assert.deepEqual([r.activeWindow.source, r.activeWindowDays], ['derived', 120]);
    const p90 = await duckOne(`
      with s as (${onlineRetailSales(FILE)}),
      days as (select distinct customer, d from s where customer is not null),
      gaps as (select d - lag(d) over (partition by customer order by d) as gap from days)
      select quantile_cont(gap, 0.9) as p90, count(gap) as n from gaps`);
    assert.equal(r.activeWindow.repeatGaps, p90.n);
    assert.equal(r.activeWindowDays, Math.ceil(Number(p90.p90) / 30) * 30);
    assertRates(r, 'store');
    for (const g of r.byGroup!.groups) assertRates(g, g.group);
    assert.equal(
      r.byGroup!.groups.reduce((sum, g) => sum + g.customersEnd!, 0),
      r.customersEnd,
    );
  });

  test('a 365-day window on one year of data: retention and churn are not shown, with a code', async () => {
    const r = await retentionReport(store.db, { asOf: AS_OF, activeWindowDays: 365 });
    assert.equal(r.crr, null);
    assert.equal(r.customersLost, null);
    assert.equal(r.unsupported[0]?.code, 'history_shorter_than_window');
    assert.deepEqual([r.unsupported[0]?.historyStart, r.unsupported[0]?.needed], ['2010-12-01', '2010-11-01']);
  });

  test('December 2011 is partial: 9 of 31 days', async () => {
    const table = await cohortTable(store.db, { asOf: AS_OF });
    assert.deepEqual(table.partial, {
      cohort: '2011-12',
      start: '2011-12-01',
      lastDay: '2011-12-09',
      days: 9,
      ofDays: 31,
    });
  });
});
