import type { Generated, Kysely } from 'kysely';
import type { Database, Db } from '../store/index.js';

/**
 * The topics of marketing a customer can choose on the preference centre (`consent_topics.topic`);
 * every marketing send of a topic the customer turned off is skipped (campaigns/policy.ts).
 */
export const TOPICS = ['offers', 'new_products', 'rewards', 'surveys'] as const;
export type PreferenceTopic = (typeof TOPICS)[number];

/** The tables of migration 022_feedback (type aliases, as `withTables` needs). */
export type FeedbackTables = {
  surveys: { key: string; kind: string; definition: string; updated_at: number };
  survey_links: {
    id: string;
    survey_key: string;
    customer_id: number;
    context: string | null;
    issued_at: number;
    expires_at: number;
    used_at: number | null;
  };
  survey_responses: {
    id: Generated<number>;
    survey_key: string;
    kind: string;
    customer_id: number;
    response_key: string;
    source: string;
    score: number | null;
    reason: string | null;
    comment: string | null;
    answers: string;
    context: string | null;
    answered_at: number;
  };
  product_reviews: {
    id: Generated<number>;
    customer_id: number;
    product_id: number;
    order_id: number;
    rating: number;
    body: string | null;
    created_at: number;
  };
  consent_changes: {
    id: Generated<number>;
    customer_id: number;
    subject: string;
    granted: number;
    source: string;
    detail: string | null;
    occurred_at: number;
  };
  consent_topics: { customer_id: number; topic: string; granted: number; updated_at: number; source: string };
  marketing_pauses: { customer_id: number; until: number; source: string; created_at: number };
  /** Read here, written by segments/ (migration 004). */
  customer_segments: { customer_id: number; kind: string; value: string; since: number; reason: string };
};

/** A Kysely instance (or transaction) that knows the feedback tables. */
export type FeedbackDb = Kysely<Database & FeedbackTables>;

/** Widens a store handle (or transaction) with the feedback tables. */
export function feedbackDb(db: Db): FeedbackDb {
  return db.withTables<FeedbackTables>();
}
