/**
 * `npm run bench:import`: imports the full UCI Online Retail file (541,909 lines) into a fresh SQLite
 * file and compares it with the raw speed of SQLite measured in the same run: the same rows parsed
 * by csv-parse and written with one prepared INSERT each into an empty table, in one transaction.
 */
import { spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { parse } from 'csv-parse';
import { importFile } from '../src/ingest/index.js';
import { packageRoot } from '../src/shared/paths.js';
import { openStore } from '../src/store/index.js';

// COMEBACK_BENCH_FILE points at the file when the datasets are not beside the package (a worktree).
const FILE =
  process.env.COMEBACK_BENCH_FILE ??
  join(packageRoot(), '..', 'shared', 'datasets', 'online-retail', 'online_retail_by_day_concat.csv');

// Child mode: import one file and report this process's own peak memory.
if (process.argv[2] === '--child') {
  const store = await openStore(`sqlite:${process.argv[4]}`);
  const started = performance.now();
  const summary = await importFile(store.db, process.argv[3]!, { format: 'online-retail', now: Date.now() });
  await store.close();
  console.log(
    JSON.stringify({ rows: summary.rows, ms: performance.now() - started, maxRssKb: process.resourceUsage().maxRSS }),
  );
  process.exit(0);
}

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
  console.log(`peak RSS (this process, both runs and the reference): ${peakMb.toFixed(0)} MB`);

  // Bounded memory: a file of over a million lines (the data twice, the copy's invoices and
  // customers renumbered) imported by a process of its own, whose peak RSS is its own.
  const big = join(dir, 'online-retail-x2.csv');
  const out = createWriteStream(big);
  for (const copy of [0, 1]) {
    let header = true;
    for await (const record of createReadStream(FILE).pipe(parse({ bom: true })) as AsyncIterable<string[]>) {
      if (header) {
        header = false;
        if (copy === 0) out.write(`${record.join(',')}\n`);
        continue;
      }
      if (copy === 1) {
        record[0] = record[0]!.replace(/(\d+)/, (n) => String(Number(n) + 1_000_000));
        if (record[6]) record[6] = String(Number(record[6]) + 100_000);
      }
      out.write(`${record.map((f) => (/[",\n]/.test(f) ? `"${f.replace(/"/g, '""')}"` : f)).join(',')}\n`);
    }
  }
  await new Promise((resolve) => out.end(resolve));
  const child = spawnSync(
    process.execPath,
    ['--import', import.meta.resolve('tsx'), import.meta.filename, '--child', big, join(dir, 'big.db')],
    { encoding: 'utf8' },
  );
  if (child.status !== 0) throw new Error(child.stderr);
  const result = JSON.parse(child.stdout.trim().split('\n').pop()!);
  console.log(
    `${result.rows.toLocaleString('en-US')}-line file: ${(result.ms / 1000).toFixed(1)} s, ${perSecond(result.rows, result.ms)} rows/s, ` +
      `peak RSS ${(result.maxRssKb / 1024).toFixed(0)} MB (limit 500 MB)`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
