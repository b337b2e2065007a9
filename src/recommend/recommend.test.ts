import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MS_PER_DAY } from '../shared/dates.js';
import {
  type CatalogueItem,
  candidates,
  DEFAULT_ANSWER,
  eligible,
  finish,
  modelFromBuild,
  type Reason,
  type Signal,
} from './answer.js';
import { type BuildParams, buildRecommender, type Interactions } from './build.js';
import { evaluate } from './evaluate.js';
import { withFallback } from './fallback.js';
import { replenishmentState } from './recommend.queries.js';

/*
 * Five items A B C D E (product ids 101 … 105); A, B are "Tea", C, D "Cups", E has no category.
 *   o0 c0 day 0  {A,B}      o4 c3 day 3  {B,D}
 *   o1 c1 day 1  {A,B,C}    o5 guest day 4 {A,B}
 *   o2 c2 day 2  {A,C}      o6 c2 day 15 {C}
 *   o3 c0 day 10 {A}        o7 guest day 16 {C}
 * Views: {B,D}, {B,D}, {A,D}. Build as of day 20.
 * By hand: orders A5 B4 C4 D1, N = 8; order pairs AB 3, AC 2, BC 1, BD 1 → lift AB = 3·8/(5·4) = 1.2,
 * AC = 2·8/(5·4) = 0.8 (BC, BD below support 2). Customer sets c0 {A,B} c1 {A,B,C} c2 {A,C} c3 {B,D}:
 * buyers A3 B3 C2 D1, pairs AB 2, AC 2 → cosine AB = 2/√9, AC = 2/√6. Views B2 D3 A1, pair BD 2 →
 * cosine 2/√6. Repeats: c0 bought A on days 0 and 10 (gap 10), c2 bought C on 2 and 15 (gap 13).
 */
const A = 101;
const B = 102;
const C = 103;
const D = 104;
const E = 105;
const IDS = [A, B, C, D, E];
const day = (d: number) => d * MS_PER_DAY;

function data(): Interactions {
  const orders: Array<[number, number, number[]]> = [
    [0, 0, [0, 1]],
    [1, 1, [0, 1, 2]],
    [2, 2, [0, 2]],
    [0, 10, [0]],
    [3, 3, [1, 3]],
    [-1, 4, [0, 1]],
    [2, 15, [2]],
    [-1, 16, [2]],
  ];
  const offsets = [0];
  const items: number[] = [];
  for (const [, , list] of orders) {
    items.push(...list);
    offsets.push(items.length);
  }
  const views = [
    [1, 3],
    [1, 3],
    [0, 3],
  ];
  const viewOffsets = [0];
  const viewItems: number[] = [];
  for (const v of views) {
    viewItems.push(...v);
    viewOffsets.push(viewItems.length);
  }
  return {
    itemCount: 5,
    itemCategory: Int32Array.from([0, 0, 1, 1, -1]),
    categoryCount: 2,
    orderOffsets: Int32Array.from(offsets),
    orderItems: Int32Array.from(items),
    orderCustomer: Int32Array.from(orders.map((o) => o[0])),
    orderTime: Float64Array.from(orders.map((o) => day(o[1]))),
    viewOffsets: Int32Array.from(viewOffsets),
    viewItems: Int32Array.from(viewItems),
  };
}

const PARAMS: BuildParams = {
  asOf: day(20),
  topK: 10,
  minSupport: 2,
  maxBasket: 100,
  maxHistory: 200,
  recentDays: 10,
  baselineDays: 20,
  repeatMinBuyers: 1,
  repeatMinShare: 0.4,
};
const ANSWER = { ...DEFAULT_ANSWER, halfLifeDays: Number.POSITIVE_INFINITY };
const CATEGORY: Record<number, string | null> = { [A]: 'Tea', [B]: 'Tea', [C]: 'Cups', [D]: 'Cups', [E]: null };
const categoryOf = (id: number) => CATEGORY[id] ?? null;

function model() {
  return modelFromBuild(buildRecommender(data(), PARAMS), IDS, 7, day(20), ['Tea', 'Cups']);
}

