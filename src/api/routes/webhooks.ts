import { Type } from '@fastify/type-provider-typebox';
import { sql } from 'kysely';
import { ComebackError } from '../../errors.js';
import { batchTransaction, betterPhone, changeEmail, hasIdentity, ImportWriter, lockKey } from '../../ingest/index.js';
import { parseTimestamp } from '../../shared/dates.js';
import { formatMoney } from '../../shared/money.js';
import type { Db, OrderStatus } from '../../store/index.js';
import { apiDb } from '../api.schema.js';
import type { ApiApp, RouteDeps } from '../app.types.js';
import { applyShopifyProductWebhook, SHOPIFY_PRODUCT_TOPICS } from '../shopify-products-webhook.js';
import {
  parseJsonKeepingBigIntegers,
  type RefundOrderContext,
  type ShopifyOrder,
  type ShopifyRefund,
  shopifyCustomer,
  shopifyOrder,
  shopifyRefund,
  verifyShopifyHmac,
} from '../shopify-webhook.js';

/** The source of Shopify data: the same as the CSV importer's, so webhooks and exports meet. */
export const SHOPIFY_SOURCE = 'shopify';

/** The topics that write; others are acknowledged (so Shopify does not retry) and ignored. */
export const SHOPIFY_TOPICS = [
  'orders/create',
  'orders/updated',
  'orders/cancelled',
  'refunds/create',
  'customers/create',
  'customers/update',
  ...SHOPIFY_PRODUCT_TOPICS,
];

const WebhookResult = Type.Object({
  ok: Type.Boolean(),
  topic: Type.String(),
  duplicate: Type.Boolean({ description: 'true when this webhook id was received before; nothing was written' }),
  ignored: Type.Boolean({ description: 'true for a topic Comeback does not use, a test order or an older state' }),
  reason: Type.Optional(Type.String({ description: 'why a webhook of a used topic was not applied' })),
  notes: Type.Optional(
    Type.Array(Type.String(), { description: 'what was stored differently from what the payload suggests, and why' }),
  ),
});

/**
 * `POST /webhooks/shopify`: Shopify's webhooks, verified by `X-Shopify-Hmac-Sha256` over the raw body
 * (a wrong signature → 401, nothing written), deduplicated by `X-Shopify-Webhook-Id` (a replay → 200
 * with `duplicate: true`, nothing written). Registered in its own plugin scope because it parses JSON
 * itself: the signature is over the bytes, not over a re-serialised object.
 */
export function registerShopifyWebhookRoutes(app: ApiApp, deps: RouteDeps): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  app.post(
    '/webhooks/shopify',
    {
      config: { access: 'public' },
      schema: {
        summary: 'Shopify webhooks: orders/create, orders/updated, refunds/create, customers/create, customers/update',
        description: 'Authenticated by the HMAC signature (COMEBACK_SHOPIFY_SECRET), not by an API key.',
        tags: ['webhooks'],
        security: [],
        headers: Type.Object({
          'x-shopify-topic': Type.String({ minLength: 1 }),
          // Optional here so that a missing signature is a 401 like a wrong one, not a 400.
          'x-shopify-hmac-sha256': Type.Optional(Type.String()),
          'x-shopify-webhook-id': Type.String({ minLength: 1, maxLength: 255 }),
          'x-shopify-triggered-at': Type.Optional(Type.String({ maxLength: 64 })),
        }),
        response: {
          200: WebhookResult,
          400: Type.Ref('ErrorBody'),
          401: Type.Ref('ErrorBody'),
          409: Type.Ref('ErrorBody'),
        },
      },
    },
    async (request) => {
      if (!deps.shopifySecret) {
        throw new ComebackError('unauthorized', 'no Shopify webhook secret is configured (COMEBACK_SHOPIFY_SECRET)');
      }
      const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      if (!verifyShopifyHmac(raw, request.headers['x-shopify-hmac-sha256'], deps.shopifySecret)) {
        throw new ComebackError('unauthorized', 'the X-Shopify-Hmac-Sha256 signature does not match the body');
      }
      const topic = request.headers['x-shopify-topic'];
      const webhookId = request.headers['x-shopify-webhook-id'];
      let payload: Record<string, unknown>;
      try {
        // Shopify's ids pass 2^53 (820982911946154508): parsed as numbers they would lose digits.
        const parsed: unknown = parseJsonKeepingBigIntegers(raw.toString('utf8'));
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
        payload = parsed as Record<string, unknown>;
      } catch (error) {
        throw new ComebackError('bad_input', 'the body is not a JSON object', {
          cause: error,
          location: { field: 'body' },
        });
      }
      const now = deps.now();
      const triggeredHeader = request.headers['x-shopify-triggered-at'];
      const triggeredAt = triggeredHeader ? parseTimestamp(triggeredHeader)?.epochMs : undefined;
      const unused = !SHOPIFY_TOPICS.includes(topic);
      let applied: Applied = { touched: [], notes: [] };
      // Immediate on SQLite: a webhook during an import waits for its batch instead of failing busy.
      const duplicate = await batchTransaction(deps.store.db, async (trx) => {
        const receipt = await apiDb(trx)
          .insertInto('webhook_receipts')
          .values({ source: SHOPIFY_SOURCE, webhook_id: webhookId, topic, received_at: now })
          .onConflict((oc) => oc.columns(['source', 'webhook_id']).doNothing())
          .returning('webhook_id')
          .executeTakeFirst();
        if (!receipt) return true;
        if (!unused) applied = await applyShopifyWebhook(trx, topic, payload, now, triggeredAt);
        return false;
      });
      deps.segments.touch(applied.touched);
      return {
        ok: true,
        topic,
        duplicate,
        ignored: unused || applied.skipped !== undefined,
        ...(applied.skipped ? { reason: applied.skipped } : {}),
        ...(applied.notes.length > 0 ? { notes: applied.notes } : {}),
      };
    },
  );
}

