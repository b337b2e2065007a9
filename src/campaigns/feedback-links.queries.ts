import { issueSurveyLink, loadSurvey } from '../feedback/index.js';
import type { Db } from '../store/index.js';
import type { Channel } from './flow.js';
import type { CampaignDb } from './tables.js';

/** The signed feedback links a message may carry: `links.review` and `links.csat`, null when not applicable. */
export interface FeedbackLinks {
  review: string | null;
  csat: string | null;
}

/**
 * The review and CSAT links of one outbox row, for a journey that an order started (occurrence
 * `order:<id>`): `links.review` opens the order's review page (`/r/…`), `links.csat` the CSAT survey
 * about that order (`/s/…`, context `order:<id>`), each signed for the customer and answerable once
 * (survey_links, written in the caller's transaction). A link is issued only when the template reads
 * it (its subject or body names `links.review` / `links.csat`), or for a webhook (no template: both);
 * otherwise, and for journeys not started by an order, null.
 */
export async function feedbackLinks(
  trx: CampaignDb,
  input: {
    outboxId: number;
    customerId: number;
    templateKey: string;
    channel: Channel;
    publicUrl: string;
    linkSecret: string;
    now: number;
  },
): Promise<FeedbackLinks> {
  const none: FeedbackLinks = { review: null, csat: null };
  const row = await trx
    .selectFrom('outbox')
    .innerJoin('journeys', 'journeys.id', 'outbox.journey_id')
    .select('journeys.occurrence')
    .where('outbox.id', '=', input.outboxId)
    .executeTakeFirst();
  const orderId = /^order:(\d+)$/.exec(row?.occurrence ?? '')?.[1];
  if (orderId === undefined) return none;
  let wants = { review: true, csat: true };
  if (input.channel !== 'webhook') {
    const template = await trx
      .selectFrom('message_templates')
      .select(['subject', 'body'])
      .where('key', '=', input.templateKey)
      .orderBy('version', 'desc')
      .limit(1)
      .executeTakeFirst();
    const source = `${template?.subject ?? ''}\n${template?.body ?? ''}`;
    wants = { review: /\blinks\.review\b/.test(source), csat: /\blinks\.csat\b/.test(source) };
  }
  // The links are written in the caller's transaction. Kysely's database type is invariant, so the
  // transaction, which holds every table, is handed to the feedback functions under the store's type.
  const db = trx as unknown as Db;
  const base = input.publicUrl.replace(/\/$/, '');
  const context = `order:${orderId}`;
  const issue = async (surveyKey: 'review' | 'csat', path: 'r' | 's') => {
    const link = await issueSurveyLink(db, input.linkSecret, {
      surveyKey,
      customerId: input.customerId,
      context,
      now: input.now,
    });
    return `${base}/${path}/${link.token}`;
  };
  return {
    review: wants.review ? await issue('review', 'r') : null,
    csat: wants.csat && (await loadSurvey(db, 'csat', input.now)) ? await issue('csat', 's') : null,
  };
}
