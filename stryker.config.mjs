// Mutation testing with StrykerJS over node:test (the TAP runner runs each test file under tsx).
// One folder at a time: STRYKER_FOLDER=models npx stryker run (or `npm run test:mutation -- models`).
// The mutants are made in src/<folder>; the tests that may kill them are the folder's own tests plus
// the cross-cutting ones that exercise it (listed below). Not in CI: a folder takes minutes to hours.
const folder = process.env.STRYKER_FOLDER ?? 'models';

/** Test files beyond the folder's own that exercise its code. */
const extraTests = {
  analytics: ['src/cli/commands/report.test.ts'],
  ingest: ['test/cli.test.ts'],
  loyalty: ['test/loyalty-cli.test.ts'],
  segments: ['src/cli/commands/segments.test.ts'],
  models: ['src/predict/*.test.ts'],
};

export default {
  testRunner: 'tap',
  plugins: ['@stryker-mutator/tap-runner'],
  tap: {
    // STRYKER_OWN_TESTS=1 keeps to the folder's own tests, STRYKER_TESTS=a.test.ts,b.test.ts to the ones
    // named (quicker runs on a shared machine, with `--mutate <file>` and `--incremental`).
    testFiles: process.env.STRYKER_TESTS
      ? process.env.STRYKER_TESTS.split(',')
      : [`src/${folder}/**/*.test.ts`, ...(process.env.STRYKER_OWN_TESTS === '1' ? [] : (extraTests[folder] ?? []))],
    nodeArgs: ['--import', 'tsx', '-r', '{{hookFile}}', '{{testFile}}'],
  },
  mutate: [`src/${folder}/**/*.ts`, `!src/${folder}/**/*.test.ts`, `!src/${folder}/**/*.bench.ts`],
  coverageAnalysis: 'perTest',
  concurrency: Number(process.env.STRYKER_CONCURRENCY ?? 2),
  timeoutMS: 60_000,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: `test-artifacts/mutation/${folder}.html` },
  jsonReporter: { fileName: `test-artifacts/mutation/${folder}.json` },
  tempDirName: '.stryker-tmp',
  ignorePatterns: ['dist', 'web/dist', 'test-artifacts', '.stryker-tmp', 'comeback*.db'],
  thresholds: { high: 90, low: 80, break: null },
};
