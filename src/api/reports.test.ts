import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DIALECTS, freshDatabase, type TestDb, tempDir } from '../../test/setup.js';
import { saveMessagingSettings } from '../campaigns/settings.js';
import { importFile } from '../ingest/index.js';
import { samplePath } from '../shared/paths.js';
import type { ApiApp } from './app.types.js';
import { buildApp } from './build-app.js';
import { createApiKey } from './keys.queries.js';

const NOW = Date.UTC(2026, 0, 15, 12);

for (const dialect of DIALECTS) {
  describe(`analytics endpoints and the dashboard on ${dialect.name}`, { skip: dialect.skip }, () => {
    let t: TestDb;
    let app: ApiApp;
    let headers: { authorization: string };
    const dashboard = tempDir('comeback-web-');

    before(async () => {
      t = await freshDatabase(dialect.name);
      await importFile(t.store.db, samplePath('online-retail', 'online-retail-sample.csv.gz'), {
        format: 'online-retail',
        now: NOW,
      });
      headers = { authorization: `Bearer ${(await createApiKey(t.store.db, { scope: 'read', now: NOW })).key}` };
      mkdirSync(join(dashboard, 'assets'));
      writeFileSync(join(dashboard, 'index.html'), '<!doctype html><div id="root"></div>');
      writeFileSync(join(dashboard, 'assets', 'app.js'), 'console.log(1)');
      app = await buildApp({ store: t.store, now: () => NOW, rateLimit: false, dashboardDir: dashboard });
    });
    after(async () => {
      await app?.close();
      await t?.drop();
    });

    test('GET /metrics is the retention report of the CLI, for the period asked', async () => {
      const res = await app.inject({ url: '/api/v1/metrics?from=2011-01-01&to=2011-06-30&activeWindow=180d', headers });
      assert.equal(res.statusCode, 200);
      const report = res.json();
      assert.equal(report.currency, 'GBP');
      assert.equal(report.activeWindowDays, 180);
      assert.equal(report.from, Date.UTC(2011, 0, 1));
      assert.equal(report.to, Date.UTC(2011, 6, 1), 'to=2011-06-30 includes June 30');
      assert.equal(report.lastDay, '2011-06-30');
      const asOf = await app.inject({ url: '/api/v1/metrics?asOf=2011-06-30&activeWindow=90d', headers });
      assert.equal(asOf.json().asOf, Date.UTC(2011, 6, 1), 'asOf=2011-06-30 is the end of that day');
      // The default period is the last full month in the store's zone, as on the command line: June in
      // UTC; in Seoul asOf=2011-06-30 is the end of 30 June Seoul time (2011-06-30 15:00 UTC), so June
      // 1–30 Seoul time.
      assert.deepEqual([asOf.json().from, asOf.json().to], [Date.UTC(2011, 5, 1), Date.UTC(2011, 6, 1)]);
      await saveMessagingSettings(t.store.db, { timeZone: 'Asia/Seoul' });
      try {
        const seoul = await app.inject({ url: '/api/v1/metrics?asOf=2011-06-30&activeWindow=90d', headers });
        assert.deepEqual([seoul.json().from, seoul.json().to], [Date.UTC(2011, 4, 31, 15), Date.UTC(2011, 5, 30, 15)]);
      } finally {
        await saveMessagingSettings(t.store.db, { timeZone: 'UTC' });
      }
      const byCountry = await app.inject({ url: '/api/v1/metrics?activeWindow=90d&by=country', headers });
      assert.equal(byCountry.statusCode, 200);
      const grouped = byCountry.json().byGroup;
      assert.equal(grouped.by, 'country');
      assert.equal(
        grouped.groups.reduce((sum: number, g: { customersEnd: number }) => sum + g.customersEnd, 0),
        byCountry.json().customersEnd,
        'every customer in one group',
      );
      const badBy = await app.inject({ url: '/api/v1/metrics?by=planet', headers });
      assert.deepEqual([badBy.statusCode, badBy.json().error.field], [400, 'by']);
      const noSegment = await app.inject({ url: '/api/v1/metrics?by=segment:nobody', headers });
      assert.equal(noSegment.statusCode, 400);
      const cohorts = await app.inject({ url: '/api/v1/cohorts?by=country', headers });
      assert.equal(cohorts.statusCode, 200);
      assert.equal(cohorts.json().by.name, 'country');
      const both = await app.inject({ url: '/api/v1/cohorts?by=country&breakdown=value', headers });
      assert.deepEqual([both.statusCode, both.json().error.field], [400, 'by']);
      assert.ok(report.orders > 0 && report.customersEnd > 0);
      assert.ok(Array.isArray(report.newVsReturning) && report.newVsReturning.length === 6);
      const bad = await app.inject({ url: '/api/v1/metrics?activeWindow=soon', headers });
      assert.deepEqual([bad.statusCode, bad.json().error.field], [400, 'activeWindow']);
      const badDate = await app.inject({ url: '/api/v1/metrics?from=someday', headers });
      assert.deepEqual([badDate.statusCode, badDate.json().error.field], [400, 'from']);
      const badCurrency = await app.inject({ url: '/api/v1/metrics?currency=JPY', headers });
      assert.equal(badCurrency.statusCode, 400);
    });

    test('GET /cohorts is the acquisition cohort table', async () => {
      const res = await app.inject({ url: '/api/v1/cohorts?period=month&metric=customers', headers });
      assert.equal(res.statusCode, 200);
      const table = res.json();
      assert.equal(table.cohorts[0].cohort, '2010-12');
      assert.equal(table.cohorts[0].values[0], 1);
      const bad = await app.inject({ url: '/api/v1/cohorts?period=year', headers });
      assert.deepEqual([bad.statusCode, bad.json().error.field], [400, 'period']);
      const ttso = await app.inject({ url: '/api/v1/metrics/time-to-second-order', headers });
      assert.equal(ttso.statusCode, 200);
      assert.ok(ttso.json().customers > 0);
      const nvr = await app.inject({ url: '/api/v1/metrics/new-vs-returning?from=2011-01-01', headers });
      assert.equal(nvr.json().months[0].month, '2011-01');
    });

    test('the dashboard is served at / with a fallback to index.html for its own paths', async () => {
      const root = await app.inject({ url: '/' });
      assert.equal(root.statusCode, 200);
      assert.match(root.body, /id="root"/);
      assert.equal((await app.inject({ url: '/assets/app.js' })).body, 'console.log(1)');
      const deep = await app.inject({ url: '/customers/42' });
      assert.deepEqual([deep.statusCode, /id="root"/.test(deep.body)], [200, true]);
      const api = await app.inject({ url: '/api/v1/nope', headers });
      assert.equal(api.json().error.code, 'not_found');
    });
  });
}
