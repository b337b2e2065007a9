import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';

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
/** The country names of the Online Retail file and their ISO 3166 codes; the rest stay as written. */
const ONLINE_RETAIL_COUNTRIES = Object.entries({
  'United Kingdom': 'GB',
  France: 'FR',
  Australia: 'AU',
  Netherlands: 'NL',
  Germany: 'DE',
  Norway: 'NO',
  EIRE: 'IE',
  Switzerland: 'CH',
  Spain: 'ES',
  Poland: 'PL',
  Portugal: 'PT',
  Italy: 'IT',
  Belgium: 'BE',
  Lithuania: 'LT',
  Japan: 'JP',
  Iceland: 'IS',
  'Channel Islands': 'GB',
  Denmark: 'DK',
  Cyprus: 'CY',
  Sweden: 'SE',
  Austria: 'AT',
  Israel: 'IL',
  Finland: 'FI',
  Greece: 'GR',
  Singapore: 'SG',
  Lebanon: 'LB',
  'United Arab Emirates': 'AE',
  'Saudi Arabia': 'SA',
  'Czech Republic': 'CZ',
  Canada: 'CA',
  Brazil: 'BR',
  USA: 'US',
  Bahrain: 'BH',
  Malta: 'MT',
  RSA: 'ZA',
  'Hong Kong': 'HK',
})
  .map(([name, code]) => `('${name}', '${code}')`)
  .join(', ');

/**
 * The Online Retail sales (customer, ts, d, net, grp = country) as DuckDB SQL over the raw file, net of
 * the cancellations that `createRetailRefunds` allocated into the table `refunded` (call it first on
 * the same connection); a fully cancelled invoice is not a sale.
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
  -- The importer stores ISO 3166 codes; these are the file's country names, written out by hand.
  iso(name, code) as (values ${ONLINE_RETAIL_COUNTRIES})
  select i.customer, i.ts, cast(i.ts as date) as d, i.total - coalesce(r.refunded, 0) as net,
         coalesce(iso.code, i.country) as grp
  from invoices i left join refunded r using (inv) left join iso on iso.name = i.country
  where coalesce(r.refunded, 0) = 0 or r.refunded < i.total`;
}

/**
 * `refunded(inv, refunded)`: each cancellation line, in file order, takes back its units from the same
 * customer's invoices placed no later, holding the stock code: first those with a line of it at the
 * cancellation's unit price, latest first, then the rest, latest first; never more units of an invoice
 * than it bought less those taken before, never more money than the invoice has left. A manual credit
 * (`M`) counts only `M` lines at its unit price (units bought at that price less those taken back at
 * that price); one with no such line in an earlier invoice refunds the customer's latest earlier
 * invoice with exactly its amount left, if any.
 */
