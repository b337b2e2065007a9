import { sql } from 'kysely';
import { type Db, dialectOf, skipQueuedMarketing } from '../store/index.js';
import { type CustomerFields, EMAIL_IDENTITY } from './identity.js';
import type { ConsentInput } from './records.js';

/**
 * Set-based identity resolution for an import batch: the same answers as calling `findOrCreateCustomer`
 * (identity.ts) and `recordConsent` once per record in file order behind the import's key cache, in a
 * handful of statements. Three look-ups fetch what the store knows of every key the cache lacks
 * (external ids, current e-mails, former e-mails); the precedence rules then run in memory over that
 * snapshot (external id, else current e-mail, else former e-mail, else a new customer; the cache first,
 * as the row-by-row path has it); the outcome is written set-based: new customers in creation order
 * (so ids are handed out as one by one), identity claims, gap fills, e-mail fills and the newest
 * consent per customer and channel. A key the cache lacks was written by nobody in this import, so the
 * snapshot is exact; on PostgreSQL a concurrent writer can still take a key between look-up and write,
 * which the counts of the writes reveal (`raced`): the caller undoes them and resolves one by one.
 */

/** One record's customer as the batch resolver takes it: keys normalised, country an ISO code if known. */
export interface BatchCustomer {
  externalId?: string;
  /** Normalised (lower-case) e-mail. */
  email?: string;
  fields: CustomerFields;
  consents: readonly ConsentInput[];
  seenAt: number;
}

/** What a batch resolved: a customer id per record (undefined when it names none), and how many were created. */
export type BatchResolution =
  | { raced: false; ids: Array<number | undefined>; created: number; keys: Map<string, number> }
  | { raced: true };

const FIELDS = [
  'phone',
  'first_name',
  'last_name',
  'birthday',
  'country',
  'city',
  'address',
  'postcode',
] as const satisfies ReadonlyArray<keyof CustomerFields>;
type Field = (typeof FIELDS)[number];

interface Known {
  /** (source, external id) → its customer and that customer's current e-mail. */
  owners: Map<string, { id: number; email: string | null }>;
  /** Current e-mail → customer. */
  byEmail: Map<string, number>;
  /** Former e-mail (an `email` identity) → its customer and that customer's current e-mail. */
  former: Map<string, { id: number; email: string | null }>;
}

/** Identity-cache keys, as ImportWriter spells them. */
export function idKeyOf(externalId: string | undefined): string | undefined {
  return externalId ? `id:${externalId}` : undefined;
}
export function emailKeyOf(email: string | undefined): string | undefined {
  return email ? `email:${email}` : undefined;
}

/**
 * Resolves `items` (undefined: a record without a customer) for source `source` against `cache`
 * (the import's key → customer id map, read only here: the caller stores `keys` on success).
 */
