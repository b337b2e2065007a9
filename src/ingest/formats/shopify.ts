import { inputError } from '../../errors.js';
import type { OrderStatus } from '../../store/schema.js';
import { referrerHost, utmOf } from '../acquisition.js';
import { orderStatus } from '../order-status.js';
import { type CustomerInput, type LineInput, normaliseAddress, normaliseEmail, normalisePhone } from '../records.js';
import type { SourceRow } from '../source.js';
import {
  amount,
  cell,
  checkWidth,
  currencyOf,
  FieldError,
  type Format,
  Header,
  integer,
  nonNegative,
  optionalTimestamp,
  type ParseContext,
  type ParsedItem,
  present,
  splitName,
  timestamp,
  toReject,
} from './format.js';

/**
 * Shopify's admin exports. The orders export has one row per line item, the order's own fields on
 * the first row of each order; orders carry an e-mail but no customer id, so a guest order belongs to
 * the customer with that e-mail. The customers export (detected by its `Total Orders` column) brings
 * the customers themselves with their consent.
 */
export const shopify: Format = {
  name: 'shopify',
  layout: 'csv',
  description: "Shopify's orders export (one row per line item) or customers export",
  async *parse(rows: AsyncIterable<SourceRow>, ctx: ParseContext): AsyncGenerator<ParsedItem> {
    const iterator = rows[Symbol.asyncIterator]();
    const first = await iterator.next();
    if (first.done) throw inputError('the file is empty', { file: ctx.file, line: 1, field: 'header' });
    const header = new Header(first.value.fields, ctx.file, first.value.line);
    const rest = { [Symbol.asyncIterator]: () => iterator };
    if (!header.has('Lineitem name') && header.has('Total Orders', 'Total Spent')) {
      yield* parseCustomers(header, rest, ctx);
    } else {
      yield* parseOrders(header, rest, ctx);
    }
  },
};

async function* parseOrders(
  header: Header,
  rows: AsyncIterable<SourceRow>,
  ctx: ParseContext,
): AsyncGenerator<ParsedItem> {
  const c = {
    name: header.require('Name'),
    id: header.find('Id'),
    email: header.require('Email'),
    status: header.require('Financial Status'),
    acceptsMarketing: header.find('Accepts Marketing', 'Accepts Email Marketing'),
    currency: header.require('Currency'),
    subtotal: header.require('Subtotal'),
    shipping: header.require('Shipping'),
    taxes: header.require('Taxes'),
    total: header.require('Total'),
    discountCode: header.find('Discount Code'),
    discountAmount: header.find('Discount Amount'),
    createdAt: header.require('Created at'),
    quantity: header.require('Lineitem quantity'),
    itemName: header.require('Lineitem name'),
    itemPrice: header.require('Lineitem price'),
    itemSku: header.find('Lineitem sku'),
    itemDiscount: header.find('Lineitem discount'),
    billingName: header.find('Billing Name'),
    billingAddress1: header.find('Billing Address1'),
    billingAddress2: header.find('Billing Address2'),
    billingCity: header.find('Billing City'),
    billingZip: header.find('Billing Zip'),
    billingCountry: header.find('Billing Country'),
    billingPhone: header.find('Billing Phone'),
    phone: header.find('Phone'),
    refunded: header.find('Refunded Amount'),
    cancelledAt: header.find('Cancelled at'),
    vendor: header.find('Vendor'),
    paymentMethod: header.find('Payment Method'),
    referringSite: header.find('Referring Site'),
    landingSite: header.find('Landing Site'),
    channel: header.find('Source'),
  };

  let head: { line: number; fields: string[] } | undefined;
  let items: Array<{ line: number; fields: string[] }> = [];

  function build(): ParsedItem | undefined {
    if (!head) return undefined;
    const f = head.fields;
    const all = [head, ...items];
    const line = head.line;
    head = undefined;
    items = [];
    try {
      const currency = currencyOf(cell(f, c.currency), ctx.currency, 'Currency');
      const created = timestamp(cell(f, c.createdAt), 'Created at', ctx.timeZone);
      const cancelled = optionalTimestamp(cell(f, c.cancelledAt), 'Cancelled at', ctx.timeZone);
      const financial = cell(f, c.status).toLowerCase();
      let status: OrderStatus = orderStatus(financial) ?? 'pending';
      if (cancelled) status = 'cancelled';
      const email = normaliseEmail(cell(f, c.email));
      if (cell(f, c.email) !== '' && !email)
        throw new FieldError('Email', `"${cell(f, c.email)}" is not an e-mail address`);
      const lines: LineInput[] = all.map((row, i) => {
        const quantity = integer(cell(row.fields, c.quantity), 'Lineitem quantity');
        const price = amount(cell(row.fields, c.itemPrice), 'Lineitem price', currency);
        const discount = amount(cell(row.fields, c.itemDiscount), 'Lineitem discount', currency, 0);
        return {
          lineNo: i + 1,
          sku: present(cell(row.fields, c.itemSku)),
          title: present(cell(row.fields, c.itemName)),
          category: present(cell(row.fields, c.vendor)),
          quantity,
          unitPriceMinor: price,
          discountMinor: discount,
          totalMinor: quantity * price - discount,
          kind: 'product',
        };
      });
      const phone = normalisePhone(cell(f, c.phone)) ?? normalisePhone(cell(f, c.billingPhone));
      const accepts = cell(f, c.acceptsMarketing).toLowerCase();
      const customer: CustomerInput | undefined = email
        ? {
            email,
            phone,
            ...splitName(cell(f, c.billingName)),
            city: present(cell(f, c.billingCity)),
            country: present(cell(f, c.billingCountry)),
            postcode: present(cell(f, c.billingZip)),
            address: normaliseAddress([
              cell(f, c.billingAddress1),
              cell(f, c.billingAddress2),
              cell(f, c.billingCity),
              cell(f, c.billingZip),
              cell(f, c.billingCountry),
            ]),
            consents:
              accepts === 'yes' || accepts === 'no'
                ? [{ channel: 'email', granted: accepts === 'yes', at: created.epochMs, source: 'shopify-export' }]
                : [],
          }
        : undefined;
      const codes = cell(f, c.discountCode)
        .split(',')
        .map((code) => code.trim())
        .filter(Boolean);
      const total = nonNegative(amount(cell(f, c.total), 'Total', currency), 'Total');
      const refunded = Math.abs(amount(cell(f, c.refunded), 'Refunded Amount', currency, 0));
      if (refunded > total) {
        throw new FieldError('Refunded Amount', `${refunded} minor units is more than the order's total of ${total}`);
      }
      return {
        kind: 'order',
        line,
        order: {
          externalId: cell(f, c.id) || cell(f, c.name),
          name: present(cell(f, c.name)),
          customer,
          email,
          placedAt: created.epochMs,
          placedOffset: created.offsetMinutes,
          currency,
          subtotalMinor: amount(cell(f, c.subtotal), 'Subtotal', currency, 0),
          shippingMinor: amount(cell(f, c.shipping), 'Shipping', currency, 0),
          taxMinor: amount(cell(f, c.taxes), 'Taxes', currency, 0),
          discountMinor: amount(cell(f, c.discountAmount), 'Discount Amount', currency, 0),
          totalMinor: total,
          refundedMinor: refunded,
          status,
          discountCodes: codes,
          country: present(cell(f, c.billingCountry)),
          cancelledAt: cancelled?.epochMs,
          acquisition: {
            paymentMethod: present(cell(f, c.paymentMethod)),
            referringSite: referrerHost(present(cell(f, c.referringSite))),
            landingSite: present(cell(f, c.landingSite)),
            channel: present(cell(f, c.channel)),
            ...utmOf(present(cell(f, c.landingSite))),
          },
          lines,
        },
      };
    } catch (error) {
      return toReject(
        error,
        line,
        all.map((r) => r.fields),
      );
    }
  }

  let any = false;
  for await (const row of rows) {
    any = true;
    const width = checkWidth(header, row);
    if (width) {
      yield width;
      continue;
    }
    const name = cell(row.fields, c.name);
    if (name === '') {
      yield { kind: 'reject', line: row.line, field: 'Name', message: 'is empty', rows: [row.fields] };
      continue;
    }
    if (head && cell(head.fields, c.name) === name) {
      items.push(row);
      continue;
    }
    const built = build();
    if (built) yield built;
    head = row;
  }
  const built = build();
  if (built) yield built;
  if (!any)
    throw inputError('the file has a header and no orders', { file: ctx.file, line: header.line + 1, field: 'row' });
}