const close = (actual: number, expected: number) =>
  assert.ok(Math.abs(actual - expected) < 1e-12, `${actual} ≠ ${expected}`);

describe('the build on hand-made baskets', () => {
  test('frequently bought together is lift over orders with a minimum support', () => {
    const m = model();
    assert.deepEqual(
      m.neighbours('bought_with', A).map((n) => [n.id, n.support]),
      [
        [B, 3],
        [C, 2],
      ],
    );
    close(m.neighbours('bought_with', A)[0]!.score, 1.2);
    close(m.neighbours('bought_with', A)[1]!.score, 0.8);
    // B–C and B–D were bought together once only: below the support of 2.
    assert.deepEqual(
      m.neighbours('bought_with', B).map((n) => n.id),
      [A],
    );
    assert.deepEqual(m.neighbours('bought_with', D), []);
  });

  test('co-purchase and co-view neighbours are cosines; same-category neighbours rank by buyers', () => {
    const m = model();
    const sim = m.neighbours('similar', A);
    assert.deepEqual(
      sim.map((n) => n.id),
      [C, B],
    );
    close(sim[0]!.score, 2 / Math.sqrt(6));
    close(sim[1]!.score, 2 / 3);
    const viewed = m.neighbours('viewed_with', D);
    assert.deepEqual(
      viewed.map((n) => n.id),
      [B],
    );
    close(viewed[0]!.score, 2 / Math.sqrt(6));
    assert.deepEqual(
      m.neighbours('same_category', C).map((n) => [n.id, n.score]),
      [[D, 1]],
    );
    assert.deepEqual(
      m.neighbours('same_category', A).map((n) => [n.id, n.score]),
      [[B, 3]],
    );
    assert.deepEqual(m.neighbours('same_category', E), []);
  });

  test('item statistics: buyers, trend against the own baseline, repurchase cycles and repeat items', () => {
    const m = model();
    assert.deepEqual(m.item(A), {
      buyers: 3,
      orders: 5,
      recent: 1,
      // 1 recent order is below the support of 2: no trend.
      trend: null,
      repeatBuyers: 1,
      repurchaseDays: 10,
      // 1 of 3 buyers repeated: below the share of 0.4.
      repeatItem: false,
    });
    // C: 2 orders in days 10–20, 2 in the 20 days before → expected 2·10/20 = 1 → (2+1)/(1+1) = 1.5.
    assert.deepEqual(m.item(C), {
      buyers: 2,
      orders: 4,
      recent: 2,
      trend: 1.5,
      repeatBuyers: 1,
      repurchaseDays: 13,
      repeatItem: true,
    });
    assert.equal(m.item(B)?.repurchaseDays, null, 'B was never bought again');
    assert.deepEqual(m.popular, [A, B, C, D]);
    assert.deepEqual(m.trending, [C]);
    assert.equal(m.categoryCycle('Tea'), 10);
    assert.equal(m.categoryCycle('Cups'), 13);
  });

  test('orders at or after asOf are not seen', () => {
    const m = modelFromBuild(buildRecommender(data(), { ...PARAMS, asOf: day(15) }), IDS, 1, day(15));
    assert.equal(m.item(C)?.orders, 2);
    assert.equal(m.item(C)?.repeatBuyers, 0);
  });
});

