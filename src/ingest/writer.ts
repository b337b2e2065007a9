import { sql } from 'kysely';
import type pg from 'pg';
import { isoCountry } from '../shared/countries.js';
import { localDate } from '../shared/dates.js';
import { copyRows, type Db, dialectOf, type SqliteHandle, skipQueuedMarketing, sqliteHandle } from '../store/index.js';
import type { OrderStatus } from '../store/schema.js';
import { type CustomerFields, findOrCreateCustomer } from './identity.js';
import { type BatchCustomer, resolveBatch } from './identity-batch.js';
import { type ConsentInput, type CustomerInput, normaliseEmail, type OrderInput, type RefundInput } from './records.js';

/** What a write changed, for the import summary. */
export interface WriteStats {
  /** Distinct orders written (an order whose rows the file splits counts once). */
  orders: number;
  lines: number;
  /** Refund rows stored (an allocated cancellation line may make several). */
  refunds: number;
  customersCreated: number;
  productsCreated: number;
}

/** The money one writer stored, per currency: what an import's reconciliation compares with the file. */
export interface StoredMoney {
  /** Σ over distinct orders of total − the refunded amount stated on the order. */
  ordersNetMinor: number;
  /**
   * Refunds on orders' refunded amounts: added by this import, or by an earlier one for a refund it
   * stored (a re-import counts them as stored then, so its stored net is the first import's).
   */
  refundsAppliedMinor: number;
  /** Refund records that matched no order (or the part of one above what its orders had left), likewise. */
  unmatchedMinor: number;
  unmatchedCount: number;
  /** Of the above, refund records stored by an earlier import (a re-import), not applied again. */
  knownMinor: number;
  knownCount: number;
}

function emptyMoney(): StoredMoney {
  return {
    ordersNetMinor: 0,
    refundsAppliedMinor: 0,
    unmatchedMinor: 0,
    unmatchedCount: 0,
    knownMinor: 0,
    knownCount: 0,
  };
}

const ORDER_CHUNK = 400;
const SQLITE_LINE_UPSERT = `insert into order_lines
  (order_id, line_no, product_id, sku, title, quantity, unit_price_minor, discount_minor, total_minor, kind)
  values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
  on conflict (order_id, line_no) do update set product_id = excluded.product_id, sku = excluded.sku,
    title = excluded.title, quantity = excluded.quantity, unit_price_minor = excluded.unit_price_minor,
    discount_minor = excluded.discount_minor, total_minor = excluded.total_minor, kind = excluded.kind`;
const LINE_CHUNK = 900;

/**
 * Stores normalised orders, refunds and customers idempotently: orders by (source, external id),
 * lines by (order, line number), refunds by (source, external id), customers by their source id or
 * e-mail. Caches ids for the life of one import so a file with a million lines does not look up the
 * same customer or product a million times. Give it a transaction to make a file all-or-nothing.
 */
export class ImportWriter {
  readonly stats: WriteStats = { orders: 0, lines: 0, refunds: 0, customersCreated: 0, productsCreated: 0 };
  /** Per currency, what was stored; see `StoredMoney`. */
  readonly money = new Map<string, StoredMoney>();
  /** The net (total − stated refund) last written for each order, so a merged order counts once. */
  private readonly orderNet = new Map<string, { currency: string; net: number }>();
  private readonly customerIds = new Map<string, number>();
  private readonly productIds = new Map<string, number>();
  private readonly firstSeen = new Map<number, number>();
  private lineUpsert: ReturnType<SqliteHandle['prepare']> | undefined;
  private copy: pg.PoolClient | undefined;
  private setBased = false;

  /**
   * `source` is the `orders.source` of what it writes and, unless `customerSource` is given, the identity
   * source its customers' external ids are looked up in (`POST /orders` keeps its orders under `api` and
   * its customers under the server's `--user-id-source`).
   */
  constructor(
    private db: Db,
    private readonly source: string,
    private readonly now: number,
    private readonly customerSource: string = source,
  ) {}

  /**
   * Writes through `db` from now on: an import commits batch after batch, each in a transaction of its
   * own, with one writer whose caches span the whole file.
   */
  use(db: Db): this {
    this.db = db;
    return this;
  }

  /**
   * PostgreSQL: write orders and lines by `COPY` into temporary staging tables on `client` (the session
   * this writer's transactions run on, see `pgSession`), then one set-based upsert per table with the
   * same conflict rules as the row-by-row path. Customers, products and refunds are written as before.
   */
  copyThrough(client: pg.PoolClient | undefined): this {
    this.copy = client;
    return this;
  }

