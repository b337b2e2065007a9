import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../../../test/run-cli.js';
import { DIALECTS, freshDatabase, type TestDb, tempDir } from '../../../test/setup.js';
import { buildApp } from '../../api/build-app.js';
import { createApiKey } from '../../api/keys.queries.js';
import { installBuiltins } from '../../campaigns/builtin.js';
import { saveMessagingSettings } from '../../campaigns/settings.js';
import { importFile } from '../../ingest/index.js';
import { packageRoot } from '../../shared/paths.js';

const NOW = Date.UTC(2026, 0, 1);

/** Runs `comeback ARGS…` in-process. */
const run = (args: string[]) => runCli(...args);

/**
 * One store per zone, with the same local wall times: a first order on the 20th at noon, one at 23:30
 * on 26 June and one at 00:42 on 27 June (the Cafe24 sample's latest order). Every instant below is
 * worked out by hand from the zone's offset in June (Seoul +09:00, New York EDT −04:00, UTC).
 */
const ZONES = [
  {
    zone: 'Asia/Seoul',
    offset: '+09:00',
    // --as-of 2025-06-26: midnight starting the 27th in Seoul = 26 June 15:00 UTC.
    asOf26: Date.UTC(2025, 5, 26, 15),
    // the latest sale (00:42 on the 27th, local) ends at midnight starting the 28th = 27 June 15:00 UTC.
    defaultAsOf: Date.UTC(2025, 5, 27, 15),
    // --from 2025-06-01: 31 May 15:00 UTC; --to 2025-06-30: 30 June 15:00 UTC.
    from: Date.UTC(2025, 4, 31, 15),
    to: Date.UTC(2025, 5, 30, 15),
  },
  {
    zone: 'America/New_York',
    offset: '-04:00',
    asOf26: Date.UTC(2025, 5, 27, 4),
    defaultAsOf: Date.UTC(2025, 5, 28, 4),
    from: Date.UTC(2025, 5, 1, 4),
    to: Date.UTC(2025, 6, 1, 4),
  },
  {
    zone: 'UTC',
    offset: '+00:00',
    asOf26: Date.UTC(2025, 5, 27),
    defaultAsOf: Date.UTC(2025, 5, 28),
    from: Date.UTC(2025, 5, 1),
    to: Date.UTC(2025, 6, 1),
  },
] as const;

