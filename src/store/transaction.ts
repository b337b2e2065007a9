import { type Kysely, PostgresAdapter, sql } from 'kysely';

/**
 * The executors of SQLite connections inside a `BEGIN IMMEDIATE` of ours: Kysely does not mark such a
 * connection as a transaction (`isTransaction` is false), and a nested `begin` on it would fail.
 * `withTables()` keeps the executor, so a typed view of the same connection is recognised too.
 */
const openImmediate = new WeakSet<object>();

/**
 * Runs `fn` in a transaction that holds the write lock from its first statement, on any Kysely
 * instance over this store (typed with whatever extra tables the caller knows). On SQLite, Kysely's
 * transactions begin DEFERRED, and a deferred reader that later writes fails with SQLITE_BUSY when
 * another process committed meanwhile; `BEGIN IMMEDIATE` takes the lock up front, waiting up to the
 * busy timeout (and trying again up to `attempts` times in all, since SQLite's busy handler is not fair). On PostgreSQL
 * it is an ordinary transaction; callers lock rows (`FOR UPDATE`, `SKIP LOCKED`) as they need.
 * Inside an existing transaction it simply runs `fn` there.
 */
export async function immediateTransaction<DB, T>(
  db: Kysely<DB>,
  fn: (trx: Kysely<DB>) => Promise<T>,
  { attempts = 5 }: { attempts?: number } = {},
): Promise<T> {
  if (db.isTransaction || openImmediate.has(db.getExecutor())) return fn(db);
  if (db.getExecutor().adapter instanceof PostgresAdapter) return db.transaction().execute(fn);
  return db.connection().execute(async (conn) => {
    for (let attempt = 1; ; attempt += 1) {
      try {
        await sql`begin immediate`.execute(conn);
        break;
      } catch (error) {
        const busy = error instanceof Error && 'code' in error && error.code === 'SQLITE_BUSY';
        if (!busy || attempt >= attempts) throw error;
      }
    }
    openImmediate.add(conn.getExecutor());
    try {
      const result = await fn(conn);
      await sql`commit`.execute(conn);
      return result;
    } catch (error) {
      await sql`rollback`.execute(conn);
      throw error;
    } finally {
      openImmediate.delete(conn.getExecutor());
    }
  });
}

/** Whether a Kysely instance (or transaction) talks to PostgreSQL. */
export function isPostgres<DB>(db: Kysely<DB>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}
