import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { finished } from 'node:stream/promises';
import { deserialize, serialize } from 'node:v8';
import { busyError, ComebackError, inputError, isBusyError } from '../errors.js';
import { toCsv } from '../shared/csv.js';
import { isValidTimeZone } from '../shared/dates.js';
import { type DecimalMark, normaliseCurrency } from '../shared/money.js';
import { type Db, immediateTransaction, pgSession, REVENUE_STATUSES } from '../store/index.js';
import type { ParseContext, ParsedItem } from './formats/format.js';
import { FORMATS, type FormatName } from './formats/index.js';
import { type CatalogueStats, type ProductInput, ProductWriter, storeCurrency } from './products.js';
import type { CustomerInput, OrderInput, RefundInput } from './records.js';
import { DELIMITERS, readRows } from './source.js';
import { ImportWriter, type StoredMoney, type WriteStats } from './writer.js';

export interface ImportOptions {
  format: FormatName;
  /** The moment of the import (recorded on new rows); the caller reads the clock. */
  now: number;
  /** IANA zone of timestamps written without an offset; default the format's own (Asia/Seoul for Korean shops), else UTC. */
  timeZone?: string;
  currency?: string;
  encoding?: string;
  /** The password of an encrypted .xlsx workbook (the caller reads `COMEBACK_XLSX_PASSWORD`, never this module). */
  password?: string;
  map?: Record<string, string>;
  /** The CSV field delimiter (`,` `;` tab `|`); detected from the header line when absent. */
  delimiter?: string;
  /** The decimal mark of a generic CSV's amounts; `auto` (default) lets the file prove it. */
  decimal?: DecimalMark | 'auto';
  /** Import the good rows and write the bad ones to `FILE.rejects.csv` instead of stopping. */
  skipInvalid?: boolean;
  /** Records written per transaction (orders plus refunds); each batch holds the write lock briefly. */
  batchSize?: number;
  /**
   * PostgreSQL: orders and lines go through `COPY` into staging tables, then set-based upserts
   * (default true; false writes row by row with multi-row inserts). On both databases, true also
   * resolves each batch's customers set-based (identity-batch.ts); false resolves them one by one,
   * the reference the set-based path is tested against.
   */
  copy?: boolean;
  onProgress?: (read: number, total: number) => void;
}

/** One line of a reconciliation: money of the file that was deliberately not stored as it stands. */
export interface ReconciliationItem {
  reason: string;
  count: number;
  /** Signed: what this item adds to the file's net that the store does not have. */
  minor: number;
}

/**
 * The file's net amount in one currency (orders less stated refunds, less refund records, plus skipped
 * rows' amounts) against the net the import stored (orders less the refunds it applied to them), with
 * the difference explained; `unexplainedMinor` is zero when every unit of money is accounted for.
 */
export interface Reconciliation {
  currency: string;
  fileNetMinor: number;
  storedNetMinor: number;
  explained: ReconciliationItem[];
  unexplainedMinor: number;
  /**
   * Orders of the file that are stored but are not sales (cancelled, pending, refunded …), per status,
   * with their net: part of both nets above, left out of revenue and every figure.
   */
  notSales: Array<{ status: string; count: number; minor: number }>;
  /**
   * Refunds the file states on its orders (Shopify's `Refunded Amount`, Cafe24's refund column) rather
   * than as refund records: how many orders carry one and their sum, already netted in both nets above.
   */
  refundedOnOrders: { count: number; minor: number };
}

export interface ImportSummary extends WriteStats {
  file: string;
  format: FormatName;
  rows: number;
  rejected: number;
  skipped: number;
  skipReasons: Record<string, number>;
  rejectsFile: string | undefined;
  /** The delimiter read with (CSV layouts). */
  delimiter: string | undefined;
  /** True when an earlier import of the same file (by content) had not finished; this one completed it. */
  resumed: boolean;
  reconciliation: Reconciliation[];
  /** Catalogue formats only: items read, created, changed, price rows added. */
  catalogue?: CatalogueStats;
}

const BATCH = 500;
/** Records per transaction on the COPY path: a COPY pays off over thousands of rows. */
const COPY_BATCH = 5000;

/**
 * Imports one file, whole or not at all as far as its content goes, without holding the database for
 * the length of the file. A first pass reads and checks every row and writes nothing: a bad row stops
 * the import with `FILE:LINE: field: reason` (or, with `skipInvalid`, goes to `FILE.rejects.csv`). A
 * second pass writes in batches, each its own short transaction that takes the write lock up front
 * (BEGIN IMMEDIATE on SQLite), so other writers (the API, another import) wait a batch rather than the
 * whole file. Every write is keyed by source ids, so an import interrupted half-way (a crash, kill -9)
 * is completed by importing the file again; the `imports` row stays incomplete until then. A busy
 * database (another writer held the lock past the busy timeout) is a `busy` error.
 */
