import type { Generated, Kysely } from 'kysely';
import { MS_PER_DAY } from '../shared/dates.js';
import type { Database, Db, ProductStatus } from '../store/index.js';
import {
  type CatalogueItem,
  type ItemInfo,
  type ModelView,
  modelFromBuild,
  type Neighbour,
  type Signal,
  type SignalKind,
} from './answer.js';
import { type BuildParams, type BuildResult, type Interactions, RELATIONS, type Relation } from './build.js';

/** The tables of migration 017 that only recommend/ reads (type aliases, as `withTables` needs). */
export type RecommendTables = {
  recommend_builds: {
    id: Generated<number>;
    as_of: number;
    params: string;
    stats: string;
    created_at: number;
  };
  recommend_items: {
    build_id: number;
    product_id: number;
    buyers: number;
    orders: number;
    recent_orders: number;
    trend: number | null;
    repeat_buyers: number;
    repurchase_days: number | null;
    repeat_item: number;
  };
  recommend_neighbours: {
    build_id: number;
    product_id: number;
    relation: string;
    /** JSON `[[neighbour product id, score, support], …]`, best first. */
    neighbours: string;
  };
};
type RecommendDb = Kysely<Database & RecommendTables>;
const tables = (db: Db): RecommendDb => db.withTables<RecommendTables>();

/** Events that count as a product signal, by Segment's e-commerce spec names. */
export const SIGNAL_EVENTS: Record<string, SignalKind> = {
  'Product Viewed': 'view',
  'Product Added': 'cart',
  'Product Added to Wishlist': 'wishlist',
};

/** Interactions plus the product id and category name of each dense index. */
export interface LoadedInteractions {
  data: Interactions;
  ids: number[];
  categories: string[];
  /** The customer id of each customer index. */
  customers: number[];
}

/**
 * Reads every product order line (cancelled orders aside) and product event before `before` into typed
 * arrays: orders as distinct item lists with their customer and time, view groups per customer or
 * anonymous visitor. Products are every row of the catalogue (items nobody bought simply have no pairs).
 */
