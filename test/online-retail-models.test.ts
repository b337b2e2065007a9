/**
 * Issue 10 on the full UCI Online Retail file, when it is present (`../shared/datasets` beside the
 * checkout or its worktree parent): with calibration to 2011-08-31 BG/NBD reduces to the NBD, so
 * `predict` stores no P(alive) and the lifecycle keeps the store's recency stages instead of calling
 * everyone new or active (before: 1,490 new, 2,838 active, 0 at risk, lapsed or churned).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { importFile } from '../src/ingest/index.js';
import { fitStoreModel, scoreCustomers } from '../src/predict/index.js';
import { computeLifecycle, loadLatestScores } from '../src/segments/index.js';
import { packageRoot } from '../src/shared/paths.js';
import { DIALECTS, freshDatabase, type TestDb } from './setup.js';

const NAME = join('datasets', 'online-retail', 'online_retail_by_day_concat.csv');
const FILE = [join(packageRoot(), '..', 'shared', NAME), join(packageRoot(), '..', '..', 'shared', NAME)].find((f) =>
  existsSync(f),
);
const CALIBRATION_END = Date.UTC(2011, 8, 1); // the midnight after 2011-08-31, the last calibration day
const AS_OF = Date.UTC(2011, 11, 10); // the day after the last sale

// SQLite only for now: importing the whole file into PostgreSQL fails in ingest ("ON CONFLICT DO
// UPDATE command cannot affect row a second time", a batch holding one key twice), which is the
// importers' to fix; the model and lifecycle paths run on both databases in src/predict and src/segments.
for (const dialect of DIALECTS.filter((d) => d.name === 'sqlite')) {
  const skip = FILE === undefined ? `the Online Retail file is not in ../shared/${NAME}` : dialect.skip;
  describe(`Online Retail, the whole file, on ${dialect.name}`, { skip }, () => {
    let t: TestDb;
    before(async () => {
      t = await freshDatabase(dialect.name);
      await importFile(t.store.db, FILE!, { format: 'online-retail', now: 0 });
    });
    after(async () => t?.drop());

    test('BG/NBD to 2011-08-31 cannot tell who has left, and says so', async () => {
      const result = await fitStoreModel(t.store.db, {
        model: 'bgnbd',
        calibrationEnd: CALIBRATION_END,
        asOf: AS_OF,
        unit: 'week',
        now: 1,
      });
      assert.equal(result.fit.customers, 3311);
      assert.equal(result.fit.identified, false);
      assert.ok(result.fit.diagnostics.some((d) => d.code === 'dropout_not_identified'));
      assert.ok((result.fit.params.a ?? 1) < 1e-3, `a = ${result.fit.params.a}`);
    });

    test('predict stores no P(alive), and the lifecycle keeps at-risk, lapsed and churned customers', async () => {
      const unscored = await computeLifecycle(t.store.db, { asOf: AS_OF });
      const run = await scoreCustomers(t.store.db, { model: 'bgnbd', asOf: AS_OF, unit: 'week', now: 2 });
      assert.match(run.pAliveNote ?? '', /cannot tell who has left/);
      assert.ok(run.scores.length > 0, 'customers were scored');
      assert.ok([...run.scores].every((s) => s.probabilityAlive === null && s.churnBand === null));
      const scores = await loadLatestScores(t.store.db);
      assert.equal(scores, undefined, 'no P(alive) reaches the lifecycle');
      const staged = await computeLifecycle(t.store.db, { asOf: AS_OF, scores });
      const count = (stage: string, of = staged) => of.customers.filter((c) => c.stage === stage).length;
      for (const stage of ['at_risk', 'lapsed', 'churned']) assert.ok(count(stage) > 0, stage);
      for (const stage of ['new', 'active', 'at_risk', 'lapsed', 'churned']) {
        assert.equal(count(stage), count(stage, unscored), stage);
      }
    });
  });
}
