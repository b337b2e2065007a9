import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { DIALECTS, freshDatabase, type TestDb } from '../../test/setup.js';
import { countRows } from '../store/index.js';
import type { ApiApp } from './app.types.js';
import { buildApp } from './build-app.js';
import { parseJsonKeepingBigIntegers } from './shopify-webhook.js';

const NOW = Date.UTC(2026, 0, 15, 12);
const SECRET = 'shpss_webhook_truth';

/** Money as Shopify's REST 2024-04 `*_set` objects carry it. */
const set = (shop: string, presentment = shop, shopCode = 'USD', presentmentCode = shopCode) => ({
  shop_money: { amount: shop, currency_code: shopCode },
  presentment_money: { amount: presentment, currency_code: presentmentCode },
});

/** An order shaped like Shopify's REST 2024-04 Order object (the fields Comeback reads, and some it does not). */
function shopifyOrder(id: number | string, over: Record<string, unknown> = {}) {
  return {
    id,
    admin_graphql_api_id: `gid://shopify/Order/${id}`,
    name: '#1001',
    email: 'ada@example.com',
    created_at: '2026-01-12T10:00:00-05:00',
    updated_at: '2026-01-12T10:00:00-05:00',
    processed_at: '2026-01-12T10:00:00-05:00',
    currency: 'USD',
    presentment_currency: 'USD',
    financial_status: 'paid',
    cancelled_at: null,
    test: false,
    gateway: 'shopify_payments',
    subtotal_price: '20.00',
    subtotal_price_set: set('20.00'),
    total_price: '20.00',
    total_price_set: set('20.00'),
    total_tax: '0.00',
    total_tax_set: set('0.00'),
    total_discounts: '0.00',
    total_discounts_set: set('0.00'),
    total_shipping_price_set: set('0.00'),
    discount_codes: [],
    customer: { id: 7001, email: 'ada@example.com', first_name: 'Ada', last_name: 'Lovelace' },
    billing_address: { country_code: 'US', city: 'Boston' },
    line_items: [
      {
        id: 1,
        sku: 'TEA-1',
        title: 'Tea',
        quantity: 2,
        price: '10.00',
        price_set: set('10.00'),
        total_discount: '0.00',
        total_discount_set: set('0.00'),
      },
    ],
    refunds: [],
    ...over,
  };
}

/** A refund shaped like Shopify's REST 2024-04 Refund object. */
function shopifyRefund(id: number | string, orderId: number | string, over: Record<string, unknown> = {}) {
  return {
    id,
    order_id: orderId,
    created_at: '2026-01-13T09:00:00-05:00',
    processed_at: '2026-01-13T09:00:00-05:00',
    note: 'damaged',
    restock: false,
    refund_line_items: [
      {
        id: 11,
        line_item_id: 1,
        quantity: 1,
        restock_type: 'no_restock',
        subtotal: 10.0,
        subtotal_set: set('10.00'),
        total_tax: 0.0,
        total_tax_set: set('0.00'),
      },
    ],
    transactions: [
      {
        id: 21,
        order_id: orderId,
        kind: 'refund',
        gateway: 'shopify_payments',
        status: 'success',
        amount: '10.00',
        currency: 'USD',
        test: false,
      },
    ],
    order_adjustments: [],
    ...over,
  };
}

