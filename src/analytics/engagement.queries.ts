import { sql } from 'kysely';
import { MS_PER_DAY } from '../shared/dates.js';
import { type Db, dialectOf, isComebackEvent } from '../store/index.js';
import { ratio } from './formulas.js';
import { int } from './sales.queries.js';

/** Segment's e-mail event names (https://segment.com/docs/connections/spec/email/). */
export const EMAIL_EVENTS = {
  delivered: 'Email Delivered',
  sent: 'Email Sent',
  opened: 'Email Opened',
  clicked: 'Email Link Clicked',
} as const;

/** Engagement of a period, from the events table; null figures where the events are absent. */
export interface Engagement {
  /** E-mails delivered (or, when no delivery events are recorded, sent). */
  emailsDelivered: number;
  emailsOpened: number;
  emailsClicked: number;
  /** Opened / delivered; each (customer, e-mail) open counts once. */
  emailOpenRate: number | null;
  /** Clicked / delivered; each (customer, e-mail) click counts once. */
  emailClickRate: number | null;
  /** Visits: distinct sessions of page and screen calls (a customer's page day when there is no session). */
  visits: number;
  /** Identified customers with at least one visit. */
  visitors: number;
  visitsPerCustomerPerMonth: number | null;
}

const AVERAGE_MONTH_DAYS = 365.25 / 12;

/**
 * E-mail open and click rates and visits per customer per month over `[from, to)`. An e-mail is told
 * apart by the `email_id` property of Segment's e-mail events, else by the event's day, so that a mail
 * opened five times counts as one open. Null when the store sent no events in the period: the events
 * Comeback writes itself (stage changes, reviews and survey answers, `isComebackEvent`) do not count.
 */
export async function engagement(db: Db, { from, to }: { from: number; to: number }): Promise<Engagement | null> {
  const lo = int(from, 'from');
  const hi = int(to, 'to');
  const day = sql`(e.occurred_at / ${sql.lit(MS_PER_DAY)})`;
  // The one spot where SQLite and PostgreSQL spell JSON differently; properties are always JSON objects.
  const emailId =
    dialectOf(db) === 'postgres'
      ? sql`(e.properties::jsonb ->> 'email_id')`
      : sql`json_extract(e.properties, '$.email_id')`;
  const key = sql`coalesce(cast(e.customer_id as text), e.anonymous_id, '') || ':' || coalesce(${emailId}, cast(${day} as text))`;
  const any = await sql<{ n: number }>`
    select count(*) as n from events e where e.occurred_at >= ${lo} and e.occurred_at < ${hi}
      and not ${isComebackEvent('e')}`.execute(db);
  if (Number(any.rows[0]?.n ?? 0) === 0) return null;
  const mail = await sql<{ delivered: number; sent: number; opened: number; clicked: number }>`
    select
      count(distinct case when e.event = ${EMAIL_EVENTS.delivered} then ${key} end) as delivered,
      count(distinct case when e.event = ${EMAIL_EVENTS.sent} then ${key} end) as sent,
      count(distinct case when e.event = ${EMAIL_EVENTS.opened} then ${key} end) as opened,
      count(distinct case when e.event = ${EMAIL_EVENTS.clicked} then ${key} end) as clicked
    from events e
    where e.type = 'track' and e.occurred_at >= ${lo} and e.occurred_at < ${hi}
      and e.event in (${sql.join(Object.values(EMAIL_EVENTS))})`.execute(db);
  const visits = await sql<{ visits: number; visitors: number }>`
    select
      count(distinct coalesce(e.session_id, cast(e.customer_id as text) || ':' || cast(${day} as text))) as visits,
      count(distinct e.customer_id) as visitors
    from events e
    where e.type in ('page', 'screen') and e.customer_id is not null
      and e.occurred_at >= ${lo} and e.occurred_at < ${hi}`.execute(db);
  const m = mail.rows[0];
  const delivered = Number(m?.delivered ?? 0) || Number(m?.sent ?? 0);
  const opened = Number(m?.opened ?? 0);
  const clicked = Number(m?.clicked ?? 0);
  const v = visits.rows[0];
  const visitCount = Number(v?.visits ?? 0);
  const visitors = Number(v?.visitors ?? 0);
  const months = (to - from) / MS_PER_DAY / AVERAGE_MONTH_DAYS;
  return {
    emailsDelivered: delivered,
    emailsOpened: opened,
    emailsClicked: clicked,
    emailOpenRate: ratio(opened, delivered),
    emailClickRate: ratio(clicked, delivered),
    visits: visitCount,
    visitors,
    visitsPerCustomerPerMonth: visitors === 0 || months <= 0 ? null : visitCount / visitors / months,
  };
}