  /**
   * Resolves each batch's customers with a few set-based statements (identity-batch.ts) instead of
   * a few queries per customer; the same customers, ids, fields and consents. Off: one by one.
   */
  resolveInBatches(on: boolean): this {
    this.setBased = on;
    return this;
  }

  private async copyUpsertOrders(
    values: ReadonlyArray<Record<string, unknown>>,
    withRefunds: boolean,
  ): Promise<Array<{ id: number; external_id: string }>> {
    const client = this.copy!;
    const columns = Object.keys(values[0] ?? {});
    await sql`create temporary table if not exists stage_orders on commit delete rows as
      select ${sql.raw(columns.map((c) => `"${c}"`).join(', '))} from orders with no data`.execute(this.db);
    await sql`truncate stage_orders`.execute(this.db);
    await copyRows(
      client,
      'stage_orders',
      columns,
      values.map((v) => columns.map((c) => v[c])),
    );
    const kept = new Set([
      'source',
      'external_id',
      'imported_at',
      ...(withRefunds ? [] : ['refunded_minor', 'status']),
    ]);
    const set = columns
      .filter((c) => !kept.has(c))
      .map((c) => `"${c}" = excluded."${c}"`)
      .join(', ');
    const list = columns.map((c) => `"${c}"`).join(', ');
    const result = await sql<{ id: number; external_id: string }>`insert into orders (${sql.raw(list)})
      select ${sql.raw(list)} from stage_orders
      on conflict (source, external_id) do update set ${sql.raw(set)}
      returning id, external_id`.execute(this.db);
    return result.rows;
  }

  private async copyUpsertLines(rows: ReadonlyArray<Record<string, unknown>>): Promise<void> {
    const columns = Object.keys(rows[0] ?? {});
    const list = columns.map((c) => `"${c}"`).join(', ');
    await sql`create temporary table if not exists stage_lines on commit delete rows as
      select ${sql.raw(list)} from order_lines with no data`.execute(this.db);
    await sql`truncate stage_lines`.execute(this.db);
    await copyRows(
      this.copy!,
      'stage_lines',
      columns,
      rows.map((r) => columns.map((c) => r[c])),
    );
    const set = columns
      .filter((c) => c !== 'order_id' && c !== 'line_no')
      .map((c) => `"${c}" = excluded."${c}"`)
      .join(', ');
    await sql`insert into order_lines (${sql.raw(list)}) select ${sql.raw(list)} from stage_lines
      on conflict (order_id, line_no) do update set ${sql.raw(set)}`.execute(this.db);
  }

  private moneyOf(currency: string): StoredMoney {
    const money = this.money.get(currency) ?? emptyMoney();
    this.money.set(currency, money);
    return money;
  }

  /** Finds or creates the customer, filling in fields the store did not know yet. */
  async resolveCustomer(input: CustomerInput, seenAt: number): Promise<number | undefined> {
    const email = normaliseEmail(input.email);
    const idKey = input.externalId ? `id:${input.externalId}` : undefined;
    const emailKey = email ? `email:${email}` : undefined;
    if (!idKey && !emailKey) return undefined;
    let id = (idKey && this.customerIds.get(idKey)) || (emailKey && this.customerIds.get(emailKey)) || undefined;
    if (id === undefined) id = await this.findOrCreateCustomer(input, email, seenAt);
    // Consent is stated per order: the newest statement wins, whatever the order of the file.
    if (input.consents?.length) await this.applyConsents(id, input);
    if (idKey) this.customerIds.set(idKey, id);
    if (emailKey) this.customerIds.set(emailKey, id);
    const seen = this.firstSeen.get(id);
    if (seen === undefined || seenAt < seen) this.firstSeen.set(id, seenAt);
    return id;
  }

