import { formatMoney } from '../shared/money.js';
import type { Db } from '../store/index.js';
import {
  type BehaviourFacts,
  behaviourFacts,
  customerIdRanges,
  type PurchaseFacts,
  purchaseFacts,
  purchaseFactsByRange,
} from './customers.queries.js';

/** The behavioural personas, from events and orders. */
export type Persona =
  | 'cart_abandoner'
  | 'repeat_buyer'
  | 'first_time_high_value'
  | 'first_time_low_value'
  | 'passive_browser'
  | 'bouncer';

/** Each persona with its name for people and the retention play that suits it. */
export const PERSONAS: Readonly<Record<Persona, { label: string; play: string }>> = {
  cart_abandoner: {
    label: 'Cart abandoner',
    play: 'Send a reminder of what was left in the cart within a day; add a small incentive only on the second nudge.',
  },
  repeat_buyer: {
    label: 'Repeat buyer',
    play: 'Reward the habit: loyalty points and tiers, early access, and bulk or subscription offers on what they reorder.',
  },
  first_time_high_value: {
    label: 'First-time buyer, high order value',
    play: 'Treat them as a VIP from the start: a personal thank-you, premium service and first pick of new products.',
  },
  first_time_low_value: {
    label: 'First-time buyer, low order value',
    play: 'Grow the basket: suggest complementary products and bundles, with a threshold for free shipping.',
  },
  passive_browser: {
    label: 'Passive browser',
    play: 'Show them the products they looked at again: personal recommendations on site and retargeting ads.',
  },
  bouncer: {
    label: 'Bouncer',
    play: 'Catch them before they leave: an exit-intent offer or a sign-up incentive on the landing page.',
  },
};

/** Persona order as tables print it. */
export const PERSONA_ORDER: readonly Persona[] = [
  'cart_abandoner',
  'repeat_buyer',
  'first_time_high_value',
  'first_time_low_value',
  'passive_browser',
  'bouncer',
];

export interface PersonaOptions {
  asOf: number;
  /** How far back site behaviour counts (default 30 days). */
  lookbackDays?: number;
  /** How long after adding to cart or starting checkout an order must follow (default 24 hours). */
  cartWindowHours?: number;
  /**
   * First-order value (minor units of the first order's currency) from which a first-time buyer is
   * high value. Default: the median first order of the store's customers in that currency.
   */
  firstOrderThresholdMinor?: number;
  /** Inactivity that ends a session when events carry no session id (default 30 minutes). */
  sessionGapMinutes?: number;
}

/** A customer's persona and why. */
export interface PersonaAssignment {
  customerId: number;
  persona: Persona;
  reason: string;
  play: string;
}

/** The facts one customer is classified on, plus the thresholds in force. */
export interface PersonaInput {
  purchases: PurchaseFacts | undefined;
  behaviour: BehaviourFacts | undefined;
  asOf: number;
  cartWindowMs: number;
  /** Threshold of a high first order, by currency. */
  thresholdMinor: (currency: string) => number;
}

const hours = (ms: number) => `${Math.round((ms / 3_600_000) * 10) / 10} h`;

/**
 * The persona of one customer, first match wins: cart abandoner (the latest add-to-cart or checkout
 * start is at least the window old and no order was placed since), repeat buyer (2+ sales), first-time
 * buyer with high or low first order (high when at or above the threshold), passive browser (product
 * views, no cart, no sale), bouncer (page views, no product view, no cart, no sale, and no session with
 * more than one page). Undefined when none fits.
 */
export function classifyPersona(input: PersonaInput): { persona: Persona; reason: string } | undefined {
  const { purchases, behaviour, asOf, cartWindowMs } = input;
  const sales = purchases?.sales ?? 0;
  const cartAt = behaviour?.lastCartAt ?? null;
  if (cartAt !== null && asOf - cartAt >= cartWindowMs) {
    // An `Order Completed` event known only from Segment ends the cart too (it creates no order).
    const lastOrder = Math.max(purchases?.lastOrderAt ?? -1, behaviour?.lastOrderEventAt ?? -1);
    if (lastOrder < 0 || lastOrder < cartAt) {
      return {
        persona: 'cart_abandoner',
        reason: `added to cart or began checkout ${hours(asOf - cartAt)} before, no order since (window ${hours(cartWindowMs)})`,
      };
    }
  }
  if (purchases && sales >= 2) return { persona: 'repeat_buyer', reason: `${sales} orders` };
  if (purchases && sales === 1) {
    const threshold = input.thresholdMinor(purchases.firstSaleCurrency);
    const value = purchases.firstSaleMinor;
    const money = (minor: number) => formatMoney(minor, purchases.firstSaleCurrency);
    return value >= threshold
      ? {
          persona: 'first_time_high_value',
          reason: `one order of ${money(value)}, at or above ${money(threshold)}`,
        }
      : {
          persona: 'first_time_low_value',
          reason: `one order of ${money(value)}, below ${money(threshold)}`,
        };
  }
  if (!behaviour || cartAt !== null) return undefined;
  if (behaviour.productViews > 0) {
    return { persona: 'passive_browser', reason: `${behaviour.productViews} product views, no cart, no order` };
  }
  if (behaviour.pageViews > 0 && behaviour.maxPagesPerSession <= 1) {
    return {
      persona: 'bouncer',
      reason: `${behaviour.sessions} session(s) of a single page view, no product view, no order`,
    };
  }
  return undefined;
}

