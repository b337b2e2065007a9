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

/**
 * The published reviews of one product from `product_reviews` (the feedback module's table), read
 * loosely — `rating`, the text in `body`, `text` or `comment`, the instant in `created_at` or
 * `submitted_at`, and a `status` other than published/approved left out — so that the block works
 * with that table as it lands. Before the table exists the summary is empty (count 0).
 */
export async function productReviewSummary(db: Db, productId: number, latest = 3): Promise<ReviewSummary> {
  let rows: Array<Record<string, unknown>>;
  try {
    rows = await db
      .withTables<{ product_reviews: { product_id: number } & Record<string, unknown> }>()
      .selectFrom('product_reviews')
      .selectAll()
      .where('product_id', '=', productId)
      .execute();
  } catch (error) {
    if (/no such table|does not exist/i.test(String(error))) return { count: 0, average: null, latest: [] };
    throw error;
  }
  const reviews = rows
    .filter((r) => r.status === undefined || r.status === null || r.status === 'published' || r.status === 'approved')
    .map((r) => ({
      rating: Number(r.rating),
      text: String(r.body ?? r.text ?? r.comment ?? ''),
      at: Number(r.created_at ?? r.submitted_at ?? 0),
    }))
    .filter((r) => Number.isFinite(r.rating) && r.rating >= 1 && r.rating <= 5);
  if (reviews.length === 0) return { count: 0, average: null, latest: [] };
  const sum = reviews.reduce((s, r) => s + r.rating, 0);
  return {
    count: reviews.length,
    average: Math.round((sum / reviews.length) * 10) / 10,
    latest: reviews.sort((a, b) => b.at - a.at).slice(0, latest),
  };
}