  /**
   * Resolves many records' customers (undefined: a record without one) as `resolveCustomer` one after
   * another would; set-based when `resolveInBatches` is on. Returns the customer ids in record order.
   */
  async resolveCustomers(
    items: ReadonlyArray<{ customer: CustomerInput; seenAt: number } | undefined>,
  ): Promise<Array<number | undefined>> {
    if (!this.setBased || items.every((item) => item === undefined)) {
      const ids: Array<number | undefined> = [];
      for (const item of items) ids.push(item ? await this.resolveCustomer(item.customer, item.seenAt) : undefined);
      return ids;
    }
    const batch = items.map((item): BatchCustomer | undefined => {
      if (!item) return undefined;
      const { customer } = item;
      const fields = customerFields(customer);
      return {
        externalId: customer.externalId,
        email: normaliseEmail(customer.email),
        fields: { ...fields, country: isoCountry(fields.country) ?? fields.country },
        consents: customer.consents ?? [],
        seenAt: item.seenAt,
      };
    });
    const postgres = dialectOf(this.db) === 'postgres';
    // A concurrent writer may take a key between look-up and write: undo the batch's writes, go one by one.
    if (postgres) await sql`savepoint comeback_identity_batch`.execute(this.db);
    const resolved = await resolveBatch(this.db, {
      source: this.customerSource,
      now: this.now,
      cache: this.customerIds,
      items: batch,
    });
    if (resolved.raced) {
      if (!postgres) throw new Error('identity batch: a write the snapshot did not foresee on SQLite');
      await sql`rollback to savepoint comeback_identity_batch`.execute(this.db);
      this.setBased = false;
      try {
        return await this.resolveCustomers(items);
      } finally {
        this.setBased = true;
      }
    }
    if (postgres) await sql`release savepoint comeback_identity_batch`.execute(this.db);
    this.stats.customersCreated += resolved.created;
    for (const [key, id] of resolved.keys) this.customerIds.set(key, id);
    resolved.ids.forEach((id, i) => {
      if (id === undefined) return;
      const seenAt = batch[i]!.seenAt;
      const seen = this.firstSeen.get(id);
      if (seen === undefined || seenAt < seen) this.firstSeen.set(id, seenAt);
    });
    return resolved.ids;
  }

  /** Identity resolution lives in identity.ts (safe under concurrent writers); this adds the stats. */
  private async findOrCreateCustomer(input: CustomerInput, email: string | undefined, seenAt: number) {
    const { id, created } = await findOrCreateCustomer(this.db, {
      source: this.customerSource,
      externalId: input.externalId,
      email,
      fields: customerFields(input),
      seenAt,
      now: this.now,
    });
    if (created) this.stats.customersCreated += 1;
    return id;
  }

  private async applyConsents(customerId: number, input: CustomerInput): Promise<void> {
    for (const consent of input.consents ?? []) await recordConsent(this.db, customerId, consent);
  }

