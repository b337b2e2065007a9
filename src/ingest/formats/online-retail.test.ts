import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseText, rejects } from '../../../test/parse-format.js';
import type { ParsedItem } from './format.js';
import { onlineRetail } from './online-retail.js';

const HEADER = 'InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n';

describe('UCI Online Retail, value by value', () => {
  test('an invoice split by another continues its lines and totals; postage, discounts, fees and a returned unit', async () => {
    const items = await parseText(
      onlineRetail,
      HEADER +
        '536365,85123A,WHITE HEART,6,2010-12-01 08:26,2.55,17850.00,United Kingdom\n' +
        '536365,POST,POSTAGE,1,2010-12-01 08:26,18.00,17850.0,United Kingdom\n' +
        '536366,22633,HAND WARMER,2,2010-12-01 08:28,1.85,,\n' +
        '536366,22634,CHILD WARMER,0,2010-12-01 08:28,1.85,,\n' +
        '536365,D,Discount,1,2010-12-01 08:26,-5.00,17850.0,United Kingdom\n' +
        '536365,gift_0001_10,voucher,1,2010-12-01 08:26,10.00,17850.0,United Kingdom\n' +
        '536365,21730,LANTERN,-1,2010-12-01 08:26,4.25,17850.0,United Kingdom\n',
    );
    assert.deepEqual(rejects(items), []);
    const placed = Date.UTC(2010, 11, 1, 8, 26);
    const customer = { externalId: '17850', country: 'United Kingdom' };
    const line = (lineNo: number, sku: string, title: string, quantity: number, unit: number, kind: string) => ({
      lineNo,
      sku,
      title,
      quantity,
      unitPriceMinor: unit,
      discountMinor: 0,
      totalMinor: quantity * unit,
      kind,
    });
    // The published file writes customer ids as floats: 17850.00 and 17850.0 are customer 17850.
    // 536365, first part: 6 × 2.55 = 15.30 of products, 18.00 of postage: total 33.30.
    // Second part, lines 3–5: discount -5.00 (a discount of 5.00), a gift voucher 10.00 (a fee), a unit
    // of 4.25 taken back (-4.25, an adjustment): running totals subtotal 15.30 + 10.00 - 4.25 = 21.05,
    // shipping 18.00, discount 5.00, total 33.30 - 5.00 + 10.00 - 4.25 = 34.05.
    const orders = items.filter((i): i is Extract<ParsedItem, { kind: 'order' }> => i.kind === 'order');
    assert.deepEqual(
      orders.map((o) => [o.line, o.order]),
      [
        [
          2,
          {
            externalId: '536365',
            customer,
            placedAt: placed,
            placedOffset: 0,
            currency: 'GBP',
            subtotalMinor: 1530,
            shippingMinor: 1800,
            taxMinor: 0,
            discountMinor: 0,
            totalMinor: 3330,
            status: 'paid',
            discountCodes: [],
            country: 'United Kingdom',
            lines: [
              line(1, '85123A', 'WHITE HEART', 6, 255, 'product'),
              line(2, 'POST', 'POSTAGE', 1, 1800, 'shipping'),
            ],
          },
        ],
        [
          4,
          {
            externalId: '536366',
            customer: undefined,
            placedAt: Date.UTC(2010, 11, 1, 8, 28),
            placedOffset: 0,
            currency: 'GBP',
            subtotalMinor: 370,
            shippingMinor: 0,
            taxMinor: 0,
            discountMinor: 0,
            totalMinor: 370,
            status: 'paid',
            discountCodes: [],
            country: undefined,
            // A product row of no units is still a product (only fewer than none is an adjustment).
            lines: [
              line(1, '22633', 'HAND WARMER', 2, 185, 'product'),
              line(2, '22634', 'CHILD WARMER', 0, 185, 'product'),
            ],
          },
        ],
        [
          6,
          {
            externalId: '536365',
            customer,
            placedAt: placed,
            placedOffset: 0,
            currency: 'GBP',
            subtotalMinor: 2105,
            shippingMinor: 1800,
            taxMinor: 0,
            discountMinor: 500,
            totalMinor: 3405,
            status: 'paid',
            discountCodes: [],
            country: 'United Kingdom',
            lines: [
              line(3, 'D', 'Discount', 1, -500, 'discount'),
              line(4, 'gift_0001_10', 'voucher', 1, 1000, 'fee'),
              line(5, '21730', 'LANTERN', -1, 425, 'adjustment'),
            ],
          },
        ],
      ],
    );
  });

  test('every non-product stock code has its kind: shipping, adjustment and fee lines, and their totals', async () => {
    const items = await parseText(
      onlineRetail,
      HEADER +
        '536400,DOT,DOTCOM POSTAGE,1,2010-12-01 10:00,4.00,,\n' +
        '536400,C2,CARRIAGE,1,2010-12-01 10:00,50.00,,\n' +
        '536400,M,Manual,1,2010-12-01 10:00,2.00,,\n' +
        '536400,S,SAMPLES,1,2010-12-01 10:00,1.00,,\n' +
        '536400,B,Adjust bad debt,1,2010-12-01 10:00,0.50,,\n' +
        '536400,CRUK,CRUK Commission,1,2010-12-01 10:00,1.60,,\n' +
        '536400,BANK CHARGES,Bank Charges,1,2010-12-01 10:00,0.15,,\n' +
        '536400,AMAZONFEE,AMAZON FEE,1,2010-12-01 10:00,3.00,,\n',
    );
    assert.deepEqual(rejects(items), []);
    const orders = items.filter((i): i is Extract<ParsedItem, { kind: 'order' }> => i.kind === 'order');
    assert.deepEqual(
      orders.map((o) => o.order.lines.map((l) => [l.sku, l.kind, l.totalMinor])),
      [
        [
          ['DOT', 'shipping', 400],
          ['C2', 'shipping', 5000],
          ['M', 'adjustment', 200],
          ['S', 'adjustment', 100],
          ['B', 'adjustment', 50],
          ['CRUK', 'fee', 160],
          ['BANK CHARGES', 'fee', 15],
          ['AMAZONFEE', 'fee', 300],
        ],
      ],
    );
    // Shipping 4.00 + 50.00 = 54.00; the subtotal is the adjustments and fees, 2.00 + 1.00 + 0.50 +
    // 1.60 + 0.15 + 3.00 = 8.25; no discount; total 54.00 + 8.25 = 62.25.
    assert.deepEqual(
      orders.map((o) => [o.order.shippingMinor, o.order.subtotalMinor, o.order.discountMinor, o.order.totalMinor]),
      [[5400, 825, 0, 6225]],
    );
  });

  test('a cancellation invoice becomes refunds numbered through the file; a bad-debt invoice is skipped with its amount', async () => {
    const items = await parseText(
      onlineRetail,
      'Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country\n' +
        'C536379,22556,CIRCUS,-2,2010-12-01 09:41,1.65,14527,France\n' +
        'A563185,B,Adjust bad debt,1,2011-08-12 14:50,11062.06,,\n' +
        'C536379,21733,HOLDER,-1,2010-12-01 09:41,2.95,14527,France\n' +
        ',x,,1,2010-12-01 09:41,1.00,,\n' +
        '536380,,,1,2010-12-01 09:41,1.00,,\n',
      { currency: 'EUR' },
    );
    const at = Date.UTC(2010, 11, 1, 9, 41);
    const customer = { externalId: '14527', country: 'France' };
    const refund = (line: number, n: number, sku: string, quantity: number, unit: number) => ({
      kind: 'refund',
      line,
      refund: {
        externalId: `C536379:${n}`,
        // Only a manual credit (stock code M) may take back a whole earlier invoice of its amount.
        match: { customer, sku, before: at, quantity, unitPriceMinor: unit, wholeOrder: sku === 'M' },
        sku,
        quantity,
        customer,
        amountMinor: quantity * unit,
        currency: 'EUR',
        refundedAt: at,
        reason: 'cancellation C536379',
      },
    });
    assert.deepEqual(items, [
      refund(2, 1, '22556', 2, 165),
      {
        kind: 'skip',
        line: 3,
        reason: 'bad-debt adjustment invoices (A…) are not sales',
        amountMinor: 1_106_206,
        currency: 'EUR',
      },
      {
        kind: 'reject',
        line: 5,
        field: 'InvoiceNo',
        message: 'is empty',
        rows: [['', 'x', '', '1', '2010-12-01 09:41', '1.00', '', '']],
      },
      {
        kind: 'reject',
        line: 6,
        field: 'StockCode',
        message: 'is empty',
        rows: [['536380', '', '', '1', '2010-12-01 09:41', '1.00', '', '']],
      },
      // The cancellation's second part, after the bad-debt invoice, numbers on from 1.
      refund(4, 2, '21733', 1, 295),
    ]);
  });
});
