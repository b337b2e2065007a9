import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { creditProgramConfig } from '../../test/credit-fixtures.js';
import { addCustomer, testProgramConfig } from '../../test/loyalty-fixtures.js';
import { DIALECTS, freshDatabase } from '../../test/setup.js';
import { buildApp } from '../api/build-app.js';
import { createApiKey, messageLinkSecret } from '../api/keys.queries.js';
import { signPageLink } from '../feedback/index.js';
import { adjust, creditStatus, enrolMember, saveProgram } from '../loyalty/index.js';

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

for (const dialect of DIALECTS) {
  describe(`store credit on the hosted page and the launcher on ${dialect.name}`, { skip: dialect.skip }, () => {
    test('redeeming store credit in the launcher credits the account; the page and /storefront/me show balance and code', async () => {
      const t = await freshDatabase(dialect.name);
      const app = await buildApp({ store: t.store, now: () => NOW, rateLimit: false });
      try {
        await app.listen({ port: 0, host: '127.0.0.1' });
        const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
        const db = t.store.db;
        // A reward name with markup: the page shows it as text.
        const config = creditProgramConfig();
        config.rewards = config.rewards.map((r) => (r.key === 'credit-5' ? { ...r, name: '£5 <b>credit</b>' } : r));
        const program = await saveProgram(db, config, { now: NOW - 30 * DAY });
        const customer = await addCustomer(db, { email: 'credit@example.com' });
        assert.ok((await enrolMember(db, program, { customerId: customer, now: NOW - 20 * DAY })).ok);
        assert.ok(
          (await adjust(db, program, { customerId: customer, points: 200, reason: 'test', now: NOW - DAY })).ok,
        );
        const token = signPageLink(await messageLinkSecret(db), { c: customer, p: 'rewards', e: NOW + DAY });
        const page = async (lang: 'en' | 'ko') => {
          const response = await fetch(`${base}/w/${token}?lang=${lang}`);
          assert.equal(response.status, 200);
          return response.text();
        };
        assert.doesNotMatch(await page('en'), /data-credit/, 'no credit yet: no store-credit section');

        const { key, memberSecret } = await createApiKey(db, { scope: 'publishable', origins: [SHOP], now: NOW });
        await db
          .insertInto('customer_identities')
          .values({ source: 'api', external_id: 'm2', customer_id: customer })
          .execute();
        const headers = {
          authorization: `Bearer ${key}`,
          origin: SHOP,
          'x-comeback-member': `m2.${createHmac('sha256', memberSecret!).update('m2').digest('hex')}`,
          'content-type': 'application/json',
        };
        const redeemed = await fetch(`${base}/api/v1/storefront/me/redeem`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ reward: 'credit-5', idempotencyKey: 'click-1' }),
        });
        const receipt = (await redeemed.json()) as {
          code: string;
          credit: { amountMinor: number; balanceMinor: number };
        };
        assert.equal(redeemed.status, 200, JSON.stringify(receipt));
        assert.match(receipt.code, /^CR-[2-9A-HJKMNP-Z]{12}$/);
        assert.deepEqual([receipt.credit.amountMinor, receipt.credit.balanceMinor], [500, 500]);
        const ledger = await creditStatus(db, customer, { asOf: NOW });
        assert.deepEqual(ledger.accounts, [{ currency: 'GBP', balanceMinor: 500, code: receipt.code }]);

        const me = (await (await fetch(`${base}/api/v1/storefront/me`, { headers })).json()) as {
          member: { available: number; credit: { currency: string; balanceMinor: number; code: string } };
        };
        assert.equal(me.member.available, 50 + 200 - 100);
        assert.deepEqual(me.member.credit, { currency: 'GBP', balanceMinor: 500, code: receipt.code });

        const en = await page('en');
        assert.match(en, /<h2>Store credit<\/h2><div class="big" data-credit>£5\.00<\/div>/);
        assert.match(en, new RegExp(`<code data-credit-code>${receipt.code}</code>`));
        assert.match(en, /£5 &lt;b&gt;credit&lt;\/b&gt;/);
        assert.doesNotMatch(en, /<b>credit/);
        const ko = await page('ko');
        assert.match(ko, /<h2>적립금<\/h2><div class="big" data-credit>£5\.00<\/div>/);
        assert.match(ko, /결제할 때 이 코드를 입력하면/);
        assert.match(ko, new RegExp(`<code data-credit-code>${receipt.code}</code>`));
      } finally {
        await app.close();
        await t.drop();
      }
    });
  });
}