/** What applying one webhook did, beyond the customers whose segments follow. */
interface Applied {
  touched: Array<number | null>;
  /** Why nothing was stored although the topic is one Comeback uses (a test order, an older state). */
  skipped?: string;
  notes: string[];
}

const ORDER_TOPICS = ['orders/create', 'orders/updated', 'orders/cancelled'];
const orderLock = (externalId: string) => `order:${SHOPIFY_SOURCE}:${externalId}`;

/** Applies one webhook; returns the customers it touched, whose segments follow. */
async function applyShopifyWebhook(
  trx: Db,
  topic: string,
  payload: Record<string, unknown>,
  now: number,
  triggeredAt: number | undefined,
): Promise<Applied> {
  const writer = new ImportWriter(trx, SHOPIFY_SOURCE, now);
  const applied: Applied = { touched: [], notes: [] };
  if (ORDER_TOPICS.includes(topic)) await applyOrder(trx, writer, shopifyOrder(payload), payload, triggeredAt, applied);
  else if (topic === 'refunds/create') await applyRefundWebhook(trx, payload, applied);
  else if (SHOPIFY_PRODUCT_TOPICS.includes(topic)) await applyShopifyProductWebhook(trx, payload, now);
  else await applyCustomer(trx, writer, payload, now, applied);
  await writer.finish();
  return applied;
}

interface StoredOrder {
  id: number;
  customer_id: number | null;
  currency: string;
  total_minor: number;
  source_updated_at?: number | null;
  presentment_currency?: string | null;
  presentment_total_minor?: number | null;
}

async function storedOrder(trx: Db, externalId: string): Promise<StoredOrder | undefined> {
  const row = await trx
    .selectFrom('orders')
    .select([
      'id',
      'customer_id',
      'currency',
      'total_minor',
      'source_updated_at',
      'presentment_currency',
      'presentment_total_minor',
    ])
    .where('source', '=', SHOPIFY_SOURCE)
    .where('external_id', '=', externalId)
    .executeTakeFirst();
  return row ? { ...row, id: Number(row.id), total_minor: Number(row.total_minor) } : undefined;
}

const contextOf = (order: StoredOrder): RefundOrderContext => ({
  currency: order.currency,
  presentmentCurrency: order.presentment_currency ?? null,
  totalMinor: order.total_minor,
  presentmentTotalMinor: order.presentment_total_minor == null ? null : Number(order.presentment_total_minor),
});

/**
 * An order's state: applied only when it is at least as new as the stored one (Shopify's `updated_at`,
 * else `X-Shopify-Triggered-At`), so a late or retried webhook never brings back an older state. A test
 * order is not stored. Refunds that arrived before the order are attached; the payload's own refunds are
 * stored once; the status follows the money (refunded when refunds reach the total).
 */