  /**
   * Stores a batch of orders with their lines; returns the order ids by external id. An order given
   * twice in one batch (the rows of an invoice split by another) is merged first: the later record's
   * fields and totals, the lines of both (by line number, the later wins), so that one statement never
   * touches a row twice (PostgreSQL refuses that).
   */
  async writeOrders(given: readonly OrderInput[]): Promise<Map<string, number>> {
    const ids = new Map<string, number>();
    if (given.length === 0) return ids;
    const orders = mergeById(given);
    await this.ensureProducts(orders);
    const customerIds = await this.resolveCustomers(
      orders.map((order) => (order.customer ? { customer: order.customer, seenAt: order.placedAt } : undefined)),
    );
    const rows = orders.map((order, i) => ({ order, customerId: customerIds[i] }));
    // COPY takes the whole batch in one statement; inserts go in chunks below the parameter limit.
    const chunkSize = this.copy ? Math.max(1, rows.length) : ORDER_CHUNK;
    for (let start = 0; start < rows.length; start += chunkSize) {
      const chunk = rows.slice(start, start + chunkSize);
      for (const withRefunds of [true, false]) {
        const part = chunk.filter((r) => (r.order.refundedMinor !== undefined) === withRefunds);
        if (part.length === 0) continue;
        const values = part.map(({ order, customerId }) => ({
          source: this.source,
          external_id: order.externalId,
          customer_id: customerId ?? null,
          email: normaliseEmail(order.email ?? order.customer?.email) ?? null,
          placed_at: order.placedAt,
          placed_offset: order.placedOffset,
          placed_date: localDate(order.placedAt, order.placedOffset),
          currency: order.currency,
          subtotal_minor: order.subtotalMinor,
          shipping_minor: order.shippingMinor,
          tax_minor: order.taxMinor,
          discount_minor: order.discountMinor,
          total_minor: order.totalMinor,
          refunded_minor: order.refundedMinor ?? 0,
          status: order.status,
          discount_codes: JSON.stringify(order.discountCodes),
          country: isoCountry(order.country) ?? order.country ?? null,
          cancelled_at: order.cancelledAt ?? null,
          imported_at: this.now,
          payment_method: order.acquisition?.paymentMethod ?? null,
          referring_site: order.acquisition?.referringSite ?? null,
          landing_site: order.acquisition?.landingSite ?? null,
          sales_channel: order.acquisition?.channel ?? null,
          utm_source: order.acquisition?.utmSource ?? null,
          utm_medium: order.acquisition?.utmMedium ?? null,
          utm_campaign: order.acquisition?.utmCampaign ?? null,
          name: order.name ?? null,
        }));
        if (this.copy) {
          for (const row of await this.copyUpsertOrders(values, withRefunds)) ids.set(row.external_id, row.id);
          continue;
        }
        const inserted = await this.db
          .insertInto('orders')
          .values(values)
          .onConflict((oc) =>
            oc.columns(['source', 'external_id']).doUpdateSet((eb) => ({
              customer_id: eb.ref('excluded.customer_id'),
              email: eb.ref('excluded.email'),
              placed_at: eb.ref('excluded.placed_at'),
              placed_offset: eb.ref('excluded.placed_offset'),
              placed_date: eb.ref('excluded.placed_date'),
              currency: eb.ref('excluded.currency'),
              subtotal_minor: eb.ref('excluded.subtotal_minor'),
              shipping_minor: eb.ref('excluded.shipping_minor'),
              tax_minor: eb.ref('excluded.tax_minor'),
              discount_minor: eb.ref('excluded.discount_minor'),
              total_minor: eb.ref('excluded.total_minor'),
              discount_codes: eb.ref('excluded.discount_codes'),
              country: eb.ref('excluded.country'),
              cancelled_at: eb.ref('excluded.cancelled_at'),
              payment_method: eb.ref('excluded.payment_method'),
              referring_site: eb.ref('excluded.referring_site'),
              landing_site: eb.ref('excluded.landing_site'),
              sales_channel: eb.ref('excluded.sales_channel'),
              utm_source: eb.ref('excluded.utm_source'),
              utm_medium: eb.ref('excluded.utm_medium'),
              utm_campaign: eb.ref('excluded.utm_campaign'),
              name: eb.ref('excluded.name'),
              // Formats whose refunds are separate records leave these to the refunds already stored.
              ...(withRefunds
                ? { refunded_minor: eb.ref('excluded.refunded_minor'), status: eb.ref('excluded.status') }
                : {}),
            })),
          )
          .returning(['id', 'external_id'])
          .execute();
        for (const row of inserted) ids.set(row.external_id, row.id);
      }
    }
    for (const order of orders) {
      const net = order.totalMinor - (order.refundedMinor ?? 0);
      const before = this.orderNet.get(order.externalId);
      if (before) this.moneyOf(before.currency).ordersNetMinor -= before.net;
      else this.stats.orders += 1;
      this.orderNet.set(order.externalId, { currency: order.currency, net });
      this.moneyOf(order.currency).ordersNetMinor += net;
    }
    await this.writeLines(orders, ids);
    return ids;
  }

  private async ensureProducts(orders: readonly OrderInput[]): Promise<void> {
    const missing = new Map<
      string,
      { title: string | null; category: string | null; price: number; currency: string }
    >();
    for (const order of orders) {
      for (const line of order.lines) {
        if (line.kind !== 'product' || !line.sku || this.productIds.has(line.sku) || missing.has(line.sku)) continue;
        missing.set(line.sku, {
          title: line.title ?? null,
          category: line.category ?? null,
          price: line.unitPriceMinor,
          currency: order.currency,
        });
      }
    }
    if (missing.size === 0) return;
    const skus = [...missing.keys()];
    for (let start = 0; start < skus.length; start += LINE_CHUNK) {
      const chunk = skus.slice(start, start + LINE_CHUNK);
      const created = await this.db
        .insertInto('products')
        .values(
          chunk.map((sku) => {
            const p = missing.get(sku)!;
            return { sku, title: p.title, category: p.category, price_minor: p.price, currency: p.currency };
          }),
        )
        .onConflict((oc) => oc.column('sku').doNothing())
        .returning('id')
        .execute();
      this.stats.productsCreated += created.length;
      const rows = await this.db.selectFrom('products').select(['id', 'sku']).where('sku', 'in', chunk).execute();
      for (const row of rows) this.productIds.set(row.sku, row.id);
    }
  }

