/**
 * `npm run bench:scale [-- --customers N] [--months M] [--steps import,report,…] [--pg URL] [--skip-sqlite]`:
 * a simulated store (BG/NBD with the CDNOW parameters, see `comeback simulate`) on SQLite and, when a
 * server is given (`--pg` or
 * COMEBACK_TEST_PG), PostgreSQL. For each step: time, rows per second, peak memory, and the ratio to
 * its reference measured in the same run — a raw load of the same rows into one table each (SQLite: one
 * prepared INSERT per row in one transaction; PostgreSQL: one COPY): for `simulate → db` its lines and
 * events, for the import the export's rows; a bare
 * Fastify route for `POST /track`, DuckDB over the same export for report and cohorts. The commands
 * run as a user runs them (a child process each, peak RSS by /usr/bin/time); the track step runs the
 * server in a child process and drives it from this one. The import is timed twice: as the CLI (start-up
 * included, as a user runs it) and in this process (the import alone, as its raw reference is timed).
 * `--steps` runs only the steps named (simulate, import, track, report, cohorts, summary, predict,
 * refresh, export); the export and its raw reference are always made.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream, mkdtempSync, rmSync, type WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { finished, pipeline } from 'node:stream/promises';
import { DuckDBInstance } from '@duckdb/node-api';
import Database from 'better-sqlite3';
import { parse } from 'csv-parse';
import Fastify from 'fastify';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { createApiKey } from '../src/api/keys.queries.js';
import { toCsv } from '../src/shared/csv.js';
import { packageRoot } from '../src/shared/paths.js';
import { SHOPIFY_COLUMNS, simulateStore } from '../src/simulate/index.js';
import { openStore } from '../src/store/index.js';

const MAIN = join(packageRoot(), 'src', 'cli', 'main.ts');
const TSX = import.meta.resolve('tsx');

// Child mode: a bare Fastify route, the reference of the track step.
if (process.argv[2] === '--bare') {
  const app = Fastify();
  app.post('/track', async () => ({ success: true }));
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  console.log(`listening at ${address}/`);
  await new Promise(() => {});
}

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const CUSTOMERS = Number(flag('--customers') ?? 2000);
const MONTHS = Number(flag('--months') ?? 24);
const TRACK_SECONDS = Number(flag('--track-seconds') ?? 5);
const PG_URL = flag('--pg') ?? process.env.COMEBACK_TEST_PG;
const SKIP_SQLITE = process.argv.includes('--skip-sqlite');
const STEPS = ['simulate', 'import', 'track', 'report', 'cohorts', 'summary', 'predict', 'refresh', 'export'] as const;
/** `--steps import,report`: only those steps (the export and its raw reference are always made). */
const ONLY = new Set((flag('--steps') ?? STEPS.join(',')).split(',').map((s) => s.trim()));
for (const step of ONLY) {
  if (!(STEPS as readonly string[]).includes(step)) throw new Error(`--steps ${step}: steps are ${STEPS.join(', ')}`);
}
const wants = (step: (typeof STEPS)[number]) => ONLY.has(step);

interface Step {
  db: string;
  step: string;
  seconds: number;
  rows: number;
  peakMb: number | undefined;
  reference?: string;
  refSeconds?: number;
  note?: string;
}
const results: Step[] = [];

function print(step: Step): void {
  results.push(step);
  const rate = step.rows > 0 ? Math.round(step.rows / step.seconds).toLocaleString('en-US') : '–';
  const ratio =
    step.refSeconds !== undefined
      ? step.step.startsWith('track')
        ? `${(step.refSeconds / step.seconds).toFixed(2)}× of ${step.reference}`
        : `${(step.seconds / step.refSeconds).toFixed(2)}× ${step.reference} (${step.refSeconds.toFixed(2)} s)`
      : '';
  process.stderr.write(
    `${step.db.padEnd(8)} ${step.step.padEnd(22)} ${step.seconds.toFixed(2).padStart(8)} s ${rate.padStart(10)} rows/s ` +
      `${(step.peakMb === undefined ? '–' : step.peakMb.toFixed(0)).padStart(6)} MB  ${ratio}${step.note ? `  ${step.note}` : ''}\n`,
  );
}

