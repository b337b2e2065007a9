import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { addCustomer } from '../../test/campaign-fixtures.js';
import { DIALECTS, freshDatabase, type TestDb } from '../../test/setup.js';
import { parseRule, saveSegment } from '../segments/index.js';
import { campaignAudience } from './audience.queries.js';
import { campaignDb } from './tables.js';

const DAY = 86_400_000;
const NOW = Date.parse('2026-06-01T10:00:00Z');

/** The hold-out draw, written out again: the first 48 bits of SHA-256("key:id") over 2^48. */
const draw = (key: string, id: number) =>
  createHash('sha256').update(`${key}:${id}`).digest().readUIntBE(0, 6) / 2 ** 48;

for (const dialect of DIALECTS) {
  describe(`a campaign's audience before it is sent (${dialect.name})`, { skip: dialect.skip }, () => {
    let t: TestDb;
    before(async () => {
      t = await freshDatabase(dialect.name);
      const db = t.store.db;
      const uk = { country: 'GB' };
      await addCustomer(db, 1, NOW - 100 * DAY, { ...uk, email: 'one@example.com' }); // consented: reachable
      await addCustomer(db, 2, NOW - 100 * DAY, uk); // no e-mail address
      await addCustomer(db, 3, NOW - 100 * DAY, { ...uk, email: 'three@example.com' }); // no consent recorded
      await addCustomer(db, 4, NOW - 100 * DAY, { ...uk, email: 'four@example.com' }); // consented, unsubscribed
      await addCustomer(db, 5, NOW - 100 * DAY, { country: 'FR', email: 'five@example.com' }); // not in `uk`
      await db
        .insertInto('customer_consents')
        .values(
          [1, 4, 5].map((id) => ({
            customer_id: id,
            channel: 'email',
            granted: 1,
            updated_at: NOW - DAY,
            source: 'test',
          })),
        )
        .execute();
      await campaignDb(db)
        .insertInto('suppressions')
        .values({
          channel: 'email',
          address: 'four@example.com',
          reason: 'unsubscribe',
          source: 'test',
          created_at: NOW - DAY,
        })
        .execute();
      await saveSegment(db, 'uk', parseRule({ field: 'country', op: 'eq', value: 'GB' }), { asOf: NOW, now: NOW });
    });
    after(() => t.drop());

    test('members, who no channel reaches and why, held-out count by the hash', async () => {
      // The draws of customers 1–4 in campaign `spring`: 0.462, 0.974, 0.0504, 0.0922 (below).
      assert.deepEqual(
        [1, 2, 3, 4].map((id) => draw('spring', id).toFixed(4)),
        ['0.4620', '0.9738', '0.0504', '0.0922'],
      );
      // Default share 0.1: customers 3 and 4 are below it.
      assert.deepEqual(await campaignAudience(t.store.db, { segment: 'uk', key: 'spring' }, NOW), {
        segment: 'uk',
        asOf: NOW,
        members: 4,
        heldOut: 2,
        reachable: 1,
        excluded: { no_address: 1, no_consent: 1, suppressed: 1 },
      });
      // Share 0.05: 0.0504 is not below it, nobody is held out; 0.0505: customer 3 is.
      const share = async (holdoutShare: number) =>
        (await campaignAudience(t.store.db, { segment: 'uk', key: 'spring', holdoutShare }, NOW)).heldOut;
      assert.equal(await share(0.05), 0);
      assert.equal(await share(0.0505), 1);
      // Without a key nobody is drawn: null, not 0.
      assert.equal((await campaignAudience(t.store.db, { segment: 'uk' }, NOW)).heldOut, null);
    });

    test('a second channel with an address reaches whom e-mail does not; the first with an address names the reason', async () => {
      const db = t.store.db;
      await db.updateTable('customers').set({ phone: '+447700900002' }).where('id', '=', 2).execute();
      await db
        .insertInto('customer_consents')
        .values({ customer_id: 2, channel: 'sms', granted: 1, updated_at: NOW - DAY, source: 'test' })
        .execute();
      // Customer 2 is now reached by SMS; 3 and 4 have no phone, so e-mail (the first with an address)
      // still names theirs.
      assert.deepEqual(await campaignAudience(db, { segment: 'uk', channels: ['email', 'sms'] }, NOW), {
        segment: 'uk',
        asOf: NOW,
        members: 4,
        heldOut: null,
        reachable: 2,
        excluded: { no_address: 0, no_consent: 1, suppressed: 1 },
      });
    });
  });
}
