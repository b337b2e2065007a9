import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { DIALECTS, freshDatabase, tempDir } from '../../test/setup.js';
import { importFile } from './import.js';

const NOW = Date.UTC(2026, 0, 1);

for (const dialect of DIALECTS) {
  describe(`an interrupted import on ${dialect.name}`, { skip: dialect.skip }, () => {
    test('importing the file again completes it: one completed run is left, the interrupted one deleted', async () => {
      const t = await freshDatabase(dialect.name);
      try {
        const db = t.store.db;
        const file = join(tempDir(), 'orders.csv');
        writeFileSync(file, 'order_id,placed_at,currency,total\nI-1,2025-01-01,EUR,1.00\nI-2,2025-01-02,EUR,2.00\n');
        const first = await importFile(db, file, { format: 'csv', now: NOW });
        assert.equal(first.resumed, false);
        // As if the process died before the run was marked complete.
        await db.updateTable('imports').set({ completed_at: null }).execute();
        const interrupted = Number((await db.selectFrom('imports').select('id').executeTakeFirstOrThrow()).id);
        const again = await importFile(db, file, { format: 'csv', now: NOW + 1000 });
        assert.equal(again.resumed, true);
        const runs = await db
          .selectFrom('imports')
          .select(['id', 'file', 'format', 'rows', 'orders', 'rejected', 'imported_at', 'completed_at'])
          .execute();
        assert.equal(runs.length, 1);
        const [run] = runs;
        assert.notEqual(Number(run!.id), interrupted);
        assert.deepEqual(
          [
            run!.file,
            run!.format,
            Number(run!.rows),
            Number(run!.orders),
            Number(run!.rejected),
            Number(run!.imported_at),
            Number(run!.completed_at),
          ],
          ['orders.csv', 'csv', 2, 2, 0, NOW + 1000, NOW + 1000],
        );
        // A third import of the complete file resumes nothing.
        const third = await importFile(db, file, { format: 'csv', now: NOW + 2000 });
        assert.equal(third.resumed, false);
        assert.equal((await db.selectFrom('imports').select('id').execute()).length, 2);
      } finally {
        await t.drop();
      }
    });
  });
}
