import { type RawBuilder, sql } from 'kysely';
import { ComebackError } from '../errors.js';
import { dayEndInZone, MS_PER_DAY } from '../shared/dates.js';
import { MAIN_CURRENCY_DAYS } from '../shared/money.js';
import { type Db, REVENUE_STATUSES } from '../store/index.js';

/**
 * The building blocks every analytics query shares: what a sale is, its local purchase day, and which
 * currency a figure is in. Numbers that come from code (instants, windows) are written into the SQL as
 * literals after a safe-integer check, so that PostgreSQL never has to guess a parameter's type in
 * arithmetic; text (currencies) is always a bound parameter.
 */

/** A checked integer literal for SQL (an instant, a day number, a window length). */
export function int(value: number, field = 'value'): RawBuilder<number> {
  if (!Number.isSafeInteger(value)) throw new ComebackError('bad_input', `${field}: ${value} is not a whole number`);
  return sql.lit(value);
}

/** `status in ('paid', 'partially_refunded')`: the orders that count as sales, on `alias`. */
export function isSale(alias = 'orders'): RawBuilder<boolean> {
  return sql`${sql.ref(`${alias}.status`)} in (${sql.join(REVENUE_STATUSES)})`;
}

/**
 * The local calendar day of an order as an epoch day number: the same day as `placed_date`, computed
 * from integers so that it is spelled identically on SQLite and PostgreSQL.
 */
export function localDay(alias = 'orders'): RawBuilder<number> {
  return sql`((${sql.ref(`${alias}.placed_at`)} + ${sql.ref(`${alias}.placed_offset`)} * 60000) / ${sql.lit(MS_PER_DAY)})`;
}

/** The calendar month of an order's local date as `year × 12 + month − 1`. */
export function monthIndex(alias = 'orders'): RawBuilder<number> {
  const date = sql.ref(`${alias}.placed_date`);
  return sql`(cast(substr(${date}, 1, 4) as integer) * 12 + cast(substr(${date}, 6, 2) as integer) - 1)`;
}

/** The Monday-based week of an order's local date, numbered as `weekOfEpochDay` does. */
export function weekIndex(alias = 'orders'): RawBuilder<number> {
  return sql`((${localDay(alias)} + 3) / 7)`;
}

/**
 * The customer id as a grouping key. The unary `+` keeps SQLite from grouping along the
 * (customer_id, placed_at) index, which would fetch every row by id instead of scanning and sorting.
 */
export function customerKey(alias = 'orders'): RawBuilder<number> {
  return sql`+${sql.ref(`${alias}.customer_id`)}`;
}

/** The net amount of a sale: its total less what was refunded of it. */
export function net(alias = 'orders'): RawBuilder<number> {
  return sql`(${sql.ref(`${alias}.total_minor`)} - ${sql.ref(`${alias}.refunded_minor`)})`;
}

/**
 * The WHERE clause of an analytics scan: the sales of one currency placed before `before`, of
 * identified customers only unless `guests` is set. Analytics read (nearly) all of a store's history,
 * so the instant is compared through a unary `+`, which keeps SQLite from walking the `placed_at`
 * index and fetching every row by id (three times slower than scanning the table); PostgreSQL reads
 * `+x` as `x`.
 */
export function salesWhere(
  alias: string,
  { currency, before, guests = false }: { currency: string; before: number; guests?: boolean },
): RawBuilder<boolean> {
  const customers = guests ? sql`` : sql` and ${sql.ref(`${alias}.customer_id`)} is not null`;
  return sql`${isSale(alias)} and ${sql.ref(`${alias}.currency`)} = ${currency} and +${sql.ref(`${alias}.placed_at`)} < ${int(before, 'asOf')}${customers}`;
}