describe('answers for one customer', () => {
  // A customer who bought A on day 19 and viewed D on day 19.
  const history: Signal[] = [
    { id: A, at: day(19), kind: 'purchase' },
    { id: D, at: day(19), kind: 'view' },
  ];

  test('personal: Σ weight × similarity, bought items left out, the reason names the strongest source', () => {
    const list = candidates(model(), 'personal', history, day(20), ANSWER, categoryOf);
    // C = 1 · 2/√6; B = 1 · 2/3 + 0.25 · 0.5 · 2/√6 (D viewed with B); A was bought and is no repeat item.
    assert.deepEqual(
      list.map((c) => [c.id, c.reason.kind, c.reason.productId]),
      [
        [C, 'because_you_bought', A],
        [B, 'because_you_bought', A],
      ],
    );
    close(list[0]!.score, 2 / Math.sqrt(6));
    close(list[1]!.score, 2 / 3 + 0.125 * (2 / Math.sqrt(6)));
  });

  test('personal keeps a bought item that the store buys again and again', () => {
    const bought: Signal[] = [
      { id: A, at: day(19), kind: 'purchase' },
      { id: C, at: day(18), kind: 'purchase' },
    ];
    const list = candidates(model(), 'personal', bought, day(20), ANSWER, categoryOf);
    // From A: C 2/√6, B 2/3; from C: A 2/√6 (A bought, not a repeat item: dropped). C is a repeat item.
    assert.deepEqual(
      list.map((c) => c.id),
      [C, B],
    );
  });

  test('bought together, similar, popular, popular in a category, trending', () => {
    const m = model();
    const ids = (method: Parameters<typeof candidates>[1], seed?: number) =>
      candidates(m, method, history, day(20), ANSWER, categoryOf, seed).map((c) => c.id);
    assert.deepEqual(ids('bought-together', A), [B, C]);
    // Similar to C: A (co-purchase 1) + D (same category, 0.25 · 1/1).
    assert.deepEqual(ids('similar', C), [A, D]);
    // Popular, without the bought A.
    assert.deepEqual(ids('popular'), [B, C, D]);
    // Tea (the purchase, weight 1) outweighs Cups (the view, 0.25): B (Tea, 3/3 · 1/1.25), then
    // C (Cups, 2/2 · 0.25/1.25) and D (1/2 · 0.2).
    const cat = candidates(m, 'popular-in-category', history, day(20), ANSWER, categoryOf);
    assert.deepEqual(
      cat.map((c) => [c.id, c.reason.category]),
      [
        [B, 'Tea'],
        [C, 'Cups'],
        [D, 'Cups'],
      ],
    );
    close(cat[0]!.score, 0.8);
    close(cat[1]!.score, 0.2);
    close(cat[2]!.score, 0.1);
    assert.deepEqual(ids('trending'), [C]);
  });

  test('buy again and replenishment due: the cycle against the days since the last purchase', () => {
    const m = model();
    const bought: Signal[] = [
      { id: A, at: day(2), kind: 'purchase' },
      { id: C, at: day(15), kind: 'purchase' },
    ];
    const again = candidates(m, 'buy-again', bought, day(20), ANSWER, categoryOf);
    assert.deepEqual(
      again.map((c) => [c.id, c.reason.cycleDays, c.reason.daysSince]),
      [[C, 13, 5]],
    );
    close(again[0]!.score, 5 / 13);
    // Due when day 15 + 13 ≤ day 20 + dueWithinDays: not with 7 (28 > 27), yes with 8 (28 ≤ 28).
    assert.deepEqual(candidates(m, 'replenishment', bought, day(20), { ...ANSWER, dueWithinDays: 7 }, categoryOf), []);
    assert.deepEqual(
      candidates(m, 'replenishment', bought, day(20), { ...ANSWER, dueWithinDays: 8 }, categoryOf).map((c) => c.id),
      [C],
    );
  });

  test('reminders: cart before wishlist before views, recent and not bought since', () => {
    const signals: Signal[] = [
      { id: D, at: day(19), kind: 'view' },
      { id: B, at: day(18), kind: 'cart' },
      { id: A, at: day(5), kind: 'cart' },
      { id: C, at: day(12), kind: 'wishlist' },
      { id: E, at: day(15), kind: 'view' },
      { id: E, at: day(16), kind: 'purchase' },
    ];
    const list = candidates(model(), 'reminders', signals, day(20), { ...ANSWER, reminderDays: 10 }, categoryOf);
    assert.deepEqual(
      list.map((c) => [c.id, c.reason.kind]),
      [
        [B, 'left_in_cart'],
        [C, 'on_wishlist'],
        [D, 'viewed'],
      ],
    );
  });
});

