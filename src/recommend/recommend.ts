import { ComebackError } from '../errors.js';
import { formatMoney } from '../shared/money.js';
import type { Db } from '../store/index.js';
import {
  type AnswerOptions,
  type CatalogueItem,
  candidates,
  DEFAULT_ANSWER,
  finish,
  METHODS,
  type Method,
  type Recommendation,
  type Signal,
} from './answer.js';
import { type BuildParams, buildRecommender, DEFAULT_BUILD_PARAMS, type Relation } from './build.js';
import { defaultCut, EVALUATED_METHODS, type Evaluation, evaluate } from './evaluate.js';
import { withFallback } from './fallback.js';
import {
  customerHistory,
  latestBuild,
  loadAllCatalogue,
  loadCatalogue,
  loadInteractions,
  loadModelView,
  storeBuild,
} from './recommend.queries.js';

/** The relations each method reads. */
const RELATIONS_OF: Record<Method, readonly Relation[]> = {
  personal: ['similar', 'viewed_with'],
  'bought-together': ['bought_with'],
  similar: ['similar', 'viewed_with', 'same_category'],
  popular: [],
  'popular-in-category': ['same_category'],
  trending: [],
  'buy-again': [],
  replenishment: [],
  reminders: [],
};

/** What a build stored. */
export interface BuildSummary {
  buildId: number;
  asOf: number;
  orders: number;
  customers: number;
  items: number;
  pairs: Record<string, number>;
  loadMs: number;
  buildMs: number;
  storeMs: number;
}

/**
 * Builds every item-item matrix from the store's orders and events before `asOf` and stores it as a
 * new numbered build; answers read the newest build.
 */
export async function buildRecommendations(
  db: Db,
  { asOf, now, params = {} }: { asOf: number; now: number; params?: Partial<Omit<BuildParams, 'asOf'>> },
): Promise<BuildSummary> {
  const t0 = performance.now();
  const loaded = await loadInteractions(db, asOf);
  const t1 = performance.now();
  const full: BuildParams = { ...DEFAULT_BUILD_PARAMS, ...params, asOf };
  const result = buildRecommender(loaded.data, full);
  const t2 = performance.now();
  const buildId = await storeBuild(db, loaded, result, full, { createdAt: now, buildMs: Math.round(t2 - t1) });
  const t3 = performance.now();
  return {
    buildId,
    asOf,
    ...result.counts,
    loadMs: Math.round(t1 - t0),
    buildMs: Math.round(t2 - t1),
    storeMs: Math.round(t3 - t2),
  };
}

/** One customer's answer: which build it read, the method, and the items with their reasons. */
export interface CustomerRecommendations {
  customerId: number;
  buildId: number;
  /** The build's as-of: what the matrices saw. */
  builtAsOf: number;
  method: Method;
  currency: string | undefined;
  items: Recommendation[];
  /** Said when the list is short or made of best-sellers only. */
  note: string | undefined;
}

export interface RecommendOptions {
  method?: Method;
  n?: number;
  /** History up to this instant counts (default: the build's as-of … or now, whichever is later). */
  asOf?: number;
  /** The product a similar or bought-together answer is about (default: the latest purchase). */
  seed?: number;
  buildId?: number;
  answer?: Partial<AnswerOptions>;
}

/**
 * Recommends for one customer from the newest (or given) build: reads the customer's history, the
 * build rows of the items in it, and the catalogue rows of the candidates; nothing else. Throws
 * `not_found` when no build exists yet.
 */
export async function recommendForCustomer(
  db: Db,
  customerId: number,
  options: RecommendOptions = {},
): Promise<CustomerRecommendations> {
  const method = options.method ?? 'personal';
  if (!METHODS.includes(method))
    throw new ComebackError('usage', `method ${method}: choose one of ${METHODS.join(', ')}`);
  const build = options.buildId === undefined ? await latestBuild(db) : { id: options.buildId, asOf: 0, createdAt: 0 };
  if (!build) {
    throw new ComebackError('not_found', 'no recommendation build yet: run `comeback recommend --build` first');
  }
  const answer: AnswerOptions = { ...DEFAULT_ANSWER, ...options.answer, n: options.n ?? DEFAULT_ANSWER.n };
  const { signals, currency } = await customerHistory(db, customerId, options.asOf ?? Number.MAX_SAFE_INTEGER);
  const historyIds = [...new Set(signals.map((s) => s.id))];
  // Neighbours are read for the items the method looks at: the most recent distinct ones (personal)
  // or the seed; statistics for every item of the history (is it a repeat-purchase item?).
  const latest = new Map<number, number>();
  for (const s of signals) latest.set(s.id, Math.max(latest.get(s.id) ?? 0, s.at));
  const recent = [...latest.entries()]
    .sort((a, b) => b[1] - a[1] || a[0] - b[0])
    .slice(0, answer.maxHistory)
    .map(([id]) => id);
  const lastPurchase = signals
    .filter((s) => s.kind === 'purchase')
    .reduce<Signal | undefined>((m, s) => (!m || s.at > m.at ? s : m), undefined);
  const seedId = options.seed ?? lastPurchase?.id;
  const relations = RELATIONS_OF[method];
  const neighbourIds =
    method === 'personal' || method === 'popular-in-category' ? recent : seedId === undefined ? [] : [seedId];
  const model = await loadModelView(db, build.id, {
    items: options.seed === undefined ? historyIds : [...historyIds, options.seed],
    neighbours: relations.length === 0 ? [] : neighbourIds,
    relations,
  });
  const asOf = options.asOf ?? Math.max(model.asOf, ...signals.map((s) => s.at + 1));
  const needsCategories = method === 'popular-in-category' || method === 'buy-again' || method === 'replenishment';
  const historyCatalogue = needsCategories ? await loadCatalogue(db, historyIds) : new Map<number, CatalogueItem>();
  const categoryOf = (id: number) => historyCatalogue.get(id)?.category ?? null;
  const list = withFallback(method, candidates(model, method, signals, asOf, answer, categoryOf, options.seed), () =>
    candidates(model, 'popular', signals, asOf, answer, categoryOf),
  );
  // The catalogue filter drops some candidates; read a few times n of them, then more if needed.
  let items: Recommendation[] = [];
  for (let take = answer.n * 4 + 20; ; take *= 4) {
    const head = list.slice(0, take);
    const ids = new Set<number>();
    for (const c of head) {
      ids.add(c.id);
      if (c.reason.productId !== undefined) ids.add(c.reason.productId);
    }
    const catalogue = await loadCatalogue(db, [...ids]);
    items = finish(head, catalogue, currency, answer, signals);
    if (items.length >= answer.n || take >= list.length) break;
  }
  let note: string | undefined;
  if (items.length === 0) note = 'nothing to recommend with this method for this customer';
  else if (method === 'personal' && items.every((i) => i.reason.kind === 'popular')) {
    note = 'no purchase history the build can use: these are best-sellers';
  } else if (items.length < answer.n) note = `only ${items.length} items qualify`;
  return { customerId, buildId: model.buildId, builtAsOf: model.asOf, method, currency, items, note };
}

