import { sql } from 'kysely';
import type { Db } from '../store/index.js';
import { type NpsGroup, npsGroup } from './nps.js';
import { feedbackDb } from './tables.js';

/** The feedback fields of a customer that segments and flow branches read. */
export interface FeedbackFields {
  /** The group of the latest NPS answer; null without one. */
  nps_group: NpsGroup | null;
  /** The latest CSAT answer (1–5); null without one. */
  last_csat: number | null;
  /** The reason of the latest exit-survey answer; null without one. */
  exit_reason: string | null;
  review_count: number;
}

/** The names of the feedback fields, as segment rules and flow branches spell them. */
export const FEEDBACK_FIELDS = ['nps_group', 'last_csat', 'exit_reason', 'review_count'] as const;

/** A customer's feedback fields from answers and reviews before `asOf` (epoch ms, exclusive). */
export async function feedbackFields(db: Db, customerId: number, asOf: number): Promise<FeedbackFields> {
  const fdb = feedbackDb(db);
  const latest = async (kind: string) =>
    fdb
      .selectFrom('survey_responses')
      .select(['score', 'reason'])
      .where('customer_id', '=', customerId)
      .where('kind', '=', kind)
      .where('answered_at', '<', asOf)
      .orderBy('answered_at', 'desc')
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
  const nps = await latest('nps');
  const csat = await latest('csat');
  const exit = await latest('exit');
  const reviews = await fdb
    .selectFrom('product_reviews')
    .select(sql<number>`count(*)`.as('n'))
    .where('customer_id', '=', customerId)
    .where('created_at', '<', asOf)
    .executeTakeFirstOrThrow();
  return {
    nps_group: nps?.score != null ? npsGroup(nps.score) : null,
    last_csat: csat?.score ?? null,
    exit_reason: exit?.reason ?? null,
    review_count: Number(reviews.n),
  };
}

/**
 * `feedbackFields` for many customers at once (a few statements per 1,000 ids instead of four per
 * customer): the same answers and reviews before `asOf` (epoch ms, exclusive), the latest answer of each
 * kind by (answered_at, id) as there. Customers with no feedback get the empty fields.
 */
export async function feedbackFieldsMany(
  db: Db,
  customerIds: readonly number[],
  asOf: number,
): Promise<Map<number, FeedbackFields>> {
  const fdb = feedbackDb(db);
  const out = new Map<number, FeedbackFields>();
  const unique = [...new Set(customerIds)];
  for (const id of unique) out.set(id, { nps_group: null, last_csat: null, exit_reason: null, review_count: 0 });
  for (let i = 0; i < unique.length; i += 1000) {
    const ids = unique.slice(i, i + 1000);
    const answers = await fdb
      .selectFrom('survey_responses')
      .select(['customer_id', 'kind', 'score', 'reason', 'answered_at', 'id'])
      .where('customer_id', 'in', ids)
      .where('kind', 'in', ['nps', 'csat', 'exit'])
      .where('answered_at', '<', asOf)
      .execute();
    const latest = new Map<string, (typeof answers)[number]>();
    for (const a of answers) {
      const key = `${a.customer_id}:${a.kind}`;
      const seen = latest.get(key);
      if (
        !seen ||
        Number(a.answered_at) > Number(seen.answered_at) ||
        (Number(a.answered_at) === Number(seen.answered_at) && Number(a.id) > Number(seen.id))
      ) {
        latest.set(key, a);
      }
    }
    for (const [key, a] of latest) {
      const fields = out.get(Number(key.slice(0, key.indexOf(':'))))!;
      if (a.kind === 'nps') fields.nps_group = a.score != null ? npsGroup(a.score) : null;
      else if (a.kind === 'csat') fields.last_csat = a.score ?? null;
      else fields.exit_reason = a.reason ?? null;
    }
    const reviews = await fdb
      .selectFrom('product_reviews')
      .select(['customer_id', sql<number>`count(*)`.as('n')])
      .where('customer_id', 'in', ids)
      .where('created_at', '<', asOf)
      .groupBy('customer_id')
      .execute();
    for (const r of reviews) {
      if (r.customer_id !== null) out.get(Number(r.customer_id))!.review_count = Number(r.n);
    }
  }
  return out;
}