export async function loadInteractions(db: Db, before: number): Promise<LoadedInteractions> {
  const products = await db.selectFrom('products').select(['id', 'sku', 'category']).orderBy('id').execute();
  const ids = products.map((p) => Number(p.id));
  const index = new Map(ids.map((id, i) => [id, i]));
  const bySku = new Map(products.map((p, i) => [p.sku, i]));
  const categoryIndex = new Map<string, number>();
  const itemCategory = new Int32Array(ids.length).fill(-1);
  products.forEach((p, i) => {
    if (!p.category) return;
    let c = categoryIndex.get(p.category);
    if (c === undefined) {
      c = categoryIndex.size;
      categoryIndex.set(p.category, c);
    }
    itemCategory[i] = c;
  });
  const lines = await db
    .selectFrom('orders as o')
    .innerJoin('order_lines as l', 'l.order_id', 'o.id')
    .select(['o.id as order_id', 'o.customer_id', 'o.placed_at', 'l.product_id'])
    .where('l.kind', '=', 'product')
    .where('l.product_id', 'is not', null)
    .where('l.quantity', '>', 0)
    .where('o.status', '!=', 'cancelled')
    .where('o.placed_at', '<', before)
    .orderBy('o.id')
    .execute();
  const customerIndex = new Map<number, number>();
  const customers: number[] = [];
  const offsets: number[] = [0];
  const items: number[] = [];
  const orderCustomer: number[] = [];
  const orderTime: number[] = [];
  let current: number | undefined;
  let basket = new Set<number>();
  const close = () => {
    const sorted = [...basket].sort((a, b) => a - b);
    items.push(...sorted);
    offsets.push(items.length);
    basket = new Set();
  };
  for (const line of lines) {
    const orderId = Number(line.order_id);
    if (orderId !== current) {
      if (current !== undefined) close();
      current = orderId;
      let c = -1;
      if (line.customer_id !== null) {
        const id = Number(line.customer_id);
        c = customerIndex.get(id) ?? -1;
        if (c < 0) {
          c = customers.length;
          customers.push(id);
          customerIndex.set(id, c);
        }
      }
      orderCustomer.push(c);
      orderTime.push(Number(line.placed_at));
    }
    const item = index.get(Number(line.product_id));
    if (item !== undefined) basket.add(item);
  }
  if (current !== undefined) close();

  const events = await db
    .selectFrom('events')
    .select(['customer_id', 'anonymous_id', 'event', 'properties'])
    .where('type', '=', 'track')
    .where('event', 'in', Object.keys(SIGNAL_EVENTS))
    .where('occurred_at', '<', before)
    .execute();
  const groups = new Map<string, Set<number>>();
  for (const e of events) {
    const item = productOfEvent(e.properties, bySku);
    if (item === undefined) continue;
    const key = e.customer_id !== null ? `c${e.customer_id}` : e.anonymous_id ? `a${e.anonymous_id}` : undefined;
    if (!key) continue;
    let set = groups.get(key);
    if (!set) {
      set = new Set();
      groups.set(key, set);
    }
    set.add(item);
  }
  const viewOffsets = [0];
  const viewItems: number[] = [];
  for (const set of groups.values()) {
    viewItems.push(...[...set].sort((a, b) => a - b));
    viewOffsets.push(viewItems.length);
  }
  return {
    data: {
      itemCount: ids.length,
      itemCategory,
      categoryCount: categoryIndex.size,
      orderOffsets: Int32Array.from(offsets),
      orderItems: Int32Array.from(items),
      orderCustomer: Int32Array.from(orderCustomer),
      orderTime: Float64Array.from(orderTime),
      viewOffsets: Int32Array.from(viewOffsets),
      viewItems: Int32Array.from(viewItems),
    },
    ids,
    categories: [...categoryIndex.keys()],
    customers,
  };
}

/** The item of an event's `properties.sku` (or its `product_id` when the store uses SKUs as product ids). */
function productOfEvent(properties: string, bySku: Map<string, number>): number | undefined {
  let json: unknown;
  try {
    json = JSON.parse(properties);
  } catch {
    return undefined;
  }
  if (typeof json !== 'object' || json === null) return undefined;
  const p = json as Record<string, unknown>;
  for (const key of ['sku', 'product_id']) {
    const value = p[key];
    if (typeof value === 'string' && bySku.has(value)) return bySku.get(value);
    if (typeof value === 'number' && bySku.has(String(value))) return bySku.get(String(value));
  }
  return undefined;
}