function item(id: number, fields: Partial<CatalogueItem> = {}): CatalogueItem {
  return {
    id,
    sku: `SKU-${id}`,
    title: `Item ${id}`,
    category: null,
    status: 'active',
    inventory: null,
    priceMinor: 1000,
    compareAtMinor: null,
    currency: 'EUR',
    imageUrl: null,
    url: null,
    prices: [],
    ...fields,
  };
}

describe('exclusions and flags', () => {
  test('never archived, draft, out-of-stock or other-currency items', () => {
    assert.equal(eligible(item(1), 'EUR'), true);
    assert.equal(eligible(item(1, { status: 'archived' }), 'EUR'), false);
    assert.equal(eligible(item(1, { status: 'draft' }), 'EUR'), false);
    assert.equal(eligible(item(1, { inventory: 0 }), 'EUR'), false);
    assert.equal(eligible(item(1, { inventory: 1 }), 'EUR'), true);
    assert.equal(eligible(item(1, { currency: 'USD' }), 'EUR'), false);
    assert.equal(eligible(item(1, { currency: null }), 'EUR'), true);
    assert.equal(eligible(undefined, 'EUR'), false);
    const catalogue = new Map([
      [A, item(A, { status: 'archived' })],
      [B, item(B, { inventory: 0 })],
      [C, item(C, { currency: 'USD' })],
      [D, item(D, { status: 'draft' })],
      [E, item(E, { title: 'Kettle' })],
    ]);
    const list = [A, B, C, D, E].map((id) => ({ id, score: 1, reason: { kind: 'popular' as const } }));
    const out = finish(list, catalogue, 'EUR', { ...ANSWER, n: 10 });
    assert.deepEqual(
      out.map((r) => [r.productId, r.reason.text]),
      [[E, 'Popular right now']],
    );
    // The same list for a customer who pays in USD keeps C only.
    assert.deepEqual(
      finish(list, catalogue, 'USD', { ...ANSWER, n: 10 }).map((r) => r.productId),
      [C],
    );
  });

  test('price drop against compare-at or the price when first seen; low stock at or below 5', () => {
    const seen = day(10);
    const flagsOf = (fields: Partial<CatalogueItem>) =>
      finish(
        [{ id: 1, score: 1, reason: { kind: 'viewed', productId: 1 } }],
        new Map([[1, item(1, fields)]]),
        'EUR',
        ANSWER,
        [{ id: 1, at: seen, kind: 'view' }],
      )[0]!.flags;
    assert.deepEqual(flagsOf({}), []);
    assert.deepEqual(flagsOf({ compareAtMinor: 1200 }), ['price_drop']);
    assert.deepEqual(flagsOf({ compareAtMinor: 1000 }), []);
    assert.deepEqual(
      flagsOf({
        prices: [
          { at: day(1), priceMinor: 1200 },
          { at: day(11), priceMinor: 1000 },
        ],
      }),
      ['price_drop'],
    );
    // The price when seen was already 1000 (the change on day 11 was after the view): no drop.
    assert.deepEqual(
      flagsOf({
        prices: [
          { at: day(1), priceMinor: 800 },
          { at: day(9), priceMinor: 1000 },
        ],
      }),
      [],
    );
    assert.deepEqual(flagsOf({ inventory: 5 }), ['low_stock']);
    assert.deepEqual(flagsOf({ inventory: 6 }), []);
  });
});

