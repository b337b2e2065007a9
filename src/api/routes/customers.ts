import { Type } from '@fastify/type-provider-typebox';
import type { ApiApp, RouteDeps } from '../app.types.js';
import { customerProfile, searchCustomers } from '../customers.queries.js';
import { authErrors, EpochMs, Nullable } from '../schemas.js';

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
});

const Profile = Type.Object({
  customer: Type.Object({
    ...CustomerItem.properties,
    birthday: NullableText,
    city: NullableText,
    address: NullableText,
    createdAt: EpochMs,
  }),
  identities: Type.Array(Type.Object({ source: Type.String(), externalId: Type.String() })),
  consents: Type.Array(
    Type.Object({ channel: Type.String(), granted: Type.Boolean(), updatedAt: EpochMs, source: Type.String() }),
  ),
  anonymousIds: Type.Array(Type.String()),
  revenue: Type.Array(
    Type.Object({
      currency: Type.String(),
      orders: Type.Integer(),
      revenueMinor: Type.Integer(),
      revenue: Type.Number(),
    }),
  ),
  orders: Type.Array(
    Type.Object({
      id: Type.Integer(),
      source: Type.String(),
      externalId: Type.String(),
      placedAt: EpochMs,
      placedDate: Type.String({ description: 'local calendar date YYYY-MM-DD' }),
      currency: Type.String(),
      subtotalMinor: Type.Integer(),
      shippingMinor: Type.Integer(),
      taxMinor: Type.Integer(),
      discountMinor: Type.Integer(),
      totalMinor: Type.Integer(),
      refundedMinor: Type.Integer(),
      status: Type.String(),
      discountCodes: Type.Array(Type.String()),
      lines: Type.Array(
        Type.Object({
          lineNo: Type.Integer(),
          sku: NullableText,
          title: NullableText,
          quantity: Type.Integer(),
          unitPriceMinor: Type.Integer(),
          discountMinor: Type.Integer(),
          totalMinor: Type.Integer(),
          kind: Type.String(),
        }),
      ),
    }),
    { description: 'the newest 100 orders' },
  ),
  events: Type.Array(
    Type.Object({
      id: Type.Integer(),
      type: Type.String(),
      event: NullableText,
      anonymousId: NullableText,
      occurredAt: EpochMs,
      properties: Type.Record(Type.String(), Type.Unknown()),
    }),
    { description: 'the newest 200 events' },
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
          offset: Type.Integer({ minimum: 0, default: 0 }),
        }),
        response: { 200: Type.Object({ total: Type.Integer(), customers: Type.Array(CustomerItem) }), ...authErrors },
      },
    },
    async (request) => searchCustomers(deps.store.db, request.query),
  );

  app.get(
    '/customers/:id',
    {
      config: { access: 'read' },
      schema: {
        summary: "A customer's profile: details, identities, consent, revenue, orders with lines, events",
        tags: ['customers'],
        params: Type.Object({ id: Type.Integer({ minimum: 1 }) }),
        response: { 200: Profile, 404: Type.Ref('ErrorBody'), ...authErrors },
      },
    },
    async (request) => customerProfile(deps.store.db, request.params.id),
  );
}
