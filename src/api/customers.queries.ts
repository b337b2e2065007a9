import { sql } from 'kysely';
import { toMajor } from '../shared/money.js';
import { type Db, REVENUE_STATUSES } from '../store/index.js';

/** One row of a customer search. */
export interface CustomerListItem {
  id: number;
  email: string | null;
  firstName: string | null;
  lastName: string | null;
  phone: string | null;
  country: string | null;
  source: string;
  firstSeenAt: number;
  orders: number;
  lastOrderAt: number | null;
  /** The customer's id in the store it came from (its identity under `source`, else its first), or null. */
  storeId: string | null;
  /** Net revenue (paid and partly refunded orders, less refunds) per currency, in major units. */
  revenue: Array<{ currency: string; revenueMinor: number; revenue: number }>;
}

/**
 * Customers whose id, e-mail, name or external id matches `q` (case-insensitive substring; an exact
 * match for ids), ordered by id. Without `q`, every customer.
 */
export async function searchCustomers(
  db: Db,
  { q, limit, offset }: { q?: string; limit: number; offset: number },
): Promise<{ total: number; customers: CustomerListItem[] }> {
  const term = q?.trim().toLowerCase() ?? '';
  let query = db.selectFrom('customers as c');
  if (term !== '') {
    const pattern = `%${term.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;
    const like = (column: string) => sql<boolean>`lower(${sql.ref(column)}) like ${pattern} escape '\\'`;
    query = query.where((eb) =>
      eb.or([
        ...(/^\d{1,15}$/.test(term) ? [eb('c.id', '=', Number(term))] : []),
        like('c.email'),
        like('c.first_name'),
        like('c.last_name'),
        sql<boolean>`lower(c.first_name || ' ' || c.last_name) like ${pattern} escape '\\'`,
        eb.exists(
          eb
            .selectFrom('customer_identities as i')
            .select('i.customer_id')
            .whereRef('i.customer_id', '=', 'c.id')
            .where('i.external_id', '=', q!.trim()),
        ),
      ]),
    );
  }
  const total = await query.select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow();
  const rows = await query
    .select((eb) => [
      'c.id',
      'c.email',
      'c.first_name',
      'c.last_name',
      'c.phone',
      'c.country',
      'c.source',
      'c.first_seen_at',
      eb
        .selectFrom('orders as o')
        .select(sql<number>`count(*)`.as('n'))
        .whereRef('o.customer_id', '=', 'c.id')
        .as('orders'),
      eb
        .selectFrom('orders as o')
        .select(sql<number | null>`max(o.placed_at)`.as('m'))
        .whereRef('o.customer_id', '=', 'c.id')
        .as('last_order_at'),
    ])
    .orderBy('c.id')
    .limit(limit)
    .offset(offset)
    .execute();
  const ids = rows.map((r) => Number(r.id));
  const identities =
    ids.length === 0
      ? []
      : await db
          .selectFrom('customer_identities')
          .select(['customer_id', 'source', 'external_id'])
          .where('customer_id', 'in', ids)
          .orderBy('customer_id')
          .orderBy('source')
          .orderBy('external_id')
          .execute();
  const revenue =
    ids.length === 0
      ? []
      : await db
          .selectFrom('orders')
          .select(['customer_id', 'currency', sql<number>`sum(total_minor - refunded_minor)`.as('net')])
          .where('customer_id', 'in', ids)
          .where('status', 'in', REVENUE_STATUSES)
          .groupBy(['customer_id', 'currency'])
          .orderBy('currency')
          .execute();
  const storeIdOf = (id: number, source: string): string | null => {
    const mine = identities.filter((i) => Number(i.customer_id) === id);
    return (mine.find((i) => i.source === source) ?? mine[0])?.external_id ?? null;
  };
  return {
    total: Number(total.n),
    customers: rows.map((r) => ({
      id: Number(r.id),
      email: r.email,
      firstName: r.first_name,
      lastName: r.last_name,
      phone: r.phone,
      country: r.country,
      source: r.source,
      firstSeenAt: Number(r.first_seen_at),
      orders: Number(r.orders ?? 0),
      lastOrderAt: r.last_order_at === null || r.last_order_at === undefined ? null : Number(r.last_order_at),
      storeId: storeIdOf(Number(r.id), r.source),
      revenue: revenue
        .filter((v) => Number(v.customer_id) === Number(r.id))
        .map((v) => ({
          currency: v.currency,
          revenueMinor: Number(v.net),
          revenue: toMajor(Number(v.net), v.currency),
        })),
    })),
  };
}
