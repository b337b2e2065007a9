import { sql } from 'kysely';
import { ComebackError } from '../errors.js';
import { GrowingColumns, idRanges } from '../shared/columns.js';
import { MS_PER_DAY } from '../shared/dates.js';
import { toMajor } from '../shared/money.js';
import type { Db } from '../store/index.js';
import { customerKey, int, isSale, localDay, net, resolveCurrency } from './sales.queries.js';

/** The time unit of the model inputs. */
export type SummaryUnit = 'day' | 'week';

export interface SummaryOptions {
  /** The moment the summary describes; the calibration end when none is given. */
  asOf: number;
  /** End (exclusive) of the calibration period; default `asOf`. */
  calibrationEnd?: number;
  unit?: SummaryUnit;
  /** ISO currency; default the main currency of the store (most sales). */
  currency?: string;
}

/**
 * One entry per customer with a purchase before the calibration end, ordered by customer id: the
 * (frequency, recency, T, monetary) inputs of BG/NBD, Pareto/NBD and Gamma-Gamma, plus the plain
 * figures of the per-customer summary. Purchases are counted per distinct local purchase day: the
 * orders of one day are one purchase occasion, as in Fader, Hardie & Lee (2005).
 */
export interface CustomerSummaries {
  readonly customerIds: Float64Array;
  /** Repeat purchases: distinct purchase days after the first. */
  readonly x: Float64Array;
  /** Time from the first to the last purchase day, in `unit` (0 when x = 0). */
  readonly tx: Float64Array;
  /** Age: time from the first purchase day to the last day of the calibration period, in `unit`. */
  readonly T: Float64Array;
  /** Mean net spend of the repeat purchase days, major units; 0 when x = 0. */
  readonly monetary: Float64Array;
  /** Instants of the first and last sale. */
  readonly firstOrderAt: Float64Array;
  readonly lastOrderAt: Float64Array;
  /** Sales (orders, not days), and the repeat orders among them (orders − 1). */
  readonly orders: Float64Array;
  readonly repeatOrders: Float64Array;
  /** Net spend in total and per order, major units. */
  readonly totalSpent: Float64Array;
  readonly averageSpent: Float64Array;
  /** Whole days from the first purchase day to the last calibration day (T in days). */
  readonly ageDays: Float64Array;
  /** Whole days from the last purchase day to the last calibration day. */
  readonly recencyDays: Float64Array;
  readonly unit: SummaryUnit;
  readonly currency: string | null;
  readonly calibrationEnd: number;
  readonly count: number;
}

/**
 * The last local day of a period that ends (exclusively) at `end`, as an epoch day. A calibration that
 * ends at 1997-10-01 00:00 has 1997-09-30 as its last day, so a customer who first bought on
 * 1997-01-01 has T = 272 days = 38.86 weeks, as in the published CDNOW summary.
 */
export function lastDayBefore(end: number): number {
  return Math.floor((end - 1) / MS_PER_DAY);
}

/** Customer ids per page of a whole-store read: a range of ids, never every customer's row at once. */
const ID_PAGE = 50_000;

/**
 * `[from, to)` ranges of `size` customer ids, from the lowest to the highest customer id among the
 * orders; none when no order has a customer. A whole-store read runs one query per range, by the
 * orders' `(customer_id, placed_at)` index, so it never holds one row object per customer.
 */
async function orderCustomerRanges(db: Db, size = ID_PAGE): Promise<Array<readonly [number, number]>> {
  const { rows } = await sql<{ lo: number | null; hi: number | null }>`
    select min(customer_id) as lo, max(customer_id) as hi from orders where customer_id is not null`.execute(db);
  return idRanges(rows[0]?.lo, rows[0]?.hi, size);
}

const SUMMARY_COLUMNS = [
  'customerIds',
  'x',
  'tx',
  'T',
  'monetary',
  'firstOrderAt',
  'lastOrderAt',
  'orders',
  'repeatOrders',
  'totalSpent',
  'averageSpent',
  'ageDays',
  'recencyDays',
] as const;

/**
 * Per-customer calibration summary computed in SQL (distinct-day grouping included), as typed arrays.
 * The store is read 50,000 customer ids at a time: memory is the 13 columns, 104 bytes a customer.
 */
