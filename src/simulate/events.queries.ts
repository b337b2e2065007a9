import { sql } from 'kysely';
import type pg from 'pg';
import { copyRows, type Db, dialectOf, type SqliteHandle, sqliteHandle } from '../store/index.js';
import type { SimulatedCustomer } from './store.js';

/** The columns of `events` a simulated call fills; the rest (anonymous id, session, campaign) stay null. */
const COLUMNS = ['message_id', 'type', 'event', 'customer_id', 'properties', 'occurred_at', 'received_at'] as const;
type EventRow = [string, string, string, number | null, string, number, number];

/** Rows per multi-row statement on SQLite (7 parameters each, far below SQLite's limit). */
const SQLITE_ROWS = 100;
/** Customers per look-up of their ids. */
const ID_CHUNK = 500;

/** Prepared multi-row inserts per SQLite connection: one of `SQLITE_ROWS` rows, one of a single row. */
const sqliteInserts = new WeakMap<SqliteHandle, Map<number, ReturnType<SqliteHandle['prepare']>>>();

function sqliteInsert(handle: SqliteHandle, rows: number): ReturnType<SqliteHandle['prepare']> {
  const byRows = sqliteInserts.get(handle) ?? new Map<number, ReturnType<SqliteHandle['prepare']>>();
  sqliteInserts.set(handle, byRows);
  let statement = byRows.get(rows);
  if (!statement) {
    const tuple = `(${COLUMNS.map(() => '?').join(', ')})`;
    statement = handle.prepare(
      `insert into events (${COLUMNS.join(', ')}) values ${Array.from({ length: rows }, () => tuple).join(', ')}
       on conflict (message_id) do nothing`,
    );
    byRows.set(rows, statement);
  }
  return statement;
}

/**
 * Stores the browsing and cart events of simulated customers whose orders (and so whose identities
 * under `source`) are already written in this transaction: the rows `recordEvents` would store for
 * their Segment calls (`simulatedEvents`, `userId` under `source`), and each customer's first-seen
 * instant moved back to the earliest event, but set-based: the customers' ids in one look-up per 500,
 * then on PostgreSQL one `COPY` into a temporary staging table on `copy` (the session `db` runs on, see
 * `pgSession`) and one `INSERT … SELECT … ON CONFLICT (message_id) DO NOTHING`; on SQLite prepared
 * inserts of 100 rows each. A message id stored before is skipped, so a second run adds nothing.
 * `now` is `received_at`. Call it inside the caller's transaction.
 */
export async function storeSimulatedEvents(
  db: Db,
  customers: readonly SimulatedCustomer[],
  { source, now, copy }: { source: string; now: number; copy?: pg.PoolClient },
): Promise<void> {
  const ids = new Map<string, number>();
  const externalIds = customers.filter((c) => c.events.length > 0).map((c) => c.externalId);
  for (let start = 0; start < externalIds.length; start += ID_CHUNK) {
    const rows = await db
      .selectFrom('customer_identities')
      .select(['external_id', 'customer_id'])
      .where('source', '=', source)
      .where('external_id', 'in', externalIds.slice(start, start + ID_CHUNK))
      .execute();
    for (const row of rows) ids.set(row.external_id, Number(row.customer_id));
  }
  const rows: EventRow[] = [];
  const earliest = new Map<number, number>();
  for (const customer of customers) {
    const customerId = ids.get(customer.externalId) ?? null;
    for (const e of customer.events) {
      rows.push([e.messageId, e.type, e.name, customerId, JSON.stringify(e.sku ? { sku: e.sku } : {}), e.at, now]);
      if (customerId !== null && e.at < (earliest.get(customerId) ?? Number.POSITIVE_INFINITY)) {
        earliest.set(customerId, e.at);
      }
    }
  }
  if (rows.length === 0) return;
  const postgres = dialectOf(db) === 'postgres';
  const sqlite = sqliteHandle(db);
  if (postgres && copy) {
    const list = COLUMNS.join(', ');
    await sql`create temporary table if not exists stage_events on commit delete rows as
      select ${sql.raw(list)} from events with no data`.execute(db);
    await sql`truncate stage_events`.execute(db);
    await copyRows(copy, 'stage_events', COLUMNS, rows);
    await sql`insert into events (${sql.raw(list)}) select ${sql.raw(list)} from stage_events
      on conflict (message_id) do nothing`.execute(db);
  } else if (sqlite) {
    let start = 0;
    for (; start + SQLITE_ROWS <= rows.length; start += SQLITE_ROWS) {
      sqliteInsert(sqlite, SQLITE_ROWS).run(...rows.slice(start, start + SQLITE_ROWS).flat());
    }
    for (; start < rows.length; start += 1) sqliteInsert(sqlite, 1).run(...(rows[start] ?? []));
  } else {
    for (let start = 0; start < rows.length; start += 1000) {
      await db
        .insertInto('events')
        .values(
          rows.slice(start, start + 1000).map((r) => ({
            message_id: r[0],
            type: r[1],
            event: r[2],
            customer_id: r[3],
            properties: r[4],
            occurred_at: r[5],
            received_at: r[6],
          })),
        )
        .onConflict((oc) => oc.column('message_id').doNothing())
        .execute();
    }
  }
  // A customer is first seen at their earliest event when it comes before their first order.
  const seen = [...earliest];
  if (postgres) {
    await sql`update customers c set first_seen_at = t.seen_at
      from unnest(${seen.map(([id]) => id)}::bigint[], ${seen.map(([, at]) => at)}::bigint[]) as t(id, seen_at)
      where c.id = t.id and c.first_seen_at > t.seen_at`.execute(db);
  } else {
    for (const [id, at] of seen) {
      await db
        .updateTable('customers')
        .set({ first_seen_at: at })
        .where('id', '=', id)
        .where('first_seen_at', '>', at)
        .execute();
    }
  }
}
