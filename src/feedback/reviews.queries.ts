import { sql } from 'kysely';
import { earnForAction, loadProgram } from '../loyalty/index.js';
import { COMEBACK_TRACK_EVENTS, type Db, immediateTransaction } from '../store/index.js';
import { feedbackDb } from './tables.js';
import { type PageRefusal, verifyPageLink } from './tokens.js';

/** A product of the order a review link is for, and whether it has been reviewed. */
export interface ReviewItem {
  productId: number;
  title: string;
  reviewed: { rating: number; body: string | null } | null;
}

/** An open review link: who, which order, its products. */
export interface OpenReview {
  customerId: number;
  orderId: number;
  items: ReviewItem[];
}

/** Why a review link does not open. */
export type ReviewLinkState = PageRefusal | 'unknown_link';

/** Checks a review token (issued by `issueSurveyLink` with `surveyKey: 'review'`, context `order:<id>`) and lists the order's products. */
export async function openReviewLink(
  db: Db,
  secret: string,
  token: string,
  now: number,
): Promise<{ ok: true; open: OpenReview } | { ok: false; reason: ReviewLinkState }> {
  const verified = verifyPageLink(secret, token, 'review', now);
  if (!verified.ok) return verified;
  const fdb = feedbackDb(db);
  const link = await fdb
    .selectFrom('survey_links')
    .selectAll()
    .where('id', '=', verified.claims.l ?? '')
    .executeTakeFirst();
  const orderId = Number(/^order:(\d+)$/.exec(link?.context ?? '')?.[1]);
  if (!link || link.customer_id !== verified.claims.c || link.survey_key !== 'review' || !Number.isSafeInteger(orderId))
    return { ok: false, reason: 'unknown_link' };
  const order = await fdb.selectFrom('orders').select('customer_id').where('id', '=', orderId).executeTakeFirst();
  if (!order || order.customer_id !== link.customer_id) return { ok: false, reason: 'unknown_link' };
  const lines = await fdb
    .selectFrom('order_lines as l')
    .innerJoin('products as p', 'p.id', 'l.product_id')
    .leftJoin('product_reviews as r', (j) =>
      j.onRef('r.product_id', '=', 'p.id').on('r.order_id', '=', orderId).on('r.customer_id', '=', link.customer_id),
    )
    .select(['p.id', 'p.title', 'p.sku', 'r.rating', 'r.body'])
    .where('l.order_id', '=', orderId)
    .where('l.kind', '=', 'product')
    .orderBy('l.line_no')
    .execute();
  const seen = new Set<number>();
  const items: ReviewItem[] = [];
  for (const l of lines) {
    if (seen.has(l.id)) continue;
    seen.add(l.id);
    items.push({
      productId: l.id,
      title: l.title ?? l.sku,
      reviewed: l.rating === null ? null : { rating: l.rating, body: l.body },
    });
  }
  return { ok: true, open: { customerId: link.customer_id, orderId, items } };
}

/** What submitting a review did. */
export type ReviewResult =
  | { ok: true; created: boolean; points: number }
  | { ok: false; reason: ReviewLinkState | 'not_in_order' }
  | { ok: false; reason: 'bad_input'; field: string; message: string };

/**
 * Stores a review (rating 1–5, text up to 2000 characters) of one product of the link's order, once
 * per (customer, product, order): a second submission answers `created: false` and changes nothing.
 * A new review goes on the customer's timeline (`Product Reviewed`) and earns the loyalty program's
 * review points once per (product, order) through the ledger (reference `product:<id>:order:<id>`),
 * for members of a program that rewards reviews, in the review's transaction.
 */