/** One item of a template block: plain data with snake_case keys, money already formatted. */
export interface BlockItem {
  product_id: number;
  sku: string;
  title: string;
  url: string | null;
  image_url: string | null;
  price: string | null;
  compare_at_price: string | null;
  price_minor: number | null;
  currency: string | null;
  reason: string;
  reason_kind: string;
  price_drop: boolean;
  low_stock: boolean;
}

/**
 * Recommendations as plain data for a Liquid template (`{% for item in recommendations.items %}`):
 * no functions or class instances, money formatted in the product's currency and `locale`.
 */
export async function recommendationsBlock(
  db: Db,
  customerId: number,
  opts: RecommendOptions & { locale?: string } = {},
): Promise<{ build_id: number; method: string; items: BlockItem[]; note: string | null }> {
  const r = await recommendForCustomer(db, customerId, opts);
  const money = (minor: number | null, currency: string | null) =>
    minor === null || currency === null ? null : formatMoney(minor, currency, opts.locale ?? 'en');
  return {
    build_id: r.buildId,
    method: r.method,
    note: r.note ?? null,
    items: r.items.map((i) => ({
      product_id: i.productId,
      sku: i.sku,
      title: i.title ?? i.sku,
      url: i.url,
      image_url: i.imageUrl,
      price: money(i.priceMinor, i.currency),
      compare_at_price:
        i.compareAtMinor !== null && i.priceMinor !== null && i.compareAtMinor > i.priceMinor
          ? money(i.compareAtMinor, i.currency)
          : null,
      price_minor: i.priceMinor,
      currency: i.currency,
      reason: i.reason.text,
      reason_kind: i.reason.kind,
      price_drop: i.flags.includes('price_drop'),
      low_stock: i.flags.includes('low_stock'),
    })),
  };
}

/**
 * `--evaluate`: builds on the orders before `cut` (default: the 90th percentile of order times) and
 * scores every method and the popularity baseline on each customer's last order after it.
 */
export async function evaluateStore(
  db: Db,
  {
    cut,
    k = 10,
    methods = EVALUATED_METHODS,
    params = {},
    answer = {},
  }: {
    cut?: number;
    k?: number;
    methods?: readonly Method[];
    params?: Partial<Omit<BuildParams, 'asOf'>>;
    answer?: Partial<AnswerOptions>;
  } = {},
): Promise<Evaluation> {
  const loaded = await loadInteractions(db, Number.MAX_SAFE_INTEGER);
  const at = cut ?? defaultCut(loaded.data);
  if (at === undefined) throw new ComebackError('bad_input', 'the store has no orders to evaluate on');
  const catalogue = await loadAllCatalogue(db);
  return evaluate(loaded.data, loaded.ids, loaded.categories, catalogue, {
    cut: at,
    k,
    methods,
    build: { ...DEFAULT_BUILD_PARAMS, ...params },
    answer: { ...DEFAULT_ANSWER, ...answer },
  });
}

/** The customer 360's recommendations: the personal list with reasons, or null before the first build. */
export async function profileRecommendations(
  db: Db,
  customerId: number,
  n = 5,
): Promise<{
  buildId: number;
  method: Method;
  items: Array<{ productId: number; sku: string; title: string | null; reason: string }>;
} | null> {
  if (!(await latestBuild(db))) return null;
  const r = await recommendForCustomer(db, customerId, { n });
  return {
    buildId: r.buildId,
    method: r.method,
    items: r.items.map((i) => ({ productId: i.productId, sku: i.sku, title: i.title, reason: i.reason.text })),
  };
}
