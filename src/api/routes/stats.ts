import { Type } from '@fastify/type-provider-typebox';
import { storeStats } from '../../store/index.js';
import type { ApiApp, RouteDeps } from '../app.types.js';
import { authErrors, EpochMs, Nullable } from '../schemas.js';

const StatsSchema = Type.Object({
  customers: Type.Integer(),
  orders: Type.Integer(),
  lines: Type.Integer(),
  refunds: Type.Integer(),
  products: Type.Integer(),
  events: Type.Integer({ description: 'events the store sent (Segment calls)' }),
  comebackEvents: Type.Integer({
    description: 'events Comeback wrote itself: lifecycle stage changes, reviews and survey answers on its pages',
  }),
  revenue: Type.Array(
    Type.Object({
      currency: Type.String(),
      orders: Type.Integer(),
      revenueMinor: Type.Integer({ description: 'net revenue of paid orders in minor units' }),
      revenue: Type.Number({ description: 'the same in major units, for display' }),
    }),
  ),
  firstOrderAt: Nullable(EpochMs),
  lastOrderAt: Nullable(EpochMs),
});

/** `GET /stats`: what the store holds (counts, revenue per currency, the span of the orders). */
export function registerStatsRoutes(app: ApiApp, deps: RouteDeps): void {
  app.get(
    '/stats',
    {
      config: { access: 'read' },
      schema: {
        summary: 'Counts, net revenue per currency and the date span of the orders',
        tags: ['stats'],
        response: { 200: StatsSchema, ...authErrors },
      },
    },
    async () => storeStats(deps.store.db),
  );
}