/** Runs the real CLI; returns seconds, peak RSS (MB) and stdout. */
function cli(args: string[], url: string): { seconds: number; peakMb: number; out: string } {
  const started = performance.now();
  const result = spawnSync('/usr/bin/time', ['-f', 'maxrss %M', process.execPath, '--import', TSX, MAIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, COMEBACK_DB: url },
    maxBuffer: 1024 * 1024 * 1024,
  });
  const seconds = (performance.now() - started) / 1000;
  if (result.status !== 0) throw new Error(`comeback ${args.join(' ')}: ${result.stderr}`);
  const kb = Number(/maxrss (\d+)/.exec(result.stderr)?.[1] ?? Number.NaN);
  return { seconds, peakMb: kb / 1024, out: result.stdout };
}

/** A raw load of a CSV file (`columns` text columns, `header` lines skipped) into one fresh table. */
interface RawFile {
  file: string;
  columns: number;
  header: boolean;
}

async function rawSqlite(files: RawFile[], dir: string): Promise<{ seconds: number; rows: number }> {
  const started = performance.now();
  const raw = new Database(join(dir, `raw-${Math.random()}.db`));
  raw.pragma('journal_mode = WAL');
  raw.pragma('synchronous = NORMAL');
  let rows = 0;
  for (const [t, { file, columns, header }] of files.entries()) {
    raw.exec(`create table t${t} (${Array.from({ length: columns }, (_c, i) => `c${i} text`).join(', ')})`);
    const insert = raw.prepare(`insert into t${t} values (${Array.from({ length: columns }, () => '?').join(', ')})`);
    raw.exec('begin');
    for await (const record of createReadStream(file).pipe(parse({ from_line: header ? 2 : 1 })) as AsyncIterable<
      string[]
    >) {
      insert.run(record);
      rows += 1;
    }
    raw.exec('commit');
  }
  raw.close();
  return { seconds: (performance.now() - started) / 1000, rows };
}

async function rawCopy(files: RawFile[], url: string): Promise<{ seconds: number; rows: number }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    let seconds = 0;
    let rows = 0;
    for (const { file, columns, header } of files) {
      await client.query('drop table if exists bench_raw');
      await client.query(
        `create table bench_raw (${Array.from({ length: columns }, (_c, i) => `c${i} text`).join(', ')})`,
      );
      const started = performance.now();
      await pipeline(
        createReadStream(file),
        client.query(copyFrom(`COPY bench_raw FROM STDIN (FORMAT csv, HEADER ${header})`)),
      );
      seconds += (performance.now() - started) / 1000;
      const counted = await client.query('select count(*)::int as n from bench_raw');
      rows += counted.rows[0].n;
      await client.query('drop table bench_raw');
    }
    return { seconds, rows };
  } finally {
    await client.end();
  }
}

/**
 * The rows `simulate → db` stores that a raw load can be compared with: its order lines (the columns of
 * `order_lines`) and its events (the columns of `events` it fills), as two CSV files without a header,
 * drawn by the same generator with the same options as the CLI's defaults.
 */
async function simulatedRows(dir: string): Promise<RawFile[]> {
  const linesFile = join(dir, 'sim-lines.csv');
  const eventsFile = join(dir, 'sim-events.csv');
  const lines = createWriteStream(linesFile);
  const events = createWriteStream(eventsFile);
  const now = Date.now();
  const write = async (out: WriteStream, rows: unknown[][]) => {
    if (!out.write(toCsv(rows))) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  };
  let customerId = 0;
  for (const customer of simulateStore({ customers: CUSTOMERS, months: MONTHS, seed: 1, currency: 'USD' })) {
    customerId += 1;
    const lineRows = customer.orders.flatMap((order, o) =>
      order.lines.map((line, i) => [
        customerId * 1000 + o,
        i + 1,
        customerId,
        line.sku,
        line.title,
        line.quantity,
        line.unitPriceMinor,
        0,
        line.quantity * line.unitPriceMinor,
        'product',
      ]),
    );
    const eventRows = customer.events.map((e) => [
      e.messageId,
      e.type,
      e.name,
      customerId,
      JSON.stringify(e.sku ? { sku: e.sku } : {}),
      e.at,
      now,
    ]);
    await write(lines, lineRows);
    await write(events, eventRows);
  }
  lines.end();
  events.end();
  await Promise.all([finished(lines), finished(events)]);
  return [
    { file: linesFile, columns: 10, header: false },
    { file: eventsFile, columns: 7, header: false },
  ];
}