export async function importFile(db: Db, file: string, options: ImportOptions): Promise<ImportSummary> {
  const format = FORMATS[options.format];
  const timeZone = options.timeZone ?? format.timeZone ?? 'UTC';
  if (!isValidTimeZone(timeZone)) throw new ComebackError('usage', `--tz ${timeZone}: unknown time zone`);
  let currency: string | undefined;
  if (options.currency !== undefined) {
    currency = normaliseCurrency(options.currency);
    if (!currency) throw new ComebackError('usage', `--currency ${options.currency}: not an ISO 4217 code`);
  }
  const delimiter = options.delimiter === 'tab' || options.delimiter === '\\t' ? '\t' : options.delimiter;
  if (delimiter !== undefined && !(DELIMITERS as readonly string[]).includes(delimiter)) {
    throw new ComebackError('usage', `--delimiter ${options.delimiter}: use , ; | or tab`);
  }
  const ctx: ParseContext = {
    file,
    timeZone,
    currency,
    map: options.map ?? {},
    now: options.now,
    decimal: options.decimal ?? 'auto',
  };
  const summary: ImportSummary = {
    file,
    format: options.format,
    rows: 0,
    rejected: 0,
    skipped: 0,
    skipReasons: {},
    rejectsFile: undefined,
    delimiter: undefined,
    resumed: false,
    reconciliation: [],
    orders: 0,
    lines: 0,
    refunds: 0,
    customersCreated: 0,
    productsCreated: 0,
  };
  let rows = 0;
  const items = (progress: (read: number, total: number) => void, count = false) => {
    const source = readRows(file, {
      layout: format.layout,
      encoding: options.encoding ?? format.encoding,
      password: options.password,
      delimiter,
      onDelimiter: (d) => {
        summary.delimiter = d;
      },
      onBytes: progress,
    });
    return format.parse(count ? countRows(source, () => (rows += 1)) : source, ctx);
  };

  // A product export states no currency: the store's own (the currency of its orders) unless given.
  if (format.catalogue) ctx.currency ??= await storeCurrency(db);

  // Pass 1: every row read and checked, nothing written; the records kept in a spill file, so that the
  // writing pass reads them back instead of parsing the file again.
  const fileMoney = new FileMoney();
  let rejects: WriteStream | undefined;
  let headers = format.layout === 'csv' ? 1 : 0;
  const spill = await Spill.create();
  let fileTotal = 0;
  try {
    for await (const item of items((read, total) => {
      fileTotal = total;
      options.onProgress?.(Math.round(read / 2), total);
    }, true)) {
      if (item.kind === 'order' || item.kind === 'refund' || item.kind === 'customer' || item.kind === 'product') {
        await spill.push(item);
      }
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
          if (item.amountMinor !== undefined && item.currency)
            fileMoney.skip(item.currency, item.reason, item.amountMinor);
          break;
        case 'header':
          headers += 1;
          break;
        case 'order':
          fileMoney.order(item.order);
          break;
        case 'refund':
          fileMoney.refund(item.refund);
          break;
        case 'customer':
        case 'product':
          break;
      }
    }
    await spill.close();
  } catch (error) {
    await spill.remove();
    throw error;
  } finally {
    if (rejects) await new Promise((resolve) => rejects!.end(resolve));
  }
  try {
    return await write();
  } finally {
    await spill.remove();
  }

  async function write(): Promise<ImportSummary> {
    if (rows === 0) throw inputError('the file is empty', { file, line: 1 });
    if (format.layout === 'csv' && rows === 1) throw inputError('the file has a header and no rows', { file, line: 2 });
    summary.rows = Math.max(0, rows - headers);

    // Pass 2: written in short transactions.
    const sha = await sha256(file);
    const run = await batchTransaction(db, async (trx) => {
      const unfinished = await trx
        .selectFrom('imports')
        .select('id')
        .where('sha256', '=', sha)
        .where('completed_at', 'is', null)
        .execute();
      summary.resumed = unfinished.length > 0;
      const row = await trx
        .insertInto('imports')
        .values({
          file: basename(file),
          format: options.format,
          sha256: sha,
          rows: summary.rows,
          orders: 0,
          rejected: summary.rejected,
          imported_at: options.now,
          completed_at: null,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      return { id: Number(row.id), unfinished: unfinished.map((r) => Number(r.id)) };
    });
    const writer = new ImportWriter(db, format.name, options.now);
    // COPY needs the raw client of the session its transactions run on.
    const session = options.copy === false ? undefined : await pgSession(db);
    if (session) writer.copyThrough(session.client);
    writer.resolveInBatches(options.copy !== false);
    const writeDb = session?.db ?? db;
    const batchSize = options.batchSize ?? (session ? COPY_BATCH : BATCH);
    let orders: OrderInput[] = [];
    let refunds: RefundInput[] = [];
    let customers: CustomerInput[] = [];
    const products: ProductInput[] = [];
    const flush = async () => {
      if (orders.length + refunds.length + customers.length === 0) return;
      await batchTransaction(writeDb, async (trx) => {
        writer.use(trx);
        await writer.resolveCustomers(customers.map((customer) => ({ customer, seenAt: options.now })));
        await writer.writeOrders(orders);
        await writer.writeRefunds(refunds);
      });
      orders = [];
      refunds = [];
      customers = [];
    };
    try {
      let replayed = 0;
      for await (const item of spill.read()) {
        replayed += 1;
        if (replayed % 1000 === 0 || replayed === spill.count) {
          options.onProgress?.(Math.round((fileTotal + (fileTotal * replayed) / spill.count) / 2), fileTotal);
        }
        if (item.kind === 'order') orders.push(item.order);
        else if (item.kind === 'refund') refunds.push(item.refund);
        else if (item.kind === 'customer') customers.push(item.customer);
        else if (item.kind === 'product') products.push(item.product);
        if (orders.length + refunds.length + customers.length >= batchSize) await flush();
      }
      await flush();
    } finally {
      session?.release();
    }
    writer.copyThrough(undefined);
    await batchTransaction(db, async (trx) => {
      if (format.catalogue) {
        const catalogue = new ProductWriter(trx, format.name, options.now);
        await catalogue.write(products);
        summary.catalogue = catalogue.stats;
      }
      writer.use(trx);
      await writer.finish();
      await trx
        .updateTable('imports')
        .set({ orders: writer.stats.orders, completed_at: options.now })
        .where('id', '=', run.id)
        .execute();
      // The interrupted runs of this file are complete now.
      if (run.unfinished.length > 0) await trx.deleteFrom('imports').where('id', 'in', run.unfinished).execute();
    });
    Object.assign(summary, writer.stats);
    summary.reconciliation = fileMoney.reconcile(writer.money, summary.rejected);
    return summary;
  }
}

type SpilledItem = Extract<ParsedItem, { kind: 'order' | 'refund' | 'customer' | 'product' }>;

/**
 * The records of the checking pass, kept for the writing pass in a temporary file (chunks of 2,000
 * records in V8's structured-clone format, each behind its byte length), so that the file is parsed
 * once and memory holds one chunk, whatever the file's size.
 */
class Spill {
  count = 0;
  private chunk: SpilledItem[] = [];
  private constructor(
    private readonly dir: string,
    private readonly out: WriteStream,
  ) {}

  static async create(): Promise<Spill> {
    const dir = await mkdtemp(join(tmpdir(), 'comeback-import-'));
    return new Spill(dir, createWriteStream(join(dir, 'records')));
  }

  async push(item: SpilledItem): Promise<void> {
    this.chunk.push(item);
    this.count += 1;
    if (this.chunk.length >= 2000) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.chunk.length === 0) return;
    const body = serialize(this.chunk);
    this.chunk = [];
    const head = Buffer.alloc(4);
    head.writeUInt32LE(body.length);
    this.out.write(head);
    if (!this.out.write(body)) await new Promise<void>((resolve) => this.out.once('drain', () => resolve()));
  }

  async close(): Promise<void> {
    await this.flush();
    this.out.end();
    await finished(this.out);
  }

  async *read(): AsyncGenerator<SpilledItem> {
    const handle = await open(join(this.dir, 'records'));
    try {
      const head = Buffer.alloc(4);
      for (;;) {
        const { bytesRead } = await handle.read(head, 0, 4, null);
        if (bytesRead < 4) return;
        const body = Buffer.alloc(head.readUInt32LE(0));
        await handle.read(body, 0, body.length, null);
        const items: SpilledItem[] = deserialize(body);
        yield* items;
      }
    } finally {
      await handle.close();
    }
  }

  async remove(): Promise<void> {
    this.out.destroy();
    await rm(this.dir, { recursive: true, force: true });
  }
}

