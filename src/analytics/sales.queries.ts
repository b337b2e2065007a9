import { type RawBuilder, sql } from 'kysely';
import { ComebackError } from '../errors.js';
import { MS_PER_DAY } from '../shared/dates.js';
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

/** A currency of the store with how many sales it has. */
export interface CurrencyCount {
  currency: string;
  orders: number;
}

/** The currencies of the store's sales, the main one (most orders) first. */
export async function saleCurrencies(db: Db): Promise<CurrencyCount[]> {
  const rows = await db
    .selectFrom('orders')
    .select(['currency', sql<number>`count(*)`.as('n')])
    .where(isSale())
    .groupBy('currency')
    .execute();
  return rows
    .map((r) => ({ currency: r.currency, orders: Number(r.n) }))
    .sort((a, b) => b.orders - a.orders || a.currency.localeCompare(b.currency));
}

/**
 * The currency a figure is computed in: the one asked for (checked to exist) or the main currency of
 * the store. Undefined when the store has no sales at all.
 */
export async function resolveCurrency(db: Db, currency?: string): Promise<string | undefined> {
  if (currency === undefined) {
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
 * The default `asOf`: the start of the day after the latest sale, so that a historical data set gives
 * meaningful figures and its last day counts whole (of one currency's sales, when given). Undefined when
 * there are no sales.
 */
export async function defaultAsOf(db: Db, currency?: string): Promise<number | undefined> {
  let query = db.selectFrom('orders').select(sql<number | null>`max(placed_at)`.as('last')).where(isSale());
  if (currency !== undefined) query = query.where('currency', '=', currency.trim().toUpperCase());
  const row = await query.executeTakeFirstOrThrow();
  if (row.last === null) return undefined;
  return (Math.floor(Number(row.last) / MS_PER_DAY) + 1) * MS_PER_DAY;
}
