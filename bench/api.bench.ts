/**
 * `npm run bench:api`: drives the events endpoint with autocannon on loopback for a bounded time and
 * prints events per second and p50/p99 latency, beside the same figures for a bare Fastify route in
 * the same run. The servers run in a child process (a temporary SQLite store, a write key, rate
 * limiting off) so that the load generator does not share their event loop; the child reports its
 * own peak RSS. `BENCH_SECONDS` (default 10) bounds each phase, `BENCH_BATCH` (default 50) is the
 * number of calls per `/batch` request, `BENCH_CONNECTIONS` (default 10) the concurrent connections.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import Fastify from 'fastify';
import { buildApp } from '../src/api/build-app.js';
import { createApiKey } from '../src/api/keys.queries.js';
import { countRows, openStore } from '../src/store/index.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const BATCH = Number(process.env.BENCH_BATCH ?? 50);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);

interface Ready {
  appUrl: string;
  bareUrl: string;
  key: string;
}

// Child mode: serve the API and a bare route until stdin closes, then report rows and peak memory.
if (process.argv[2] === '--serve') {
  const store = await openStore(`sqlite:${process.argv[3]}`);
  const { key } = await createApiKey(store.db, { scope: 'write', name: 'bench', now: Date.now() });
  const app = await buildApp({ store, rateLimit: false });
  const bare = Fastify();
  bare.post('/bare', async () => ({ ok: true }));
  const ready: Ready = {
    appUrl: await app.listen({ port: 0, host: '127.0.0.1' }),
    bareUrl: await bare.listen({ port: 0, host: '127.0.0.1' }),
    key,
  };
  console.log(JSON.stringify(ready));
  process.stdin.resume();
  await new Promise((resolve) => process.stdin.on('end', resolve));
  const events = await countRows(store.db, 'events');
  await app.close();
  await bare.close();
  await store.close();
  console.log(JSON.stringify({ events, maxRssKb: process.resourceUsage().maxRSS }));
  process.exit(0);
}

const dir = mkdtempSync(join(tmpdir(), 'comeback-bench-api-'));
const child: ChildProcess = spawn(
  process.execPath,
  ['--import', 'tsx', fileURLToPath(import.meta.url), '--serve', join(dir, 'bench.db')],
  { stdio: ['pipe', 'pipe', 'inherit'] },
);
const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
try {
  const ready = JSON.parse(String((await lines.next()).value)) as Ready;
  let counter = 0;
  const call = (i: number) => ({
    type: 'track',
    messageId: `bench-${process.pid}-${i}`,
    anonymousId: `anon-${i % 1000}`,
    event: 'Product Viewed',
    properties: { sku: `SKU-${i % 500}`, price: 19.99, currency: 'EUR' },
    timestamp: new Date().toISOString(),
  });
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${ready.key}` };

  const run = (title: string, url: string, body: () => string) =>
    autocannon({
      title,
      url,
      connections: CONNECTIONS,
      duration: SECONDS,
      requests: [
        {
          method: 'POST',
          headers,
          setupRequest: (request) => ({ ...request, body: body() }),
        },
      ],
    });

  const track = await run('POST /api/v1/track', `${ready.appUrl}/api/v1/track`, () => {
    const { type: _type, ...single } = call(counter++);
    return JSON.stringify(single);
  });
  const batch = await run('POST /api/v1/batch', `${ready.appUrl}/api/v1/batch`, () => {
    const calls = Array.from({ length: BATCH }, () => call(counter++));
    return JSON.stringify({ batch: calls });
  });
  const bare = await run('POST /bare (bare Fastify)', `${ready.bareUrl}/bare`, () => JSON.stringify(call(0)));

  child.stdin!.end();
  const final = JSON.parse(String((await lines.next()).value)) as { events: number; maxRssKb: number };

  const ok = (r: autocannon.Result) => r.requests.total - r.non2xx - r.errors;
  const rows = [
    ['route', 'requests/s', 'events/s', 'p50 ms', 'p99 ms', 'non-2xx', 'errors'],
    ...[
      [track, 1],
      [batch, BATCH],
      [bare, 0],
    ].map(([r, per]) => {
      const result = r as autocannon.Result;
      const perRequest = per as number;
      return [
        result.title ?? '',
        (ok(result) / SECONDS).toFixed(0),
        perRequest === 0 ? '–' : ((ok(result) * perRequest) / SECONDS).toFixed(0),
        String(result.latency.p50),
        String(result.latency.p99),
        String(result.non2xx),
        String(result.errors),
      ];
    }),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  console.log(
    `bench:api — ${SECONDS} s per route, ${CONNECTIONS} connections, loopback, SQLite, ${BATCH} calls per batch, Node ${process.version}`,
  );
  for (const row of rows)
    console.log(row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  '));
  const sent = ok(track) + ok(batch) * BATCH;
  console.log(
    `events stored: ${final.events} of ${sent} accepted; server peak RSS ${(final.maxRssKb / 1024).toFixed(0)} MiB`,
  );
} finally {
  child.kill();
  rmSync(dir, { recursive: true, force: true });
}
