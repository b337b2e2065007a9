import { sql } from 'kysely';
import type { Db } from '../store/index.js';
import { mainCurrency, salesAggregates } from './customers.queries.js';
import { kMeans, standardise } from './kmeans.js';
import { median } from './personas.js';
import { salesAsOf } from './sales-as-of.queries.js';

/** A data-driven persona: one cluster of customers described for people. */
export interface PersonaCard {
  cluster: number;
  /** A short description from the centre: recency, frequency and spend against the store's average. */
  label: string;
  size: number;
  share: number;
  /** Share of the store's net revenue (in the result's currency). */
  revenueShare: number;
  typicalOrderMinor: number;
  typicalOrders: number;
  typicalRecencyDays: number;
  discountShare: number;
  topCategories: Array<{ category: string; share: number }>;
  topCountries: Array<{ country: string; share: number }>;
  /** Median age of the customers whose birthday (with year) is known, and how many those are. */
  medianAge: number | null;
  agesKnown: number;
  /** The store keeps no gender, so this is always null; kept so cards read the same once it does. */
  gender: null;
}

export interface ClusterResult {
  asOf: number;
  currency: string | null;
  k: number;
  features: string[];
  cards: PersonaCard[];
  /** Cluster of each customer. */
  members: Array<{ customerId: number; cluster: number }>;
}

const TOP_CATEGORIES = 5;
const TOP_COUNTRIES = 3;

/**
 * Clusters customers with a sale in the main currency by k-means++ (seeded, and over the customers in
 * an order of their features, so runs repeat on any database: `canonicalKMeans`) over
 * standardised features: days since last sale, log orders, log net spend, the share of product spend
 * in each of the store's top categories, the share of orders with a discount, and whether the
 * customer is in each of the top countries. Each cluster comes back as a persona card, with a label
 * no other card shares (`uniqueLabels`).
 */