describe('evaluation by hand', () => {
  test('hit rate, precision, recall, NDCG at k, coverage and best-seller share on a cut at day 5', () => {
    // Items 0–3 (ids 1–4). Before the cut: c0 {0,1} c1 {0,1} c2 {2,3} c3 {1} c4 {3} c5 {3} c6 {2,3};
    // after it: c3 buys {0} on day 6 — the only customer on both sides.
    const orders: Array<[number, number, number[]]> = [
      [0, 0, [0, 1]],
      [1, 0, [0, 1]],
      [2, 1, [2, 3]],
      [3, 3, [1]],
      [4, 1, [3]],
      [5, 1, [3]],
      [6, 2, [2, 3]],
      [3, 6, [0]],
    ];
    const offsets = [0];
    const items: number[] = [];
    for (const [, , list] of orders) {
      items.push(...list);
      offsets.push(items.length);
    }
    const small: Interactions = {
      itemCount: 4,
      itemCategory: Int32Array.from([-1, -1, -1, -1]),
      categoryCount: 0,
      orderOffsets: Int32Array.from(offsets),
      orderItems: Int32Array.from(items),
      orderCustomer: Int32Array.from(orders.map((o) => o[0])),
      orderTime: Float64Array.from(orders.map((o) => day(o[1]))),
      viewOffsets: Int32Array.from([0]),
      viewItems: new Int32Array(0),
    };
    const ids = [1, 2, 3, 4];
    const catalogue = new Map(ids.map((id) => [id, item(id)]));
    const e = evaluate(small, ids, [], catalogue, {
      cut: day(5),
      k: 2,
      methods: ['popular', 'personal'],
      build: { ...PARAMS },
      answer: ANSWER,
    });
    assert.equal(e.customers, 1);
    assert.equal(e.heldOutItems, 1);
    const [popular, personal] = e.methods;
    // Buyers: 3 → 4, 1 → 3, 0 → 2, 2 → 2 (tie: orders 2 each, then index). c3 bought 1 (no repeat
    // item): popular shows [3, 0]; the held-out 0 is at rank 2 → NDCG = (1/log2 3) / 1.
    assert.deepEqual(popular, {
      method: 'popular',
      answered: 1,
      hitRate: 1,
      precision: 0.5,
      recall: 1,
      ndcg: 1 / Math.log2(3),
      coverage: 0.5,
      bestSellerShare: 1,
    });
    // Personal: 1's co-purchase neighbour 0 (c0, c1: cosine 2/√6), then the best-seller 3 → hit at rank 1.
    assert.deepEqual(personal, {
      method: 'personal',
      answered: 1,
      hitRate: 1,
      precision: 0.5,
      recall: 1,
      ndcg: 1,
      coverage: 0.5,
      bestSellerShare: 1,
    });
    assert.deepEqual(e.warnings, [
      'only 1 customers have an order on both sides of the cut: the figures are not reliable',
      'no product has a category: popular-in-category cannot answer',
    ]);
  });
});

/** Interactions from (customer or -1, day, items) orders and no views: small builds written out by hand. */
function orders(itemCount: number, list: Array<[number, number, number[]]>, category = -1): Interactions {
  const offsets = [0];
  const items: number[] = [];
  for (const [, , basket] of list) {
    items.push(...basket);
    offsets.push(items.length);
  }
  return {
    itemCount,
    itemCategory: new Int32Array(itemCount).fill(category),
    categoryCount: category < 0 ? 0 : category + 1,
    orderOffsets: Int32Array.from(offsets),
    orderItems: Int32Array.from(items),
    orderCustomer: Int32Array.from(list.map((o) => o[0])),
    orderTime: Float64Array.from(list.map((o) => day(o[1]))),
    viewOffsets: Int32Array.from([0]),
    viewItems: new Int32Array(0),
  };
}