  private async writeLines(orders: readonly OrderInput[], ids: Map<string, number>): Promise<void> {
    const rows = orders.flatMap((order) => {
      const orderId = ids.get(order.externalId)!;
      return order.lines.map((line) => ({
        order_id: orderId,
        line_no: line.lineNo,
        product_id: line.kind === 'product' && line.sku ? (this.productIds.get(line.sku) ?? null) : null,
        sku: line.sku ?? null,
        title: line.title ?? null,
        quantity: line.quantity,
        unit_price_minor: line.unitPriceMinor,
        discount_minor: line.discountMinor,
        total_minor: line.totalMinor,
        kind: line.kind,
      }));
    });
    const sqlite = sqliteHandle(this.db);
    if (this.copy && rows.length > 0) {
      await this.copyUpsertLines(rows);
    } else if (sqlite) {
      // SQLite: one prepared statement run per line beats compiling a multi-row insert per batch.
      this.lineUpsert ??= sqlite.prepare(SQLITE_LINE_UPSERT);
      for (const r of rows) {
        this.lineUpsert.run(
          r.order_id,
          r.line_no,
          r.product_id,
          r.sku,
          r.title,
          r.quantity,
          r.unit_price_minor,
          r.discount_minor,
          r.total_minor,
          r.kind,
        );
      }
    } else {
      for (let start = 0; start < rows.length; start += LINE_CHUNK) {
        await this.db
          .insertInto('order_lines')
          .values(rows.slice(start, start + LINE_CHUNK))
          .onConflict((oc) =>
            oc.columns(['order_id', 'line_no']).doUpdateSet((eb) => ({
              product_id: eb.ref('excluded.product_id'),
              sku: eb.ref('excluded.sku'),
              title: eb.ref('excluded.title'),
              quantity: eb.ref('excluded.quantity'),
              unit_price_minor: eb.ref('excluded.unit_price_minor'),
              discount_minor: eb.ref('excluded.discount_minor'),
              total_minor: eb.ref('excluded.total_minor'),
              kind: eb.ref('excluded.kind'),
            })),
          )
          .execute();
      }
    }
    this.stats.lines += rows.length;
  }

  /**
   * Stores refunds. A refund that names its order is added to it, up to what the order has left (the
   * rest is stored without an order and counted as unmatched). A refund to be matched (an Online
   * Retail cancellation line) is allocated by units across the customer's earlier orders that bought
   * the sku: first those that bought it at the cancellation's unit price, latest first, then those that
   * bought it only at other prices (a price may change between a sale and its return), latest first;
   * never more units of an order than it bought less those already refunded, and never more money than
   * the order has left. A manual credit (`match.wholeOrder`, Online Retail's `M`) takes units only of
   * orders whose `M` line has its unit price, less those taken back at that price (an `M` unit is an
   * amount, not a product; each piece keeps the unit price it takes back at); one for which
   * the customer has no such line refunds their latest earlier order that has exactly its amount left,
   * if any. A matched refund is stored as pieces `ID#1`, `ID#2`…, one per order and one without an order
   * for what matched nothing. A refund stored before (by its id, or its first piece) is skipped and
   * counted as known, so a re-import changes nothing.
   */
  async writeRefunds(refunds: readonly RefundInput[]): Promise<void> {
    // Resolving a customer reads and writes no refund or order, so a batch may resolve them all first.
    const resolved = this.setBased
      ? await this.resolveCustomers(
          refunds.map((refund) => {
            const customer = refund.customer ?? refund.match?.customer;
            return customer ? { customer, seenAt: refund.refundedAt } : undefined;
          }),
        )
      : undefined;
    for (const [i, refund] of refunds.entries()) {
      const money = this.moneyOf(refund.currency);
      const customer = refund.customer ?? refund.match?.customer;
      const customerId = resolved
        ? resolved[i]
        : customer
          ? await this.resolveCustomer(customer, refund.refundedAt)
          : undefined;
      const pieces = refund.match ? await this.allocate(refund, refund.match, customerId) : await this.named(refund);
      if (pieces === undefined) {
        money.knownMinor += refund.amountMinor;
        money.knownCount += 1;
        // Counted as stored then: on its orders, or without one, as the first import counted it.
        const stored = await this.storedPieces(refund);
        for (const piece of stored) {
          if (piece.order_id === null) money.unmatchedMinor += Number(piece.amount_minor);
          else money.refundsAppliedMinor += Number(piece.amount_minor);
        }
        if (stored.some((piece) => piece.order_id === null)) money.unmatchedCount += 1;
        continue;
      }
      let unmatched = false;
      for (const piece of pieces) {
        const inserted = await this.db
          .insertInto('refunds')
          .values({
            source: this.source,
            external_id: piece.externalId,
            order_id: piece.orderId ?? null,
            customer_id: customerId ?? null,
            amount_minor: piece.amountMinor,
            currency: refund.currency,
            refunded_at: refund.refundedAt,
            reason: refund.reason ?? null,
            sku: refund.sku ?? null,
            quantity: piece.quantity ?? null,
            unit_price_minor: refund.match?.unitPriceMinor ?? null,
          })
          .onConflict((oc) => oc.columns(['source', 'external_id']).doNothing())
          .returning('id')
          .executeTakeFirst();
        if (!inserted) continue;
        this.stats.refunds += 1;
        if (piece.orderId === undefined) {
          money.unmatchedMinor += piece.amountMinor;
          unmatched = true;
        } else {
          await applyRefund(this.db, piece.orderId, piece.amountMinor);
          money.refundsAppliedMinor += piece.amountMinor;
        }
      }
      if (unmatched) money.unmatchedCount += 1;
    }
  }