async function applyOrder(
  trx: Db,
  writer: ImportWriter,
  order: ShopifyOrder,
  payload: Record<string, unknown>,
  triggeredAt: number | undefined,
  applied: Applied,
): Promise<void> {
  await lockKey(trx, orderLock(order.externalId));
  if (order.test) {
    // Test orders (Bogus gateway) stay out of every figure: not stored, and what came ahead of them goes.
    await trx
      .deleteFrom('refunds')
      .where('source', '=', SHOPIFY_SOURCE)
      .where('order_external_id', '=', order.externalId)
      .where('order_id', 'is', null)
      .execute();
    applied.skipped = 'a test order ("test": true): not stored, not counted';
    return;
  }
  let stored = await storedOrder(trx, order.externalId);
  const at = order.updatedAt ?? triggeredAt ?? order.placedAt;
  const newer = !stored || stored.source_updated_at == null || at >= Number(stored.source_updated_at);
  if (newer) {
    const refunded = stored
      ? await trx.selectFrom('orders').select('refunded_minor').where('id', '=', stored.id).executeTakeFirstOrThrow()
      : undefined;
    // Refunds are counted as they are stored (below, or from refunds/create), never twice.
    order.refundedMinor = refunded ? Number(refunded.refunded_minor) : 0;
    const ids = await writer.writeOrders([order]);
    const id = ids.get(order.externalId)!;
    await trx
      .updateTable('orders')
      .set({
        source_updated_at: at,
        presentment_currency: order.presentment?.currency ?? null,
        presentment_total_minor: order.presentment?.totalMinor ?? null,
      })
      .where('id', '=', id)
      .execute();
    await trx.deleteFrom('order_lines').where('order_id', '=', id).where('line_no', '>', order.lines.length).execute();
    stored = (await storedOrder(trx, order.externalId))!;
  } else {
    applied.skipped = `an older state of order ${order.externalId} (updated ${new Date(at).toISOString()}) than the stored one: not applied`;
  }
  const orderRow = stored!;
  // Refunds that arrived before their order.
  const waiting = await trx
    .selectFrom('refunds')
    .select(['id', 'amount_minor', 'currency', 'presentment_amount_minor', 'presentment_currency'])
    .where('source', '=', SHOPIFY_SOURCE)
    .where('order_external_id', '=', order.externalId)
    .where('order_id', 'is', null)
    .execute();
  for (const refund of waiting) {
    let amount = Number(refund.amount_minor);
    let presentment = refund.presentment_amount_minor == null ? null : Number(refund.presentment_amount_minor);
    if (refund.currency !== orderRow.currency) {
      // Kept in the customer's currency until now: convert at the order's own rate.
      const rate = contextOf(orderRow);
      presentment = amount;
      amount = rate.presentmentTotalMinor ? Math.round((amount * rate.totalMinor) / rate.presentmentTotalMinor) : 0;
      if (!rate.presentmentTotalMinor) {
        applied.notes.push(
          `refund ${refund.id} is in ${refund.currency} and order ${order.externalId} in ${orderRow.currency} with no rate: counted 0`,
        );
      }
    }
    await trx
      .updateTable('refunds')
      .set({
        order_id: orderRow.id,
        customer_id: orderRow.customer_id,
        amount_minor: amount,
        currency: orderRow.currency,
        presentment_amount_minor: presentment,
        presentment_currency: refund.currency !== orderRow.currency ? refund.currency : refund.presentment_currency,
      })
      .where('id', '=', refund.id)
      .execute();
    await addRefunded(trx, orderRow.id, amount);
  }
  const refunds = list(payload.refunds);
  for (const [i, json] of refunds.entries()) {
    const refund = shopifyRefund({ order_id: order.externalId, ...json }, contextOf(orderRow), `refunds[${i}].`);
    await storeRefund(trx, refund, orderRow, applied);
  }
  await settleStatus(trx, orderRow.id);
  applied.touched.push(orderRow.customer_id);
}

function list(value: unknown): Array<Record<string, unknown>> {
  return Array.isArray(value)
    ? value.filter((v): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v))
    : [];
}

/** `refunds/create`: stored once; counted on its order now, or when the order arrives. */
async function applyRefundWebhook(trx: Db, payload: Record<string, unknown>, applied: Applied): Promise<void> {
  const orderId = payload.order_id === undefined || payload.order_id === null ? undefined : String(payload.order_id);
  if (orderId !== undefined) await lockKey(trx, orderLock(orderId));
  const order = orderId !== undefined ? await storedOrder(trx, orderId) : undefined;
  const refund = shopifyRefund(payload, order ? contextOf(order) : undefined);
  if (refund.test) {
    applied.skipped = 'a test refund (every transaction "test": true): not stored, not counted';
    return;
  }
  await storeRefund(trx, refund, order, applied);
  if (order) {
    await settleStatus(trx, order.id);
    applied.touched.push(order.customer_id);
  }
}

