import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { addCustomer, testProgramConfig } from '../../test/loyalty-fixtures.js';
import { DIALECTS, freshDatabase } from '../../test/setup.js';
import { buildApp } from '../api/build-app.js';
import { createApiKey, messageLinkSecret } from '../api/keys.queries.js';
import { signPageLink } from '../feedback/index.js';
import { enrolMember, saveProgram } from '../loyalty/index.js';

const NOW = Date.UTC(2026, 2, 1, 12);
const DAY = 86_400_000;
const SHOP = 'https://shop.example';

for (const dialect of DIALECTS) {
  describe(`hosted rewards page money on ${dialect.name}`, { skip: dialect.skip }, () => {
    test('an IDR balance is shown in ISO 4217 minor units (exponent 2), not Intl’s 0 decimals', async () => {
      const t = await freshDatabase(dialect.name);
      const app = await buildApp({ store: t.store, now: () => NOW, rateLimit: false });
      try {
        await app.listen({ port: 0, host: '127.0.0.1' });
        const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
        const db = t.store.db;
        // One point is worth 2469 minor units (24.69 rupiah); the sign-up credit is 50 points.
        const program = await saveProgram(db, testProgramConfig({ currency: 'IDR', pointValueMinor: 2469 }), {
          now: NOW - 30 * DAY,
        });
        const customer = await addCustomer(db, { email: 'member@example.com' });
        assert.ok((await enrolMember(db, program, { customerId: customer, now: NOW - 20 * DAY })).ok);
        const token = signPageLink(await messageLinkSecret(db), { c: customer, p: 'rewards', e: NOW + DAY });
        for (const [lang, worth] of [
          ['en', /worth IDR\u00a01,234\.50</],
          ['ko', /IDR\u00a01,234\.50 상당</],
        ] as const) {
          const response = await fetch(`${base}/w/${token}?lang=${lang}`, {
            headers: { 'accept-language': lang === 'ko' ? 'ko-KR' : 'en-GB' },
          });
          const body = await response.text();
          assert.equal(response.status, 200, body);
          assert.match(body, /data-balance>50</);
          // 50 × 2469 = 123 450 minor units = 1 234.50 rupiah.
          assert.match(body, worth, lang);
        }
        // The storefront launcher formats the same worth: /storefront/me gives it the ISO 4217 exponent.
        const { key, memberSecret } = await createApiKey(db, { scope: 'publishable', origins: [SHOP], now: NOW });
        await db
          .insertInto('customer_identities')
          .values({ source: 'api', external_id: 'm1', customer_id: customer })
          .execute();
        const hash = createHmac('sha256', memberSecret!).update('m1').digest('hex');
        const me = await fetch(`${base}/api/v1/storefront/me`, {
          headers: { authorization: `Bearer ${key}`, origin: SHOP, 'x-comeback-member': `m1.${hash}` },
        });
        const body = (await me.json()) as {
          currency: string;
          currencyExponent: number;
          member: { availableValueMinor: number };
        };
        assert.equal(me.status, 200, JSON.stringify(body));
        assert.deepEqual([body.currency, body.currencyExponent, body.member.availableValueMinor], ['IDR', 2, 123_450]);
      } finally {
        await app.close();
        await t.drop();
      }
    });
  });
}
