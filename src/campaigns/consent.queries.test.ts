import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { addCustomer } from '../../test/campaign-fixtures.js';
import { DIALECTS, freshDatabase, type TestDb } from '../../test/setup.js';
import type { ComebackError } from '../errors.js';
import { recordConsent as recordImportedConsent } from '../ingest/index.js';
import type { Db } from '../store/index.js';
import { reconfirmConsents, recordConsent } from './consent.queries.js';
import { saveMessagingSettings } from './settings.js';
import { campaignDb } from './tables.js';

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

for (const dialect of DIALECTS) {
  describe(`the two-yearly consent re-confirmation (${dialect.name})`, { skip: dialect.skip }, () => {
    // Consent at 10:00 Seoul on 5 March 2024; due two years later, 10:00 Seoul on 5 March 2026.
    const CONSENTED = Date.parse('2024-03-05T01:00:00Z');
    const DUE = Date.parse('2026-03-05T01:00:00Z');
    const RUN = DUE + DAY;
    let t: TestDb;
    before(async () => {
      t = await freshDatabase(dialect.name);
      const db = t.store.db;
      await addCustomer(db, 1, CONSENTED - DAY, { email: 'a@example.kr', phone: '+821012345678', country: 'KR' });
      await db
        .insertInto('customer_consents')
        .values(
          ['email', 'sms'].map((channel) => ({
            customer_id: 1,
            channel,
            granted: 1,
            updated_at: CONSENTED,
            source: 'test',
          })),
        )
        .execute();
      await saveMessagingSettings(db, { storeName: 'Daon' });
    });
    after(() => t.drop());

    test('e-mail consent is re-confirmed by e-mail, SMS consent by SMS; a second run tells nobody again', async () => {
      const db = t.store.db;
      const told = await reconfirmConsents(db, { now: RUN, linkSecret: 'secret' });
      assert.deepEqual(
        told.map((n) => [n.customerId, n.channel, n.consentedAt, n.dueAt, n.to, n.status]),
        [
          [1, 'email', CONSENTED, DUE, 'a@example.kr', 'queued'],
          [1, 'sms', CONSENTED, DUE, '+821012345678', 'queued'],
        ],
      );
      const rows = await campaignDb(db)
        .selectFrom('outbox')
        .select(['channel', 'to_address', 'payload'])
        .orderBy('id')
        .execute();
      const subject = '[Daon] 광고성 정보 수신동의 확인 안내';
      const payloads = rows.map((r) => [r.channel, r.to_address, JSON.parse(r.payload!)] as const);
      // E-mail: From (the sender's name follows the store's), subject and text; SMS: the sender, text, type.
      assert.deepEqual(
        payloads.map(([channel, to, p]) => [channel, to, Object.keys(p).sort()]),
        [
          ['email', 'a@example.kr', ['from', 'subject', 'text']],
          ['sms', '+821012345678', ['from', 'text', 'type']],
        ],
      );
      assert.deepEqual(payloads[0]![2].from, { name: 'Daon', address: 'shop@example.com' });
      assert.equal(payloads[0]![2].subject, subject);
      assert.equal(payloads[1]![2].from, 'SHOP');
      assert.equal(payloads[1]![2].type, 'LMS');
      for (const [, , p] of payloads) {
        assert.ok(p.text.startsWith(`${subject}\n고객님께서는 2024년 3월 5일에 Daon의 `), p.text);
      }
      // Done is done: even with the store's name reset (a notice could not be written now), the
      // second run finds both notices already written and asks for nothing.
      await saveMessagingSettings(db, { storeName: 'Our store' });
      assert.deepEqual(await reconfirmConsents(db, { now: RUN + DAY, linkSecret: 'secret' }), []);
    });
  });
}
