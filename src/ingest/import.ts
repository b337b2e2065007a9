import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { basename } from 'node:path';
import { ComebackError, inputError } from '../errors.js';
import { toCsv } from '../shared/csv.js';
import { isValidTimeZone } from '../shared/dates.js';
import { normaliseCurrency } from '../shared/money.js';
import type { Db } from '../store/index.js';
import type { ParseContext } from './formats/format.js';
import { FORMATS, type FormatName } from './formats/index.js';
import { type CatalogueStats, type ProductInput, ProductWriter, storeCurrency } from './products.js';
import type { OrderInput, RefundInput } from './records.js';
import { readRows } from './source.js';
import { ImportWriter, type WriteStats } from './writer.js';

export interface ImportOptions {
  format: FormatName;
  /** The moment of the import (recorded on new rows); the caller reads the clock. */
  now: number;
  timeZone?: string;
  currency?: string;
  encoding?: string;
  map?: Record<string, string>;
  /** Import the good rows and write the bad ones to `FILE.rejects.csv` instead of stopping. */
  skipInvalid?: boolean;
  onProgress?: (read: number, total: number) => void;
}

export interface ImportSummary extends WriteStats {
  file: string;
  format: FormatName;
  rows: number;
  rejected: number;
  skipped: number;
  skipReasons: Record<string, number>;
  rejectsFile: string | undefined;
  /** Catalogue formats only: items read, created, changed, price rows added. */
  catalogue?: CatalogueStats;
}

const BATCH = 500;

/**
 * Imports one file in one transaction: either every row is stored, or (on the first bad row, unless
 * `skipInvalid`) nothing is and the error names `FILE:LINE: field: reason`. Re-importing a file
 * changes nothing, since every record is keyed by its source id.
 */
export async function importFile(db: Db, file: string, options: ImportOptions): Promise<ImportSummary> {
  const format = FORMATS[options.format];
  const timeZone = options.timeZone ?? 'UTC';
  if (!isValidTimeZone(timeZone)) throw new ComebackError('usage', `--tz ${timeZone}: unknown time zone`);
  let currency: string | undefined;
  if (options.currency !== undefined) {
    currency = normaliseCurrency(options.currency);
    if (!currency) throw new ComebackError('usage', `--currency ${options.currency}: not an ISO 4217 code`);
  }
  const ctx: ParseContext = { file, timeZone, currency, map: options.map ?? {}, now: options.now };
  const summary: ImportSummary = {
    file,
    format: options.format,
    rows: 0,
    rejected: 0,
    skipped: 0,
    skipReasons: {},
    rejectsFile: undefined,
    orders: 0,
    lines: 0,
    refunds: 0,
    customersCreated: 0,
    productsCreated: 0,
  };
  const source = format.name;
  let rejects: WriteStream | undefined;
  try {
    await db.transaction().execute(async (trx) => {
      const writer = new ImportWriter(trx, source, options.now);
      const catalogue = format.catalogue ? new ProductWriter(trx, source, options.now) : undefined;
      if (catalogue) ctx.currency ??= await storeCurrency(trx);
      const products: ProductInput[] = [];
      let orders: OrderInput[] = [];
      let refunds: RefundInput[] = [];
      const flush = async () => {
        await writer.writeOrders(orders);
        await writer.writeRefunds(refunds);
        orders = [];
        refunds = [];
      };
      const rows = readRows(file, { layout: format.layout, encoding: options.encoding, onBytes: options.onProgress });
      const counted = countRows(rows, summary);
      for await (const item of format.parse(counted, ctx)) {
        switch (item.kind) {
          case 'reject':
            if (!options.skipInvalid) throw inputError(item.message, { file, line: item.line, field: item.field });
            rejects ??= openRejects(file, summary);
            rejects.write(toCsv(item.rows.map((r) => [item.line, item.field, item.message, ...r])));
            summary.rejected += 1;
            break;
          case 'skip':
            summary.skipped += 1;
            summary.skipReasons[item.reason] = (summary.skipReasons[item.reason] ?? 0) + 1;
            break;
          case 'order':
            orders.push(item.order);
            break;
          case 'refund':
            refunds.push(item.refund);
            break;
          case 'customer':
            await writer.resolveCustomer(item.customer, options.now);
            break;
          case 'product':
            products.push(item.product);
            break;
        }
        if (orders.length + refunds.length >= BATCH) await flush();
      }
      if (summary.rows === 0) throw inputError('the file is empty', { file, line: 1 });
      if (format.layout === 'csv' && summary.rows === 1) {
        throw inputError('the file has a header and no rows', { file, line: 2 });
      }
      await flush();
      await catalogue?.write(products);
      await writer.finish();
      Object.assign(summary, writer.stats);
      if (catalogue) summary.catalogue = catalogue.stats;
      summary.rows = Math.max(0, summary.rows - (format.layout === 'csv' ? 1 : 0));
      await trx
        .insertInto('imports')
        .values({
          file: basename(file),
          format: options.format,
          sha256: await sha256(file),
          rows: summary.rows,
          orders: summary.orders,
          rejected: summary.rejected,
          imported_at: options.now,
        })
        .execute();
    });
  } finally {
    if (rejects) await new Promise((resolve) => rejects!.end(resolve));
  }
  return summary;
}

async function* countRows<T>(rows: AsyncIterable<T>, summary: ImportSummary): AsyncGenerator<T> {
  for await (const row of rows) {
    summary.rows += 1;
    yield row;
  }
}

function openRejects(file: string, summary: ImportSummary): WriteStream {
  summary.rejectsFile = `${file}.rejects.csv`;
  const stream = createWriteStream(summary.rejectsFile);
  stream.write(toCsv([['line', 'field', 'reason', 'row…']]));
  return stream;
}

async function sha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