export async function customerSummaries(db: Db, options: SummaryOptions): Promise<CustomerSummaries> {
  const { asOf, calibrationEnd = asOf, unit = 'week' } = options;
  if (calibrationEnd > asOf) {
    throw new ComebackError('bad_input', 'calibrationEnd: must not be after asOf');
  }
  const currency = (await resolveCurrency(db, options.currency, asOf)) ?? null;
  const lastDay = lastDayBefore(calibrationEnd);
  const scale = unit === 'week' ? 7 : 1;
  const columns = new GrowingColumns(SUMMARY_COLUMNS);
  for (const [from, to] of currency === null ? [] : await orderCustomerRanges(db)) {
    const { rows } = await sql<{
      customer_id: number;
      first_day: number;
      last_day: number;
      days: number;
      orders: number;
      total: number;
      first_net: number;
      first_at: number;
      last_at: number;
    }>`
        with days as (
          select ${customerKey('o')} as customer_id, ${localDay('o')} as day, sum(${net('o')}) as net,
                 count(*) as orders, min(o.placed_at) as first_at, max(o.placed_at) as last_at
          from orders o
          where o.customer_id >= ${from} and o.customer_id < ${to} and ${isSale('o')} and o.currency = ${currency}
            and ${localDay('o')} <= ${int(lastDay, 'calibrationEnd')}
          group by 1, 2
        ),
        ranked as (select days.*, row_number() over (partition by customer_id order by day) as rn from days)
        select customer_id, min(day) as first_day, max(day) as last_day, count(*) as days, sum(orders) as orders,
               sum(net) as total, sum(case when rn = 1 then net else 0 end) as first_net,
               min(first_at) as first_at, max(last_at) as last_at
        from ranked
        group by customer_id
        order by customer_id`.execute(db);
    for (const r of rows) {
      const i = columns.add();
      const out = columns.data;
      const firstDay = Number(r.first_day);
      const lastPurchaseDay = Number(r.last_day);
      const x = Number(r.days) - 1;
      const total = Number(r.total);
      const orders = Number(r.orders);
      out.customerIds[i] = Number(r.customer_id);
      out.x[i] = x;
      out.tx[i] = (lastPurchaseDay - firstDay) / scale;
      out.T[i] = (lastDay - firstDay) / scale;
      out.monetary[i] = x > 0 ? toMajor(total - Number(r.first_net), currency!) / x : 0;
      out.firstOrderAt[i] = Number(r.first_at);
      out.lastOrderAt[i] = Number(r.last_at);
      out.orders[i] = orders;
      out.repeatOrders[i] = orders - 1;
      out.totalSpent[i] = toMajor(total, currency!);
      out.averageSpent[i] = toMajor(total, currency!) / orders;
      out.ageDays[i] = lastDay - firstDay;
      out.recencyDays[i] = lastDay - lastPurchaseDay;
    }
  }
  return { ...columns.trimmed(), unit, currency, calibrationEnd, count: columns.length };
}

export interface HoldoutOptions {
  calibrationEnd: number;
  /** End (exclusive) of the hold-out period. */
  holdoutEnd: number;
  currency?: string;
}

/** Distinct purchase days per customer in the hold-out period, aligned with `customerSummaries`. */
export interface HoldoutPurchases {
  readonly customerIds: Float64Array;
  readonly purchases: Float64Array;
}

/**
 * For every customer of the calibration summary (first purchase before the calibration end, same
 * order), the number of distinct purchase days after the calibration's last day up to the hold-out's.
 */
export async function holdoutPurchases(db: Db, options: HoldoutOptions): Promise<HoldoutPurchases> {
  const { calibrationEnd, holdoutEnd } = options;
  if (holdoutEnd < calibrationEnd)
    throw new ComebackError('bad_input', 'holdoutEnd: must not be before calibrationEnd');
  const currency = await resolveCurrency(db, options.currency, holdoutEnd);
  if (currency === undefined) return { customerIds: new Float64Array(0), purchases: new Float64Array(0) };
  const calLast = int(lastDayBefore(calibrationEnd), 'calibrationEnd');
  const holdLast = int(lastDayBefore(holdoutEnd), 'holdoutEnd');
  const columns = new GrowingColumns(['customerIds', 'purchases'] as const);
  for (const [from, to] of await orderCustomerRanges(db)) {
    const { rows } = await sql<{ customer_id: number; purchases: number }>`
      with days as (
        select ${customerKey('o')} as customer_id, ${localDay('o')} as day
        from orders o
        where o.customer_id >= ${from} and o.customer_id < ${to} and ${isSale('o')} and o.currency = ${currency}
          and ${localDay('o')} <= ${holdLast}
        group by 1, 2
      )
      select customer_id, sum(case when day > ${calLast} then 1 else 0 end) as purchases
      from days
      group by customer_id
      having min(day) <= ${calLast}
      order by customer_id`.execute(db);
    for (const r of rows) {
      const i = columns.add();
      columns.data.customerIds[i] = Number(r.customer_id);
      columns.data.purchases[i] = Number(r.purchases);
    }
  }
  return columns.trimmed();
}

/** Customers a one-currency figure leaves out: those who bought in another currency only. */
export interface LeftOutCurrency {
  currency: string;
  /** Customers with a sale in `currency` before the as-of and none in the figure's currency. */
  customers: number;
}

/**
 * The other currencies of the store's sales up to the last day before `asOf`, each with the customers
 * who bought only in them (and so are not in a summary of `currency`), by currency code. A customer
 * who bought in two other currencies is counted under each.
 */
export async function leftOutCurrencies(
  db: Db,
  { asOf, currency }: { asOf: number; currency: string },
): Promise<LeftOutCurrency[]> {
  const lastDay = int(lastDayBefore(asOf), 'asOf');
  const { rows } = await sql<{ currency: string; customers: number }>`
    select o.currency, count(distinct o.customer_id) as customers
    from orders o
    where o.customer_id is not null and ${isSale('o')} and o.currency <> ${currency} and ${localDay('o')} <= ${lastDay}
      and not exists (
        select 1 from orders m
        where m.customer_id = o.customer_id and ${isSale('m')} and m.currency = ${currency} and ${localDay('m')} <= ${lastDay})
    group by o.currency
    order by o.currency`.execute(db);
  return rows.map((r) => ({ currency: r.currency, customers: Number(r.customers) }));
}
