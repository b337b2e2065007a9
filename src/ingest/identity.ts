import { sql } from 'kysely';
import { isoCountry } from '../shared/countries.js';
import { type Db, dialectOf } from '../store/index.js';

/**
 * Who a customer is, resolved so that concurrent writers meet on one row: every new identity is claimed
 * with `INSERT … ON CONFLICT DO NOTHING` and the loser of a race takes the winner's row (on PostgreSQL
 * the losing insert waits for the winner's commit, then sees its row), never select-then-insert.
 */

/** The identity source under which a customer's former e-mail addresses are kept. */
export const EMAIL_IDENTITY = 'email';

/** The customer fields a source can state; undefined means "not said". */
export interface CustomerFields {
  phone?: string | null;
  first_name?: string | null;
  last_name?: string | null;
  birthday?: string | null;
  country?: string | null;
  city?: string | null;
  address?: string | null;
  postcode?: string | null;
}

export interface IdentityInput {
  /** `customer_identities.source` of `externalId`, and `customers.source` of a created customer. */
  source: string;
  externalId?: string;
  /** Normalised (lower-case) e-mail. */
  email?: string;
  fields?: CustomerFields;
  /** `customers.source` when it differs from the identity source (events store userIds under `api`). */
  customerSource?: string;
  seenAt: number;
  now: number;
}

/**
 * Serialises writers of one natural key (`order:shopify:123`) until the transaction ends: a PostgreSQL
 * transaction-scoped advisory lock; on SQLite a no-op, as its writers are serialised by the database.
 */
export async function lockKey(db: Db, key: string): Promise<void> {
  if (dialectOf(db) !== 'postgres') return;
  await sql`select pg_advisory_xact_lock(hashtextextended(${key}, 0))`.execute(db);
}

/** The customer an e-mail belongs to: the current address first, else a former one kept as an identity. */
export async function customerByEmail(db: Db, email: string): Promise<number | undefined> {
  const row = await db.selectFrom('customers').select('id').where('email', '=', email).executeTakeFirst();
  if (row) return Number(row.id);
  const former = await db
    .selectFrom('customer_identities')
    .select('customer_id')
    .where('source', '=', EMAIL_IDENTITY)
    .where('external_id', '=', email)
    .executeTakeFirst();
  return former ? Number(former.customer_id) : undefined;
}

async function identityOwner(db: Db, source: string, externalId: string): Promise<number | undefined> {
  const row = await db
    .selectFrom('customer_identities')
    .select('customer_id')
    .where('source', '=', source)
    .where('external_id', '=', externalId)
    .executeTakeFirst();
  return row ? Number(row.customer_id) : undefined;
}

/**
 * Finds the customer of (source, external id), else of the e-mail, else creates one; claims the
 * external id for it. Fills only the fields the store does not know yet. Safe under concurrent callers
 * on both databases: one customer per external id and per e-mail, and no unique-key error escapes.
 */
export async function findOrCreateCustomer(db: Db, input: IdentityInput): Promise<{ id: number; created: boolean }> {
  const { source, externalId, email } = input;
  let id = externalId !== undefined ? await identityOwner(db, source, externalId) : undefined;
  if (id === undefined && email !== undefined) id = await customerByEmail(db, email);
  let created = false;
  // Countries are stored as ISO 3166 alpha-2 codes whatever the source wrote (`UK`, `United Kingdom`).
  const f = { ...input.fields, country: isoCountry(input.fields?.country) ?? input.fields?.country };
  if (id === undefined) {
    const row = await db
      .insertInto('customers')
      .values({
        source: input.customerSource ?? source,
        email: email ?? null,
        phone: f.phone ?? null,
        first_name: f.first_name ?? null,
        last_name: f.last_name ?? null,
        birthday: f.birthday ?? null,
        country: f.country ?? null,
        city: f.city ?? null,
        address: f.address ?? null,
        postcode: f.postcode ?? null,
        first_seen_at: input.seenAt,
        created_at: input.now,
      })
      .onConflict((oc) => oc.column('email').doNothing())
      .returning('id')
      .executeTakeFirst();
    if (row) {
      id = Number(row.id);
      created = true;
    } else {
      // Another writer created the customer with this e-mail after our look-up: it is ours too.
      id = (await customerByEmail(db, email!))!;
    }
  }
  if (externalId !== undefined) {
    const claimed = await db
      .insertInto('customer_identities')
      .values({ source, external_id: externalId, customer_id: id })
      .onConflict((oc) => oc.columns(['source', 'external_id']).doNothing())
      .returning('customer_id')
      .executeTakeFirst();
    if (!claimed) {
      const owner = (await identityOwner(db, source, externalId))!;
      if (owner !== id) {
        // Another writer claimed this external id first: give up the row we just made and use theirs.
        if (created) await db.deleteFrom('customers').where('id', '=', id).execute();
        id = owner;
        created = false;
      }
    }
  }
  if (!created) await fillGaps(db, id, email, f);
  return { id, created };
}

/** Fills the customer's unknown fields; an e-mail is taken only while no other customer has it. */
async function fillGaps(db: Db, id: number, email: string | undefined, f: CustomerFields): Promise<void> {
  const entries = Object.entries(f).filter(([, v]) => v !== undefined && v !== null) as Array<
    [keyof CustomerFields, string]
  >;
  if (entries.length > 0) {
    await db
      .updateTable('customers')
      .set((eb) => Object.fromEntries(entries.map(([k, v]) => [k, eb.fn.coalesce(k, eb.val(v))])))
      .where('id', '=', id)
      .execute();
  }
  if (email !== undefined) {
    await db
      .updateTable('customers')
      .set({ email })
      .where('id', '=', id)
      .where('email', 'is', null)
      .where((eb) => eb.not(eb.exists(eb.selectFrom('customers as c').select('c.id').where('c.email', '=', email))))
      .execute();
  }
}

