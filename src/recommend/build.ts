import { MS_PER_DAY } from '../shared/dates.js';

/**
 * The interactions a build reads, over dense item indexes `0 … itemCount-1` (the caller maps product
 * ids to indexes). Orders are a CSR list of distinct item indexes; views (product views, cart and
 * wishlist adds) are CSR groups of distinct items seen by one customer or visitor.
 */
export interface Interactions {
  itemCount: number;
  /** The category index of each item, -1 when unknown. */
  itemCategory: Int32Array;
  categoryCount: number;
  /** `orderItems[orderOffsets[o] … orderOffsets[o+1])` are the distinct items of order `o`. */
  orderOffsets: Int32Array;
  orderItems: Int32Array;
  /** Customer index of each order, -1 for a guest. */
  orderCustomer: Int32Array;
  /** Epoch ms of each order. */
  orderTime: Float64Array;
  viewOffsets: Int32Array;
  viewItems: Int32Array;
}

/** Settings of a build; every default is documented in the README's "Recommendations" section. */
export interface BuildParams {
  /** Only orders and views before this instant count (epoch ms). */
  asOf: number;
  /** Neighbours kept per item and relation. */
  topK: number;
  /** Minimum number of orders (or customers) a pair must share to be a neighbour. */
  minSupport: number;
  /** Orders with more distinct items than this add no pairs (wholesale baskets pair everything). */
  maxBasket: number;
  /** The customer's most recent distinct items that count for customer-level similarity. */
  maxHistory: number;
  /** Trending compares the last `recentDays` with the `baselineDays` before them. */
  recentDays: number;
  baselineDays: number;
  /** A repeat-purchase item: at least this many customers bought it on two days or more … */
  repeatMinBuyers: number;
  /** … and they are at least this share of its buyers. */
  repeatMinShare: number;
}

export const DEFAULT_BUILD_PARAMS: Omit<BuildParams, 'asOf'> = {
  topK: 50,
  minSupport: 2,
  maxBasket: 100,
  maxHistory: 200,
  recentDays: 28,
  baselineDays: 84,
  repeatMinBuyers: 3,
  repeatMinShare: 0.05,
};

/** Item-item relations a build stores. */
export type Relation = 'bought_with' | 'similar' | 'viewed_with' | 'same_category';
export const RELATIONS: readonly Relation[] = ['bought_with', 'similar', 'viewed_with', 'same_category'];

/** Neighbours of every item in one relation, best first: CSR over item indexes. */
export interface NeighbourLists {
  offsets: Int32Array;
  items: Int32Array;
  scores: Float64Array;
  support: Int32Array;
}

/** Per-item statistics of a build (arrays over item indexes). */
export interface ItemStats {
  /** Distinct customers who bought the item. */
  buyers: Int32Array;
  /** Orders containing it (guests included). */
  orders: Int32Array;
  /** Orders containing it in the recent window. */
  recent: Int32Array;
  /** (recent + 1) / (expected + 1), expected = baseline orders × recentDays / baselineDays; NaN below minSupport. */
  trend: Float64Array;
  /** Customers who bought it on two days or more. */
  repeatBuyers: Int32Array;
  /** Median days between a customer's consecutive purchase days of the item; NaN when nobody repeated. */
  repurchaseDays: Float64Array;
  /** 1 for a repeat-purchase item (see BuildParams). */
  repeatItem: Uint8Array;
}

export interface CategoryCycle {
  buyers: number;
  repeatBuyers: number;
  /** Median days between a customer's purchase days in the category; null when nobody repeated. */
  repurchaseDays: number | null;
}

export interface BuildResult {
  items: ItemStats;
  neighbours: Record<Relation, NeighbourLists>;
  categories: CategoryCycle[];
  counts: { orders: number; customers: number; items: number; pairs: Record<Relation, number> };
}

/**
 * Builds every item-item matrix and per-item statistic from typed arrays; pure. Relations:
 * `bought_with` is lift over orders, c_ij·N / (n_i·n_j) with c_ij ≥ minSupport (Agrawal et al. 1993,
 * association rules; lift as in Brin et al. 1997); `similar` is the cosine of the item columns of the
 * binary customer × item matrix, c_ij / √(n_i·n_j) (Sarwar et al. 2001, item-based CF); `viewed_with`
 * is the same cosine over view groups; `same_category` ranks the other items of an item's category by
 * buyers.
 */