describe('exact values of the build: ranks, ties and cut-offs', () => {
  test('best-sellers rank by buyers, then orders, then index; a category keeps its topK by buyers, then index', () => {
    // Items 0–4 (ids 10–14), all in category 0. c0 {3}; c1 {3,1}; c2 {3,1,2}; c3 {2}; a guest {2};
    // c4 {0}; c5 {4}. Buyers: 3 → 3; 1 → 2 (2 orders); 2 → 2 (3 orders, the guest's too); 0 → 1; 4 → 1
    // (1 order each: the lower index first). Popular: 3, 2, 1, 0, 4.
    const data = orders(
      5,
      [
        [0, 1, [3]],
        [1, 1, [1, 3]],
        [2, 1, [1, 2, 3]],
        [3, 1, [2]],
        [-1, 1, [2]],
        [4, 1, [0]],
        [5, 1, [4]],
      ],
      0,
    );
    const m = modelFromBuild(buildRecommender(data, { ...PARAMS, topK: 2 }), [10, 11, 12, 13, 14], 1, day(20), ['Tea']);
    assert.deepEqual(m.popular, [13, 12, 11, 10, 14]);
    // Scores are buyers over the top seller's 3.
    assert.deepEqual(
      candidates(m, 'popular', [], day(20), ANSWER, () => null).map((c) => [c.id, c.score]),
      [
        [13, 1],
        [12, 2 / 3],
        [11, 2 / 3],
        [10, 1 / 3],
        [14, 1 / 3],
      ],
    );
    // Same category ranks by buyers only (1 and 2 tie at 2: the lower index), cut at topK = 2 of the four.
    assert.deepEqual(
      m.neighbours('same_category', 10).map((n) => [n.id, n.score]),
      [
        [13, 3],
        [11, 2],
      ],
    );
    assert.deepEqual(
      m.neighbours('same_category', 13).map((n) => [n.id, n.score]),
      [
        [11, 2],
        [12, 2],
      ],
    );
  });

  test('neighbour ties: more support first, then the lower index; topK keeps the best, not the last seen', () => {
    // Guest orders (no customers): {0,1} {0,2} {0,3} {0,3} {3}; N = 5, orders 0 → 4, 1 → 1, 2 → 1, 3 → 3.
    // Lift with 0: 1 → 1·5/(4·1) = 1.25 (support 1), 2 → 1.25 (support 1), 3 → 2·5/(4·3) = 5/6 (support 2).
    const data = orders(4, [
      [-1, 1, [0, 1]],
      [-1, 1, [0, 2]],
      [-1, 1, [0, 3]],
      [-1, 1, [0, 3]],
      [-1, 1, [3]],
    ]);
    const ids = [0, 1, 2, 3];
    const of = (topK: number, id: number) =>
      modelFromBuild(buildRecommender(data, { ...PARAMS, minSupport: 1, topK }), ids, 1, day(20))
        .neighbours('bought_with', id)
        .map((n) => [n.id, n.score, n.support]);
    // 1 and 2 tie on lift and support: the lower index first; 3's higher support does not beat a higher lift.
    assert.deepEqual(of(3, 0), [
      [1, 1.25, 1],
      [2, 1.25, 1],
      [3, 5 / 6, 2],
    ]);
    // topK 1: the first best (1) stays; neither the tie (2) nor the weaker 3 replace it.
    assert.deepEqual(of(1, 0), [[1, 1.25, 1]]);
    // From 3: 0 (lift 5/6, support 2) is its only neighbour.
    assert.deepEqual(of(1, 3), [[0, 5 / 6, 2]]);
  });

  test('customer similarity reads each customer’s maxHistory most recent items', () => {
    // c0 and c1 each buy 0 on day 1, 1 on day 5 and 2 on day 9. With maxHistory 2 each keeps {1, 2}:
    // the pair 1–2 has support 2 and cosine 2/√(2·2) = 1; 0 pairs with nothing.
    const data = orders(3, [
      [0, 1, [0]],
      [0, 5, [1]],
      [0, 9, [2]],
      [1, 1, [0]],
      [1, 5, [1]],
      [1, 9, [2]],
    ]);
    const m = modelFromBuild(buildRecommender(data, { ...PARAMS, maxHistory: 2 }), [0, 1, 2], 1, day(20));
    assert.deepEqual(
      m.neighbours('similar', 2).map((n) => [n.id, n.score, n.support]),
      [[1, 1, 2]],
    );
    assert.deepEqual(m.neighbours('similar', 0), []);
  });
});