export async function computeClusters(
  db: Db,
  { asOf, k = 5, seed = 1 }: { asOf: number; k?: number; seed?: number },
): Promise<ClusterResult> {
  const currency = await mainCurrency(db, asOf);
  if (!currency) return { asOf, currency: null, k: 0, features: [], cards: [], members: [] };
  const agg = await salesAggregates(db, { asOf, currency });
  const n = agg.customerId.length;
  const index = new Map(agg.customerId.map((id, i) => [id, i]));

  const sales = sql`o.customer_id is not null and o.currency = ${currency} and o.id in (select s.id from ${salesAsOf(asOf)} s)`;
  const categoryRows = (
    await sql<{ customer_id: number; category: string; spend: number }>`
      select o.customer_id, p.category, sum(l.total_minor) as spend
      from orders o join order_lines l on l.order_id = o.id join products p on p.id = l.product_id
      where ${sales} and l.kind = 'product' and p.category is not null
      group by o.customer_id, p.category order by o.customer_id, p.category`.execute(db)
  ).rows;
  const discountRows = (
    await sql<{ customer_id: number; n: number }>`
      select o.customer_id, count(*) as n from orders o
      where ${sales} and (o.discount_minor > 0 or o.discount_codes <> '[]') group by o.customer_id`.execute(db)
  ).rows;
  const people = await db.selectFrom('customers').select(['id', 'country', 'birthday']).orderBy('id').execute();
  const countryOf = new Map<number, string | null>();
  const ageOf = new Map<number, number>();
  for (const p of people) {
    const id = Number(p.id);
    if (!index.has(id)) continue;
    countryOf.set(id, p.country);
    const year = /^(\d{4})-(\d{2})-(\d{2})$/.exec(p.birthday ?? '');
    if (year)
      ageOf.set(
        id,
        Math.floor((asOf - Date.UTC(Number(year[1]), Number(year[2]) - 1, Number(year[3]))) / (365.2425 * 86_400_000)),
      );
  }

  const categoryTotals = new Map<string, number>();
  for (const r of categoryRows) categoryTotals.set(r.category, (categoryTotals.get(r.category) ?? 0) + Number(r.spend));
  const topCategories = [...categoryTotals]
    .sort(byCountThenName)
    .slice(0, TOP_CATEGORIES)
    .map(([c]) => c);
  const countryCounts = new Map<string, number>();
  for (const c of countryOf.values()) if (c) countryCounts.set(c, (countryCounts.get(c) ?? 0) + 1);
  const topCountries = [...countryCounts]
    .sort(byCountThenName)
    .slice(0, TOP_COUNTRIES)
    .map(([c]) => c);

  const features = [
    'recency_days',
    'log_orders',
    'log_spend',
    ...topCategories.map((c) => `category:${c}`),
    'discount_share',
    ...topCountries.map((c) => `country:${c}`),
  ];
  const d = features.length;
  const raw = new Float64Array(n * d);
  const productSpend = new Float64Array(n);
  const categorySpend = new Map<string, Float64Array>(topCategories.map((c) => [c, new Float64Array(n)]));
  const allCategorySpend = new Map<number, Map<string, number>>();
  for (const r of categoryRows) {
    const i = index.get(Number(r.customer_id));
    if (i === undefined) continue;
    productSpend[i]! += Number(r.spend);
    const own = categorySpend.get(r.category);
    if (own) own[i] = Number(r.spend);
    const map = allCategorySpend.get(i) ?? new Map<string, number>();
    map.set(r.category, Number(r.spend));
    allCategorySpend.set(i, map);
  }
  const discounted = new Float64Array(n);
  for (const r of discountRows) {
    const i = index.get(Number(r.customer_id));
    if (i !== undefined) discounted[i] = Number(r.n);
  }
  for (let i = 0; i < n; i++) {
    const row = i * d;
    let j = 0;
    raw[row + j++] = (asOf - agg.lastSaleAt[i]!) / 86_400_000;
    raw[row + j++] = Math.log1p(agg.sales[i]!);
    raw[row + j++] = Math.log1p(Math.max(0, agg.netMinor[i]!));
    for (const c of topCategories)
      raw[row + j++] = productSpend[i]! > 0 ? categorySpend.get(c)![i]! / productSpend[i]! : 0;
    raw[row + j++] = discounted[i]! / agg.sales[i]!;
    const country = countryOf.get(agg.customerId[i]!) ?? null;
    for (const c of topCountries) raw[row + j++] = country === c ? 1 : 0;
  }
  const result = canonicalKMeans(raw, d, agg.customerId, { k, seed });

  const totalRevenue = agg.netMinor.reduce((s, v) => s + v, 0);
  const cards: PersonaCard[] = [];
  for (let c = 0; c < result.k; c++) {
    const members: number[] = [];
    for (let i = 0; i < n; i++) if (result.labels[i] === c) members.push(i);
    if (members.length === 0) continue;
    const revenue = members.reduce((s, i) => s + agg.netMinor[i]!, 0);
    const cats = new Map<string, number>();
    let catTotal = 0;
    for (const i of members) {
      for (const [cat, spend] of allCategorySpend.get(i) ?? []) {
        cats.set(cat, (cats.get(cat) ?? 0) + spend);
        catTotal += spend;
      }
    }
    const countries = new Map<string, number>();
    for (const i of members) {
      const country = countryOf.get(agg.customerId[i]!) ?? 'unknown';
      countries.set(country, (countries.get(country) ?? 0) + 1);
    }
    const ages = members.map((i) => ageOf.get(agg.customerId[i]!)).filter((a): a is number => a !== undefined);
    const centre = (j: number) => result.centroids[c * d + j]!;
    cards.push({
      cluster: c,
      label: describeCentre(centre(0), centre(1), centre(2)),
      size: members.length,
      share: members.length / n,
      revenueShare: totalRevenue > 0 ? revenue / totalRevenue : 0,
      typicalOrderMinor: Math.round(median(members.map((i) => agg.netMinor[i]! / agg.sales[i]!))),
      typicalOrders: median(members.map((i) => agg.sales[i]!)),
      typicalRecencyDays: Math.round(median(members.map((i) => raw[i * d]!))),
      discountShare: members.filter((i) => discounted[i]! > 0).length / members.length,
      topCategories: [...cats]
        .sort(byCountThenName)
        .slice(0, 3)
        .map(([category, spend]) => ({ category, share: catTotal > 0 ? spend / catTotal : 0 })),
      topCountries: [...countries]
        .sort(byCountThenName)
        .slice(0, 3)
        .map(([country, count]) => ({ country, share: count / members.length })),
      medianAge: ages.length > 0 ? median(ages) : null,
      agesKnown: ages.length,
      gender: null,
    });
  }
  cards.sort((a, b) => b.revenueShare - a.revenueShare || a.cluster - b.cluster);
  uniqueLabels(cards, (card) => result.centroids.subarray(card.cluster * d, card.cluster * d + d), features);
  return {
    asOf,
    currency,
    k: result.k,
    features,
    cards,
    members: agg.customerId.map((customerId, i) => ({ customerId, cluster: result.labels[i]! })),
  };
}

