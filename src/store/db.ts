import SQLite from 'better-sqlite3';
import {
  Kysely,
  Migrator,
  PostgresAdapter,
  PostgresDialect,
  type SqliteDatabase,
  SqliteDialect,
  type SqliteStatement,
  sql,
} from 'kysely';
import pg from 'pg';
import { ComebackError } from '../errors.js';
import { allMigrations, type DialectName } from './migrations/index.js';
import type { Database } from './schema.js';

/** A Kysely instance or a transaction of one: what every query function takes first. */
export type Db = Kysely<Database>;

/** An open database with the dialect it speaks. */
export interface Store {
  readonly db: Db;
  readonly dialect: DialectName;
  /** The URL it was opened with, with any password hidden. */
  readonly label: string;
  close(): Promise<void>;
}

export const DEFAULT_DB_URL = 'sqlite:./comeback.db';

/** Which database a URL names: `sqlite:PATH`, `sqlite::memory:`, a `.db` path, or `postgres://…`. */
export function parseDbUrl(url: string): { dialect: DialectName; target: string } {
  if (/^postgres(ql)?:\/\//i.test(url)) return { dialect: 'postgres', target: url };
  if (url.startsWith('sqlite:')) {
    const target = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (target === '') throw new ComebackError('usage', `--db ${url}: no SQLite file given`);
    return { dialect: 'sqlite', target };
  }
  if (url.includes('://')) throw new ComebackError('usage', `--db ${url}: use sqlite:PATH or postgres://…`);
  return { dialect: 'sqlite', target: url };
}

/**
 * Opens the database named by `url` and brings its schema up to date. SQLite runs in WAL mode with a
 * busy timeout so that several processes can share one file; PostgreSQL's int8 and numeric come back
 * as numbers (every bigint here is an epoch millisecond or a minor-unit amount, far below 2^53).
 */
export async function openStore(url: string, { migrate = true }: { migrate?: boolean } = {}): Promise<Store> {
  const { dialect, target } = parseDbUrl(url);
  let db: Db;
  if (dialect === 'sqlite') {
    const database = new SQLite(target);
    database.pragma('journal_mode = WAL');
    database.pragma('busy_timeout = 10000');
    database.pragma('foreign_keys = ON');
    database.pragma('synchronous = NORMAL');
    // 64 MB of page cache (default 2 MB) keeps index pages hot during large imports and scans.
    database.pragma('cache_size = -65536');
    db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(database) }) });
    sqliteHandles.set(db.getExecutor().adapter, database);
  } else {
    const pool = new pg.Pool({ connectionString: target, max: 10, types: { getTypeParser: pgTypeParser } });
    // An idle connection the server drops (restart, admin termination) must not crash the process:
    // the pool discards it and the next query opens a new one.
    pool.on('error', () => {});
    db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    pgPools.set(db.getExecutor().adapter, pool);
  }
  const store: Store = {
    db,
    dialect,
    label: url.replace(/:\/\/([^:@/]+):[^@/]*@/, '://$1:***@'),
    close: () => db.destroy(),
  };
  if (migrate) {
    try {
      await migrateToLatest(store);
    } catch (error) {
      await store.close();
      throw error;
    }
  }
  return store;
}

const INT8 = 20;
const NUMERIC = 1700;

function pgTypeParser(oid: number, format?: 'text' | 'binary') {
  if (oid === INT8 || oid === NUMERIC) return (value: string) => Number(value);
  // biome-ignore lint/suspicious/noExplicitAny: pg's overloads do not accept a union format.
  return pg.types.getTypeParser(oid, format as any);
}

/** Applies every migration not applied yet; throws with the failing migration's name. */
export async function migrateToLatest(store: Store): Promise<void> {
  const migrator = new Migrator({
    db: store.db,
    provider: { getMigrations: async () => allMigrations(store.dialect) },
    // Capabilities add their migrations independently; a database that has a later one applied
    // still takes an earlier one it lacks.
    allowUnorderedMigrations: true,
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new ComebackError('internal', `database migration ${failed} failed: ${String(error)}`, { cause: error });
  }
}

/** The dialect behind a Kysely instance or transaction, for the few queries spelled differently. */
export function dialectOf(db: Db): DialectName {
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
}

/** Counts the rows of a table; used by `stats` and tests. */
export async function countRows(db: Db, table: keyof Database): Promise<number> {
  const row = await db.selectFrom(table).select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

/** The smallest part of better-sqlite3 the bulk writers use: prepared statements. */
export interface SqliteHandle {
  prepare(sql: string): { run(...params: unknown[]): unknown };
}

// Keyed by the Kysely adapter, which a database and all its transactions share.
const sqliteHandles = new WeakMap<object, SqliteHandle>();

/**
 * The SQLite connection behind a Kysely instance or transaction, for bulk writes that prepare one
 * statement and run it per row (far cheaper than compiling multi-row inserts). Statements run on the
 * same connection, so inside a Kysely transaction they are part of it. Undefined on PostgreSQL.
 */
export function sqliteHandle(db: Db): SqliteHandle | undefined {
  return sqliteHandles.get(db.getExecutor().adapter);
}

const pgPools = new WeakMap<object, pg.Pool>();

/**
 * A PostgreSQL store's own connection for bulk loads (`COPY`): one client of the pool, and a Kysely
 * instance that runs every query on that client, so that its transactions and the client's COPY
 * streams are one session. Undefined on SQLite. The caller calls `release()`.
 */
export async function pgSession(db: Db): Promise<{ client: pg.PoolClient; db: Db; release(): void } | undefined> {
  const pool = pgPools.get(db.getExecutor().adapter);
  if (!pool) return undefined;
  const client = await pool.connect();
  // A pool of one that never closes the client: Kysely's connection is this session.
  const borrowed = {
    query: ((...args: Parameters<pg.PoolClient['query']>) => client.query(...args)) as pg.PoolClient['query'],
    release() {},
  };
  const single = { connect: async () => borrowed, end: async () => {} };
  return {
    client,
    db: new Kysely<Database>({ dialect: new PostgresDialect({ pool: single }) }),
    release: () => client.release(),
  };
}

const STATEMENT_CACHE_SIZE = 128;
/** Longer SQL is a multi-row insert of one batch: rarely run twice, and large to keep. */
const CACHEABLE_SQL_LENGTH = 8192;

/**
 * Kysely's SQLite driver prepares every query anew; preparing costs as much as running a small
 * query. This keeps the most recently used prepared statements by SQL text (least recently used out
 * first), so a query run in a loop — an import's per-refund lookups, the API's per-request queries —
 * is prepared once. A statement still busy (iterating) is never handed out twice; long batch inserts
 * are not kept.
 */
function withStatementCache(database: SQLite.Database): SqliteDatabase {
  const cache = new Map<string, SQLite.Statement>();
  return {
    close: () => {
      cache.clear();
      database.close();
    },
    prepare(text: string): SqliteStatement {
      const cached = cache.get(text);
      if (cached && !cached.busy) {
        cache.delete(text);
        cache.set(text, cached);
        return cached;
      }
      const statement = database.prepare(text);
      if (text.length > CACHEABLE_SQL_LENGTH) return statement;
      cache.set(text, statement);
      if (cache.size > STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
      return statement;
    },
  };
}
