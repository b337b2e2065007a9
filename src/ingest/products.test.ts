import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DIALECTS, freshDatabase, type TestDb, tempDir } from '../../test/setup.js';
import { ComebackError } from '../errors.js';
import { samplePath } from '../shared/paths.js';
import type { Db } from '../store/index.js';
import { importFile } from './import.js';

const NOW = Date.UTC(2026, 0, 1);
const SHOPIFY_ORDERS = samplePath('shopify', 'orders_export_1.devstore.redacted.csv');
const SHOPIFY_PRODUCTS = samplePath('products', 'products_export_1.csv');
const WOO_PRODUCTS = samplePath('products', 'wc-product-export.csv');

async function catalogue(db: Db) {
  const rows = await db
    .selectFrom('products')
    .select([
      'sku',
      'title',
      'category',
      'product_type',
      'vendor',
      'tags',
      'status',
      'price_minor',
      'compare_at_minor',
      'currency',
      'inventory_quantity',
      'image_url',
      'url',
      'handle',
    ])
    .orderBy('sku')
    .execute();
  return new Map(
    rows.map((r) => [
      r.sku,
      {
        ...r,
        price_minor: r.price_minor === null ? null : Number(r.price_minor),
        compare_at_minor: r.compare_at_minor === null ? null : Number(r.compare_at_minor),
      },
    ]),
  );
}

async function counts(db: Db) {
  const products = await db
    .selectFrom('products')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirst();
  const prices = await db
    .selectFrom('product_prices')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirst();
  const lines = await db
    .selectFrom('order_lines')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('product_id', 'is not', null)
    .executeTakeFirst();
  return { products: Number(products?.n), prices: Number(prices?.n), linkedLines: Number(lines?.n) };
}

