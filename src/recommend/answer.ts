import { MS_PER_DAY } from '../shared/dates.js';
import type { BuildResult, Relation } from './build.js';

/** A neighbour of an item in one relation of a build. */
export interface Neighbour {
  id: number;
  score: number;
  support: number;
}

/** What a build says about one product. */
export interface ItemInfo {
  buyers: number;
  orders: number;
  recent: number;
  trend: number | null;
  repeatBuyers: number;
  repurchaseDays: number | null;
  repeatItem: boolean;
}

/**
 * The part of a stored build an answer reads, by product id: the whole build in memory (bulk runs,
 * evaluation) or just the rows one customer needs, loaded from the database.
 */
export interface ModelView {
  buildId: number;
  asOf: number;
  neighbours(relation: Relation, id: number): readonly Neighbour[];
  item(id: number): ItemInfo | undefined;
  /** Product ids by buyers, most first (the first LIST_LENGTH). */
  popular: readonly number[];
  /** Product ids by trend, strongest first (items with a trend only). */
  trending: readonly number[];
  /** A category's repurchase cycle in days, when its buyers repeat. */
  categoryCycle(category: string): number | null;
}

export type SignalKind = 'purchase' | 'cart' | 'wishlist' | 'view';

/** One thing a customer did with a product: bought it, put it in the cart or wishlist, viewed it. */
export interface Signal {
  id: number;
  at: number;
  kind: SignalKind;
}

/** Catalogue facts the answer filters and explains with; null fields are unknown. */
export interface CatalogueItem {
  id: number;
  sku: string;
  title: string | null;
  category: string | null;
  status: 'active' | 'draft' | 'archived';
  inventory: number | null;
  priceMinor: number | null;
  compareAtMinor: number | null;
  currency: string | null;
  imageUrl: string | null;
  url: string | null;
  /** Prices observed over time, oldest first (for price drops since a cart add or view). */
  prices: ReadonlyArray<{ at: number; priceMinor: number }>;
}

export const METHODS = [
  'personal',
  'bought-together',
  'similar',
  'popular',
  'popular-in-category',
  'trending',
  'buy-again',
  'replenishment',
  'reminders',
] as const;
export type Method = (typeof METHODS)[number];

export type ReasonKind =
  | 'because_you_bought'
  | 'because_you_viewed'
  | 'bought_with'
  | 'similar_to'
  | 'popular'
  | 'popular_in_category'
  | 'trending'
  | 'buy_again'
  | 'replenishment_due'
  | 'left_in_cart'
  | 'on_wishlist'
  | 'viewed';

/** Why an item is recommended; `text` is what the customer is shown. */
export interface Reason {
  kind: ReasonKind;
  text: string;
  /** The product of the customer's history the reason refers to. */
  productId?: number;
  category?: string;
  /** Repurchase reasons: the cycle and the days since the last purchase. */
  cycleDays?: number;
  daysSince?: number;
}

export type Flag = 'price_drop' | 'low_stock';

/** One recommended item, with the catalogue facts a message needs. */
export interface Recommendation {
  productId: number;
  sku: string;
  title: string | null;
  category: string | null;
  url: string | null;
  imageUrl: string | null;
  priceMinor: number | null;
  compareAtMinor: number | null;
  currency: string | null;
  score: number;
  reason: Reason;
  flags: Flag[];
}

/** Settings of an answer; defaults in DEFAULT_ANSWER. */
export interface AnswerOptions {
  n: number;
  /** Weights of the history signals in the personal method. */
  weights: Record<SignalKind, number>;
  /** A signal's weight halves every `halfLifeDays` (Infinity: no decay). */
  halfLifeDays: number;
  /** The customer's most recent distinct items the personal method reads. */
  maxHistory: number;
  /** Personal: weight of a bought repeat-purchase item as its own neighbour (0: off). */
  selfWeight: number;
  /** Replenishment is due when the last purchase + cycle falls before `asOf + dueWithinDays`. */
  dueWithinDays: number;
  /** Reminders look back this many days. */
  reminderDays: number;
  /** At or below this inventory (and above 0) an item is flagged low on stock. */
  lowStock: number;
}

