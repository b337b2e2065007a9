import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { creditProgramConfig } from '../../test/credit-fixtures.js';
import { addCustomer, addOrder, refundOrder, testProgramConfig } from '../../test/loyalty-fixtures.js';
import { DIALECTS, freshDatabase } from '../../test/setup.js';
import { buildApp } from '../api/build-app.js';
import { createApiKey, messageLinkSecret } from '../api/keys.queries.js';
import { signPageLink } from '../feedback/index.js';
import {
  adjust,
  creditStatus,
  enrolMember,
  type LoyaltyTables,
  memberStatus,
  redeem,
  saveProgram,
  settle,
  syncOrders,
} from '../loyalty/index.js';
import type { DialectName } from '../store/index.js';

const NOW = Date.UTC(2026, 2, 1, 12);
const DAY = 86_400_000;
const SHOP = 'https://shop.example';

/** A fresh database with the API listening on loopback, for one test; `close` stops the one and drops the other. */
async function served(dialect: DialectName) {
  const t = await freshDatabase(dialect);
  const app = await buildApp({ store: t.store, now: () => NOW, rateLimit: false });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const close = async () => {
    await app.close();
    await t.drop();
  };
  return { db: t.store.db, base, close };
}

for (const dialect of DIALECTS) {
  describe(`hosted rewards page money on ${dialect.name}`, { skip: dialect.skip }, () => {
    test('an IDR balance is shown in ISO 4217 minor units (exponent 2), not Intl’s 0 decimals', async () => {
      const { db, base, close } = await served(dialect.name);
      try {
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
        await close();
      }
    });
  });
}

for (const dialect of DIALECTS) {
  describe(`store credit on the hosted page and the launcher on ${dialect.name}`, { skip: dialect.skip }, () => {
    test('the launcher answers a redemption with what can be spent now: lapsed credit and points left out', async () => {
      const { db, base, close } = await served(dialect.name);
      try {
        const program = await saveProgram(db, creditProgramConfig(), { now: NOW - 500 * DAY });
        const customer = await addCustomer(db, { email: 'lapsed@example.com' });
        assert.ok((await enrolMember(db, program, { customerId: customer, now: NOW - 450 * DAY })).ok);
        // £5 of credit redeemed 400 days ago, valid for 365 days: lapsed, though no sync booked it.
        assert.ok(
          (await adjust(db, program, { customerId: customer, points: 100, reason: 't', now: NOW - 401 * DAY })).ok,
        );
        assert.ok(
          (await redeem(db, program, { customerId: customer, rewardKey: 'credit-5', now: NOW - 400 * DAY })).ok,
        );
        assert.ok((await adjust(db, program, { customerId: customer, points: 100, reason: 't', now: NOW - DAY })).ok);
        const { key, memberSecret } = await createApiKey(db, { scope: 'publishable', origins: [SHOP], now: NOW });
        await db
          .insertInto('customer_identities')
          .values({ source: 'api', external_id: 'm3', customer_id: customer })
          .execute();
        const headers = {
          authorization: `Bearer ${key}`,
          origin: SHOP,
          'x-comeback-member': `m3.${createHmac('sha256', memberSecret!).update('m3').digest('hex')}`,
          'content-type': 'application/json',
        };
        const redeemed = await fetch(`${base}/api/v1/storefront/me/redeem`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ reward: 'credit-5' }),
        });
        const receipt = (await redeemed.json()) as { balance: number; credit: { balanceMinor: number } };
        assert.equal(redeemed.status, 200, JSON.stringify(receipt));
        // The account holds £10 as booked; £5 of it lapsed: £5 can be spent, as /storefront/me says.
        assert.equal(receipt.credit.balanceMinor, 500);
        const me = (await (await fetch(`${base}/api/v1/storefront/me`, { headers })).json()) as {
          member: { available: number; credit: { balanceMinor: number } };
        };
        assert.equal(me.member.credit.balanceMinor, 500);
        assert.equal(receipt.balance, me.member.available);
      } finally {
        await close();
      }
    });

    test('credit redeemed as of today (dated at its last millisecond) is on the page read at noon, beside its points', async () => {
      const { db, base, close } = await served(dialect.name);
      try {
        const program = await saveProgram(db, creditProgramConfig(), { now: NOW - 30 * DAY });
        const customer = await addCustomer(db, { email: 'today@example.com' });
        assert.ok((await enrolMember(db, program, { customerId: customer, now: NOW - 20 * DAY })).ok);
        assert.ok((await adjust(db, program, { customerId: customer, points: 200, reason: 'x', now: NOW - DAY })).ok);
        // `comeback loyalty redeem … --as-of 2026-03-01` dates it at 23:59:59.999 of that day.
        const endOfToday = Date.UTC(2026, 2, 2) - 1;
        assert.ok((await redeem(db, program, { customerId: customer, rewardKey: 'credit-5', now: endOfToday })).ok);
        const token = signPageLink(await messageLinkSecret(db), { c: customer, p: 'rewards', e: NOW + DAY });
        const body = await (await fetch(`${base}/w/${token}?lang=en`)).text();
        assert.match(body, /data-balance>150</, 'the points spent on it are gone');
        assert.match(
          body,
          /<h2>Store credit<\/h2><div class="big" data-credit>£5\.00<\/div>/,
          'and the credit is there',
        );
      } finally {
        await close();
      }
    });

    test('redeeming store credit in the launcher credits the account; the page and /storefront/me show balance and code', async () => {
      const { db, base, close } = await served(dialect.name);
      try {
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
        assert.deepEqual(ledger.accounts, [
          { currency: 'GBP', balanceMinor: 500, dueExpiryMinor: 0, code: receipt.code },
        ]);

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
        await close();
      }
    });
  });
}

