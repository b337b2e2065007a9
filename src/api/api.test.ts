import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { DIALECTS, freshDatabase, type TestDb } from '../../test/setup.js';
import { parseRule, saveSegment, segmentMemberIds } from '../segments/index.js';
import { countRows } from '../store/index.js';
import type { ApiApp } from './app.types.js';
import { buildApp } from './build-app.js';
import { createApiKey, upsertAdminUser } from './keys.queries.js';

const NOW = Date.UTC(2026, 0, 15, 12);
const SECRET = 'shpss_test_secret';

const order = (externalId: string, totalMinor = 2500) => ({
  externalId,
  placedAt: '2026-01-10T10:00:00+01:00',
  currency: 'eur',
  status: 'paid',
  totalMinor,
  customer: { externalId: 'c-1', email: 'Ada@Example.com', firstName: 'Ada', acceptsEmailMarketing: true },
  lines: [
    { sku: 'TEA-1', title: 'Tea', quantity: 2, unitPriceMinor: 1000 },
    { sku: 'CUP-1', title: 'Cup', quantity: 1, unitPriceMinor: 500 },
  ],
});

const shopifyOrder = {
  id: 5551234,
  name: '#1001',
  email: 'grace@example.com',
  created_at: '2026-01-12T09:30:00-05:00',
  currency: 'USD',
  subtotal_price: '90.00',
  total_price: '99.50',
  total_tax: '4.50',
  total_discounts: '10.00',
  total_shipping_price_set: { shop_money: { amount: '5.00', currency_code: 'USD' } },
  financial_status: 'paid',
  cancelled_at: null,
  discount_codes: [{ code: 'WELCOME10' }],
  customer: { id: 777, email: 'grace@example.com', first_name: 'Grace', last_name: 'Hopper', accepts_marketing: true },
  billing_address: { city: 'Arlington', country_code: 'US' },
  line_items: [{ sku: 'BOOK-1', title: 'COBOL', quantity: 2, price: '50.00', total_discount: '10.00' }],
};

