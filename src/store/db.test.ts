import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DIALECTS, freshDatabase } from '../../test/setup.js';
import { countRows, dialectOf, parseDbUrl } from './db.js';

describe('parseDbUrl', () => {
  test('names SQLite files and PostgreSQL servers', () => {
    assert.deepEqual(parseDbUrl('sqlite:./comeback.db'), { dialect: 'sqlite', target: './comeback.db' });
    assert.deepEqual(parseDbUrl('sqlite::memory:'), { dialect: 'sqlite', target: ':memory:' });
    assert.deepEqual(parseDbUrl('shop.db'), { dialect: 'sqlite', target: 'shop.db' });
    assert.equal(parseDbUrl('postgres://u@h/db').dialect, 'postgres');
    assert.equal(parseDbUrl('postgresql://u@h/db').dialect, 'postgres');
    assert.throws(() => parseDbUrl('mysql://x'), /use sqlite:PATH or postgres/);
  });
});

for (const dialect of DIALECTS) {
  describe(`store on ${dialect.name}`, { skip: dialect.skip }, () => {
    test('migrates a fresh database, twice without harm, and reads bigints as numbers', async () => {
      const { store, drop } = await freshDatabase(dialect.name);
      try {
        assert.equal(dialectOf(store.db), dialect.name);
        const { migrateToLatest } = await import('./db.js');
        await migrateToLatest(store);
        const { id } = await store.db
          .insertInto('customers')
          .values({ source: 'test', email: 'a@example.com', first_seen_at: 1_700_000_000_123, created_at: 1 })
          .returning('id')
          .executeTakeFirstOrThrow();
        const row = await store.db
          .selectFrom('customers')
          .select(['id', 'first_seen_at'])
          .where('id', '=', id)
          .executeTakeFirstOrThrow();
        assert.equal(typeof row.id, 'number');
        assert.equal(row.first_seen_at, 1_700_000_000_123);
        assert.equal(await countRows(store.db, 'customers'), 1);
      } finally {
        await drop();
      }
    });
  });
}