  /**
   * The pieces an earlier import stored of a refund: the record itself (`ID`), or its pieces `ID#1`,
   * `ID#2`… and `ID#excess`, looked up by exact id (so the unique index serves every lookup).
   */
  private async storedPieces(refund: RefundInput): Promise<Array<{ order_id: number | null; amount_minor: number }>> {
    const id = refund.externalId;
    const found: Array<{ order_id: number | null; amount_minor: number }> = [];
    const PAGE = 20;
    for (let first = 1; ; first += PAGE) {
      const ids = Array.from({ length: PAGE }, (_, i) => `${id}#${first + i}`);
      if (first === 1) ids.push(id, `${id}#excess`);
      const rows = await this.db
        .selectFrom('refunds')
        .select(['order_id', 'amount_minor', 'external_id'])
        .where('source', '=', this.source)
        .where('external_id', 'in', ids)
        .execute();
      found.push(...rows);
      // Pieces are numbered from 1 without gaps: a page not full of them is the last.
      if (rows.filter((r) => r.external_id.startsWith(`${id}#`) && r.external_id !== `${id}#excess`).length < PAGE)
        return found;
    }
  }

  /** A refund naming its order: one piece, capped at what the order has left; undefined when stored before. */
  private async named(refund: RefundInput): Promise<RefundPiece[] | undefined> {
    const known = await this.db
      .selectFrom('refunds')
      .select('id')
      .where('source', '=', this.source)
      .where('external_id', '=', refund.externalId)
      .executeTakeFirst();
    if (known) return undefined;
    const order = refund.orderExternalId
      ? await this.db
          .selectFrom('orders')
          .select(['id', 'total_minor', 'refunded_minor'])
          .where('source', '=', this.source)
          .where('external_id', '=', refund.orderExternalId)
          .executeTakeFirst()
      : undefined;
    const id = refund.externalId;
    const whole = { externalId: id, amountMinor: refund.amountMinor, quantity: refund.quantity };
    if (!order) return [whole];
    const room = Math.max(0, Number(order.total_minor) - Number(order.refunded_minor));
    const applied = Math.min(refund.amountMinor, room);
    if (applied <= 0) return [whole];
    const pieces: RefundPiece[] = [{ ...whole, orderId: Number(order.id), amountMinor: applied }];
    // Above what the order has left: kept as a refund of no order rather than pushing refunded past total.
    if (applied < refund.amountMinor)
      pieces.push({ externalId: `${id}#excess`, amountMinor: refund.amountMinor - applied });
    return pieces;
  }

