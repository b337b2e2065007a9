import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { addCustomer } from '../../test/campaign-fixtures.js';
import { DIALECTS, freshDatabase, type TestDb } from '../../test/setup.js';
import type { ComebackError } from '../errors.js';
import { recordConsent as recordImportedConsent } from '../ingest/index.js';
import type { Db } from '../store/index.js';
import { recordConsent } from './consent.queries.js';

const DAY = 86_400_000;
const NOW = Date.parse('2026-06-01T12:00:00Z');

async function consentRow(db: Db, channel: string) {
  return db
    .selectFrom('customer_consents')
    .select(['granted', 'updated_at', 'source'])
    .where('customer_id', '=', 1)
    .where('channel', '=', channel)
    .executeTakeFirst()
    .then((r) => r && { granted: r.granted, updatedAt: Number(r.updated_at), source: r.source });
}

for (const dialect of DIALECTS) {
  describe(`a consent change made by hand (${dialect.name})`, { skip: dialect.skip }, () => {
    let t: TestDb;
    before(async () => {
      t = await freshDatabase(dialect.name);
      await addCustomer(t.store.db, 1, NOW - 900 * DAY, { email: 'a@example.com' });
    });
    after(() => t.drop());

    test('an unknown customer is not_found and writes nothing', async () => {
      const db = t.store.db;
      await assert.rejects(
        recordConsent(db, { customerId: 2, channel: 'email', granted: true, source: 'cli' }, NOW),
        (e: ComebackError) => e.kind === 'not_found',
      );
      assert.equal(await db.selectFrom('customer_consents').select('customer_id').executeTakeFirst(), undefined);
    });

    test('a change is written at now; a repeat writes nothing and keeps the first date', async () => {
      const db = t.store.db;
      const change = { customerId: 1, channel: 'ad_night', granted: true, source: 'cli' } as const;
      assert.equal(await recordConsent(db, change, NOW - 800 * DAY), true);
      assert.deepEqual(await consentRow(db, 'ad_night'), { granted: 1, updatedAt: NOW - 800 * DAY, source: 'cli' });
      assert.equal(await recordConsent(db, { ...change, source: 'api' }, NOW), false);
      assert.deepEqual(await consentRow(db, 'ad_night'), { granted: 1, updatedAt: NOW - 800 * DAY, source: 'cli' });
    });

    test('an import keeps the newest statement; a change by hand replaces even a later-dated one', async () => {
      const db = t.store.db;
      await recordImportedConsent(db, 1, { channel: 'email', granted: true, at: NOW + DAY, source: 'import' });
      // An older imported statement loses to the newer stored one; one of the same date replaces it.
      await recordImportedConsent(db, 1, { channel: 'email', granted: false, at: NOW, source: 'import' });
      assert.deepEqual(await consentRow(db, 'email'), { granted: 1, updatedAt: NOW + DAY, source: 'import' });
      await recordImportedConsent(db, 1, { channel: 'email', granted: true, at: NOW + DAY, source: 'events' });
      assert.deepEqual(await consentRow(db, 'email'), { granted: 1, updatedAt: NOW + DAY, source: 'events' });
      // The customer withdraws now, by hand: that wins over the row an import dated tomorrow.
      assert.equal(
        await recordConsent(db, { customerId: 1, channel: 'email', granted: false, source: 'cli' }, NOW),
        true,
      );
      assert.deepEqual(await consentRow(db, 'email'), { granted: 0, updatedAt: NOW, source: 'cli' });
    });
  });
}