export const DEFAULT_ANSWER: AnswerOptions = {
  n: 10,
  weights: { purchase: 1, cart: 0.5, wishlist: 0.5, view: 0.25 },
  halfLifeDays: 60,
  maxHistory: 100,
  selfWeight: 10,
  dueWithinDays: 7,
  reminderDays: 30,
  lowStock: 5,
};

/** A scored candidate before the catalogue filter. */
export interface Candidate {
  id: number;
  score: number;
  reason: Omit<Reason, 'text'>;
}

/**
 * The candidates of a method for one customer, best first; pure. `history` is every signal of the
 * customer before `asOf`; `seed` is the product a similar / bought-together answer is about (default:
 * the customer's latest purchase). Already-bought items are left out unless the build marks them as
 * repeat-purchase items (or the method is buy-again or replenishment, which are about them).
 */
export function candidates(
  model: ModelView,
  method: Method,
  history: readonly Signal[],
  asOf: number,
  options: AnswerOptions,
  categoryOf: (id: number) => string | null,
  seed?: number,
): Candidate[] {
  const bought = new Map<number, number>();
  for (const s of history) if (s.kind === 'purchase') bought.set(s.id, Math.max(bought.get(s.id) ?? 0, s.at));
  const allowed = (id: number) => !bought.has(id) || model.item(id)?.repeatItem === true;
  let latestPurchase: number | undefined;
  let latestAt = Number.NEGATIVE_INFINITY;
  for (const s of history) {
    if (s.kind === 'purchase' && s.at > latestAt) {
      latestAt = s.at;
      latestPurchase = s.id;
    }
  }
  const seedId = seed ?? latestPurchase;
  switch (method) {
    case 'personal':
      return personal(model, history, asOf, options, allowed);
    case 'bought-together':
    case 'similar': {
      if (seedId === undefined) return [];
      const relations: Array<[Relation, number]> =
        method === 'bought-together'
          ? [['bought_with', 1]]
          : [
              ['similar', 1],
              ['viewed_with', 0.5],
              ['same_category', 0.25],
            ];
      const scores = new Map<number, number>();
      for (const [relation, weight] of relations) {
        const list = model.neighbours(relation, seedId);
        const top = list[0]?.score ?? 1;
        for (const nb of list) scores.set(nb.id, (scores.get(nb.id) ?? 0) + (weight * nb.score) / top);
      }
      const kind = method === 'bought-together' ? 'bought_with' : 'similar_to';
      return ranked(scores, (id) =>
        id !== seedId && (seed !== undefined || allowed(id)) ? { kind, productId: seedId } : undefined,
      );
    }
    case 'popular': {
      const top = model.item(model.popular[0] ?? -1)?.buyers ?? 1;
      return model.popular
        .filter(allowed)
        .map((id) => ({ id, score: (model.item(id)?.buyers ?? 0) / top, reason: { kind: 'popular' } as const }));
    }
    case 'trending':
      return model.trending
        .filter(allowed)
        .map((id) => ({ id, score: model.item(id)?.trend ?? 0, reason: { kind: 'trending' } as const }));
    case 'popular-in-category': {
      const share = new Map<string, number>();
      let total = 0;
      for (const s of history) {
        const c = categoryOf(s.id);
        if (c === null) continue;
        const w = options.weights[s.kind];
        share.set(c, (share.get(c) ?? 0) + w);
        total += w;
      }
      const scores = new Map<number, number>();
      const reasons = new Map<number, string>();
      const seen = new Set<number>();
      for (const s of history) {
        if (seen.has(s.id)) continue;
        seen.add(s.id);
        const c = categoryOf(s.id);
        if (c === null) continue;
        const list = model.neighbours('same_category', s.id);
        const top = Math.max(list[0]?.score ?? 1, model.item(s.id)?.buyers ?? 0, 1);
        for (const candidate of [{ id: s.id, score: model.item(s.id)?.buyers ?? 0 }, ...list]) {
          const score = (share.get(c)! / total) * (candidate.score / top);
          if (score > (scores.get(candidate.id) ?? 0)) {
            scores.set(candidate.id, score);
            reasons.set(candidate.id, c);
          }
        }
      }
      return ranked(scores, (id) =>
        allowed(id) ? { kind: 'popular_in_category', category: reasons.get(id)! } : undefined,
      );
    }
    case 'buy-again':
    case 'replenishment': {
      const out: Candidate[] = [];
      for (const [id, last] of bought) {
        const info = model.item(id);
        const category = categoryOf(id);
        const cycle = info?.repurchaseDays ?? (category === null ? null : model.categoryCycle(category));
        if (!info?.repeatItem || cycle === null) continue;
        const daysSince = (asOf - last) / MS_PER_DAY;
        const due = last + cycle * MS_PER_DAY <= asOf + options.dueWithinDays * MS_PER_DAY;
        if (method === 'replenishment' && !due) continue;
        out.push({
          id,
          score: daysSince / cycle,
          reason: {
            kind: method === 'replenishment' ? 'replenishment_due' : 'buy_again',
            productId: id,
            cycleDays: cycle,
            daysSince: Math.floor(daysSince),
          },
        });
      }
      return out.sort((a, b) => b.score - a.score || a.id - b.id);
    }
    case 'reminders': {
      const since = asOf - options.reminderDays * MS_PER_DAY;
      const out = new Map<number, Candidate>();
      const order: Record<SignalKind, number> = { cart: 3, wishlist: 2, view: 1, purchase: 0 };
      for (const s of history) {
        if (s.kind === 'purchase' || s.at < since) continue;
        if ((bought.get(s.id) ?? -Infinity) >= s.at) continue;
        const score = order[s.kind] + s.at / asOf;
        if ((out.get(s.id)?.score ?? -1) >= score) continue;
        const kind = s.kind === 'cart' ? 'left_in_cart' : s.kind === 'wishlist' ? 'on_wishlist' : 'viewed';
        out.set(s.id, { id: s.id, score, reason: { kind, productId: s.id } });
      }
      return [...out.values()].sort((a, b) => b.score - a.score || a.id - b.id);
    }
  }
}