/** What an e-mail change did: followed, nothing to do, or refused because another customer has it. */
export type EmailChange =
  | { kind: 'changed'; previous: string | null }
  | { kind: 'unchanged' }
  | { kind: 'merged'; from: number }
  | { kind: 'conflict'; otherCustomerId: number };

/**
 * Moves a customer to a new e-mail, keeping the old address as an identity (`email`) so that orders
 * and calls under it still find them. When another customer holds the address, `mergeable(other)`
 * decides: true merges that customer into this one (a guest record of the same shopper), false
 * reports a conflict and changes nothing.
 */
export async function changeEmail(
  db: Db,
  customerId: number,
  email: string,
  { mergeable }: { mergeable: (otherId: number) => Promise<boolean> },
): Promise<EmailChange> {
  const current = await db.selectFrom('customers').select('email').where('id', '=', customerId).executeTakeFirst();
  if (!current) return { kind: 'unchanged' };
  if (current.email === email) return { kind: 'unchanged' };
  const other = await customerByEmail(db, email);
  let merged: number | undefined;
  if (other !== undefined && other !== customerId) {
    if (!(await mergeable(other))) return { kind: 'conflict', otherCustomerId: other };
    const result = await mergeCustomers(db, other, customerId);
    if (!result.ok) return { kind: 'conflict', otherCustomerId: other };
    merged = other;
  }
  // The address stops being a former address of anyone (it may have been this customer's own once).
  await db
    .deleteFrom('customer_identities')
    .where('source', '=', EMAIL_IDENTITY)
    .where('external_id', '=', email)
    .execute();
  if (current.email !== null) {
    await db
      .insertInto('customer_identities')
      .values({ source: EMAIL_IDENTITY, external_id: current.email, customer_id: customerId })
      .onConflict((oc) => oc.columns(['source', 'external_id']).doNothing())
      .execute();
  }
  await db.updateTable('customers').set({ email }).where('id', '=', customerId).execute();
  return merged !== undefined ? { kind: 'merged', from: merged } : { kind: 'changed', previous: current.email };
}

/** Whether a customer holds an identity of `source` (a Shopify customer id, a `userId`). */
export async function hasIdentity(db: Db, customerId: number, source: string): Promise<boolean> {
  const row = await db
    .selectFrom('customer_identities')
    .select('customer_id')
    .where('customer_id', '=', customerId)
    .where('source', '=', source)
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * Merges customer `from` into `into`: its identities, e-mail (kept as a former address), anonymous ids,
 * orders, refunds, events, consents (the newer statement wins) and group memberships move; fields `into`
 * lacks are filled; `from` is deleted (its derived segments and scores go with it and are recomputed).
 * Refused when `from` has loyalty history, which needs a person to decide.
 */
export async function mergeCustomers(
  db: Db,
  from: number,
  into: number,
): Promise<{ ok: true } | { ok: false; reason: string }> {
  if (from === into) return { ok: true };
  const loyalty = await sql<{ n: number }>`select count(*) as n from loyalty_members where customer_id = ${from}`
    .execute(db)
    .then((r) => Number(r.rows[0]?.n ?? 0));
  if (loyalty > 0) return { ok: false, reason: `customer ${from} is a loyalty member; merge them by hand` };
  const source = await db.selectFrom('customers').selectAll().where('id', '=', from).executeTakeFirst();
  if (!source) return { ok: true };
  await db.updateTable('customer_identities').set({ customer_id: into }).where('customer_id', '=', from).execute();
  await db.updateTable('anonymous_ids').set({ customer_id: into }).where('customer_id', '=', from).execute();
  await db.updateTable('orders').set({ customer_id: into }).where('customer_id', '=', from).execute();
  await db.updateTable('refunds').set({ customer_id: into }).where('customer_id', '=', from).execute();
  await db.updateTable('events').set({ customer_id: into }).where('customer_id', '=', from).execute();
  const consents = await db.selectFrom('customer_consents').selectAll().where('customer_id', '=', from).execute();
  for (const c of consents) {
    await db
      .insertInto('customer_consents')
      .values({ ...c, customer_id: into })
      .onConflict((oc) =>
        oc
          .columns(['customer_id', 'channel'])
          .doUpdateSet((eb) => ({
            granted: eb.ref('excluded.granted'),
            updated_at: eb.ref('excluded.updated_at'),
            source: eb.ref('excluded.source'),
          }))
          .whereRef('excluded.updated_at', '>', 'customer_consents.updated_at'),
      )
      .execute();
  }
  const groups = await db.selectFrom('customer_groups').selectAll().where('customer_id', '=', from).execute();
  for (const g of groups) {
    await db
      .insertInto('customer_groups')
      .values({ ...g, customer_id: into })
      .onConflict((oc) => oc.columns(['customer_id', 'group_id']).doNothing())
      .execute();
  }
  await db.deleteFrom('customers').where('id', '=', from).execute();
  if (source.email !== null) {
    await db
      .insertInto('customer_identities')
      .values({ source: EMAIL_IDENTITY, external_id: source.email, customer_id: into })
      .onConflict((oc) => oc.columns(['source', 'external_id']).doNothing())
      .execute();
  }
  await fillGaps(db, into, undefined, {
    phone: source.phone,
    first_name: source.first_name,
    last_name: source.last_name,
    birthday: source.birthday,
    country: source.country,
    city: source.city,
    address: source.address,
    postcode: source.postcode,
  });
  await db
    .updateTable('customers')
    .set({ first_seen_at: source.first_seen_at })
    .where('id', '=', into)
    .where('first_seen_at', '>', source.first_seen_at)
    .execute();
  return { ok: true };
}
