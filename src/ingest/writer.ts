import { sql } from 'kysely';
import { localDate } from '../shared/dates.js';
import { type Db, type SqliteHandle, sqliteHandle } from '../store/index.js';
import type { OrderStatus } from '../store/schema.js';
import { type ConsentInput, type CustomerInput, normaliseEmail, type OrderInput, type RefundInput } from './records.js';

/** What a write changed, for the import summary. */
export interface WriteStats {
  orders: number;
  lines: number;
  refunds: number;
  customersCreated: number;
  productsCreated: number;
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
  private readonly customerIds = new Map<string, number>();
  private readonly productIds = new Map<string, number>();
  private readonly firstSeen = new Map<number, number>();
  private lineUpsert: ReturnType<SqliteHandle['prepare']> | undefined;

  constructor(
    private readonly db: Db,
    private readonly source: string,
    private readonly now: number,
  ) {}

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

  private async findOrCreateCustomer(input: CustomerInput, email: string | undefined, seenAt: number) {
    const db = this.db;
    let id: number | undefined;
    if (input.externalId) {
      const row = await db
        .selectFrom('customer_identities')
        .select('customer_id')
        .where('source', '=', this.source)
        .where('external_id', '=', input.externalId)
        .executeTakeFirst();
      id = row?.customer_id;
    }
    if (id === undefined && email) {
      const row = await db.selectFrom('customers').select('id').where('email', '=', email).executeTakeFirst();
      id = row?.id;
    }
    const fields = {
      phone: input.phone ?? null,
      first_name: input.firstName ?? null,
      last_name: input.lastName ?? null,
      birthday: input.birthday ?? null,
      country: input.country ?? null,
      city: input.city ?? null,
      address: input.address ?? null,
    };
    if (id === undefined) {
      const row = await db
        .insertInto('customers')
        .values({ source: this.source, email: email ?? null, ...fields, first_seen_at: seenAt, created_at: this.now })
        .returning('id')
        .executeTakeFirstOrThrow();
      id = row.id;
      this.stats.customersCreated += 1;
    } else {
      // Fill gaps only: what the store already knows about a customer wins over a later file.
      await db
        .updateTable('customers')
        .set((eb) => ({
          email: eb.fn.coalesce('email', eb.val(email ?? null)),
          phone: eb.fn.coalesce('phone', eb.val(fields.phone)),
          first_name: eb.fn.coalesce('first_name', eb.val(fields.first_name)),
          last_name: eb.fn.coalesce('last_name', eb.val(fields.last_name)),
          birthday: eb.fn.coalesce('birthday', eb.val(fields.birthday)),
          country: eb.fn.coalesce('country', eb.val(fields.country)),
          city: eb.fn.coalesce('city', eb.val(fields.city)),
          address: eb.fn.coalesce('address', eb.val(fields.address)),
        }))
        .where('id', '=', id)
        .execute();
    }
    if (input.externalId) {
      await db
        .insertInto('customer_identities')
        .values({ source: this.source, external_id: input.externalId, customer_id: id })
        .onConflict((oc) => oc.columns(['source', 'external_id']).doNothing())
        .execute();
    }
    return id;
  }

  private async applyConsents(customerId: number, input: CustomerInput): Promise<void> {
    for (const consent of input.consents ?? []) await recordConsent(this.db, customerId, consent);
  }