export async function resolveBatch(
  db: Db,
  {
    source,
    now,
    cache,
    items,
  }: {
    source: string;
    now: number;
    cache: ReadonlyMap<string, number>;
    items: ReadonlyArray<BatchCustomer | undefined>;
  },
): Promise<BatchResolution> {
  const externalIds = new Set<string>();
  const emails = new Set<string>();
  for (const item of items) {
    if (!item) continue;
    const idKey = idKeyOf(item.externalId);
    const emailKey = emailKeyOf(item.email);
    if ((idKey && cache.get(idKey)) || (emailKey && cache.get(emailKey))) continue;
    if (item.externalId) externalIds.add(item.externalId);
    if (item.email) emails.add(item.email);
  }
  const known = await lookUp(db, source, [...externalIds], [...emails]);

  // The row-by-row path, record by record, over the snapshot; new customers are refs −1, −2, …
  const local = new Map<string, number>();
  const get = (key: string | undefined) => (key ? (local.get(key) ?? cache.get(key)) : undefined);
  const created: Array<{ email: string | null; fields: CustomerFields; seenAt: number }> = [];
  const claims: Array<{ externalId: string; ref: number }> = [];
  const fills = new Map<number, Partial<Record<Field, string>>>();
  const currentEmail = new Map<number, string | null>();
  const emailFills = new Map<number, string>();
  const consents = new Map<string, { ref: number; consent: ConsentInput }>();
  const refs: Array<number | undefined> = [];
  for (const item of items) {
    const idKey = idKeyOf(item?.externalId);
    const emailKey = emailKeyOf(item?.email);
    if (!item || (!idKey && !emailKey)) {
      refs.push(undefined);
      continue;
    }
    let ref = get(idKey) || get(emailKey) || undefined;
    if (ref === undefined) {
      const { externalId, email } = item;
      const owner = externalId ? known.owners.get(externalId) : undefined;
      let found = owner;
      if (!found && email !== undefined) {
        const current = known.byEmail.get(email);
        found = current !== undefined ? { id: current, email } : known.former.get(email);
      }
      if (!found) {
        created.push({ email: email ?? null, fields: item.fields, seenAt: item.seenAt });
        ref = -created.length;
        if (externalId) claims.push({ externalId, ref });
      } else {
        ref = found.id;
        if (!currentEmail.has(ref)) currentEmail.set(ref, found.email);
        if (externalId && !owner) claims.push({ externalId, ref });
        // fillGaps: coalesce per field (the first value given wins), the e-mail while nobody has it.
        const fill = fills.get(ref) ?? {};
        for (const field of FIELDS) {
          const value = item.fields[field];
          if (value !== undefined && value !== null && fill[field] === undefined) fill[field] = value;
        }
        if (Object.keys(fill).length > 0) fills.set(ref, fill);
        if (email !== undefined && currentEmail.get(ref) === null && !known.byEmail.has(email)) {
          currentEmail.set(ref, email);
          emailFills.set(ref, email);
        }
      }
    }
    // recordConsent's rule: a statement replaces the stored one when it is as new or newer.
    for (const consent of item.consents) {
      const key = `${ref}\u0000${consent.channel}`;
      const before = consents.get(key);
      if (!before || consent.at >= before.consent.at) consents.set(key, { ref, consent });
    }
    if (idKey) local.set(idKey, ref);
    if (emailKey) local.set(emailKey, ref);
    refs.push(ref);
  }

  const write = dialectOf(db) === 'postgres' ? writePostgres : writeSqlite;
  const createdIds = await write(db, {
    source,
    now,
    created,
    claims,
    fills,
    emailFills,
    consents: [...consents.values()],
  });
  if (createdIds === undefined) return { raced: true };
  const idOf = (ref: number) => (ref < 0 ? createdIds[-ref - 1]! : ref);
  return {
    raced: false,
    ids: refs.map((ref) => (ref === undefined ? undefined : idOf(ref))),
    created: created.length,
    keys: new Map([...local].map(([key, ref]) => [key, idOf(ref)])),
  };
}

async function lookUp(db: Db, source: string, externalIds: string[], emails: string[]): Promise<Known> {
  const known: Known = { owners: new Map(), byEmail: new Map(), former: new Map() };
  const postgres = dialectOf(db) === 'postgres';
  const identities = async (idSource: string, ids: string[]) => {
    if (ids.length === 0) return [];
    if (postgres) {
      const result = await sql<{ external_id: string; customer_id: number; email: string | null }>`
        select i.external_id, i.customer_id, c.email from customer_identities i
        join customers c on c.id = i.customer_id
        where i.source = ${idSource} and i.external_id = any(${ids}::text[])`.execute(db);
      return result.rows;
    }
    const rows = [];
    for (const chunk of chunks(ids, 900)) {
      rows.push(
        ...(await db
          .selectFrom('customer_identities as i')
          .innerJoin('customers as c', 'c.id', 'i.customer_id')
          .select(['i.external_id', 'i.customer_id', 'c.email'])
          .where('i.source', '=', idSource)
          .where('i.external_id', 'in', chunk)
          .execute()),
      );
    }
    return rows;
  };
  for (const row of await identities(source, externalIds)) {
    known.owners.set(row.external_id, { id: Number(row.customer_id), email: row.email });
  }
  if (emails.length > 0) {
    if (postgres) {
      const result = await sql<{ id: number; email: string }>`
        select id, email from customers where email = any(${emails}::text[])`.execute(db);
      for (const row of result.rows) known.byEmail.set(row.email, Number(row.id));
    } else {
      for (const chunk of chunks(emails, 900)) {
        const rows = await db.selectFrom('customers').select(['id', 'email']).where('email', 'in', chunk).execute();
        for (const row of rows) known.byEmail.set(row.email!, Number(row.id));
      }
    }
    for (const row of await identities(EMAIL_IDENTITY, emails)) {
      known.former.set(row.external_id, { id: Number(row.customer_id), email: row.email });
    }
  }
  return known;
}

