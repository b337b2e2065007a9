import { Type } from '@fastify/type-provider-typebox';
import { ComebackError } from '../../errors.js';
import { buildRecommendations, METHODS, type Method, recommendForCustomer } from '../../recommend/index.js';
import type { ApiApp, RouteDeps } from '../app.types.js';
import { authErrors, EpochMs, Nullable } from '../schemas.js';
import { storeDefaultAsOf } from '../store-zone.js';

const NullableText = Nullable(Type.String());
const NullableInt = Nullable(Type.Integer());

const Product = Type.Object({
  id: Type.Integer(),
  sku: Type.String(),
  title: NullableText,
  handle: NullableText,
  category: NullableText,
  productType: NullableText,
  vendor: NullableText,
  tags: Type.Array(Type.String()),
  status: Type.Union([Type.Literal('active'), Type.Literal('draft'), Type.Literal('archived')]),
  priceMinor: NullableInt,
  compareAtMinor: NullableInt,
  currency: NullableText,
  inventoryQuantity: NullableInt,
  imageUrl: NullableText,
  url: NullableText,
  /** Null for products met only on orders. */
  catalogueSource: NullableText,
});

const Recommendation = Type.Object({
  productId: Type.Integer(),
  sku: Type.String(),
  title: NullableText,
  category: NullableText,
  url: NullableText,
  imageUrl: NullableText,
  priceMinor: NullableInt,
  compareAtMinor: NullableInt,
  currency: NullableText,
  score: Type.Number(),
  reason: Type.Object(
    {
      kind: Type.String(),
      text: Type.String({ description: 'what the customer is shown' }),
      productId: Type.Optional(Type.Integer()),
      category: Type.Optional(Type.String()),
      cycleDays: Type.Optional(Type.Number()),
      daysSince: Type.Optional(Type.Number()),
    },
    { additionalProperties: false },
  ),
  flags: Type.Array(Type.Union([Type.Literal('price_drop'), Type.Literal('low_stock')])),
});

type ProductRow = {
  id: number;
  sku: string;
  title: string | null;
  handle: string | null;
  category: string | null;
  product_type: string | null;
  vendor: string | null;
  tags: string | null;
  status: 'active' | 'draft' | 'archived';
  price_minor: number | null;
  compare_at_minor: number | null;
  currency: string | null;
  inventory_quantity: number | null;
  image_url: string | null;
  url: string | null;
  catalogue_source: string | null;
};

const num = (v: number | null) => (v === null ? null : Number(v));

function productJson(r: ProductRow) {
  let tags: string[] = [];
  try {
    const parsed: unknown = r.tags ? JSON.parse(r.tags) : [];
    if (Array.isArray(parsed)) tags = parsed.filter((t): t is string => typeof t === 'string');
  } catch {}
  return {
    id: Number(r.id),
    sku: r.sku,
    title: r.title,
    handle: r.handle,
    category: r.category,
    productType: r.product_type,
    vendor: r.vendor,
    tags,
    status: r.status,
    priceMinor: num(r.price_minor),
    compareAtMinor: num(r.compare_at_minor),
    currency: r.currency,
    inventoryQuantity: num(r.inventory_quantity),
    imageUrl: r.image_url,
    url: r.url,
    catalogueSource: r.catalogue_source,
  };
}