async function storeRefund(
  trx: Db,
  refund: ShopifyRefund,
  order: StoredOrder | undefined,
  applied: Applied,
): Promise<void> {
  if (refund.test) return;
  const inserted = await trx
    .insertInto('refunds')
    .values({
      source: SHOPIFY_SOURCE,
      external_id: refund.externalId,
      order_id: order?.id ?? null,
      order_external_id: refund.orderExternalId ?? null,
      customer_id: order?.customer_id ?? null,
      amount_minor: refund.amountMinor,
      currency: refund.currency,
      refunded_at: refund.refundedAt,
      reason: refund.reason ?? null,
      presentment_currency: refund.presentment?.currency ?? null,
      presentment_amount_minor: refund.presentment?.amountMinor ?? null,
      lines_amount_minor: refund.linesMinor !== refund.amountMinor ? refund.linesMinor : null,
    })
    .onConflict((oc) => oc.columns(['source', 'external_id']).doNothing())
    .returning('id')
    .executeTakeFirst();
  if (!inserted) return;
  if (refund.linesMinor !== refund.amountMinor && !refund.unconverted) {
    applied.notes.push(
      `refund ${refund.externalId}: its lines amount to ${formatMoney(refund.linesMinor, refund.currency)} and its refund transactions to ` +
        `${formatMoney(refund.amountMinor, refund.currency)}; only transactions move money, ${formatMoney(refund.amountMinor, refund.currency)} counted`,
    );
  }
  if (order) await addRefunded(trx, order.id, refund.amountMinor);
  else {
    applied.notes.push(
      `refund ${refund.externalId}: order ${refund.orderExternalId ?? '?'} is not in the store yet; counted when it arrives`,
    );
  }
}

/** Adds money paid back to an order, never beyond its total (a rate's rounding cannot make it negative). */
async function addRefunded(trx: Db, orderId: number, amountMinor: number): Promise<void> {
  if (amountMinor === 0) return;
  await trx
    .updateTable('orders')
    .set({
      refunded_minor: sql<number>`case when refunded_minor + ${amountMinor} > total_minor then total_minor else refunded_minor + ${amountMinor} end`,
    })
    .where('id', '=', orderId)
    .execute();
}

/** A sold order's status follows its money: refunded when refunds reach the total, partly, or paid. */
async function settleStatus(trx: Db, orderId: number): Promise<void> {
  await trx
    .updateTable('orders')
    .set({
      status: sql<OrderStatus>`case
        when cancelled_at is not null then 'cancelled'
        when status in ('paid', 'partially_refunded', 'refunded') then
          case when refunded_minor > 0 and refunded_minor >= total_minor then 'refunded'
               when refunded_minor > 0 then 'partially_refunded' else 'paid' end
        else status end`,
    })
    .where('id', '=', orderId)
    .execute();
}

/**
 * `customers/create` and `customers/update`: Shopify's latest word on the customer. A new e-mail is
 * followed (the old one stays an identity, so orders under it still find the customer); when another
 * customer has it, a guest record (no Shopify customer id of its own) is merged in, and a second Shopify
 * customer is a conflict: 409, nothing written, so the webhook is retried once the store is sorted out.
 */
async function applyCustomer(
  trx: Db,
  writer: ImportWriter,
  payload: Record<string, unknown>,
  now: number,
  applied: Applied,
): Promise<void> {
  const at = parseTimestamp(String(payload.updated_at ?? ''))?.epochMs ?? now;
  const customer = shopifyCustomer(payload, undefined, at);
  if (!customer.externalId && !customer.email) {
    throw new ComebackError('bad_input', 'the customer has neither an id nor an e-mail', {
      location: { field: 'id' },
    });
  }
  const seen = parseTimestamp(String(payload.created_at ?? ''))?.epochMs ?? at;
  const id = await writer.resolveCustomer(customer, seen);
  if (id === undefined) return;
  applied.touched.push(id);
  if (customer.email) {
    const change = await changeEmail(trx, id, customer.email, {
      mergeable: async (other) => !(await hasIdentity(trx, other, SHOPIFY_SOURCE)),
    });
    if (change.kind === 'conflict') {
      throw new ComebackError(
        'conflict',
        `customer ${customer.externalId ?? id} changes e-mail to ${customer.email}, which is another Shopify customer's (customer ${change.otherCustomerId} in Comeback); not merged`,
        { location: { field: 'email' } },
      );
    }
    if (change.kind === 'merged') applied.notes.push(`customer ${change.from} (a guest with that e-mail) merged in`);
  }
  // The writer only fills gaps (files are older than the store); an update is Shopify's latest word.
  const current = await trx.selectFrom('customers').select('phone').where('id', '=', id).executeTakeFirst();
  const phone = betterPhone(current?.phone, customer.phone);
  const latest = Object.fromEntries(
    Object.entries({
      first_name: customer.firstName,
      last_name: customer.lastName,
      phone,
      city: customer.city,
      country: customer.country,
    }).filter(([, value]) => value !== undefined),
  );
  if (Object.keys(latest).length > 0) {
    await trx.updateTable('customers').set(latest).where('id', '=', id).execute();
  }
}
