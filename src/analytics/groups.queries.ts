import { type RawBuilder, sql } from 'kysely';
import { ComebackError } from '../errors.js';
import { interOrderDays } from '../segments/customers.queries.js';
import { firstDayBeyond, gapThresholds } from '../segments/lifecycle.js';
import type { Db } from '../store/index.js';
import { int, isSale, ordersAsOf } from './sales.queries.js';

/**
 * Who the customers are, for the figures side by side: a grouping names, for every customer, one
 * group. A customer's group is their state as of an instant `at` (the period's end for the report,
 * the as-of for cohorts): the country and payment method of their latest sale before `at`, the
 * loyalty tier they held at `at`, their lifecycle stage at `at` by the days since their last sale, and
 * their first touch before `at` for the acquisition groupings. The labels that `segments refresh`
 * stores (RFM group, persona, saved segments) keep no history: they are read as of their last refresh,
 * and the answer says so. The report groups by lifecycle stage at the period's start, not its end: a
 * stage at the end is decided by the same silence churn counts, so churn by it is true by definition.
 */
export type GroupKind =
  | 'segment'
  | 'rfm'
  | 'persona'
  | 'lifecycle'
  | 'tier'
  | 'country'
  | 'payment'
  | 'source'
  | 'medium'
  | 'campaign'
  | 'referrer'
  | 'channel';

/** A grouping: its kind and, for `segment`, the saved segment's name. */
export interface Grouping {
  kind: GroupKind;
  segment?: string;
}

/** The groupings `--by` and `by=` accept (`segment:NAME` for a saved segment). */
export const GROUP_KINDS: readonly GroupKind[] = [
  'segment',
  'rfm',
  'persona',
  'lifecycle',
  'tier',
  'country',
  'payment',
  'source',
  'medium',
  'campaign',
  'referrer',
  'channel',
];

/** How each grouping assigns a customer, in words, for the output. */
export const GROUP_RULES: Record<GroupKind, string> = {
  segment: 'members of the saved segment against the rest, as of its last refresh',
  rfm: 'the RFM group stored by the last `segments refresh` (labels keep no history)',
  persona: 'the persona stored by the last `segments refresh` (labels keep no history)',
  lifecycle:
    "the lifecycle stage by days since the customer's last sale against the store's gaps between orders, not the model's stored stage, which keeps no history",
  tier: 'the loyalty tier held at the end of the period (tier history), else "not a member"',
  country: "the country of the customer's latest sale before the end of the period, else the customer's",
  payment: "the payment method of the customer's latest sale before the end of the period",
  source: 'first touch: UTM source, else the referring host, else (direct)',
  medium: 'first touch: UTM medium, else "referral" when a referrer is known, else (none)',
  campaign: 'first touch: UTM campaign, else (not set)',
  referrer: 'first touch: the referring host, else (direct)',
  channel: "first touch: the order's sales channel (Shopify's Source)",
};

/** Parses `country`, `payment`, `segment:vip` …; a usage error names what is accepted. */
export function parseGrouping(text: string): Grouping {
  const [kind, ...rest] = text.trim().split(':');
  const found = GROUP_KINDS.find((k) => k === kind?.toLowerCase());
  if (found === undefined) {
    throw new ComebackError('bad_input', `by ${text}: choose one of ${GROUP_KINDS.join(', ')} (segment:NAME)`);
  }
  if (found === 'segment') {
    const name = rest.join(':').trim();
    if (name === '') throw new ComebackError('bad_input', `by ${text}: name the saved segment, segment:NAME`);
    return { kind: 'segment', segment: name };
  }
  if (rest.length > 0) throw new ComebackError('bad_input', `by ${text}: only segment takes a name`);
  return { kind: found };
}

/** `segment:NAME` or the kind, as written. */
export function groupingName(grouping: Grouping): string {
  return grouping.kind === 'segment' ? `segment:${grouping.segment}` : grouping.kind;
}

/**
 * A subquery `(customer_id, grp)` giving every customer's group as of `at` (see the module comment).
 * Throws `bad_input` for a saved segment that does not exist.
 */
