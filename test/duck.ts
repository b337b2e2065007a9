import { DuckDBInstance } from '@duckdb/node-api';

/**
 * Runs SQL in an in-memory DuckDB and returns plain rows: the independent computation the tests
 * compare the importers and analytics with. DuckDB reads the raw sample files itself.
 */
export async function duckRows(sql: string): Promise<Array<Record<string, unknown>>> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll(sql);
    return reader.getRowObjectsJS() as Array<Record<string, unknown>>;
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** The first row of a DuckDB query, with bigints turned into numbers. */
export async function duckOne(sql: string): Promise<Record<string, number | string | null>> {
  const [row] = await duckRows(sql);
  if (!row) throw new Error(`no row: ${sql}`);
  const out: Record<string, number | string | null> = {};
  for (const [key, value] of Object.entries(row)) {
    out[key] = typeof value === 'bigint' ? Number(value) : (value as number | string | null);
  }
  return out;
}

/**
 * A DuckDB query giving the sales of a UCI Online Retail file as the importer reads them:
 * `(customer, ts, d, net cents, grp = the invoice's country)`. C-invoices refund the customer's latest
 * earlier invoice holding the stock code, an invoice refunded in full is no sale, A-invoices are
 * skipped and rows without a CustomerID are guest orders.
 */
export function onlineRetailSales(file: string): string {
  return `
  with raw as (select *, row_number() over () as rn from read_csv('${file}', all_varchar = true)),
  lines as (
    select "InvoiceNo" as inv, "StockCode" as sku, cast("Quantity" as bigint) as q,
           cast(round(cast("UnitPrice" as decimal(18, 4)) * 100) as bigint) as cents,
           cast("InvoiceDate" as timestamp) as ts, regexp_replace("CustomerID", '\\.0+$', '') as customer, rn,
           "Country" as country
    from raw),
  invoices as (
    select inv, arg_min(ts, rn) as ts, arg_min(customer, rn) as customer, sum(q * cents) as total, min(rn) as first_rn,
           arg_min(country, rn) as country
    from lines where inv not like 'C%' and inv not like 'A%' group by inv),
  invoice_skus as (select distinct inv, sku from lines where inv not like 'C%' and inv not like 'A%'),
  cancels as (select rn, customer, sku, ts, abs(q) * cents as amount from lines where inv like 'C%' and customer is not null),
  candidates as (
    select c.rn, c.amount, i.inv,
           row_number() over (partition by c.rn order by i.ts desc, i.first_rn desc) as k
    from cancels c
    join invoice_skus s on s.sku = c.sku
    join invoices i on i.inv = s.inv and i.customer = c.customer and i.ts <= c.ts),
  refunded as (select inv, sum(amount) as refunded from candidates where k = 1 group by inv)
  select i.customer, i.ts, cast(i.ts as date) as d, i.total - coalesce(r.refunded, 0) as net, i.country as grp
  from invoices i left join refunded r using (inv)
  where coalesce(r.refunded, 0) = 0 or r.refunded < i.total`;
}
