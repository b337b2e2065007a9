import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DIALECTS, freshDatabase, type TestDb } from '../../../test/setup.js';
import { importFile } from '../../ingest/index.js';
import { refreshSegments, saveSegment } from '../../segments/index.js';
import { samplePath } from '../../shared/paths.js';
import type { ApiApp } from '../app.types.js';
import { buildApp } from '../build-app.js';
import { createApiKey } from '../keys.queries.js';
import { niceStep } from './dashboard.js';

const NOW = Date.UTC(2026, 0, 15);
// The day after the sample's latest sale (2011-12-09): what the dashboard describes.
const AS_OF = Date.UTC(2011, 11, 10);

test('bin widths are the smallest of 1, 2, 2.5, 5 × 10^k at least the raw width', () => {
  const cases: Array<[number, number]> = [
    [67.16, 100],
    [50, 50],
    [50.01, 100],
    [20.5, 25],
    [0.3, 0.5],
    [0.25, 0.25],
    [1, 1],
    [1.0001, 2],
    [2.4, 2.5],
    [2.6, 5],
    [5.1, 10],
    [0, 1],
    [-3, 1],
    [Number.NaN, 1],
  ];
  for (const [raw, expected] of cases) assert.equal(niceStep(raw), expected, `niceStep(${raw})`);
});

for (const dialect of DIALECTS) {
  describe(`dashboard routes (${dialect.name})`, { skip: dialect.skip }, () => {
    let t: TestDb;
    let app: ApiApp;
    let key: string;

    before(async () => {
      t = await freshDatabase(dialect.name);
      await importFile(t.store.db, samplePath('online-retail', 'online-retail-sample.csv.gz'), {
        format: 'online-retail',
        now: NOW,
      });
      await refreshSegments(t.store.db, { asOf: AS_OF });
      await saveSegment(
        t.store.db,
        'Big, "quoted", spenders',
        { orders: 'revenue', op: 'gte', value: 2000 },
        {
          asOf: AS_OF,
          now: NOW,
        },
      );
      key = (await createApiKey(t.store.db, { scope: 'read', now: NOW })).key;
      app = await buildApp({ store: t.store, now: () => NOW, rateLimit: false, dashboardDir: '/nonexistent' });
    });

    after(async () => {
      await app?.close();
      await t?.drop();
    });

    const get = (url: string) => app.inject({ url: `/api/v1${url}`, headers: { authorization: `Bearer ${key}` } });

    test('need a key', async () => {
      assert.equal((await app.inject({ url: '/api/v1/dashboard/segments' })).statusCode, 401);
    });

    test('segments: the RFM grid covers every scored customer once, with the groups and saved segments', async () => {
      const response = await get('/dashboard/segments');
      assert.equal(response.statusCode, 200, response.body);
      const view = response.json();
      assert.equal(view.asOf, AS_OF);
      assert.equal(view.rfm.currency, 'GBP');
      assert.equal(view.rfm.cells.length, 25);
      const inCells = view.rfm.cells.reduce((n: number, c: { customers: number }) => n + c.customers, 0);
      const inGroups = view.rfm.groups.reduce((n: number, g: { customers: number }) => n + g.customers, 0);
      assert.equal(inCells, view.rfm.customers);
      assert.equal(inGroups, view.rfm.customers);
      assert.ok(view.rfm.customers > 400);
      const stages = view.lifecycle.stages.reduce((n: number, s: { customers: number }) => n + s.customers, 0);
      const moved = view.lifecycle.migration.counts.flat().reduce((a: number, b: number) => a + b, 0);
      assert.equal(moved, stages, 'every staged customer appears once in the migration matrix');
      assert.equal(view.personas.length, 6);
      assert.deepEqual(
        view.saved.map((s: { name: string }) => s.name),
        ['Big, "quoted", spenders'],
      );
      assert.ok(view.saved[0].size > 0);
    });

    test('a saved segment exports as CSV, one row per member', async () => {
      const view = (await get('/dashboard/segments')).json();
      const response = await get(`/dashboard/segments/${encodeURIComponent('Big, "quoted", spenders')}/members.csv`);
      assert.equal(response.statusCode, 200);
      assert.match(String(response.headers['content-type']), /^text\/csv/);
      assert.match(String(response.headers['content-disposition']), /attachment; filename="Big_quoted_spenders.csv"/);
      const lines = response.body.trim().split('\n');
      assert.match(lines[0]!, /^customer_id,/);
      assert.equal(lines.length - 1, view.saved[0].size);
      assert.equal((await get('/dashboard/segments/nope/members.csv')).statusCode, 404);
    });

    test('predictions: fitted BG/NBD and Gamma-Gamma, distributions and the hold-out check; P(alive) withheld and why', async () => {
      const response = await get('/dashboard/predictions');
      assert.equal(response.statusCode, 200, response.body);
      const report = response.json();
      assert.equal(report.available, true);
      assert.equal(report.model.name, 'bgnbd');
      assert.ok(report.spendModel, 'Gamma-Gamma fitted');
      const binned = (bins: Array<{ count: number }>) => bins.reduce((n, b) => n + b.count, 0);
      // On this 436-customer sample BG/NBD fits only 0.49 nats better than the NBD without dropout,
      // with se(a) = 1.74 against a = 0.198: the history cannot tell who has left, so no P(alive).
      assert.equal(report.model.identified, false);
      assert.ok(report.model.diagnostics.some((d: { code: string }) => d.code === 'dropout_not_identified'));
      assert.match(report.pAliveNote, /cannot tell who has left: the model reduced to NBD/);
      assert.deepEqual(report.pAlive, []);
      assert.equal(report.meanPAlive, null);
      assert.equal(binned(report.clv), report.customers);
      // Bin edges are round money: one width of 1, 2, 2.5 or 5 × 10^k, edges its multiples from 0.
      const width = report.clv[0].to - report.clv[0].from;
      const mantissa = width / 10 ** Math.floor(Math.log10(width));
      assert.ok(
        [1, 2, 2.5, 5].some((m) => Math.abs(mantissa - m) < 1e-9),
        `bin width ${width}`,
      );
      assert.ok(report.clv.length <= 10);
      report.clv.forEach((bin: { from: number; to: number }, i: number) => {
        assert.ok(Math.abs(bin.from - i * width) < 1e-9 * width, `bin ${i} from ${bin.from}`);
        assert.ok(Math.abs(bin.to - (i + 1) * width) < 1e-9 * width, `bin ${i} to ${bin.to}`);
      });
      assert.ok(report.totalClv > 0);
      assert.equal(report.holdout.weeks, 26);
      assert.ok(report.holdout.totalActual > 0 && report.holdout.totalPredicted > 0);
      assert.equal('predictionOf' in report, false, 'per-customer scores stay on the server');
    });

    test("a customer's story carries the model's prediction", async () => {
      const response = await get('/dashboard/customers/1');
      assert.equal(response.statusCode, 200, response.body);
      const story = response.json();
      assert.equal(story.customer.id, 1);
      assert.ok(story.timeline.length > 0);
      assert.ok(story.rfm && story.rfm.r >= 1 && story.rfm.r <= 5);
      assert.equal(story.prediction.pAlive, null, 'not informative on this sample');
      assert.ok(story.prediction.clv > 0);
      assert.match(story.lifecycle.reason, /days since last order/, 'staged by the recency rule');
      assert.equal((await get('/dashboard/customers/999999')).statusCode, 404);
    });
  });
}
