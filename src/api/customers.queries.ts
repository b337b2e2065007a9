import { sql } from 'kysely';
import { ComebackError } from '../errors.js';
import { toMajor } from '../shared/money.js';
import { type Db, REVENUE_STATUSES } from '../store/index.js';
import type { OrderLineKind, OrderStatus } from '../store/schema.js';

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
    })),
  };
}

/** A customer's whole story, as far as the store knows it (a first 360° view). */
export interface CustomerProfile {
  customer: CustomerListItem & {
    birthday: string | null;
    city: string | null;
    address: string | null;
    createdAt: number;
  };
  identities: Array<{ source: string; externalId: string }>;
  consents: Array<{ channel: string; granted: boolean; updatedAt: number; source: string }>;
  anonymousIds: string[];
  /** Net revenue of paid orders per currency (never added across currencies). */
  revenue: Array<{ currency: string; orders: number; revenueMinor: number; revenue: number }>;
  orders: Array<{
    id: number;
    source: string;
    externalId: string;
    placedAt: number;
    placedDate: string;
    currency: string;
    subtotalMinor: number;
    shippingMinor: number;
    taxMinor: number;
    discountMinor: number;
    totalMinor: number;
    refundedMinor: number;
    status: OrderStatus;
    discountCodes: string[];
    lines: Array<{
      lineNo: number;
      sku: string | null;
      title: string | null;
      quantity: number;
      unitPriceMinor: number;
      discountMinor: number;
      totalMinor: number;
      kind: OrderLineKind;
    }>;
  }>;
  events: Array<{
    id: number;
    type: string;
    event: string | null;
    anonymousId: string | null;
    occurredAt: number;
    properties: Record<string, unknown>;
  }>;
}

/** How many of the newest orders and events a profile carries. */
export const PROFILE_LIMITS = { orders: 100, events: 200 };

/** The profile of one customer; throws not_found for an unknown id. */
export async function customerProfile(db: Db, id: number): Promise<CustomerProfile> {
  const list = await db
    .selectFrom('customers as c')
    .selectAll('c')
    .select((eb) => [
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
    .where('c.id', '=', id)
    .executeTakeFirst();
  if (!list) throw new ComebackError('not_found', `no customer with id ${id}`);
  const [identities, consents, anonymous, revenue, orders, events] = await Promise.all([
    db
      .selectFrom('customer_identities')
      .select(['source', 'external_id'])
      .where('customer_id', '=', id)
      .orderBy('source')
      .execute(),
    db.selectFrom('customer_consents').selectAll().where('customer_id', '=', id).orderBy('channel').execute(),
    db.selectFrom('anonymous_ids').select('anonymous_id').where('customer_id', '=', id).orderBy('linked_at').execute(),
    db
      .selectFrom('orders')
      .select([
        'currency',
        sql<number>`count(*)`.as('orders'),
        sql<number>`coalesce(sum(total_minor - refunded_minor), 0)`.as('net'),
      ])
      .where('customer_id', '=', id)
      .where('status', 'in', REVENUE_STATUSES)
      .groupBy('currency')
      .orderBy('currency')
      .execute(),
    db
      .selectFrom('orders')
      .selectAll()
      .where('customer_id', '=', id)
      .orderBy('placed_at', 'desc')
      .orderBy('id', 'desc')
      .limit(PROFILE_LIMITS.orders)
      .execute(),
    db
      .selectFrom('events')
      .select(['id', 'type', 'event', 'anonymous_id', 'occurred_at', 'properties'])
      .where('customer_id', '=', id)
      .orderBy('occurred_at', 'desc')
      .orderBy('id', 'desc')
      .limit(PROFILE_LIMITS.events)
      .execute(),
  ]);
  const orderIds = orders.map((o) => o.id);
  const lines =
    orderIds.length === 0
      ? []
      : await db
          .selectFrom('order_lines')
          .selectAll()
          .where('order_id', 'in', orderIds)
          .orderBy('order_id')
          .orderBy('line_no')
          .execute();
  const linesByOrder = new Map<number, CustomerProfile['orders'][number]['lines']>();
  for (const l of lines) {
    const bucket = linesByOrder.get(Number(l.order_id)) ?? [];
    bucket.push({
      lineNo: l.line_no,
      sku: l.sku,
      title: l.title,
      quantity: l.quantity,
      unitPriceMinor: Number(l.unit_price_minor),
      discountMinor: Number(l.discount_minor),
      totalMinor: Number(l.total_minor),
      kind: l.kind,
    });
    linesByOrder.set(Number(l.order_id), bucket);
  }
  return {
    customer: {
      id: Number(list.id),
      email: list.email,
      firstName: list.first_name,
      lastName: list.last_name,
      phone: list.phone,
      country: list.country,
      source: list.source,
      firstSeenAt: Number(list.first_seen_at),
      orders: Number(list.orders ?? 0),
      lastOrderAt: list.last_order_at === null || list.last_order_at === undefined ? null : Number(list.last_order_at),
      birthday: list.birthday,
      city: list.city,
      address: list.address,
      createdAt: Number(list.created_at),
    },
    identities: identities.map((i) => ({ source: i.source, externalId: i.external_id })),
    consents: consents.map((c) => ({
      channel: c.channel,
      granted: Number(c.granted) === 1,
      updatedAt: Number(c.updated_at),
      source: c.source,
    })),
    anonymousIds: anonymous.map((a) => a.anonymous_id),
    revenue: revenue.map((r) => ({
      currency: r.currency,
      orders: Number(r.orders),
      revenueMinor: Number(r.net),
      revenue: toMajor(Number(r.net), r.currency),
    })),
    orders: orders.map((o) => ({
      id: Number(o.id),
      source: o.source,
      externalId: o.external_id,
      placedAt: Number(o.placed_at),
      placedDate: o.placed_date,
      currency: o.currency,
      subtotalMinor: Number(o.subtotal_minor),
      shippingMinor: Number(o.shipping_minor),
      taxMinor: Number(o.tax_minor),
      discountMinor: Number(o.discount_minor),
      totalMinor: Number(o.total_minor),
      refundedMinor: Number(o.refunded_minor),
      status: o.status,
      discountCodes: parseJson<string[]>(o.discount_codes, []),
      lines: linesByOrder.get(Number(o.id)) ?? [],
    })),
    events: events.map((e) => ({
      id: Number(e.id),
      type: e.type,
      event: e.event,
      anonymousId: e.anonymous_id,
      occurredAt: Number(e.occurred_at),
      properties: parseJson<Record<string, unknown>>(e.properties, {}),
    })),
  };
}

function parseJson<T>(text: string, fallback: T): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}
