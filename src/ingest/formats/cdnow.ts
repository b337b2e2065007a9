import { inputError } from '../../errors.js';
import type { SourceRow } from '../source.js';
import {
  amount,
  FieldError,
  type Format,
  integer,
  nonNegative,
  type ParseContext,
  type ParsedItem,
  timestamp,
  toReject,
} from './format.js';

/**
 * The CDNOW transaction file of the customer-base-analysis literature (Fader & Hardie): whitespace
 * separated `customer date(YYYYMMDD) cds dollars`; the 1/10 sample has an extra leading master id, and
 * the master file a header line (not counted as a row). Every row is one purchase, even when it repeats another row of the
 * same customer and day exactly, so each gets its own id: customer, day and its rank within that day.
 */
export const cdnow: Format = {
  name: 'cdnow',
  layout: 'whitespace',
  description: 'CDNOW transactions: customer, YYYYMMDD, CDs, dollars (USD unless --currency)',
  async *parse(rows: AsyncIterable<SourceRow>, ctx: ParseContext): AsyncGenerator<ParsedItem> {
    const currency = ctx.currency ?? 'USD';
    const perDay = new Map<string, number>();
    let width: number | undefined;
    let seen = false;
    for await (const row of rows) {
      seen = true;
      const f = row.fields;
      // Only the master file's header (`customer_id date number_of_cds dollar_value`: words, no digits)
      // is a header; a damaged first row of data is a row, refused like any other.
      if (width === undefined && f.every((name) => /^[A-Za-z_]+$/.test(name))) {
        yield { kind: 'header', line: row.line };
        continue;
      }
      width ??= f.length;
      if (width !== 4 && width !== 5) {
        throw inputError(`expected 4 or 5 columns, found ${width}`, { file: ctx.file, line: row.line, field: 'row' });
      }
      if (f.length !== width) {
        yield {
          kind: 'reject',
          line: row.line,
          field: 'row',
          message: `has ${f.length} columns, expected ${width}`,
          rows: [f],
        };
        continue;
      }
      const [customer, date, cds, dollars] = width === 5 ? f.slice(1) : f;
      try {
        if (!/^\d+$/.test(customer!)) throw new FieldError('customer', `"${customer}" is not a customer id`);
        const id = String(Number(customer));
        const when = timestamp(date!, 'date', ctx.timeZone);
        const quantity = integer(cds!, 'cds');
        const total = nonNegative(amount(dollars!, 'dollars', currency), 'dollars');
        const dayKey = `${id}-${date}`;
        const rank = (perDay.get(dayKey) ?? 0) + 1;
        perDay.set(dayKey, rank);
        yield {
          kind: 'order',
          line: row.line,
          order: {
            externalId: `${dayKey}-${rank}`,
            customer: { externalId: id },
            placedAt: when.epochMs,
            placedOffset: when.offsetMinutes,
            currency,
            subtotalMinor: total,
            shippingMinor: 0,
            taxMinor: 0,
            discountMinor: 0,
            totalMinor: total,
            status: 'paid',
            discountCodes: [],
            lines: [
              {
                lineNo: 1,
                title: 'CDs',
                quantity,
                unitPriceMinor: quantity > 0 ? Math.round(total / quantity) : total,
                discountMinor: 0,
                totalMinor: total,
                kind: 'product',
              },
            ],
          },
        };
      } catch (error) {
        yield toReject(error, row.line, [f]);
      }
    }
    if (!seen) throw inputError('the file is empty', { file: ctx.file, line: 1, field: 'row' });
  },
};