/** Every column of `orders`, for a derived table that stands in for it. */
const ORDER_COLUMNS = [
  'id',
  'source',
  'external_id',
  'customer_id',
  'email',
  'placed_at',
  'placed_offset',
  'placed_date',
  'currency',
  'subtotal_minor',
  'shipping_minor',
  'tax_minor',
  'discount_minor',
  'total_minor',
  'discount_codes',
  'country',
  'cancelled_at',
  'imported_at',
  'source_updated_at',
  'presentment_currency',
  'presentment_total_minor',
  'payment_method',
  'referring_site',
  'landing_site',
  'sales_channel',
  'utm_source',
  'utm_medium',
  'utm_campaign',
] as const;

/**
 * The orders as they stood at the instant `asOf` (exclusive: `--as-of D` is the end of day D), a
 * derived table with the columns of `orders` to put in its place (`from ${ordersAsOf(t)} o`), so that a
 * figure as of D is the same whenever it is computed (issue 13):
 *
 * - `refunded_minor` counts only the refunds dated before `asOf`: a refund row with
 *   `refunded_at >= asOf` is taken back out. Refunded amounts with no dated row (an export that gives
 *   only the refunded total) have no date and count at every as-of;
 * - `status` is the status then: `refunded` with something left is `partially_refunded`, a
 *   `partially_refunded` order with nothing refunded yet is `paid`, and an order `cancelled` at or
 *   after `asOf` (`cancelled_at`) was a sale (`paid`, or `partially_refunded` when part was already
 *   refunded, `refunded` when all was). An undated cancellation counts at every as-of.
 *
 * Orders placed at or after `asOf` are still listed (the caller bounds `placed_at`, as `salesWhere`
 * does). The same rules as `salesAsOf` in `src/segments`.
 */
export function ordersAsOf(asOf: number): RawBuilder<unknown> {
  const at = int(asOf, 'asOf');
  const refunded = sql`(o.refunded_minor - coalesce(lr.late, 0))`;
  const columns = sql.join(ORDER_COLUMNS.map((c) => sql.ref(`o.${c}`)));
  return sql`(select ${columns}, ${refunded} as refunded_minor,
      case
        when o.status = 'refunded' and ${refunded} < o.total_minor then 'partially_refunded'
        when o.status = 'partially_refunded' and ${refunded} <= 0 then 'paid'
        when o.status = 'cancelled' and o.cancelled_at is not null and o.cancelled_at >= ${at}
          then case when ${refunded} >= o.total_minor then 'refunded' when ${refunded} > 0 then 'partially_refunded'
            else 'paid' end
        else o.status end as status
    from orders o
    left join (select order_id, sum(amount_minor) as late from refunds
      where order_id is not null and refunded_at >= ${at} group by order_id) lr on lr.order_id = o.id)`;
}

/** A currency of the store with how many sales it has, and how many in the year before the as-of. */
export interface CurrencyCount {
  currency: string;
  orders: number;
  /** Sales in the `MAIN_CURRENCY_DAYS` days before the as-of (all of them without an as-of). */
  recentOrders: number;
}

/**
 * The currencies of the store's sales, the main one first (most sales in the `MAIN_CURRENCY_DAYS` days
 * before `asOf`, then most sales, then alphabetical); with `asOf`, of the sales placed before it as they
 * stood then (`ordersAsOf`), so that later sales cannot change a past figure's currency.
 */
export async function saleCurrencies(db: Db, asOf?: number): Promise<CurrencyCount[]> {
  const { rows } =
    asOf === undefined
      ? await sql<{ currency: string; n: number; recent: number }>`select currency, count(*) as n, count(*) as recent
          from orders o where ${isSale('o')} group by currency`.execute(db)
      : await sql<{ currency: string; n: number; recent: number }>`select o.currency, count(*) as n,
          sum(case when o.placed_at >= ${int(asOf - MAIN_CURRENCY_DAYS * MS_PER_DAY, 'asOf')} then 1 else 0 end) as recent
          from ${ordersAsOf(asOf)} o
          where ${isSale('o')} and +o.placed_at < ${int(asOf, 'asOf')} group by o.currency`.execute(db);
  return rows
    .map((r) => ({ currency: r.currency, orders: Number(r.n), recentOrders: Number(r.recent) }))
    .sort((a, b) => b.recentOrders - a.recentOrders || b.orders - a.orders || a.currency.localeCompare(b.currency));
}