for (const dialect of DIALECTS) {
  describe(`Shopify webhooks as Shopify sends them, on ${dialect.name}`, { skip: dialect.skip }, () => {
    let t: TestDb;
    let app: ApiApp;
    let hook = 0;
    const send = (topic: string, body: unknown, headers: Record<string, string> = {}) => {
      const payload = typeof body === 'string' ? body : JSON.stringify(body);
      hook += 1;
      return app.inject({
        method: 'POST',
        url: '/api/v1/webhooks/shopify',
        headers: {
          'content-type': 'application/json',
          'x-shopify-topic': topic,
          'x-shopify-webhook-id': `wh-${hook}`,
          'x-shopify-hmac-sha256': createHmac('sha256', SECRET).update(payload).digest('base64'),
          ...headers,
        },
        payload,
      });
    };
    const order = async (externalId: string) =>
      t.store.db
        .selectFrom('orders')
        .selectAll()
        .where('source', '=', 'shopify')
        .where('external_id', '=', externalId)
        .executeTakeFirst();

    before(async () => {
      t = await freshDatabase(dialect.name);
      app = await buildApp({ store: t.store, now: () => NOW, shopifySecret: SECRET, rateLimit: false });
    });
    after(async () => {
      await app?.close();
      await t?.drop();
    });

    test('orders/updated (paid, 10:00:01) before orders/create (pending, 10:00:00) leaves it paid', async () => {
      const paid = shopifyOrder(4001, { updated_at: '2026-01-12T10:00:01-05:00', financial_status: 'paid' });
      const pending = shopifyOrder(4001, { updated_at: '2026-01-12T10:00:00-05:00', financial_status: 'pending' });
      assert.equal((await send('orders/updated', paid)).statusCode, 200);
      const late = await send('orders/create', pending);
      assert.equal(late.statusCode, 200);
      assert.equal(late.json().ignored, true);
      assert.match(late.json().reason, /older state/);
      const row = await order('4001');
      assert.deepEqual(
        [row?.status, row?.total_minor, row?.source_updated_at],
        ['paid', 2000, Date.UTC(2026, 0, 12, 15, 0, 1)],
      );
      // Shopify's order name, as the merchant knows it, beside the numeric id.
      assert.deepEqual([row?.external_id, row?.name], ['4001', '#1001']);
    });

    test('a retried orders/create (paid) after cancellation and refund does not make the order paid again', async () => {
      const created = shopifyOrder(4002, { updated_at: '2026-01-12T10:00:00-05:00' });
      assert.equal((await send('orders/create', created)).statusCode, 200);
      const refund = shopifyRefund(9402, 4002, {
        refund_line_items: [
          {
            id: 12,
            line_item_id: 1,
            quantity: 2,
            subtotal: 20.0,
            subtotal_set: set('20.00'),
            total_tax_set: set('0.00'),
          },
        ],
        transactions: [{ id: 22, kind: 'refund', status: 'success', amount: '20.00', currency: 'USD' }],
      });
      const cancelled = shopifyOrder(4002, {
        updated_at: '2026-01-12T11:00:00-05:00',
        cancelled_at: '2026-01-12T11:00:00-05:00',
        cancel_reason: 'customer',
        financial_status: 'refunded',
        refunds: [refund],
      });
      const answer = await send('orders/cancelled', cancelled);
      assert.deepEqual([answer.statusCode, answer.json().ignored], [200, false]);
      let row = await order('4002');
      assert.deepEqual([row?.status, row?.refunded_minor], ['cancelled', 2000]);
      // Shopify retries the first delivery hours later.
      const retried = await send('orders/create', created);
      assert.equal(retried.json().ignored, true);
      row = await order('4002');
      assert.deepEqual(
        [row?.status, row?.refunded_minor, row?.cancelled_at],
        ['cancelled', 2000, Date.UTC(2026, 0, 12, 16)],
      );
    });

    test('without updated_at, X-Shopify-Triggered-At decides which state is newer', async () => {
      const { updated_at: _u, ...paid } = shopifyOrder(4003, { financial_status: 'paid' });
      const { updated_at: _v, ...pending } = shopifyOrder(4003, { financial_status: 'pending' });
      await send('orders/updated', paid, { 'x-shopify-triggered-at': '2026-01-12T15:00:05.000Z' });
      const late = await send('orders/create', pending, { 'x-shopify-triggered-at': '2026-01-12T15:00:04.000Z' });
      assert.equal(late.json().ignored, true);
      assert.equal((await order('4003'))?.status, 'paid');
    });

    test('orders/cancelled with the full order payload cancels it', async () => {
      await send('orders/create', shopifyOrder(4004));
      const answer = await send(
        'orders/cancelled',
        shopifyOrder(4004, {
          updated_at: '2026-01-12T12:00:00-05:00',
          cancelled_at: '2026-01-12T12:00:00-05:00',
          financial_status: 'voided',
        }),
      );
      assert.deepEqual([answer.statusCode, answer.json().ignored], [200, false]);
      assert.equal((await order('4004'))?.status, 'cancelled');
    });

    test('a refund that arrives before its order is attached when the order arrives', async () => {
      const early = await send('refunds/create', shopifyRefund(9501, 5001));
      assert.equal(early.statusCode, 200);
      assert.match(early.json().notes.join(' '), /not in the store yet/);
      assert.equal(await order('5001'), undefined);
      await send('orders/create', shopifyOrder(5001));
      const row = await order('5001');
      assert.deepEqual([row?.refunded_minor, row?.status], [1000, 'partially_refunded']);
      const refund = await t.store.db
        .selectFrom('refunds')
        .selectAll()
        .where('external_id', '=', '9501')
        .executeTakeFirstOrThrow();
      assert.equal(refund.order_id, row?.id);
      assert.equal(refund.customer_id, row?.customer_id);
      // The order's own later update carries the same refund: counted once.
      await send(
        'orders/updated',
        shopifyOrder(5001, {
          updated_at: '2026-01-13T09:00:00-05:00',
          financial_status: 'partially_refunded',
          refunds: [shopifyRefund(9501, 5001)],
        }),
      );
      assert.equal((await order('5001'))?.refunded_minor, 1000);
    });

    test('refund lines with no refund transaction move no money, and the answer says so', async () => {
      await send('orders/create', shopifyOrder(5002));
      const answer = await send(
        'refunds/create',
        shopifyRefund(9502, 5002, {
          refund_line_items: [
            {
              id: 13,
              line_item_id: 1,
              quantity: 2,
              restock_type: 'return',
              subtotal: 20.0,
              subtotal_set: set('20.00'),
              total_tax_set: set('0.00'),
            },
          ],
          transactions: [],
        }),
      );
      assert.equal(answer.statusCode, 200);
      assert.match(
        answer.json().notes[0],
        /lines amount to \$20\.00 and its refund transactions to \$0\.00; only transactions move money, \$0\.00 counted/,
      );
      const row = await order('5002');
      assert.deepEqual([row?.refunded_minor, row?.status], [0, 'paid']);
      const refund = await t.store.db
        .selectFrom('refunds')
        .selectAll()
        .where('external_id', '=', '9502')
        .executeTakeFirstOrThrow();
      assert.deepEqual([refund.amount_minor, refund.lines_amount_minor], [0, 2000]);
    });

    test('shop currency USD, presentment EUR: amounts in shop money, the refund converted, EUR kept beside', async () => {
      // The customer paid 4.00 EUR; the shop booked 4.40 USD.
      const eur = (usd: string, e: string) => set(usd, e, 'USD', 'EUR');
      await send(
        'orders/create',
        shopifyOrder(5003, {
          presentment_currency: 'EUR',
          subtotal_price: '4.40',
          subtotal_price_set: eur('4.40', '4.00'),
          total_price: '4.40',
          total_price_set: eur('4.40', '4.00'),
          line_items: [{ id: 1, sku: 'PEN', title: 'Pen', quantity: 1, price: '4.40', price_set: eur('4.40', '4.00') }],
        }),
      );
      await send(
        'refunds/create',
        shopifyRefund(9503, 5003, {
          refund_line_items: [{ id: 14, line_item_id: 1, quantity: 1, subtotal_set: eur('4.40', '4.00') }],
          transactions: [{ id: 23, kind: 'refund', status: 'success', amount: '4.00', currency: 'EUR' }],
        }),
      );
      const row = await order('5003');
      assert.deepEqual(
        [row?.currency, row?.total_minor, row?.refunded_minor, row?.status],
        ['USD', 440, 440, 'refunded'],
      );
      assert.deepEqual([row?.presentment_currency, row?.presentment_total_minor], ['EUR', 400]);
      const refund = await t.store.db
        .selectFrom('refunds')
        .selectAll()
        .where('external_id', '=', '9503')
        .executeTakeFirstOrThrow();
      assert.deepEqual(
        [refund.amount_minor, refund.currency, refund.presentment_amount_minor, refund.presentment_currency],
        [440, 'USD', 400, 'EUR'],
      );
    });

    test('a EUR refund that comes before its USD order is converted at the order rate when it arrives', async () => {
      // Half of 8.00 EUR = 4.00 EUR; the order is 8.80 USD, so 4.40 USD.
      await send(
        'refunds/create',
        shopifyRefund(9504, 5004, {
          refund_line_items: [],
          transactions: [{ id: 24, kind: 'refund', status: 'success', amount: '4.00', currency: 'EUR' }],
        }),
      );
      const eur = (usd: string, e: string) => set(usd, e, 'USD', 'EUR');
      await send(
        'orders/create',
        shopifyOrder(5004, {
          presentment_currency: 'EUR',
          total_price: '8.80',
          total_price_set: eur('8.80', '8.00'),
          subtotal_price_set: eur('8.80', '8.00'),
        }),
      );
      const row = await order('5004');
      assert.deepEqual([row?.total_minor, row?.refunded_minor, row?.status], [880, 440, 'partially_refunded']);
    });

    test('"test": true orders are kept out: no order, no customer, no refund', async () => {
      const customers = await countRows(t.store.db, 'customers');
      await send('refunds/create', shopifyRefund(9505, 5005));
      const answer = await send(
        'orders/create',
        shopifyOrder(5005, {
          test: true,
          gateway: 'bogus',
          email: 'merchant@shop.example',
          customer: { id: 9999, email: 'merchant@shop.example' },
        }),
      );
      assert.deepEqual([answer.statusCode, answer.json().ignored], [200, true]);
      assert.match(answer.json().reason, /test order/);
      assert.equal(await order('5005'), undefined);
      assert.equal(await countRows(t.store.db, 'customers'), customers);
      const refunds = await t.store.db.selectFrom('refunds').select('id').where('external_id', '=', '9505').execute();
      assert.equal(refunds.length, 0);
      const testRefund = await send(
        'refunds/create',
        shopifyRefund(9506, 5005, {
          transactions: [{ kind: 'refund', status: 'success', amount: '10.00', currency: 'USD', test: true }],
        }),
      );
      assert.equal(testRefund.json().ignored, true);
    });

    test('ids beyond 2^53 are kept exactly, from the raw body to the store', async () => {
      const raw = JSON.stringify(shopifyOrder('ID', { customer: { id: 'CID', email: 'big@example.com' } }))
        .replace('"id":"ID"', '"id":820982911946154508')
        .replace('"id":"CID"', '"id":115310627314723954');
      assert.match(raw, /"id":820982911946154508/);
      assert.equal((await send('orders/create', raw)).statusCode, 200);
      const row = await order('820982911946154508');
      assert.ok(row, 'the order is stored under its exact id');
      const identity = await t.store.db
        .selectFrom('customer_identities')
        .select('external_id')
        .where('customer_id', '=', row.customer_id!)
        .where('source', '=', 'shopify')
        .executeTakeFirstOrThrow();
      assert.equal(identity.external_id, '115310627314723954');
      const refundRaw = JSON.stringify(shopifyRefund('RID', 'OID'))
        .replace('"id":"RID"', '"id":929361462')
        .replace(/"order_id":"OID"/g, '"order_id":820982911946154508');
      await send('refunds/create', refundRaw);
      assert.equal((await order('820982911946154508'))?.refunded_minor, 1000);
    });

    test('the big-integer JSON reading leaves strings, decimals and small numbers alone', () => {
      const parsed = parseJsonKeepingBigIntegers(
        '{"a":820982911946154508,"b":"820982911946154508 \\" 99999999999999999","c":12.50,"d":-9007199254740993,"e":[1,2e3]}',
      );
      assert.deepEqual(parsed, {
        a: '820982911946154508',
        b: '820982911946154508 " 99999999999999999',
        c: 12.5,
        d: '-9007199254740993',
        e: [1, 2000],
      });
    });

    test('customers/update changing the e-mail is followed; the old address stays theirs', async () => {
      await send(
        'orders/create',
        shopifyOrder(6001, { email: 'old@example.com', customer: { id: 8001, email: 'old@example.com' } }),
      );
      const before = await countRows(t.store.db, 'customers');
      const update = await send('customers/update', {
        id: 8001,
        email: 'new@example.com',
        first_name: 'Mary',
        updated_at: '2026-01-13T10:00:00Z',
        default_address: { country_code: 'US' },
      });
      assert.equal(update.statusCode, 200);
      const customerId = (await order('6001'))?.customer_id;
      const row = await t.store.db
        .selectFrom('customers')
        .selectAll()
        .where('id', '=', customerId!)
        .executeTakeFirstOrThrow();
      assert.equal(row.email, 'new@example.com');
      // A guest order under the new address, then one under the old: both are this customer's.
      await send('orders/create', shopifyOrder(6002, { email: 'new@example.com', customer: null }));
      await send('orders/create', shopifyOrder(6003, { email: 'old@example.com', customer: null }));
      assert.equal((await order('6002'))?.customer_id, customerId);
      assert.equal((await order('6003'))?.customer_id, customerId);
      assert.equal(await countRows(t.store.db, 'customers'), before);
    });

    test('an e-mail change onto another Shopify customer is a 409; onto a guest record, the guest is merged', async () => {
      await send(
        'orders/create',
        shopifyOrder(6101, { email: 'one@example.com', customer: { id: 8101, email: 'one@example.com' } }),
      );
      await send(
        'orders/create',
        shopifyOrder(6102, { email: 'two@example.com', customer: { id: 8102, email: 'two@example.com' } }),
      );
      const clash = await send('customers/update', {
        id: 8101,
        email: 'two@example.com',
        updated_at: '2026-01-13T10:00:00Z',
      });
      assert.equal(clash.statusCode, 409);
      assert.equal(clash.json().error.field, 'email');
      assert.match(clash.json().error.message, /another Shopify customer/);
      const one = await t.store.db
        .selectFrom('customers')
        .select('email')
        .where('id', '=', (await order('6101'))!.customer_id!)
        .executeTakeFirstOrThrow();
      assert.equal(one.email, 'one@example.com');
      // A guest checkout under three@, then customer 8101 takes three@: one shopper, one customer.
      await send('orders/create', shopifyOrder(6103, { email: 'three@example.com', customer: null }));
      const guest = (await order('6103'))!.customer_id!;
      const merge = await send('customers/update', {
        id: 8101,
        email: 'three@example.com',
        updated_at: '2026-01-13T11:00:00Z',
      });
      assert.equal(merge.statusCode, 200);
      const owner = (await order('6101'))!.customer_id!;
      assert.equal((await order('6103'))?.customer_id, owner);
      const gone = await t.store.db.selectFrom('customers').select('id').where('id', '=', guest).execute();
      assert.equal(gone.length, 0);
    });

    test('phones are stored in E.164 with the customer country, and a poorer form does not replace them', async () => {
      await send('customers/create', {
        id: 8201,
        email: 'phone@example.com',
        phone: '(415) 555-0100',
        default_address: { country_code: 'US', phone: null },
        created_at: '2026-01-10T10:00:00Z',
        updated_at: '2026-01-10T10:00:00Z',
      });
      const read = () =>
        t.store.db
          .selectFrom('customers')
          .select('phone')
          .where('email', '=', 'phone@example.com')
          .executeTakeFirstOrThrow();
      assert.equal((await read()).phone, '+14155550100');
      await send('customers/update', {
        id: 8201,
        email: 'phone@example.com',
        phone: '415-555-0100',
        updated_at: '2026-01-11T10:00:00Z',
      });
      assert.equal((await read()).phone, '+14155550100');
      await send('customers/update', {
        id: 8201,
        email: 'phone@example.com',
        phone: '+44 20 7946 0958',
        updated_at: '2026-01-12T10:00:00Z',
      });
      assert.equal((await read()).phone, '+442079460958');
    });

    test('amounts beyond bounds and unknown currencies are refused naming the field', async () => {
      const huge = await send(
        'orders/create',
        shopifyOrder(6301, { total_price: '1e308', total_price_set: set('1e308') }),
      );
      assert.deepEqual([huge.statusCode, huge.json().error.field], [400, 'total_price']);
      const zzz = await send(
        'orders/create',
        shopifyOrder(6302, { currency: 'ZZZ', total_price_set: set('20.00', '20.00', 'ZZZ') }),
      );
      assert.deepEqual([zzz.statusCode, zzz.json().error.field], [400, 'currency']);
      const negative = await send(
        'orders/create',
        shopifyOrder(6303, { total_price: '-5.00', total_price_set: set('-5.00') }),
      );
      assert.deepEqual([negative.statusCode, negative.json().error.field], [400, 'total_price']);
      assert.equal(await order('6301'), undefined);
    });
  });
}