for (const dialect of DIALECTS) {
  describe(`catalogue imports on ${dialect.name}`, { skip: dialect.skip }, () => {
    let t: TestDb;
    before(async () => {
      t = await freshDatabase(dialect.name);
    });
    after(async () => t?.drop());

    test('Shopify products export after the orders: variants, image rows, statuses, the orders currency', async () => {
      const db = t.store.db;
      await importFile(db, SHOPIFY_ORDERS, { format: 'shopify', now: NOW });
      const before = await counts(db);
      assert.equal(before.products, 5);
      const summary = await importFile(db, SHOPIFY_PRODUCTS, { format: 'shopify-products', now: NOW });
      // 7 products, 9 variants (coffee and wallet have two); 3 rows are image-only rows.
      assert.equal(summary.rows, 12);
      assert.deepEqual(summary.catalogue, { products: 9, created: 4, changed: 5, prices: 9 });
      const p = await catalogue(db);
      assert.equal(p.size, 9);
      assert.deepEqual(p.get('CB-ETH-1000'), {
        sku: 'CB-ETH-1000',
        title: 'Organic Ethiopian Coffee Beans - 1 kg',
        category: 'Coffee',
        product_type: 'Coffee',
        vendor: 'Mountain Brew Co.',
        tags: JSON.stringify(['coffee', 'organic', 'single origin']),
        status: 'active',
        price_minor: 239900,
        compare_at_minor: 259800,
        currency: 'INR',
        inventory_quantity: 15,
        // The image with position 1 (on the first variant's row), not the one on this variant's row.
        image_url: 'https://cdn.shopify.com/s/files/1/0000/0001/files/coffee-eth-bag.jpg',
        url: '/products/organic-ethiopian-coffee-beans',
        handle: 'organic-ethiopian-coffee-beans',
      });
      assert.equal(
        p.get('LW-MIN-BLK')?.image_url,
        'https://cdn.shopify.com/s/files/1/0000/0001/files/wallet-black.jpg',
      );
      assert.equal(p.get('YM-ECO-001')?.title, 'Premium Eco-Friendly Yoga Mat');
      assert.equal(p.get('YM-ECO-001')?.inventory_quantity, 0);
      assert.equal(p.get('YM-ECO-001')?.category, 'Yoga Mats');
      assert.equal(p.get('BM-TRV-350')?.status, 'draft');
      assert.equal(p.get('CT-NAT-001')?.status, 'archived');
      assert.equal(p.get('CT-NAT-001')?.image_url, null);
      // The products met on orders kept their ids: the order lines still point at them.
      const after = await counts(db);
      assert.equal(after.linkedLines, before.linkedLines);
      assert.equal(after.linkedLines, 121);
    });

    test('re-importing the products export changes nothing', async () => {
      const db = t.store.db;
      const before = await catalogue(db);
      const beforeCounts = await counts(db);
      const summary = await importFile(db, SHOPIFY_PRODUCTS, { format: 'shopify-products', now: NOW + 86_400_000 });
      assert.deepEqual(summary.catalogue, { products: 9, created: 0, changed: 0, prices: 0 });
      assert.deepEqual(await catalogue(db), before);
      assert.deepEqual(await counts(db), beforeCounts);
    });

    test('a price change is a new price-history row; the old price stays', async () => {
      const db = t.store.db;
      const dir = tempDir();
      const file = join(dir, 'products.csv');
      writeFileSync(
        file,
        'Handle,Title,Variant SKU,Variant Price,Variant Compare At Price,Status\n' +
          'lavender-vanilla-soy-candle,Lavender & Vanilla Soy Candle,SC-LAV-VAN,799.00,1099.00,active\n',
      );
      const summary = await importFile(db, file, { format: 'shopify-products', now: NOW + 2 * 86_400_000 });
      assert.deepEqual(summary.catalogue, { products: 1, created: 0, changed: 1, prices: 1 });
      const history = await db
        .selectFrom('product_prices as pp')
        .innerJoin('products as p', 'p.id', 'pp.product_id')
        .select(['pp.price_minor', 'pp.observed_at'])
        .where('p.sku', '=', 'SC-LAV-VAN')
        .orderBy('pp.observed_at')
        .execute();
      assert.deepEqual(
        history.map((h) => [Number(h.price_minor), Number(h.observed_at)]),
        [
          [89900, NOW],
          [79900, NOW + 2 * 86_400_000],
        ],
      );
    });

    test('WooCommerce product export: variations inherit from their parent, drafts, stock, sale prices', async () => {
      const db = t.store.db;
      const summary = await importFile(db, WOO_PRODUCTS, { format: 'woocommerce-products', now: NOW, currency: 'KRW' });
      assert.deepEqual(summary.catalogue, { products: 6, created: 6, changed: 0, prices: 6 });
      const p = await catalogue(db);
      assert.equal(p.get('TEA-SET'), undefined, 'the variable parent is not an item');
      assert.deepEqual(
        ['TEA-100', 'CUP-1', 'TEA-SET-S', 'wc-62', 'MW-1', 'HOJI-50'].map((sku) => {
          const r = p.get(sku)!;
          return [
            sku,
            r.title,
            r.category,
            r.status,
            r.price_minor,
            r.compare_at_minor,
            r.currency,
            r.inventory_quantity,
          ];
        }),
        [
          ['TEA-100', 'Green Tea 100g', 'Green tea', 'active', 15000, null, 'KRW', 40],
          ['CUP-1', 'Tea Cup', 'Cups', 'active', 12000, 15000, 'KRW', 2],
          ['TEA-SET-S', 'Tea Gift Set - Small', 'Gift sets', 'active', 30000, null, 'KRW', 9],
          ['wc-62', 'Tea Gift Set - Large', 'Gift sets', 'active', 50000, null, 'KRW', 0],
          ['MW-1', 'Matcha Whisk', 'Tools', 'draft', 20000, null, 'KRW', 15],
          ['HOJI-50', 'Hojicha 50g', 'Roasted tea', 'draft', 11000, null, 'KRW', null],
        ],
      );
      assert.equal(p.get('wc-62')?.image_url, 'https://tea.example.com/wp-content/uploads/2024/02/gift-set.jpg');
      const again = await importFile(db, WOO_PRODUCTS, {
        format: 'woocommerce-products',
        now: NOW + 1,
        currency: 'KRW',
      });
      assert.deepEqual(again.catalogue, { products: 6, created: 0, changed: 0, prices: 0 });
    });

    test('a bad row stops the import with FILE:LINE: field: reason and writes nothing', async () => {
      const db = t.store.db;
      const before = await counts(db);
      const dir = tempDir();
      const file = join(dir, 'bad.csv');
      writeFileSync(
        file,
        'Handle,Title,Variant SKU,Variant Price,Image Src,Status\n' +
          'new-thing,New Thing,NT-1,10.00,,active\n' +
          'new-thing,,,,https://x/img.jpg,\n' +
          'other,Other,OT-1,ten,,active\n',
      );
      await assert.rejects(
        importFile(db, file, { format: 'shopify-products', now: NOW }),
        (error: unknown) =>
          error instanceof ComebackError && error.describe() === `${file}:4: Variant Price: "ten" is not a number`,
      );
      writeFileSync(file, 'Handle,Title,Variant SKU,Variant Price,Status\nx,X,X-1,1.00,retired\n');
      await assert.rejects(
        importFile(db, file, { format: 'shopify-products', now: NOW }),
        (error: unknown) =>
          error instanceof ComebackError &&
          error.describe() === `${file}:2: Status: "retired" is not one of active, draft, archived`,
      );
      writeFileSync(file, 'Handle,Title,Variant SKU,Variant Price\nx,X,X-1,1.00\ny,Y,X-1,2.00\n');
      await assert.rejects(
        importFile(db, file, { format: 'shopify-products', now: NOW }),
        (error: unknown) =>
          error instanceof ComebackError && error.describe() === `${file}:3: Variant SKU: "X-1" is also on line 2`,
      );
      // WooCommerce's export names the same mistake by its own column.
      writeFileSync(
        file,
        'ID,Type,SKU,Name,Published,Regular price\n1,simple,W-1,One,1,1000\n2,simple,W-1,Two,1,2000\n',
      );
      await assert.rejects(
        importFile(db, file, { format: 'woocommerce-products', now: NOW, currency: 'KRW' }),
        (error: unknown) =>
          error instanceof ComebackError && error.describe() === `${file}:3: SKU: "W-1" is also on line 2`,
      );
      assert.deepEqual(await counts(db), before);
    });
    test('a compare-at price is kept only above the price: equal or zero is no sale', async () => {
      const db = t.store.db;
      const dir = tempDir();
      const woo = join(dir, 'woo.csv');
      // Regular 15,001 over a sale price of 15,000: compare-at 15,001. Regular = sale: no compare-at.
      writeFileSync(
        woo,
        'ID,Type,SKU,Name,Published,Sale price,Regular price\n' +
          '901,simple,CMP-ABOVE,Above,1,15000,15001\n' +
          '902,simple,CMP-EQUAL,Equal,1,15000,15000\n' +
          '903,simple,CMP-NONE,None,1,,15000\n',
      );
      await importFile(db, woo, { format: 'woocommerce-products', now: NOW, currency: 'KRW' });
      // Shopify: a compare-at of 0.00 is none; 0.01 above a price of 0.00 is 1 minor unit.
      const shopify = join(dir, 'shopify.csv');
      writeFileSync(
        shopify,
        'Handle,Title,Variant SKU,Variant Price,Variant Compare At Price,Status\n' +
          'zero,Zero,CMP-ZERO,5.00,0.00,active\n' +
          'cent,Cent,CMP-CENT,0.00,0.01,active\n',
      );
      await importFile(db, shopify, { format: 'shopify-products', now: NOW, currency: 'EUR' });
      const p = await catalogue(db);
      assert.deepEqual(
        ['CMP-ABOVE', 'CMP-EQUAL', 'CMP-NONE', 'CMP-ZERO', 'CMP-CENT'].map((sku) => [
          sku,
          p.get(sku)?.price_minor,
          p.get(sku)?.compare_at_minor,
        ]),
        [
          ['CMP-ABOVE', 15000, 15001],
          ['CMP-EQUAL', 15000, null],
          ['CMP-NONE', 15000, null],
          ['CMP-ZERO', 500, null],
          ['CMP-CENT', 0, 1],
        ],
      );
    });
  });

  describe(`a catalogue import into a store without orders on ${dialect.name}`, { skip: dialect.skip }, () => {
    let t: TestDb;
    before(async () => {
      t = await freshDatabase(dialect.name);
    });
    after(async () => t?.drop());

    test('without --currency there are no orders to take it from; a --currency that is no ISO code is refused', async () => {
      const db = t.store.db;
      const usage = (message: string) => (error: unknown) => {
        assert.ok(error instanceof ComebackError, String(error));
        assert.equal(error.kind, 'usage');
        assert.equal(error.message, message);
        return true;
      };
      await assert.rejects(
        importFile(db, WOO_PRODUCTS, { format: 'woocommerce-products', now: NOW }),
        usage('--currency: the products export states no currency and the store has no orders to take it from'),
      );
      await assert.rejects(
        importFile(db, WOO_PRODUCTS, { format: 'woocommerce-products', now: NOW, currency: 'EURO' }),
        usage('--currency EURO: not an ISO 4217 code'),
      );
      assert.deepEqual(await counts(db), { products: 0, prices: 0, linkedLines: 0 });
    });
  });
}