export function buildRecommender(data: Interactions, params: BuildParams): BuildResult {
  const n = data.itemCount;
  const orders = data.orderCustomer.length;
  const cut = params.asOf;
  const live = (o: number) => data.orderTime[o]! < cut;

  const stats: ItemStats = {
    buyers: new Int32Array(n),
    orders: new Int32Array(n),
    recent: new Int32Array(n),
    trend: new Float64Array(n).fill(Number.NaN),
    repeatBuyers: new Int32Array(n),
    repurchaseDays: new Float64Array(n).fill(Number.NaN),
    repeatItem: new Uint8Array(n),
  };
  const recentStart = cut - params.recentDays * MS_PER_DAY;
  const baselineStart = recentStart - params.baselineDays * MS_PER_DAY;
  const baseline = new Int32Array(n);
  for (let o = 0; o < orders; o += 1) {
    if (!live(o)) continue;
    const t = data.orderTime[o]!;
    for (let k = data.orderOffsets[o]!; k < data.orderOffsets[o + 1]!; k += 1) {
      const item = data.orderItems[k]!;
      stats.orders[item]! += 1;
      if (t >= recentStart) stats.recent[item]! += 1;
      else if (t >= baselineStart) baseline[item]! += 1;
    }
  }
  for (let i = 0; i < n; i += 1) {
    if (stats.recent[i]! < params.minSupport) continue;
    const expected = (baseline[i]! * params.recentDays) / params.baselineDays;
    stats.trend[i] = (stats.recent[i]! + 1) / (expected + 1);
  }

  // Customers' purchase days per item and per category, in time order.
  const byCustomer = customerOrders(data, live);
  const customers = byCustomer.length;
  const itemGaps: number[][] = Array.from({ length: n }, () => []);
  const categoryGaps: number[][] = Array.from({ length: data.categoryCount }, () => []);
  const categoryBuyers = new Int32Array(data.categoryCount);
  const categoryRepeat = new Int32Array(data.categoryCount);
  const histories: Int32Array[] = [];
  for (const list of byCustomer) {
    const lastDay = new Map<number, number>();
    const days = new Map<number, number>();
    const catLast = new Map<number, number>();
    const catDays = new Map<number, number>();
    for (const o of list) {
      const day = Math.floor(data.orderTime[o]! / MS_PER_DAY);
      for (let k = data.orderOffsets[o]!; k < data.orderOffsets[o + 1]!; k += 1) {
        const item = data.orderItems[k]!;
        const last = lastDay.get(item);
        if (last === undefined) days.set(item, 1);
        else if (day > last) {
          itemGaps[item]!.push(day - last);
          days.set(item, days.get(item)! + 1);
        }
        lastDay.set(item, day);
        const c = data.itemCategory[item]!;
        if (c < 0) continue;
        const cl = catLast.get(c);
        if (cl === undefined) catDays.set(c, 1);
        else if (day > cl) {
          categoryGaps[c]!.push(day - cl);
          catDays.set(c, catDays.get(c)! + 1);
        }
        catLast.set(c, day);
      }
    }
    for (const [item, count] of days) {
      stats.buyers[item]! += 1;
      if (count >= 2) stats.repeatBuyers[item]! += 1;
    }
    for (const [c, count] of catDays) {
      categoryBuyers[c]! += 1;
      if (count >= 2) categoryRepeat[c]! += 1;
    }
    // The most recent distinct items, for the customer-level similarity.
    const recentFirst = [...lastDay.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, params.maxHistory);
    histories.push(Int32Array.from(recentFirst.map(([item]) => item)).sort());
  }
  for (let i = 0; i < n; i += 1) {
    const gaps = itemGaps[i]!;
    if (gaps.length > 0) stats.repurchaseDays[i] = median(gaps);
    stats.repeatItem[i] =
      stats.repeatBuyers[i]! >= params.repeatMinBuyers &&
      stats.repeatBuyers[i]! >= params.repeatMinShare * stats.buyers[i]!
        ? 1
        : 0;
  }
  const categories: CategoryCycle[] = [];
  for (let c = 0; c < data.categoryCount; c += 1) {
    const gaps = categoryGaps[c]!;
    categories.push({
      buyers: categoryBuyers[c]!,
      repeatBuyers: categoryRepeat[c]!,
      repurchaseDays: gaps.length > 0 ? median(gaps) : null,
    });
  }

  const counter = new PairCounter(n);
  // bought_with: pairs within an order.
  let liveOrders = 0;
  for (let o = 0; o < orders; o += 1) {
    if (!live(o)) continue;
    liveOrders += 1;
    const from = data.orderOffsets[o]!;
    const to = data.orderOffsets[o + 1]!;
    if (to - from > params.maxBasket) continue;
    counter.addGroup(data.orderItems, from, to);
  }
  const boughtWith = counter.top(
    params.topK,
    params.minSupport,
    (c, i, j) => (c * liveOrders) / (stats.orders[i]! * stats.orders[j]!),
  );

  counter.clear();
  for (const h of histories) counter.addGroup(h, 0, h.length);
  const similar = counter.top(
    params.topK,
    params.minSupport,
    (c, i, j) => c / Math.sqrt(stats.buyers[i]! * stats.buyers[j]!),
  );

  counter.clear();
  const viewCount = new Int32Array(n);
  for (let g = 0; g + 1 < data.viewOffsets.length; g += 1) {
    const from = data.viewOffsets[g]!;
    const to = data.viewOffsets[g + 1]!;
    for (let k = from; k < to; k += 1) viewCount[data.viewItems[k]!]! += 1;
    if (to - from <= params.maxBasket) counter.addGroup(data.viewItems, from, to);
  }
  const viewedWith = counter.top(
    params.topK,
    params.minSupport,
    (c, i, j) => c / Math.sqrt(viewCount[i]! * viewCount[j]!),
  );

  const sameCategory = categoryNeighbours(data, stats.buyers, params.topK);
  return {
    items: stats,
    neighbours: { bought_with: boughtWith, similar, viewed_with: viewedWith, same_category: sameCategory },
    categories,
    counts: {
      orders: liveOrders,
      customers,
      items: n,
      pairs: {
        bought_with: boughtWith.items.length,
        similar: similar.items.length,
        viewed_with: viewedWith.items.length,
        same_category: sameCategory.items.length,
      },
    },
  };
}

