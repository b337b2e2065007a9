import { ComebackError, inputError } from '../../errors.js';
import type { OrderStatus } from '../../store/schema.js';
import { orderStatus } from '../order-status.js';
import { type LineInput, normaliseEmail, normalisePhone } from '../records.js';
import type { SourceRow } from '../source.js';
import {
  cell,
  checkWidth,
  currencyOf,
  DecimalMarks,
  FieldError,
  type Format,
  Header,
  integer,
  nonNegative,
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

/**
 * Any other orders CSV: one row per order or per line (rows of one order consecutive: an order whose
 * rows start again after another order is refused at that line rather than half-kept). Each field is
 * read from the column of the same name unless `--map column=field` says otherwise. `order_id`,
 * `placed_at` and either `total` or `unit_price` are required. The delimiter is detected (or
 * `--delimiter`); the decimal mark is proved by the file's amounts (or `--decimal-comma`). `refunded`
 * is stored as a positive amount no larger than the total, and sets the status (none, part, all).
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
    const marks = new DecimalMarks(ctx.decimal);
    // Where each order's rows began, to refuse an order whose rows come back after another order's.
    const started = new Map<string, number>();

    function build(): ParsedItem | undefined {
      if (group.length === 0) return undefined;
      const all = group;
      group = [];
      const f = all[0]!.fields;
      const line = all[0]!.line;
      try {
        const currency = currencyOf(get(f, 'currency'), ctx.currency, 'currency');
        const placed = timestamp(get(f, 'placed_at'), 'placed_at', ctx.timeZone);
        const rawStatus = get(f, 'status');
        const stated: OrderStatus | undefined = rawStatus === '' ? 'paid' : orderStatus(rawStatus);
        if (!stated) throw new FieldError('status', `"${rawStatus}" is not a known order status`);
        const lines: LineInput[] = [];
        for (const row of all) {
          const r = row.fields;
          if (get(r, 'sku') === '' && get(r, 'title') === '' && get(r, 'unit_price') === '') continue;
          const at = (field: CsvField, fallback?: number) =>
            marks.read(get(r, field), field, currency, row.line, fallback);
          const quantity = integer(get(r, 'quantity'), 'quantity', 1);
          const unit = nonNegative(at('unit_price', 0), 'unit_price');
          const lineTotal = at('line_total', quantity * unit);
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
        const at = (field: CsvField, fallback?: number) => marks.read(get(f, field), field, currency, line, fallback);
        const linesTotal = lines.reduce((s, l) => s + l.totalMinor, 0);
        if (get(f, 'total') === '' && lines.length === 0) throw new FieldError('total', 'is empty');
        const total = nonNegative(at('total', linesTotal), 'total');
        const email = normaliseEmail(get(f, 'email'));
        const customerId = present(get(f, 'customer_id'));
        const { refunded, status } = refundOf(get(f, 'refunded') === '' ? undefined : at('refunded'), total, stated);
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
            subtotalMinor: at('subtotal', linesTotal),
            shippingMinor: nonNegative(at('shipping', 0), 'shipping'),
            taxMinor: at('tax', 0),
            discountMinor: at('discount', 0),
            totalMinor: total,
            refundedMinor: refunded,
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
      const first = started.get(id);
      if (group.length === 0 && first !== undefined) {
        yield {
          kind: 'reject',
          line: row.line,
          field: 'order_id',
          message: `order "${id}" started at line ${first} and other orders came between; keep the rows of one order together`,
          rows: [row.fields],
        };
        continue;
      }
      if (group.length === 0) started.set(id, row.line);
      group.push(row);
    }
    if (!header) throw inputError('the file is empty', { file: ctx.file, line: 1, field: 'header' });
    const built = build();
    if (built) yield built;
  },
};

/**
 * An order's refunded amount and the status it implies. A negative refund (`-5.00`) is the same refund
 * written with a sign; more than the total is refused. Without a refunded column, `refunded` means all
 * of it and `partially refunded` is refused (the amount is unknown); with one, the amount decides:
 * none is paid (or still pending), part is partially refunded, all is refunded. Cancelled stays cancelled.
 */
function refundOf(
  written: number | undefined,
  total: number,
  stated: OrderStatus,
): { refunded: number | undefined; status: OrderStatus } {
  if (written === undefined) {
    if (stated === 'refunded') return { refunded: total, status: 'refunded' };
    if (stated === 'partially_refunded') {
      throw new FieldError('refunded', 'is empty, but the status says partially refunded: give the amount');
    }
    return { refunded: undefined, status: stated };
  }
  const refunded = Math.abs(written);
  if (refunded > total) {
    throw new FieldError('refunded', `${refunded} minor units is more than the order's total of ${total}`);
  }
  if (stated === 'cancelled') return { refunded, status: 'cancelled' };
  if (refunded === 0) return { refunded, status: stated === 'pending' ? 'pending' : 'paid' };
  return { refunded, status: refunded === total ? 'refunded' : 'partially_refunded' };
}