export async function submitReview(
  db: Db,
  secret: string,
  token: string,
  input: { productId: number; rating: unknown; body?: unknown },
  now: number,
): Promise<ReviewResult> {
  const opened = await openReviewLink(db, secret, token, now);
  if (!opened.ok) return opened;
  const { customerId, orderId, items } = opened.open;
  if (!items.some((i) => i.productId === input.productId)) return { ok: false, reason: 'not_in_order' };
  const rating = typeof input.rating === 'string' && /^\d$/.test(input.rating) ? Number(input.rating) : input.rating;
  if (typeof rating !== 'number' || !Number.isInteger(rating) || rating < 1 || rating > 5)
    return { ok: false, reason: 'bad_input', field: 'rating', message: 'a whole number from 1 to 5' };
  const body = typeof input.body === 'string' && input.body.trim() !== '' ? input.body.trim() : null;
  if (body !== null && body.length > 2000)
    return { ok: false, reason: 'bad_input', field: 'body', message: 'at most 2000 characters' };
  // The points are credited in the review's transaction: a crash between the two cannot keep one without the other.
  const done = await immediateTransaction(db, async (base) => {
    const trx = feedbackDb(base);
    const row = await trx
      .insertInto('product_reviews')
      .values({
        customer_id: customerId,
        product_id: input.productId,
        order_id: orderId,
        rating,
        body,
        created_at: now,
      })
      .onConflict((oc) => oc.columns(['customer_id', 'product_id', 'order_id']).doNothing())
      .returning('id')
      .executeTakeFirst();
    if (!row) return { created: false, points: 0 };
    await trx
      .insertInto('events')
      .values({
        // A prefix and name of COMEBACK_TRACK_EVENTS: stats and engagement tell it from the store's events.
        message_id: `${COMEBACK_TRACK_EVENTS.review.prefix}${row.id}`,
        type: 'track',
        event: COMEBACK_TRACK_EVENTS.review.events[0],
        customer_id: customerId,
        anonymous_id: null,
        session_id: null,
        properties: JSON.stringify({ product_id: input.productId, order_id: orderId, rating, body }),
        occurred_at: now,
        received_at: now,
      })
      .onConflict((oc) => oc.column('message_id').doNothing())
      .execute();
    return { created: true, points: await creditReviewPoints(base, customerId, input.productId, orderId, now) };
  });
  return { ok: true, ...done };
}

/**
 * Credits the program's review points once per (product, order); 0 when nothing was credited. In a
 * transaction (`db` a transaction, or the connection of `immediateTransaction`) it writes in it.
 */
export async function creditReviewPoints(
  db: Db,
  customerId: number,
  productId: number,
  orderId: number,
  now: number,
): Promise<number> {
  const program = await loadProgram(db).catch(() => undefined);
  if (!program?.config.actions.review) return 0;
  const credited = await earnForAction(db, program, {
    customerId,
    action: 'review',
    now,
    reference: `product:${productId}:order:${orderId}`,
  });
  return credited.ok ? credited.value.points : 0;
}

/** A product's rating: mean of 1–5 ratings and their count. */
export interface ProductRating {
  productId: number;
  average: number;
  count: number;
}

/**
 * Average rating and review count per product (of `productIds`, or every reviewed product), for
 * recommendations and templates; products without reviews are absent from the map.
 */
export async function productRatings(db: Db, productIds?: readonly number[]): Promise<Map<number, ProductRating>> {
  let query = feedbackDb(db)
    .selectFrom('product_reviews')
    .select(['product_id', sql<number>`count(*)`.as('n'), sql<number>`sum(rating)`.as('total')])
    .groupBy('product_id');
  if (productIds) query = query.where('product_id', 'in', productIds.length > 0 ? [...productIds] : [-1]);
  const rows = await query.execute();
  return new Map(
    rows.map((r) => [
      Number(r.product_id),
      { productId: Number(r.product_id), average: Number(r.total) / Number(r.n), count: Number(r.n) },
    ]),
  );
}

/** The latest reviews (of one product when given), newest first. */
export async function latestReviews(
  db: Db,
  { productId, limit = 20 }: { productId?: number; limit?: number } = {},
): Promise<
  Array<{
    id: number;
    productId: number;
    product: string;
    customerId: number;
    rating: number;
    body: string | null;
    createdAt: number;
  }>
> {
  let query = feedbackDb(db)
    .selectFrom('product_reviews as r')
    .innerJoin('products as p', 'p.id', 'r.product_id')
    .select(['r.id', 'r.product_id', 'p.title', 'p.sku', 'r.customer_id', 'r.rating', 'r.body', 'r.created_at'])
    .orderBy('r.created_at', 'desc')
    .orderBy('r.id', 'desc')
    .limit(limit);
  if (productId !== undefined) query = query.where('r.product_id', '=', productId);
  const rows = await query.execute();
  return rows.map((r) => ({
    id: r.id,
    productId: r.product_id,
    product: r.title ?? r.sku,
    customerId: r.customer_id,
    rating: r.rating,
    body: r.body,
    createdAt: Number(r.created_at),
  }));
}
