import { sql } from 'kysely';
import { toMajor } from '../shared/money.js';
import type { Db } from './db.js';
import type { OrderStatus } from './schema.js';

/** Orders that count as sales: paid, or paid and partly refunded (at their net amount). */
export const REVENUE_STATUSES: readonly OrderStatus[] = ['paid', 'partially_refunded'];

export interface StoreStats {
  customers: number;
  orders: number;
  lines: number;
  refunds: number;
  products: number;
  events: number;
  /** Net revenue of paid orders per currency; currencies are never added together. */
  revenue: Array<{ currency: string; orders: number; revenueMinor: number; revenue: number }>;
  firstOrderAt: number | null;
  lastOrderAt: number | null;
}

/** What the store holds: counts, revenue by currency and the span of the orders. */
export async function storeStats(db: Db): Promise<StoreStats> {
  const count = async (table: 'customers' | 'orders' | 'order_lines' | 'refunds' | 'products' | 'events') => {
    const row = await db.selectFrom(table).select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow();
    return Number(row.n);
  };
  const revenue = await db
    .selectFrom('orders')
    .select([
      'currency',
      sql<number>`count(*)`.as('orders'),
      sql<number>`coalesce(sum(total_minor - refunded_minor), 0)`.as('revenue_minor'),
    ])
    .where('status', 'in', REVENUE_STATUSES)
    .groupBy('currency')
    .orderBy('currency')
    .execute();
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
    events: await count('events'),
    revenue: revenue.map((r) => ({
      currency: r.currency,
      orders: Number(r.orders),
      revenueMinor: Number(r.revenue_minor),
      revenue: toMajor(Number(r.revenue_minor), r.currency),
    })),
    firstOrderAt: span.first === null ? null : Number(span.first),
    lastOrderAt: span.last === null ? null : Number(span.last),
  };
}