/**
 * Item-based CF (Sarwar et al. 2001; Deshpande & Karypis 2004): score(j) = Σ_i w_i · sim(i, j) over the
 * customer's recent distinct items i, with w_i the strongest signal weight × 2^(−age/half-life), sim
 * the `similar` (co-purchase) cosine plus half the `viewed_with` cosine. The reason names the item of
 * the history that contributed most.
 */
function personal(
  model: ModelView,
  history: readonly Signal[],
  asOf: number,
  options: AnswerOptions,
  allowed: (id: number) => boolean,
): Candidate[] {
  const weights = new Map<number, { w: number; kind: SignalKind; at: number }>();
  for (const s of history) {
    const decay = Number.isFinite(options.halfLifeDays)
      ? 2 ** (-(asOf - s.at) / (options.halfLifeDays * MS_PER_DAY))
      : 1;
    const w = options.weights[s.kind] * decay;
    const prev = weights.get(s.id);
    if (!prev || w > prev.w) weights.set(s.id, { w, kind: s.kind, at: Math.max(s.at, prev?.at ?? 0) });
    else prev.at = Math.max(prev.at, s.at);
  }
  const recent = [...weights.entries()].sort((a, b) => b[1].at - a[1].at || a[0] - b[0]).slice(0, options.maxHistory);
  const scores = new Map<number, number>();
  const best = new Map<number, { id: number; part: number; kind: SignalKind }>();
  for (const [i, { w, kind }] of recent) {
    for (const [relation, factor] of [
      ['similar', 1],
      ['viewed_with', 0.5],
    ] as const) {
      for (const nb of model.neighbours(relation, i)) {
        const part = w * factor * nb.score;
        scores.set(nb.id, (scores.get(nb.id) ?? 0) + part);
        const b = best.get(nb.id);
        if (!b || part > b.part) best.set(nb.id, { id: i, part, kind });
      }
    }
  }
  // A repeat-purchase item the customer bought is its own neighbour, with the share of its buyers who
  // bought it again as the similarity: P(buys again | bought).
  const again = new Set<number>();
  for (const [i, { w, kind }] of recent) {
    const info = model.item(i);
    if (kind !== 'purchase' || !info?.repeatItem || info.buyers === 0) continue;
    const part = options.selfWeight * w * (info.repeatBuyers / info.buyers);
    scores.set(i, (scores.get(i) ?? 0) + part);
    const b = best.get(i);
    if (!b || part > b.part) {
      best.set(i, { id: i, part, kind });
      again.add(i);
    }
  }
  const lastBought = new Map<number, number>();
  for (const s of history) if (s.kind === 'purchase') lastBought.set(s.id, Math.max(lastBought.get(s.id) ?? 0, s.at));
  return ranked(scores, (id) => {
    if (!allowed(id)) return undefined;
    const b = best.get(id)!;
    if (b.id === id && again.has(id)) {
      return {
        kind: 'buy_again',
        productId: id,
        cycleDays: model.item(id)?.repurchaseDays ?? undefined,
        daysSince: Math.floor((asOf - (lastBought.get(id) ?? asOf)) / MS_PER_DAY),
      };
    }
    return { kind: b.kind === 'purchase' ? 'because_you_bought' : 'because_you_viewed', productId: b.id };
  });
}