/** The product catalogue, a customer's recommendations, and building the recommendation matrices. */
export function registerProductRoutes(app: ApiApp, deps: RouteDeps): void {
  app.get(
    '/products',
    {
      config: { access: 'read' },
      schema: {
        summary: 'The product catalogue: imported exports, webhooks, and products met only on orders',
        tags: ['products'],
        querystring: Type.Object({
          q: Type.Optional(Type.String({ maxLength: 200, description: 'part of the SKU or title' })),
          status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('draft'), Type.Literal('archived')])),
          limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
          offset: Type.Integer({ minimum: 0, default: 0 }),
        }),
        response: { 200: Type.Object({ total: Type.Integer(), products: Type.Array(Product) }), ...authErrors },
      },
    },
    async (request) => {
      const { q, status, limit, offset } = request.query;
      let query = deps.store.db.selectFrom('products');
      if (q) {
        const like = `%${q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
        query = query.where((eb) =>
          eb.or([eb(eb.fn('lower', ['sku']), 'like', like), eb(eb.fn('lower', ['title']), 'like', like)]),
        );
      }
      if (status) query = query.where('status', '=', status);
      const total = await query.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      const rows = await query.selectAll().orderBy('id').limit(limit).offset(offset).execute();
      return { total: Number(total.n), products: rows.map(productJson) };
    },
  );

  app.get(
    '/products/:id',
    {
      config: { access: 'read' },
      schema: {
        summary: 'One product with its price history',
        tags: ['products'],
        params: Type.Object({ id: Type.Integer({ minimum: 1 }) }),
        response: {
          200: Type.Object({
            ...Product.properties,
            prices: Type.Array(
              Type.Object({
                observedAt: EpochMs,
                priceMinor: Type.Integer(),
                compareAtMinor: NullableInt,
                currency: Type.String(),
                source: Type.String(),
              }),
            ),
          }),
          404: Type.Ref('ErrorBody'),
          ...authErrors,
        },
      },
    },
    async (request) => {
      const db = deps.store.db;
      const row = await db.selectFrom('products').selectAll().where('id', '=', request.params.id).executeTakeFirst();
      if (!row) throw new ComebackError('not_found', `no product ${request.params.id}`, { location: { field: 'id' } });
      const prices = await db
        .selectFrom('product_prices')
        .selectAll()
        .where('product_id', '=', row.id)
        .orderBy('observed_at')
        .execute();
      return {
        ...productJson(row),
        prices: prices.map((p) => ({
          observedAt: Number(p.observed_at),
          priceMinor: Number(p.price_minor),
          compareAtMinor: num(p.compare_at_minor),
          currency: p.currency,
          source: p.source,
        })),
      };
    },
  );

  app.get(
    '/customers/:id/recommendations',
    {
      config: { access: 'read' },
      schema: {
        summary: "A customer's recommended products with the reason shown to them, from the newest build",
        description:
          'Never archived, draft or out-of-stock products, nor products priced in another currency than the ' +
          "customer's. `buildId` names the build the answer read; 404 when no build exists yet.",
        tags: ['products'],
        params: Type.Object({ id: Type.Integer({ minimum: 1 }) }),
        querystring: Type.Object({
          method: Type.Union(
            METHODS.map((m) => Type.Literal(m)),
            { default: 'personal' },
          ),
          n: Type.Integer({ minimum: 1, maximum: 100, default: 10 }),
          seed: Type.Optional(Type.String({ description: 'SKU a similar / bought-together answer starts from' })),
        }),
        response: {
          200: Type.Object({
            customerId: Type.Integer(),
            buildId: Type.Integer(),
            builtAsOf: EpochMs,
            method: Type.String(),
            currency: Nullable(Type.String()),
            items: Type.Array(Recommendation),
            note: Nullable(Type.String()),
          }),
          404: Type.Ref('ErrorBody'),
          ...authErrors,
        },
      },
    },
    async (request) => {
      const db = deps.store.db;
      const customer = await db
        .selectFrom('customers')
        .select('id')
        .where('id', '=', request.params.id)
        .executeTakeFirst();
      if (!customer)
        throw new ComebackError('not_found', `no customer ${request.params.id}`, { location: { field: 'id' } });
      let seed: number | undefined;
      if (request.query.seed !== undefined) {
        const row = await db
          .selectFrom('products')
          .select('id')
          .where('sku', '=', request.query.seed)
          .executeTakeFirst();
        if (!row)
          throw new ComebackError('not_found', `no product with SKU ${request.query.seed}`, {
            location: { field: 'seed' },
          });
        seed = Number(row.id);
      }
      const r = await recommendForCustomer(db, request.params.id, {
        method: request.query.method as Method,
        n: request.query.n,
        seed,
      });
      return { ...r, currency: r.currency ?? null, note: r.note ?? null };
    },
  );

  app.post(
    '/recommendations/builds',
    {
      config: { access: 'write' },
      schema: {
        summary: 'Build the recommendation matrices from the orders and events so far; answers read the newest build',
        tags: ['products'],
        response: {
          200: Type.Object({
            buildId: Type.Integer(),
            asOf: EpochMs,
            orders: Type.Integer(),
            customers: Type.Integer(),
            items: Type.Integer(),
            buildMs: Type.Number(),
          }),
          ...authErrors,
        },
      },
    },
    async () => {
      const db = deps.store.db;
      const asOf = await storeDefaultAsOf(db, deps.now());
      const s = await buildRecommendations(db, { asOf, now: deps.now() });
      return {
        buildId: s.buildId,
        asOf: s.asOf,
        orders: s.orders,
        customers: s.customers,
        items: s.items,
        buildMs: s.buildMs,
      };
    },
  );
}
