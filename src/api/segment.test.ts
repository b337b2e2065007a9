import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { DIALECTS, freshDatabase, type TestDb } from '../../test/setup.js';
import { computePersonas } from '../segments/personas.js';
import { countRows } from '../store/index.js';
import type { ApiApp } from './app.types.js';
import { buildApp } from './build-app.js';
import { createApiKey } from './keys.queries.js';

const NOW = Date.UTC(2026, 0, 15, 12);
const SECRET = 'shpss_segment';
const HOUR = 3_600_000;

/** Segment's analytics.js sends the device's clock: `timestamp` when the call was made, `sentAt` when sent. */
const iso = (ms: number) => new Date(ms).toISOString();

for (const dialect of DIALECTS) {
  describe(`Segment calls as its SDKs send them, on ${dialect.name}`, { skip: dialect.skip }, () => {
    let t: TestDb;
    let app: ApiApp;
    let key = '';
    const post = (path: string, payload: Record<string, unknown>) =>
      app.inject({ method: 'POST', url: `/api/v1${path}`, headers: { authorization: `Bearer ${key}` }, payload });
    const event = (messageId: string) =>
      t.store.db.selectFrom('events').selectAll().where('message_id', '=', messageId).executeTakeFirst();
    const identity = (source: string, externalId: string) =>
      t.store.db
        .selectFrom('customer_identities')
        .select('customer_id')
        .where('source', '=', source)
        .where('external_id', '=', externalId)
        .executeTakeFirst();

    before(async () => {
      t = await freshDatabase(dialect.name);
      key = (await createApiKey(t.store.db, { scope: 'write', name: 'sdk', now: NOW })).key;
      app = await buildApp({ store: t.store, now: () => NOW, shopifySecret: SECRET, rateLimit: false });
    });
    after(async () => {
      await app?.close();
      await t?.drop();
    });

    test('a device an hour fast is corrected as Segment does: received − (sentAt − timestamp)', async () => {
      // The call was made 5 s before it was sent, by a clock one hour ahead.
      const fast = NOW + HOUR;
      const single = await post('/track', {
        anonymousId: 'dev-1',
        event: 'Product Viewed',
        messageId: 'skew-1',
        timestamp: iso(fast - 5_000),
        sentAt: iso(fast),
      });
      assert.equal(single.statusCode, 200);
      assert.equal((await event('skew-1'))?.occurred_at, NOW - 5_000);
      const batch = await post('/batch', {
        sentAt: iso(fast),
        batch: [
          { type: 'page', anonymousId: 'dev-1', messageId: 'skew-2', timestamp: iso(fast - 60_000), name: 'Home' },
          { type: 'track', anonymousId: 'dev-1', messageId: 'skew-3', timestamp: iso(fast - 1_000), event: 'X' },
        ],
      });
      assert.equal(batch.statusCode, 200);
      assert.equal((await event('skew-2'))?.occurred_at, NOW - 60_000);
      assert.equal((await event('skew-3'))?.occurred_at, NOW - 1_000);
    });

    test('track for a new userId, then identify with a Shopify customer’s e-mail: one customer, events moved', async () => {
      const payload = JSON.stringify({
        id: 9101,
        email: 'grace@example.com',
        first_name: 'Grace',
        created_at: '2026-01-01T10:00:00Z',
        updated_at: '2026-01-01T10:00:00Z',
      });
      const shop = await app.inject({
        method: 'POST',
        url: '/api/v1/webhooks/shopify',
        headers: {
          'content-type': 'application/json',
          'x-shopify-topic': 'customers/create',
          'x-shopify-webhook-id': 'seg-wh-1',
          'x-shopify-hmac-sha256': createHmac('sha256', SECRET).update(payload).digest('base64'),
        },
        payload,
      });
      assert.equal(shop.statusCode, 200);
      const shopper = (await identity('shopify', '9101'))!.customer_id;
      const before = await countRows(t.store.db, 'customers');
      await post('/track', { userId: 'u-grace', event: 'Product Added', messageId: 'g-1' });
      assert.equal(await countRows(t.store.db, 'customers'), before + 1);
      const identified = await post('/identify', {
        userId: 'u-grace',
        messageId: 'g-2',
        traits: { email: 'Grace@Example.com' },
      });
      assert.equal(identified.statusCode, 200);
      assert.equal(await countRows(t.store.db, 'customers'), before);
      assert.equal((await identity('api', 'u-grace'))?.customer_id, shopper);
      assert.equal((await event('g-1'))?.customer_id, shopper);
      assert.equal((await event('g-2'))?.customer_id, shopper);
    });

    test('an identify that gives one customer another customer’s e-mail is a 409, and in a batch a rejected call', async () => {
      await post('/identify', { userId: 'u-a', messageId: 'c-1', traits: { email: 'a@example.com' } });
      await post('/identify', { userId: 'u-b', messageId: 'c-2', traits: { email: 'b@example.com' } });
      const clash = await post('/identify', { userId: 'u-a', messageId: 'c-3', traits: { email: 'b@example.com' } });
      assert.equal(clash.statusCode, 409);
      assert.equal(clash.json().error.field, 'traits.email');
      assert.equal(await event('c-3'), undefined);
      const a = (await identity('api', 'u-a'))!.customer_id;
      const row = await t.store.db
        .selectFrom('customers')
        .select('email')
        .where('id', '=', a)
        .executeTakeFirstOrThrow();
      assert.equal(row.email, 'a@example.com');
      const batch = await post('/batch', {
        batch: [
          { type: 'track', userId: 'u-a', event: 'Viewed', messageId: 'c-4' },
          { type: 'identify', userId: 'u-a', traits: { email: 'b@example.com' }, messageId: 'c-5' },
        ],
      });
      assert.equal(batch.statusCode, 200);
      assert.equal(batch.json().success, false);
      assert.deepEqual(
        batch.json().rejected.map((r: { index: number; code: string; field: string }) => [r.index, r.code, r.field]),
        [[1, 'conflict', 'batch[1].traits.email']],
      );
      assert.ok(await event('c-4'));
      const onlyClash = await post('/batch', {
        batch: [{ type: 'identify', userId: 'u-a', traits: { email: 'b@example.com' }, messageId: 'c-8' }],
      });
      assert.deepEqual([onlyClash.statusCode, onlyClash.json().error.field], [409, 'batch[0].traits.email']);
      // A change to a free address is followed, and the old one still finds the customer.
      await post('/identify', { userId: 'u-a', messageId: 'c-6', traits: { email: 'a2@example.com' } });
      await post('/identify', { anonymousId: 'anon-a', messageId: 'c-7', traits: { email: 'a@example.com' } });
      assert.equal((await event('c-7'))?.customer_id, a);
    });

    test('a batch is answered call by call: valid calls stored, rejected ones listed with index and reason', async () => {
      const answer = await post('/batch', {
        batch: [
          { type: 'track', anonymousId: 'b-1', event: 'Viewed', messageId: 'b-ok-1' },
          { type: 'alias', userId: 'u-x', messageId: 'b-bad-1' },
          { type: 'track', anonymousId: 'b-1', messageId: 'b-bad-2' },
          { type: 'shout', anonymousId: 'b-1', messageId: 'b-bad-3' },
          { type: 'page', anonymousId: 'b-1', name: 'Home', messageId: 'b-ok-2', timestamp: 'yesterday' },
          { type: 'page', anonymousId: 'b-1', name: 'Home', messageId: 'b-ok-3' },
        ],
      });
      assert.equal(answer.statusCode, 200);
      const body = answer.json();
      assert.deepEqual([body.received, body.inserted, body.success], [6, 2, false]);
      assert.deepEqual(
        body.rejected.map((r: { index: number; field: string }) => [r.index, r.field]),
        [
          [1, 'batch[1].previousId'],
          [2, 'batch[2].event'],
          [3, 'batch[3].type'],
          [4, 'batch[4].timestamp'],
        ],
      );
      assert.ok(await event('b-ok-1'));
      assert.ok(await event('b-ok-3'));
      assert.equal(await event('b-bad-1'), undefined);
    });

    test('alias merges the previous id’s customer into the user; group is stored as a trait group', async () => {
      await post('/track', { userId: 'old-login', event: 'Viewed', messageId: 'al-1' });
      await post('/identify', { userId: 'new-login', messageId: 'al-2', traits: { email: 'alias@example.com' } });
      const before = await countRows(t.store.db, 'customers');
      const alias = await post('/alias', { previousId: 'old-login', userId: 'new-login', messageId: 'al-3' });
      assert.equal(alias.statusCode, 200);
      const user = (await identity('api', 'new-login'))!.customer_id;
      assert.equal((await identity('api', 'old-login'))?.customer_id, user);
      assert.equal((await event('al-1'))?.customer_id, user);
      assert.equal(await countRows(t.store.db, 'customers'), before - 1);
      // An alias from an anonymous id links it, and its earlier events follow.
      await post('/page', { anonymousId: 'anon-al', name: 'Home', messageId: 'al-4' });
      await post('/batch', {
        batch: [{ type: 'alias', previousId: 'anon-al', userId: 'new-login', messageId: 'al-5' }],
      });
      assert.equal((await event('al-4'))?.customer_id, user);

      const group = await post('/group', {
        userId: 'new-login',
        groupId: 'acme',
        traits: { name: 'Acme Inc', plan: 'enterprise' },
        messageId: 'gr-1',
      });
      assert.equal(group.statusCode, 200);
      const membership = await t.store.db
        .selectFrom('customer_groups')
        .selectAll()
        .where('customer_id', '=', user)
        .executeTakeFirstOrThrow();
      assert.deepEqual(
        [membership.group_id, JSON.parse(membership.traits)],
        ['acme', { name: 'Acme Inc', plan: 'enterprise' }],
      );
      const missing = await post('/group', { userId: 'new-login', messageId: 'gr-2' });
      assert.deepEqual([missing.statusCode, missing.json().error.field], [400, 'groupId']);
    });

    test('an identify with a national phone keeps the stored E.164 form; with a country it is normalised', async () => {
      await post('/identify', {
        userId: 'u-phone',
        messageId: 'ph-1',
        traits: { email: 'ph@example.com', phone: '(415) 555-0100', address: { country: 'US' } },
      });
      const read = async () =>
        (
          await t.store.db
            .selectFrom('customers')
            .select('phone')
            .where('email', '=', 'ph@example.com')
            .executeTakeFirstOrThrow()
        ).phone;
      assert.equal(await read(), '+14155550100');
      await post('/identify', { userId: 'u-phone', messageId: 'ph-2', traits: { phone: '(415) 555-0100' } });
      assert.equal(await read(), '+14155550100');
    });

    test('Order Completed known only from Segment creates no order, and its buyer is no cart abandoner', async () => {
      await post('/batch', {
        batch: [
          {
            type: 'track',
            userId: 'u-buyer',
            event: 'Product Added',
            messageId: 'oc-1',
            timestamp: iso(NOW - 3 * HOUR),
          },
          {
            type: 'track',
            userId: 'u-buyer',
            event: 'Order Completed',
            messageId: 'oc-2',
            timestamp: iso(NOW - 2 * HOUR),
            properties: { order_id: 'web-77', total: 25, currency: 'USD' },
          },
          {
            type: 'track',
            userId: 'u-cart',
            event: 'Product Added',
            messageId: 'oc-3',
            timestamp: iso(NOW - 3 * HOUR),
          },
        ],
      });
      const orders = await t.store.db.selectFrom('orders').select('id').where('external_id', '=', 'web-77').execute();
      assert.equal(orders.length, 0);
      const buyer = (await identity('api', 'u-buyer'))!.customer_id;
      const cart = (await identity('api', 'u-cart'))!.customer_id;
      const personas = await computePersonas(t.store.db, {
        asOf: NOW,
        cartWindowHours: 1,
        customerIds: [buyer, cart],
      });
      const of = (id: number) => personas.find((p) => p.customerId === id)?.persona;
      assert.equal(of(cart), 'cart_abandoner');
      assert.notEqual(of(buyer), 'cart_abandoner');
    });
  });
}
