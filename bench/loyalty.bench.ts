/**
 * `npm run bench:loyalty`: imports the full UCI Online Retail file into a fresh SQLite file, then runs
 * the example loyalty program (samples/loyalty/program.example.json, every buyer enrolled) over the
 * whole order history with `syncOrders`, and the periodic `settle` (settlement, lot expiry, tier
 * reviews) after it. It prints ledger entries per second and peak memory, beside a reference measured
 * in the same run: the same number of ledger-shaped rows written by one prepared INSERT each, in one
 * transaction, into a table with the same unique idempotency key.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { importFile } from '../src/ingest/index.js';
import { auditLedger, parseProgramConfig, saveProgram, settle, syncOrders } from '../src/loyalty/index.js';
import { packageRoot, samplePath } from '../src/shared/paths.js';
import { openStore } from '../src/store/index.js';

const FILE = join(packageRoot(), '..', 'shared', 'datasets', 'online-retail', 'online_retail_by_day_concat.csv');

if (!existsSync(FILE)) {
  console.log(`bench:loyalty skipped: ${FILE} is not here (see shared/datasets/README.md)`);
  process.exit(0);
}

const NOW = Date.UTC(2012, 0, 1);
const dir = mkdtempSync(join(tmpdir(), 'comeback-bench-loyalty-'));
const perSecond = (n: number, ms: number) => Math.round(n / (ms / 1000)).toLocaleString('en-US');
try {
  const store = await openStore(`sqlite:${join(dir, 'comeback.db')}`);
  const importStart = performance.now();
  const imported = await importFile(store.db, FILE, { format: 'online-retail', now: NOW });
  const importMs = performance.now() - importStart;
  const config = parseProgramConfig(readFileSync(samplePath('loyalty', 'program.example.json'), 'utf8'));
  const program = await saveProgram(store.db, config, { now: NOW });
  const importRss = process.resourceUsage().maxRSS / 1024;

  const start = performance.now();
  const sync = await syncOrders(store.db, program, { now: NOW });
  const syncMs = performance.now() - start;
  const settleStart = performance.now();
  const settled = await settle(store.db, program, { now: NOW });
  const settleMs = performance.now() - settleStart;
  const againStart = performance.now();
  const again = await syncOrders(store.db, program, { now: NOW });
  const againMs = performance.now() - againStart;
  const audit = await auditLedger(store.db);
  await store.close();
  const syncRss = process.resourceUsage().maxRSS / 1024;

  // Reference: the same number of ledger rows, one prepared INSERT each, one transaction.
  const raw = new Database(join(dir, 'raw.db'));
  raw.pragma('journal_mode = WAL');
  raw.pragma('synchronous = NORMAL');
  raw.exec(
    'create table ledger (id integer primary key, customer_id integer, amount integer, kind text, reason text, idempotency_key text unique, available_at integer, occurred_at integer, meta text)',
  );
  const insert = raw.prepare('insert into ledger values (null, ?, ?, ?, ?, ?, ?, ?, ?)');
  const rows = sync.ledgerEntries;
  const rawStart = performance.now();
  raw.exec('begin');
  for (let i = 0; i < rows; i += 1) {
    insert.run(i % 4000, 100 + (i % 977), 'earn', `order ${i}`, `order:${i}:earn`, NOW, NOW - i, '{"multiplier":1}');
  }
  raw.exec('commit');
  const rawMs = performance.now() - rawStart;
  raw.close();

  console.log(`file: ${FILE}`);
  console.log(
    `imported: ${imported.rows.toLocaleString('en-US')} rows → ${imported.orders.toLocaleString('en-US')} orders, ${imported.refunds.toLocaleString('en-US')} refunds in ${(importMs / 1000).toFixed(1)} s (not part of the figures below)`,
  );
  console.log(
    `syncOrders: ${sync.orders.toLocaleString('en-US')} orders, ${sync.enrolled.toLocaleString('en-US')} members enrolled, ${sync.ledgerEntries.toLocaleString('en-US')} ledger entries (${sync.pointsEarned.toLocaleString('en-US')} points earned, ${sync.pointsReversed.toLocaleString('en-US')} reversed, shortfall ${sync.shortfall})`,
  );
  console.log(
    `  ${syncMs.toFixed(0)} ms: ${perSecond(sync.ledgerEntries, syncMs)} entries/s, ${perSecond(sync.orders, syncMs)} orders/s`,
  );
  console.log(
    `settle (expiry, tier reviews): ${settled.members.toLocaleString('en-US')} members, ${settled.expired.toLocaleString('en-US')} points expired, ${settled.downgrades} downgrades in ${settleMs.toFixed(0)} ms`,
  );
  console.log(`rerun of syncOrders (nothing new): ${againMs.toFixed(0)} ms, ${again.ledgerEntries} entries`);
  console.log(`ledger audit: ${audit.entries.toLocaleString('en-US')} entries, ${audit.problems.length} problems`);
  console.log(
    `reference (prepared INSERT of ${rows.toLocaleString('en-US')} ledger rows, one transaction): ${rawMs.toFixed(0)} ms, ${perSecond(rows, rawMs)} rows/s`,
  );
  console.log(`ratio syncOrders / reference: ${(syncMs / rawMs).toFixed(1)}×`);
  console.log(`peak RSS: ${importRss.toFixed(0)} MB after the import, ${syncRss.toFixed(0)} MB after sync and settle`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