/** Stores a build with its per-item statistics and neighbour lists; returns the build id. */
export async function storeBuild(
  db: Db,
  loaded: LoadedInteractions,
  result: BuildResult,
  params: BuildParams,
  meta: { createdAt: number; buildMs: number },
): Promise<number> {
  const categories = Object.fromEntries(loaded.categories.map((name, c) => [name, result.categories[c]]));
  const view = modelFromBuild(result, loaded.ids, 0, params.asOf);
  return db.transaction().execute(async (trx) => {
    const r = tables(trx);
    const build = await r
      .insertInto('recommend_builds')
      .values({
        as_of: params.asOf,
        params: JSON.stringify(params),
        stats: JSON.stringify({
          counts: result.counts,
          categories,
          buildMs: meta.buildMs,
          // The best-seller and trending lists every answer reads, kept with the build.
          popular: view.popular,
          trending: view.trending,
        }),
        created_at: meta.createdAt,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const buildId = Number(build.id);
    const s = result.items;
    const items = [];
    for (let i = 0; i < loaded.ids.length; i += 1) {
      if (s.orders[i] === 0) continue;
      items.push({
        build_id: buildId,
        product_id: loaded.ids[i]!,
        buyers: s.buyers[i]!,
        orders: s.orders[i]!,
        recent_orders: s.recent[i]!,
        trend: Number.isNaN(s.trend[i]!) ? null : s.trend[i]!,
        repeat_buyers: s.repeatBuyers[i]!,
        repurchase_days: Number.isNaN(s.repurchaseDays[i]!) ? null : s.repurchaseDays[i]!,
        repeat_item: s.repeatItem[i]!,
      });
    }
    for (let at = 0; at < items.length; at += 1000) {
      await r
        .insertInto('recommend_items')
        .values(items.slice(at, at + 1000))
        .execute();
    }
    let rows: RecommendTables['recommend_neighbours'][] = [];
    for (const relation of RELATIONS) {
      const l = result.neighbours[relation];
      for (let i = 0; i < loaded.ids.length; i += 1) {
        const list: Array<[number, number, number]> = [];
        for (let k = l.offsets[i]!; k < l.offsets[i + 1]!; k += 1) {
          // Nine significant digits: the order and the sums an answer makes are unchanged, the row is smaller.
          list.push([loaded.ids[l.items[k]!]!, Number(l.scores[k]!.toPrecision(9)), l.support[k]!]);
        }
        if (list.length === 0) continue;
        rows.push({ build_id: buildId, product_id: loaded.ids[i]!, relation, neighbours: JSON.stringify(list) });
        if (rows.length === 500) {
          await r.insertInto('recommend_neighbours').values(rows).execute();
          rows = [];
        }
      }
    }
    if (rows.length > 0) await r.insertInto('recommend_neighbours').values(rows).execute();
    return buildId;
  });
}

/** The newest build (made at or before `at`, when given), or undefined when none was made. */
export async function latestBuild(
  db: Db,
  at?: number,
): Promise<{ id: number; asOf: number; createdAt: number } | undefined> {
  let query = tables(db).selectFrom('recommend_builds').select(['id', 'as_of', 'created_at']);
  if (at !== undefined) query = query.where('created_at', '<=', at);
  const row = await query.orderBy('id', 'desc').limit(1).executeTakeFirst();
  return row ? { id: Number(row.id), asOf: Number(row.as_of), createdAt: Number(row.created_at) } : undefined;
}

/**
 * The part of a stored build one customer's answer reads: the statistics of `items` (their history),
 * the neighbours of `neighbours` in `relations`, the best-seller and trending lists, the category cycles.
 */
export async function loadModelView(
  db: Db,
  buildId: number,
  want: { items: readonly number[]; neighbours: readonly number[]; relations: readonly Relation[] },
): Promise<ModelView> {
  const ids = want.items;
  const t = tables(db);
  const build = await t
    .selectFrom('recommend_builds')
    .select(['as_of', 'stats'])
    .where('id', '=', buildId)
    .executeTakeFirstOrThrow();
  const stats = JSON.parse(build.stats) as {
    categories: Record<string, { repurchaseDays: number | null }>;
    popular: number[];
    trending: number[];
  };
  const wanted = [...new Set([...ids, ...stats.popular, ...stats.trending])];
  const info = new Map<number, ItemInfo>();
  for (let at = 0; at < wanted.length; at += 500) {
    const rows = await t
      .selectFrom('recommend_items')
      .selectAll()
      .where('build_id', '=', buildId)
      .where('product_id', 'in', wanted.slice(at, at + 500))
      .execute();
    for (const r of rows) {
      info.set(Number(r.product_id), {
        buyers: Number(r.buyers),
        orders: Number(r.orders),
        recent: Number(r.recent_orders),
        trend: r.trend === null ? null : Number(r.trend),
        repeatBuyers: Number(r.repeat_buyers),
        repurchaseDays: r.repurchase_days === null ? null : Number(r.repurchase_days),
        repeatItem: Number(r.repeat_item) === 1,
      });
    }
  }
  const neighbours = new Map<string, Neighbour[]>();
  for (let at = 0; at < want.neighbours.length && want.relations.length > 0; at += 500) {
    const rows = await t
      .selectFrom('recommend_neighbours')
      .select(['relation', 'product_id', 'neighbours'])
      .where('build_id', '=', buildId)
      .where('product_id', 'in', want.neighbours.slice(at, at + 500))
      .where('relation', 'in', [...want.relations])
      .execute();
    for (const r of rows) {
      const list = JSON.parse(r.neighbours) as Array<[number, number, number]>;
      neighbours.set(
        `${r.relation}:${r.product_id}`,
        list.map(([id, score, support]) => ({ id, score, support })),
      );
    }
  }
  return {
    buildId,
    asOf: Number(build.as_of),
    neighbours: (relation: Relation, id: number) => neighbours.get(`${relation}:${id}`) ?? [],
    item: (id) => info.get(id),
    popular: stats.popular,
    trending: stats.trending,
    categoryCycle: (category) => stats.categories[category]?.repurchaseDays ?? null,
  };
}

/** A customer's purchases (cancelled orders aside) and product events before `before`, and their currency. */
export async function customerHistory(
  db: Db,
  customerId: number,
  before: number,
): Promise<{ signals: Signal[]; currency: string | undefined }> {
  const lines = await db
    .selectFrom('orders as o')
    .innerJoin('order_lines as l', 'l.order_id', 'o.id')
    .select(['l.product_id', 'o.placed_at', 'o.currency'])
    .where('o.customer_id', '=', customerId)
    .where('l.kind', '=', 'product')
    .where('l.product_id', 'is not', null)
    .where('l.quantity', '>', 0)
    .where('o.status', '!=', 'cancelled')
    .where('o.placed_at', '<', before)
    .orderBy('o.placed_at')
    .execute();
  const signals: Signal[] = lines.map((l) => ({ id: Number(l.product_id), at: Number(l.placed_at), kind: 'purchase' }));
  const currency = lines.at(-1)?.currency;
  const events = await db
    .selectFrom('events')
    .select(['event', 'properties', 'occurred_at'])
    .where('customer_id', '=', customerId)
    .where('type', '=', 'track')
    .where('event', 'in', Object.keys(SIGNAL_EVENTS))
    .where('occurred_at', '<', before)
    .execute();
  if (events.length > 0) {
    const skus = new Set<string>();
    const parsed = events.map((e) => {
      let p: Record<string, unknown> = {};
      try {
        p = JSON.parse(e.properties) as Record<string, unknown>;
      } catch {}
      const sku = [p.sku, p.product_id].find((v) => typeof v === 'string' || typeof v === 'number');
      if (sku !== undefined) skus.add(String(sku));
      return {
        kind: SIGNAL_EVENTS[e.event ?? '']!,
        at: Number(e.occurred_at),
        sku: sku === undefined ? undefined : String(sku),
      };
    });
    const products = await db
      .selectFrom('products')
      .select(['id', 'sku'])
      .where('sku', 'in', [...skus])
      .execute();
    const bySku = new Map(products.map((p) => [p.sku, Number(p.id)]));
    for (const e of parsed) {
      const id = e.sku === undefined ? undefined : bySku.get(e.sku);
      if (id !== undefined) signals.push({ id, at: e.at, kind: e.kind });
    }
  }
  return { signals, currency };
}

/** Catalogue rows (with their price history) of the given products. */
export async function loadCatalogue(db: Db, ids: readonly number[]): Promise<Map<number, CatalogueItem>> {
  const out = new Map<number, CatalogueItem>();
  for (let at = 0; at < ids.length; at += 500) {
    const chunk = ids.slice(at, at + 500);
    if (chunk.length === 0) continue;
    const rows = await db.selectFrom('products').selectAll().where('id', 'in', chunk).execute();
    const prices = await db
      .selectFrom('product_prices')
      .select(['product_id', 'observed_at', 'price_minor'])
      .where('product_id', 'in', chunk)
      .orderBy('observed_at')
      .execute();
    for (const r of rows) out.set(Number(r.id), productRowToItem(r));
    for (const p of prices) {
      const item = out.get(Number(p.product_id));
      if (item)
        (item.prices as Array<{ at: number; priceMinor: number }>).push({
          at: Number(p.observed_at),
          priceMinor: Number(p.price_minor),
        });
    }
  }
  return out;
}

/** The whole catalogue (for bulk runs and evaluation), without price history. */
export async function loadAllCatalogue(db: Db): Promise<Map<number, CatalogueItem>> {
  const rows = await db.selectFrom('products').selectAll().execute();
  return new Map(rows.map((r) => [Number(r.id), productRowToItem(r)]));
}

type ProductRow = {
  id: number;
  sku: string;
  title: string | null;
  category: string | null;
  status: ProductStatus;
  inventory_quantity: number | null;
  price_minor: number | null;
  compare_at_minor: number | null;
  currency: string | null;
  image_url: string | null;
  url: string | null;
};

/** A product row as the catalogue facts an answer uses. */
export function productRowToItem(r: ProductRow): CatalogueItem {
  return {
    id: Number(r.id),
    sku: r.sku,
    title: r.title,
    category: r.category,
    status: r.status,
    inventory: r.inventory_quantity === null ? null : Number(r.inventory_quantity),
    priceMinor: r.price_minor === null ? null : Number(r.price_minor),
    compareAtMinor: r.compare_at_minor === null ? null : Number(r.compare_at_minor),
    currency: r.currency,
    imageUrl: r.image_url,
    url: r.url,
    prices: [],
  };
}

/** One product's repurchase cycle as a build learned it. */
export interface RepurchaseCycle {
  productId: number;
  sku: string;
  title: string | null;
  category: string | null;
  buyers: number;
  repeatBuyers: number;
  /** Median days between a customer's purchase days; null when nobody bought it again. */
  cycleDays: number | null;
  /** A repeat-purchase item (recommended again to those who bought it). */
  repeatItem: boolean;
  /** Bought by several customers and by none of them again. */
  notBoughtAgain: boolean;
}

/** The repurchase cycles of a build's products, most buyers first; `minBuyers` marks "not bought again". */
export async function repurchaseCycles(
  db: Db,
  buildId: number,
  { limit = 50, minBuyers = 3 }: { limit?: number; minBuyers?: number } = {},
): Promise<RepurchaseCycle[]> {
  const rows = await tables(db)
    .selectFrom('recommend_items as i')
    .innerJoin('products as p', 'p.id', 'i.product_id')
    .select([
      'p.id',
      'p.sku',
      'p.title',
      'p.category',
      'i.buyers',
      'i.repeat_buyers',
      'i.repurchase_days',
      'i.repeat_item',
    ])
    .where('i.build_id', '=', buildId)
    .orderBy('i.buyers', 'desc')
    .orderBy('p.id')
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    productId: Number(r.id),
    sku: r.sku,
    title: r.title,
    category: r.category,
    buyers: Number(r.buyers),
    repeatBuyers: Number(r.repeat_buyers),
    cycleDays: r.repurchase_days === null ? null : Number(r.repurchase_days),
    repeatItem: Number(r.repeat_item) === 1,
    notBoughtAgain: Number(r.repeat_buyers) === 0 && Number(r.buyers) >= minBuyers,
  }));
}

