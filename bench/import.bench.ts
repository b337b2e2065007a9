/**
 * `npm run bench:import`: imports the full UCI Online Retail file (541,909 lines) into a fresh SQLite
 * file and compares it with the raw speed of SQLite measured in the same run: the same rows parsed
 * by csv-parse and written with one prepared INSERT each into an empty table, in one transaction.
 */
import { createReadStream, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { parse } from 'csv-parse';
import { importFile } from '../src/ingest/index.js';
import { packageRoot } from '../src/shared/paths.js';
import { openStore } from '../src/store/index.js';

const FILE = join(packageRoot(), '..', 'shared', 'datasets', 'online-retail', 'online_retail_by_day_concat.csv');

if (!existsSync(FILE)) {
  console.log(`bench:import skipped: ${FILE} is not here (see shared/datasets/README.md)`);
  process.exit(0);
}

const dir = mkdtempSync(join(tmpdir(), 'comeback-bench-'));
try {
  // Reference: csv-parse + one prepared INSERT per row into a plain table, one transaction.
  const rawStart = performance.now();
  const raw = new Database(join(dir, 'raw.db'));
  raw.pragma('journal_mode = WAL');
  raw.pragma('synchronous = NORMAL');
  raw.exec(
    'create table lines (invoice text, stock_code text, description text, quantity integer, invoice_date text, unit_price real, customer_id text, country text)',
  );
  const insert = raw.prepare('insert into lines values (?, ?, ?, ?, ?, ?, ?, ?)');
  let rawRows = 0;
  raw.exec('begin');
  for await (const record of createReadStream(FILE).pipe(parse({ bom: true, from_line: 2 })) as AsyncIterable<
    string[]
  >) {
    insert.run(record);
    rawRows += 1;
  }
  raw.exec('commit');
  raw.close();
  const rawMs = performance.now() - rawStart;

  const store = await openStore(`sqlite:${join(dir, 'comeback.db')}`);
  const start = performance.now();
  const summary = await importFile(store.db, FILE, { format: 'online-retail', now: Date.now() });
  const ms = performance.now() - start;
  const againStart = performance.now();
  await importFile(store.db, FILE, { format: 'online-retail', now: Date.now() });
  const againMs = performance.now() - againStart;
  await store.close();

  const peakMb = process.resourceUsage().maxRSS / 1024;
  const perSecond = (rows: number, millis: number) => Math.round(rows / (millis / 1000)).toLocaleString('en-US');
  console.log(`file: ${FILE}`);
  console.log(
    `rows: ${summary.rows.toLocaleString('en-US')} → ${summary.orders} orders, ${summary.lines} lines, ${summary.refunds} refunds, ${summary.customersCreated} customers`,
  );
  console.log(
    `reference (csv-parse + prepared inserts, one table): ${rawMs.toFixed(0)} ms, ${perSecond(rawRows, rawMs)} rows/s`,
  );
  console.log(
    `comeback import:                                   ${ms.toFixed(0)} ms, ${perSecond(summary.rows, ms)} rows/s`,
  );
  console.log(`re-import (no-op):                                 ${againMs.toFixed(0)} ms`);
  console.log(`ratio import / reference: ${(ms / rawMs).toFixed(2)}× (target ≤ 3×)`);
  console.log(`peak RSS: ${peakMb.toFixed(0)} MB`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