export async function groupAssignment(
  db: Db,
  grouping: Grouping,
  at: number,
  /** The lifecycle stage counts the sales placed before `at` as they stand at `knownAt` (the report's as-of). */
  knownAt = at,
): Promise<RawBuilder<unknown>> {
  const before = int(at, 'asOf');
  switch (grouping.kind) {
    case 'lifecycle':
      return lifecycleAt(db, at, Math.max(at, knownAt));
    case 'rfm':
    case 'persona':
      return sql`select c.id as customer_id, coalesce(g.value, '(no label)') as grp
        from customers c left join customer_segments g on g.customer_id = c.id and g.kind = ${grouping.kind}`;
    case 'segment': {
      const name = grouping.segment ?? '';
      const { rows } = await sql<{ id: number }>`select id from saved_segments where name = ${name}`.execute(db);
      const found = rows[0];
      if (!found) throw new ComebackError('bad_input', `by segment:${name}: no saved segment has that name`);
      return sql`select c.id as customer_id,
          case when m.customer_id is null then cast(${`not ${name}`} as text) else cast(${name} as text) end as grp
        from customers c left join segment_members m on m.customer_id = c.id and m.segment_id = ${int(Number(found.id))}`;
    }
    case 'tier':
      return sql`select c.id as customer_id, coalesce(
          (select h.to_tier from loyalty_tier_history h where h.customer_id = c.id and h.changed_at < ${before}
           order by h.changed_at desc, h.id desc limit 1),
          (select m.tier from loyalty_members m where m.customer_id = c.id and m.enrolled_at < ${before}),
          'not a member') as grp
        from customers c`;
    case 'country':
    case 'payment': {
      const column = sql.ref(grouping.kind === 'country' ? 'o.country' : 'o.payment_method');
      const fallback = grouping.kind === 'country' ? sql`c.country` : sql`null`;
      return sql`select c.id as customer_id, coalesce(
          (select ${column} from ${ordersAsOf(at)} o where o.customer_id = c.id and ${isSale('o')}
             and o.placed_at < ${before}
             and ${column} is not null
           order by o.placed_at desc, o.id desc limit 1),
          ${fallback}, 'unknown') as grp
        from customers c`;
    }
    default: {
      const value = {
        source: sql`coalesce(f.utm_source, f.referrer, '(direct)')`,
        medium: sql`coalesce(f.utm_medium, case when f.referrer is not null then 'referral' end, '(none)')`,
        campaign: sql`coalesce(f.utm_campaign, '(not set)')`,
        referrer: sql`coalesce(f.referrer, '(direct)')`,
        channel: sql`coalesce(f.channel, '(unknown)')`,
      }[grouping.kind];
      // The first touch: the earliest order carrying acquisition columns or event carrying a campaign or
      // referrer; a customer with neither is (unknown), not (direct): the data does not say.
      return sql`select c.id as customer_id, case when f.customer_id is null then '(unknown)' else ${value} end as grp
        from customers c left join (
          select * from (
            select t.*, row_number() over (partition by t.customer_id order by t.at, t.src, t.k) as rn from (
              select o.customer_id, o.placed_at as at, 0 as src, o.id as k, o.utm_source, o.utm_medium,
                     o.utm_campaign, o.referring_site as referrer, o.sales_channel as channel
              from orders o
              where o.customer_id is not null and o.placed_at < ${before}
                and (o.landing_site is not null or o.referring_site is not null or o.sales_channel is not null)
              union all
              select e.customer_id, e.occurred_at, 1, e.id, e.utm_source, e.utm_medium, e.utm_campaign, e.referrer,
                     null
              from events e
              where e.customer_id is not null and e.occurred_at < ${before}
                and (e.utm_source is not null or e.utm_medium is not null or e.utm_campaign is not null
                     or e.referrer is not null)
            ) t
          ) ranked where rn = 1
        ) f on f.customer_id = c.id`;
    }
  }
}

/**
 * Every customer's lifecycle stage as of `at` by the gap rule of `lifecycleStage` (segments/lifecycle.ts)
 * without model scores, which keep no history: churned, lapsed or at risk when the whole days since the
 * last sale before `at` are beyond the store's thresholds as of `at` (`gapThresholds`), else new with one
 * sale and active with more; '(no sale yet)' without a sale before `at`. The sales are the report's:
 * paid orders as they stand at `knownAt` (`ordersAsOf`), so an order refunded by then is none.
 */
async function lifecycleAt(db: Db, at: number, knownAt: number): Promise<RawBuilder<unknown>> {
  const before = int(at, 'asOf');
  const t = gapThresholds(await interOrderDays(db, at));
  // Whole days beyond a threshold: at least `firstDayBeyond` days of ms since the last sale.
  const beyond = (days: number) => sql`${before} - s.last_at >= ${int(firstDayBeyond(days) * 86_400_000, 'days')}`;
  return sql`select c.id as customer_id, case
      when s.customer_id is null then '(no sale yet)'
      when ${beyond(t.churnedDays)} then 'churned'
      when ${beyond(t.lapsedDays)} then 'lapsed'
      when ${beyond(t.atRiskDays)} then 'at_risk'
      when s.sales = 1 then 'new'
      else 'active' end as grp
    from customers c left join (
      select x.customer_id, count(*) as sales, max(x.placed_at) as last_at
      from ${ordersAsOf(knownAt)} x
      where x.customer_id is not null and x.placed_at < ${before} and ${isSale('x')}
      group by x.customer_id
    ) s on s.customer_id = c.id`;
}
