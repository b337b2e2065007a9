/**
 * A child process of the SQLite writer tests. `import DB_PATH FILE FORMAT` imports a file and prints
 * `{"ok":true,…}` or the error's kind; `hold DB_PATH MS` takes SQLite's write lock (BEGIN IMMEDIATE)
 * straight through better-sqlite3, prints "locked", keeps it MS milliseconds, then commits.
 * Usage: node --import tsx test/import-lock-worker.ts import|hold …
 */
import Database from 'better-sqlite3';
import { ComebackError } from '../src/errors.js';
import type { FormatName } from '../src/ingest/index.js';
import { importFile } from '../src/ingest/index.js';
import { openStore } from '../src/store/index.js';

const [mode, path, ...rest] = process.argv.slice(2);
if (mode === 'hold' && path) {
  const db = new Database(path);
  db.pragma('busy_timeout = 10000');
  db.exec('begin immediate');
  process.stdout.write('locked\n');
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Number(rest[0]));
  db.exec('commit');
  db.close();
} else if (mode === 'import' && path && rest[0] && rest[1]) {
  const store = await openStore(`sqlite:${path}`);
  const started = Date.now();
  try {
    const summary = await importFile(store.db, rest[0], { format: rest[1] as FormatName, now: Date.UTC(2026, 0, 1) });
    process.stdout.write(`${JSON.stringify({ ok: true, orders: summary.orders, started, finished: Date.now() })}\n`);
  } catch (error) {
    const kind = error instanceof ComebackError ? error.kind : String(error);
    process.stdout.write(`${JSON.stringify({ ok: false, kind })}\n`);
  } finally {
    await store.close();
  }
} else {
  throw new Error('usage: import DB_PATH FILE FORMAT | hold DB_PATH MS');
}
