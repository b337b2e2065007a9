export { copyRows } from './copy.js';
export {
  countRows,
  type Db,
  DEFAULT_DB_URL,
  dialectOf,
  migrateToLatest,
  openStore,
  parseDbUrl,
  pgSession,
  type SqliteHandle,
  type Store,
  sqliteHandle,
} from './db.js';
export type { DialectName } from './migrations/index.js';
export { skipQueuedMarketing, skipQueuedTopic } from './queued-marketing.queries.js';
export type * from './schema.js';
export { REVENUE_STATUSES, type StoreStats, storeStats } from './stats.queries.js';
export { storeIdOf } from './store-id.js';
export { COMEBACK_EVENT_TYPES, COMEBACK_TRACK_EVENTS, isComebackEvent } from './system-events.js';
export { immediateTransaction, isPostgres } from './transaction.js';