  /** Stores a batch of orders with their lines; returns the order ids by external id. */
  async writeOrders(orders: readonly OrderInput[]): Promise<Map<string, number>> {
    const ids = new Map<string, number>();
    if (orders.length === 0) return ids;
    await this.ensureProducts(orders);
    const rows = [];
    for (const order of orders) {
      const customerId = order.customer ? await this.resolveCustomer(order.customer, order.placedAt) : undefined;
      rows.push({ order, customerId });
    }
    for (let start = 0; start < rows.length; start += ORDER_CHUNK) {
      const chunk = rows.slice(start, start + ORDER_CHUNK);
      for (const withRefunds of [true, false]) {
        const part = chunk.filter((r) => (r.order.refundedMinor !== undefined) === withRefunds);
        if (part.length === 0) continue;
        const inserted = await this.db
          .insertInto('orders')
          .values(
            part.map(({ order, customerId }) => ({
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
              country: order.country ?? null,
              cancelled_at: order.cancelledAt ?? null,
              imported_at: this.now,
              payment_method: order.acquisition?.paymentMethod ?? null,
              referring_site: order.acquisition?.referringSite ?? null,
              landing_site: order.acquisition?.landingSite ?? null,
              sales_channel: order.acquisition?.channel ?? null,
              utm_source: order.acquisition?.utmSource ?? null,
              utm_medium: order.acquisition?.utmMedium ?? null,
              utm_campaign: order.acquisition?.utmCampaign ?? null,
            })),
          )
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
    this.stats.orders += orders.length;
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
    if (sqlite) {
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
   * Stores refunds; a refund seen before is skipped, a new one adds to its order's refunded amount
   * and moves the order to partially refunded or refunded.
   */
  async writeRefunds(refunds: readonly RefundInput[]): Promise<void> {
    for (const refund of refunds) {
      const orderId = await this.findRefundedOrder(refund);
      const customer = refund.customer ?? refund.match?.customer;
      const customerId = customer ? await this.resolveCustomer(customer, refund.refundedAt) : undefined;
      const inserted = await this.db
        .insertInto('refunds')
        .values({
          source: this.source,
          external_id: refund.externalId,
          order_id: orderId ?? null,
          customer_id: customerId ?? null,
          amount_minor: refund.amountMinor,
          currency: refund.currency,
          refunded_at: refund.refundedAt,
          reason: refund.reason ?? null,
        })
        .onConflict((oc) => oc.columns(['source', 'external_id']).doNothing())
        .returning('id')
        .executeTakeFirst();
      if (!inserted) continue;
      this.stats.refunds += 1;
      if (orderId !== undefined) await applyRefund(this.db, orderId, refund.amountMinor);
    }
  }

  private async findRefundedOrder(refund: RefundInput): Promise<number | undefined> {
    if (refund.orderExternalId) {
      const row = await this.db
        .selectFrom('orders')
        .select('id')
        .where('source', '=', this.source)
        .where('external_id', '=', refund.orderExternalId)
        .executeTakeFirst();
      return row?.id;
    }
    if (!refund.match) return undefined;
    const customerId = await this.resolveCustomer(refund.match.customer, refund.refundedAt);
    if (customerId === undefined) return undefined;
    const row = await this.db
      .selectFrom('orders as o')
      .innerJoin('order_lines as l', 'l.order_id', 'o.id')
      .select('o.id')
      .where('o.customer_id', '=', customerId)
      .where('l.sku', '=', refund.match.sku)
      .where('o.placed_at', '<=', refund.match.before)
      .where('o.currency', '=', refund.currency)
      .orderBy('o.placed_at', 'desc')
      .orderBy('o.id', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row?.id;
  }

  /** Writes the earliest-seen instants gathered during the import back to the customers. */
  async finish(): Promise<void> {
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

/** Adds a refund to an order and moves its status; a cancelled order stays cancelled. */
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
 */
export async function recordConsent(db: Db, customerId: number, consent: ConsentInput): Promise<void> {
  await db
    .insertInto('customer_consents')
    .values({
      customer_id: customerId,
      channel: consent.channel,
      granted: consent.granted ? 1 : 0,
      updated_at: consent.at,
      source: consent.source,
    })
    .onConflict((oc) =>
      oc
        .columns(['customer_id', 'channel'])
        .doUpdateSet((eb) => ({
          granted: eb.ref('excluded.granted'),
          updated_at: eb.ref('excluded.updated_at'),
          source: eb.ref('excluded.source'),
        }))
        .whereRef('excluded.updated_at', '>=', 'customer_consents.updated_at'),
    )
    .execute();
}
