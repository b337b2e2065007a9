import type { Insertable } from 'kysely';
import type { CustomerTable, Db } from '../src/store/index.js';

/** Hand-made stores for the campaign tests: rows written straight into the store. */

/**
 * A `customers` row: `id`, first seen and created at `seenAt` (ms), source `test`, every other field
 * null unless `fields` gives it.
 */
export function customerRow(
  id: number,
  seenAt: number,
  fields: Partial<Insertable<CustomerTable>> = {},
): Insertable<CustomerTable> & { id: number } {
  return {
    id,
    source: 'test',
    email: null,
    phone: null,
    first_name: null,
    last_name: null,
    birthday: null,
    country: null,
    city: null,
    address: null,
    first_seen_at: seenAt,
    created_at: seenAt,
    ...fields,
  };
}

/** Inserts one customer row (see `customerRow`). */
export async function addCustomer(
  db: Db,
  id: number,
  seenAt: number,
  fields: Partial<Insertable<CustomerTable>> = {},
): Promise<void> {
  await db
    .insertInto('customers')
    .values(customerRow(id, seenAt, fields))
    .execute();
}

/**
 * The lifecycle change the segments code writes when a customer becomes at risk: a `segment_entered`
 * event (its message id by `messageId`, by default `lifecycle:<id>:<UTC day>:at_risk`) and, unless
 * `eventOnly`, the `customer_segments` row (a customer may enter again only with `eventOnly`).
 */
export async function enterAtRisk(
  db: Db,
  customerIds: readonly number[],
  at: number,
  messageId: (id: number) => string = (id) => `lifecycle:${id}:${new Date(at).toISOString().slice(0, 10)}:at_risk`,
  eventOnly = false,
): Promise<void> {
  for (const id of customerIds) {
    await db
      .insertInto('events')
      .values({
        message_id: messageId(id),
        type: 'segment_entered',
        event: 'at_risk',
        customer_id: id,
        anonymous_id: null,
        session_id: null,
        properties: JSON.stringify({ kind: 'lifecycle', from: 'active', to: 'at_risk' }),
        occurred_at: at,
        received_at: at,
      })
      .execute();
    if (eventOnly) continue;
    await db
      .withTables<{
        customer_segments: { customer_id: number; kind: string; value: string; since: number; reason: string };
      }>()
      .insertInto('customer_segments')
      .values({ customer_id: id, kind: 'lifecycle', value: 'at_risk', since: at, reason: 'test' })
      .execute();
  }
}