export async function createRetailRefunds(connection: DuckDBConnection, file: string): Promise<void> {
  const lines = `
    select "InvoiceNo" as inv, "StockCode" as sku, cast("Quantity" as bigint) as q,
           cast(round(cast("UnitPrice" as decimal(18, 4)) * 100) as bigint) as cents,
           cast("InvoiceDate" as timestamp) as ts, regexp_replace("CustomerID", '\\.0+$', '') as customer,
           row_number() over () as rn
    from read_csv('${file}', all_varchar = true)`;
  await connection.run(`create table retail_lines as ${lines}`);
  const read = async (query: string) =>
    (await connection.runAndReadAll(query)).getRowObjectsJS() as Array<Record<string, bigint | string | null>>;
  const invoices = new Map<
    string,
    {
      total: number;
      refunded: number;
      /** Units bought per stock code, and per `stock code|cents`. */
      bought: Map<string, number>;
      boughtAt: Map<string, number>;
      /** Units taken back per stock code (`M`: per `M|cents`, a manual unit being an amount). */
      taken: Map<string, number>;
    }
  >();
  const bySkuCustomer = new Map<string, Array<{ inv: string; ts: number; firstRn: number }>>();
  const byCustomer = new Map<string, Array<{ inv: string; ts: number; firstRn: number }>>();
  for (const r of await read(`
      select inv, sku, customer, epoch_ms(min(ts) over (partition by inv)) as ts, min(rn) over (partition by inv) as first_rn,
             sum(q * cents) over (partition by inv) as total, q, cents
      from retail_lines where inv not like 'C%' and inv not like 'A%' and customer is not null order by rn`)) {
    const inv = String(r.inv);
    const invoice = invoices.get(inv) ?? {
      total: Number(r.total),
      refunded: 0,
      bought: new Map(),
      boughtAt: new Map(),
      taken: new Map(),
    };
    if (!invoices.has(inv)) {
      const list = byCustomer.get(String(r.customer)) ?? [];
      list.push({ inv, ts: Number(r.ts), firstRn: Number(r.first_rn) });
      byCustomer.set(String(r.customer), list);
    }
    invoices.set(inv, invoice);
    const sku = String(r.sku);
    const q = Number(r.q);
    if (q > 0) {
      if (!invoice.bought.has(sku)) {
        const key = `${r.customer}|${sku}`;
        const list = bySkuCustomer.get(key) ?? [];
        list.push({ inv, ts: Number(r.ts), firstRn: Number(r.first_rn) });
        bySkuCustomer.set(key, list);
      }
      invoice.bought.set(sku, (invoice.bought.get(sku) ?? 0) + q);
      const at = `${sku}|${r.cents}`;
      invoice.boughtAt.set(at, (invoice.boughtAt.get(at) ?? 0) + q);
    }
  }
  for (const list of [...bySkuCustomer.values(), ...byCustomer.values()]) {
    list.sort((a, b) => b.ts - a.ts || b.firstRn - a.firstRn);
  }
  const cancels = await read(`
    select customer, sku, epoch_ms(ts) as ts, -q as units, cents from retail_lines
    where inv like 'C%' and customer is not null order by rn`);
  for (const c of cancels) {
    const sku = String(c.sku);
    const manual = sku.toUpperCase() === 'M';
    const at = `${sku}|${c.cents}`;
    let units = Number(c.units);
    let left = units * Number(c.cents);
    // The earlier invoices that hold the stock code (latest first): those with it at this price, then
    // the others; a manual credit's only at this price.
    const earlier = (bySkuCustomer.get(`${c.customer}|${sku}`) ?? []).filter((i) => i.ts <= Number(c.ts));
    const samePrice = earlier.filter((i) => invoices.get(i.inv)!.boughtAt.has(at));
    const candidates = manual ? samePrice : [...samePrice, ...earlier.filter((i) => !samePrice.includes(i))];
    for (const candidate of candidates) {
      if (units <= 0) break;
      const invoice = invoices.get(candidate.inv)!;
      const key = manual ? at : sku;
      const bought = manual ? invoice.boughtAt.get(at)! : invoice.bought.get(sku)!;
      const free = bought - (invoice.taken.get(key) ?? 0);
      if (free <= 0) continue;
      const take = Math.min(units, free);
      const value = take === units ? left : take * Number(c.cents);
      const applied = Math.min(value, Math.max(0, invoice.total - invoice.refunded), left);
      if (applied <= 0) continue;
      invoice.refunded += applied;
      invoice.taken.set(key, (invoice.taken.get(key) ?? 0) + take);
      units -= take;
      left -= applied;
    }
    // A manual credit (stock code `M`) the customer bought at its price in no earlier invoice refunds
    // their latest earlier invoice that has exactly that much left, if there is one; a product's credit
    // never does.
    if (manual && candidates.length === 0 && left > 0) {
      const whole = (byCustomer.get(String(c.customer)) ?? []).find((i) => {
        const invoice = invoices.get(i.inv)!;
        return i.ts <= Number(c.ts) && invoice.total - invoice.refunded === left;
      });
      if (whole) invoices.get(whole.inv)!.refunded += left;
    }
  }
  await connection.run('create table refunded (inv varchar, refunded bigint)');
  const rows = [...invoices].filter(([, i]) => i.refunded > 0).map(([inv, i]) => `('${inv}', ${i.refunded})`);
  if (rows.length > 0) await connection.run(`insert into refunded values ${rows.join(', ')}`);
}