/** How many usual cycles may pass after the last purchase before the need counts as ended (not chased). */
export const REPLENISH_MAX_CYCLES = 2;

/** Where a product's repurchase cycle stands for one customer at `now`. */
export type ReplenishmentState = 'not_yet' | 'due' | 'ended';

/**
 * The due day is the UTC calendar day of `lastAt + cycleDays`; from that day's start it is `due`,
 * until more than `maxCycles` cycles have passed since the last purchase (`now − lastAt > maxCycles ×
 * cycle`): then the customer has stopped buying it (or buys it elsewhere) and the need has `ended`.
 */
export function replenishmentState(
  lastAt: number,
  cycleDays: number,
  now: number,
  maxCycles = REPLENISH_MAX_CYCLES,
): { state: ReplenishmentState; dueOn: string } {
  const dueAt = lastAt + cycleDays * MS_PER_DAY;
  const dueDayStart = Math.floor(dueAt / MS_PER_DAY) * MS_PER_DAY;
  const dueOn = new Date(dueDayStart).toISOString().slice(0, 10);
  if (now < dueDayStart) return { state: 'not_yet', dueOn };
  if (now - lastAt > maxCycles * cycleDays * MS_PER_DAY) return { state: 'ended', dueOn };
  return { state: 'due', dueOn };
}