async function duck(sql: string): Promise<number> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  const started = performance.now();
  await connection.runAndReadAll(sql);
  const seconds = (performance.now() - started) / 1000;
  connection.closeSync();
  instance.closeSync();
  return seconds;
}

/** Drives POST /track with `concurrency` loops for `seconds`: requests per second and p99 in ms. */
async function load(url: string, key: string | undefined, seconds: number, concurrency = 32) {
  const latencies: number[] = [];
  let errors = 0;
  const until = performance.now() + seconds * 1000;
  let n = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, w) => {
      while (performance.now() < until) {
        const t = performance.now();
        const response = await fetch(`${url}/track`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
          body: JSON.stringify({
            messageId: `bench-${w}-${n++}-${Math.random()}`,
            anonymousId: `anon-${w}`,
            event: 'Product Viewed',
            properties: { sku: 'SIM-000001' },
          }),
        });
        await response.arrayBuffer();
        if (response.status !== 200) errors += 1;
        latencies.push(performance.now() - t);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    rps: latencies.length / elapsed,
    p99: latencies[Math.floor(latencies.length * 0.99)] ?? Number.NaN,
    requests: latencies.length,
    errors,
  };
}

async function serve(args: string[]): Promise<{ url: string; stop(): void }> {
  const child = spawn(process.execPath, ['--import', TSX, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, COMEBACK_LOG_LEVEL: 'warn' },
  });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const first = String((await lines.next()).value);
  const url = /at (http:\/\/127\.0\.0\.1:\d+)\//.exec(first)?.[1];
  if (!url) throw new Error(`no address in: ${first}`);
  return { url, stop: () => child.kill('SIGTERM') };
}

async function sampledPeak<T>(fn: () => Promise<T>): Promise<{ value: T; peakMb: number; seconds: number }> {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  const started = performance.now();
  try {
    const value = await fn();
    return { value, peakMb: peak / 1024 / 1024, seconds: (performance.now() - started) / 1000 };
  } finally {
    clearInterval(timer);
  }
}

