import { Type } from '@fastify/type-provider-typebox';
import { ComebackError } from '../../errors.js';
import { ImportWriter } from '../../ingest/index.js';
import { parseTimestamp } from '../../shared/dates.js';
import type { Db } from '../../store/index.js';
import { apiDb } from '../api.schema.js';
import type { ApiApp, RouteDeps } from '../app.types.js';
import { applyShopifyProductWebhook, SHOPIFY_PRODUCT_TOPICS } from '../shopify-products-webhook.js';
import { shopifyCustomer, shopifyOrder, shopifyRefund, verifyShopifyHmac } from '../shopify-webhook.js';

/** The source of Shopify data: the same as the CSV importer's, so webhooks and exports meet. */
export const SHOPIFY_SOURCE = 'shopify';

/** The topics that write; others are acknowledged (so Shopify does not retry) and ignored. */
export const SHOPIFY_TOPICS = [
  'orders/create',
  'orders/updated',
  'refunds/create',
  'customers/create',
  'customers/update',
  ...SHOPIFY_PRODUCT_TOPICS,
];

const WebhookResult = Type.Object({
  ok: Type.Boolean(),
  topic: Type.String(),
  duplicate: Type.Boolean({ description: 'true when this webhook id was received before; nothing was written' }),
  ignored: Type.Boolean({ description: 'true for a topic Comeback does not use' }),
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
        }),
        response: { 200: WebhookResult, 400: Type.Ref('ErrorBody'), 401: Type.Ref('ErrorBody') },
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
        const parsed: unknown = JSON.parse(raw.toString('utf8'));
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
        payload = parsed as Record<string, unknown>;
      } catch (error) {
        throw new ComebackError('bad_input', 'the body is not a JSON object', {
          cause: error,
          location: { field: 'body' },
        });
      }
      const now = deps.now();
      const ignored = !SHOPIFY_TOPICS.includes(topic);
      let touched: Array<number | null> = [];
      const duplicate = await deps.store.db.transaction().execute(async (trx) => {
        const receipt = await apiDb(trx)
          .insertInto('webhook_receipts')
          .values({ source: SHOPIFY_SOURCE, webhook_id: webhookId, topic, received_at: now })
          .onConflict((oc) => oc.columns(['source', 'webhook_id']).doNothing())
          .returning('webhook_id')
          .executeTakeFirst();
        if (!receipt) return true;
        if (!ignored) touched = await applyShopifyWebhook(trx, topic, payload, now);
        return false;
      });
      deps.segments.touch(touched);
      return { ok: true, topic, duplicate, ignored };
    },
  );
}

/** Applies one webhook; returns the customers it touched, whose segments follow. */
async function applyShopifyWebhook(
  trx: Db,
  topic: string,
  payload: Record<string, unknown>,
  now: number,
): Promise<Array<number | null>> {
  const writer = new ImportWriter(trx, SHOPIFY_SOURCE, now);
  const touched: Array<number | null> = [];
  const customerOfOrder = async (externalId: string | undefined) => {
    if (externalId === undefined) return;
    const row = await trx
      .selectFrom('orders')
      .select('customer_id')
      .where('source', '=', SHOPIFY_SOURCE)
      .where('external_id', '=', externalId)
      .executeTakeFirst();
    touched.push(row?.customer_id ?? null);
  };
  if (topic === 'orders/create' || topic === 'orders/updated') {
    const order = shopifyOrder(payload);
    const stored = await trx
      .selectFrom('orders')
      .select('refunded_minor')
      .where('source', '=', SHOPIFY_SOURCE)
      .where('external_id', '=', order.externalId)
      .executeTakeFirst();
    // Refunds are counted as they are stored (below, or from refunds/create), never twice.
    order.refundedMinor = stored ? Number(stored.refunded_minor) : 0;
    const ids = await writer.writeOrders([order]);
    await trx
      .deleteFrom('order_lines')
      .where('order_id', '=', ids.get(order.externalId)!)
      .where('line_no', '>', order.lines.length)
      .execute();
    const refunds = Array.isArray(payload.refunds) ? payload.refunds : [];
    await writer.writeRefunds(
      refunds.map((refund: unknown, i) => {
        const json = typeof refund === 'object' && refund !== null ? (refund as Record<string, unknown>) : {};
        return shopifyRefund({ order_id: order.externalId, ...json }, order.currency, `refunds[${i}].`);
      }),
    );
    await customerOfOrder(order.externalId);
  } else if (topic === 'refunds/create') {
    const orderId = payload.order_id === undefined ? undefined : String(payload.order_id);
    const order = orderId
      ? await trx
          .selectFrom('orders')
          .select('currency')
          .where('source', '=', SHOPIFY_SOURCE)
          .where('external_id', '=', orderId)
          .executeTakeFirst()
      : undefined;
    await writer.writeRefunds([shopifyRefund(payload, order?.currency)]);
    await customerOfOrder(orderId);
  } else if (SHOPIFY_PRODUCT_TOPICS.includes(topic)) {
    await applyShopifyProductWebhook(trx, payload, now);
  } else {
    const at = parseTimestamp(String(payload.updated_at ?? ''))?.epochMs ?? now;
    const customer = shopifyCustomer(payload, undefined, at);
    if (!customer.externalId && !customer.email) {
      throw new ComebackError('bad_input', 'the customer has neither an id nor an e-mail', {
        location: { field: 'id' },
      });
    }
    const seen = parseTimestamp(String(payload.created_at ?? ''))?.epochMs ?? at;
    const id = await writer.resolveCustomer(customer, seen);
    touched.push(id ?? null);
    // The writer only fills gaps (files are older than the store); an update is Shopify's latest word.
    const latest = Object.fromEntries(
      Object.entries({
        first_name: customer.firstName,
        last_name: customer.lastName,
        phone: customer.phone,
        city: customer.city,
        country: customer.country,
      }).filter(([, value]) => value !== undefined),
    );
    if (id !== undefined && Object.keys(latest).length > 0) {
      await trx.updateTable('customers').set(latest).where('id', '=', id).execute();
    }
  }
  await writer.finish();
  return touched;
}
