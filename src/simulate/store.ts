/**
 * A simulated store, one customer at a time: arrivals spread over the period, purchases and dropout
 * from BG/NBD or Pareto/NBD, order values from Gamma-Gamma, products with a long-tailed popularity and
 * co-purchases within a category, browsing sessions, abandoned carts and refunds. Every draw comes from
 * a generator seeded by (seed, customer number), so a run is reproducible, and a customer's history does
 * not depend on how many came before or on how the caller batches them; nothing but the product
 * catalogue (a few typed arrays) is held between customers.
 */
import type { BgNbdParams } from '../models/bgnbd.js';
import type { GammaGammaParams } from '../models/gamma-gamma.js';
import type { ParetoNbdParams } from '../models/pnbd.js';
import { betaVariate, gammaVariate, type Rng, seededRng } from '../models/simulate.js';
import { currencyExponent } from '../shared/money.js';

/**
 * BG/NBD fitted to the CDNOW master's first 12 weeks (2,357 customers, unit week): Fader, Hardie & Lee
 * (2005), "Counting Your Customers the Easy Way", Marketing Science 24(2), p. 281; `src/models/cdnow.test.ts`.
 */
export const CDNOW_BGNBD: BgNbdParams = { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 };
/** Pareto/NBD on the same CDNOW data (unit week), as `src/models/pnbd.test.ts` reproduces it. */
export const CDNOW_PNBD: ParetoNbdParams = { r: 0.5533, alpha: 10.5776, s: 0.6061, beta: 11.665 };
/**
 * Gamma-Gamma on CDNOW's repeat transactions (dollars): Fader, Hardie & Lee (2005), "RFM and CLV:
 * Using Iso-Value Curves for Customer Base Analysis", JMR 42(4); `src/models/cdnow.test.ts`.
 */
export const CDNOW_GG: GammaGammaParams = { p: 6.25, q: 3.74, gamma: 15.44 };

export const WEEK_MS = 7 * 86_400_000;

export type SimulatedModel = 'bgnbd' | 'pnbd';

export interface SimulationOptions {
  customers: number;
  /** Length of the period in calendar months from `start`; customers arrive uniformly over it. */
  months: number;
  seed: number;
  /** ISO 4217; order values are Gamma-Gamma draws in major units of this currency. */
  currency: string;
  /** The first instant of the period (epoch ms); default 2024-01-01T00:00Z. */
  start?: number;
  model?: SimulatedModel;
  bgnbd?: BgNbdParams;
  pnbd?: ParetoNbdParams;
  gg?: GammaGammaParams;
  /** Share of orders refunded in full, and in part (half); defaults 0.03 and 0.02. */
  refundShare?: number;
  partialRefundShare?: number;
  /** Browsing and cart events; default true. */
  events?: boolean;
}

export interface SimulatedLine {
  sku: string;
  title: string;
  category: string;
  quantity: number;
  unitPriceMinor: number;
}

export interface SimulatedOrder {
  externalId: string;
  placedAt: number;
  totalMinor: number;
  refundedMinor: number;
  status: 'paid' | 'refunded' | 'partially_refunded';
  lines: SimulatedLine[];
}

export interface SimulatedEvent {
  messageId: string;
  type: 'page' | 'track';
  /** The track name (`Product Viewed`, `Product Added`, `Checkout Started`) or the page name. */
  name: string;
  at: number;
  sku?: string;
}

export interface SimulatedCustomer {
  /** 1-based, in order of arrival. */
  number: number;
  externalId: string;
  email: string;
  firstName: string;
  lastName: string;
  country: string;
  acceptsMarketing: boolean;
  arrivedAt: number;
  orders: SimulatedOrder[];
  events: SimulatedEvent[];
}

/** The period's end instant (exclusive): `months` calendar months after `start`. */
export function periodEnd(start: number, months: number): number {
  const d = new Date(start);
  return Date.UTC(
    d.getUTCFullYear(),
    d.getUTCMonth() + months,
    d.getUTCDate(),
    d.getUTCHours(),
    d.getUTCMinutes(),
    d.getUTCSeconds(),
  );
}

export const DEFAULT_START = Date.UTC(2024, 0, 1);

const COUNTRIES = ['US', 'US', 'US', 'GB', 'DE', 'FR', 'KR', 'JP', 'CA', 'AU'];
const FIRST = ['Ada', 'Ben', 'Chloe', 'Dan', 'Eun', 'Femi', 'Grace', 'Hiro', 'Ines', 'Jun', 'Kai', 'Lena'];
const LAST = ['Kim', 'Lee', 'Park', 'Smith', 'Jones', 'Garcia', 'Müller', 'Dubois', 'Sato', 'Brown'];
/** Products per category; co-purchases stay within one with probability `SAME_CATEGORY`. */
const CATEGORY_SIZE = 20;
const SAME_CATEGORY = 0.7;
/** Zipf exponent of product popularity (rank k drawn with weight k^-s). */
const ZIPF = 1.1;