async function run(dbName: 'sqlite' | 'postgres', dir: string, makeUrl: (name: string) => Promise<string>) {
  const exportFile = join(dir, 'store.csv');
  // The export of the store: the rows of every reference.
  const url = await makeUrl('direct');
  const exported = cli(
    [
      'simulate',
      '--customers',
      String(CUSTOMERS),
      '--months',
      String(MONTHS),
      '--seed',
      '1',
      '--out',
      exportFile,
      '--json',
    ],
    url,
  );
  const exportRaw = [{ file: exportFile, columns: SHOPIFY_COLUMNS.length, header: true }];
  const raw = dbName === 'sqlite' ? await rawSqlite(exportRaw, dir) : await rawCopy(exportRaw, url);
  const rawLabel = dbName === 'sqlite' ? 'raw INSERT' : 'raw COPY';
  // Every later step reads the store simulate writes; without them it is skipped unless asked for.
  const needsStore = [...ONLY].some((step) => step !== 'import');
  // 1. simulate straight into the database (orders, lines, events).
  let counts = JSON.parse(exported.out) as { orders: number; lines: number; events: number; customers: number };
  if (needsStore || wants('simulate')) {
    const sim = cli(
      ['simulate', '--customers', String(CUSTOMERS), '--months', String(MONTHS), '--seed', '1', '--json'],
      url,
    );
    counts = JSON.parse(sim.out) as typeof counts;
    // The reference: a raw load of the same lines and events (orders and customers are not counted).
    const simRows = await simulatedRows(dir);
    const simRaw = dbName === 'sqlite' ? await rawSqlite(simRows, dir) : await rawCopy(simRows, url);
    if (simRaw.rows !== counts.lines + counts.events) {
      throw new Error(
        `simulate wrote ${counts.lines} lines and ${counts.events} events; the reference ${simRaw.rows} rows`,
      );
    }
    print({
      db: dbName,
      step: 'simulate → db',
      seconds: sim.seconds,
      rows: counts.lines + counts.events,
      peakMb: sim.peakMb,
      reference: `${rawLabel} of its lines and events`,
      refSeconds: simRaw.seconds,
      note: `${counts.customers} customers, ${counts.orders} orders, ${counts.lines} lines, ${counts.events} events`,
    });
  }
  // 2. import the Shopify export into a fresh database: as a user runs it (a child process, start-up
  // included), and in this process (the import alone, as the raw reference is timed).
  if (wants('import')) {
    const importUrl = await makeUrl('import');
    const imported = cli(['import', exportFile, '--format', 'shopify', '--json'], importUrl);
    const how = dbName === 'postgres' ? 'COPY into staging tables, customers set-based' : 'customers set-based';
    print({
      db: dbName,
      step: 'import (shopify)',
      seconds: imported.seconds,
      rows: raw.rows,
      peakMb: imported.peakMb,
      reference: rawLabel,
      refSeconds: raw.seconds,
      note: `${how}; the CLI, start-up included`,
    });
    const store = await openStore(await makeUrl('import_in_process'));
    const { importFile } = await import('../src/ingest/index.js');
    const measured = await sampledPeak(() => importFile(store.db, exportFile, { format: 'shopify', now: Date.now() }));
    await store.close();
    print({
      db: dbName,
      step: 'import (in process)',
      seconds: measured.seconds,
      rows: raw.rows,
      peakMb: measured.peakMb,
      reference: rawLabel,
      refSeconds: raw.seconds,
      note: `${how}; peak RSS of this process, sampled`,
    });
  }
  // 3. POST /track with group commit against a bare Fastify route.
  if (wants('track')) {
    const store = await openStore(url);
    const { key } = await createApiKey(store.db, { scope: 'write', now: Date.now() });
    await store.close();
    const bare = await serve([join(packageRoot(), 'bench', 'scale.bench.ts'), '--bare']);
    const bareLoad = await load(bare.url, undefined, TRACK_SECONDS);
    bare.stop();
    const server = await serve([MAIN, 'serve', '--port', '0', '--rate-limit', '0', '--db', url]);
    const ours = await load(`${server.url}/api/v1`, key, TRACK_SECONDS);
    server.stop();
    print({
      db: dbName,
      step: 'track (group commit)',
      seconds: ours.requests / ours.rps,
      rows: ours.requests,
      peakMb: undefined,
      reference: `bare Fastify (${Math.round(bareLoad.rps)} req/s, p99 ${bareLoad.p99.toFixed(1)} ms)`,
      refSeconds: ours.requests / bareLoad.rps,
      note: `${Math.round(ours.rps)} req/s, p99 ${ours.p99.toFixed(1)} ms, ${ours.errors} errors`,
    });
  }
  // 4–5. report and cohorts against DuckDB over the same export.
  const csv = `read_csv('${exportFile}', header = true, all_varchar = true)`;
  const orders = `(select "Email" as email, strptime(substr("Created at", 1, 19), '%Y-%m-%d %H:%M:%S') as ts,
      cast("Total" as double) - cast("Refunded Amount" as double) as net
    from ${csv} where "Total" <> '' and "Financial Status" <> 'refunded')`;
  if (wants('report')) {
    const report = cli(['report', '--json'], url);
    const duckReport = await duck(`with o as ${orders}
    select count(distinct email) as customers, count(*) as orders, sum(net) as revenue,
      count(distinct case when ts >= (select max(ts) from o) - interval 30 day then email end) as active
    from o`);
    print({
      db: dbName,
      step: 'report',
      seconds: report.seconds,
      rows: counts.orders,
      peakMb: report.peakMb,
      reference: 'DuckDB',
      refSeconds: duckReport,
    });
  }
  if (wants('cohorts')) {
    const cohorts = cli(['cohorts', '--json'], url);
    const duckCohorts = await duck(`with o as ${orders},
      f as (select email, min(date_trunc('month', ts)) as cohort from o group by email)
    select f.cohort, datediff('month', f.cohort, date_trunc('month', o.ts)) as age, count(distinct o.email)
    from o join f using (email) group by 1, 2`);
    print({
      db: dbName,
      step: 'cohorts',
      seconds: cohorts.seconds,
      rows: counts.orders,
      peakMb: cohorts.peakMb,
      reference: 'DuckDB',
      refSeconds: duckCohorts,
    });
  }
  // 6. the per-customer summary (in this process, memory sampled).
  if (wants('summary')) {
    const store = await openStore(url);
    const { customerSummaries } = await import('../src/analytics/index.js');
    const { defaultAsOf } = await import('../src/analytics/index.js');
    const asOf = (await defaultAsOf(store.db)) ?? Date.now();
    const measured = await sampledPeak(() => customerSummaries(store.db, { asOf, unit: 'week' }));
    await store.close();
    const duckSummary = await duck(`with o as ${orders}
      select email, count(*) - 1 as x, max(ts) - min(ts) as tx, avg(net) from o group by email`);
    print({
      db: dbName,
      step: 'customer summary',
      seconds: measured.seconds,
      rows: measured.value.count,
      peakMb: measured.peakMb,
      reference: 'DuckDB',
      refSeconds: duckSummary,
      note: 'peak RSS of this process, sampled',
    });
  }
  // 7–9. fit and score every customer; RFM, personas, lifecycle refresh; a segment export.
  if (wants('predict')) {
    const predict = cli(['predict', '--model', 'bgnbd', '--json'], url);
    print({
      db: dbName,
      step: 'fit + score all',
      seconds: predict.seconds,
      rows: counts.customers,
      peakMb: predict.peakMb,
    });
  }
  if (wants('refresh')) {
    const refresh = cli(['segments', 'refresh', '--json'], url);
    print({
      db: dbName,
      step: 'segments refresh',
      seconds: refresh.seconds,
      rows: counts.customers,
      peakMb: refresh.peakMb,
    });
  }
  if (wants('export')) {
    const segmentCsv = cli(['segments', 'rfm', '--csv'], url);
    print({
      db: dbName,
      step: 'segment export (rfm csv)',
      seconds: segmentCsv.seconds,
      rows: segmentCsv.out.split('\n').length - 2,
      peakMb: segmentCsv.peakMb,
    });
  }
}

const dir = mkdtempSync(join(tmpdir(), 'comeback-scale-'));
process.stderr.write(`bench:scale: ${CUSTOMERS.toLocaleString('en-US')} customers over ${MONTHS} months\n`);
try {
  if (!SKIP_SQLITE) await run('sqlite', dir, async (name) => `sqlite:${join(dir, `${name}.db`)}`);
  if (PG_URL) {
    const made: string[] = [];
    try {
      await run('postgres', dir, async (name) => {
        const db = `comeback_scale_${name}_${process.pid}`;
        const admin = new pg.Client({ connectionString: PG_URL });
        await admin.connect();
        await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
        await admin.query(`CREATE DATABASE ${db}`);
        await admin.end();
        made.push(db);
        const url = new URL(PG_URL);
        url.pathname = `/${db}`;
        return url.toString();
      });
    } finally {
      const admin = new pg.Client({ connectionString: PG_URL });
      await admin.connect();
      for (const db of made) await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
      await admin.end();
    }
  } else process.stderr.write('PostgreSQL skipped: give --pg URL or COMEBACK_TEST_PG\n');
  console.log(JSON.stringify({ customers: CUSTOMERS, months: MONTHS, results }, null, 2));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