/** The median of a list (the mean of the two middle values for an even count). */
export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The store's median first order per currency, over every customer's first sale. */
export function medianFirstOrders(purchases: ReadonlyMap<number, PurchaseFacts>): Map<string, number> {
  const byCurrency = new Map<string, number[]>();
  addFirstOrders(byCurrency, purchases.values());
  return mediansOf(byCurrency);
}

/** Adds each buyer's first sale (minor units) to the list of its currency. */
function addFirstOrders(byCurrency: Map<string, number[]>, purchases: Iterable<PurchaseFacts>): void {
  for (const p of purchases) {
    if (p.sales === 0) continue;
    const list = byCurrency.get(p.firstSaleCurrency) ?? [];
    list.push(p.firstSaleMinor);
    byCurrency.set(p.firstSaleCurrency, list);
  }
}

function mediansOf(byCurrency: ReadonlyMap<string, number[]>): Map<string, number> {
  return new Map([...byCurrency].map(([currency, values]) => [currency, median(values)]));
}

/**
 * `medianFirstOrders` of the whole store as of `asOf`, read 50,000 customer ids at a time, so that no
 * map of every customer's purchase facts is held: memory is one number per customer with a sale.
 */
export async function firstOrderMedians(db: Db, asOf: number): Promise<Map<string, number>> {
  const byCurrency = new Map<string, number[]>();
  for await (const facts of purchaseFactsByRange(db, asOf)) addFirstOrders(byCurrency, facts.values());
  return mediansOf(byCurrency);
}

/** Customer ids per range of a whole-store `computePersonas`. */
const PERSONA_RANGE = 50_000;

/**
 * `computePersonas` of the whole store, one range of 50,000 customer ids at a time (in id order),
 * against the store's median first order per currency: for a writer that lets each range go.
 */
export async function* personasByRange(db: Db, options: PersonaOptions): AsyncGenerator<PersonaAssignment[]> {
  const medians = await firstOrderMedians(db, options.asOf);
  for (const idRange of await customerIdRanges(db, PERSONA_RANGE)) {
    yield computePersonas(db, { ...options, medians, idRange });
  }
}

/**
 * Personas of every customer (or of `customerIds`) who has a sale, an order or site behaviour, in id
 * order. The whole store is worked through 50,000 customer ids at a time against the store's medians
 * (`firstOrderMedians`), as a refresh does, so no map of every customer's purchase facts is held.
 */
export async function computePersonas(
  db: Db,
  options: PersonaOptions & {
    customerIds?: readonly number[];
    /**
     * The store's median first order per currency (`firstOrderMedians`), when the caller has it: then
     * only `customerIds`' purchases are read, not the whole store's (a refresh a range at a time).
     */
    medians?: ReadonlyMap<string, number>;
    /** With `medians`: only the customers whose ids are in `[from, to)` (who have a sale, an order or behaviour). */
    idRange?: readonly [number, number];
  },
): Promise<PersonaAssignment[]> {
  const { asOf, lookbackDays = 30, cartWindowHours = 24, sessionGapMinutes = 30, customerIds } = options;
  if (!customerIds && !options.medians) {
    const out: PersonaAssignment[] = [];
    for await (const range of personasByRange(db, options)) for (const p of range) out.push(p);
    return out;
  }
  const idRange = options.medians && !customerIds ? options.idRange : undefined;
  const allPurchases = await purchaseFacts(db, {
    asOf,
    customerIds: options.medians ? customerIds : undefined,
    idRange,
  });
  const medians = options.medians ?? medianFirstOrders(allPurchases);
  const behaviour = await behaviourFacts(db, {
    from: asOf - lookbackDays * 86_400_000,
    asOf,
    sessionGapMs: sessionGapMinutes * 60_000,
    customerIds,
    idRange,
  });
  const ids = customerIds
    ? [...new Set(customerIds)]
    : [...new Set([...allPurchases.keys(), ...behaviour.keys()])].sort((a, b) => a - b);
  const thresholdMinor = (currency: string) =>
    options.firstOrderThresholdMinor ?? medians.get(currency) ?? Number.POSITIVE_INFINITY;
  const out: PersonaAssignment[] = [];
  for (const customerId of ids) {
    const found = classifyPersona({
      purchases: allPurchases.get(customerId),
      behaviour: behaviour.get(customerId),
      asOf,
      cartWindowMs: cartWindowHours * 3_600_000,
      thresholdMinor,
    });
    if (found) out.push({ customerId, ...found, play: PERSONAS[found.persona].play });
  }
  return out;
}