  /**
   * A cancellation by units: its pieces across the customer's orders; undefined when stored before.
   * The rule is writeRefunds': orders that bought the sku at `match.unitPriceMinor` first, then the
   * others, each group latest first; a manual credit (`wholeOrder`) looks only at lines of its price.
   */
  private async allocate(
    refund: RefundInput,
    match: NonNullable<RefundInput['match']>,
    customerId: number | undefined,
  ): Promise<RefundPiece[] | undefined> {
    const known = await this.db
      .selectFrom('refunds')
      .select('id')
      .where('source', '=', this.source)
      .where('external_id', '=', `${refund.externalId}#1`)
      .executeTakeFirst();
    if (known) return undefined;
    const pieces: RefundPiece[] = [];
    let units = match.quantity;
    let left = refund.amountMinor;
    // Whether the customer bought the sku in an earlier order (a manual credit: at its unit price).
    let bought = false;
    if (customerId !== undefined && units > 0) {
      const price = match.unitPriceMinor;
      let query = this.db
        .selectFrom('orders as o')
        .innerJoin('order_lines as l', 'l.order_id', 'o.id')
        .select((eb) => [
          'o.id',
          'o.total_minor',
          'o.refunded_minor',
          eb.fn.sum<number>('l.quantity').as('bought'),
          // 1 when one of the order's lines of the sku has the cancellation's unit price: taken first.
          eb.fn.max<number>(eb.case().when('l.unit_price_minor', '=', price).then(1).else(0).end()).as('same_price'),
          eb
            .selectFrom('refunds as r')
            .select((sub) => sub.fn.coalesce(sub.fn.sum<number>('r.quantity'), sub.val(0)).as('n'))
            .whereRef('r.order_id', '=', 'o.id')
            .where('r.sku', '=', match.sku)
            // A manual credit's units taken back before at its price (one stored without a price, before
            // migration 033, counts at every price).
            .$if(match.wholeOrder === true, (sub) =>
              sub.where((w) => w.or([w('r.unit_price_minor', '=', price), w('r.unit_price_minor', 'is', null)])),
            )
            .as('returned'),
        ])
        .where('o.customer_id', '=', customerId)
        .where('o.source', '=', this.source)
        .where('l.sku', '=', match.sku)
        .where('l.quantity', '>', 0)
        .where('o.placed_at', '<=', match.before)
        .where('o.currency', '=', refund.currency);
      // A manual line's unit is an amount, not a product: an `M` credit of £80 takes back no unit of an
      // order's 2 × £0.50 `M` line (C572659), only units of `M` lines at £80 not yet taken back at £80
      // (C548830's four credits take back 548813's four `M` lines of the same four prices).
      if (match.wholeOrder) query = query.where('l.unit_price_minor', '=', price);
      const candidates = await query
        .groupBy(['o.id', 'o.total_minor', 'o.refunded_minor', 'o.placed_at'])
        .orderBy('same_price', 'desc')
        .orderBy('o.placed_at', 'desc')
        .orderBy('o.id', 'desc')
        .execute();
      bought = candidates.length > 0;
      for (const c of candidates) {
        const free = Number(c.bought) - Number(c.returned ?? 0);
        if (free <= 0) continue;
        const take = Math.min(units, free);
        const room = Math.max(0, Number(c.total_minor) - Number(c.refunded_minor));
        const value = units === take ? left : take * match.unitPriceMinor;
        const applied = Math.min(value, room, left);
        if (applied <= 0) continue;
        pieces.push({
          externalId: `${refund.externalId}#${pieces.length + 1}`,
          orderId: Number(c.id),
          amountMinor: applied,
          quantity: take,
        });
        units -= take;
        left -= applied;
        if (units === 0) break;
      }
    }
    // A manual credit (Online Retail's `M` lines, `wholeOrder`) for nothing the customer bought at its
    // unit price, exactly what one of their earlier orders has left, refunds that order, the latest such:
    // C556445 (M, £38,970) three minutes after 556444 (60 × £649.50). Any other amount stays without an
    // order; a product's credit never does this (12 tissue boxes at £1.25 are not a £15 bank charge).
    if (customerId !== undefined && match.wholeOrder && !bought && left > 0) {
      const whole = await this.db
        .selectFrom('orders')
        .select('id')
        .where('customer_id', '=', customerId)
        .where('source', '=', this.source)
        .where('currency', '=', refund.currency)
        .where('placed_at', '<=', match.before)
        .where((eb) => eb(eb('total_minor', '-', eb.ref('refunded_minor')), '=', left))
        .orderBy('placed_at', 'desc')
        .orderBy('id', 'desc')
        .limit(1)
        .executeTakeFirst();
      if (whole) {
        pieces.push({
          externalId: `${refund.externalId}#1`,
          orderId: Number(whole.id),
          amountMinor: left,
          quantity: units,
        });
        left = 0;
      }
    }
    // What matched no order's units or money is kept, without an order, for the customer's history.
    if (left > 0 || pieces.length === 0) {
      pieces.push({ externalId: `${refund.externalId}#${pieces.length + 1}`, amountMinor: left, quantity: units });
    }
    return pieces;
  }

