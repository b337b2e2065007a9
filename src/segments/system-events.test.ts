import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { dropWhenClosed } from '../../test/pg-drop.js';
import { runCli } from '../../test/run-cli.js';
import { addCustomer, addEvent, addOrder, DAY } from '../../test/segments-fixtures.js';
import { DIALECTS, freshDatabase, type TestDb } from '../../test/setup.js';
import { retentionReport } from '../analytics/report.queries.js';
import { storeStats } from '../store/index.js';

// A store of orders only, as an Online Retail import: no browsing or e-mail events at all.
const AS_OF = Date.UTC(2025, 5, 1);
const MAY = { from: Date.UTC(2025, 4, 1), to: Date.UTC(2025, 5, 1) };

for (const dialect of DIALECTS) {
  describe(`Comeback's own events are not the store's events on ${dialect.name}`, { skip: dialect.skip }, () => {
    let t: TestDb;
    before(async () => {
      t = await freshDatabase(dialect.name);
      const db = t.store.db;
      for (const [i, days] of [3, 20, 50].entries()) {
        const id = await addCustomer(db, { email: `c${i}@x.test` });
        await addOrder(db, id, { at: AS_OF - days * DAY - DAY });
        await addOrder(db, id, { at: AS_OF - days * DAY });
      }
    });
    after(() => dropWhenClosed(t));

    test('a refresh says how many events it recorded', async () => {
      const db = t.store.db;
      const refresh = await runCli('segments', 'refresh', '--as-of', '2025-05-31', '--db', t.url);
      assert.equal(refresh.code, 0, refresh.err);
      const written = await db.selectFrom('events').select(['type', 'event']).execute();
      assert.equal(written.length, 3, 'one segment_entered per customer on the first refresh');
      assert.ok(written.every((e) => e.type === 'segment_entered'));
      assert.match(refresh.out, /\b3 lifecycle events recorded\b/, refresh.out);

      const again = await runCli('segments', 'refresh', '--as-of', '2025-05-31', '--db', t.url, '--json');
      assert.equal(JSON.parse(again.out).changes.events, 0, 'a rerun records nothing');
    });

    test('stats and report do not count them as the store’s events', async () => {
      const db = t.store.db;

      // A survey answer is written by Comeback too (surveys.queries.ts), as a track call.
      await addEvent(db, { messageId: 'survey:abc', event: 'Survey Answered', at: AS_OF - DAY });
      const stats = await storeStats(db);
      assert.equal(stats.events, 0);
      assert.equal(stats.comebackEvents, 4);
      const shown = await runCli('stats', '--db', t.url);
      assert.match(shown.out, /^events\s+0$/m, shown.out);
      assert.match(shown.out, /written by Comeback\s+4/, shown.out);

      const report = await retentionReport(db, { ...MAY, asOf: AS_OF });
      assert.equal(report.engagement, null, 'no Engagement block for a store that sent no events');
      const text = await runCli('report', '--from', '2025-05-01', '--to', '2025-05-31', '--db', t.url);
      assert.equal(text.code, 0, text.err);
      assert.doesNotMatch(text.out, /Engagement/);

      // A page view the store sent counts, and brings the block.
      const [first] = await db.selectFrom('customers').select('id').orderBy('id').execute();
      await addEvent(db, { customerId: Number(first!.id), at: AS_OF - 2 * DAY });
      assert.equal((await storeStats(db)).events, 1);
      const withVisit = await retentionReport(db, { ...MAY, asOf: AS_OF });
      assert.equal(withVisit.engagement?.current?.visits, 1);
    });
  });
}
