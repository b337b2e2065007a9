import { inputError } from '../../errors.js';
import type { OrderLineKind } from '../../store/schema.js';
import type { LineInput, OrderInput } from '../records.js';
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

/**
 * Stock codes that are not products in the UCI Online Retail data (Chen, Sain & Guo 2012): postage
 * and carriage are shipping, `D` is a discount, the rest are fees and manual adjustments.
 */
const NON_PRODUCT: Record<string, OrderLineKind> = {
  POST: 'shipping',
  DOT: 'shipping',
  C2: 'shipping',
  D: 'discount',
  M: 'adjustment',
  S: 'adjustment',
  B: 'adjustment',
  CRUK: 'fee',
  'BANK CHARGES': 'fee',
  AMAZONFEE: 'fee',
};

function lineKind(stockCode: string): OrderLineKind {
  const code = stockCode.toUpperCase();
  if (code in NON_PRODUCT) return NON_PRODUCT[code]!;
  if (code.startsWith('GIFT_')) return 'fee';
  return 'product';
}

interface Row {
  line: number;
  raw: string[];
  invoice: string;
  stockCode: string;
  description: string;
  quantity: number;
  unitPriceMinor: number;
  placedAt: number;
  placedOffset: number;
  customerId: string | undefined;
  country: string | undefined;
}

/**
 * The UCI "Online Retail" (InvoiceNo, UnitPrice, CustomerID) and "Online Retail II" (Invoice, Price,
 * Customer ID) layouts. An invoice is an order (its rows merged when another invoice splits them); an
 * invoice starting with `C` cancels units of the same customer's earlier invoices and becomes refunds of
 * them, allocated by the writer; rows without a customer id are guest orders; invoices starting with
 * `A` are bad-debt adjustments, not sales, and are skipped with a count and their amount.
 */
