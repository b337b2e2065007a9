import { sql } from 'kysely';
import { toMajor } from '../shared/money.js';
import type { Db } from './db.js';
import type { OrderStatus } from './schema.js';
import { isComebackEvent } from './system-events.js';

/** Orders that count as sales: paid, or paid and partly refunded (at their net amount). */
export const REVENUE_STATUSES: readonly OrderStatus[] = ['paid', 'partially_refunded'];

export interface StoreStats {
  customers: number;
  orders: number;
  lines: number;
  /** Refund records (dated rows); refunds that exports give only as an order's refunded total are in `revenue`. */
  refunds: number;
  products: number;
  /** Events the store sent (Segment calls: its browsing, e-mail and other tracked events). */
  events: number;
  /**
   * Events Comeback wrote itself (system-events.ts): lifecycle stage changes, reviews and survey
   * answers on its own pages. Flows trigger on them; they are not the store's events.
   */
  comebackEvents: number;
  /**
   * Per currency (never added together): the paid orders and their net revenue (minor units and major);
   * the orders with anything refunded, whatever their status, and the refunded amount stored on them
   * (from refund records or from the export's refunded total); and the refund records that matched no
   * order, with their amount.
   */
  revenue: Array<{
    currency: string;
    orders: number;
    revenueMinor: number;
    revenue: number;
    refundedOrders: number;
    refundedMinor: number;
    unmatchedRefunds: number;
    unmatchedRefundedMinor: number;
  }>;
  firstOrderAt: number | null;
  lastOrderAt: number | null;
}

/** What the store holds: counts, revenue by currency and the span of the orders. */
export async function storeStats(db: Db): Promise<StoreStats> {
  const count = async (table: 'customers' | 'orders' | 'order_lines' | 'refunds' | 'products') => {
    const row = await db.selectFrom(table).select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow();
    return Number(row.n);
  };
  const revenue = await db
    .selectFrom('orders')
    .select([
      'currency',
      sql<number>`sum(case when status in (${sql.join(REVENUE_STATUSES)}) then 1 else 0 end)`.as('orders'),
      sql<number>`coalesce(sum(case when status in (${sql.join(REVENUE_STATUSES)})
        then total_minor - refunded_minor else 0 end), 0)`.as('revenue_minor'),
      sql<number>`sum(case when refunded_minor > 0 then 1 else 0 end)`.as('refunded_orders'),
      sql<number>`coalesce(sum(case when refunded_minor > 0 then refunded_minor else 0 end), 0)`.as('refunded_minor'),
    ])
    .groupBy('currency')
    .execute();
  const unmatched = await db
    .selectFrom('refunds')
    .select(['currency', sql<number>`count(*)`.as('n'), sql<number>`coalesce(sum(amount_minor), 0)`.as('amount')])
    .where('order_id', 'is', null)
    .groupBy('currency')
    .execute();
  const currencies = [...new Set([...revenue.map((r) => r.currency), ...unmatched.map((r) => r.currency)])].sort();
  const events = await db
    .selectFrom('events as e')
    .select([
      sql<number>`count(*)`.as('n'),
      sql<number>`coalesce(sum(case when ${isComebackEvent('e')} then 1 else 0 end), 0)`.as('comeback'),
    ])
    .executeTakeFirstOrThrow();
  const span = await db
    .selectFrom('orders')
    .select([sql<number | null>`min(placed_at)`.as('first'), sql<number | null>`max(placed_at)`.as('last')])
    .executeTakeFirstOrThrow();
  return {
    customers: await count('customers'),
    orders: await count('orders'),
    lines: await count('order_lines'),
    refunds: await count('refunds'),
    products: await count('products'),
    events: Number(events.n) - Number(events.comeback),
    comebackEvents: Number(events.comeback),
    revenue: currencies.map((currency) => {
      const r = revenue.find((row) => row.currency === currency);
      const u = unmatched.find((row) => row.currency === currency);
      const revenueMinor = Number(r?.revenue_minor ?? 0);
      return {
        currency,
        orders: Number(r?.orders ?? 0),
        revenueMinor,
        revenue: toMajor(revenueMinor, currency),
        refundedOrders: Number(r?.refunded_orders ?? 0),
        refundedMinor: Number(r?.refunded_minor ?? 0),
        unmatchedRefunds: Number(u?.n ?? 0),
        unmatchedRefundedMinor: Number(u?.amount ?? 0),
      };
    }),
    firstOrderAt: span.first === null ? null : Number(span.first),
    lastOrderAt: span.last === null ? null : Number(span.last),
  };
}