function ranked(scores: Map<number, number>, reason: (id: number) => Omit<Reason, 'text'> | undefined): Candidate[] {
  const out: Candidate[] = [];
  for (const [id, score] of scores) {
    const r = reason(id);
    if (r) out.push({ id, score, reason: r });
  }
  return out.sort((a, b) => b.score - a.score || a.id - b.id);
}

/**
 * Whether an item may be shown: active, in stock (or not tracked) and priced in the customer's
 * currency (a product without a known currency passes).
 */
export function eligible(item: CatalogueItem | undefined, currency: string | undefined): boolean {
  if (!item) return false;
  if (item.status !== 'active') return false;
  if (item.inventory !== null && item.inventory <= 0) return false;
  if (currency !== undefined && item.currency !== null && item.currency !== currency) return false;
  return true;
}

/** The candidates that pass the catalogue filter, cut to `n`, with their reasons written out and flags. */
export function finish(
  list: readonly Candidate[],
  catalogue: ReadonlyMap<number, CatalogueItem>,
  currency: string | undefined,
  options: AnswerOptions,
  history: readonly Signal[] = [],
): Recommendation[] {
  const out: Recommendation[] = [];
  for (const c of list) {
    if (out.length >= options.n) break;
    const item = catalogue.get(c.id);
    if (!item || !eligible(item, currency)) continue;
    const since = history
      .filter((s) => s.id === c.id && s.kind !== 'purchase')
      .reduce((m, s) => Math.min(m, s.at), Infinity);
    out.push({
      productId: c.id,
      sku: item.sku,
      title: item.title,
      category: item.category,
      url: item.url,
      imageUrl: item.imageUrl,
      priceMinor: item.priceMinor,
      compareAtMinor: item.compareAtMinor,
      currency: item.currency,
      score: c.score,
      reason: { ...c.reason, text: reasonText(c.reason, item, catalogue) },
      flags: flags(item, options, Number.isFinite(since) ? since : undefined),
    });
  }
  return out;
}

/** Price drop: below the compare-at price, or below the price when the customer first saw it. */
export function flags(item: CatalogueItem, options: AnswerOptions, seenAt?: number): Flag[] {
  const out: Flag[] = [];
  const price = item.priceMinor;
  let then: number | undefined;
  if (seenAt !== undefined) for (const p of item.prices) if (p.at <= seenAt) then = p.priceMinor;
  if (
    price !== null &&
    ((item.compareAtMinor !== null && item.compareAtMinor > price) || (then !== undefined && price < then))
  ) {
    out.push('price_drop');
  }
  if (item.inventory !== null && item.inventory > 0 && item.inventory <= options.lowStock) out.push('low_stock');
  return out;
}

