/**
 * `npm run bench:cli`: how long the compiled `comeback` command takes to start, against `node -e 0`
 * measured in the same run (runs interleaved, so a busy machine slows both alike). Cases: `--help`,
 * `stats` on the bundled CDNOW sample (a small store) and `serve --help` (a command whose code needs the
 * HTTP stack only when it runs). Prints the median wall time of each, its ratio to Node's own start and
 * its peak memory (the child's own maxRSS). Needs `npm run build` first (it runs `bin/comeback.js`).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../src/shared/paths.js';

const ROOT = packageRoot();
const BIN = join(ROOT, 'bin', 'comeback.js');
const RUNS = Number(process.env.RUNS ?? 15);
// Each child writes its own peak resident memory (KB) to stderr as it exits.
const REPORT_RSS = `data:text/javascript,process.on('exit',()=>process.stderr.write('\\nmaxrss '+process.resourceUsage().maxRSS+'\\n'))`;

if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) {
  console.error('bench:cli: dist/ is missing; run `npm run build` first');
  process.exit(1);
}

const dir = mkdtempSync(join(tmpdir(), 'comeback-bench-cli-'));
const db = `sqlite:${join(dir, 'bench.db')}`;
const loaded = spawnSync(
  process.execPath,
  [BIN, 'import', join(ROOT, 'samples', 'cdnow', 'CDNOW_sample.txt'), '--format', 'cdnow', '--db', db],
  { encoding: 'utf8' },
);
if (loaded.status !== 0) throw new Error(`import failed: ${loaded.stderr}`);

const cases: Array<{ name: string; args: string[] }> = [
  { name: 'node -e 0', args: ['-e', '0'] },
  { name: 'comeback --help', args: [BIN, '--help'] },
  { name: 'comeback stats (CDNOW sample)', args: [BIN, 'stats', '--db', db] },
  { name: 'comeback serve --help', args: [BIN, 'serve', '--help'] },
];
const times = cases.map(() => [] as number[]);
const rss = cases.map(() => 0);
for (let run = 0; run < RUNS; run++) {
  cases.forEach(({ name, args }, i) => {
    const started = performance.now();
    const result = spawnSync(process.execPath, ['--import', REPORT_RSS, ...args], { encoding: 'utf8' });
    times[i]!.push(performance.now() - started);
    if (result.status !== 0) throw new Error(`${name} failed: ${result.stderr}`);
    const kb = Number(/maxrss (\d+)/.exec(result.stderr)?.[1] ?? 0);
    rss[i] = Math.max(rss[i]!, kb);
  });
}
rmSync(dir, { recursive: true, force: true });

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};
const base = median(times[0]!);
console.log(`start-up of the compiled CLI, median of ${RUNS} interleaved runs (Node ${process.version})`);
console.log('case                            median ms  × node -e 0  peak MB');
cases.forEach(({ name }, i) => {
  const ms = median(times[i]!);
  console.log(
    `${name.padEnd(32)}${ms.toFixed(0).padStart(9)}  ${(ms / base).toFixed(2).padStart(11)}  ${(rss[i]! / 1024).toFixed(0).padStart(7)}`,
  );
});
