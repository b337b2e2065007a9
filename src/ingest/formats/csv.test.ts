import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseText, rejects } from '../../../test/parse-format.js';
import { ComebackError } from '../../errors.js';
import { csv } from './csv.js';
import type { ParsedItem } from './format.js';

function orders(items: ParsedItem[]) {
  return items.flatMap((i) => (i.kind === 'order' ? [[i.line, i.order] as const] : []));
}

async function refusedAtHeader(run: Promise<unknown>, message: string): Promise<void> {
  await assert.rejects(run, (error: unknown) => {
    assert.ok(error instanceof ComebackError);
    assert.equal(error.message, message);
    return true;
  });
}

describe('the generic orders CSV, value by value', () => {
  test('an order over two rows with --map, its lines, totals and codes; a one-row order without lines', async () => {
    const items = await parseText(
      csv,
      'Order,placed_at,customer_id,Mail,phone,first_name,last_name,country,currency,status,total,shipping,tax,discount,discount_code,sku,title,category,quantity,unit_price,line_total\n' +
        'A-1,2025-05-06T10:00:00Z,c-9, Kim@Example.com ,+82 10 1234 5678,Min,Kim,KR,EUR,,25.00,3.00,1.00,2.00,"SPRING, VIP;FREE",S-1,Mug,Home,2,10.00,18.00\n' +
        'A-1,,,,,,,,,,,,,,,S-2,,,,5.00,\n' +
        'B-2,2025-05-07T00:00:00Z,c-10,,,,,,USD,pending,7.50,,,,,,,,,,\n',
      { map: { Order: 'order_id', Mail: 'email' } },
    );
    assert.deepEqual(rejects(items), []);
    // A-1's lines: 2 × 10.00 paid 18.00 (2.00 off), and S-2: 1 (the default) × 5.00, paid what it costs.
    // The subtotal defaults to the lines' total, 18.00 + 5.00 = 23.00; the stated total is 25.00.
    assert.deepEqual(orders(items), [
      [
        2,
        {
          externalId: 'A-1',
          customer: {
            externalId: 'c-9',
            email: 'kim@example.com',
            phone: '+821012345678',
            firstName: 'Min',
            lastName: 'Kim',
            country: 'KR',
          },
          email: 'kim@example.com',
          placedAt: Date.UTC(2025, 4, 6, 10),
          placedOffset: 0,
          currency: 'EUR',
          subtotalMinor: 2300,
          shippingMinor: 300,
          taxMinor: 100,
          discountMinor: 200,
          totalMinor: 2500,
          refundedMinor: undefined,
          status: 'paid',
          discountCodes: ['SPRING', 'VIP', 'FREE'],
          country: 'KR',
          lines: [
            {
              lineNo: 1,
              sku: 'S-1',
              title: 'Mug',
              category: 'Home',
              quantity: 2,
              unitPriceMinor: 1000,
              discountMinor: 200,
              totalMinor: 1800,
              kind: 'product',
            },
            {
              lineNo: 2,
              sku: 'S-2',
              title: undefined,
              category: undefined,
              quantity: 1,
              unitPriceMinor: 500,
              discountMinor: 0,
              totalMinor: 500,
              kind: 'product',
            },
          ],
        },
      ],
      [
        4,
        {
          externalId: 'B-2',
          // A customer id without an e-mail is a customer.
          customer: {
            externalId: 'c-10',
            email: undefined,
            phone: undefined,
            firstName: undefined,
            lastName: undefined,
            country: undefined,
          },
          email: undefined,
          placedAt: Date.UTC(2025, 4, 7),
          placedOffset: 0,
          currency: 'USD',
          subtotalMinor: 0,
          shippingMinor: 0,
          taxMinor: 0,
          discountMinor: 0,
          totalMinor: 750,
          refundedMinor: undefined,
          status: 'pending',
          discountCodes: [],
          country: undefined,
          lines: [],
        },
      ],
    ]);
  });

  test('a row with neither an e-mail nor a customer id is a guest order: no customer, whatever else it names', async () => {
    const items = await parseText(
      csv,
      'order_id,placed_at,customer_id,email,phone,first_name,last_name,country,currency,total\n' +
        'G-1,2025-05-08T00:00:00Z,,,+82 10 1234 5678,Min,Kim,KR,EUR,9.00\n',
    );
    assert.deepEqual(rejects(items), []);
    // A phone and a name identify nobody: the order has no customer (the country stays on the order).
    assert.deepEqual(
      orders(items).map(([line, o]) => [line, o.externalId, o.customer, o.email, o.country, o.totalMinor]),
      [[2, 'G-1', undefined, undefined, 'KR', 900]],
    );
  });

  test('refunds: a sign is dropped, the amount sets the status, cancelled stays, more than the total refused', async () => {
    const items = await parseText(
      csv,
      'order_id,placed_at,currency,total,refunded,status\n' +
        'R-1,2025-01-01,EUR,20.00,-5.00,paid\n' +
        'R-2,2025-01-01,EUR,20.00,20.00,paid\n' +
        'R-3,2025-01-01,EUR,20.00,0,pending\n' +
        'R-4,2025-01-01,EUR,20.00,0,refunded\n' +
        'R-5,2025-01-01,EUR,20.00,4.00,cancelled\n' +
        'R-6,2025-01-01,EUR,20.00,,refunded\n' +
        'R-7,2025-01-01,EUR,20.00,,partially_refunded\n' +
        'R-8,2025-01-01,EUR,20.00,20.01,paid\n' +
        'R-9,2025-01-01,EUR,20.00,,shipped-ish\n',
    );
    assert.deepEqual(
      orders(items).map(([line, o]) => [line, o.externalId, o.refundedMinor, o.status]),
      [
        [2, 'R-1', 500, 'partially_refunded'],
        [3, 'R-2', 2000, 'refunded'],
        [4, 'R-3', 0, 'pending'],
        [5, 'R-4', 0, 'paid'],
        [6, 'R-5', 400, 'cancelled'],
        // Without an amount, "refunded" is all of it.
        [7, 'R-6', 2000, 'refunded'],
      ],
    );
    assert.deepEqual(rejects(items), [
      [8, 'refunded', 'is empty, but the status says partially refunded: give the amount'],
      [9, 'refunded', "2001 minor units is more than the order's total of 2000"],
      [10, 'status', '"shipped-ish" is not a known order status'],
    ]);
  });

  test('rows refused: an empty order id, an order that comes back, no total and no lines', async () => {
    const items = await parseText(
      csv,
      'order_id,placed_at,currency,total,unit_price\n' +
        'X-1,2025-01-01,EUR,1.00,\n' +
        ',2025-01-01,EUR,1.00,\n' +
        'X-2,2025-01-01,EUR,1.00,\n' +
        'X-1,2025-01-01,EUR,1.00,\n' +
        'X-3,2025-01-01,EUR,,\n' +
        'X-4,2025-01-01,EUR,,2.50\n',
    );
    assert.deepEqual(rejects(items), [
      [3, 'order_id', 'is empty'],
      [
        5,
        'order_id',
        'order "X-1" started at line 2 and other orders came between; keep the rows of one order together',
      ],
      [6, 'total', 'is empty'],
    ]);
    // X-4 has a line (its unit price) and no total: the total is the line's, 2.50.
    assert.deepEqual(
      orders(items).map(([line, o]) => [line, o.externalId, o.totalMinor]),
      [
        [2, 'X-1', 100],
        [4, 'X-2', 100],
        [7, 'X-4', 250],
      ],
    );
  });

  test('header refusals: no total or unit price, a mapped column missing, an unknown field, an empty file', async () => {
    await refusedAtHeader(parseText(csv, 'order_id,placed_at\nA,2025-01-01\n'), 'missing column "total"');
    await refusedAtHeader(
      parseText(csv, 'order_id,placed_at,Sum\nA,2025-01-01,1\n', { map: { Amount: 'total' } }),
      'missing column "Amount"',
    );
    await refusedAtHeader(
      parseText(csv, 'order_id,placed_at,total\nA,2025-01-01,1\n', { map: { Mail: 'email' } }),
      'missing column "Mail"',
    );
    await refusedAtHeader(
      parseText(csv, 'order_id,placed_at,total\nA,2025-01-01,1\n', { map: { Mail: 'e-mail' } }),
      '--map Mail=e-mail: unknown field; fields are order_id, placed_at, customer_id, email, phone, first_name, last_name, country, currency, status, total, subtotal, shipping, tax, discount, refunded, discount_code, sku, title, category, quantity, unit_price, line_total',
    );
    await refusedAtHeader(parseText(csv, ''), 'the file is empty');
    await refusedAtHeader(parseText(csv, 'placed_at,total\n2025-01-01,1\n'), 'missing column "order_id"');
  });
});
