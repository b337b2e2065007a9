/**
 * `npm run bench:segments`: imports the full UCI Online Retail file into a fresh SQLite file, then, in a
 * child process that reports its own peak memory, computes RFM, personas and lifecycle stages for every
 * customer and stores them (`refreshSegments`). The reference measured in the same run is one plain
 * `GROUP BY customer_id` over the orders — the least any per-customer computation has to read.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { importFile } from '../src/ingest/index.js';
import { computeLifecycle, computePersonas, computeRfm, refreshSegments } from '../src/segments/index.js';
import { packageRoot } from '../src/shared/paths.js';
import { openStore } from '../src/store/index.js';

const FILE = join(packageRoot(), '..', 'shared', 'datasets', 'online-retail', 'online_retail_by_day_concat.csv');
const AS_OF = Date.UTC(2011, 11, 10);

async function timed<T>(run: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await run();
  return { value, ms: performance.now() - started };
}

// Child mode: compute on an imported database and report this process's own peak memory.
if (process.argv[2] === '--child') {
  const store = await openStore(`sqlite:${process.argv[3]}`);
  const reference = await timed(() =>
    sql`select customer_id, max(placed_at), count(*), sum(total_minor) from orders where customer_id is not null group by customer_id`.execute(
      store.db,
    ),
  );
  const rfm = await timed(() => computeRfm(store.db, { asOf: AS_OF }));
  const personas = await timed(() => computePersonas(store.db, { asOf: AS_OF }));
  const lifecycle = await timed(() => computeLifecycle(store.db, { asOf: AS_OF }));
  const refresh = await timed(() => refreshSegments(store.db, { asOf: AS_OF }));
  const again = await timed(() => refreshSegments(store.db, { asOf: AS_OF }));
  await store.close();
  console.log(
    JSON.stringify({
      customers: rfm.value.customers.length,
      referenceMs: reference.ms,
      rfmMs: rfm.ms,
      personasMs: personas.ms,
      personas: personas.value.length,
      lifecycleMs: lifecycle.ms,
      lifecycle: lifecycle.value.customers.length,
      refreshMs: refresh.ms,
      changes: refresh.value.changes.total,
      againMs: again.ms,
      maxRssKb: process.resourceUsage().maxRSS,
    }),
  );
  process.exit(0);
}

if (!existsSync(FILE)) {
  console.log(`bench:segments skipped: ${FILE} is not here (see shared/datasets/README.md)`);
  process.exit(0);
}

const dir = mkdtempSync(join(tmpdir(), 'comeback-bench-'));
try {
  const dbFile = join(dir, 'comeback.db');
  const store = await openStore(`sqlite:${dbFile}`);
  const imported = await timed(() => importFile(store.db, FILE, { format: 'online-retail', now: Date.now() }));
  await store.close();
  const child = spawnSync(process.execPath, ['--import', 'tsx', new URL(import.meta.url).pathname, '--child', dbFile], {
    encoding: 'utf8',
  });
  if (child.status !== 0) throw new Error(`child failed: ${child.stderr}`);
  const r = JSON.parse(child.stdout.trim().split('\n').pop()!) as Record<string, number>;
  const ms = (n: number | undefined) => `${(n ?? 0).toFixed(0).padStart(6)} ms`;
  console.log(`file: ${FILE}`);
  console.log(
    `import: ${imported.value.orders} orders, ${imported.value.customersCreated} customers in ${imported.ms.toFixed(0)} ms`,
  );
  console.log(`reference (one GROUP BY customer_id over orders): ${ms(r.referenceMs)}`);
  console.log(
    `RFM, ${r.customers} customers:                   ${ms(r.rfmMs)}  (${(r.rfmMs! / r.referenceMs!).toFixed(1)}× reference)`,
  );
  console.log(`personas, ${r.personas} customers:               ${ms(r.personasMs)}`);
  console.log(`lifecycle, ${r.lifecycle} customers:              ${ms(r.lifecycleMs)}`);
  console.log(`refresh (all three stored + events):        ${ms(r.refreshMs)}  (${r.changes} label changes)`);
  console.log(`refresh again (nothing changes):            ${ms(r.againMs)}`);
  console.log(`peak RSS of the segments process: ${(r.maxRssKb! / 1024).toFixed(0)} MB`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