interface Writes {
  source: string;
  now: number;
  created: ReadonlyArray<{ email: string | null; fields: CustomerFields; seenAt: number }>;
  claims: ReadonlyArray<{ externalId: string; ref: number }>;
  fills: ReadonlyMap<number, Partial<Record<Field, string>>>;
  emailFills: ReadonlyMap<number, string>;
  consents: ReadonlyArray<{ ref: number; consent: ConsentInput }>;
}

/** PostgreSQL: one statement per kind over arrays; undefined when a concurrent writer took a key. */
async function writePostgres(db: Db, w: Writes): Promise<number[] | undefined> {
  let ids: number[] = [];
  if (w.created.length > 0) {
    // The ids one insert after another would take, in that order (nextval per row, ascending).
    const allocated = await sql<{ id: string }>`
      select nextval(pg_get_serial_sequence('customers', 'id')) as id
      from generate_series(1, ${w.created.length}::int)`.execute(db);
    ids = allocated.rows.map((r) => Number(r.id)).sort((a, b) => a - b);
    const column = (field: Field) => w.created.map((c) => c.fields[field] ?? null);
    const inserted = await sql`insert into customers (id, source, email, phone, first_name, last_name, birthday,
        country, city, address, postcode, first_seen_at, created_at)
      select t.id, ${w.source}, t.email, t.phone, t.first_name, t.last_name, t.birthday, t.country, t.city,
        t.address, t.postcode, t.first_seen_at, ${w.now}::bigint
      from unnest(${ids}::bigint[], ${w.created.map((c) => c.email)}::text[], ${column('phone')}::text[],
        ${column('first_name')}::text[], ${column('last_name')}::text[], ${column('birthday')}::text[],
        ${column('country')}::text[], ${column('city')}::text[], ${column('address')}::text[],
        ${column('postcode')}::text[], ${w.created.map((c) => c.seenAt)}::bigint[])
        as t(id, email, phone, first_name, last_name, birthday, country, city, address, postcode, first_seen_at)
      order by t.id
      on conflict (email) do nothing`.execute(db);
    if (Number(inserted.numAffectedRows) !== w.created.length) return undefined;
  }
  const idOf = (ref: number) => (ref < 0 ? ids[-ref - 1]! : ref);
  if (w.claims.length > 0) {
    const claimed = await sql`insert into customer_identities (source, external_id, customer_id)
      select ${w.source}, t.external_id, t.customer_id
      from unnest(${w.claims.map((c) => c.externalId)}::text[], ${w.claims.map((c) => idOf(c.ref))}::bigint[])
        as t(external_id, customer_id)
      on conflict (source, external_id) do nothing`.execute(db);
    if (Number(claimed.numAffectedRows) !== w.claims.length) return undefined;
  }
  if (w.fills.size > 0) {
    const targets = [...w.fills.keys()];
    const column = (field: Field) => targets.map((id) => w.fills.get(id)![field] ?? null);
    await sql`update customers c set phone = coalesce(c.phone, t.phone),
        first_name = coalesce(c.first_name, t.first_name), last_name = coalesce(c.last_name, t.last_name),
        birthday = coalesce(c.birthday, t.birthday), country = coalesce(c.country, t.country),
        city = coalesce(c.city, t.city), address = coalesce(c.address, t.address),
        postcode = coalesce(c.postcode, t.postcode)
      from unnest(${targets}::bigint[], ${column('phone')}::text[], ${column('first_name')}::text[],
        ${column('last_name')}::text[], ${column('birthday')}::text[], ${column('country')}::text[],
        ${column('city')}::text[], ${column('address')}::text[], ${column('postcode')}::text[])
        as t(id, phone, first_name, last_name, birthday, country, city, address, postcode)
      where c.id = t.id`.execute(db);
  }
  if (w.emailFills.size > 0) {
    const filled = await sql`update customers c set email = t.email
      from unnest(${[...w.emailFills.keys()]}::bigint[], ${[...w.emailFills.values()]}::text[]) as t(id, email)
      where c.id = t.id and c.email is null
        and not exists (select 1 from customers o where o.email = t.email)`.execute(db);
    if (Number(filled.numAffectedRows) !== w.emailFills.size) return undefined;
  }
  if (w.consents.length > 0) {
    const cs = w.consents;
    await sql`insert into customer_consents (customer_id, channel, granted, updated_at, source)
      select * from unnest(${cs.map((c) => idOf(c.ref))}::bigint[], ${cs.map((c) => c.consent.channel)}::text[],
        ${cs.map((c) => (c.consent.granted ? 1 : 0))}::int[], ${cs.map((c) => c.consent.at)}::bigint[],
        ${cs.map((c) => c.consent.source)}::text[])
      on conflict (customer_id, channel) do update set granted = excluded.granted,
        updated_at = excluded.updated_at, source = excluded.source
      where excluded.updated_at >= customer_consents.updated_at`.execute(db);
    await skipWithdrawn(db, cs);
  }
  return ids;
}