/**
 * k-means over `raw` (n rows of d features) standardised, with the rows taken in an order that depends
 * on their values only: lexicographically by feature, then by customer id. The store's own customer
 * ids are not a stable order (SQLite and PostgreSQL number the customers of one import differently),
 * and k-means++ draws its seeds by position, so the same customers read in another order gave other
 * clusters. Labels come back in the order of `raw`.
 */
export function canonicalKMeans(
  raw: Float64Array,
  d: number,
  customerIds: readonly number[],
  options: { k: number; seed: number },
): ReturnType<typeof kMeans> {
  const n = customerIds.length;
  const order = Array.from({ length: n }, (_, i) => i);
  order.sort((a, b) => {
    for (let j = 0; j < d; j++) {
      const diff = raw[a * d + j]! - raw[b * d + j]!;
      if (diff !== 0) return diff;
    }
    return customerIds[a]! - customerIds[b]!;
  });
  const sorted = new Float64Array(n * d);
  order.forEach((i, r) => {
    sorted.set(raw.subarray(i * d, i * d + d), r * d);
  });
  const result = kMeans(standardise(sorted, d), d, options);
  const labels = new Int32Array(n);
  order.forEach((i, r) => {
    labels[i] = result.labels[r]!;
  });
  return { ...result, labels };
}

/** Larger count first; equal counts by name, so ties do not depend on the order rows arrived in. */
function byCountThenName(a: [string, number], b: [string, number]): number {
  return b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
}

function describeCentre(recency: number, orders: number, spend: number): string {
  const level = (z: number, high: string, low: string, mid: string) => (z > 0.5 ? high : z < -0.5 ? low : mid);
  return [
    level(-recency, 'recent', 'long gone', 'a while ago'),
    level(orders, 'frequent', 'rare', 'occasional'),
    level(spend, 'high spend', 'low spend', 'mid spend'),
  ].join(', ');
}

/**
 * Makes the labels of `cards` unique in place: clusters whose recency/frequency/spend words coincide
 * get the feature on which their centre stands out most among the rest (a category, discounts, a
 * country, in standard deviations), and, should that coincide too, their cluster number.
 */
export function uniqueLabels(
  cards: Array<{ cluster: number; label: string }>,
  centre: (card: { cluster: number }) => ArrayLike<number>,
  features: readonly string[],
): void {
  const clash = (card: { label: string }) => cards.filter((c) => c.label === card.label).length > 1;
  const clashing = cards.filter(clash);
  for (const card of clashing) {
    const z = centre(card);
    let best = -1;
    for (let j = 3; j < features.length; j++) if (best < 0 || Math.abs(z[j]!) > Math.abs(z[best]!)) best = j;
    if (best >= 0 && Math.abs(z[best]!) > 0.5) card.label += `, ${describeFeature(features[best]!, z[best]! > 0)}`;
  }
  for (const card of cards.filter(clash)) card.label += ` (cluster ${card.cluster})`;
}

function describeFeature(feature: string, above: boolean): string {
  if (feature === 'discount_share') return above ? 'uses discounts' : 'few discounts';
  const [kind, value] = [feature.slice(0, feature.indexOf(':')), feature.slice(feature.indexOf(':') + 1)];
  if (kind === 'category') return above ? `buys ${value}` : `little ${value}`;
  if (kind === 'country') return above ? `in ${value}` : `outside ${value}`;
  return above ? `high ${feature}` : `low ${feature}`;
}
