// Sampled mutation testing: a uniform random sample of a folder's mutants, run by StrykerJS, and the
// score estimated from it with a 95 % interval. A whole folder of src/ holds thousands of mutants and
// each costs a run of the test files that cover it, hours on a 2-core machine; a sample of n mutants
// estimates the folder's score within about ±1.96·√(p(1−p)/n) (n = 100: ±8 points at 80 %).
// Random mutant sampling as a cost reduction: Acree (1980), Budd (1980); Zhang, Hao, Zhang & Mei,
// "Is operator-based mutant selection superior to random mutant selection?", ICSE 2010.
//
//   node scripts/mutation-sample.mjs plan <folder> [--size N] [--seed S]
//        enumerates every mutant Stryker would make in src/<folder> (its own instrumenter, same
//        mutators), draws N without replacement (seeded) and writes test-artifacts/mutation/<folder>.sample.json;
//   node scripts/mutation-sample.mjs score <folder>
//        reads Stryker's JSON report of that sample and prints the estimate, its interval and the
//        sampled survivors (file:line, mutator, replacement).
//
// stryker.config.mjs turns the sample file into mutate ranges (one per sampled node) and the `sample`
// ignorer (scripts/stryker-sample-ignorer.mjs) drops the mutants nested inside a sampled node that were
// not drawn themselves, so only the sampled nodes' mutants are run.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Instrumenter } from '@stryker-mutator/instrumenter';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const artifacts = path.resolve(root, process.env.MUTATION_DIR ?? path.join('test-artifacts', 'mutation'));

/** The source files Stryker mutates in a folder (as stryker.config.mjs: no tests, no benches). */
function sourceFiles(folder) {
  const out = [];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (/\.ts$/.test(entry.name) && !/\.(test|bench)\.ts$/.test(entry.name) && !entry.name.endsWith('.d.ts'))
        out.push(full);
    }
  };
  walk(path.join(root, 'src', folder));
  return out.sort();
}

const quietLogger = {
  isDebugEnabled: () => false,
  isTraceEnabled: () => false,
  isInfoEnabled: () => false,
  isWarnEnabled: () => false,
  isErrorEnabled: () => false,
  isFatalEnabled: () => false,
  trace() {},
  debug() {},
  info() {},
  warn(...a) {
    console.error(...a);
  },
  error(...a) {
    console.error(...a);
  },
  fatal(...a) {
    console.error(...a);
  },
};

/** mulberry32: a small seeded PRNG, so a plan is reproducible from its seed. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Every mutant of the folder that Stryker would run (directive-ignored ones left out). */
async function enumerate(folder) {
  const instrumenter = new Instrumenter(quietLogger);
  const files = sourceFiles(folder).map((name) => ({ name, content: readFileSync(name, 'utf8'), mutate: true }));
  const { mutants } = await instrumenter.instrument(files, { plugins: null, excludedMutations: [], ignorers: [] });
  return mutants
    .filter((m) => m.status !== 'Ignored')
    .map((m) => ({
      file: path.relative(root, m.fileName),
      mutatorName: m.mutatorName,
      replacement: m.replacement,
      // Stryker's internal positions: 0-based lines, 0-based columns.
      location: m.location,
    }));
}

/**
 * The key a sampled mutant and a reported one share (the report's positions are 1-based). The end is
 * part of it: a condition and its first operand start at the same place and both get `true`.
 */
function keyOf(file, mutatorName, replacement, line0, column0, endLine0, endColumn0) {
  return `${file}\u0000${line0}:${column0}-${endLine0}:${endColumn0}\u0000${mutatorName}\u0000${replacement}`;
}