for (const dialect of DIALECTS) {
  describe(`hosted rewards page: pending points, tiers and history on ${dialect.name}`, { skip: dialect.skip }, () => {
    test('available and pending apart with the settle date, a gold-only reward not offered to Blue, history in Korean by the store’s order numbers', async () => {
      const t = await freshDatabase(dialect.name);
      const app = await buildApp({ store: t.store, now: () => NOW, rateLimit: false });
      try {
        const db = t.store.db;
        // 1 point per £1, 14-day return window; Gold from 500 points earned; "Early access" (10) needs Gold.
        const program = await saveProgram(db, testProgramConfig(), { now: NOW - 40 * DAY });
        const customer = await addCustomer(db, { email: 'pending@example.com' });
        assert.ok((await enrolMember(db, program, { customerId: customer, now: NOW - 30 * DAY })).ok);
        const order = async (placedAt: number, subtotalMinor: number, number: string) => {
          const id = await addOrder(db, { customerId: customer, placedAt, subtotalMinor });
          await db.updateTable('orders').set({ external_id: number }).where('id', '=', id).execute();
          return id;
        };
        // #1001: 200 points, window over on NOW − 11 days (available); #1003: 120 points, pending until
        // 12 March 2026 (placed 26 February 12:00 UTC + 14 days); #1002: 30 points, refunded while pending.
        await order(NOW - 25 * DAY, 20_000, '#1001');
        const refunded = await order(NOW - 5 * DAY, 3_000, '#1002');
        await order(NOW - 3 * DAY, 12_000, '#1003');
        await syncOrders(db, program, { now: NOW - 2 * DAY });
        await refundOrder(db, refunded, 3_000, NOW - 2 * DAY + 3_600_000);
        await syncOrders(db, program, { now: NOW - DAY });

        // What `loyalty member` prints (the same function, as of NOW): 50 + 200 available, 120 pending.
        const status = await memberStatus(db, program, customer, { asOf: NOW, entries: 20 });
        assert.deepEqual([status!.available, status!.pending, status!.tier.key], [250, 120, 'blue']);
        assert.deepEqual(status!.pendingSettles, [{ points: 120, availableAt: Date.UTC(2026, 2, 12, 12) }]);

        const token = signPageLink(await messageLinkSecret(db), { c: customer, p: 'rewards', e: NOW + DAY });
        const page = async (lang: 'en' | 'ko') => {
          const response = await app.inject({ method: 'GET', url: `/w/${token}?lang=${lang}` });
          assert.equal(response.statusCode, 200, response.body);
          return response.body;
        };
        const en = await page('en');
        assert.match(en, /data-balance>250</);
        assert.match(en, /worth £2\.50</);
        assert.match(en, /<p class="muted" data-pending>120 points pending/);
        assert.match(en, /<li data-settles>120 available from 12 March 2026<\/li>/);
        assert.match(
          en,
          /<td>Early access<\/td><td class="n">10<\/td><td><span class="muted" data-reward-state="tier">For higher tiers \(Gold and above\)<\/span>/,
        );
        assert.match(
          en,
          /<td>10% off<\/td><td class="n">250<\/td><td><span class="ok" data-reward-state="enough">Enough points to redeem</,
        );
        assert.equal(en.match(/data-reward-state="enough"/g)?.length, 3, '£5 off, 10% off, free shipping');
        assert.doesNotMatch(en, /redeem this now/);
        assert.match(en, /To redeem a reward, open Rewards in our store while signed in/);
        assert.match(en, /<td>Order #1001<\/td><td class="n">\+200</);
        assert.match(en, /<td>Order #1002 refunded<\/td><td class="n">-30</);

        const ko = await page('ko');
        assert.match(ko, /data-balance>250</);
        assert.match(ko, /적립 예정 120포인트/);
        assert.match(ko, /<li data-settles>2026년 3월 12일부터 120포인트 사용 가능<\/li>/);
        assert.match(ko, /상위 등급 전용 \(Gold 등급 이상\)/);
        assert.match(ko, /포인트가 충분해요/);
        assert.match(ko, /쇼핑몰에 로그인한 뒤 적립금 혜택 메뉴에서 사용할 수 있어요/);
        assert.match(ko, /<td>주문 #1001 적립<\/td>/);
        assert.match(ko, /<td>주문 #1003 적립<\/td><td class="n">\+120</);
        assert.match(ko, /<td>주문 #1002 환불<\/td><td class="n">-30</);
        assert.match(ko, /<td>회원 가입<\/td><td class="n">\+50</);
        // No English ledger reasons, no Comeback order ids.
        assert.doesNotMatch(ko, /refunded|signed up|order \d/);
        assert.doesNotMatch(en, new RegExp(`order ${refunded}\\b`, 'i'));

        // The launcher's view of the same member agrees (available, pending, the gold-only reward).
        const { key, memberSecret } = await createApiKey(db, { scope: 'publishable', origins: [SHOP], now: NOW });
        await db
          .insertInto('customer_identities')
          .values({ source: 'api', external_id: 'm3', customer_id: customer })
          .execute();
        const me = (await (
          await app.inject({
            method: 'GET',
            url: '/api/v1/storefront/me',
            headers: {
              authorization: `Bearer ${key}`,
              origin: SHOP,
              'x-comeback-member': `m3.${createHmac('sha256', memberSecret!).update('m3').digest('hex')}`,
            },
          })
        ).json()) as {
          member: {
            available: number;
            pending: number;
            rewards: Array<{ key: string; redeemable: boolean; tierTooLow: boolean }>;
          };
        };
        assert.deepEqual([me.member.available, me.member.pending], [250, 120]);
        assert.deepEqual(
          me.member.rewards.find((r) => r.key === 'vip'),
          { ...me.member.rewards.find((r) => r.key === 'vip'), redeemable: false, tierTooLow: true },
        );
      } finally {
        await app.close();
        await t.drop();
      }
    });

    test('read years after the last sync: the tier a review now gives, and the expiries due shown in the history, the same as after a sync', async () => {
      const t = await freshDatabase(dialect.name);
      const app = await buildApp({ store: t.store, now: () => NOW, rateLimit: false });
      try {
        const db = t.store.db;
        // Points expire 365 days after they become available; Gold from 500 points earned in 365 days.
        const config = testProgramConfig({ expiry: { mode: 'lot', days: 365 } });
        const program = await saveProgram(db, config, { now: NOW - 1_100 * DAY });
        const customer = await addCustomer(db, { email: 'stale@example.com' });
        // Signup +50 (available at once, NOW − 1,000 days); #2001 £600: +600, available NOW − 886 days.
        assert.ok((await enrolMember(db, program, { customerId: customer, now: NOW - 1_000 * DAY })).ok);
        const id = await addOrder(db, { customerId: customer, placedAt: NOW - 900 * DAY, subtotalMinor: 60_000 });
        await db.updateTable('orders').set({ external_id: '#2001' }).where('id', '=', id).execute();
        await syncOrders(db, program, { now: NOW - 880 * DAY });
        const stored = await db
          .withTables<LoyaltyTables>()
          .selectFrom('loyalty_members')
          .select(['tier', 'balance'])
          .where('customer_id', '=', customer)
          .executeTakeFirstOrThrow();
        assert.deepEqual([stored.tier, stored.balance], ['gold', 650], 'as the last sync left it');

        // Now: nothing earned in the last 365 days; Gold came with #2001 (NOW − 900 days), so the review
        // was due 365 + 30 days later, NOW − 505 days: Blue from then. The signup
        // lot expired NOW − 635 days, the order's lot NOW − 521 days: nothing is available.
        const before = await memberStatus(db, program, customer, { asOf: NOW, entries: 20 });
        assert.deepEqual([before!.available, before!.tier.key, before!.tier.since], [0, 'blue', NOW - 505 * DAY]);
        assert.deepEqual(before!.tierHistory.at(-1), {
          from: 'gold',
          to: 'blue',
          at: NOW - 505 * DAY,
          reason: 'downgrade',
        });
        assert.equal(before!.nextTier?.key, 'gold');
        assert.deepEqual(
          before!.dueExpiries.map((e) => [e.points, e.occurredAt]),
          [
            [600, NOW - 521 * DAY],
            [50, NOW - 635 * DAY],
          ],
        );
        const token = signPageLink(await messageLinkSecret(db), { c: customer, p: 'rewards', e: NOW + DAY });
        const page = async () => (await app.inject({ method: 'GET', url: `/w/${token}?lang=en` })).body;
        const unsynced = await page();
        assert.match(unsynced, /data-balance>0</);
        assert.match(unsynced, /<div class="big">Blue<\/div>/);
        assert.doesNotMatch(unsynced, /Gold<\/div>/);
        assert.equal(unsynced.match(/<tr data-due-expiry>/g)?.length, 2);
        assert.match(
          unsynced,
          /<tr data-due-expiry><td>\d{4}-\d\d-\d\d<\/td><td>Points expired<\/td><td class="n">-600</,
        );

        // `loyalty sync` now (orders, then settle) books exactly that: the same balance and tier, the
        // expiries now from the ledger.
        await syncOrders(db, program, { now: NOW });
        assert.deepEqual(
          (({ expired, downgrades }) => ({ expired, downgrades }))(await settle(db, program, { now: NOW })),
          { expired: 650, downgrades: 1 },
        );
        const after = await memberStatus(db, program, customer, { asOf: NOW, entries: 20 });
        assert.deepEqual([after!.available, after!.tier.key, after!.dueExpiries], [0, 'blue', []]);
        assert.deepEqual(after!.tierHistory, before!.tierHistory);
        assert.equal(after!.tier.since, before!.tier.since);
        assert.deepEqual(
          after!.entries.filter((e) => e.kind === 'expire').map((e) => [e.amount, e.occurredAt]),
          [
            [-600, NOW - 521 * DAY],
            [-50, NOW - 635 * DAY],
          ],
        );
        const synced = await page();
        assert.match(synced, /data-balance>0</);
        assert.match(synced, /<div class="big">Blue<\/div>/);
        assert.equal(synced.match(/<tr data-due-expiry>/g), null);
        assert.equal(synced.match(/<td>Points expired<\/td>/g)?.length, 2);
        assert.doesNotMatch(synced, /data-history-part/, 'the whole history is shown');

        // 25 goodwill adjustments later: the newest 20 lines, and the page says that is not all.
        for (let i = 0; i < 25; i++) {
          const adjusted = await adjust(db, program, {
            customerId: customer,
            points: 1,
            reason: `goodwill ${i}`,
            now: NOW,
          });
          assert.ok(adjusted.ok);
        }
        const long = await page();
        assert.equal(long.slice(long.indexOf('<h2>History</h2>')).match(/<tr>/g)?.length, 20);
        assert.match(long, /<p class="muted" data-history-part>The latest 20 of 29 entries\.<\/p>/);
      } finally {
        await app.close();
        await t.drop();
      }
    });
  });
}
