import { type RawBuilder, sql } from 'kysely';
import { GrowingColumns, idRanges } from '../shared/columns.js';
import { MAIN_CURRENCY_DAYS } from '../shared/money.js';
import type { Db } from '../store/index.js';
import { salesAsOf } from './sales-as-of.queries.js';

/**
 * The per-customer aggregates segments need, computed in the database and handed out as compact
 * columns. Sales are read as of `asOf` (see `salesAsOf`): placed before it, at their net amount less
 * only the refunds dated before it.
 */

/**
 * The main currency as of `asOf`, the same rule as `saleCurrencies` in `src/analytics`: most sales in the
 * `MAIN_CURRENCY_DAYS` days before it, then most sales before it, then alphabetical. Undefined when there
 * are no sales.
 */
export async function mainCurrency(db: Db, asOf: number): Promise<string | undefined> {
  const recentFrom = sql.lit(asOf - MAIN_CURRENCY_DAYS * 86_400_000);
  const result = await sql<{ currency: string }>`
    select s.currency from ${salesAsOf(asOf)} s
    group by s.currency
    order by sum(case when s.placed_at >= ${recentFrom} then 1 else 0 end) desc, count(*) desc, s.currency
    limit 1`.execute(db);
  return result.rows[0]?.currency;
}

/** R, F and M inputs per customer, one array element per customer, ordered by customer id. */
export interface SalesAggregates {
  customerId: number[];
  firstSaleAt: Float64Array;
  lastSaleAt: Float64Array;
  sales: Float64Array;
  netMinor: Float64Array;
}

/** Customers per page of `salesAggregates`' whole-store read: a range of ids, not every customer at once. */
const ID_PAGE = 50_000;

/**
 * First and last sale, number of sales and net spend per customer, in one currency, as of `asOf`.
 * Without `customerIds`, the whole store is read a range of 50,000 customer ids at a time (by the
 * orders' `(customer_id, placed_at)` index), so no result of one row object per customer is ever held:
 * memory is the five columns, 40 bytes a customer.
 */
export async function salesAggregates(
  db: Db,
  { asOf, currency, customerIds }: { asOf: number; currency: string; customerIds?: readonly number[] },
): Promise<SalesAggregates> {
  const page = async (where: RawBuilder<unknown>) =>
    (
      await sql<{ customer_id: number; first_at: number; last_at: number; sales: number; net: number }>`
        select s.customer_id, min(s.placed_at) as first_at, max(s.placed_at) as last_at, count(*) as sales,
          sum(s.net) as net
        from ${salesAsOf(asOf)} s
        where s.customer_id is not null and s.currency = ${currency} ${where}
        group by s.customer_id order by s.customer_id`.execute(db)
    ).rows;
  const out: SalesAggregates = {
    customerId: [],
    firstSaleAt: new Float64Array(0),
    lastSaleAt: new Float64Array(0),
    sales: new Float64Array(0),
    netMinor: new Float64Array(0),
  };
  const append = (rows: Awaited<ReturnType<typeof page>>) => {
    const at = out.customerId.length;
    const grow = (a: Float64Array) => {
      const b = new Float64Array(at + rows.length);
      b.set(a);
      return b;
    };
    out.firstSaleAt = grow(out.firstSaleAt);
    out.lastSaleAt = grow(out.lastSaleAt);
    out.sales = grow(out.sales);
    out.netMinor = grow(out.netMinor);
    rows.forEach((row, i) => {
      out.customerId.push(Number(row.customer_id));
      out.firstSaleAt[at + i] = Number(row.first_at);
      out.lastSaleAt[at + i] = Number(row.last_at);
      out.sales[at + i] = Number(row.sales);
      out.netMinor[at + i] = Number(row.net);
    });
  };
  if (customerIds) {
    append(await page(sql`and s.customer_id in (${sql.join(customerIds.length > 0 ? [...customerIds] : [-1])})`));
    return out;
  }
  for (const [from, to] of await customerIdRanges(db, ID_PAGE)) {
    append(await page(sql`and s.customer_id >= ${from} and s.customer_id < ${to}`));
  }
  return out;
}

/**
 * The ranges of customer ids a whole-store pass reads one at a time (`[from, to)`, `size` ids each),
 * from the lowest to the highest id among customers and the labels stored for them, so that a
 * label of a customer who is gone is in a range too. None for an empty store.
 */
export async function customerIdRanges(db: Db, size: number): Promise<Array<readonly [number, number]>> {
  const { rows } = await sql<{ lo: number | null; hi: number | null }>`
    select min(lo) as lo, max(hi) as hi from (
      select min(id) as lo, max(id) as hi from customers
      union all select min(customer_id), max(customer_id) from customer_segments
    ) b`.execute(db);
  return idRanges(rows[0]?.lo, rows[0]?.hi, size);
}

