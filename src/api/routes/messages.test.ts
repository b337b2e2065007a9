import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DIALECTS, freshDatabase } from '../../../test/setup.js';
import { signLink } from '../../campaigns/index.js';
import { buildApp } from '../build-app.js';
import { messageLinkSecret } from '../keys.queries.js';

for (const dialect of DIALECTS) {
  describe(`hosted unsubscribe links (${dialect.name})`, { skip: dialect.skip }, () => {
    test('GET shows, the RFC 8058 one-click POST unsubscribes once, forged and expired links are refused', async () => {
      const t = await freshDatabase(dialect.name);
      const now = Date.parse('2026-06-01T10:00:00Z');
      const app = await buildApp({ store: t.store, now: () => now });
      try {
        const db = t.store.db;
        await db
          .insertInto('customers')
          .values({ id: 5, source: 'test', email: 'a@example.com', first_seen_at: 0, created_at: 0 })
          .execute();
        await db
          .insertInto('customer_consents')
          .values({ customer_id: 5, channel: 'email', granted: 1, updated_at: 0, source: 'test' })
          .execute();
        const secret = await messageLinkSecret(db);
        const token = signLink(secret, { c: 5, p: 'unsubscribe', e: now + 86_400_000 });

        const shown = await app.inject({
          method: 'GET',
          url: `/m/u/${token}`,
          headers: { 'accept-language': 'ko-KR' },
        });
        assert.equal(shown.statusCode, 200);
        assert.match(shown.body, /수신 거부/);
        const consent = async () =>
          (
            await db
              .selectFrom('customer_consents')
              .select('granted')
              .where('customer_id', '=', 5)
              .executeTakeFirstOrThrow()
          ).granted;
        assert.equal(await consent(), 1, 'GET changes nothing');

        const oneClick = await app.inject({
          method: 'POST',
          url: `/m/u/${token}`,
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          payload: 'List-Unsubscribe=One-Click',
        });
        assert.equal(oneClick.statusCode, 200);
        assert.match(oneClick.body, /You are unsubscribed/);
        assert.equal(await consent(), 0);
        const again = await app.inject({
          method: 'POST',
          url: `/m/u/${token}`,
          headers: { 'content-type': 'multipart/form-data; boundary=x' },
          payload: '--x--',
        });
        assert.match(again.body, /already unsubscribed/);

        const forged = await app.inject({ method: 'POST', url: `/m/u/${token.slice(0, -2)}xx` });
        assert.equal(forged.statusCode, 400);
        const expired = signLink(secret, { c: 5, p: 'unsubscribe', e: now - 1 });
        assert.equal((await app.inject({ method: 'POST', url: `/m/u/${expired}` })).statusCode, 400);
        const wrongPurpose = signLink(secret, { c: 5, p: 'preferences', e: now + 1000 });
        assert.equal((await app.inject({ method: 'POST', url: `/m/u/${wrongPurpose}` })).statusCode, 400);
      } finally {
        await app.close();
        await t.drop();
      }
    });
  });
}
