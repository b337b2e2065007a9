/**
 * `npm run bench:recommend`: imports the full UCI Online Retail file into a fresh SQLite file, then, in a
 * child process that reports its own peak memory: `--evaluate` (every method and the popularity
 * baseline on each customer's last order after the 90th-percentile cut), a full build stored as a
 * numbered build, and the time to answer for one customer from the stored build (200 customers).
 * Targets: the best personal method ≥ 2× popularity's hit rate at 10; one answer under 5 ms.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultAsOf } from '../src/analytics/index.js';
import { importFile } from '../src/ingest/index.js';
import { buildRecommendations, type Evaluation, evaluateStore, recommendForCustomer } from '../src/recommend/index.js';
import { packageRoot } from '../src/shared/paths.js';
import { openStore } from '../src/store/index.js';

const NAME = join('datasets', 'online-retail', 'online_retail_by_day_concat.csv');
// The datasets sit beside the repository (../shared) or beside a folder of worktrees (../../shared).
const FILE = [join(packageRoot(), '..', 'shared', NAME), join(packageRoot(), '..', '..', 'shared', NAME)].find((f) =>
  existsSync(f),
);

async function timed<T>(run: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await run();
  return { value, ms: performance.now() - started };
}

interface ChildReport {
  evaluation: Evaluation;
  evaluateMs: number;
  build: {
    buildId: number;
    orders: number;
    customers: number;
    items: number;
    loadMs: number;
    buildMs: number;
    storeMs: number;
  };
  answers: number;
  answerMedianMs: number;
  answerP95Ms: number;
  answerMaxMs: number;
  answerCpuMedianMs: number;
  answerCpuP95Ms: number;
  loadAverage: number;
  emptyAnswers: number;
  maxRssKb: number;
}

if (process.argv[2] === '--child') {
  const store = await openStore(`sqlite:${process.argv[3]}`);
  const db = store.db;
  const evaluation = await timed(() => evaluateStore(db));
  const asOf = (await defaultAsOf(db))!;
  const build = await buildRecommendations(db, { asOf, now: Date.now() });
  const customers = await db.selectFrom('customers').select('id').orderBy('id').execute();
  const step = Math.max(1, Math.floor(customers.length / 200));
  const times: number[] = [];
  const cpu: number[] = [];
  let empty = 0;
  // One warm-up answer: the first query compiles its statements.
  await recommendForCustomer(db, Number(customers[0]!.id));
  for (let i = 0; i < customers.length && times.length < 200; i += step) {
    const started = performance.now();
    const cpuStarted = process.cpuUsage();
    const r = await recommendForCustomer(db, Number(customers[i]!.id));
    const used = process.cpuUsage(cpuStarted);
    times.push(performance.now() - started);
    // CPU time (SQLite runs in this process) does not count waiting for a core on a busy machine.
    cpu.push((used.user + used.system) / 1000);
    if (r.items.length === 0) empty += 1;
  }
  times.sort((a, b) => a - b);
  cpu.sort((a, b) => a - b);
  await store.close();
  const report: ChildReport = {
    evaluation: evaluation.value,
    evaluateMs: evaluation.ms,
    build,
    answers: times.length,
    answerMedianMs: times[Math.floor(times.length / 2)]!,
    answerP95Ms: times[Math.floor(times.length * 0.95)]!,
    answerMaxMs: times[times.length - 1]!,
    answerCpuMedianMs: cpu[Math.floor(cpu.length / 2)]!,
    answerCpuP95Ms: cpu[Math.floor(cpu.length * 0.95)]!,
    loadAverage: loadavg()[0]!,
    emptyAnswers: empty,
    maxRssKb: process.resourceUsage().maxRSS,
  };
  console.log(JSON.stringify(report));
  process.exit(0);
}

if (!FILE) {
  console.log(
    `bench:recommend skipped: shared/datasets/${NAME} is not beside the repository (see shared/datasets/README.md)`,
  );
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
    maxBuffer: 1 << 26,
  });
  if (child.status !== 0) throw new Error(`child failed: ${child.stderr}`);
  const r = JSON.parse(child.stdout.trim().split('\n').pop()!) as ChildReport;
  const e = r.evaluation;
  const pct = (v: number) => `${(v * 100).toFixed(1)}%`.padStart(7);
  console.log(`file: ${FILE}`);
  console.log(
    `import: ${imported.value.orders} orders, ${imported.value.customersCreated} customers in ${imported.ms.toFixed(0)} ms`,
  );
  console.log(
    `evaluation: last order of ${e.customers} customers after ${new Date(e.cut).toISOString().slice(0, 10)} held out ` +
      `(${e.heldOutItems} items), at ${e.k}; build on the earlier orders ${e.buildMs.toFixed(0)} ms, whole evaluation ${r.evaluateMs.toFixed(0)} ms`,
  );
  const base = e.methods.find((m) => m.method === 'popular')!;
  console.log('method                 hit rate  × popular  precision  recall     NDCG  coverage  best-sellers');
  for (const m of e.methods) {
    console.log(
      `${m.method.padEnd(22)} ${pct(m.hitRate)}  ${(m.hitRate / base.hitRate).toFixed(2).padStart(8)}×  ${pct(m.precision)}  ${pct(m.recall)}  ${m.ndcg.toFixed(4)}  ${pct(m.coverage)}  ${pct(m.bestSellerShare)}`,
    );
  }
  for (const w of e.warnings) console.log(`warning: ${w}`);
  const personal = e.methods.filter((m) => m.method === 'personal' || m.method === 'buy-again');
  const best = personal.reduce((a, b) => (b.hitRate > a.hitRate ? b : a));
  console.log(
    `best personal method: ${best.method}, ${(best.hitRate / base.hitRate).toFixed(2)}× popularity's hit rate (target ≥ 2×): ${best.hitRate >= 2 * base.hitRate ? 'met' : 'NOT met'}`,
  );
  const b = r.build;
  console.log(
    `full build ${b.buildId}: ${b.orders} orders, ${b.customers} customers, ${b.items} products — read ${b.loadMs} ms, built ${b.buildMs} ms, stored ${b.storeMs} ms`,
  );
  console.log(
    `one customer from the stored build (${r.answers} customers): wall median ${r.answerMedianMs.toFixed(2)} ms, p95 ${r.answerP95Ms.toFixed(2)} ms, max ${r.answerMaxMs.toFixed(2)} ms; CPU median ${r.answerCpuMedianMs.toFixed(2)} ms, p95 ${r.answerCpuP95Ms.toFixed(2)} ms (target < 5 ms); ${r.emptyAnswers} empty`,
  );
  console.log(
    `load average during the run: ${r.loadAverage.toFixed(1)} on ${cpus().length} cores (wall times grow with it)`,
  );
  console.log(`peak RSS of the recommend process: ${(r.maxRssKb / 1024).toFixed(0)} MB`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
