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
});
