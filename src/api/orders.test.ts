import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { DIALECTS, freshDatabase, type TestDb } from '../../test/setup.js';
import { findOrCreateCustomer } from '../ingest/index.js';
import { countRows } from '../store/index.js';
import type { ApiApp } from './app.types.js';
import { buildApp } from './build-app.js';
import { createApiKey } from './keys.queries.js';

const NOW = Date.UTC(2026, 0, 15, 12);
const SECRET = 'shpss_parallel';

const order = (externalId: string, customer: Record<string, unknown>, over: Record<string, unknown> = {}) => ({
  externalId,
  placedAt: '2026-01-10T10:00:00+01:00',
  currency: 'EUR',
  status: 'paid',
  totalMinor: 2500,
  customer,
  lines: [{ sku: 'TEA-1', title: 'Tea', quantity: 1, unitPriceMinor: 2500 }],
  ...over,
});

for (const dialect of DIALECTS) {
  describe(`POST /orders and /track under parallel writers, on ${dialect.name}`, { skip: dialect.skip }, () => {
    let t: TestDb;
    let app: ApiApp;
    let base = '';
    let key = '';
    /** A real request over loopback, so that requests really run side by side. */
    const post = async (path: string, body: unknown) => {
      const response = await fetch(`${base}/api/v1${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };

    before(async () => {
      t = await freshDatabase(dialect.name);
      key = (await createApiKey(t.store.db, { scope: 'write', name: 'load', now: NOW })).key;
      app = await buildApp({
        store: t.store,
        now: () => NOW,
        shopifySecret: SECRET,
        rateLimit: false,
        segmentRefreshDelayMs: 60_000,
      });
      await app.listen({ port: 0, host: '127.0.0.1' });
      base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    });
    after(async () => {
      await app?.close();
      await t?.drop();
    });

    test('20 parallel orders of one new customer (same external id, no e-mail) make one customer', async () => {
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          // Distinct products, so that no product insert happens to serialise the requests.
          post(
            '/orders',
            order(
              `par-${i}`,
              { externalId: 'cust-par' },
              { lines: [{ sku: `PAR-${i}`, quantity: 1, unitPriceMinor: 2500 }] },
            ),
          ),
        ),
      );
      assert.deepEqual(
        answers.map((a) => a.status),
        Array(20).fill(201),
      );
      const identities = await t.store.db
        .selectFrom('customer_identities')
        .select('customer_id')
        .where('source', '=', 'api')
        .where('external_id', '=', 'cust-par')
        .execute();
      assert.equal(identities.length, 1);
      const owners = await t.store.db
        .selectFrom('orders')
        .select('customer_id')
        .distinct()
        .where('external_id', 'like', 'par-%')
        .execute();
      assert.deepEqual(
        owners.map((o) => o.customer_id),
        [identities[0]!.customer_id],
      );
      assert.equal(await countRows(t.store.db, 'customers'), 1);
    });

    test('100 parallel orders under one new e-mail: all succeed, one customer', async () => {
      const before = await countRows(t.store.db, 'customers');
      const answers = await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          post(
            '/orders',
            order(
              `mail-${i}`,
              { email: 'Same@Example.com' },
              { lines: [{ sku: `MAIL-${i}`, quantity: 1, unitPriceMinor: 2500 }] },
            ),
          ),
        ),
      );
      const statuses = new Map<number, number>();
      for (const a of answers) statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
      assert.deepEqual([...statuses], [[201, 100]]);
      assert.equal(await countRows(t.store.db, 'customers'), before + 1);
    });

    test('the same order posted 10 times in parallel is one order, created once', async () => {
      const answers = await Promise.all(
        Array.from({ length: 10 }, () => post('/orders', order('same-order', { externalId: 'cust-same' }))),
      );
      const statuses = answers.map((a) => a.status).sort();
      assert.deepEqual(statuses, [200, 200, 200, 200, 200, 200, 200, 200, 200, 201]);
      const rows = await t.store.db.selectFrom('orders').select('id').where('external_id', '=', 'same-order').execute();
      assert.equal(rows.length, 1);
    });

    test('50 new userIds on /track, each sent three times at once, make 50 customers', async () => {
      const before = await countRows(t.store.db, 'customers');
      const calls = Array.from({ length: 150 }, (_, i) =>
        post('/track', { userId: `load-${Math.floor(i / 3)}`, event: 'Product Viewed', messageId: `load-msg-${i}` }),
      );
      const answers = await Promise.all(calls);
      assert.equal(answers.length, 150);
      assert.ok(answers.every((a) => a.status === 200));
      assert.equal(await countRows(t.store.db, 'customers'), before + 50);
      const identities = await t.store.db
        .selectFrom('customer_identities')
        .select('external_id')
        .where('external_id', 'like', 'load-%')
        .execute();
      assert.equal(identities.length, 50);
    });

    test('Shopify sends customers/create and orders/create at the same moment: one customer each', async () => {
      const before = await countRows(t.store.db, 'customers');
      const hook = async (topic: string, body: unknown, id: string) => {
        const payload = JSON.stringify(body);
        const response = await fetch(`${base}/api/v1/webhooks/shopify`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-shopify-topic': topic,
            'x-shopify-webhook-id': id,
            'x-shopify-hmac-sha256': createHmac('sha256', SECRET).update(payload).digest('base64'),
          },
          body: payload,
        });
        return response.status;
      };
      const statuses = await Promise.all(
        Array.from({ length: 10 }, (_, i) => {
          const customer = { id: 77_000 + i, email: `shopper${i}@example.com`, first_name: `S${i}` };
          return [
            hook('customers/create', { ...customer, created_at: '2026-01-12T10:00:00Z' }, `c-${i}`),
            hook(
              'orders/create',
              {
                id: 66_000 + i,
                email: customer.email,
                created_at: '2026-01-12T10:00:00Z',
                updated_at: '2026-01-12T10:00:00Z',
                currency: 'USD',
                financial_status: 'paid',
                total_price: '10.00',
                customer,
                line_items: [{ sku: `W-${i}`, quantity: 1, price: '10.00' }],
              },
              `o-${i}`,
            ),
          ];
        }).flat(),
      );
      assert.deepEqual(statuses, Array(20).fill(200));
      assert.equal(await countRows(t.store.db, 'customers'), before + 10);
    });

    test('amounts out of bounds, negative totals and unknown currencies are refused naming the field', async () => {
      const refused: Array<[string, unknown, string]> = [
        ['1e308', order('b-1', { externalId: 'b' }, { totalMinor: 1e308 }), 'totalMinor'],
        [
          '2^53 + 1',
          JSON.stringify(order('b-2', { externalId: 'b' })).replace('2500,"customer"', '9007199254740993,"customer"'),
          'totalMinor',
        ],
        [
          'a line total of 8e31',
          order(
            'b-3',
            { externalId: 'b' },
            { lines: [{ sku: 'X', quantity: 1, unitPriceMinor: 10, totalMinor: 8e31 }] },
          ),
          'lines[0].totalMinor',
        ],
        [
          'quantity × price beyond the maximum',
          order(
            'b-4',
            { externalId: 'b' },
            { lines: [{ sku: 'X', quantity: 1000, unitPriceMinor: 1_000_000_000_000 }] },
          ),
          'lines[0].totalMinor',
        ],
        ['a negative total on a paid order', order('b-5', { externalId: 'b' }, { totalMinor: -500 }), 'totalMinor'],
        ['currency ZZZ', order('b-6', { externalId: 'b' }, { currency: 'ZZZ' }), 'currency'],
        ['a refund above the total', order('b-7', { externalId: 'b' }, { refundedMinor: 2501 }), 'refundedMinor'],
        [
          'a negative product price',
          order('b-8', { externalId: 'b' }, { lines: [{ sku: 'X', quantity: 1, unitPriceMinor: -1 }] }),
          'lines[0].unitPriceMinor',
        ],
      ];
      for (const [what, body, field] of refused) {
        const answer = await post('/orders', body);
        assert.equal(answer.status, 400, what);
        assert.equal((answer.body.error as { field?: string }).field, field, what);
      }
      assert.ok(String(refused[1]![1]).includes('9007199254740993'));
      const stored = await t.store.db.selectFrom('orders').select('id').where('external_id', 'like', 'b-%').execute();
      assert.equal(stored.length, 0);
      // The edges themselves are accepted: the maximum, a zero total, a refund equal to the total, a discount line.
      const edges = await post(
        '/orders',
        order(
          'b-ok',
          { externalId: 'b' },
          {
            currency: 'KRW',
            totalMinor: 1_000_000_000_000,
            refundedMinor: 1_000_000_000_000,
            status: 'refunded',
            lines: [
              { sku: 'X', quantity: 1, unitPriceMinor: 1_000_000_000_000 },
              { title: 'coupon', quantity: 1, unitPriceMinor: -1000, kind: 'discount' },
            ],
          },
        ),
      );
      assert.equal(edges.status, 201);
      const zero = await post('/orders', order('b-zero', { externalId: 'b' }, { totalMinor: 0, lines: [] }));
      assert.equal(zero.status, 201);
    });
  });
}

for (const dialect of DIALECTS) {
  describe(`POST /orders looks its customer up where the snippet does, on ${dialect.name}`, {
    skip: dialect.skip,
  }, () => {
    test("with --user-id-source shopify, an order's customer.externalId is the Shopify customer's id", async () => {
      const t = await freshDatabase(dialect.name);
      const app = await buildApp({ store: t.store, now: () => NOW, rateLimit: false, userIdSource: 'shopify' });
      try {
        const db = t.store.db;
        // A customer of the Shopify import, id 7001, without an e-mail on the order to match by.
        const shopper = await findOrCreateCustomer(db, {
          source: 'shopify',
          externalId: '7001',
          email: 'shopper@example.com',
          seenAt: NOW,
          now: NOW,
        });
        const key = (await createApiKey(db, { scope: 'write', name: 'store', now: NOW })).key;
        const response = await app.inject({
          method: 'POST',
          url: '/api/v1/orders',
          headers: { authorization: `Bearer ${key}` },
          payload: order('api-1', { externalId: '7001' }),
        });
        assert.equal(response.statusCode, 201, response.body);
        const stored = await db
          .selectFrom('orders')
          .select(['source', 'customer_id'])
          .where('external_id', '=', 'api-1')
          .executeTakeFirstOrThrow();
        // The order stays an API order; its customer is the imported one, not a new api:7001.
        assert.deepEqual(
          { source: stored.source, customer: Number(stored.customer_id) },
          { source: 'api', customer: shopper.id },
        );
        assert.equal(await countRows(db, 'customers'), 1);
        const identities = await db.selectFrom('customer_identities').select(['source', 'external_id']).execute();
        assert.deepEqual(identities, [{ source: 'shopify', external_id: '7001' }]);
      } finally {
        await app.close();
        await t.drop();
      }
    });
  });
}