export const onlineRetail: Format = {
  name: 'online-retail',
  layout: 'csv',
  description: 'UCI Online Retail / Online Retail II transactions (GBP unless --currency)',
  async *parse(rows: AsyncIterable<SourceRow>, ctx: ParseContext): AsyncGenerator<ParsedItem> {
    const currency = ctx.currency ?? 'GBP';
    let header: Header | undefined;
    let col: Record<string, number | undefined> = {};
    let group: Row[] = [];
    let lastDate: { text: string; value: { epochMs: number; offsetMinutes: number } | undefined } = {
      text: '',
      value: undefined,
    };
    // An invoice split across the file continues its line numbers and totals where it left off.
    const emitted = new Map<
      string,
      { lines: number; subtotal: number; shipping: number; discount: number; total: number }
    >();

    const cancelLines = new Map<string, number>();

    function* flush(): Generator<ParsedItem> {
      if (group.length === 0) return;
      const rows = group;
      group = [];
      const first = rows[0]!;
      if (first.invoice.toUpperCase().startsWith('A')) {
        yield {
          kind: 'skip',
          line: first.line,
          reason: 'bad-debt adjustment invoices (A…) are not sales',
          amountMinor: rows.reduce((s, r) => s + r.quantity * r.unitPriceMinor, 0),
          currency,
        };
        return;
      }
      const customer = first.customerId ? { externalId: first.customerId, country: first.country } : undefined;
      if (first.invoice.toUpperCase().startsWith('C')) {
        // Numbered through the whole file, so that a cancellation split by another invoice keeps its ids.
        let n = cancelLines.get(first.invoice) ?? 0;
        for (const row of rows) {
          n += 1;
          const quantity = Math.abs(row.quantity);
          yield {
            kind: 'refund',
            line: row.line,
            refund: {
              externalId: `${row.invoice}:${n}`,
              match: {
                customer,
                sku: row.stockCode,
                before: row.placedAt,
                quantity,
                unitPriceMinor: row.unitPriceMinor,
                // A manual credit names no product: it may take back a whole earlier invoice of its amount.
                wholeOrder: row.stockCode.toUpperCase() === 'M',
              },
              sku: row.stockCode,
              quantity,
              customer,
              amountMinor: Math.abs(row.quantity) * row.unitPriceMinor,
              currency,
              refundedAt: row.placedAt,
              reason: `cancellation ${row.invoice}`,
            },
          };
        }
        cancelLines.set(first.invoice, n);
        return;
      }
      const previous = emitted.get(first.invoice) ?? { lines: 0, subtotal: 0, shipping: 0, discount: 0, total: 0 };
      const lines: LineInput[] = rows.map((row, i) => {
        const kind = lineKind(row.stockCode);
        return {
          lineNo: previous.lines + i + 1,
          sku: row.stockCode,
          title: present(row.description),
          quantity: row.quantity,
          unitPriceMinor: row.unitPriceMinor,
          discountMinor: 0,
          totalMinor: row.quantity * row.unitPriceMinor,
          kind: kind === 'product' && row.quantity < 0 ? 'adjustment' : kind,
        };
      });
      const sum = (kinds: OrderLineKind[]) =>
        lines.filter((l) => kinds.includes(l.kind)).reduce((s, l) => s + l.totalMinor, 0);
      const totals = {
        lines: previous.lines + lines.length,
        subtotal: previous.subtotal + sum(['product', 'adjustment', 'fee']),
        shipping: previous.shipping + sum(['shipping']),
        discount: previous.discount - sum(['discount']),
        total: previous.total + lines.reduce((s, l) => s + l.totalMinor, 0),
      };
      emitted.set(first.invoice, totals);
      const order: OrderInput = {
        externalId: first.invoice,
        customer,
        placedAt: first.placedAt,
        placedOffset: first.placedOffset,
        currency,
        subtotalMinor: totals.subtotal,
        shippingMinor: totals.shipping,
        taxMinor: 0,
        discountMinor: totals.discount,
        totalMinor: totals.total,
        status: 'paid',
        discountCodes: [],
        country: first.country,
        lines,
      };
      yield { kind: 'order', line: first.line, order };
    }

    for await (const row of rows) {
      if (!header) {
        header = new Header(row.fields, ctx.file, row.line);
        col = {
          invoice: header.require('InvoiceNo', 'Invoice'),
          stockCode: header.require('StockCode'),
          description: header.find('Description'),
          quantity: header.require('Quantity'),
          date: header.require('InvoiceDate'),
          price: header.require('UnitPrice', 'Price'),
          customer: header.require('CustomerID', 'Customer ID'),
          country: header.find('Country'),
        };
        continue;
      }
      const width = checkWidth(header, row);
      if (width) {
        yield width;
        continue;
      }
      let parsed: Row;
      try {
        const f = row.fields;
        const invoice = cell(f, col.invoice);
        if (invoice === '') throw new FieldError('InvoiceNo', 'is empty');
        // The lines of an invoice share its date: parse each distinct text once.
        const dateText = cell(f, col.date);
        if (dateText !== lastDate.text)
          lastDate = { text: dateText, value: timestamp(dateText, 'InvoiceDate', ctx.timeZone) };
        const when = lastDate.value!;
        const stockCode = cell(f, col.stockCode);
        if (stockCode === '') throw new FieldError('StockCode', 'is empty');
        parsed = {
          line: row.line,
          raw: f,
          invoice,
          stockCode,
          description: cell(f, col.description),
          quantity: integer(cell(f, col.quantity), 'Quantity'),
          unitPriceMinor: amount(cell(f, col.price), 'UnitPrice', currency),
          placedAt: when.epochMs,
          placedOffset: when.offsetMinutes,
          customerId: customerId(cell(f, col.customer)),
          country: present(cell(f, col.country)),
        };
      } catch (error) {
        yield toReject(error, row.line, [row.fields]);
        continue;
      }
      if (group.length > 0 && group[0]!.invoice !== parsed.invoice) yield* flush();
      group.push(parsed);
    }
    if (!header) throw inputError('the file is empty', { file: ctx.file, line: 1, field: 'header' });
    yield* flush();
  },
};

/** `17850.0` → `17850`: the published file writes the id as a float. */
function customerId(text: string): string | undefined {
  if (text === '') return undefined;
  return text.replace(/\.0+$/, '');
}