for (const dialect of DIALECTS) {
  describe(`HTTP API on ${dialect.name}`, { skip: dialect.skip }, () => {
    let t: TestDb;
    let app: ApiApp;
    const keys: Record<'read' | 'write' | 'admin', string> = { read: '', write: '', admin: '' };
    const auth = (scope: 'read' | 'write' | 'admin') => ({ authorization: `Bearer ${keys[scope]}` });
    const shopify = (topic: string, body: unknown, webhookId: string, secret = SECRET) => {
      const payload = JSON.stringify(body);
      return app.inject({
        method: 'POST',
        url: '/api/v1/webhooks/shopify',
        headers: {
          'content-type': 'application/json',
          'x-shopify-topic': topic,
          'x-shopify-webhook-id': webhookId,
          'x-shopify-hmac-sha256': createHmac('sha256', secret).update(payload).digest('base64'),
        },
        payload,
      });
    };

    before(async () => {
      t = await freshDatabase(dialect.name);
      for (const scope of ['read', 'write', 'admin'] as const) {
        keys[scope] = (await createApiKey(t.store.db, { scope, name: `test ${scope}`, now: NOW })).key;
      }
      app = await buildApp({ store: t.store, now: () => NOW, shopifySecret: SECRET, rateLimit: false });
    });
    after(async () => {
      await app?.close();
      await t?.drop();
    });

    test('health is public; everything else needs a key of the right scope', async () => {
      assert.equal((await app.inject({ url: '/api/v1/health' })).statusCode, 200);
      const none = await app.inject({ url: '/api/v1/stats' });
      assert.equal(none.statusCode, 401);
      assert.equal(none.json().error.code, 'unauthorized');
      const wrong = await app.inject({ url: '/api/v1/stats', headers: { authorization: 'Bearer cb_read_nope' } });
      assert.equal(wrong.statusCode, 401);
      // Percent-encoding routes to the same handler; it must not slip past authentication.
      assert.equal((await app.inject({ url: '/%61pi/v1/stats' })).statusCode, 401);
      const stats = await app.inject({ url: '/api/v1/stats', headers: auth('read') });
      assert.equal(stats.statusCode, 200);
      assert.equal(stats.json().customers, 0);
      const readWrites = await app.inject({
        method: 'POST',
        url: '/api/v1/orders',
        headers: auth('read'),
        payload: order('x'),
      });
      assert.equal(readWrites.statusCode, 403);
      assert.equal(readWrites.json().error.code, 'forbidden');
      const writeAdmins = await app.inject({ url: '/api/v1/keys', headers: auth('write') });
      assert.equal(writeAdmins.statusCode, 403);
      // Segment's style: the write key as the basic-auth user name.
      const basic = `Basic ${Buffer.from(`${keys.write}:`).toString('base64')}`;
      const track = await app.inject({
        method: 'POST',
        url: '/api/v1/track',
        headers: { authorization: basic },
        payload: { messageId: 'basic-1', anonymousId: 'a', event: 'Viewed' },
      });
      assert.equal(track.statusCode, 200);
      assert.equal((await app.inject({ url: '/api/v1/nothing-here' })).statusCode, 404);
      const unknown = await app.inject({ url: '/api/v1/nothing-here', headers: auth('read') });
      assert.equal(unknown.statusCode, 404);
      assert.equal(unknown.json().error.code, 'not_found');
    });

    test('an admin key creates and revokes keys; a revoked key is refused', async () => {
      const created = await app.inject({
        method: 'POST',
        url: '/api/v1/keys',
        headers: auth('admin'),
        payload: { scope: 'read', name: 'dashboard' },
      });
      assert.equal(created.statusCode, 201);
      const { key, apiKey } = created.json();
      assert.match(key, /^cb_read_[\w-]{43}$/);
      assert.equal(
        (await app.inject({ url: '/api/v1/stats', headers: { authorization: `Bearer ${key}` } })).statusCode,
        200,
      );
      const listed = await app.inject({ url: '/api/v1/keys', headers: auth('admin') });
      assert.ok(
        listed.json().keys.some((k: { id: number; prefix: string }) => k.id === apiKey.id && key.startsWith(k.prefix)),
      );
      assert.ok(!listed.body.includes(key), 'a key is shown only once');
      const revoked = await app.inject({ method: 'DELETE', url: `/api/v1/keys/${apiKey.id}`, headers: auth('admin') });
      assert.equal(revoked.json().revokedAt, NOW);
      assert.equal(
        (await app.inject({ url: '/api/v1/stats', headers: { authorization: `Bearer ${key}` } })).statusCode,
        401,
      );
    });

    test('bodies and queries are validated at the edge, naming the field', async () => {
      const { totalMinor: _omit, ...noTotal } = order('bad-1');
      const missing = await app.inject({
        method: 'POST',
        url: '/api/v1/orders',
        headers: auth('write'),
        payload: noTotal,
      });
      assert.equal(missing.statusCode, 400);
      assert.deepEqual([missing.json().error.code, missing.json().error.field], ['bad_input', 'totalMinor']);
      const badLine = await app.inject({
        method: 'POST',
        url: '/api/v1/orders',
        headers: auth('write'),
        payload: { ...order('bad-2'), lines: [{ sku: 'X', quantity: 'two', unitPriceMinor: 1 }] },
      });
      assert.equal(badLine.json().error.field, 'lines[0].quantity');
      const badDate = await app.inject({
        method: 'POST',
        url: '/api/v1/orders',
        headers: auth('write'),
        payload: { ...order('bad-3'), placedAt: 'last tuesday' },
      });
      assert.deepEqual([badDate.statusCode, badDate.json().error.field], [400, 'placedAt']);
      const badQuery = await app.inject({ url: '/api/v1/customers?limit=0', headers: auth('read') });
      assert.deepEqual([badQuery.statusCode, badQuery.json().error.field], [400, 'limit']);
      const badCall = await app.inject({
        method: 'POST',
        url: '/api/v1/batch',
        headers: auth('write'),
        payload: {
          batch: [
            { type: 'track', anonymousId: 'a', event: 7 },
            { type: 'alias', anonymousId: 'a' },
          ],
        },
      });
      // No call of the batch can be stored: 400 naming the first bad call's field.
      assert.equal(badCall.statusCode, 400);
      assert.equal(badCall.json().error.field, 'batch[0].event');
      const badJson = await app.inject({
        method: 'POST',
        url: '/api/v1/track',
        headers: { ...auth('write'), 'content-type': 'application/json' },
        payload: '{"event":',
      });
      assert.deepEqual([badJson.statusCode, badJson.json().error.code], [400, 'bad_input']);
      assert.equal(await countRows(t.store.db, 'orders'), 0);
    });

    test('orders are idempotent by external id: posting twice stores one order', async () => {
      const first = await app.inject({
        method: 'POST',
        url: '/api/v1/orders',
        headers: auth('write'),
        payload: order('A-100'),
      });
      assert.equal(first.statusCode, 201);
      assert.equal(first.json().created, true);
      const again = await app.inject({
        method: 'POST',
        url: '/api/v1/orders',
        headers: auth('write'),
        payload: order('A-100'),
      });
      assert.equal(again.statusCode, 200);
      assert.deepEqual(again.json(), { ...first.json(), created: false });
      const fewerLines = {
        ...order('A-100', 2000),
        lines: [{ sku: 'TEA-1', title: 'Tea', quantity: 2, unitPriceMinor: 1000 }],
      };
      await app.inject({ method: 'POST', url: '/api/v1/orders', headers: auth('write'), payload: fewerLines });
      const rows = await t.store.db.selectFrom('orders').selectAll().where('source', '=', 'api').execute();
      assert.equal(rows.length, 1);
      assert.deepEqual([rows[0]!.total_minor, rows[0]!.currency, rows[0]!.placed_date], [2000, 'EUR', '2026-01-10']);
      assert.equal(await countRows(t.store.db, 'order_lines'), 1);

      const search = await app.inject({ url: '/api/v1/customers?q=ada', headers: auth('read') });
      assert.equal(search.json().total, 1);
      const customer = search.json().customers[0];
      assert.deepEqual([customer.email, customer.orders], ['ada@example.com', 1]);
      assert.equal((await app.inject({ url: '/api/v1/customers?q=c-1', headers: auth('read') })).json().total, 1);
      const wild = await app.inject({
        url: `/api/v1/customers?q=${encodeURIComponent("a%_\\'")}`,
        headers: auth('read'),
      });
      assert.deepEqual([wild.statusCode, wild.json().total], [200, 0]);
      const profile = await app.inject({ url: `/api/v1/customers/${customer.id}`, headers: auth('read') });
      assert.equal(profile.statusCode, 200);
      const body = profile.json();
      assert.deepEqual(body.identities, [{ source: 'api', externalId: 'c-1' }]);
      assert.deepEqual(body.revenue, [{ currency: 'EUR', orders: 1, revenueMinor: 2000, revenue: 20 }]);
      assert.equal(body.orders[0].lines.length, 1);
      assert.deepEqual(
        body.consents.map((c: { channel: string; granted: boolean }) => [c.channel, c.granted]),
        [['email', true]],
      );
      const missing = await app.inject({ url: '/api/v1/customers/999999', headers: auth('read') });
      assert.deepEqual([missing.statusCode, missing.json().error.code], [404, 'not_found']);
    });

    test('events are deduplicated by messageId; a batch takes 500 calls and refuses 501', async () => {
      const call = { messageId: 'ev-1', anonymousId: 'anon-1', event: 'Product Viewed', properties: { sku: 'TEA-1' } };
      const first = await app.inject({ method: 'POST', url: '/api/v1/track', headers: auth('write'), payload: call });
      assert.deepEqual(first.json(), { success: true, received: 1, inserted: 1, duplicates: 0 });
      const again = await app.inject({ method: 'POST', url: '/api/v1/track', headers: auth('write'), payload: call });
      assert.deepEqual(again.json(), { success: true, received: 1, inserted: 0, duplicates: 1 });

      const batch = (n: number) =>
        Array.from({ length: n }, (_, i) => ({
          type: 'page',
          messageId: `b-${n}-${i}`,
          anonymousId: `anon-${i % 7}`,
          name: 'Product',
          timestamp: '2026-01-14T10:00:00Z',
        }));
      const ok = await app.inject({
        method: 'POST',
        url: '/api/v1/batch',
        headers: auth('write'),
        payload: { batch: batch(500) },
      });
      assert.equal(ok.statusCode, 200);
      assert.equal(ok.json().inserted, 500);
      const tooMany = await app.inject({
        method: 'POST',
        url: '/api/v1/batch',
        headers: auth('write'),
        payload: { batch: batch(501) },
      });
      assert.equal(tooMany.statusCode, 400);
      assert.equal(tooMany.json().error.field, 'batch');
      const stored = await t.store.db
        .selectFrom('events')
        .select('id')
        .where('message_id', 'like', 'b-501-%')
        .execute();
      assert.equal(stored.length, 0);
    });

    test('identify links an anonymous id, and its earlier events get the customer', async () => {
      await app.inject({
        method: 'POST',
        url: '/api/v1/page',
        headers: auth('write'),
        payload: { messageId: 'pg-1', anonymousId: 'browser-9', name: 'Home', timestamp: '2026-01-14T08:00:00Z' },
      });
      const identify = await app.inject({
        method: 'POST',
        url: '/api/v1/identify',
        headers: auth('write'),
        payload: { messageId: 'id-1', userId: 'c-1', anonymousId: 'browser-9', traits: { lastName: 'Lovelace' } },
      });
      assert.equal(identify.statusCode, 200);
      const customer = await t.store.db
        .selectFrom('customers')
        .selectAll()
        .where('email', '=', 'ada@example.com')
        .executeTakeFirstOrThrow();
      assert.equal(customer.last_name, 'Lovelace');
      const page = await t.store.db
        .selectFrom('events')
        .select('customer_id')
        .where('message_id', '=', 'pg-1')
        .executeTakeFirstOrThrow();
      assert.equal(page.customer_id, customer.id);
    });

    test('Shopify webhooks: a good signature writes, a bad one is refused, a replay writes nothing', async () => {
      const good = await shopify('orders/create', shopifyOrder, 'wh-1');
      assert.equal(good.statusCode, 200);
      assert.deepEqual(good.json(), { ok: true, topic: 'orders/create', duplicate: false, ignored: false });
      const row = await t.store.db
        .selectFrom('orders')
        .selectAll()
        .where('source', '=', 'shopify')
        .where('external_id', '=', '5551234')
        .executeTakeFirstOrThrow();
      assert.deepEqual(
        [row.total_minor, row.shipping_minor, row.discount_minor, row.status, row.placed_date, row.discount_codes],
        [9950, 500, 1000, 'paid', '2026-01-12', '["WELCOME10"]'],
      );

      const before = await countRows(t.store.db, 'orders');
      const forged = await shopify('orders/create', { ...shopifyOrder, id: 666 }, 'wh-2', 'not the secret');
      assert.equal(forged.statusCode, 401);
      const unsigned = await app.inject({
        method: 'POST',
        url: '/api/v1/webhooks/shopify',
        headers: {
          'content-type': 'application/json',
          'x-shopify-topic': 'orders/create',
          'x-shopify-webhook-id': 'wh-3',
        },
        payload: JSON.stringify(shopifyOrder),
      });
      assert.equal(unsigned.statusCode, 401);
      assert.equal(await countRows(t.store.db, 'orders'), before);

      const replay = await shopify('orders/create', { ...shopifyOrder, total_price: '1.00' }, 'wh-1');
      assert.equal(replay.statusCode, 200);
      assert.equal(replay.json().duplicate, true);
      const unchanged = await t.store.db
        .selectFrom('orders')
        .select('total_minor')
        .where('id', '=', row.id)
        .executeTakeFirstOrThrow();
      assert.equal(unchanged.total_minor, 9950);

      const refund = {
        id: 9001,
        order_id: 5551234,
        created_at: '2026-01-13T10:00:00-05:00',
        note: 'damaged',
        refund_line_items: [{ quantity: 1, subtotal: '40.00', total_tax: '2.00' }],
        transactions: [{ kind: 'refund', status: 'success', amount: '42.00', currency: 'USD' }],
      };
      assert.equal((await shopify('refunds/create', refund, 'wh-4')).statusCode, 200);
      // The order update that follows carries the same refund: it is not counted twice.
      const updated = await shopify(
        'orders/updated',
        { ...shopifyOrder, financial_status: 'partially_refunded', refunds: [refund] },
        'wh-5',
      );
      assert.equal(updated.statusCode, 200);
      const refunded = await t.store.db
        .selectFrom('orders')
        .selectAll()
        .where('id', '=', row.id)
        .executeTakeFirstOrThrow();
      assert.deepEqual([refunded.refunded_minor, refunded.status], [4200, 'partially_refunded']);
      assert.equal(await countRows(t.store.db, 'refunds'), 1);

      const customer = await shopify(
        'customers/update',
        {
          id: 777,
          email: 'grace@example.com',
          first_name: 'Grace',
          last_name: 'Brewster Hopper',
          updated_at: '2026-01-14T10:00:00Z',
          email_marketing_consent: { state: 'unsubscribed' },
        },
        'wh-6',
      );
      assert.equal(customer.statusCode, 200);
      const grace = await t.store.db
        .selectFrom('customers')
        .selectAll()
        .where('email', '=', 'grace@example.com')
        .executeTakeFirstOrThrow();
      assert.equal(grace.last_name, 'Brewster Hopper');
      const consent = await t.store.db
        .selectFrom('customer_consents')
        .selectAll()
        .where('customer_id', '=', grace.id)
        .executeTakeFirstOrThrow();
      assert.equal(consent.granted, 0);
      // A payload that cannot be stored is refused without keeping its receipt, so Shopify's retry counts.
      const { total_price: _none, ...noTotal } = { ...shopifyOrder, id: 42 };
      const refused = await shopify('orders/create', noTotal, 'wh-8');
      assert.deepEqual([refused.statusCode, refused.json().error.field], [400, 'total_price']);
      const retried = await shopify('orders/create', { ...shopifyOrder, id: 42 }, 'wh-8');
      assert.deepEqual([retried.statusCode, retried.json().duplicate], [200, false]);
      const ignored = await shopify('collections/create', { id: 1 }, 'wh-7');
      assert.deepEqual([ignored.statusCode, ignored.json().ignored], [200, true]);
    });

    test('an admin signs in with a password and gets a session cookie', async () => {
      await upsertAdminUser(t.store.db, { username: 'owner', password: 'correct horse', now: NOW });
      const wrong = await app.inject({
        method: 'POST',
        url: '/api/v1/session',
        payload: { username: 'owner', password: 'wrong horse' },
      });
      assert.equal(wrong.statusCode, 401);
      const login = await app.inject({
        method: 'POST',
        url: '/api/v1/session',
        payload: { username: 'owner', password: 'correct horse' },
      });
      assert.equal(login.statusCode, 200);
      const setCookie = String(login.headers['set-cookie']);
      assert.match(setCookie, /HttpOnly/);
      assert.match(setCookie, /SameSite=Lax/);
      const cookie = setCookie.split(';')[0]!;
      const who = await app.inject({ url: '/api/v1/session', headers: { cookie } });
      assert.deepEqual(who.json(), { kind: 'session', scope: 'admin', name: 'owner', viaKey: false });
      assert.equal((await app.inject({ url: '/api/v1/keys', headers: { cookie } })).statusCode, 200);
      const tampered = cookie.replace(/.$/, (ch) => (ch === 'A' ? 'B' : 'A'));
      assert.equal((await app.inject({ url: '/api/v1/stats', headers: { cookie: tampered } })).statusCode, 401);
    });

    test('/docs/json is an OpenAPI document listing the routes', async () => {
      const doc = await app.inject({ url: '/docs/json' });
      assert.equal(doc.statusCode, 200);
      const spec = doc.json();
      assert.match(spec.openapi, /^3\./);
      for (const path of [
        '/api/v1/health',
        '/api/v1/orders',
        '/api/v1/batch',
        '/api/v1/customers/{id}',
        '/api/v1/webhooks/shopify',
      ]) {
        assert.ok(spec.paths[path], `${path} is documented`);
      }
      assert.equal((await app.inject({ url: '/docs' })).statusCode < 400, true);
    });
  });

  describe(`rate limits on ${dialect.name}`, { skip: dialect.skip }, () => {
    test('a key gets 429 after its limit; health is not limited', async () => {
      const t = await freshDatabase(dialect.name);
      const app = await buildApp({ store: t.store, now: () => NOW, rateLimit: { max: 3, timeWindowMs: 60_000 } });
      try {
        const { key } = await createApiKey(t.store.db, { scope: 'read', now: NOW });
        const { key: other } = await createApiKey(t.store.db, { scope: 'read', now: NOW });
        const get = (k: string) => app.inject({ url: '/api/v1/stats', headers: { authorization: `Bearer ${k}` } });
        const codes = [];
        for (let i = 0; i < 4; i++) codes.push((await get(key)).statusCode);
        assert.deepEqual(codes, [200, 200, 200, 429]);
        const limited = await get(key);
        assert.equal(limited.json().error.code, 'rate_limited');
        assert.equal((await get(other)).statusCode, 200, 'limits are per key');
        for (let i = 0; i < 5; i++) assert.equal((await app.inject({ url: '/api/v1/health' })).statusCode, 200);
      } finally {
        await app.close();
        await t.drop();
      }
    });
  });
}