  /** Writes the earliest-seen instants gathered during the import back to the customers. */
  async finish(): Promise<void> {
    if (dialectOf(this.db) === 'postgres') {
      // One statement per 50,000 customers rather than one each: the same rows, the same rule.
      const all = [...this.firstSeen];
      for (let start = 0; start < all.length; start += 50_000) {
        const part = all.slice(start, start + 50_000);
        await sql`update customers c set first_seen_at = t.seen_at
          from unnest(${part.map(([id]) => id)}::bigint[], ${part.map(([, at]) => at)}::bigint[]) as t(id, seen_at)
          where c.id = t.id and c.first_seen_at > t.seen_at`.execute(this.db);
      }
      this.firstSeen.clear();
      return;
    }
    for (const [id, seenAt] of this.firstSeen) {
      await this.db
        .updateTable('customers')
        .set({ first_seen_at: seenAt })
        .where('id', '=', id)
        .where('first_seen_at', '>', seenAt)
        .execute();
    }
    this.firstSeen.clear();
  }
}

/** The customer fields a record states, as identity.ts takes them (a blank postcode is not said). */
function customerFields(input: CustomerInput): CustomerFields {
  return {
    phone: input.phone,
    first_name: input.firstName,
    last_name: input.lastName,
    birthday: input.birthday,
    country: input.country,
    city: input.city,
    address: input.address,
    postcode: input.postcode?.trim() || undefined,
  };
}

/** One part of a refund as stored: the order it goes to (none when unmatched), money and units. */
interface RefundPiece {
  externalId: string;
  orderId?: number;
  amountMinor: number;
  quantity?: number;
}

/** Orders in first-seen order, each external id once: later fields and totals, lines merged by number. */
function mergeById(orders: readonly OrderInput[]): OrderInput[] {
  const byId = new Map<string, OrderInput>();
  for (const order of orders) {
    const earlier = byId.get(order.externalId);
    if (!earlier) {
      byId.set(order.externalId, order);
      continue;
    }
    const lines = new Map(earlier.lines.map((l) => [l.lineNo, l]));
    for (const line of order.lines) lines.set(line.lineNo, line);
    byId.set(order.externalId, { ...order, lines: [...lines.values()] });
  }
  return [...byId.values()];
}

/**
 * Adds a refund to an order and moves its status; a cancelled order stays cancelled. The caller keeps
 * the amount within what the order has left (the database refuses refunded above total).
 */
export async function applyRefund(db: Db, orderId: number, amountMinor: number): Promise<void> {
  const refundedStatus: OrderStatus = 'refunded';
  const partialStatus: OrderStatus = 'partially_refunded';
  await db
    .updateTable('orders')
    .set((eb) => ({
      refunded_minor: eb('refunded_minor', '+', amountMinor),
      status: sql<OrderStatus>`case when status = 'cancelled' then status when refunded_minor + ${amountMinor} >= total_minor then ${refundedStatus} else ${partialStatus} end`,
    }))
    .where('id', '=', orderId)
    .execute();
}

/**
 * Records a customer's marketing consent on a channel, with when and where it was given or withdrawn.
 * The newest statement wins whatever the order of arrival; the same statement again changes nothing.
 * With `overrideNewer` the statement replaces the stored one even when that one is dated later: a
 * change made by hand now (`comeback consent set`, campaigns/consent.queries.ts) is the customer's
 * latest word, whatever date an import put on the stored row. The channel is `email`, `sms` or any
 * other consent channel (`ad_night`). No customer check: the foreign key refuses an unknown id.
 * A withdrawal that stands (the stored row now says no) skips the customer's pending marketing rows on
 * the channel at once (`skipQueuedMarketing`), in the caller's transaction.
 */
export async function recordConsent(
  db: Db,
  customerId: number,
  consent: Omit<ConsentInput, 'channel'> & { channel: string },
  { overrideNewer = false }: { overrideNewer?: boolean } = {},
): Promise<void> {
  await db
    .insertInto('customer_consents')
    .values({
      customer_id: customerId,
      channel: consent.channel,
      granted: consent.granted ? 1 : 0,
      updated_at: consent.at,
      source: consent.source,
    })
    .onConflict((oc) => {
      const update = oc.columns(['customer_id', 'channel']).doUpdateSet((eb) => ({
        granted: eb.ref('excluded.granted'),
        updated_at: eb.ref('excluded.updated_at'),
        source: eb.ref('excluded.source'),
      }));
      return overrideNewer ? update : update.whereRef('excluded.updated_at', '>=', 'customer_consents.updated_at');
    })
    .execute();
  if (consent.granted) return;
  const stored = await db
    .selectFrom('customer_consents')
    .select('granted')
    .where('customer_id', '=', customerId)
    .where('channel', '=', consent.channel)
    .executeTakeFirst();
  if (stored?.granted === 0) await skipQueuedMarketing(db, customerId, consent.channel);
}
