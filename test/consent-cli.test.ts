import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { applyPreferences, consentLedger } from '../src/hosted/index.js';
import { addCustomer } from './campaign-fixtures.js';
import { runCli } from './run-cli.js';
import { DIALECTS, freshDatabase, type TestDb } from './setup.js';

// `comeback consent set` writes the consent ledger with its source, as the preference centre does.

const DAY = 86_400_000;

for (const dialect of DIALECTS) {
  describe(`comeback consent set writes the consent ledger (${dialect.name})`, { skip: dialect.skip }, () => {
    let t: TestDb;
    before(async () => {
      t = await freshDatabase(dialect.name);
      await addCustomer(t.store.db, 1, Date.now() - 400 * DAY, { email: 'a@example.com', phone: '+447700900001' });
    });
    after(() => t.drop());

    test('each change is one ledger row (subject, granted, source cli, when); a repeat writes none', async () => {
      const db = t.store.db;
      await applyPreferences(
        db,
        1,
        {
          type: 'save',
          channels: { email: true, sms: false, kakao: false },
          topics: { offers: true, new_products: true, rewards: true, surveys: true },
        },
        { source: 'preference_centre', now: Date.now() - DAY },
      );
      const started = Date.now();
      const runs = [
        await runCli('consent', 'set', '1', 'sms', 'yes', '--db', t.url),
        await runCli('consent', 'set', '1', 'email', 'no', '--db', t.url),
        await runCli('consent', 'set', '1', 'email', 'no', '--db', t.url),
        await runCli('consent', 'set', '1', 'ad_night', 'yes', '--db', t.url),
      ];
      const ended = Date.now();
      assert.deepEqual(
        runs.map((r) => [r.code, r.out]),
        [
          [0, 'customer 1: sms consent yes\n'],
          [0, 'customer 1: email consent no\n'],
          [0, 'customer 1: unchanged\n'],
          [0, 'customer 1: ad_night consent yes\n'],
        ],
      );
      const ledger = await consentLedger(db, 1);
      assert.deepEqual(
        ledger.map((c) => [c.subject, c.granted, c.source, c.detail]),
        [
          ['email', true, 'preference_centre', null],
          ['sms', true, 'cli', null],
          ['email', false, 'cli', null],
          ['ad_night', true, 'cli', null],
        ],
      );
      for (const c of ledger.slice(1))
        assert.ok(c.occurredAt >= started && c.occurredAt <= ended, String(c.occurredAt));
    });
  });
}
