import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseText, rejects } from '../../../test/parse-format.js';
import { cdnow } from './cdnow.js';
import type { ParsedItem } from './format.js';
import { woocommerce } from './woocommerce.js';

function orders(items: ParsedItem[]) {
  return items.flatMap((i) => (i.kind === 'order' ? [[i.line, i.order] as const] : []));
}

describe('order exports, value by value', () => {
  test('CDNOW: each row a paid purchase in USD, ranked within its customer and day; no CDs is no unit price', async () => {
    const cd = (id: string, day: string, rank: number, quantity: number, cents: number, at: number) => ({
      externalId: `${id}-${day}-${rank}`,
      customer: { externalId: id },
      placedAt: at,
      placedOffset: 0,
      currency: 'USD',
      subtotalMinor: cents,
      shippingMinor: 0,
      taxMinor: 0,
      discountMinor: 0,
      totalMinor: cents,
      status: 'paid',
      discountCodes: [],
      lines: [
        {
          lineNo: 1,
          title: 'CDs',
          quantity,
          // 2 CDs for 23.55: 1177.5 cents rounds to 1178.
          unitPriceMinor: quantity > 0 ? Math.round(cents / quantity) : cents,
          discountMinor: 0,
          totalMinor: cents,
          kind: 'product',
        },
      ],
    });
    const items = await parseText(
      cdnow,
      '00001 19970101 2 23.55\n00001 19970101 2 23.55\n00002 19970112 0 0.00\nx 19970101 1 1.00\n00003 19970103 1\n',
    );
    assert.deepEqual(orders(items), [
      [1, cd('1', '19970101', 1, 2, 2355, Date.UTC(1997, 0, 1))],
      [2, cd('1', '19970101', 2, 2, 2355, Date.UTC(1997, 0, 1))],
      [3, cd('2', '19970112', 1, 0, 0, Date.UTC(1997, 0, 12))],
    ]);
    assert.equal(orders(items)[0]?.[1].lines[0]?.unitPriceMinor, 1178);
    // The first row of data sets the width (4): a row of 3 is refused whole, not read as a purchase.
    assert.deepEqual(rejects(items), [
      [4, 'customer', '"x" is not a customer id'],
      [5, 'row', 'has 3 columns, expected 4'],
    ]);
    // The 1/10 sample's leading master id is left out; --currency is taken.
    const sample = await parseText(cdnow, '4 00003 19970102 1 9.99\n', { currency: 'EUR' });
    assert.deepEqual(orders(sample), [
      [1, { ...cd('3', '19970102', 1, 1, 999, Date.UTC(1997, 0, 2)), currency: 'EUR' }],
    ]);
  });

  test('WooCommerce: a whole order, its customer, lines, coupons and a partial refund', async () => {
    const items = await parseText(
      woocommerce,
      'order_id,order_number,order_date,status,shipping_total,tax_total,discount_total,order_total,order_currency,billing_email,customer_user,billing_first_name,billing_last_name,billing_phone,billing_address_1,billing_city,billing_postcode,billing_country,coupon_items,refund_items,line_item_1,line_item_2\n' +
        '101,101,2025-02-03 10:00:00,wc-completed,5.00,2.00,4.00,47.00,EUR, Ann@Example.COM ,7,Ann,Lee,+49 30 1234567,Main  St 1,Berlin,10115,DE,code:SAVE4|amount:4.00;code:FREESHIP|amount:0,amount:4.50|reason:broken|date:2025-02-05,name:Mug|product_id:55|quantity:2|total:16.00|sub_total:20.00,name:Tee|sku:TEE-1|quantity:1|total:24.00\n' +
        '102,102,2025-02-04 10:00:00,completed,,,,10.00,EUR,,0,,,,,,,,,,name:Pin|quantity:0|total:10.00,\n',
    );
    assert.deepEqual(rejects(items), []);
    // Order 101: lines 16.00 (2 mugs at 10.00 less 4.00) + 24.00 = 40.00, shipping 5.00, tax 2.00:
    // 47.00 as stated; the subtotal is the lines before their discounts, 2 × 10.00 + 24.00 = 44.00.
    // Refunded 4.50 of 47.00: partially refunded.
    assert.deepEqual(orders(items), [
      [
        2,
        {
          externalId: '101',
          customer: {
            externalId: '7',
            email: 'ann@example.com',
            phone: '+49301234567',
            firstName: 'Ann',
            lastName: 'Lee',
            city: 'Berlin',
            country: 'DE',
            address: 'main st 1, berlin, 10115, de',
          },
          email: 'ann@example.com',
          placedAt: Date.UTC(2025, 1, 3, 10),
          placedOffset: 0,
          currency: 'EUR',
          subtotalMinor: 4400,
          shippingMinor: 500,
          taxMinor: 200,
          discountMinor: 400,
          totalMinor: 4700,
          refundedMinor: 450,
          status: 'partially_refunded',
          discountCodes: ['SAVE4', 'FREESHIP'],
          country: 'DE',
          lines: [
            {
              lineNo: 1,
              sku: 'wc-55',
              title: 'Mug',
              quantity: 2,
              unitPriceMinor: 1000,
              discountMinor: 400,
              totalMinor: 1600,
              kind: 'product',
            },
            {
              lineNo: 2,
              sku: 'TEE-1',
              title: 'Tee',
              quantity: 1,
              unitPriceMinor: 2400,
              discountMinor: 0,
              totalMinor: 2400,
              kind: 'product',
            },
          ],
        },
      ],
      [
        3,
        {
          // A guest (customer_user 0) without an e-mail is no customer; a line of no units keeps its total
          // as its price; no shipping, tax or discount columns filled are 0.
          externalId: '102',
          customer: undefined,
          email: undefined,
          placedAt: Date.UTC(2025, 1, 4, 10),
          placedOffset: 0,
          currency: 'EUR',
          subtotalMinor: 0,
          shippingMinor: 0,
          taxMinor: 0,
          discountMinor: 0,
          totalMinor: 1000,
          refundedMinor: 0,
          status: 'paid',
          discountCodes: [],
          country: undefined,
          lines: [
            {
              lineNo: 1,
              sku: undefined,
              title: 'Pin',
              quantity: 0,
              unitPriceMinor: 1000,
              discountMinor: 0,
              totalMinor: 1000,
              kind: 'product',
            },
          ],
        },
      ],
    ]);
  });

  test('WooCommerce: a status that is not one of its order statuses refuses the row', async () => {
    const items = await parseText(
      woocommerce,
      'order_id,order_date,status,order_total,order_currency,line_item_1\n' +
        '301,2025-03-01 09:00:00,wc-awaiting-shipment,5.00,EUR,name:Pin|quantity:1|total:5.00\n' +
        '302,2025-03-01 09:00:00,wc-processing,5.00,EUR,name:Pin|quantity:1|total:5.00\n',
    );
    // A plugin's own status is not guessed at: line 2 is refused, 302 (processing) is paid.
    assert.deepEqual(rejects(items), [[2, 'status', '"wc-awaiting-shipment" is not a WooCommerce order status']]);
    assert.deepEqual(
      orders(items).map(([line, o]) => [line, o.externalId, o.status]),
      [[3, '302', 'paid']],
    );
  });

  test('WooCommerce: an empty customer_user is a guest, as 0 is: no customer without an e-mail, else one by e-mail only', async () => {
    const items = await parseText(
      woocommerce,
      'order_id,order_date,status,order_total,order_currency,billing_email,customer_user,line_item_1\n' +
        '201,2025-03-01 09:00:00,completed,5.00,EUR,,,name:Pin|quantity:1|total:5.00\n' +
        '202,2025-03-02 09:00:00,completed,5.00,EUR,guest@example.com,,name:Pin|quantity:1|total:5.00\n',
    );
    assert.deepEqual(rejects(items), []);
    assert.deepEqual(
      orders(items).map(([line, o]) => [
        line,
        o.externalId,
        o.customer && { externalId: o.customer.externalId, email: o.customer.email },
      ]),
      [
        [2, '201', undefined],
        [3, '202', { externalId: undefined, email: 'guest@example.com' }],
      ],
    );
  });
});
