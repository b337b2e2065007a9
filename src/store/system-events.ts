import { type RawBuilder, type SqlBool, sql } from 'kysely';

/**
 * The events Comeback writes itself, beside the Segment calls a store sends: they sit in `events` so
 * that flows can trigger on them and a customer's timeline shows them, but they are not the store's
 * browsing or e-mail data (`comeback stats` counts them apart; the report's engagement ignores them).
 *
 * - `segment_entered` / `segment_exited`: lifecycle stage changes of a segments refresh
 *   (segments/segments.queries.ts). Segment calls are identify, track, page, screen, alias and group
 *   (ingest/events.ts), so these types are Comeback's alone.
 * - `track` calls for what a customer did on Comeback's own pages, told apart from a store's calls of
 *   the same name by their message-id prefix: `Product Reviewed` (`review:`, feedback/reviews.queries.ts),
 *   `Survey Answered` (`survey:`) and its alert `NPS Detractor` or `Low CSAT` (`survey-alert:`,
 *   feedback/surveys.queries.ts).
 */
export const COMEBACK_EVENT_TYPES = ['segment_entered', 'segment_exited'] as const;

/** Message-id prefixes of the `track` events Comeback writes, with the event names each carries. */
export const COMEBACK_TRACK_EVENTS = {
  review: { prefix: 'review:', events: ['Product Reviewed'] },
  survey: { prefix: 'survey:', events: ['Survey Answered'] },
  surveyAlert: { prefix: 'survey-alert:', events: ['NPS Detractor', 'Low CSAT'] },
} as const;

/**
 * SQL that is true for an event Comeback wrote (see above), over the events table under `alias`. The
 * prefixes hold no LIKE wildcards; LIKE is case-blind on SQLite for ASCII, which these ids never need.
 */
export function isComebackEvent(alias: string): RawBuilder<SqlBool> {
  const e = sql.ref(alias);
  const tracks = Object.values(COMEBACK_TRACK_EVENTS).map(
    ({ prefix, events }) => sql`(${e}.event in (${sql.join([...events])}) and ${e}.message_id like ${`${prefix}%`})`,
  );
  return sql<SqlBool>`(${e}.type in (${sql.join([...COMEBACK_EVENT_TYPES])})
    or (${e}.type = 'track' and (${sql.join(tracks, sql` or `)})))`;
}