for (const dialect of DIALECTS) {
  for (const z of ZONES) {
    describe(`days typed and printed in the store's zone ${z.zone}, on ${dialect.name}`, { skip: dialect.skip }, () => {
      let t: TestDb;
      const dir = tempDir();
      before(async () => {
        t = await freshDatabase(dialect.name);
        const file = join(dir, 'orders.csv');
        writeFileSync(
          file,
          'order_id,placed_at,email,currency,total\n' +
            `Z-1,2025-06-20T12:00:00${z.offset},a@example.kr,KRW,10000\n` +
            `Z-2,2025-06-26T23:30:00${z.offset},a@example.kr,KRW,20000\n` +
            `Z-3,2025-06-27T00:42:00${z.offset},b@example.kr,KRW,40000\n`,
        );
        await importFile(t.store.db, file, { format: 'csv', now: NOW });
        if (z.zone !== 'UTC') await saveMessagingSettings(t.store.db, { timeZone: z.zone });
      });
      after(async () => {
        await t?.drop();
        rmSync(dir, { recursive: true, force: true });
      });

      test('report: --as-of 2025-06-26 counts the 23:30 order of the 26th, not the 00:42 one of the 27th', async () => {
        const given = await run(
          ['report', '--from', '2025-06-01', '--to', '2025-06-30', '--as-of', '2025-06-26'].concat([
            '--json',
            '--db',
            t.url,
          ]),
        );
        assert.equal(given.code, 0, given.err);
        const r = JSON.parse(given.out);
        assert.equal(r.asOf, new Date(z.asOf26).toISOString());
        assert.equal(r.asOfLastDay, '2025-06-26');
        assert.deepEqual([r.from, r.lastDay], ['2025-06-01', '2025-06-30']);
        assert.deepEqual([r.orders, r.revenue], [2, 30000], 'Z-1 and Z-2 only');
        const latest = await run(['report', '--from', '2025-06-01', '--to', '2025-06-30', '--json', '--db', t.url]);
        const d = JSON.parse(latest.out);
        assert.equal(d.asOf, new Date(z.defaultAsOf).toISOString(), 'the end of 27 June, local');
        assert.equal(d.asOfLastDay, '2025-06-27');
        assert.deepEqual([d.orders, d.revenue], [3, 70000]);
        const human = await run(['report', '--from', '2025-06-01', '--to', '2025-06-30', '--db', t.url]);
        assert.equal(human.code, 0, human.err);
        assert.match(human.out, /as of the end of 2025-06-27 \(the end of the day of the latest sale\)/);
        assert.match(human.out, /2025-06-01 … 2025-06-30/);
        const typed = await run(['report', '--as-of', '2025-06-26', '--db', t.url]);
        assert.match(typed.out, /as of the end of 2025-06-26 \(given\)/);
      });

      test('flows backtest prints the days as typed, in the store zone', async () => {
        const args = ['flows', 'backtest', 'second-order', '--from', '2025-06-01', '--to', '2025-06-30'];
        const human = await run([...args, '--db', t.url]);
        assert.equal(human.code, 0, human.err);
        assert.match(human.out, /^Backtest of second-order from 2025-06-01 to 2025-06-30 /m);
        const json = JSON.parse((await run([...args, '--json', '--db', t.url])).out);
        assert.deepEqual([json.from, json.to], [z.from, z.to]);
      });

      test('stats: the last order is on 27 June, local', async () => {
        const { code, out, err } = await run(['stats', '--db', t.url]);
        assert.equal(code, 0, err);
        assert.match(out, /orders from 2025-06-20 to 2025-06-27\n/);
      });

      test('cohorts and segments rfm as of 2025-06-26: one customer (b first bought on the 27th)', async () => {
        const cohorts = await run(['cohorts', '--as-of', '2025-06-26', '--json', '--db', t.url]);
        assert.equal(cohorts.code, 0, cohorts.err);
        const table = JSON.parse(cohorts.out);
        assert.equal(table.asOf, new Date(z.asOf26).toISOString());
        assert.equal(
          table.cohorts.reduce((n: number, c: { size: number }) => n + c.size, 0),
          1,
        );
        const cohortsLatest = JSON.parse((await run(['cohorts', '--json', '--db', t.url])).out);
        assert.equal(
          cohortsLatest.cohorts.reduce((n: number, c: { size: number }) => n + c.size, 0),
          2,
        );
        assert.match((await run(['cohorts', '--db', t.url])).out, /as of the end of 2025-06-27\n/);
        const rfm = await run(['segments', 'rfm', '--as-of', '2025-06-26', '--json', '--db', t.url]);
        assert.equal(rfm.code, 0, rfm.err);
        assert.equal(JSON.parse(rfm.out).customers.length, 1);
        const rfmLatest = JSON.parse((await run(['segments', 'rfm', '--json', '--db', t.url])).out);
        assert.equal(rfmLatest.customers.length, 2);
        assert.equal(rfmLatest.asOf, z.defaultAsOf);
      });

      test('feedback report, recommend --evaluate --cut: days of the zone', async () => {
        const feedback = JSON.parse(
          (await run(['feedback', 'report', '--from', '2025-06-01', '--as-of', '2025-06-26', '--json', '--db', t.url]))
            .out,
        );
        assert.deepEqual([feedback.from, feedback.asOf], [z.from, z.asOf26]);
        const feedbackHuman = await run([
          'feedback',
          'report',
          '--from',
          '2025-06-01',
          '--as-of',
          '2025-06-26',
          '--db',
          t.url,
        ]);
        assert.equal(feedbackHuman.code, 0, feedbackHuman.err);
        assert.match(feedbackHuman.out, /^Feedback from 2025-06-01 to 2025-06-26\n/);
        const evaluation = await run(['recommend', '--evaluate', '--cut', '2025-06-26', '--json', '--db', t.url]);
        assert.equal(evaluation.code, 0, evaluation.err);
        assert.equal(JSON.parse(evaluation.out).cut, z.asOf26);
        const human = await run(['recommend', '--evaluate', '--cut', '2025-06-26', '--db', t.url]);
        assert.match(human.out, /placed after the end of 2025-06-26 /);
      });

      test('customer: first seen and the timeline in the store zone', async () => {
        const { code, out, err } = await run(['customer', 'b@example.kr', '--db', t.url]);
        assert.equal(code, 0, err);
        assert.match(out, new RegExp(`first seen +2025-06-27 00:42 \\(${z.zone}\\)`));
        assert.match(out, new RegExp(`when \\(${z.zone}\\)[^\\n]*\\n2025-06-27 00:42 +order Z-3 `));
      });

      test('loyalty member: its days are the store days (joined with the 00:42 order of the 27th: the 27th)', async () => {
        const config = JSON.parse(readFileSync(join(packageRoot(), 'samples/loyalty/program.example.json'), 'utf8'));
        const file = join(dir, 'program.json');
        writeFileSync(file, JSON.stringify({ ...config, currency: 'KRW' }));
        const init = await run(['loyalty', 'init', '--config', file, '--db', t.url]);
        assert.equal(init.code, 0, init.err);
        const sync = await run(['loyalty', 'sync', '--db', t.url]);
        assert.equal(sync.code, 0, sync.err);
        const { code, out, err } = await run(['loyalty', 'member', 'b@example.kr', '--db', t.url]);
        assert.equal(code, 0, err);
        // b joined with the 00:42 order of the 27th: in Seoul that is 26 June 15:42 UTC, printed as the 27th.
        assert.match(out, /^member (?:\S+, )*#\d+: Blue \(×1\) since 2025-06-27, /);
      });

      test('GET /feedback/report and GET /flows/:key/report: asOf and from are days of the zone', async () => {
        const app = await buildApp({ store: t.store, now: () => NOW, rateLimit: false });
        try {
          const key = (await createApiKey(t.store.db, { scope: 'read', now: NOW })).key;
          const headers = { authorization: `Bearer ${key}` };
          const feedback = await app.inject({
            url: '/api/v1/feedback/report?from=2025-06-01&asOf=2025-06-26',
            headers,
          });
          assert.equal(feedback.statusCode, 200, feedback.body);
          assert.deepEqual([feedback.json().from, feedback.json().asOf], [z.from, z.asOf26]);
          await installBuiltins(t.store.db, NOW);
          const flow = await app.inject({ url: '/api/v1/flows/second-order/report?asOf=2025-06-26', headers });
          assert.equal(flow.statusCode, 200, flow.body);
          assert.equal(flow.json().asOf, z.asOf26);
          const bad = await app.inject({ url: '/api/v1/feedback/report?from=June', headers });
          assert.deepEqual([bad.statusCode, bad.json().error.field], [400, 'from']);
        } finally {
          await app.close();
        }
      });

      test('GET /metrics: asOf=2025-06-26 and from/to are days of the zone, and so is the default', async () => {
        const app = await buildApp({ store: t.store, now: () => NOW, rateLimit: false });
        try {
          const key = (await createApiKey(t.store.db, { scope: 'read', now: NOW })).key;
          const headers = { authorization: `Bearer ${key}` };
          const res = await app.inject({
            url: '/api/v1/metrics?from=2025-06-01&to=2025-06-30&asOf=2025-06-26',
            headers,
          });
          assert.equal(res.statusCode, 200, res.body);
          const r = res.json();
          assert.deepEqual([r.asOf, r.from, r.to, r.lastDay], [z.asOf26, z.from, z.to, '2025-06-30']);
          assert.deepEqual([r.orders, r.revenue], [2, 30000]);
          const latest = (await app.inject({ url: '/api/v1/metrics?from=2025-06-01&to=2025-06-30', headers })).json();
          assert.deepEqual([latest.asOf, latest.orders, latest.revenue], [z.defaultAsOf, 3, 70000]);
        } finally {
          await app.close();
        }
      });
    });
  }
}
