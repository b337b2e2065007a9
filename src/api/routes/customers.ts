import { Type } from '@fastify/type-provider-typebox';
import { ComebackError } from '../../errors.js';
import { customerProfile, loadLatestScores } from '../../segments/index.js';
import type { ApiApp, RouteDeps } from '../app.types.js';
import { searchCustomers } from '../customers.queries.js';
import { MAX_OFFSET } from '../limits.js';
import { authErrors, EpochMs, Nullable } from '../schemas.js';
import { storeDefaultAsOf } from '../store-zone.js';

const NullableText = Nullable(Type.String());

const CustomerItem = Type.Object({
  id: Type.Integer(),
  email: NullableText,
  firstName: NullableText,
  lastName: NullableText,
  phone: NullableText,
  country: NullableText,
  source: Type.String(),
  firstSeenAt: EpochMs,
  orders: Type.Integer(),
  lastOrderAt: Nullable(EpochMs),
  storeId: Nullable(Type.String({ description: "the customer's id in the store it came from" })),
  revenue: Type.Array(
    Type.Object({
      currency: Type.String(),
      revenueMinor: Type.Integer({ description: 'net of refunds, paid and partly refunded orders' }),
      revenue: Type.Number({ description: 'the same in major units' }),
    }),
  ),
});

/** Customer search and the customer profile. */
export function registerCustomerRoutes(app: ApiApp, deps: RouteDeps): void {
  app.get(
    '/customers',
    {
      config: { access: 'read' },
      schema: {
        summary: 'Search customers by id, e-mail, name or external id',
        tags: ['customers'],
        querystring: Type.Object({
          q: Type.Optional(Type.String({ maxLength: 200 })),
          limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
          offset: Type.Integer({ minimum: 0, maximum: MAX_OFFSET, default: 0 }),
        }),
        response: { 200: Type.Object({ total: Type.Integer(), customers: Type.Array(CustomerItem) }), ...authErrors },
      },
    },
    async (request) => {
      // The schema's coercion turns `1e999` into Infinity, which passes its integer check: refuse here.
      for (const field of ['limit', 'offset'] as const) {
        const value = request.query[field];
        if (!Number.isSafeInteger(value) || value > (field === 'limit' ? 500 : MAX_OFFSET)) {
          throw new ComebackError('bad_input', `${field}: must be a whole number within range`, {
            location: { field },
          });
        }
      }
      return searchCustomers(deps.store.db, request.query);
    },
  );

  app.get(
    '/customers/:id',
    {
      config: { access: 'read' },
      schema: {
        summary:
          "A customer's whole story: profile, identities, consent, revenue per currency, orders with lines, " +
          'a timeline of orders, refunds and events, RFM group, persona, lifecycle stage, model scores, segments',
        tags: ['customers'],
        params: Type.Object({ id: Type.Integer({ minimum: 1 }) }),
        response: {
          200: Type.Unknown({ description: 'the customer profile of src/segments (customerProfile)' }),
          404: Type.Ref('ErrorBody'),
          ...authErrors,
        },
      },
    },
    async (request) => {
      const db = deps.store.db;
      const asOf = await storeDefaultAsOf(db, deps.now());
      return customerProfile(db, request.params.id, {
        asOf,
        scores: await loadLatestScores(db, { asOf, customerIds: [request.params.id] }),
        timelineLimit: 200,
      });
    },
  );
}