async function* parseCustomers(
  header: Header,
  rows: AsyncIterable<SourceRow>,
  ctx: ParseContext,
): AsyncGenerator<ParsedItem> {
  const c = {
    id: header.find('Customer ID', 'Id'),
    first: header.find('First Name'),
    last: header.find('Last Name'),
    email: header.require('Email'),
    phone: header.find('Phone', 'Default Address Phone'),
    acceptsEmail: header.find('Accepts Email Marketing', 'Accepts Marketing'),
    acceptsSms: header.find('Accepts SMS Marketing'),
    address1: header.find('Default Address Address1', 'Address1'),
    address2: header.find('Default Address Address2', 'Address2'),
    city: header.find('Default Address City', 'City'),
    zip: header.find('Default Address Zip', 'Zip'),
    country: header.find('Default Address Country Code', 'Country Code', 'Country'),
  };
  for await (const row of rows) {
    const width = checkWidth(header, row);
    if (width) {
      yield width;
      continue;
    }
    const f = row.fields;
    const email = normaliseEmail(cell(f, c.email));
    const externalId = present(cell(f, c.id).replace(/^'/, ''));
    if (!email && !externalId) {
      yield {
        kind: 'reject',
        line: row.line,
        field: 'Email',
        message: 'neither an e-mail nor a customer id',
        rows: [f],
      };
      continue;
    }
    const consent = (index: number | undefined, channel: 'email' | 'sms') => {
      const value = cell(f, index).toLowerCase();
      return value === 'yes' || value === 'no'
        ? [{ channel, granted: value === 'yes', at: ctx.now, source: 'shopify-export' } as const]
        : [];
    };
    yield {
      kind: 'customer',
      line: row.line,
      customer: {
        externalId,
        email,
        phone: normalisePhone(cell(f, c.phone)),
        firstName: present(cell(f, c.first)),
        lastName: present(cell(f, c.last)),
        city: present(cell(f, c.city)),
        country: present(cell(f, c.country)),
        postcode: present(cell(f, c.zip)),
        address: normaliseAddress([cell(f, c.address1), cell(f, c.address2), cell(f, c.city), cell(f, c.zip)]),
        consents: [...consent(c.acceptsEmail, 'email'), ...consent(c.acceptsSms, 'sms')],
      },
    };
  }
}
