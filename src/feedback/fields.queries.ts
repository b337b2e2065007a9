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
