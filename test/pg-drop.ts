import { setTimeout as sleep } from 'node:timers/promises';
import type { TestDb } from './setup.js';

/**
 * Closes a test database's store, lets the PostgreSQL connections finish closing, then drops it.
 * pg-pool's `end()` resolves before its clients' sockets are closed, so `DROP DATABASE … WITH (FORCE)`
 * right after it can terminate a connection that is still closing; the pool then emits an 'error' that
 * nobody listens to and the test process fails with an uncaught exception.
 */
export async function dropWhenClosed(t: TestDb | undefined): Promise<void> {
  if (!t) return;
  await t.store.close();
  if (t.store.dialect === 'postgres') await sleep(200);
  await t.drop();
}