/**
 * The catalogue: `size` products, popularity Zipf(1.1) by rank, list prices log-normal around 20 major
 * units. Product ranks are shuffled across categories by a fixed permutation so that each category
 * has a few popular items and a long tail.
 */
export class Catalogue {
  readonly size: number;
  private readonly cumulative: Float64Array;
  /** rank → product id */
  private readonly byRank: Uint32Array;
  readonly price: Float64Array;

  constructor(size: number, seed: number) {
    this.size = size;
    const rng = seededRng(mix(seed, 0x5eed));
    this.cumulative = new Float64Array(size);
    let sum = 0;
    for (let k = 0; k < size; k++) {
      sum += (k + 1) ** -ZIPF;
      this.cumulative[k] = sum;
    }
    for (let k = 0; k < size; k++) this.cumulative[k] = (this.cumulative[k] ?? 0) / sum;
    this.byRank = Uint32Array.from({ length: size }, (_, i) => i);
    for (let i = size - 1; i > 0; i--) {
      const j = Math.floor(rng() * (i + 1));
      const t = this.byRank[i] ?? 0;
      this.byRank[i] = this.byRank[j] ?? 0;
      this.byRank[j] = t;
    }
    this.price = Float64Array.from({ length: size }, () => Math.exp(Math.log(20) + 0.6 * normal(rng)));
  }

  /** A product drawn by popularity. */
  popular(rng: Rng): number {
    const u = rng();
    let lo = 0;
    let hi = this.size - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.cumulative[mid] ?? 1) < u) lo = mid + 1;
      else hi = mid;
    }
    return this.byRank[lo] ?? 0;
  }

  /** A product bought with `product`: from its category with probability 0.7, else by popularity. */
  companion(product: number, rng: Rng): number {
    if (rng() >= SAME_CATEGORY) return this.popular(rng);
    const base = product - (product % CATEGORY_SIZE);
    const span = Math.min(CATEGORY_SIZE, this.size - base);
    return base + Math.floor(rng() * span);
  }

  sku(product: number): string {
    return `SIM-${String(product + 1).padStart(6, '0')}`;
  }

  title(product: number): string {
    return `Product ${product + 1}`;
  }

  category(product: number): string {
    return `Category ${Math.floor(product / CATEGORY_SIZE) + 1}`;
  }
}

/** The catalogue size for a store of `customers`: 10·√N, between 50 and 20,000 products. */
export function catalogueSize(customers: number): number {
  return Math.max(50, Math.min(20_000, Math.round(10 * Math.sqrt(customers))));
}

/**
 * Customers in order of arrival, each with the whole history the period lets them have. Customer i
 * (0-based) arrives at start + span·(i + u)/N with u uniform, and makes the first purchase then
 * (BG/NBD's T counts from the first purchase). Repeat purchases follow a Poisson process of rate
 * λ ~ Gamma(r, α) per week; under BG/NBD the customer drops out after each repeat purchase with
 * probability p ~ Beta(a, b) (Fader, Hardie & Lee 2005, assumptions i–v), under Pareto/NBD at an
 * exponential time of rate μ ~ Gamma(s, β) (Schmittlein, Morrison & Colombo 1987). Order values: per
 * customer ν ~ Gamma(q, γ), each order z ~ Gamma(p, ν) (Fader, Hardie & Lee 2005, JMR 42(4)).
 */
