import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { addOrder, addProduct, testProgramConfig } from '../../../test/loyalty-fixtures.js';
import { DIALECTS, freshDatabase, type TestDb } from '../../../test/setup.js';
import { enrolNewEntrants, saveFlow, setFlowEnabled } from '../../campaigns/index.js';
import { earnForAction, enrolMember, saveProgram } from '../../loyalty/index.js';
import type { ApiApp } from '../app.types.js';
import { buildApp } from '../build-app.js';
import { createApiKey } from '../keys.queries.js';
import { waysToEarn } from './storefront.js';

const NOW = Date.UTC(2026, 2, 1, 12);
const SHOP = 'https://shop.example';

/** The store's side of signing a customer in, written here from the README's recipe (not the product's helper). */
const sign = (secret: string, userId: string) =>
  `${userId}.${createHmac('sha256', secret).update(userId).digest('hex')}`;

for (const dialect of DIALECTS) {
  describe(`storefront (publishable key) over the API on ${dialect.name}`, { skip: dialect.skip }, () => {
    let t: TestDb;
    let app: ApiApp;
    let write = '';
    let pub = '';
    let secret = '';
    let otherSecret = '';
    const ids: Record<string, number> = {};
    const call = (
      method: 'GET' | 'POST' | 'OPTIONS',
      url: string,
      key: string | undefined,
      { payload, headers = {} }: { payload?: unknown; headers?: Record<string, string> } = {},
    ) =>
      app.inject({
        method,
        url: `/api/v1${url}`,
        headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers },
        payload: payload as object,
      });

    before(async () => {
      t = await freshDatabase(dialect.name);
      write = (await createApiKey(t.store.db, { scope: 'write', name: 'server', now: NOW })).key;
      const created = await createApiKey(t.store.db, { scope: 'publishable', origins: [SHOP], now: NOW });
      pub = created.key;
      secret = created.memberSecret!;
      otherSecret = (await createApiKey(t.store.db, { scope: 'publishable', origins: ['https://b.example'], now: NOW }))
        .memberSecret!;
      app = await buildApp({ store: t.store, now: () => NOW, rateLimit: false });
      for (const user of ['alice', 'bob']) {
        const r = await call('POST', '/identify', write, {
          payload: { userId: user, traits: { email: `${user}@example.com` }, timestamp: new Date(NOW).toISOString() },
        });
        assert.equal(r.statusCode, 200, r.body);
        const row = await t.store.db
          .selectFrom('customers')
          .select('id')
          .where('email', '=', `${user}@example.com`)
          .executeTakeFirstOrThrow();
        ids[user] = Number(row.id);
      }
      const program = await saveProgram(t.store.db, testProgramConfig(), { now: NOW - 1000 });
      // Enrolment credits the signup action: 50 points each (testProgramConfig).
      for (const user of ['alice', 'bob']) {
        assert.ok((await enrolMember(t.store.db, program, { customerId: ids[user]!, now: NOW - 500 })).ok);
      }
    });
    after(async () => {
      await app?.close();
      await t?.drop();
    });

    test('keys: a publishable key needs origins given as origins; server keys take none', async () => {
      await assert.rejects(createApiKey(t.store.db, { scope: 'publishable', now: NOW }), /origins/);
      await assert.rejects(
        createApiKey(t.store.db, { scope: 'publishable', origins: ['https://shop.example/cart'], now: NOW }),
        /not an origin/,
      );
      await assert.rejects(createApiKey(t.store.db, { scope: 'read', origins: [SHOP], now: NOW }), /only publishable/);
      const listed = await call('GET', '/keys', pub);
      assert.equal(listed.statusCode, 403);
    });

    test('a publishable key cannot write orders nor read customers, the program or members', async () => {
      const order = await call('POST', '/orders', pub, {
        payload: {
          externalId: 'x1',
          email: 'x@example.com',
          placedAt: '2026-03-01T10:00:00Z',
          currency: 'GBP',
          lines: [],
        },
      });
      assert.equal(order.statusCode, 403, order.body);
      for (const url of [`/customers/${ids.bob}`, '/customers', `/loyalty/members/${ids.bob}`, '/loyalty', '/stats']) {
        assert.equal((await call('GET', url, pub)).statusCode, 403, url);
      }
      const redeem = await call('POST', `/loyalty/members/${ids.bob}/redeem`, pub, { payload: { reward: 'ship' } });
      assert.equal(redeem.statusCode, 403);
    });

    test('events: anonymous calls pass; a customer only when the store signed them in', async () => {
      const anon = await call('POST', '/track', pub, {
        payload: { anonymousId: 'anon-1', event: 'Product Viewed', properties: { sku: 'A' } },
      });
      assert.equal(anon.statusCode, 200, anon.body);
      const asBob = await call('POST', '/track', pub, { payload: { userId: 'bob', event: 'Product Viewed' } });
      assert.equal(asBob.statusCode, 403);
      assert.equal(asBob.json().error.field, 'userId');
      const aliceAsBob = await call('POST', '/track', pub, {
        payload: { userId: 'bob', event: 'Product Viewed' },
        headers: { 'x-comeback-member': sign(secret, 'alice') },
      });
      assert.equal(aliceAsBob.statusCode, 403);
      const traits = await call('POST', '/identify', pub, {
        payload: { anonymousId: 'anon-1', traits: { email: 'bob@example.com' } },
      });
      assert.equal(traits.statusCode, 403);
      assert.equal(traits.json().error.field, 'traits');
      const batch = await call('POST', '/batch', pub, {
        payload: {
          batch: [
            { type: 'track', anonymousId: 'anon-1', event: 'A' },
            { type: 'track', userId: 'bob', event: 'B' },
          ],
        },
      });
      assert.equal(batch.statusCode, 403);
      assert.equal(batch.json().error.field, 'batch[1].userId');
      const identify = await call('POST', '/identify', pub, {
        payload: { userId: 'alice', anonymousId: 'anon-1' },
        headers: { 'x-comeback-member': sign(secret, 'alice') },
      });
      assert.equal(identify.statusCode, 200, identify.body);
      const events = await t.store.db
        .selectFrom('events')
        .select(['event', 'customer_id'])
        .where('anonymous_id', '=', 'anon-1')
        .orderBy('id')
        .execute();
      assert.deepEqual(
        events.map((e) => [e.event, Number(e.customer_id)]),
        [
          ['Product Viewed', ids.alice],
          [null, ids.alice],
        ],
        "the anonymous browsing lands on alice after identify, nothing on bob's timeline",
      );
      const bobEvents = await t.store.db
        .selectFrom('events')
        .select('id')
        .where('customer_id', '=', ids.bob!)
        .where('type', '=', 'track')
        .execute();
      assert.equal(bobEvents.length, 0);
    });

    test('/storefront/me answers the signed-in member only; forged or foreign signatures are refused', async () => {
      const none = await call('GET', '/storefront/me', pub);
      assert.equal(none.statusCode, 401);
      const forged = await call('GET', '/storefront/me', pub, {
        headers: { 'x-comeback-member': `bob.${sign(secret, 'alice').split('.')[1]}` },
      });
      assert.equal(forged.statusCode, 401);
      assert.equal(forged.json().error.field, 'x-comeback-member');
      const foreign = await call('GET', '/storefront/me', pub, {
        headers: { 'x-comeback-member': sign(otherSecret, 'bob') },
      });
      assert.equal(foreign.statusCode, 401, 'another key’s secret signs nothing for this key');
      const me = await call('GET', '/storefront/me', pub, { headers: { 'x-comeback-member': sign(secret, 'alice') } });
      assert.equal(me.statusCode, 200, me.body);
      const body = me.json();
      assert.equal(body.member.available, 50, 'the signup credit');
      assert.equal(body.member.tier.key, 'blue');
      assert.deepEqual(body.member.nextTier, {
        key: 'gold',
        name: 'Gold',
        threshold: 500,
        basis: 'points_earned',
        qualifying: 50,
        windowDays: 365,
      });
      // Rewards by hand: ship (60) is 10 short, vip needs gold.
      const ship = body.member.rewards.find((r: { key: string }) => r.key === 'ship');
      assert.deepEqual([ship.redeemable, ship.short], [false, 10]);
      assert.equal(body.member.rewards.find((r: { key: string }) => r.key === 'vip').tierTooLow, true);
      assert.deepEqual(
        body.waysToEarn.map((w: { action: string; points: number }) => `${w.action}:${w.points}`),
        ['order:1', 'signup:50', 'birthday:100', 'review:20', 'share:5', 'custom:contest:30', 'referral:300'],
      );
      // A custom action shows the name the program gives it, when it gives one.
      assert.equal(body.waysToEarn.find((w: { action: string }) => w.action === 'custom:contest').name, undefined);
      const named = testProgramConfig({
        actions: { custom: { contest: { points: 30, name: 'Summer photo contest' } } },
      });
      assert.deepEqual(
        waysToEarn(named).find((w) => w.action === 'custom:contest'),
        { action: 'custom:contest', points: 30, per: 'action', name: 'Summer photo contest' },
      );
      assert.match(body.member.referralCode, /\S/);
    });

    test('redeeming through the storefront debits exactly the cost once per idempotency key', async () => {
      const member = { 'x-comeback-member': sign(secret, 'alice') };
      const short = await call('POST', '/storefront/me/redeem', pub, { payload: { reward: 'ship' }, headers: member });
      assert.equal(short.statusCode, 422, short.body);
      // 10 more points (contest is 30): 50 + 30 = 80 ≥ 60.
      const earn = await call('POST', `/loyalty/members/${ids.alice}/earn`, write, {
        payload: { action: 'custom:contest' },
      });
      assert.equal(earn.statusCode, 200, earn.body);
      for (let i = 0; i < 2; i++) {
        const r = await call('POST', '/storefront/me/redeem', pub, {
          payload: { reward: 'ship', idempotencyKey: 'click-1' },
          headers: member,
        });
        assert.equal(r.statusCode, 200, r.body);
        assert.equal(r.json().balance, 20);
        assert.equal(r.json().created, i === 0);
      }
      const ledger = await t.store.db
        .withTables<{ loyalty_ledger: { customer_id: number; amount: number; kind: string } }>()
        .selectFrom('loyalty_ledger')
        .select(['amount', 'kind'])
        .where('customer_id', '=', ids.alice!)
        .where('kind', '=', 'redeem')
        .execute();
      assert.deepEqual(
        ledger.map((l) => Number(l.amount)),
        [-60],
      );
    });

    test('CORS: preflights from the key’s origin are allowed on storefront routes only', async () => {
      const preflight = (url: string, origin: string) =>
        call('OPTIONS', url, undefined, {
          headers: {
            origin,
            'access-control-request-method': 'POST',
            'access-control-request-headers': 'authorization,content-type,x-comeback-member',
          },
        });
      const ok = await preflight('/track', SHOP);
      assert.equal(ok.statusCode, 204);
      assert.equal(ok.headers['access-control-allow-origin'], SHOP);
      assert.match(String(ok.headers['access-control-allow-headers']), /x-comeback-member/);
      assert.equal(ok.headers['access-control-allow-credentials'], undefined);
      assert.equal((await preflight('/storefront/me', SHOP)).headers['access-control-allow-origin'], SHOP);
      assert.equal(
        (await preflight('/track', 'https://evil.example')).headers['access-control-allow-origin'],
        undefined,
      );
      assert.equal((await preflight('/customers', SHOP)).headers['access-control-allow-origin'], undefined);
      assert.equal((await preflight('/orders', SHOP)).headers['access-control-allow-origin'], undefined);
      // Another key's origin is allowed by CORS, but this key refuses to work from it.
      const elsewhere = await call('POST', '/track', pub, {
        payload: { anonymousId: 'anon-2', event: 'Page' },
        headers: { origin: 'https://b.example' },
      });
      assert.equal(elsewhere.statusCode, 403);
      assert.equal(elsewhere.json().error.field, 'origin');
      const home = await call('POST', '/track', pub, {
        payload: { anonymousId: 'anon-2', event: 'Page' },
        headers: { origin: SHOP },
      });
      assert.equal(home.statusCode, 200);
      assert.equal(home.headers['access-control-allow-origin'], SHOP);
    });

    test('e-mail capture asks for a confirmation: no consent, no Signed Up, no welcome until the address confirms (test/storefront-opt-in.test.ts)', async () => {
      const { flow } = await saveFlow(
        t.store.db,
        {
          key: 'welcome-signup',
          name: 'Welcome after signing up',
          trigger: { type: 'event', events: ['Signed Up'] },
          exitWhen: [{ type: 'unsubscribed' }],
          holdoutShare: 0,
          attributionDays: 5,
          reentry: { type: 'never' },
          steps: [{ id: 'welcome', type: 'send', channels: ['email'], template: 'welcome', purpose: 'marketing' }],
        },
        NOW - 10,
      );
      await setFlowEnabled(t.store.db, flow.key, true, NOW - 10);
      const bad = await call('POST', '/storefront/subscribe', pub, { payload: { email: 'nope', consent: true } });
      assert.equal(bad.statusCode, 400);
      assert.equal(bad.json().error.field, 'email');
      const noConsent = await call('POST', '/storefront/subscribe', pub, {
        payload: { email: 'new@example.com', consent: false },
      });
      assert.equal(noConsent.statusCode, 400);
      const r = await call('POST', '/storefront/subscribe', pub, {
        payload: {
          email: ' New@Example.com ',
          consent: true,
          anonymousId: 'anon-3',
          locale: 'ko',
          messageId: 'form-1',
        },
      });
      assert.equal(r.statusCode, 200, r.body);
      assert.deepEqual(r.json(), { subscribed: false, pending: true, duplicate: false });
      const again = await call('POST', '/storefront/subscribe', pub, {
        payload: { email: 'new@example.com', consent: true, anonymousId: 'anon-3', messageId: 'form-1' },
      });
      // The replay meets an address that was asked a minute ago: no second e-mail, answered as any address is.
      assert.deepEqual(again.json(), { subscribed: false, pending: true, duplicate: false });
      const customer = await t.store.db
        .selectFrom('customers')
        .select('id')
        .where('email', '=', 'new@example.com')
        .executeTakeFirstOrThrow();
      const consent = await t.store.db
        .selectFrom('customer_consents')
        .select(['channel', 'granted', 'source'])
        .where('customer_id', '=', customer.id)
        .execute();
      assert.deepEqual(consent, [], 'nothing granted before the address confirms');
      const signedUp = await t.store.db
        .selectFrom('events')
        .select('event')
        .where('customer_id', '=', customer.id)
        .where('type', '=', 'track')
        .execute();
      assert.deepEqual(signedUp, [], 'no Signed Up before the address confirms');
      // Someone else's address does not pull this visit onto that customer.
      await call('POST', '/track', pub, { payload: { anonymousId: 'anon-9', event: 'Product Viewed' } });
      const bob = await call('POST', '/storefront/subscribe', pub, {
        payload: { email: 'bob@example.com', consent: true, anonymousId: 'anon-9' },
      });
      assert.equal(bob.statusCode, 200, bob.body);
      const anon9 = await t.store.db
        .selectFrom('events')
        .select('customer_id')
        .where('anonymous_id', '=', 'anon-9')
        .execute();
      assert.deepEqual(
        anon9.map((e) => e.customer_id),
        [null],
        'nothing of the visit is stored for bob’s address, and the page view stays the visitor’s',
      );
      const enrolled = await enrolNewEntrants(t.store.db, NOW + 1000);
      assert.equal(enrolled.entered, 0, 'nobody signed up yet: both addresses have a confirmation e-mail to answer');
      const journey = await t.store.db
        .withTables<{ journeys: { customer_id: number; flow_id: number } }>()
        .selectFrom('journeys')
        .select('customer_id')
        .where('flow_id', '=', flow.id)
        .execute();
      assert.deepEqual(journey, []);
      const mails = await t.store.db
        .withTables<{ outbox: { to_address: string | null; purpose: string; reason: string | null } }>()
        .selectFrom('outbox')
        .select(['to_address', 'purpose', 'reason'])
        .orderBy('to_address')
        .execute();
      assert.deepEqual(mails, [
        { to_address: 'bob@example.com', purpose: 'transactional', reason: 'opt_in_confirm' },
        { to_address: 'new@example.com', purpose: 'transactional', reason: 'opt_in_confirm' },
      ]);
    });

    test('offers: which of the offer’s segments describe the visitor', async () => {
      await t.store.db
        .withTables<{
          customer_segments: { customer_id: number; kind: string; value: string; since: number; reason: string };
        }>()
        .insertInto('customer_segments')
        .values({ customer_id: ids.alice!, kind: 'lifecycle', value: 'at_risk', since: NOW, reason: 'test' })
        .execute();
      const ask = (segments: string, member?: string) =>
        call('GET', `/storefront/offer?segments=${encodeURIComponent(segments)}`, pub, {
          headers: member ? { 'x-comeback-member': sign(secret, member) } : {},
        });
      assert.deepEqual((await ask('lifecycle:at_risk', 'alice')).json(), {
        eligible: true,
        matched: ['lifecycle:at_risk'],
      });
      assert.deepEqual((await ask('lifecycle:at_risk', 'bob')).json(), { eligible: false, matched: [] });
      assert.deepEqual((await ask('lifecycle:at_risk,visitor')).json(), { eligible: true, matched: ['visitor'] });
      assert.deepEqual((await ask('member,visitor', 'bob')).json(), { eligible: true, matched: ['member'] });
    });

    test('recommendations: bought-together needs a known product; before a build the block is empty and says why', async () => {
      const missing = await call('GET', '/storefront/recommendations?block=bought-together', pub);
      assert.equal(missing.statusCode, 400);
      assert.equal(missing.json().error.field, 'product');
      const forYou = await call('GET', '/storefront/recommendations?block=for-you', pub);
      assert.equal(forYou.statusCode, 200, forYou.body);
      assert.deepEqual(forYou.json().items, []);
      assert.match(forYou.json().note, /recommend --build/);
      assert.equal(forYou.json().method, 'popular');
    });

    test('recommendations and reviews answer an unknown SKU alike: 404 naming product', async () => {
      for (const url of [
        '/storefront/recommendations?block=bought-together&product=NOPE',
        '/storefront/reviews?product=NOPE',
      ]) {
        const r = await call('GET', url, pub);
        assert.equal(r.statusCode, 404, r.body);
        assert.equal(r.json().error.field, 'product', url);
        assert.equal(r.json().error.message, 'product: no product with SKU NOPE', url);
      }
    });

    test('reviews: empty without reviews, then the average and the newest three', async () => {
      const product = {
        id: await addProduct(t.store.db, { sku: 'MUG-1', title: 'Mug', priceMinor: 1250, currency: 'GBP', at: NOW }),
      };
      const unknown = await call('GET', '/storefront/reviews?product=NOPE', pub);
      assert.equal(unknown.statusCode, 404);
      assert.equal(unknown.json().error.field, 'product');
      const before = await call('GET', '/storefront/reviews?product=MUG-1', pub);
      assert.equal(before.statusCode, 200, before.body);
      assert.deepEqual(before.json(), { count: 0, average: null, latest: [] });
      // Four reviews in the feedback module's table (one per customer, product and order).
      const reviews = t.store.db.withTables<{
        product_reviews: {
          customer_id: number;
          product_id: number;
          order_id: number;
          rating: number;
          body: string;
          created_at: number;
        };
      }>();
      const rows: Array<[string, number, number, string, number]> = [
        ['alice', 1, 5, 'Lovely', 1],
        ['alice', 2, 4, 'Good', 4],
        ['bob', 3, 4, 'Fine <b>mug</b>', 3],
        ['bob', 4, 2, 'Chipped', 2],
      ];
      for (const [user, order, rating, body, n] of rows) {
        await reviews
          .insertInto('product_reviews')
          .values({
            customer_id: ids[user]!,
            product_id: Number(product.id),
            order_id: order,
            rating,
            body,
            created_at: NOW + n,
          })
          .execute();
      }
      const after = await call('GET', '/storefront/reviews?product=MUG-1', pub);
      // (5 + 4 + 4 + 2) / 4 = 3.75 → 3.8; the newest three, newest first; text as stored (escaped on the page).
      assert.deepEqual(after.json(), {
        count: 4,
        average: 3.8,
        latest: [
          { rating: 4, text: 'Good', at: NOW + 4 },
          { rating: 4, text: 'Fine <b>mug</b>', at: NOW + 3 },
          { rating: 2, text: 'Chipped', at: NOW + 2 },
        ],
      });
    });

    test('rate limit: per publishable key and address', async () => {
      const limited = await buildApp({ store: t.store, now: () => NOW, rateLimit: { max: 3, timeWindowMs: 60_000 } });
      try {
        const hit = (remoteAddress: string) =>
          limited.inject({
            method: 'POST',
            url: '/api/v1/page',
            remoteAddress,
            headers: { authorization: `Bearer ${pub}` },
            payload: { anonymousId: `v-${remoteAddress}` },
          });
        const codes: number[] = [];
        for (let i = 0; i < 4; i++) codes.push((await hit('10.0.0.1')).statusCode);
        assert.deepEqual(codes, [200, 200, 200, 429]);
        assert.equal((await hit('10.0.0.2')).statusCode, 200, 'another address has its own allowance');
      } finally {
        await limited.close();
      }
    });
  });

  describe(`storefront redemption on a store whose data ends long ago, on ${dialect.name}`, {
    skip: dialect.skip,
  }, () => {
    test("a shopper's redemption is dated at the request, as survey and review points are; an operator's default-dated write is still refused", async () => {
      const t = await freshDatabase(dialect.name);
      const app = await buildApp({ store: t.store, now: () => NOW, rateLimit: false });
      try {
        const db = t.store.db;
        const write = (await createApiKey(db, { scope: 'write', name: 'server', now: NOW })).key;
        const created = await createApiKey(db, { scope: 'publishable', origins: [SHOP], now: NOW });
        const inject = (method: 'POST', url: string, key: string, payload: object, headers = {}) =>
          app.inject({
            method,
            url: `/api/v1${url}`,
            headers: { authorization: `Bearer ${key}`, ...headers },
            payload,
          });
        const identified = await inject('POST', '/identify', write, {
          userId: 'carol',
          traits: { email: 'carol@example.com' },
          timestamp: new Date(NOW).toISOString(),
        });
        assert.equal(identified.statusCode, 200, identified.body);
        const carol = Number(
          (
            await db
              .selectFrom('customers')
              .select('id')
              .where('email', '=', 'carol@example.com')
              .executeTakeFirstOrThrow()
          ).id,
        );
        // The store's data ends on 2011-12-09, as the demo's does: 14 years before the request.
        await addOrder(db, { customerId: carol, placedAt: Date.UTC(2011, 11, 9, 12), subtotalMinor: 500 });
        const program = await saveProgram(db, testProgramConfig(), { now: NOW - 1000 });
        // Enrolled with the store's data, so her ledger ends there too.
        assert.ok((await enrolMember(db, program, { customerId: carol, now: Date.UTC(2011, 11, 9, 13) })).ok);
        // The operator's redemption without a date is refused: its date would be a default.
        const operator = await inject('POST', `/loyalty/members/${carol}/redeem`, write, { reward: 'ship' });
        assert.equal(operator.statusCode, 409, operator.body);
        assert.match(operator.json().error.message, /data ends on 2011-12-09/);
        const contest = await earnForAction(db, program, {
          customerId: carol,
          action: 'custom:contest',
          now: NOW - 400,
        });
        assert.ok(contest.ok);
        // The shopper's is not: 50 + 30 − 60 = 20, the debit dated at the request.
        const shopper = await inject(
          'POST',
          '/storefront/me/redeem',
          created.key,
          { reward: 'ship', idempotencyKey: 'k1' },
          { 'x-comeback-member': sign(created.memberSecret!, 'carol') },
        );
        assert.equal(shopper.statusCode, 200, shopper.body);
        assert.equal(shopper.json().balance, 20);
        const debit = await db
          .withTables<{ loyalty_ledger: { customer_id: number; kind: string; amount: number; occurred_at: number } }>()
          .selectFrom('loyalty_ledger')
          .select(['amount', 'occurred_at'])
          .where('customer_id', '=', carol)
          .where('kind', '=', 'redeem')
          .execute();
        assert.deepEqual(
          debit.map((d) => [Number(d.amount), Number(d.occurred_at)]),
          [[-60, NOW]],
        );
      } finally {
        await app.close();
        await t.drop();
      }
    });
  });
}