/**
 * Runs `fn` in a short write transaction. On SQLite it begins IMMEDIATE, taking the write lock before
 * the first read (a deferred transaction that reads, then writes after another process committed, fails
 * at once with SQLITE_BUSY instead of waiting); the busy timeout (10 s, see `openStore`) makes it wait
 * for a writer that holds the lock, and every other writer holds it one batch at most. A lock still
 * held after that is a `busy` ComebackError. Inside a transaction already, it runs `fn` there.
 */
export async function batchTransaction<T>(db: Db, fn: (trx: Db) => Promise<T>): Promise<T> {
  try {
    // One wait of the busy timeout: a writer that holds the lock longer is reported as busy, not outwaited.
    return await immediateTransaction(db, fn, { attempts: 1 });
  } catch (error) {
    if (isBusyError(error)) throw busyError(error);
    throw error;
  }
}

/** The money the file states, per currency, gathered by the checking pass. */
class FileMoney {
  private readonly orders = new Map<string, { currency: string; net: number; status: string; refunded: number }>();
  private readonly refunds = new Map<string, number>();
  private readonly skips = new Map<string, Map<string, { count: number; minor: number }>>();

  order(order: OrderInput): void {
    // A split order comes again with its totals so far: the last one counts.
    this.orders.set(order.externalId, {
      currency: order.currency,
      net: order.totalMinor - (order.refundedMinor ?? 0),
      status: order.status,
      refunded: order.refundedMinor ?? 0,
    });
  }