describe('exact values of an answer', () => {
  test('bought together reads lift only; similar adds co-purchase, half co-view and a quarter same-category', () => {
    const m = model();
    // A customer who bought A (no repeat item): a seed given by the caller is answered all the same.
    const history: Signal[] = [{ id: A, at: day(19), kind: 'purchase' }];
    const scored = (method: 'bought-together' | 'similar', seed: number) =>
      candidates(m, method, history, day(20), ANSWER, categoryOf, seed).map((c) => [c.id, c.score, c.reason]);
    // Lift from A: B 1.2, C 0.8, each over the top 1.2.
    assert.deepEqual(scored('bought-together', A), [
      [B, 1, { kind: 'bought_with', productId: A }],
      [C, 0.8 / 1.2, { kind: 'bought_with', productId: A }],
    ]);
    // From C only A was bought with it twice (B–C once); D is only a same-category neighbour.
    assert.deepEqual(scored('bought-together', C), [[A, 1, { kind: 'bought_with', productId: C }]]);
    // Similar to A: C = (2/√6)/(2/√6) = 1; B = (2/3)/(2/√6) = √6/3 from co-purchase plus 0.25 · 3/3 as the
    // first same-category neighbour (A's co-views are below the support of 2).
    const similar = scored('similar', A);
    assert.deepEqual(
      similar.map(([id, , reason]) => [id, reason]),
      [
        [B, { kind: 'similar_to', productId: A }],
        [C, { kind: 'similar_to', productId: A }],
      ],
    );
    close(similar[0]![1] as number, Math.sqrt(6) / 3 + 0.25);
    close(similar[1]![1] as number, 1);
  });

  test('personal: an item bought and viewed weighs as bought; a signal halves every half-life', () => {
    // A bought on day 19 and viewed the same day: its weight is the purchase's 1, not the view's 0.25.
    const both: Signal[] = [
      { id: A, at: day(19), kind: 'purchase' },
      { id: A, at: day(19), kind: 'view' },
    ];
    const list = candidates(model(), 'personal', both, day(20), ANSWER, categoryOf);
    assert.deepEqual(
      list.map((c) => [c.id, c.reason]),
      [
        [C, { kind: 'because_you_bought', productId: A }],
        [B, { kind: 'because_you_bought', productId: A }],
      ],
    );
    close(list[0]!.score, 2 / Math.sqrt(6));
    close(list[1]!.score, 2 / 3);
    // Half-life 10 days, the purchase 10 days before asOf: weight 1 · 2^(−10/10) = 0.5.
    const decayed = candidates(
      model(),
      'personal',
      [{ id: A, at: day(10), kind: 'purchase' }],
      day(20),
      { ...ANSWER, halfLifeDays: 10 },
      categoryOf,
    );
    close(decayed[0]!.score, 0.5 * (2 / Math.sqrt(6)));
    close(decayed[1]!.score, 0.5 * (2 / 3));
  });

  test('a price drop is measured from the first time this item was seen, not another item nor a purchase', () => {
    // Price 1200 from day 1, 1000 from day 11; the item is 1000 now.
    const prices = [
      { at: day(1), priceMinor: 1200 },
      { at: day(11), priceMinor: 1000 },
    ];
    const flagsAfter = (signals: Signal[]) =>
      finish(
        [{ id: 1, score: 1, reason: { kind: 'viewed', productId: 1 } }],
        new Map([[1, item(1, { prices })]]),
        'EUR',
        ANSWER,
        signals,
      )[0]!.flags;
    // Seen on day 10 at 1200: a drop. Another item seen on day 0 does not move "seen" to before day 1.
    assert.deepEqual(
      flagsAfter([
        { id: 2, at: day(0), kind: 'view' },
        { id: 1, at: day(10), kind: 'view' },
      ]),
      ['price_drop'],
    );
    // Bought on day 0 (before any price), viewed on day 10: the purchase is not a sighting.
    assert.deepEqual(
      flagsAfter([
        { id: 1, at: day(0), kind: 'purchase' },
        { id: 1, at: day(10), kind: 'view' },
      ]),
      ['price_drop'],
    );
    // Seen first on day 0, when no price was known: no price to compare with, no compare-at: no flag.
    assert.deepEqual(flagsAfter([{ id: 1, at: day(0), kind: 'cart' }]), []);
  });

  test('every reason’s text, with the product it names by title, else SKU, else "an earlier purchase"', () => {
    const catalogue = new Map([
      [1, item(1, { category: 'Cups' })],
      [2, item(2, { title: 'Teapot' })],
      [3, item(3, { title: null })],
    ]);
    const text = (reason: Omit<Reason, 'text'>) =>
      finish([{ id: 1, score: 1, reason }], catalogue, 'EUR', ANSWER)[0]!.reason.text;
    assert.equal(text({ kind: 'because_you_bought', productId: 2 }), 'Because you bought Teapot');
    assert.equal(text({ kind: 'because_you_viewed', productId: 3 }), 'Because you looked at SKU-3');
    assert.equal(text({ kind: 'bought_with', productId: 99 }), 'Often bought with an earlier purchase');
    assert.equal(text({ kind: 'similar_to', productId: 2 }), 'Similar to Teapot');
    assert.equal(text({ kind: 'popular' }), 'Popular right now');
    assert.equal(text({ kind: 'popular_in_category', category: 'Tea' }), 'Popular in Tea');
    assert.equal(text({ kind: 'popular_in_category' }), 'Popular in Cups');
    assert.equal(text({ kind: 'trending' }), 'Trending');
    assert.equal(text({ kind: 'buy_again', productId: 1, daysSince: 12 }), 'Buy again: last bought 12 days ago');
    // 13.4 days rounds to 13.
    assert.equal(
      text({ kind: 'buy_again', productId: 1, cycleDays: 13.4, daysSince: 5 }),
      'Buy again: usually every 13 days, last bought 5 days ago',
    );
    assert.equal(
      text({ kind: 'replenishment_due', productId: 1, cycleDays: 29.5, daysSince: 31 }),
      'Time to restock: usually every 30 days, last bought 31 days ago',
    );
    assert.equal(text({ kind: 'left_in_cart', productId: 1 }), 'Still in your cart');
    assert.equal(text({ kind: 'on_wishlist', productId: 1 }), 'On your wishlist');
    assert.equal(text({ kind: 'viewed', productId: 1 }), 'You looked at this');
  });

  test('personal tops a short list up with best-sellers it does not hold yet; other methods do not', () => {
    const own = [{ id: C, score: 0.9, reason: { kind: 'because_you_bought' as const, productId: A } }];
    const popular = () => [B, C, D].map((id) => ({ id, score: 1, reason: { kind: 'popular' as const } }));
    assert.deepEqual(
      withFallback('personal', own, popular).map((c) => [c.id, c.reason.kind]),
      [
        [C, 'because_you_bought'],
        [B, 'popular'],
        [D, 'popular'],
      ],
    );
    assert.deepEqual(withFallback('similar', own, popular), own);
  });
});