/** `purchaseFacts` of the whole store as of `asOf`, one range of 50,000 customer ids at a time. */
export async function* purchaseFactsByRange(db: Db, asOf: number): AsyncGenerator<Map<number, PurchaseFacts>> {
  for (const idRange of await customerIdRanges(db, ID_PAGE)) yield purchaseFacts(db, { asOf, idRange });
}

/**
 * The days between each customer's consecutive sales (any currency) before `asOf`, over the whole
 * store, in no particular order. Read 50,000 customer ids at a time into one growing column, so memory
 * is 8 bytes a gap (about 72 MB for 10,000,000 orders), never a row object each.
 */
export async function interOrderDays(db: Db, asOf: number): Promise<Float64Array> {
  const gaps = new GrowingColumns(['days'] as const);
  for (const [from, to] of await customerIdRanges(db, ID_PAGE)) {
    const result = await sql<{ gap: number }>`
      select gap from (
        select s.placed_at - lag(s.placed_at) over (partition by s.customer_id order by s.placed_at, s.id) as gap
        from ${salesAsOf(asOf)} s
        where s.customer_id >= ${from} and s.customer_id < ${to}
      ) g
      where gap is not null`.execute(db);
    for (const row of result.rows) {
      const i = gaps.add(); // before reading `data`: adding may replace the column
      gaps.data.days[i] = Number(row.gap) / 86_400_000;
    }
  }
  return gaps.trimmed().days;
}

/** What a customer did up to `asOf`: sales in any currency and the first sale's value. */
export interface PurchaseFacts {
  sales: number;
  firstSaleAt: number;
  lastSaleAt: number;
  firstSaleMinor: number;
  firstSaleCurrency: string;
  /** The last order of any status but cancelled, which ends a cart abandonment. */
  lastOrderAt: number | null;
}

/**
 * Purchase facts per customer (every customer with a sale or an order), of `customerIds` only or of
 * the customers whose ids are in `idRange` (`[from, to)`) only, when given.
 */
export async function purchaseFacts(
  db: Db,
  {
    asOf,
    customerIds,
    idRange,
  }: { asOf: number; customerIds?: readonly number[]; idRange?: readonly [number, number] },
): Promise<Map<number, PurchaseFacts>> {
  const only = customerIds
    ? sql`and customer_id in (${sql.join(customerIds.length > 0 ? [...customerIds] : [-1])})`
    : idRange
      ? sql`and customer_id >= ${idRange[0]} and customer_id < ${idRange[1]}`
      : sql``;
  const sales = await sql<{
    customer_id: number;
    sales: number;
    first_at: number;
    last_at: number;
    first_minor: number;
    first_currency: string;
  }>`
    with s as (select * from ${salesAsOf(asOf)} x where x.customer_id is not null ${only}),
    firsts as (
      select customer_id, net, currency,
        row_number() over (partition by customer_id order by placed_at, id) as k
      from s
    )
    select a.customer_id, a.sales, a.first_at, a.last_at, f.net as first_minor, f.currency as first_currency
    from (
      select customer_id, count(*) as sales, min(placed_at) as first_at, max(placed_at) as last_at
      from s group by customer_id
    ) a
    join firsts f on f.customer_id = a.customer_id and f.k = 1`.execute(db);
  const anyOrder = await sql<{ customer_id: number; last_at: number }>`
    select customer_id, max(placed_at) as last_at from orders
    where customer_id is not null and placed_at < ${asOf} ${only}
      and (status <> 'cancelled' or (cancelled_at is not null and cancelled_at >= ${asOf}))
    group by customer_id`.execute(db);
  const facts = new Map<number, PurchaseFacts>();
  for (const row of sales.rows) {
    facts.set(Number(row.customer_id), {
      sales: Number(row.sales),
      firstSaleAt: Number(row.first_at),
      lastSaleAt: Number(row.last_at),
      firstSaleMinor: Number(row.first_minor),
      firstSaleCurrency: row.first_currency,
      lastOrderAt: null,
    });
  }
  for (const row of anyOrder.rows) {
    const id = Number(row.customer_id);
    const known = facts.get(id);
    if (known) known.lastOrderAt = Number(row.last_at);
    else
      facts.set(id, {
        sales: 0,
        firstSaleAt: 0,
        lastSaleAt: 0,
        firstSaleMinor: 0,
        firstSaleCurrency: '',
        lastOrderAt: Number(row.last_at),
      });
  }
  return facts;
}

