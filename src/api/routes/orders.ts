import { Type } from '@fastify/type-provider-typebox';
import { batchTransaction, ImportWriter, lockKey } from '../../ingest/index.js';
import type { ApiApp, RouteDeps } from '../app.types.js';
import { OrderBody, orderBodyToInput } from '../order-input.js';
import { authErrors } from '../schemas.js';

/** The `orders.source` of orders sent to the API. */
export const API_SOURCE = 'api';

const OrderResult = Type.Object({
  id: Type.Integer(),
  externalId: Type.String(),
  created: Type.Boolean({ description: 'false when an order with this externalId was updated' }),
});

/** `POST /orders`: creates or updates one order, idempotent by `externalId` (201 created, 200 updated). */
export function registerOrderRoutes(app: ApiApp, deps: RouteDeps): void {
  app.post(
    '/orders',
    {
      config: { access: 'write' },
      schema: {
        summary: 'Create or update an order (idempotent by externalId)',
        tags: ['orders'],
        body: OrderBody,
        description:
          'Amounts are non-negative integers in minor units up to 999999999999999 (negative only on discount ' +
          'and adjustment lines); the currency is an active ISO 4217 code; refundedMinor ≤ totalMinor.',
        response: { 200: OrderResult, 201: OrderResult, ...authErrors },
      },
    },
    async (request, reply) => {
      const order = orderBodyToInput(request.body);
      const now = deps.now();
      // BEGIN IMMEDIATE on SQLite: a deferred transaction that reads and then writes fails at once when
      // an import commits a batch in between, instead of waiting for the lock.
      const result = await batchTransaction(deps.store.db, async (trx) => {
        // Parallel posts of one order answer 201 once and 200 after; the customer is resolved race-free.
        await lockKey(trx, `order:${API_SOURCE}:${order.externalId}`);
        const existing = await trx
          .selectFrom('orders')
          .select('id')
          .where('source', '=', API_SOURCE)
          .where('external_id', '=', order.externalId)
          .executeTakeFirst();
        // The customer's externalId is a user id of the store, looked up where the snippet's and /track's are.
        const writer = new ImportWriter(trx, API_SOURCE, now, deps.userIdSource);
        const ids = await writer.writeOrders([order]);
        await writer.finish();
        const id = ids.get(order.externalId)!;
        // An update may have fewer lines than before; the writer upserts by line number only.
        await trx
          .deleteFrom('order_lines')
          .where('order_id', '=', id)
          .where('line_no', '>', order.lines.length)
          .execute();
        const stored = await trx
          .selectFrom('orders')
          .select('customer_id')
          .where('id', '=', id)
          .executeTakeFirstOrThrow();
        return {
          id: Number(id),
          externalId: order.externalId,
          created: existing === undefined,
          customerId: stored.customer_id,
        };
      });
      deps.segments.touch([result.customerId]);
      return reply
        .code(result.created ? 201 : 200)
        .send({ id: result.id, externalId: result.externalId, created: result.created });
    },
  );
}
