import type { Db, OrderStatus } from '../src/store/index.js';

/** Hand-made histories for the segment tests: rows written straight into the store. */

export const DAY = 86_400_000;
export const HOUR = 3_600_000;
export const MINUTE = 60_000;

let counter = 0;
const next = () => `${Date.now().toString(36)}-${(counter++).toString(36)}`;

/** Adds a customer; returns its id. */
export async function addCustomer(
  db: Db,
  fields: {
    email?: string;
    phone?: string;
    firstName?: string;
    lastName?: string;
    country?: string;
    city?: string;
    birthday?: string;
    source?: string;
    firstSeenAt?: number;
    /** When the row was written (ms); 0 unless given. */
    createdAt?: number;
  } = {},
): Promise<number> {
  const row = await db
    .insertInto('customers')
    .values({
      source: fields.source ?? 'test',
      email: fields.email ?? null,
      phone: fields.phone ?? null,
      first_name: fields.firstName ?? null,
      last_name: fields.lastName ?? null,
      birthday: fields.birthday ?? null,
      country: fields.country ?? null,
      city: fields.city ?? null,
      address: null,
      first_seen_at: fields.firstSeenAt ?? 0,
      created_at: fields.createdAt ?? 0,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return Number(row.id);
}

/** Adds an order of one line; returns its id. */
export async function addOrder(
  db: Db,
  customerId: number | null,
  {
    at,
    totalMinor = 1000,
    status = 'paid',
    currency = 'GBP',
    refundedMinor = 0,
    discountMinor = 0,
    cancelledAt = null,
    codes = [],
    country = null,
    externalId = next(),
  }: {
    at: number;
    /** The shop's order id; a fresh one unless given. */
    externalId?: string;
    /** Discount codes used. */
    codes?: string[];
    /** The shipping country (ISO 3166-1 alpha-2). */
    country?: string | null;
    cancelledAt?: number | null;
    totalMinor?: number;
    status?: OrderStatus;
    currency?: string;
    refundedMinor?: number;
    discountMinor?: number;
  },
): Promise<number> {
  const row = await db
    .insertInto('orders')
    .values({
      source: 'test',
      external_id: externalId,
      customer_id: customerId,
      email: null,
      placed_at: at,
      placed_offset: 0,
      placed_date: new Date(at).toISOString().slice(0, 10),
      currency,
      subtotal_minor: totalMinor,
      shipping_minor: 0,
      tax_minor: 0,
      discount_minor: discountMinor,
      total_minor: totalMinor,
      refunded_minor: refundedMinor,
      status,
      discount_codes: JSON.stringify(codes),
      country,
      cancelled_at: cancelledAt,
      imported_at: at,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return Number(row.id);
}

/**
 * Adds an event, received when it occurred: a page view by default, a `track` when `event` is given;
 * a fresh message id and no properties unless given.
 */
export async function addEvent(
  db: Db,
  {
    messageId = next(),
    customerId = null,
    anonymousId = null,
    sessionId = null,
    type,
    event = null,
    at,
    properties = {},
  }: {
    messageId?: string;
    customerId?: number | null;
    anonymousId?: string | null;
    sessionId?: string | null;
    type?: string;
    event?: string | null;
    at: number;
    properties?: object;
  },
): Promise<void> {
  await db
    .insertInto('events')
    .values({
      message_id: messageId,
      type: type ?? (event === null ? 'page' : 'track'),
      event,
      customer_id: customerId,
      anonymous_id: anonymousId,
      session_id: sessionId,
      properties: JSON.stringify(properties),
      occurred_at: at,
      received_at: at,
    })
    .execute();
}

/** Adds a dated refund of an order, as the importers record one (the order's refunded amount is the caller's). */
export async function addRefund(
  db: Db,
  orderId: number,
  { at, amountMinor, currency = 'GBP' }: { at: number; amountMinor: number; currency?: string },
): Promise<void> {
  await db
    .insertInto('refunds')
    .values({
      source: 'test',
      external_id: next(),
      order_id: orderId,
      customer_id: null,
      amount_minor: amountMinor,
      currency,
      refunded_at: at,
      reason: null,
    })
    .execute();
}
