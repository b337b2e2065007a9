import { inputError } from '../../errors.js';
import { orderStatus } from '../order-status.js';
import { type LineInput, normaliseAddress, normaliseEmail, normalisePhone } from '../records.js';
import type { SourceRow } from '../source.js';
import {
  amount,
  cell,
  currencyOf,
  FieldError,
  type Format,
  integer,
  type ParseContext,
  type ParsedItem,
  present,
  readHeadedRows,
  timestamp,
} from './format.js';

/**
 * WooCommerce's order export CSV as written by the widely used "Order Export & Order Import for
 * WooCommerce" plugin: one row per order, items in `line_item_1…n` columns as
 * `name:…|product_id:…|sku:…|quantity:…|total:…`, coupons in `coupon_items` as `code:…|amount:…`
 * separated by `;`, refunds in `refund_items` as `amount:…|reason:…|date:…`. `customer_user` is the
 * WordPress user id (0 for guests, who are matched by e-mail).
 */
export const woocommerce: Format = {
  name: 'woocommerce',
  layout: 'csv',
  description: 'WooCommerce order export (one row per order, line_item_N columns)',
  async *parse(rows: AsyncIterable<SourceRow>, ctx: ParseContext): AsyncGenerator<ParsedItem> {
    const headed = yield* readHeadedRows(
      rows,
      ctx.file,
      (header, fields) => {
        const c = {
          id: header.require('order_id'),
          number: header.find('order_number'),
          date: header.require('order_date'),
          status: header.require('status'),
          shipping: header.find('shipping_total'),
          tax: header.find('tax_total'),
          discount: header.find('discount_total', 'cart_discount'),
          total: header.require('order_total'),
          subtotal: header.find('order_subtotal'),
          currency: header.find('order_currency'),
          email: header.find('billing_email', 'customer_email'),
          user: header.find('customer_user', 'customer_id'),
          first: header.find('billing_first_name'),
          last: header.find('billing_last_name'),
          phone: header.find('billing_phone'),
          address1: header.find('billing_address_1'),
          address2: header.find('billing_address_2'),
          postcode: header.find('billing_postcode'),
          city: header.find('billing_city'),
          country: header.find('billing_country'),
          coupons: header.find('coupon_items'),
          refunds: header.find('refund_items'),
        };
        const itemColumns = fields.flatMap((name, i) => (/^line_item_\d+$/i.test(name.trim()) ? [i] : []));
        if (itemColumns.length === 0) {
          throw inputError('missing column "line_item_1"', { file: ctx.file, line: header.line, field: 'header' });
        }
        return { c, itemColumns };
      },
      (f, line, { c, itemColumns }) => {
        const currency = currencyOf(cell(f, c.currency), ctx.currency, 'order_currency');
        const placed = timestamp(cell(f, c.date), 'order_date', ctx.timeZone);
        const status = orderStatus(cell(f, c.status));
        if (!status) throw new FieldError('status', `"${cell(f, c.status)}" is not a WooCommerce order status`);
        const lines: LineInput[] = [];
        for (const index of itemColumns) {
          const text = cell(f, index);
          if (text === '') continue;
          const item = pairs(text);
          const quantity = integer(item.quantity ?? '', 'line_item quantity');
          const total = amount(item.total ?? '', 'line_item total', currency);
          const subtotal = amount(item.sub_total ?? item.subtotal ?? '', 'line_item sub_total', currency, total);
          lines.push({
            lineNo: lines.length + 1,
            sku: present(item.sku ?? '') ?? (item.product_id ? `wc-${item.product_id}` : undefined),
            title: present(item.name ?? ''),
            quantity,
            unitPriceMinor: quantity === 0 ? subtotal : Math.round(subtotal / quantity),
            discountMinor: subtotal - total,
            totalMinor: total,
            kind: 'product',
          });
        }
        const total = amount(cell(f, c.total), 'order_total', currency);
        const refunded = cell(f, c.refunds)
          .split(';')
          .filter((r) => r.trim() !== '')
          .reduce((sum, r) => sum + Math.abs(amount(pairs(r).amount ?? '', 'refund_items amount', currency)), 0);
        if (refunded > total) {
          throw new FieldError(
            'refund_items',
            `refunds of ${refunded} minor units are more than the order total ${total}`,
          );
        }
        let finalStatus = status;
        if (status === 'paid' && refunded > 0) finalStatus = refunded >= total ? 'refunded' : 'partially_refunded';
        const email = normaliseEmail(cell(f, c.email));
        const user = cell(f, c.user);
        const registered = user !== '' && user !== '0';
        return {
          kind: 'order',
          line,
          order: {
            externalId: cell(f, c.id),
            customer:
              email || registered
                ? {
                    externalId: registered ? user : undefined,
                    email,
                    phone: normalisePhone(cell(f, c.phone)),
                    firstName: present(cell(f, c.first)),
                    lastName: present(cell(f, c.last)),
                    city: present(cell(f, c.city)),
                    country: present(cell(f, c.country)),
                    address: normaliseAddress([
                      cell(f, c.address1),
                      cell(f, c.address2),
                      cell(f, c.city),
                      cell(f, c.postcode),
                      cell(f, c.country),
                    ]),
                  }
                : undefined,
            email,
            placedAt: placed.epochMs,
            placedOffset: placed.offsetMinutes,
            currency,
            subtotalMinor: amount(
              cell(f, c.subtotal),
              'order_subtotal',
              currency,
              lines.reduce((s, l) => s + l.quantity * l.unitPriceMinor, 0),
            ),
            shippingMinor: amount(cell(f, c.shipping), 'shipping_total', currency, 0),
            taxMinor: amount(cell(f, c.tax), 'tax_total', currency, 0),
            discountMinor: amount(cell(f, c.discount), 'discount_total', currency, 0),
            totalMinor: total,
            refundedMinor: refunded,
            status: finalStatus,
            discountCodes: cell(f, c.coupons)
              .split(';')
              .map((coupon) => pairs(coupon).code?.trim() ?? '')
              .filter(Boolean),
            country: present(cell(f, c.country)),
            lines,
          },
        };
      },
    );
    if (!headed) throw inputError('the file is empty', { file: ctx.file, line: 1, field: 'header' });
  },
};

/** `name:Mug|sku:MUG-1|quantity:2` → `{ name: 'Mug', sku: 'MUG-1', quantity: '2' }`. */
function pairs(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split('|')) {
    const at = part.indexOf(':');
    if (at > 0) out[part.slice(0, at).trim().toLowerCase()] = part.slice(at + 1).trim();
  }
  return out;
}
