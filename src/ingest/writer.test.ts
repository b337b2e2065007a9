import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { euroOrder } from '../../test/recommend-fixtures.js';
import { DIALECTS, freshDatabase } from '../../test/setup.js';
import type { OrderInput } from './records.js';
import { ImportWriter } from './writer.js';

for (const dialect of DIALECTS) {
  describe(`ImportWriter on ${dialect.name}`, { skip: dialect.skip }, () => {
    test('every column of an order and its lines as written, then as a corrected export rewrites them', async () => {
      const t = await freshDatabase(dialect.name);
      try {
        const db = t.store.db;
        // 2025-03-01 23:30 UTC at +02:00 is the 2nd locally.
        const placedAt = Date.UTC(2025, 2, 1, 23, 30);
        const first: OrderInput = {
          externalId: 'W-1',
          name: '#W1',
          customer: { email: 'Wanda@Example.com', firstName: 'Wanda' },
          email: ' Wanda@Example.com ',
          placedAt,
          placedOffset: 120,
          currency: 'EUR',
          subtotalMinor: 3000,
          shippingMinor: 500,
          taxMinor: 300,
          discountMinor: 200,
          totalMinor: 3600,
          refundedMinor: 600,
          status: 'partially_refunded',
          discountCodes: ['SPRING', 'VIP'],
          country: 'germany',
          cancelledAt: undefined,
          acquisition: {
            paymentMethod: 'card',
            referringSite: 'www.google.com',
            landingSite: '/?utm_source=news',
            channel: 'web',
            utmSource: 'news',
            utmMedium: 'email',
            utmCampaign: 'spring',
          },
          lines: [
            {
              lineNo: 1,
              sku: 'W-SKU',
              title: 'Widget',
              category: 'Tools',
              quantity: 3,
              unitPriceMinor: 1000,
              discountMinor: 200,
              totalMinor: 2800,
              kind: 'product',
            },
            {
              lineNo: 2,
              sku: 'POST',
              title: 'Postage',
              quantity: 1,
              unitPriceMinor: 500,
              discountMinor: 0,
              totalMinor: 500,
              kind: 'shipping',
            },
          ],
        };
        const write = async (orders: OrderInput[], now: number) =>
          db.transaction().execute(async (trx) => {
            const writer = new ImportWriter(trx, 'test', now);
            await writer.writeOrders(orders);
            await writer.finish();
            return writer.stats;
          });
        const stats = await write([first], 1000);
        assert.deepEqual([stats.orders, stats.lines, stats.productsCreated], [1, 2, 1]);
        const stored = async () =>
          db
            .selectFrom('orders')
            .select([
              'external_id',
              'source',
              'email',
              'placed_at',
              'placed_offset',
              'placed_date',
              'currency',
              'subtotal_minor',
              'shipping_minor',
              'tax_minor',
              'discount_minor',
              'total_minor',
              'refunded_minor',
              'status',
              'discount_codes',
              'country',
              'cancelled_at',
              'imported_at',
              'payment_method',
              'referring_site',
              'landing_site',
              'sales_channel',
              'utm_source',
              'utm_medium',
              'utm_campaign',
              'name',
            ])
            .executeTakeFirstOrThrow()
            .then((o) => ({
              ...o,
              placed_at: Number(o.placed_at),
              cancelled_at: o.cancelled_at === null ? null : Number(o.cancelled_at),
              imported_at: Number(o.imported_at),
              subtotal_minor: Number(o.subtotal_minor),
              shipping_minor: Number(o.shipping_minor),
              tax_minor: Number(o.tax_minor),
              discount_minor: Number(o.discount_minor),
              total_minor: Number(o.total_minor),
              refunded_minor: Number(o.refunded_minor),
            }));
        const lines = async () =>
          (
            await db
              .selectFrom('order_lines')
              .leftJoin('products', 'products.id', 'order_lines.product_id')
              .select([
                'order_lines.line_no',
                'order_lines.sku',
                'order_lines.title',
                'order_lines.quantity',
                'order_lines.unit_price_minor',
                'order_lines.discount_minor',
                'order_lines.total_minor',
                'order_lines.kind',
                'products.sku as product_sku',
              ])
              .orderBy('order_lines.line_no')
              .execute()
          ).map((l) => [
            l.line_no,
            l.sku,
            l.title,
            Number(l.quantity),
            Number(l.unit_price_minor),
            Number(l.discount_minor),
            Number(l.total_minor),
            l.kind,
            l.product_sku,
          ]);
        assert.deepEqual(await stored(), {
          external_id: 'W-1',
          source: 'test',
          email: 'wanda@example.com',
          placed_at: placedAt,
          placed_offset: 120,
          placed_date: '2025-03-02',
          currency: 'EUR',
          subtotal_minor: 3000,
          shipping_minor: 500,
          tax_minor: 300,
          discount_minor: 200,
          total_minor: 3600,
          refunded_minor: 600,
          status: 'partially_refunded',
          discount_codes: '["SPRING","VIP"]',
          country: 'DE',
          cancelled_at: null,
          imported_at: 1000,
          payment_method: 'card',
          referring_site: 'www.google.com',
          landing_site: '/?utm_source=news',
          sales_channel: 'web',
          utm_source: 'news',
          utm_medium: 'email',
          utm_campaign: 'spring',
          name: '#W1',
        });
        // Only a product line with a SKU is a product; the postage line names none.
        assert.deepEqual(await lines(), [
          [1, 'W-SKU', 'Widget', 3, 1000, 200, 2800, 'product', 'W-SKU'],
          [2, 'POST', 'Postage', 1, 500, 0, 500, 'shipping', null],
        ]);
        const product = await db
          .selectFrom('products')
          .select(['sku', 'title', 'category', 'price_minor', 'currency'])
          .executeTakeFirstOrThrow();
        assert.deepEqual(
          { ...product, price_minor: Number(product.price_minor) },
          {
            sku: 'W-SKU',
            title: 'Widget',
            category: 'Tools',
            price_minor: 1000,
            currency: 'EUR',
          },
        );

        // The corrected export: every field changed, no refund of its own (a format whose refunds are
        // separate records): the stored refund and status stay, everything else is the new value.
        const second: OrderInput = {
          ...first,
          name: '#W1b',
          email: 'other@example.com',
          customer: undefined,
          placedAt: placedAt + 3_600_000,
          placedOffset: 0,
          subtotalMinor: 3100,
          shippingMinor: 400,
          taxMinor: 310,
          discountMinor: 100,
          totalMinor: 3710,
          refundedMinor: undefined,
          status: 'paid',
          discountCodes: ['AUTUMN'],
          country: 'Atlantis',
          cancelledAt: placedAt + 7_200_000,
          acquisition: { paymentMethod: 'cash' },
          lines: [{ ...first.lines[0]!, title: 'Widget v2', quantity: 4, totalMinor: 3800, discountMinor: 200 }],
        };
        const again = await write([second], 2000);
        assert.deepEqual([again.orders, again.lines, again.productsCreated], [1, 1, 0]);
        assert.deepEqual(await stored(), {
          external_id: 'W-1',
          source: 'test',
          email: 'other@example.com',
          placed_at: placedAt + 3_600_000,
          placed_offset: 0,
          placed_date: '2025-03-02',
          currency: 'EUR',
          subtotal_minor: 3100,
          shipping_minor: 400,
          tax_minor: 310,
          discount_minor: 100,
          total_minor: 3710,
          refunded_minor: 600,
          status: 'partially_refunded',
          discount_codes: '["AUTUMN"]',
          // Not a country isoCountry knows: stored as written.
          country: 'Atlantis',
          cancelled_at: placedAt + 7_200_000,
          // The first import's moment stays.
          imported_at: 1000,
          payment_method: 'cash',
          referring_site: null,
          landing_site: null,
          sales_channel: null,
          utm_source: null,
          utm_medium: null,
          utm_campaign: null,
          name: '#W1b',
        });
        // A third export that states the refund: it and the status are rewritten.
        await write([{ ...second, refundedMinor: 3710, status: 'refunded' }], 3000);
        const refunded = await stored();
        assert.deepEqual([refunded.refunded_minor, refunded.status], [3710, 'refunded']);
        // Line 1 rewritten; line 2, not in the corrected order, stays as it was.
        assert.deepEqual(await lines(), [
          [1, 'W-SKU', 'Widget v2', 4, 1000, 200, 3800, 'product', 'W-SKU'],
          [2, 'POST', 'Postage', 1, 500, 0, 500, 'shipping', null],
        ]);
      } finally {
        await t.drop();
      }
    });

    test('a postcode is stored trimmed, and a blank one is not said (no postcode stored)', async () => {
      const t = await freshDatabase(dialect.name);
      try {
        const db = t.store.db;
        // A caller of the writer (not only the importers, whose cells are trimmed already) may pass padding.
        const padded = euroOrder('p1', 'padded', 0, ['A']);
        const blank = euroOrder('p2', 'blank', 0, ['A']);
        padded.customer = { ...padded.customer!, postcode: '  SW1A 1AA \t' };
        blank.customer = { ...blank.customer!, postcode: '   ' };
        await db.transaction().execute(async (trx) => {
          const writer = new ImportWriter(trx, 'test', 0);
          await writer.writeOrders([padded, blank]);
          await writer.finish();
        });
        const rows = await db.selectFrom('customers').select(['email', 'postcode']).orderBy('email').execute();
        assert.deepEqual(
          rows.map((r) => [r.email, r.postcode]),
          [
            ['blank@example.com', null],
            ['padded@example.com', 'SW1A 1AA'],
          ],
        );
      } finally {
        await t.drop();
      }
    });

    test('a cancellation of no units takes back no order’s money: it is kept without an order', async () => {
      const t = await freshDatabase(dialect.name);
      try {
        const db = t.store.db;
        // Ann bought one A for 10.00 on day 0. A cancellation of 0 units of A (stating 4.00) has no units to
        // allocate to that order, so its 4.00 is kept for Ann without an order and the order is untouched.
        const bought = euroOrder('o-1', 'ann', 0, ['A']);
        await db.transaction().execute(async (trx) => {
          const writer = new ImportWriter(trx, 'test', 0);
          await writer.writeOrders([bought]);
          await writer.writeRefunds([
            {
              externalId: 'C-1:1',
              match: { customer: bought.customer, sku: 'A', before: 86_400_000, quantity: 0, unitPriceMinor: 400 },
              customer: bought.customer,
              sku: 'A',
              quantity: 0,
              amountMinor: 400,
              currency: 'EUR',
              refundedAt: 86_400_000,
            },
          ]);
          await writer.finish();
        });
        const refunds = await db.selectFrom('refunds').select(['external_id', 'order_id', 'amount_minor']).execute();
        assert.deepEqual(
          refunds.map((r) => [r.external_id, r.order_id, Number(r.amount_minor)]),
          [['C-1:1#1', null, 400]],
        );
        const order = await db.selectFrom('orders').select('refunded_minor').executeTakeFirstOrThrow();
        assert.equal(Number(order.refunded_minor), 0);
      } finally {
        await t.drop();
      }
    });
  });
}