/** The order indexes of each customer (customers with a live order only), in time order. */
function customerOrders(data: Interactions, live: (o: number) => boolean): number[][] {
  const lists = new Map<number, number[]>();
  for (let o = 0; o < data.orderCustomer.length; o += 1) {
    const c = data.orderCustomer[o]!;
    if (c < 0 || !live(o)) continue;
    let list = lists.get(c);
    if (!list) {
      list = [];
      lists.set(c, list);
    }
    list.push(o);
  }
  const result: number[][] = [];
  for (const list of lists.values()) {
    list.sort((a, b) => data.orderTime[a]! - data.orderTime[b]! || a - b);
    result.push(list);
  }
  return result;
}

/** The median of a non-empty list (the mean of the two middle values for an even count). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function categoryNeighbours(data: Interactions, buyers: Int32Array, topK: number): NeighbourLists {
  const members: number[][] = Array.from({ length: data.categoryCount }, () => []);
  for (let i = 0; i < data.itemCount; i += 1) {
    const c = data.itemCategory[i]!;
    if (c >= 0 && buyers[i]! > 0) members[c]!.push(i);
  }
  for (const list of members) list.sort((a, b) => buyers[b]! - buyers[a]! || a - b);
  const lists: Array<Array<[number, number, number]>> = [];
  for (let i = 0; i < data.itemCount; i += 1) {
    const c = data.itemCategory[i]!;
    const list = c < 0 ? [] : members[c]!.filter((j) => j !== i).slice(0, topK);
    lists.push(list.map((j) => [j, buyers[j]!, buyers[j]!]));
  }
  return toCsr(lists);
}

function toCsr(lists: Array<Array<[number, number, number]>>): NeighbourLists {
  const offsets = new Int32Array(lists.length + 1);
  for (let i = 0; i < lists.length; i += 1) offsets[i + 1] = offsets[i]! + lists[i]!.length;
  const total = offsets[lists.length]!;
  const items = new Int32Array(total);
  const scores = new Float64Array(total);
  const support = new Int32Array(total);
  lists.forEach((list, i) => {
    let at = offsets[i]!;
    for (const [j, score, count] of list) {
      items[at] = j;
      scores[at] = score;
      support[at] = count;
      at += 1;
    }
  });
  return { offsets, items, scores, support };
}

/** Above this many items the pair counts live in a hash map instead of a dense triangle. */
const DENSE_LIMIT = 6000;