function reasonText(
  reason: Omit<Reason, 'text'>,
  item: CatalogueItem,
  catalogue: ReadonlyMap<number, CatalogueItem>,
): string {
  const other = reason.productId === undefined ? undefined : catalogue.get(reason.productId);
  const name = other?.title ?? other?.sku ?? 'an earlier purchase';
  switch (reason.kind) {
    case 'because_you_bought':
      return `Because you bought ${name}`;
    case 'because_you_viewed':
      return `Because you looked at ${name}`;
    case 'bought_with':
      return `Often bought with ${name}`;
    case 'similar_to':
      return `Similar to ${name}`;
    case 'popular':
      return 'Popular right now';
    case 'popular_in_category':
      return `Popular in ${reason.category ?? item.category ?? 'this category'}`;
    case 'trending':
      return 'Trending';
    case 'buy_again':
      return reason.cycleDays === undefined
        ? `Buy again: last bought ${reason.daysSince} days ago`
        : `Buy again: usually every ${Math.round(reason.cycleDays)} days, last bought ${reason.daysSince} days ago`;
    case 'replenishment_due':
      return `Time to restock: usually every ${Math.round(reason.cycleDays ?? 0)} days, last bought ${reason.daysSince} days ago`;
    case 'left_in_cart':
      return 'Still in your cart';
    case 'on_wishlist':
      return 'On your wishlist';
    case 'viewed':
      return 'You looked at this';
  }
}

/** How many best-sellers and trending items a model view lists (stored views read as many). */
export const LIST_LENGTH = 200;

/** The whole build in memory, by product id (`ids[index]` is the product of item `index`). */
export function modelFromBuild(
  result: BuildResult,
  ids: readonly number[],
  buildId: number,
  asOf: number,
  categoryNames: readonly string[] = [],
): ModelView {
  const index = new Map(ids.map((id, i) => [id, i]));
  const s = result.items;
  const cache = new Map<string, Neighbour[]>();
  const popular = ids
    .map((_, i) => i)
    .filter((i) => s.buyers[i]! > 0)
    .sort((a, b) => s.buyers[b]! - s.buyers[a]! || s.orders[b]! - s.orders[a]! || a - b)
    .slice(0, LIST_LENGTH)
    .map((i) => ids[i]!);
  const trending = ids
    .map((_, i) => i)
    .filter((i) => !Number.isNaN(s.trend[i]!))
    .sort((a, b) => s.trend[b]! - s.trend[a]! || a - b)
    .slice(0, LIST_LENGTH)
    .map((i) => ids[i]!);
  const cycles = new Map(categoryNames.map((name, c) => [name, result.categories[c]?.repurchaseDays ?? null]));
  return {
    buildId,
    asOf,
    popular,
    trending,
    neighbours(relation, id) {
      const i = index.get(id);
      if (i === undefined) return [];
      const key = `${relation}:${i}`;
      let list = cache.get(key);
      if (!list) {
        const l = result.neighbours[relation];
        list = [];
        for (let k = l.offsets[i]!; k < l.offsets[i + 1]!; k += 1) {
          list.push({ id: ids[l.items[k]!]!, score: l.scores[k]!, support: l.support[k]! });
        }
        cache.set(key, list);
      }
      return list;
    },
    item(id) {
      const i = index.get(id);
      if (i === undefined) return undefined;
      return {
        buyers: s.buyers[i]!,
        orders: s.orders[i]!,
        recent: s.recent[i]!,
        trend: Number.isNaN(s.trend[i]!) ? null : s.trend[i]!,
        repeatBuyers: s.repeatBuyers[i]!,
        repurchaseDays: Number.isNaN(s.repurchaseDays[i]!) ? null : s.repurchaseDays[i]!,
        repeatItem: s.repeatItem[i] === 1,
      };
    },
    categoryCycle: (category) => cycles.get(category) ?? null,
  };
}