describe('the replenishment clock', () => {
  // Last bought 2026-01-10 15:00 UTC, a 30-day cycle: due at 2026-02-09 15:00, so due from that day's
  // start (00:00 UTC), and ended once more than 2 × 30 days have passed since the purchase.
  const last = Date.UTC(2026, 0, 10, 15);
  const dueDay = Date.UTC(2026, 1, 9);
  test('not yet before the due day’s start, due from it, ended after maxCycles cycles', () => {
    assert.deepEqual(replenishmentState(last, 30, dueDay - 1), { state: 'not_yet', dueOn: '2026-02-09' });
    assert.deepEqual(replenishmentState(last, 30, dueDay), { state: 'due', dueOn: '2026-02-09' });
    assert.deepEqual(replenishmentState(last, 30, last + 60 * MS_PER_DAY), { state: 'due', dueOn: '2026-02-09' });
    assert.deepEqual(replenishmentState(last, 30, last + 60 * MS_PER_DAY + 1), {
      state: 'ended',
      dueOn: '2026-02-09',
    });
    // One cycle allowed: ended 30 days and 1 ms after the purchase.
    assert.deepEqual(replenishmentState(last, 30, last + 30 * MS_PER_DAY, 1), { state: 'due', dueOn: '2026-02-09' });
    assert.deepEqual(replenishmentState(last, 30, last + 30 * MS_PER_DAY + 1, 1), {
      state: 'ended',
      dueOn: '2026-02-09',
    });
    // 12.5 days after 2026-01-10 15:00 is 2026-01-23 03:00.
    assert.deepEqual(replenishmentState(last, 12.5, Date.UTC(2026, 0, 23)), { state: 'due', dueOn: '2026-01-23' });
  });
});
