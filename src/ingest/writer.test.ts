import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { euroOrder } from '../../test/recommend-fixtures.js';
import { DIALECTS, freshDatabase } from '../../test/setup.js';
import { ImportWriter } from './writer.js';

for (const dialect of DIALECTS) {
  describe(`ImportWriter on ${dialect.name}`, { skip: dialect.skip }, () => {
    test('a postcode is stored trimmed, and a blank one is not said (no postcode stored)', async () => {
      const t = await freshDatabase(dialect.name);
      try {
        const db = t.store.db;
        // A caller of the writer (not only the importers, whose cells are trimmed already) may pass padding.
        const padded = euroOrder('p1', 'padded', 0, ['A']);
        const blank = euroOrder('p2', 'blank', 0, ['A']);
        padded.customer = { ...padded.customer!, postcode: '  SW1A 1AA \t' };
        blank.customer = { ...blank.customer!, postcode: '   ' };
        await db.transaction().execute(async (trx) => {
          const writer = new ImportWriter(trx, 'test', 0);
          await writer.writeOrders([padded, blank]);
          await writer.finish();
        });
        const rows = await db.selectFrom('customers').select(['email', 'postcode']).orderBy('email').execute();
        assert.deepEqual(
          rows.map((r) => [r.email, r.postcode]),
          [
            ['blank@example.com', null],
            ['padded@example.com', 'SW1A 1AA'],
          ],
        );
      } finally {
        await t.drop();
      }
    });
  });
}
