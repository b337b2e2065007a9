import assert from 'node:assert/strict';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { describe, it } from 'node:test';
import { sql } from 'kysely';
import { freshDatabase, PG_URL, tempDir } from '../../test/setup.js';
import { writeShopifyExport } from '../simulate/index.js';
import type { Db } from '../store/index.js';
import { type ImportOptions, importFile } from './index.js';

const NOW = Date.UTC(2026, 0, 1);
const ROOT = join(import.meta.dirname, '..', '..');

/** Every table of the database, every column, rows sorted: two stores compare equal only if they are. */
async function everything(db: Db, { withIds }: { withIds: boolean }): Promise<Record<string, string[]>> {
  const tables = await sql<{ table_name: string }>`select table_name from information_schema.tables
    where table_schema = 'public' and table_type = 'BASE TABLE' order by table_name`.execute(db);
  const out: Record<string, string[]> = {};
  for (const { table_name: table } of tables.rows) {
    if (table === 'kysely_migration' || table === 'kysely_migration_lock') continue;
    const rows = await sql<Record<string, unknown>>`select * from ${sql.table(table)}`.execute(db);
    out[table] = rows.rows
      .map((row) =>
        JSON.stringify(
          Object.entries(row)
            .filter(([column]) => withIds || !(column === 'id' || column.endsWith('_id')))
            .map(([column, value]) => [column, value instanceof Date ? value.toISOString() : value]),
        ),
      )
      .sort();
  }
  return out;
}

async function simulatedExport(customers: number): Promise<string> {
  const file = join(tempDir(), 'simulated.csv');
  const out = createWriteStream(file);
  await writeShopifyExport(out, { customers, months: 12, seed: 3, currency: 'USD', now: NOW });
  out.end();
  await finished(out);
  return file;
}

describe('PostgreSQL import by COPY', {
  skip: PG_URL ? false : 'PostgreSQL not available: set COMEBACK_TEST_PG',
}, () => {
  const cases: Array<{ name: string; file: () => Promise<string>; options: Omit<ImportOptions, 'now'> }> = [
    { name: 'a simulated Shopify export', file: () => simulatedExport(700), options: { format: 'shopify' } },
    {
      name: 'the Online Retail sample (cancellations allocated as refunds)',
      file: async () => join(ROOT, 'samples', 'online-retail', 'online-retail-sample.csv.gz'),
      options: { format: 'online-retail', currency: 'GBP' },
    },
    {
      name: 'the redacted Shopify dev-store export',
      file: async () => join(ROOT, 'samples', 'shopify', 'orders_export_1.devstore.redacted.csv'),
      options: { format: 'shopify' },
    },
  ];
  for (const c of cases) {
    it(`${c.name}: equals the row-by-row import, every table, and a second COPY import changes nothing`, async () => {
      const file = await c.file();
      const rows = await freshDatabase('postgres');
      const copy = await freshDatabase('postgres');
      const copyBig = await freshDatabase('postgres');
      try {
        // The same batches on both paths, so even the generated ids agree.
        const a = await importFile(rows.store.db, file, { ...c.options, now: NOW, copy: false, batchSize: 400 });
        const b = await importFile(copy.store.db, file, { ...c.options, now: NOW, copy: true, batchSize: 400 });
        assert.deepEqual(b, a, 'the same summary');
        assert.deepEqual(
          await everything(copy.store.db, { withIds: true }),
          await everything(rows.store.db, { withIds: true }),
        );
        // The COPY path's own batches (thousands of rows): ids may be handed out in another order.
        const d = await importFile(copyBig.store.db, file, { ...c.options, now: NOW });
        assert.deepEqual({ ...d, resumed: false }, a);
        const before = await everything(copyBig.store.db, { withIds: false });
        assert.deepEqual(before, await everything(rows.store.db, { withIds: false }));
        // Idempotent: importing the file again by COPY adds and changes nothing but the imports log.
        await importFile(copyBig.store.db, file, { ...c.options, now: NOW });
        const again = await everything(copyBig.store.db, { withIds: false });
        assert.deepEqual({ ...again, imports: [] }, { ...before, imports: [] });
      } finally {
        await rows.drop();
        await copy.drop();
        await copyBig.drop();
      }
    });
  }
});