/**
 * The currency a figure is computed in: the one asked for (checked to exist) or the main currency of
 * the store (of its sales before `asOf` when given, see `saleCurrencies`). Undefined when the store has
 * no sales at all.
 */
export async function resolveCurrency(db: Db, currency?: string, asOf?: number): Promise<string | undefined> {
  if (currency === undefined) {
    if (asOf !== undefined) return (await saleCurrencies(db, asOf))[0]?.currency;
    // Most stores sell in one currency: one pass without grouping tells so, and then it is the main one.
    const span = await db
      .selectFrom('orders')
      .select([sql<string | null>`min(currency)`.as('lo'), sql<string | null>`max(currency)`.as('hi')])
      .where(isSale())
      .executeTakeFirstOrThrow();
    if (span.lo === span.hi) return span.lo ?? undefined;
    return (await saleCurrencies(db))[0]?.currency;
  }
  const code = currency.trim().toUpperCase();
  if (asOf !== undefined) {
    const known = (await saleCurrencies(db, asOf)).map((c) => c.currency);
    if (known.includes(code)) return code;
    throw new ComebackError(
      'bad_input',
      `currency ${currency}: the store has no sales in it before the as-of (it has ${known.join(', ') || 'none'})`,
    );
  }
  const found = await db
    .selectFrom('orders')
    .select('currency')
    .where(isSale())
    .where('currency', '=', code)
    .limit(1)
    .executeTakeFirst();
  if (!found) {
    const known = (await saleCurrencies(db)).map((c) => c.currency).join(', ') || 'none';
    throw new ComebackError('bad_input', `currency ${currency}: the store has no sales in it (it has ${known})`);
  }
  return code;
}

/**
 * The default `asOf` every command and endpoint shares, "the store's latest data": the end of the day
 * of the latest sale (the next midnight in the store's `timeZone`, IANA, default UTC), so that a historical data set gives meaningful figures
 * and its last day counts whole; of one currency's sales when `currency` is given. Undefined when there
 * are no sales. The currency a figure then defaults to is the one the store sold most in during the
 * year before it (`saleCurrencies`), so old sales in another currency do not make a table of zeros.
 */
export async function defaultAsOf(db: Db, currency?: string, timeZone = 'UTC'): Promise<number | undefined> {
  return latestSaleEnd(db, currency, undefined, timeZone);
}

/**
 * The end of the day (the next midnight in `timeZone`, the store's IANA zone, default UTC; epoch ms)
 * of the latest sale in any currency, or of `currency` when given. With `asOf`, of the sales placed before it as they stood then (`ordersAsOf`),
 * so that nothing later changes it. Undefined when there is no such sale.
 */
export async function latestSaleEnd(
  db: Db,
  currency?: string,
  asOf?: number,
  timeZone = 'UTC',
): Promise<number | undefined> {
  const code = currency?.trim().toUpperCase();
  const row =
    asOf === undefined
      ? await (code === undefined ? db.selectFrom('orders') : db.selectFrom('orders').where('currency', '=', code))
          .select(sql<number | null>`max(placed_at)`.as('last'))
          .where(isSale())
          .executeTakeFirstOrThrow()
      : (
          await sql<{ last: number | null }>`select max(o.placed_at) as last from ${ordersAsOf(asOf)} o
            where ${isSale('o')} and +o.placed_at < ${int(asOf, 'asOf')}
            ${code === undefined ? sql`` : sql`and o.currency = ${code}`}`.execute(db)
        ).rows[0]!;
  if (row.last === null) return undefined;
  return dayEndInZone(Number(row.last), timeZone);
}