/** Event names of the Segment e-commerce spec that mean a product was looked at or put in a cart. */
export const PRODUCT_VIEW_EVENTS: readonly string[] = ['Product Viewed'];
export const CART_EVENTS: readonly string[] = ['Product Added', 'Checkout Started'];
/**
 * The e-commerce spec's purchase event. It creates no order (only webhooks, imports and `POST /orders`
 * do, so that revenue is never counted twice); it does end a cart: its buyer is not an abandoner.
 */
export const ORDER_EVENTS: readonly string[] = ['Order Completed'];

/** What a customer did on the site in a period. */
export interface BehaviourFacts {
  pageViews: number;
  productViews: number;
  /** The latest add-to-cart or checkout start, or null. */
  lastCartAt: number | null;
  /** The latest `Order Completed` event, or null. */
  lastOrderEventAt?: number | null;
  sessions: number;
  /** The most page views in one session. */
  maxPagesPerSession: number;
}

/**
 * Site behaviour per customer over `[from, asOf)`, the window every segment figure uses. Events count for a customer through their
 * `customer_id`, or through an anonymous id later linked to them. A session is the event's
 * `session_id` when present, else a run of events with no gap longer than `sessionGapMs`.
 */
export async function behaviourFacts(
  db: Db,
  {
    from,
    asOf,
    sessionGapMs = 30 * 60_000,
    customerIds,
    idRange,
  }: {
    from: number;
    asOf: number;
    sessionGapMs?: number;
    customerIds?: readonly number[];
    /** Only the customers whose ids are in `[from, to)`. */
    idRange?: readonly [number, number];
  },
): Promise<Map<number, BehaviourFacts>> {
  const only = customerIds
    ? sql`where cid in (${sql.join(customerIds.length > 0 ? [...customerIds] : [-1])})`
    : idRange
      ? sql`where cid >= ${idRange[0]} and cid < ${idRange[1]}`
      : sql``;
  const result = await sql<{
    cid: number;
    page_views: number;
    product_views: number;
    last_cart_at: number | null;
    last_order_event_at: number | null;
    sessions: number;
    max_pages: number;
  }>`
    with ev as (
      select * from (
        select coalesce(e.customer_id, a.customer_id) as cid, e.type, e.event, e.session_id, e.occurred_at
        from events e
        left join anonymous_ids a on e.customer_id is null and a.anonymous_id = e.anonymous_id
        where e.occurred_at >= ${from} and e.occurred_at < ${asOf} and e.type in ('page', 'track', 'screen')
      ) x ${only}
    ),
    marked as (
      select cid, type, event, session_id, occurred_at,
        case when session_id is null and (
          lag(occurred_at) over (partition by cid, session_id order by occurred_at) is null
          or occurred_at - lag(occurred_at) over (partition by cid, session_id order by occurred_at) > ${sessionGapMs}
        ) then 1 else 0 end as starts
      from ev where cid is not null
    ),
    numbered as (
      select cid, type, event, session_id, occurred_at,
        sum(starts) over (partition by cid, session_id order by occurred_at rows between unbounded preceding and current row) as run
      from marked
    ),
    sessions as (
      select cid, session_id, run, sum(case when type = 'page' then 1 else 0 end) as pages
      from numbered group by cid, session_id, run
    ),
    per_customer as (
      select cid,
        sum(case when type = 'page' then 1 else 0 end) as page_views,
        sum(case when event in (${sql.join(PRODUCT_VIEW_EVENTS)}) then 1 else 0 end) as product_views,
        max(case when event in (${sql.join(CART_EVENTS)}) then occurred_at end) as last_cart_at,
        max(case when type = 'track' and event in (${sql.join(ORDER_EVENTS)}) then occurred_at end) as last_order_event_at
      from ev where cid is not null group by cid
    )
    select p.cid, p.page_views, p.product_views, p.last_cart_at, p.last_order_event_at,
      coalesce(s.sessions, 0) as sessions, coalesce(s.max_pages, 0) as max_pages
    from per_customer p
    left join (select cid, count(*) as sessions, max(pages) as max_pages from sessions group by cid) s on s.cid = p.cid`.execute(
    db,
  );
  const facts = new Map<number, BehaviourFacts>();
  for (const row of result.rows) {
    facts.set(Number(row.cid), {
      pageViews: Number(row.page_views),
      productViews: Number(row.product_views),
      lastCartAt: row.last_cart_at === null ? null : Number(row.last_cart_at),
      lastOrderEventAt: row.last_order_event_at === null ? null : Number(row.last_order_event_at),
      sessions: Number(row.sessions),
      maxPagesPerSession: Number(row.max_pages),
    });
  }
  return facts;
}