/** Wilson score interval for k successes in n (95 %), with the finite-population correction. */
function wilson(k, n, population) {
  if (n === 0) return [Number.NaN, Number.NaN];
  const z = 1.959964;
  const p = k / n;
  const fpc = population > 1 ? Math.sqrt(Math.max(0, (population - n) / (population - 1))) : 1;
  const zz = (z * fpc) ** 2;
  const centre = (p + zz / (2 * n)) / (1 + zz / n);
  const half = (Math.sqrt((p * (1 - p)) / n + zz / (4 * n * n)) * Math.sqrt(zz)) / (1 + zz / n);
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

function argValue(args, flag, fallback) {
  const i = args.indexOf(flag);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
}

async function plan(folder, args) {
  const size = Number(argValue(args, '--size', '100'));
  const seed = Number(argValue(args, '--seed', '20261201'));
  if (!Number.isInteger(size) || size < 1) throw new Error(`--size: a whole number of mutants ≥ 1, not ${size}`);
  const all = await enumerate(folder);
  const random = prng(seed);
  const order = all.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const sample = order
    .slice(0, Math.min(size, all.length))
    .sort((x, y) => x - y)
    .map((i) => all[i]);
  mkdirSync(artifacts, { recursive: true });
  const file = path.join(artifacts, `${folder}.sample.json`);
  writeFileSync(file, `${JSON.stringify({ folder, seed, population: all.length, sample }, null, 1)}\n`);
  console.error(
    `src/${folder}: ${all.length} mutants; ${sample.length} drawn (seed ${seed}) → ${path.relative(root, file)}`,
  );
}

function score(folder) {
  const planFile = path.join(artifacts, `${folder}.sample.json`);
  const reportFile = path.join(artifacts, `${folder}.json`);
  if (!existsSync(planFile) || !existsSync(reportFile)) throw new Error(`src/${folder}: no sample plan or no report`);
  const { population, sample, seed } = JSON.parse(readFileSync(planFile, 'utf8'));
  const report = JSON.parse(readFileSync(reportFile, 'utf8'));
  const reported = new Map();
  for (const [name, f] of Object.entries(report.files)) {
    const file = path.relative(root, path.resolve(root, name));
    for (const m of f.mutants) {
      reported.set(
        keyOf(
          file,
          m.mutatorName,
          m.replacement,
          m.location.start.line - 1,
          m.location.start.column - 1,
          m.location.end.line - 1,
          m.location.end.column - 1,
        ),
        m,
      );
    }
  }
  const counts = { Killed: 0, Timeout: 0, Survived: 0, NoCoverage: 0, other: 0, missing: 0 };
  const survivors = [];
  for (const s of sample) {
    const m = reported.get(
      keyOf(
        s.file,
        s.mutatorName,
        s.replacement,
        s.location.start.line,
        s.location.start.column,
        s.location.end.line,
        s.location.end.column,
      ),
    );
    if (!m) {
      counts.missing++;
      continue;
    }
    if (m.status in counts) counts[m.status]++;
    else counts.other++;
    if (m.status === 'Survived' || m.status === 'NoCoverage')
      survivors.push(
        `  ${s.file}:${s.location.start.line + 1}  ${m.status}  ${s.mutatorName}  ${JSON.stringify(s.replacement).slice(0, 90)}`,
      );
  }
  const valid = counts.Killed + counts.Timeout + counts.Survived + counts.NoCoverage;
  const killed = counts.Killed + counts.Timeout;
  const [lo, hi] = wilson(killed, valid, population);
  const pct = (x) => (100 * x).toFixed(1);
  const line =
    valid === 0
      ? `src/${folder}: no sampled mutant was run`
      : `src/${folder}: ${pct(killed / valid)} % killed (${killed}/${valid} sampled of ${population}, seed ${seed}; 95 % interval ${pct(lo)}–${pct(hi)} %)` +
        ` — killed ${counts.Killed}, timeout ${counts.Timeout}, survived ${counts.Survived}, no coverage ${counts.NoCoverage}` +
        (counts.missing || counts.other ? `, not in the report ${counts.missing}, other ${counts.other}` : '');
  console.error(line);
  if (survivors.length) console.error(`sampled survivors:\n${survivors.join('\n')}`);
  return counts.missing > 0 ? 1 : 0;
}

const [command, folder, ...rest] = process.argv.slice(2);
if (!folder || !/^[a-z-]+$/.test(folder) || !existsSync(path.join(root, 'src', folder))) {
  console.error('usage: node scripts/mutation-sample.mjs plan|score <folder under src/> [--size N] [--seed S]');
  process.exit(2);
}
try {
  if (command === 'plan') await plan(folder, rest);
  else if (command === 'score') process.exitCode = score(folder);
  else throw new Error(`unknown command ${command}: plan or score`);
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}