/** A product due again for a customer. */
export interface DueReplenishment {
  customerId: number;
  productId: number;
  sku: string;
  lastBoughtAt: number;
  cycleDays: number;
  dueOn: string;
}

/**
 * The (customer, product) pairs whose repurchase cycle is due at `now` (`replenishmentState`), from the
 * newest build made by `now`: repeat-purchase items with their own cycle, else their category's (as the
 * `replenishment` method reads them), against each customer's last purchase of the item up to `now`
 * (cancelled orders aside). Purchases older than `maxCycles` of the longest cycle are not read: those
 * needs have ended. Ordered by customer, then product.
 */
export async function dueReplenishments(
  db: Db,
  now: number,
  maxCycles = REPLENISH_MAX_CYCLES,
): Promise<DueReplenishment[]> {
  const build = await latestBuild(db, now);
  if (!build) return [];
  const t = tables(db);
  const stats = await t
    .selectFrom('recommend_builds')
    .select('stats')
    .where('id', '=', build.id)
    .executeTakeFirstOrThrow();
  const categories = (JSON.parse(stats.stats) as { categories?: Record<string, { repurchaseDays: number | null }> })
    .categories;
  const items = await t
    .selectFrom('recommend_items as i')
    .innerJoin('products as p', 'p.id', 'i.product_id')
    .select(['i.product_id', 'i.repurchase_days', 'p.sku', 'p.category'])
    .where('i.build_id', '=', build.id)
    .where('i.repeat_item', '=', 1)
    .execute();
  const cycles = new Map<number, { sku: string; cycle: number }>();
  for (const i of items) {
    const cycle =
      i.repurchase_days !== null
        ? Number(i.repurchase_days)
        : i.category
          ? (categories?.[i.category]?.repurchaseDays ?? null)
          : null;
    if (cycle !== null && cycle > 0) cycles.set(Number(i.product_id), { sku: i.sku, cycle });
  }
  if (cycles.size === 0) return [];
  const longest = Math.max(...[...cycles.values()].map((c) => c.cycle));
  const ids = [...cycles.keys()];
  const out: DueReplenishment[] = [];
  for (let at = 0; at < ids.length; at += 500) {
    const rows = await db
      .selectFrom('orders as o')
      .innerJoin('order_lines as l', 'l.order_id', 'o.id')
      .select(['o.customer_id', 'l.product_id', (eb) => eb.fn.max('o.placed_at').as('last')])
      .where('o.customer_id', 'is not', null)
      .where('l.kind', '=', 'product')
      .where('l.quantity', '>', 0)
      .where('l.product_id', 'in', ids.slice(at, at + 500))
      .where('o.status', '!=', 'cancelled')
      .where('o.placed_at', '<=', now)
      .where('o.placed_at', '>=', now - (maxCycles * longest + 1) * MS_PER_DAY)
      .groupBy(['o.customer_id', 'l.product_id'])
      .execute();
    for (const r of rows) {
      const productId = Number(r.product_id);
      const item = cycles.get(productId)!;
      const last = Number(r.last);
      const { state, dueOn } = replenishmentState(last, item.cycle, now, maxCycles);
      if (state !== 'due') continue;
      out.push({
        customerId: Number(r.customer_id),
        productId,
        sku: item.sku,
        lastBoughtAt: last,
        cycleDays: item.cycle,
        dueOn,
      });
    }
  }
  return out.sort((a, b) => a.customerId - b.customerId || a.productId - b.productId);
}
