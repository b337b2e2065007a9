import { ComebackError, inputError } from '../../errors.js';
import { normaliseCurrency } from '../../shared/money.js';
import type { OrderStatus } from '../../store/schema.js';
import { type LineInput, normaliseEmail, normalisePhone } from '../records.js';
import type { SourceRow } from '../source.js';
import {
  amount,
  cell,
  checkWidth,
  FieldError,
  type Format,
  Header,
  integer,
  type ParseContext,
  type ParsedItem,
  present,
  timestamp,
  toReject,
} from './format.js';

/** The fields a generic orders CSV can fill, each from the column `--map column=field` names. */
export const CSV_FIELDS = [
  'order_id',
  'placed_at',
  'customer_id',
  'email',
  'phone',
  'first_name',
  'last_name',
  'country',
  'currency',
  'status',
  'total',
  'subtotal',
  'shipping',
  'tax',
  'discount',
  'refunded',
  'discount_code',
  'sku',
  'title',
  'category',
  'quantity',
  'unit_price',
  'line_total',
] as const;
export type CsvField = (typeof CSV_FIELDS)[number];

const STATUS: Record<string, OrderStatus> = {
  paid: 'paid',
  completed: 'paid',
  complete: 'paid',
  fulfilled: 'paid',
  pending: 'pending',
  refunded: 'refunded',
  partially_refunded: 'partially_refunded',
  'partially refunded': 'partially_refunded',
  cancelled: 'cancelled',
  canceled: 'cancelled',
  voided: 'cancelled',
};

/**
 * Any other orders CSV: one row per order or per line (rows of one order consecutive). Each field is
 * read from the column of the same name unless `--map column=field` says otherwise. `order_id`,
 * `placed_at` and either `total` or `unit_price` are required.
 */
export const csv: Format = {
  name: 'csv',
  layout: 'csv',
  description: 'any orders CSV, columns named by --map column=field',
  async *parse(rows: AsyncIterable<SourceRow>, ctx: ParseContext): AsyncGenerator<ParsedItem> {
    const columnFor = new Map<CsvField, string>();
    for (const [column, field] of Object.entries(ctx.map)) {
      if (!(CSV_FIELDS as readonly string[]).includes(field)) {
        throw new ComebackError(
          'usage',
          `--map ${column}=${field}: unknown field; fields are ${CSV_FIELDS.join(', ')}`,
        );
      }
      columnFor.set(field as CsvField, column);
    }
    let header: Header | undefined;
    const c = new Map<CsvField, number | undefined>();
    const get = (f: string[], field: CsvField) => cell(f, c.get(field));
    let group: SourceRow[] = [];

    function build(): ParsedItem | undefined {
      if (group.length === 0) return undefined;
      const all = group;
      group = [];
      const f = all[0]!.fields;
      const line = all[0]!.line;
      try {
        const currency = normaliseCurrency(get(f, 'currency')) ?? ctx.currency;
        if (!currency) throw new FieldError('currency', 'is empty and no --currency was given');
        const placed = timestamp(get(f, 'placed_at'), 'placed_at', ctx.timeZone);
        const rawStatus = get(f, 'status').toLowerCase();
        const status: OrderStatus | undefined = rawStatus === '' ? 'paid' : STATUS[rawStatus];
        if (!status) throw new FieldError('status', `"${get(f, 'status')}" is not a known order status`);
        const lines: LineInput[] = [];
        for (const row of all) {
          const r = row.fields;
          if (get(r, 'sku') === '' && get(r, 'title') === '' && get(r, 'unit_price') === '') continue;
          const quantity = integer(get(r, 'quantity'), 'quantity', 1);
          const unit = amount(get(r, 'unit_price'), 'unit_price', currency, 0);
          const lineTotal = amount(get(r, 'line_total'), 'line_total', currency, quantity * unit);
          lines.push({
            lineNo: lines.length + 1,
            sku: present(get(r, 'sku')),
            title: present(get(r, 'title')),
            category: present(get(r, 'category')),
            quantity,
            unitPriceMinor: unit,
            discountMinor: quantity * unit - lineTotal,
            totalMinor: lineTotal,
            kind: 'product',
          });
        }
        const linesTotal = lines.reduce((s, l) => s + l.totalMinor, 0);
        if (get(f, 'total') === '' && lines.length === 0) throw new FieldError('total', 'is empty');
        const total = amount(get(f, 'total'), 'total', currency, linesTotal);
        const email = normaliseEmail(get(f, 'email'));
        const customerId = present(get(f, 'customer_id'));
        const refunded = get(f, 'refunded');
        return {
          kind: 'order',
          line,
          order: {
            externalId: get(f, 'order_id'),
            customer:
              email || customerId
                ? {
                    externalId: customerId,
                    email,
                    phone: normalisePhone(get(f, 'phone')),
                    firstName: present(get(f, 'first_name')),
                    lastName: present(get(f, 'last_name')),
                    country: present(get(f, 'country')),
                  }
                : undefined,
            email,
            placedAt: placed.epochMs,
            placedOffset: placed.offsetMinutes,
            currency,
            subtotalMinor: amount(get(f, 'subtotal'), 'subtotal', currency, linesTotal),
            shippingMinor: amount(get(f, 'shipping'), 'shipping', currency, 0),
            taxMinor: amount(get(f, 'tax'), 'tax', currency, 0),
            discountMinor: amount(get(f, 'discount'), 'discount', currency, 0),
            totalMinor: total,
            refundedMinor: refunded === '' ? undefined : amount(refunded, 'refunded', currency),
            status,
            discountCodes: get(f, 'discount_code')
              .split(/[,;]/)
              .map((code) => code.trim())
              .filter(Boolean),
            country: present(get(f, 'country')),
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

    for await (const row of rows) {
      if (!header) {
        header = new Header(row.fields, ctx.file, row.line);
        for (const field of CSV_FIELDS) {
          const column = columnFor.get(field) ?? field;
          const required = field === 'order_id' || field === 'placed_at';
          c.set(field, required ? header.require(column) : header.find(column));
          if (columnFor.has(field) && c.get(field) === undefined) header.require(column);
        }
        if (c.get('total') === undefined && c.get('unit_price') === undefined)
          header.require(columnFor.get('total') ?? 'total');
        continue;
      }
      const width = checkWidth(header, row);
      if (width) {
        yield width;
        continue;
      }
      const id = get(row.fields, 'order_id');
      if (id === '') {
        yield { kind: 'reject', line: row.line, field: 'order_id', message: 'is empty', rows: [row.fields] };
        continue;
      }
      if (group.length > 0 && get(group[0]!.fields, 'order_id') !== id) {
        const built = build();
        if (built) yield built;
      }
      group.push(row);
    }
    if (!header) throw inputError('the file is empty', { file: ctx.file, line: 1, field: 'header' });
    const built = build();
    if (built) yield built;
  },
};
