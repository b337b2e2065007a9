import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { runCli } from './run-cli.js';
import { addCustomer, addOrder } from './segments-fixtures.js';
import { DIALECTS, freshDatabase, tempDir } from './setup.js';

// `comeback feedback report` as a person reads it: besides the scores, why carts were left and the
// latest comments (as `--json` has them), in the store's days.

for (const dialect of DIALECTS) {
  describe(`feedback report, human output (${dialect.name})`, { skip: dialect.skip }, () => {
    test('lists why carts were left and the latest comments, clipped to a line, newest first', async () => {
      const t = await freshDatabase(dialect.name);
      const dir = tempDir();
      try {
        const ann = await addCustomer(t.store.db, { email: 'ann@example.com' });
        const bob = await addCustomer(t.store.db, { email: 'bob@example.com' });
        const file = join(dir, 'answers.csv');
        const long = `Great tea ${'x'.repeat(80)}`;
        writeFileSync(
          file,
          'survey,customer,answered_at,score,reason,comment\n' +
            `nps,${ann},2026-03-01T10:00:00Z,10,,"Lovely\nand fast"\n` +
            `cart,${bob},2026-03-02T10:00:00Z,,shipping_cost,\n` +
            `cart,${ann},2026-03-03T10:00:00Z,,shipping_cost,\n` +
            `cart,${bob},2026-03-04T10:00:00Z,,price,\n` +
            `nps,${bob},2026-03-05T10:00:00Z,3,,${long}\n`,
        );
        const imported = await runCli('feedback', 'import', file, '--db', t.url);
        assert.equal(imported.code, 0, imported.err);
        const { code, out, err } = await runCli(
          'feedback',
          'report',
          '--from',
          '2026-03-01',
          '--as-of',
          '2026-03-31',
          '--db',
          t.url,
        );
        assert.equal(code, 0, err);
        assert.match(out, /^Feedback from 2026-03-01 to 2026-03-31\n/);
        assert.match(
          out,
          /Why carts were left \("what stopped you\?"\)\nreason +answers\nshipping_cost +2\nprice +1\n/,
        );
        const comments = out.slice(out.indexOf('Latest comments'));
        const rows = comments.split('\n').slice(2, 4);
        // Each customer by the store's id (here, without one, the e-mail) and Comeback's internal one.
        assert.match(rows[0]!, new RegExp(`^2026-03-05 +bob@example\\.com #${bob} +nps +3 +Great tea x{49}…$`));
        assert.match(rows[1]!, new RegExp(`^2026-03-01 +ann@example\\.com #${ann} +nps +10 +Lovely and fast$`));

        // Without --as-of: the store's latest data for feedback, the day of its latest answer (the
        // orders are an old export from 2011), not the day it runs and not the orders' last day.
        await addOrder(t.store.db, ann, { at: Date.UTC(2011, 11, 9, 12) });
        const latest = await runCli('feedback', 'report', '--db', t.url);
        assert.equal(latest.code, 0, latest.err);
        assert.match(latest.out, /^Feedback up to 2026-03-05 \(the day of the latest answer, review or sale\)\n/);
        assert.match(latest.out, /NPS -?\d/);
        // The JSON (and the dashboard's table) name each commenter by the store's id too: null for these
        // two, known only by e-mail; once the store's id of Bob is known, that.
        await t.store.db
          .insertInto('customer_identities')
          .values({ customer_id: bob, source: 'csv', external_id: 'B-7' })
          .execute();
        const json = JSON.parse((await runCli('feedback', 'report', '--json', '--db', t.url)).out) as {
          asOf: number;
          nps: { answers: number };
          latestComments: Array<{ customerId: number; storeId: string | null }>;
        };
        assert.deepEqual([json.asOf, json.nps.answers], [Date.UTC(2026, 2, 6), 2]);
        assert.deepEqual(
          json.latestComments.map((c) => [c.customerId, c.storeId]),
          [
            [bob, 'B-7'],
            [ann, null],
          ],
        );
      } finally {
        await t.drop();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}
