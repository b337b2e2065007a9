// Mutation testing with StrykerJS over node:test (the TAP runner runs each test file under tsx).
// One folder at a time: STRYKER_FOLDER=models npx stryker run (or `npm run test:mutation -- models`).
// The mutants are made in src/<folder>; the tests that may kill them are the folder's own tests plus
// the cross-cutting ones that exercise it (listed below). Not in CI: a folder takes minutes to hours.
import { readFileSync } from 'node:fs';

const folder = process.env.STRYKER_FOLDER ?? 'models';
const reportDir = process.env.MUTATION_DIR ?? 'test-artifacts/mutation';
/** A sampled run (scripts/mutation-sample.mjs): one mutate range per drawn node. */
const sample = process.env.STRYKER_SAMPLE ? JSON.parse(readFileSync(process.env.STRYKER_SAMPLE, 'utf8')).sample : null;
const sampleRanges = sample
  ? [
      ...new Set(
        sample.map(
          (m) =>
            `${m.file}:${m.location.start.line + 1}:${m.location.start.column}-${m.location.end.line + 1}:${m.location.end.column}`,
        ),
      ),
    ]
  : null;

/** Test files beyond the folder's own that exercise its code. */
const extraTests = {
  analytics: ['src/cli/commands/report.test.ts'],
  // consent-withdraw-queued: the only test of an imported withdrawal skipping queued marketing
  // (identity-batch.ts' skipWithdrawn); about 9 s.
  ingest: ['test/cli.test.ts', 'test/consent-withdraw-queued.test.ts'],
  loyalty: ['test/loyalty-cli.test.ts'],
  segments: ['src/cli/commands/segments.test.ts'],
  models: ['src/predict/*.test.ts'],
  recommend: ['src/cli/commands/recommend.test.ts', 'src/api/routes/products.test.ts'],
  // The flow engine's own end-to-end tests (real SMTP sink); the other test/campaigns-*.test.ts files
  // each take tens of seconds, too many to re-run per mutant.
  campaigns: ['test/campaigns.test.ts', 'test/campaigns-set-based.test.ts'],
};

export default {
  testRunner: 'tap',
  plugins: ['@stryker-mutator/tap-runner', './scripts/stryker-sample-ignorer.mjs'],
  ignorers: sample ? ['sample'] : [],
  tap: {
    // STRYKER_OWN_TESTS=1 keeps to the folder's own tests, STRYKER_TESTS=a.test.ts,b.test.ts to the ones
    // named (quicker runs on a shared machine, with `--mutate <file>` and `--incremental`).
    testFiles: process.env.STRYKER_TESTS
      ? process.env.STRYKER_TESTS.split(',')
      : [`src/${folder}/**/*.test.ts`, ...(process.env.STRYKER_OWN_TESTS === '1' ? [] : (extraTests[folder] ?? []))],
    nodeArgs: ['--import', 'tsx', '-r', '{{hookFile}}', '{{testFile}}'],
  },
  mutate: sampleRanges ?? [`src/${folder}/**/*.ts`, `!src/${folder}/**/*.test.ts`, `!src/${folder}/**/*.bench.ts`],
  coverageAnalysis: 'perTest',
  concurrency: Number(process.env.STRYKER_CONCURRENCY ?? 2),
  // Added to each mutant's expected time (1.5 × its tests' time in the dry run): a mutant that loops is
  // given up on after that, and counts as killed. 60 s made every looping optimiser mutant cost a minute.
  timeoutMS: Number(process.env.STRYKER_TIMEOUT_MS ?? 15_000),
  reporters: ['clear-text', 'progress', 'html', 'json'],
  // MUTATION_DIR: where the reports go (default test-artifacts/mutation), so that two runs can go side by side.
  htmlReporter: { fileName: `${reportDir}/${folder}.html` },
  jsonReporter: { fileName: `${reportDir}/${folder}.json` },
  // One sandbox per folder and report directory, so that runs side by side never share one.
  tempDirName: `.stryker-tmp-${folder}${process.env.MUTATION_DIR ? `-${process.env.MUTATION_DIR.replace(/[^A-Za-z0-9]+/g, '-')}` : ''}`,
  // The first pass over every test file (Stryker's default allows 5 minutes) did not finish for src/ingest
  // under a load of 18 on two cores; STRYKER_DRY_RUN_MINUTES raises it.
  dryRunTimeoutMinutes: Number(process.env.STRYKER_DRY_RUN_MINUTES ?? 30),
  ignorePatterns: ['dist', 'web/dist', 'test-artifacts', '.stryker-tmp*', 'comeback*.db'],
  thresholds: { high: 90, low: 80, break: null },
};
