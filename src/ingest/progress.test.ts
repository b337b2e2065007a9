import assert from 'node:assert/strict';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { freshDatabase, tempDir } from '../../test/setup.js';
import { importFile } from './import.js';

test('progress: half the file’s bytes when it is read, all of them when its records are written', async () => {
  const t = await freshDatabase('sqlite');
  try {
    const file = join(tempDir(), 'orders.csv');
    writeFileSync(file, 'order_id,placed_at,currency,total\nP-1,2025-01-01,EUR,1.00\nP-2,2025-01-02,EUR,2.00\n');
    const size = statSync(file).size;
    const calls: Array<[number, number]> = [];
    await importFile(t.store.db, file, {
      format: 'csv',
      now: 0,
      onProgress: (read, total) => calls.push([read, total]),
    });
    // Pass 1 reads the file in one chunk: half of the bar. Pass 2 reports after its last record (the
    // second of 2): (size + size × 2 / 2) / 2 = size.
    assert.deepEqual(calls, [
      [Math.round(size / 2), size],
      [size, size],
    ]);
  } finally {
    await t.drop();
  }
});