/** Counts of unordered item pairs: a dense upper triangle for a catalogue of up to 6,000 items (72 MB). */
class PairCounter {
  private readonly dense: Uint32Array | undefined;
  private readonly sparse: Map<number, number> | undefined;

  constructor(private readonly n: number) {
    if (n <= DENSE_LIMIT) this.dense = new Uint32Array((n * (n - 1)) / 2);
    else this.sparse = new Map();
  }

  private index(i: number, j: number): number {
    // Row i of the strict upper triangle starts at i·n − i(i+1)/2.
    return i * this.n - (i * (i + 1)) / 2 + (j - i - 1);
  }

  /** Adds every pair of the sorted distinct items `list[from … to)`. */
  addGroup(list: Int32Array, from: number, to: number): void {
    for (let a = from; a < to; a += 1) {
      const i = list[a]!;
      for (let b = a + 1; b < to; b += 1) {
        const j = list[b]!;
        const [lo, hi] = i < j ? [i, j] : [j, i];
        if (this.dense) this.dense[this.index(lo, hi)]! += 1;
        else {
          const key = lo * this.n + hi;
          this.sparse!.set(key, (this.sparse!.get(key) ?? 0) + 1);
        }
      }
    }
  }

  clear(): void {
    this.dense?.fill(0);
    this.sparse?.clear();
  }

  /** The `k` best neighbours of every item by `score(count, i, j)` among pairs with count ≥ minSupport. */
  top(k: number, minSupport: number, score: (count: number, i: number, j: number) => number): NeighbourLists {
    const n = this.n;
    if (this.sparse) {
      const lists: Array<Array<[number, number, number]>> = Array.from({ length: n }, () => []);
      for (const [key, c] of this.sparse) {
        if (c < minSupport) continue;
        const i = Math.floor(key / n);
        const j = key % n;
        lists[i]!.push([j, score(c, i, j), c]);
        lists[j]!.push([i, score(c, j, i), c]);
      }
      for (const list of lists) {
        list.sort((a, b) => b[1] - a[1] || b[2] - a[2] || a[0] - b[0]);
        if (list.length > k) list.length = k;
      }
      return toCsr(lists);
    }
    // Dense: each item's row of the full matrix is read from the triangle, keeping the k best in a
    // small sorted buffer, so no list of every pair is ever built.
    const dense = this.dense!;
    const offsets = new Int32Array(n + 1);
    const items = new Int32Array(n * k);
    const scores = new Float64Array(n * k);
    const support = new Int32Array(n * k);
    const bj = new Int32Array(k);
    const bs = new Float64Array(k);
    const bc = new Int32Array(k);
    let total = 0;
    for (let i = 0; i < n; i += 1) {
      let size = 0;
      for (let j = 0; j < n; j += 1) {
        if (j === i) continue;
        const c = j < i ? dense[this.index(j, i)]! : dense[this.index(i, j)]!;
        if (c < minSupport) continue;
        const s = score(c, i, j);
        // Ties: more support first, then the lower index (j ascends, so an equal later j loses).
        if (size === k && !(s > bs[k - 1]! || (s === bs[k - 1]! && c > bc[k - 1]!))) continue;
        let at = size < k ? size : k - 1;
        while (at > 0 && (bs[at - 1]! < s || (bs[at - 1]! === s && bc[at - 1]! < c))) {
          bj[at] = bj[at - 1]!;
          bs[at] = bs[at - 1]!;
          bc[at] = bc[at - 1]!;
          at -= 1;
        }
        bj[at] = j;
        bs[at] = s;
        bc[at] = c;
        if (size < k) size += 1;
      }
      items.set(bj.subarray(0, size), total);
      scores.set(bs.subarray(0, size), total);
      support.set(bc.subarray(0, size), total);
      total += size;
      offsets[i + 1] = total;
    }
    return { offsets, items: items.slice(0, total), scores: scores.slice(0, total), support: support.slice(0, total) };
  }
}
