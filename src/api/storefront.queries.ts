import { latestReviews, productRatings } from '../feedback/reviews.queries.js';
import type { Db } from '../store/index.js';

/** The customer a Segment `userId` names under `source`, or undefined. */
export async function customerOfUser(db: Db, source: string, userId: string): Promise<number | undefined> {
  const row = await db
    .selectFrom('customer_identities')
    .select('customer_id')
    .where('source', '=', source)
    .where('external_id', '=', userId)
    .executeTakeFirst();
  return row ? Number(row.customer_id) : undefined;
}

/** The customer whose e-mail is `email` (already normalised), or undefined. */
export async function customerOfEmail(db: Db, email: string): Promise<number | undefined> {
  const row = await db.selectFrom('customers').select('id').where('email', '=', email).executeTakeFirst();
  return row ? Number(row.id) : undefined;
}

/**
 * Which of `wanted` (`visitor`, `member`, or `kind:value` of the customer's current segments, such as
 * `lifecycle:at_risk`) describe this visitor: `visitor` when no customer is signed in, `member` for any
 * signed-in customer, the others from `customer_segments`.
 */
export async function matchingSegments(
  db: Db,
  customerId: number | undefined,
  wanted: readonly string[],
): Promise<string[]> {
  const out: string[] = [];
  const labelled = wanted.flatMap((w) => {
    const colon = w.indexOf(':');
    return colon > 0 ? [{ spec: w, kind: w.slice(0, colon), value: w.slice(colon + 1) }] : [];
  });
  let held = new Set<string>();
  if (customerId !== undefined && labelled.length > 0) {
    const rows = await db
      .withTables<{ customer_segments: { customer_id: number; kind: string; value: string } }>()
      .selectFrom('customer_segments')
      .select(['kind', 'value'])
      .where('customer_id', '=', customerId)
      .execute();
    held = new Set(rows.map((r) => `${r.kind}:${r.value}`));
  }
  for (const spec of wanted) {
    if (spec === 'visitor' ? customerId === undefined : spec === 'member' ? customerId !== undefined : held.has(spec))
      out.push(spec);
  }
  return out;
}

/** A product's rating and latest reviews as the storefront's review block shows them. */
export interface ReviewSummary {
  count: number;
  /** Mean rating (1–5), rounded to one decimal; null without reviews. */
  average: number | null;
  latest: Array<{ rating: number; text: string; at: number }>;
}

/** One product's rating and latest reviews (src/feedback's `productRatings` and `latestReviews`). */
export async function productReviewSummary(db: Db, productId: number, latest = 3): Promise<ReviewSummary> {
  const rating = (await productRatings(db, [productId])).get(productId);
  if (!rating) return { count: 0, average: null, latest: [] };
  const reviews = await latestReviews(db, { productId, limit: latest });
  return {
    count: rating.count,
    average: Math.round(rating.average * 10) / 10,
    latest: reviews.map((r) => ({ rating: r.rating, text: r.body ?? '', at: r.createdAt })),
  };
}
