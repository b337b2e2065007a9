import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseText, rejects } from '../../../test/parse-format.js';
import { ComebackError } from '../../errors.js';
import type { ParsedItem } from './format.js';
import { shopify } from './shopify.js';

const HEADER =
  'Name,Id,Email,Financial Status,Accepts Marketing,Currency,Subtotal,Shipping,Taxes,Total,Discount Code,Discount Amount,Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku,Lineitem discount,Billing Name,Billing Address1,Billing City,Billing Zip,Billing Country,Phone,Refunded Amount,Cancelled at,Vendor,Payment Method,Referring Site,Landing Site,Source\n';

function orders(items: ParsedItem[]) {
  return items.flatMap((i) => (i.kind === 'order' ? [[i.line, i.order] as const] : []));
}

describe('Shopify orders and customers exports, value by value', () => {
  test('an order of two rows: its fields on the first, each line’s own, consent, acquisition, a partial refund', async () => {
    const items = await parseText(
      shopify,
      HEADER +
        '#1001,5001, Eve@Example.com ,partially_refunded,yes,EUR,30.00,4.00,5.70,37.70,"SAVE2, VIP",2.00,2025-03-01 10:00:00 +0100,2,Mug,10.00,MUG-1,2.00,Eve Ada Byron,1 High St,Leeds,LS1 1AA,GB,+44 113 496 0000,7.70,,Acme,card,https://www.google.com/search?q=mug,/products/mug?utm_source=News&utm_medium=email,web\n' +
        '#1001,,,,,,,,,,,,,1,Tee,10.00,,,,,,,,,,,Acme2,,,,\n',
    );
    assert.deepEqual(rejects(items), []);
    // Lines: 2 × 10.00 less 2.00 = 18.00, and 1 × 10.00. 10:00 at +01:00 is 09:00 UTC.
    assert.deepEqual(orders(items), [
      [
        2,
        {
          externalId: '5001',
          name: '#1001',
          customer: {
            email: 'eve@example.com',
            phone: '+441134960000',
            firstName: 'Eve Ada',
            lastName: 'Byron',
            city: 'Leeds',
            country: 'GB',
            postcode: 'LS1 1AA',
            address: '1 high st, leeds, ls1 1aa, gb',
            consents: [{ channel: 'email', granted: true, at: Date.UTC(2025, 2, 1, 9), source: 'shopify-export' }],
          },
          email: 'eve@example.com',
          placedAt: Date.UTC(2025, 2, 1, 9),
          placedOffset: 60,
          currency: 'EUR',
          subtotalMinor: 3000,
          shippingMinor: 400,
          taxMinor: 570,
          discountMinor: 200,
          totalMinor: 3770,
          refundedMinor: 770,
          status: 'partially_refunded',
          discountCodes: ['SAVE2', 'VIP'],
          country: 'GB',
          cancelledAt: undefined,
          acquisition: {
            paymentMethod: 'card',
            referringSite: 'www.google.com',
            landingSite: '/products/mug?utm_source=News&utm_medium=email',
            channel: 'web',
            utmSource: 'news',
            utmMedium: 'email',
            utmCampaign: undefined,
          },
          lines: [
            {
              lineNo: 1,
              sku: 'MUG-1',
              title: 'Mug',
              category: 'Acme',
              quantity: 2,
              unitPriceMinor: 1000,
              discountMinor: 200,
              totalMinor: 1800,
              kind: 'product',
            },
            {
              lineNo: 2,
              sku: undefined,
              title: 'Tee',
              category: 'Acme2',
              quantity: 1,
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

  test('a cancelled guest order without an id or e-mail; an unknown financial status is pending; bad rows', async () => {
    const items = await parseText(
      shopify,
      HEADER +
        '#1002,,,paid,no,USD,5.00,0,0,5.00,,,2025-03-02 08:00:00,1,Pin,5.00,,,,,,,,,,2025-03-03 08:00:00,,,,,\n' +
        '#1003,,dan@example.com,on the way,no,USD,5.00,0,0,5.00,,,2025-03-02 09:00:00,1,Pin,5.00,,,,,,,,,,,,,,,\n' +
        ',,,paid,,USD,5.00,0,0,5.00,,,2025-03-02 09:00:00,1,Pin,5.00,,,,,,,,,,,,,,,\n' +
        '#1004,,nobody,paid,,USD,5.00,0,0,5.00,,,2025-03-02 09:00:00,1,Pin,5.00,,,,,,,,,,,,,,,\n' +
        '#1005,,,paid,,USD,5.00,0,0,5.00,,,2025-03-02 09:00:00,1,Pin,5.00,,,,,,,,,6.00,,,,,,\n' +
        '#1006,,fay@example.com,refunded,,USD,5.00,0,0,5.00,,,2025-03-02 09:00:00,1,Pin,5.00,,,,,,,,,5.00,,,,,,\n',
    );
    assert.deepEqual(rejects(items), [
      [4, 'Name', 'is empty'],
      [5, 'Email', '"nobody" is not an e-mail address'],
      [6, 'Refunded Amount', "600 minor units is more than the order's total of 500"],
    ]);
    // A reject carries its raw row, for the rejects file.
    const empty = items.find((i) => i.kind === 'reject' && i.line === 4);
    assert.deepEqual(empty?.kind === 'reject' ? empty.rows : undefined, [
      ',,,paid,,USD,5.00,0,0,5.00,,,2025-03-02 09:00:00,1,Pin,5.00,,,,,,,,,,,,,,,'.split(','),
    ]);
    const [cancelled, unknown] = orders(items).map(([, o]) => o);
    assert.deepEqual(
      [cancelled?.externalId, cancelled?.name, cancelled?.customer, cancelled?.status, cancelled?.cancelledAt],
      ['#1002', '#1002', undefined, 'cancelled', Date.UTC(2025, 2, 3, 8)],
    );
    assert.deepEqual([unknown?.externalId, unknown?.status], ['#1003', 'pending']);
    // Accepts Marketing "no" is a refusal dated at the order; empty says nothing.
    assert.deepEqual(unknown?.customer?.consents, [
      { channel: 'email', granted: false, at: Date.UTC(2025, 2, 2, 9), source: 'shopify-export' },
    ]);
    // A refund of the whole total is allowed (only more is refused).
    const [, , whole] = orders(items).map(([, o]) => o);
    assert.deepEqual(
      [whole?.externalId, whole?.refundedMinor, whole?.status, whole?.customer?.consents],
      ['#1006', 500, 'refunded', []],
    );
  });

  test('the customers export is told by Total Orders without Lineitem name; consent per channel at the import', async () => {
    const items = await parseText(
      shopify,
      'Customer ID,First Name,Last Name,Email,Accepts Email Marketing,Accepts SMS Marketing,Default Address Address1,Default Address City,Default Address Zip,Default Address Country Code,Phone,Total Orders\n' +
        "'7001,Ann,Lee,ANN@example.com,no,yes,2 Low St,York,YO1 7HH,GB,'+44 1904 000000,3\n" +
        ',,,,,,,,,,,0\n' +
        '7002,,,,,,,,,,,1\n',
      { now: Date.UTC(2026, 0, 1) },
    );
    assert.deepEqual(items, [
      {
        kind: 'customer',
        line: 2,
        customer: {
          externalId: '7001',
          email: 'ann@example.com',
          phone: '+441904000000',
          firstName: 'Ann',
          lastName: 'Lee',
          city: 'York',
          country: 'GB',
          postcode: 'YO1 7HH',
          address: '2 low st, york, yo1 7hh',
          consents: [
            { channel: 'email', granted: false, at: Date.UTC(2026, 0, 1), source: 'shopify-export' },
            { channel: 'sms', granted: true, at: Date.UTC(2026, 0, 1), source: 'shopify-export' },
          ],
        },
      },
      {
        kind: 'reject',
        line: 3,
        field: 'Email',
        message: 'neither an e-mail nor a customer id',
        rows: [['', '', '', '', '', '', '', '', '', '', '', '0']],
      },
      {
        // A customer id without an e-mail is a customer.
        kind: 'customer',
        line: 4,
        customer: {
          externalId: '7002',
          email: undefined,
          phone: undefined,
          firstName: undefined,
          lastName: undefined,
          city: undefined,
          country: undefined,
          postcode: undefined,
          address: undefined,
          consents: [],
        },
      },
    ]);
  });

  test('a header of neither export is read as an orders export and stops at its first missing column', async () => {
    // Total Spent alone also tells a customers export.
    assert.deepEqual(
      (await parseText(shopify, 'Email,Total Spent\nbo@example.com,3.00\n')).map((i) =>
        i.kind === 'customer' ? [i.line, i.customer.email] : i.kind,
      ),
      [[2, 'bo@example.com']],
    );
    await assert.rejects(
      parseText(shopify, 'Email,Total Spent,Lineitem name\nx@example.com,1,Mug\n'),
      (error: unknown) => {
        assert.ok(error instanceof ComebackError);
        assert.equal(error.message, 'missing column "Name"');
        assert.deepEqual([error.location?.line, error.location?.field], [1, 'header']);
        return true;
      },
    );
    await assert.rejects(parseText(shopify, HEADER), (error: unknown) => {
      assert.ok(error instanceof ComebackError);
      assert.equal(error.message, 'the file has a header and no orders');
      assert.deepEqual([error.location?.line, error.location?.field], [2, 'row']);
      return true;
    });
    await assert.rejects(parseText(shopify, ''), (error: unknown) => {
      assert.ok(error instanceof ComebackError);
      assert.equal(error.message, 'the file is empty');
      assert.deepEqual([error.location?.line, error.location?.field], [1, 'header']);
      return true;
    });
  });
});