export function* simulateStore(options: SimulationOptions): Generator<SimulatedCustomer> {
  const start = options.start ?? DEFAULT_START;
  const end = periodEnd(start, options.months);
  const span = end - start;
  const n = options.customers;
  const model = options.model ?? 'bgnbd';
  const bg = options.bgnbd ?? CDNOW_BGNBD;
  const pnbd = options.pnbd ?? CDNOW_PNBD;
  const gg = options.gg ?? CDNOW_GG;
  const refundShare = options.refundShare ?? 0.03;
  const partialShare = options.partialRefundShare ?? 0.02;
  const events = options.events ?? true;
  const scale = 10 ** currencyExponent(options.currency);
  const catalogue = new Catalogue(catalogueSize(n), options.seed);
  for (let i = 0; i < n; i++) {
    const rng = seededRng(mix(options.seed, i + 1));
    // Browsing draws from a stream of its own, so a store written with or without events has the same orders.
    const browse = seededRng(mix(options.seed ^ 0x0e7e7e7e, i + 1));
    const number = i + 1;
    const arrivedAt = Math.floor(start + (span * (i + rng())) / n);
    const T = (end - 1 - arrivedAt) / WEEK_MS;
    const rate = gammaVariate(model === 'bgnbd' ? bg.r : pnbd.r, model === 'bgnbd' ? bg.alpha : pnbd.alpha, rng);
    const times = [0];
    if (model === 'bgnbd') {
      const dropout = betaVariate(bg.a, bg.b, rng);
      for (let t = exponential(rate, rng); t <= T; t += exponential(rate, rng)) {
        times.push(t);
        if (rng() < dropout) break;
      }
    } else {
      const lifetime = exponential(gammaVariate(pnbd.s, pnbd.beta, rng), rng);
      const until = Math.min(T, lifetime);
      for (let t = exponential(rate, rng); t <= until; t += exponential(rate, rng)) times.push(t);
    }
    const nu = gammaVariate(gg.q, gg.gamma, rng);
    const externalId = `sim-${number}`;
    const customer: SimulatedCustomer = {
      number,
      externalId,
      email: `customer${number}@sim.example`,
      firstName: pick(FIRST, rng),
      lastName: pick(LAST, rng),
      country: pick(COUNTRIES, rng),
      acceptsMarketing: rng() < 0.6,
      arrivedAt,
      orders: [],
      events: [],
    };
    let eventNo = 0;
    const event = (type: SimulatedEvent['type'], name: string, at: number, sku?: string) => {
      eventNo += 1;
      customer.events.push({ messageId: `${externalId}-e${eventNo}`, type, name, at: Math.min(at, end - 1), sku });
    };
    times.forEach((t, k) => {
      // Whole seconds (an export's resolution): the instant the process draws, within the period.
      const placedAt = Math.min(end - 1000, Math.floor((arrivedAt + t * WEEK_MS) / 1000) * 1000);
      const value = Math.max(1, Math.round(gammaVariate(gg.p, nu, rng) * scale));
      const products = [catalogue.popular(rng)];
      while (products.length < 5 && rng() < 0.4) {
        const next = catalogue.companion(products.at(-1) ?? 0, rng);
        if (!products.includes(next)) products.push(next);
      }
      const lines = splitValue(value, products, catalogue);
      const u = rng();
      const refundedMinor = u < refundShare ? value : u < refundShare + partialShare ? Math.floor(value / 2) : 0;
      customer.orders.push({
        externalId: `${externalId}-${k + 1}`,
        placedAt,
        totalMinor: value,
        refundedMinor,
        status: refundedMinor === 0 ? 'paid' : refundedMinor === value ? 'refunded' : 'partially_refunded',
        lines,
      });
      if (events) {
        // The session that led to the order: a landing page, product views, the cart, the checkout.
        const session = placedAt - Math.floor(browse() * 1_800_000) - 60_000;
        event('page', 'Home', session);
        for (const [j, line] of lines.entries()) {
          event('track', 'Product Viewed', session + 10_000 * (j + 1), line.sku);
          event('track', 'Product Added', session + 10_000 * (j + 1) + 5_000, line.sku);
        }
        event('track', 'Checkout Started', placedAt - 30_000);
      }
    });
    if (events) {
      // Sessions that ended without an order: browsing only, or a cart left behind (about one in three).
      const extra = Math.floor(browse() * 3);
      for (let s = 0; s < extra; s++) {
        const at = Math.floor(arrivedAt + browse() * (end - arrivedAt));
        const product = catalogue.popular(browse);
        event('page', 'Home', at);
        event('track', 'Product Viewed', at + 15_000, catalogue.sku(product));
        if (browse() < 0.5) event('track', 'Product Added', at + 40_000, catalogue.sku(product));
      }
    }
    yield customer;
  }
}

/** Shares an order's value (minor units) among its products in proportion to their list prices. */
function splitValue(value: number, products: number[], catalogue: Catalogue): SimulatedLine[] {
  const n = Math.min(products.length, value);
  const chosen = products.slice(0, Math.max(1, n));
  const weights = chosen.map((p) => catalogue.price[p] ?? 1);
  const total = weights.reduce((s, w) => s + w, 0);
  let left = value;
  return chosen.map((product, j) => {
    const share = j === chosen.length - 1 ? left : Math.max(1, Math.floor((value * (weights[j] ?? 1)) / total));
    const price = Math.min(share, left - (chosen.length - 1 - j));
    left -= price;
    return {
      sku: catalogue.sku(product),
      title: catalogue.title(product),
      category: catalogue.category(product),
      quantity: 1,
      unitPriceMinor: price,
    };
  });
}

function exponential(rate: number, rng: Rng): number {
  let u = rng();
  while (u <= 0) u = rng();
  return -Math.log(u) / rate;
}

function normal(rng: Rng): number {
  let u = rng();
  while (u <= 0) u = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

function pick<T>(items: readonly T[], rng: Rng): T {
  return items[Math.floor(rng() * items.length)] as T;
}

/** A 32-bit mix of the run's seed and a stream number (splitmix-style), so every customer has its own stream. */
export function mix(seed: number, stream: number): number {
  let h = (seed ^ Math.imul(stream, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}
