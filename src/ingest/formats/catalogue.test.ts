import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseText, rejects } from '../../../test/parse-format.js';
import type { ParsedItem } from './format.js';
import { shopifyProducts } from './shopify-products.js';
import { woocommerceProducts } from './woocommerce-products.js';

function products(items: ParsedItem[]) {
  return items.flatMap((i) => (i.kind === 'product' ? [[i.line, i.product] as const] : []));
}

describe('product exports, value by value', () => {
  test('Shopify: a variant without a SKU is keyed by its handle, an image row is no variant, a SKU without a price is refused', async () => {
    const items = await parseText(
      shopifyProducts,
      'Handle,Title,Option1 Value,Variant SKU,Variant Price,Variant Compare At Price,Image Src,Image Position\n' +
        'mug,Mug,Default Title,,12.00,,https://cdn.example/mug-2.jpg,2\n' +
        'mug,,,,,,https://cdn.example/mug-1.jpg,1\n' +
        'mug,,,MUG-RED,,,,\n' +
        'mug,,Blue,,,,,\n',
      { currency: 'USD' },
    );
    // Line 3 carries only an image (no price, SKU or option): no variant, no reject. Line 4 names a
    // SKU but no price, line 5 an option but no price: both refused. The one variant (`Default Title` is no option) is keyed `mug` and takes
    // the image of the lowest position (1, on line 3), not the first row's.
    assert.deepEqual(rejects(items), [
      [4, 'Variant Price', 'is empty'],
      [5, 'Variant Price', 'is empty'],
    ]);
    assert.deepEqual(products(items), [
      [
        2,
        {
          sku: 'mug',
          priceMinor: 1200,
          compareAtMinor: undefined,
          currency: 'USD',
          inventoryQuantity: undefined,
          imageUrl: 'https://cdn.example/mug-1.jpg',
          url: '/products/mug',
          title: 'Mug',
          handle: 'mug',
          category: undefined,
          productType: undefined,
          vendor: undefined,
          tags: [],
          status: 'active',
        },
      ],
    ]);
  });

  test('WooCommerce: a variation finds its parent by SKU or by id:N; an empty Parent is no parent', async () => {
    const items = await parseText(
      woocommerceProducts,
      'ID,Type,SKU,Name,Published,Regular price,Parent,Attribute 1 value(s)\n' +
        '10,variable,TEE,T-shirt,1,,,\n' +
        '11,variation,TEE-S,,1,20.00,TEE,S\n' +
        '12,variation,,,1,21.00,id:10,M\n' +
        '13,simple,,Poster,1,5.00,,\n' +
        '14,variation,,,1,9.00,,L\n',
      { currency: 'USD' },
    );
    const common = {
      category: undefined,
      tags: [],
      status: 'active',
      imageUrl: undefined,
      url: undefined,
      compareAtMinor: undefined,
      currency: 'USD',
      inventoryQuantity: undefined,
    };
    // The variable product itself is no item; its variations take its name with their attribute.
    assert.deepEqual(products(items), [
      [
        3,
        { ...common, sku: 'TEE-S', title: 'T-shirt - S', handle: 'wc-10', productType: 'variation', priceMinor: 2000 },
      ],
      [
        4,
        { ...common, sku: 'wc-12', title: 'T-shirt - M', handle: 'wc-10', productType: 'variation', priceMinor: 2100 },
      ],
      [5, { ...common, sku: 'wc-13', title: 'Poster', handle: 'wc-13', productType: 'simple', priceMinor: 500 }],
    ]);
    // Rows without a SKU (12, 13, 14) are no parent called "": line 6 is refused.
    assert.deepEqual(rejects(items), [[6, 'Parent', '"" is not a product of the file']]);
  });

  test('WooCommerce: a grouped product is no item; a variation keeps its own status under a published parent', async () => {
    const items = await parseText(
      woocommerceProducts,
      'ID,Type,SKU,Name,Published,Regular price,Parent,Attribute 1 value(s)\n' +
        '30,grouped,SET,Gift set,1,,,\n' +
        '31,grouped,SET2,Priced set,1,15.00,,\n' +
        '32,simple,MUG,Mug,1,8.00,,\n' +
        '33,variable,CAP,Cap,1,,,\n' +
        '34,variation,CAP-R,,0,6.00,CAP,Red\n' +
        '35,variation,CAP-B,,-1,6.00,CAP,Blue\n' +
        '36,variation,CAP-G,,1,6.00,CAP,Green\n',
      { currency: 'USD' },
    );
    // The grouped rows (with or without a price) are neither products nor refusals: only their members are.
    assert.deepEqual(rejects(items), []);
    // Red (0) and Blue (-1) are drafts of themselves although Cap is published (1); Green is active.
    assert.deepEqual(
      products(items).map(([line, p]) => [line, p.sku, p.title, p.status]),
      [
        [4, 'MUG', 'Mug', 'active'],
        [6, 'CAP-R', 'Cap - Red', 'draft'],
        [7, 'CAP-B', 'Cap - Blue', 'draft'],
        [8, 'CAP-G', 'Cap - Green', 'active'],
      ],
    );
  });

  test('Shopify: status, published, category, tags, stock, compare-at, options in the title, refusals', async () => {
    const items = await parseText(
      shopifyProducts,
      'Handle,Title,Vendor,Type,Product Category,Tags,Published,Status,Option1 Value,Option2 Value,Variant SKU,Variant Inventory Tracker,Variant Inventory Qty,Variant Price,Variant Compare At Price,Variant Image\n' +
        'tee,Tee,Acme,Shirts,Apparel > Tops > T-Shirts,"a, b ,,c",false,,Red,L,TEE-RL,shopify,4,20.00,25.00,https://cdn.example/tee-red.jpg\n' +
        'tee,,,,,,,,Blue,L,TEE-BL,,7,20.00,20.00,\n' +
        'cap,Cap,,Hats,,,,ARCHIVED,,,CAP,shopify,,9.50,,\n' +
        'bag,Bag,,,,,maybe,,,,BAG,,,5.00,,\n' +
        'box,Box,,,,,,gone,,,BOX,,,5.00,,\n' +
        'pin,Pin,,,,,,,,,TEE-RL,,,1.00,,\n' +
        ',X,,,,,,,,,X,,,1.00,,\n' +
        'mat,,,,,,,,,,MAT,,,1.00,,\n',
      { currency: 'EUR' },
    );
    assert.deepEqual(rejects(items), [
      [5, 'Published', '"maybe" is not true or false'],
      [6, 'Status', '"gone" is not one of active, draft, archived'],
      [8, 'Handle', 'is empty'],
      [9, 'Title', 'is empty on the first row of the product'],
      // A product whose only row was refused is reported again as a product without a variant.
      [5, 'Variant Price', 'the product has no variant row'],
      [6, 'Variant Price', 'the product has no variant row'],
      [7, 'Variant SKU', '"TEE-RL" is also on line 2'],
    ]);
    const tee = {
      handle: 'tee',
      vendor: 'Acme',
      productType: 'Shirts',
      // The last level of the category path.
      category: 'T-Shirts',
      tags: ['a', 'b', 'c'],
      // Published false without a Status column value: a draft.
      status: 'draft',
      currency: 'EUR',
      url: '/products/tee',
    };
    assert.deepEqual(products(items), [
      [
        2,
        {
          ...tee,
          sku: 'TEE-RL',
          title: 'Tee - Red / L',
          priceMinor: 2000,
          compareAtMinor: 2500,
          inventoryQuantity: 4,
          imageUrl: 'https://cdn.example/tee-red.jpg',
        },
      ],
      [
        // No inventory tracker: the quantity is not counted. A compare-at equal to the price is passed on
        // (the catalogue writer keeps it only above the price: products.test.ts).
        3,
        {
          ...tee,
          sku: 'TEE-BL',
          title: 'Tee - Blue / L',
          priceMinor: 2000,
          compareAtMinor: 2000,
          inventoryQuantity: undefined,
          imageUrl: undefined,
        },
      ],
      [
        4,
        {
          handle: 'cap',
          vendor: undefined,
          productType: 'Hats',
          // No category: the type stands in.
          category: 'Hats',
          tags: [],
          status: 'archived',
          currency: 'EUR',
          url: '/products/cap',
          sku: 'CAP',
          title: 'Cap',
          priceMinor: 950,
          compareAtMinor: undefined,
          inventoryQuantity: undefined,
          imageUrl: undefined,
        },
      ],
    ]);
  });

  test('Shopify: without a tracker column the stock is counted; a compare-at of 0.00 is none', async () => {
    const items = await parseText(
      shopifyProducts,
      'Handle,Title,Variant SKU,Variant Price,Variant Compare At Price,Variant Inventory Qty\nx,X,X-1,1.00,0.00,5\n',
      { currency: 'EUR' },
    );
    assert.deepEqual(
      products(items).map(([line, p]) => [line, p.sku, p.compareAtMinor, p.inventoryQuantity]),
      [[2, 'X-1', undefined, 5]],
    );
  });

  test('WooCommerce: sale and regular prices, stock, published, categories, tags and images inherited', async () => {
    const items = await parseText(
      woocommerceProducts,
      'ID,Type,SKU,Name,Published,In stock?,Stock,Sale price,Regular price,Categories,Tags,Images,Parent,External URL,Attribute 1 value(s),Attribute 2 value(s)\n' +
        '20,"variable, featured",HOOD,Hoodie,0,1,,,,"Clothing > Hoodies, Sale","warm, winter","https://cdn.example/h1.jpg, https://cdn.example/h2.jpg",,,,\n' +
        '21,variation,HOOD-M,,1,1,3,30.00,40.00,,,,HOOD,,Blue,M\n' +
        '22,variation,HOOD-L,Hoodie Large,1,0,,,40.00,Outlet,cosy,https://cdn.example/l.jpg,HOOD,,Blue,L\n' +
        '23,external,EXT,Book,-1,,,12.00,10.00,,,,,https://example.com/book,,\n' +
        '24,simple,NOPRICE,Thing,1,,,,,,,,,,,\n' +
        '25,simple,HOOD-M,Again,1,,,,5.00,,,,,,,\n' +
        '26,simple,PUB,Pub,2,,,,5.00,,,,,,,\n' +
        '27,simple,,,1,,,,5.00,,,,,,,\n' +
        '28,simple,FREE,Free,1,,,0.00,5.00,,,,,,,\n',
      { currency: 'EUR' },
    );
    assert.deepEqual(rejects(items), [
      [8, 'Published', '"2" is not 1, 0 or -1'],
      [6, 'Regular price', 'is empty'],
      [7, 'SKU', '"HOOD-M" is also on line 3'],
      [9, 'Name', 'is empty'],
    ]);
    assert.deepEqual(products(items), [
      [
        3,
        {
          sku: 'HOOD-M',
          title: 'Hoodie - Blue / M',
          handle: 'wc-20',
          // The parent's first category's last level, its tags and first image; the parent is a draft.
          category: 'Hoodies',
          productType: 'variation',
          tags: ['warm', 'winter'],
          status: 'draft',
          imageUrl: 'https://cdn.example/h1.jpg',
          url: undefined,
          priceMinor: 3000,
          compareAtMinor: 4000,
          currency: 'EUR',
          inventoryQuantity: 3,
        },
      ],
      [
        4,
        {
          sku: 'HOOD-L',
          title: 'Hoodie Large',
          handle: 'wc-20',
          category: 'Outlet',
          productType: 'variation',
          tags: ['cosy'],
          status: 'draft',
          imageUrl: 'https://cdn.example/l.jpg',
          url: undefined,
          priceMinor: 4000,
          compareAtMinor: undefined,
          currency: 'EUR',
          // Out of stock (In stock? 0) without a count is 0.
          inventoryQuantity: 0,
        },
      ],
      [
        5,
        {
          sku: 'EXT',
          title: 'Book',
          handle: 'wc-23',
          category: undefined,
          productType: 'external',
          tags: [],
          // Published -1 (private) is a draft; a sale price above the regular one is no compare-at.
          status: 'draft',
          imageUrl: undefined,
          url: 'https://example.com/book',
          priceMinor: 1200,
          compareAtMinor: undefined,
          currency: 'EUR',
          inventoryQuantity: undefined,
        },
      ],
      [
        // On sale for nothing: the price is 0.00 and the regular price is what it is compared at.
        10,
        {
          sku: 'FREE',
          title: 'Free',
          handle: 'wc-28',
          category: undefined,
          productType: 'simple',
          tags: [],
          status: 'active',
          imageUrl: undefined,
          url: undefined,
          priceMinor: 0,
          compareAtMinor: 500,
          currency: 'EUR',
          inventoryQuantity: undefined,
        },
      ],
    ]);
  });
});
