import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { DIALECTS, freshDatabase, type TestDb } from '../../../test/setup.js';
import { importFile } from '../../ingest/index.js';
import { samplePath } from '../../shared/paths.js';
import type { ApiApp } from '../app.types.js';
import { buildApp } from '../build-app.js';
import { createApiKey } from '../keys.queries.js';

const NOW = Date.UTC(2026, 0, 10);
const SECRET = 'shpss_products_test';

for (const dialect of DIALECTS) {
  describe(`products and recommendations over the API on ${dialect.name}`, { skip: dialect.skip }, () => {
    let t: TestDb;
    let app: ApiApp;
    let read = '';
    let write = '';
    const get = (url: string, key = read) =>
      app.inject({ method: 'GET', url: `/api/v1${url}`, headers: { authorization: `Bearer ${key}` } });
    const shopify = (topic: string, body: unknown, webhookId: string) => {
      const payload = JSON.stringify(body);
      return app.inject({
        method: 'POST',
        url: '/api/v1/webhooks/shopify',
        headers: {
          'content-type': 'application/json',
          'x-shopify-topic': topic,
          'x-shopify-webhook-id': webhookId,
          'x-shopify-hmac-sha256': createHmac('sha256', SECRET).update(payload).digest('base64'),
        },
        payload,
      });
    };

    before(async () => {
      t = await freshDatabase(dialect.name);
      read = (await createApiKey(t.store.db, { scope: 'read', name: 'support', now: NOW })).key;
      write = (await createApiKey(t.store.db, { scope: 'write', name: 'site', now: NOW })).key;
      await importFile(t.store.db, samplePath('shopify', 'orders_export_1.devstore.redacted.csv'), {
        format: 'shopify',
        now: NOW,
      });
      await importFile(t.store.db, samplePath('products', 'products_export_1.csv'), {
        format: 'shopify-products',
        now: NOW,
      });
      app = await buildApp({ store: t.store, now: () => NOW + 86_400_000, shopifySecret: SECRET, rateLimit: false });
    });
    after(async () => {
      await app?.close();
      await t?.drop();
    });

    test('the catalogue: filter by status, search, one product with its price history', async () => {
      const archived = await get('/products?status=archived');
      assert.equal(archived.statusCode, 200);
      assert.deepEqual(
        archived.json().products.map((p: { sku: string }) => p.sku),
        ['CT-NAT-001'],
      );
      const wallets = (await get('/products?q=wallet')).json();
      assert.equal(wallets.total, 2);
      const black = wallets.products.find((p: { sku: string }) => p.sku === 'LW-MIN-BLK');
      assert.deepEqual(black.tags, ['leather', 'gift', 'accessories']);
      const one = await get(`/products/${black.id}`);
      assert.equal(one.statusCode, 200);
      assert.deepEqual(one.json().prices, [
        { observedAt: NOW, priceMinor: 349900, compareAtMinor: null, currency: 'INR', source: 'shopify-products' },
      ]);
      const missing = await get('/products/999999');
      assert.equal(missing.statusCode, 404);
      assert.equal(missing.json().error.field, 'id');
    });

    test('recommendations: 404 before a build, then an answer naming its build; bad input names the field', async () => {
      const customer = await t.store.db
        .selectFrom('customers')
        .select('id')
        .where('email', '=', 'customer-a@example.com')
        .executeTakeFirstOrThrow();
      const before = await get(`/customers/${customer.id}/recommendations`);
      assert.equal(before.statusCode, 404);
      assert.match(before.json().error.message, /recommend --build/);
      const denied = await app.inject({
        method: 'POST',
        url: '/api/v1/recommendations/builds',
        headers: { authorization: `Bearer ${read}` },
      });
      assert.equal(denied.statusCode, 403);
      const built = await app.inject({
        method: 'POST',
        url: '/api/v1/recommendations/builds',
        headers: { authorization: `Bearer ${write}` },
      });
      assert.equal(built.statusCode, 200);
      const buildId = built.json().buildId;
      const r = await get(`/customers/${customer.id}/recommendations?method=similar&seed=CB-ETH-500&n=10`);
      assert.equal(r.statusCode, 200);
      const body = r.json();
      assert.equal(body.buildId, buildId);
      const skus = body.items.map((i: { sku: string }) => i.sku);
      // Never the out-of-stock yoga mat, the draft mug or the archived tote, nor the seed itself.
      for (const sku of ['YM-ECO-001', 'BM-TRV-350', 'CT-NAT-001', 'CB-ETH-500']) assert.ok(!skus.includes(sku), sku);
      assert.ok(skus.length > 0);
      for (const item of body.items) assert.match(item.reason.text, /^Similar to Organic Ethiopian Coffee Beans/);
      const candle = body.items.find((i: { sku: string }) => i.sku === 'SC-LAV-VAN');
      assert.deepEqual(candle.flags, ['price_drop', 'low_stock']);
      // The customer 360 carries the personal list with its reasons, naming the same build.
      const profile = (await get(`/customers/${customer.id}`)).json();
      assert.equal(profile.recommendations.buildId, buildId);
      assert.equal(profile.recommendations.method, 'personal');
      const bad = await get(`/customers/${customer.id}/recommendations?method=magic`);
      assert.equal(bad.statusCode, 400);
      assert.match(bad.json().error.field ?? '', /method/);
      const noSeed = await get(`/customers/${customer.id}/recommendations?method=similar&seed=NOPE`);
      assert.equal(noSeed.statusCode, 404);
      assert.equal(noSeed.json().error.field, 'seed');
      assert.equal((await get('/customers/999999/recommendations')).statusCode, 404);
    });

    test('products/update webhook: a new price is stored with its history; a replay writes nothing', async () => {
      const payload = {
        id: 788032119674292900,
        title: 'Lavender & Vanilla Soy Candle',
        handle: 'lavender-vanilla-soy-candle',
        product_type: 'Candle',
        vendor: 'Hearth & Home',
        status: 'active',
        tags: 'candle, home',
        images: [{ id: 1, position: 1, src: 'https://cdn.shopify.com/candle-2.jpg' }],
        variants: [
          {
            id: 1,
            sku: 'SC-LAV-VAN',
            price: '749.00',
            compare_at_price: '1099.00',
            inventory_management: 'shopify',
            inventory_quantity: 40,
            option1: 'Default Title',
          },
        ],
      };
      const first = await shopify('products/update', payload, 'wh-p1');
      assert.equal(first.statusCode, 200);
      assert.deepEqual(first.json(), { ok: true, topic: 'products/update', duplicate: false, ignored: false });
      const replay = await shopify('products/update', payload, 'wh-p1');
      assert.equal(replay.json().duplicate, true);
      const found = (await get('/products?q=SC-LAV-VAN')).json().products[0];
      assert.equal(found.priceMinor, 74900);
      assert.equal(found.inventoryQuantity, 40);
      assert.equal(found.imageUrl, 'https://cdn.shopify.com/candle-2.jpg');
      assert.equal(found.catalogueSource, 'shopify-webhook');
      const history = (await get(`/products/${found.id}`)).json().prices;
      assert.deepEqual(
        history.map((p: { priceMinor: number }) => p.priceMinor),
        [89900, 74900],
      );
      const broken = await shopify('products/create', { ...payload, variants: [{ sku: 'X', price: 'free' }] }, 'wh-p2');
      assert.equal(broken.statusCode, 400);
      assert.equal(broken.json().error.field, 'variants[0].price');
    });
  });
}
