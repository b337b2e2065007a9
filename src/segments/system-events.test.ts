import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { dropWhenClosed } from '../../test/pg-drop.js';
import { runCli } from '../../test/run-cli.js';
import { addCustomer, addOrder, DAY } from '../../test/segments-fixtures.js';
import { DIALECTS, freshDatabase, type TestDb } from '../../test/setup.js';

// A store of orders only, as an Online Retail import: no browsing or e-mail events at all.
const AS_OF = Date.UTC(2025, 5, 1);

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
  });
}