for (const dialect of DIALECTS) {
  describe(`segments follow the API's writes on ${dialect.name}`, { skip: dialect.skip }, () => {
    test('saved-segment membership follows orders posted through the API', async () => {
      const t = await freshDatabase(dialect.name);
      const app = await buildApp({ store: t.store, now: () => NOW, rateLimit: false, segmentRefreshDelayMs: 60_000 });
      try {
        const { key } = await createApiKey(t.store.db, { scope: 'write', name: 'shop', now: NOW });
        const rule = parseRule({ orders: 'count', op: 'gte', value: 2 });
        const { segment, size } = await saveSegment(t.store.db, 'two or more orders', rule, { asOf: NOW, now: NOW });
        assert.equal(size, 0);
        for (const id of ['seg-order-1', 'seg-order-2']) {
          const response = await app.inject({
            method: 'POST',
            url: '/api/v1/orders',
            headers: { authorization: `Bearer ${key}` },
            payload: { ...order(id), customer: { externalId: 'seg-1', email: 'seg@example.com' } },
          });
          assert.equal(response.statusCode, 201, response.body);
        }
        assert.deepEqual(await segmentMemberIds(t.store.db, segment.id), [], 'not yet: the refresh is debounced');
        await app.segments.flush();
        assert.equal((await segmentMemberIds(t.store.db, segment.id)).length, 1);
      } finally {
        await app.close();
        await t.drop();
      }
    });
  });
}