/**
 * SQLite: the same writes one row at a time (prepared statements, no round trips); the batch holds the
 * write lock from its first statement, so the snapshot cannot go stale and a short count is a bug.
 */
async function writeSqlite(db: Db, w: Writes): Promise<number[]> {
  const ids: number[] = [];
  for (const c of w.created) {
    const row = await db
      .insertInto('customers')
      .values({
        source: w.source,
        email: c.email,
        phone: c.fields.phone ?? null,
        first_name: c.fields.first_name ?? null,
        last_name: c.fields.last_name ?? null,
        birthday: c.fields.birthday ?? null,
        country: c.fields.country ?? null,
        city: c.fields.city ?? null,
        address: c.fields.address ?? null,
        postcode: c.fields.postcode ?? null,
        first_seen_at: c.seenAt,
        created_at: w.now,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    ids.push(Number(row.id));
  }
  const idOf = (ref: number) => (ref < 0 ? ids[-ref - 1]! : ref);
  for (const claim of w.claims) {
    await db
      .insertInto('customer_identities')
      .values({ source: w.source, external_id: claim.externalId, customer_id: idOf(claim.ref) })
      .execute();
  }
  for (const [id, fill] of w.fills) {
    await db
      .updateTable('customers')
      .set((eb) => Object.fromEntries(FIELDS.map((f) => [f, eb.fn.coalesce(f, eb.val(fill[f] ?? null))])))
      .where('id', '=', id)
      .execute();
  }
  for (const [id, email] of w.emailFills) {
    await db.updateTable('customers').set({ email }).where('id', '=', id).where('email', 'is', null).execute();
  }
  for (const { ref, consent } of w.consents) {
    await db
      .insertInto('customer_consents')
      .values({
        customer_id: idOf(ref),
        channel: consent.channel,
        granted: consent.granted ? 1 : 0,
        updated_at: consent.at,
        source: consent.source,
      })
      .onConflict((oc) =>
        oc
          .columns(['customer_id', 'channel'])
          .doUpdateSet((eb) => ({
            granted: eb.ref('excluded.granted'),
            updated_at: eb.ref('excluded.updated_at'),
            source: eb.ref('excluded.source'),
          }))
          .whereRef('excluded.updated_at', '>=', 'customer_consents.updated_at'),
      )
      .execute();
  }
  await skipWithdrawn(db, w.consents);
  return ids;
}

/**
 * After the batch's consents are written: a withdrawal that stands (the stored row now says no) skips the
 * customer's queued marketing on that channel at once, as `recordConsent` does one by one. Customers
 * created by this batch (`ref < 0`) have nothing queued.
 */
async function skipWithdrawn(db: Db, consents: ReadonlyArray<{ ref: number; consent: ConsentInput }>): Promise<void> {
  const withdrawn = consents.filter(({ ref, consent }) => !consent.granted && ref >= 0);
  if (withdrawn.length === 0) return;
  // Only customers with pending marketing have anything to skip: one look-up finds them (usually none,
  // so a re-import does not pay two queries per customer who said no).
  const queued = new Set<number>();
  for (const chunk of chunks([...new Set(withdrawn.map((w) => w.ref))], 900)) {
    const rows = await db
      .withTables<{ outbox: { customer_id: number; purpose: string; status: string } }>()
      .selectFrom('outbox')
      .select('customer_id')
      .distinct()
      .where('customer_id', 'in', chunk)
      .where('purpose', '=', 'marketing')
      .where('status', '=', 'pending')
      .execute();
    for (const row of rows) queued.add(Number(row.customer_id));
  }
  for (const { ref, consent } of withdrawn) {
    if (!queued.has(ref)) continue;
    const stored = await db
      .selectFrom('customer_consents')
      .select('granted')
      .where('customer_id', '=', ref)
      .where('channel', '=', consent.channel)
      .executeTakeFirst();
    if (stored?.granted === 0) await skipQueuedMarketing(db, ref, consent.channel);
  }
}

function* chunks<T>(items: readonly T[], size: number): Generator<T[]> {
  for (let start = 0; start < items.length; start += size) yield items.slice(start, start + size);
}