  refund(refund: RefundInput): void {
    this.refunds.set(refund.currency, (this.refunds.get(refund.currency) ?? 0) + refund.amountMinor);
  }

  skip(currency: string, reason: string, minor: number): void {
    const byReason = this.skips.get(currency) ?? new Map<string, { count: number; minor: number }>();
    this.skips.set(currency, byReason);
    const item = byReason.get(reason) ?? { count: 0, minor: 0 };
    byReason.set(reason, { count: item.count + 1, minor: item.minor + minor });
  }

  reconcile(stored: ReadonlyMap<string, StoredMoney>, rejected: number): Reconciliation[] {
    const net = new Map<string, number>();
    for (const { currency, net: n } of this.orders.values()) net.set(currency, (net.get(currency) ?? 0) + n);
    for (const [currency, minor] of this.refunds) net.set(currency, (net.get(currency) ?? 0) - minor);
    for (const [currency, byReason] of this.skips) {
      for (const item of byReason.values()) net.set(currency, (net.get(currency) ?? 0) + item.minor);
    }
    const currencies = [...new Set([...net.keys(), ...stored.keys()])].sort();
    return currencies.map((currency) => {
      const s = stored.get(currency);
      const fileNetMinor = net.get(currency) ?? 0;
      const storedNetMinor = s ? s.ordersNetMinor - s.refundsAppliedMinor : 0;
      const explained: ReconciliationItem[] = [];
      for (const [reason, item] of this.skips.get(currency) ?? []) {
        explained.push({ reason: `skipped: ${reason}`, count: item.count, minor: item.minor });
      }
      if (s && s.unmatchedCount > 0) {
        explained.push({
          reason: 'refunds that matched no order (or exceeded what their orders had left), kept without an order',
          count: s.unmatchedCount,
          minor: -s.unmatchedMinor,
        });
      }
      // Counted in the stored net and the unmatched as the earlier import stored them: no money of its own.
      if (s && s.knownCount > 0) {
        explained.push({
          reason: 'refunds stored by an earlier import, counted as stored then, not applied again',
          count: s.knownCount,
          minor: 0,
        });
      }
      if (rejected > 0) {
        explained.push({
          reason: 'rejected rows (their amounts are not read, nor in the file net)',
          count: rejected,
          minor: 0,
        });
      }
      const unexplainedMinor = fileNetMinor - storedNetMinor - explained.reduce((sum, e) => sum + e.minor, 0);
      const byStatus = new Map<string, { status: string; count: number; minor: number }>();
      for (const o of this.orders.values()) {
        if (o.currency !== currency || (REVENUE_STATUSES as readonly string[]).includes(o.status)) continue;
        const item = byStatus.get(o.status) ?? { status: o.status, count: 0, minor: 0 };
        byStatus.set(o.status, { ...item, count: item.count + 1, minor: item.minor + o.net });
      }
      const notSales = [...byStatus.values()].sort((a, b) => a.status.localeCompare(b.status));
      const refundedOnOrders = { count: 0, minor: 0 };
      for (const o of this.orders.values()) {
        if (o.currency !== currency || o.refunded <= 0) continue;
        refundedOnOrders.count += 1;
        refundedOnOrders.minor += o.refunded;
      }
      return { currency, fileNetMinor, storedNetMinor, explained, unexplainedMinor, notSales, refundedOnOrders };
    });
  }
}

async function* countRows<T>(rows: AsyncIterable<T>, seen: () => void): AsyncGenerator<T> {
  for await (const row of rows) {
    seen();
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
