import {
  type AnswerOptions,
  type CatalogueItem,
  candidates,
  finish,
  type Method,
  modelFromBuild,
  type Signal,
} from './answer.js';
import { type BuildParams, buildRecommender, type Interactions } from './build.js';
import { withFallback } from './fallback.js';

/** The ranking quality of one method on the held-out orders. */
export interface MethodScore {
  method: Method;
  /** Customers the method recommended at least one item to. */
  answered: number;
  /** Share of test customers with at least one held-out item in the top k. */
  hitRate: number;
  precision: number;
  recall: number;
  ndcg: number;
  /** Distinct items recommended / items sold before the cut. */
  coverage: number;
  /** Share of recommended slots taken by best-sellers (the top 1% of items by buyers, at least 10). */
  bestSellerShare: number;
}

export interface Evaluation {
  cut: number;
  k: number;
  /** Customers with an order before the cut whose last order is at or after it. */
  customers: number;
  heldOutItems: number;
  baseline: 'popular';
  methods: MethodScore[];
  buildMs: number;
  warnings: string[];
}

export interface EvaluationOptions {
  cut: number;
  k: number;
  methods: readonly Method[];
  build: Omit<BuildParams, 'asOf'>;
  answer: AnswerOptions;
}

/** The methods `--evaluate` compares; popular is the baseline. Reminders need carts, not orders. */
export const EVALUATED_METHODS: readonly Method[] = [
  'popular',
  'personal',
  'bought-together',
  'similar',
  'popular-in-category',
  'trending',
  'buy-again',
];

/**
 * Time-based hold-out: the build sees only orders before `cut`; each customer who bought before the cut
 * and whose last order is at or after it has that last order held out, and every method recommends k
 * items from the customer's history before the cut. Hit rate, precision, recall and NDCG at k with
 * binary relevance (Järvelin & Kekäläinen 2002: DCG = Σ rel_r / log2(r + 1), normalised by the ideal
 * DCG of min(|held out|, k) hits). Currency is not filtered: an evaluation reads one store's history.
 */
export function evaluate(
  data: Interactions,
  ids: readonly number[],
  categories: readonly string[],
  catalogue: ReadonlyMap<number, CatalogueItem>,
  options: EvaluationOptions,
): Evaluation {
  const started = performance.now();
  const result = buildRecommender(data, { ...options.build, asOf: options.cut });
  const buildMs = performance.now() - started;
  const model = modelFromBuild(result, ids, 0, options.cut, categories);
  const categoryOf = (id: number) => catalogue.get(id)?.category ?? null;

  const histories = new Map<number, Signal[]>();
  const last = new Map<number, number>();
  for (let o = 0; o < data.orderCustomer.length; o += 1) {
    const c = data.orderCustomer[o]!;
    if (c < 0) continue;
    const t = data.orderTime[o]!;
    if (t < options.cut) {
      let h = histories.get(c);
      if (!h) {
        h = [];
        histories.set(c, h);
      }
      for (let k = data.orderOffsets[o]!; k < data.orderOffsets[o + 1]!; k += 1) {
        h.push({ id: ids[data.orderItems[k]!]!, at: t, kind: 'purchase' });
      }
    }
    const prev = last.get(c);
    if (prev === undefined || t > data.orderTime[prev]! || (t === data.orderTime[prev]! && o > prev)) last.set(c, o);
  }
  const tests: Array<{ history: Signal[]; heldOut: Set<number> }> = [];
  let heldOutItems = 0;
  for (const [c, o] of last) {
    const history = histories.get(c);
    if (!history || data.orderTime[o]! < options.cut) continue;
    const heldOut = new Set<number>();
    for (let k = data.orderOffsets[o]!; k < data.orderOffsets[o + 1]!; k += 1) heldOut.add(ids[data.orderItems[k]!]!);
    if (heldOut.size === 0) continue;
    heldOutItems += heldOut.size;
    tests.push({ history, heldOut });
  }
  const warnings: string[] = [];
  if (tests.length < 30) {
    warnings.push(
      `only ${tests.length} customers have an order on both sides of the cut: the figures are not reliable`,
    );
  }
  if (categories.length === 0) warnings.push('no product has a category: popular-in-category cannot answer');
  const sold = result.items.buyers.reduce((count, b) => count + (b > 0 ? 1 : 0), 0);
  const bestSellers = new Set(model.popular.slice(0, Math.max(10, Math.ceil(sold * 0.01))));
  const k = options.k;
  const ideal = (m: number) => {
    let s = 0;
    for (let r = 1; r <= Math.min(m, k); r += 1) s += 1 / Math.log2(r + 1);
    return s;
  };
  const answer = { ...options.answer, n: k };
  const methods: MethodScore[] = options.methods.map((method) => {
    let hits = 0;
    let precision = 0;
    let recall = 0;
    let ndcg = 0;
    let answered = 0;
    let slots = 0;
    let bestSellerSlots = 0;
    const shown = new Set<number>();
    for (const { history, heldOut } of tests) {
      const list = withFallback(method, candidates(model, method, history, options.cut, answer, categoryOf), () =>
        candidates(model, 'popular', history, options.cut, answer, categoryOf),
      );
      const recs = finish(list, catalogue, undefined, answer);
      if (recs.length > 0) answered += 1;
      let found = 0;
      let dcg = 0;
      recs.forEach((r, i) => {
        shown.add(r.productId);
        slots += 1;
        if (bestSellers.has(r.productId)) bestSellerSlots += 1;
        if (heldOut.has(r.productId)) {
          found += 1;
          dcg += 1 / Math.log2(i + 2);
        }
      });
      if (found > 0) hits += 1;
      precision += found / k;
      recall += found / heldOut.size;
      ndcg += dcg / ideal(heldOut.size);
    }
    const n = Math.max(tests.length, 1);
    return {
      method,
      answered,
      hitRate: hits / n,
      precision: precision / n,
      recall: recall / n,
      ndcg: ndcg / n,
      coverage: sold === 0 ? 0 : shown.size / sold,
      bestSellerShare: slots === 0 ? 0 : bestSellerSlots / slots,
    };
  });
  return {
    cut: options.cut,
    k,
    customers: tests.length,
    heldOutItems,
    baseline: 'popular',
    methods,
    buildMs,
    warnings,
  };
}

/** The default cut of an evaluation: the time of the order at the 90th percentile of order times. */
export function defaultCut(data: Interactions): number | undefined {
  const times = [...data.orderTime].sort((a, b) => a - b);
  if (times.length === 0) return undefined;
  return times[Math.floor(times.length * 0.9)];
}
