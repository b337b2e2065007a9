import { type RawBuilder, sql } from 'kysely';
import { groupAssignment } from '../analytics/index.js';
import { ComebackError } from '../errors.js';
import { stageRank } from '../segments/lifecycle.js';
import { dayEndInZone } from '../shared/dates.js';
import { type Db, isPostgres, storeIdOf } from '../store/index.js';
import { type ExitChurn, exitChurn } from './churn.queries.js';
import { type CsatSummary, csatSummary, type NpsSummary, npsSummary } from './nps.js';
import { latestReviews } from './reviews.queries.js';
import { feedbackDb } from './tables.js';

/** The feedback figures of a period. */
export interface FeedbackReport {
  /** The period: answers with `from ≤ answered_at < asOf` (from: the beginning when absent). */
  from: number | null;
  asOf: number;
  nps: NpsSummary;
  /** NPS per calendar month (UTC) with its interval; months without answers are absent. */
  npsTrend: Array<{ month: string } & NpsSummary>;
  csat: CsatSummary;
  csatTrend: Array<{ month: string } & CsatSummary>;
  /** Links issued in the period and how many were answered, per survey. */
  responseRates: Array<{ survey: string; issued: number; answered: number; rate: number | null }>;
  /**
   * Exit-survey reasons: overall, by the customer's lifecycle stage at the start of the churn's span
   * (as `churn.bySegment` counts them; 'none' without a sale before it), and per month.
   */
  exitReasons: {
    total: Array<{ reason: string; answers: number }>;
    bySegment: Array<{ segment: string; reason: string; answers: number }>;
    byMonth: Array<{ month: string; reason: string; answers: number }>;
    /** The store's churn for the same months and lifecycle stages, beside the reasons (churn.queries.ts). */
    churn: ExitChurn;
    /**
     * Exit answers (with a reason) after the churn's span, i.e. after the orders end (`churn.salesEnd`):
     * counted in `total` and `byMonth` but not in `bySegment`, since no stage can be read for them.
     */
    afterOrders: number;
  };
  cartReasons: Array<{ reason: string; answers: number }>;
  latestComments: Array<{
    customerId: number;
    /** The store's own id of the customer (`storeIdOf`); null for one known only by e-mail. */
    storeId: string | null;
    survey: string;
    score: number | null;
    reason: string | null;
    comment: string;
    answeredAt: number;
  }>;
  reviews: {
    count: number;
    average: number | null;
    latest: Awaited<ReturnType<typeof latestReviews>>;
  };
}

/** `YYYY-MM` of an epoch-ms column in UTC, spelled for the dialect. */
/**
 * The default as-of of the feedback report, the store's latest data for it: the end of the day (the next
 * midnight in `timeZone`, IANA; epoch ms) of the latest survey link issued, answer or review, or of the
 * latest sale when that is later (`latestSale`, the shared default of the other commands). Feedback
 * arrives live while orders may be an old export, so the orders' day alone would leave today's answers
 * out. Undefined when the store has neither.
 */
export async function latestFeedbackEnd(
  db: Db,
  timeZone: string,
  latestSale: number | undefined,
): Promise<number | undefined> {
  const f = feedbackDb(db);
  const [issued, answered, reviewed] = await Promise.all([
    f.selectFrom('survey_links').select(sql<number | null>`max(issued_at)`.as('at')).executeTakeFirstOrThrow(),
    f.selectFrom('survey_responses').select(sql<number | null>`max(answered_at)`.as('at')).executeTakeFirstOrThrow(),
    f.selectFrom('product_reviews').select(sql<number | null>`max(created_at)`.as('at')).executeTakeFirstOrThrow(),
  ]);
  const last = [issued.at, answered.at, reviewed.at].filter((at) => at !== null).map(Number);
  const feedback = last.length > 0 ? dayEndInZone(Math.max(...last), timeZone) : undefined;
  if (feedback === undefined) return latestSale;
  return latestSale === undefined ? feedback : Math.max(feedback, latestSale);
}

function monthOf(db: Db, column: string): RawBuilder<string> {
  const ref = sql.ref(column);
  return isPostgres(db)
    ? sql<string>`to_char(to_timestamp(${ref} / 1000.0) at time zone 'UTC', 'YYYY-MM')`
    : sql<string>`strftime('%Y-%m', ${ref} / 1000, 'unixepoch')`;
}

/**
 * NPS (with its adjusted-Wald interval, see nps.ts) overall and per month, CSAT, response rates, exit
 * and cart reasons, the latest comments and the reviews, for answers in `[from, asOf)`. A figure with
 * no answers is null and its note says `no_answers`.
 */
export async function feedbackReport(db: Db, { asOf, from }: { asOf: number; from?: number }): Promise<FeedbackReport> {
  if (from !== undefined && from >= asOf) {
    throw new ComebackError('bad_input', 'from: must be before the as-of (the period would be empty)', {
      location: { field: 'from' },
    });
  }
  const fdb = feedbackDb(db);
  const lower = from ?? Number.MIN_SAFE_INTEGER;
  const month = monthOf(db, 'answered_at');
  const npsRows = await fdb
    .selectFrom('survey_responses')
    .select([
      month.as('month'),
      sql<number>`sum(case when score >= 9 then 1 else 0 end)`.as('p'),
      sql<number>`sum(case when score between 7 and 8 then 1 else 0 end)`.as('m'),
      sql<number>`sum(case when score <= 6 then 1 else 0 end)`.as('d'),
    ])
    .where('kind', '=', 'nps')
    .where('score', 'is not', null)
    .where('answered_at', '>=', lower)
    .where('answered_at', '<', asOf)
    .groupBy(month)
    .orderBy(month)
    .execute();
  const npsTrend = npsRows.map((r) => ({
    month: r.month,
    ...npsSummary({ promoters: Number(r.p), passives: Number(r.m), detractors: Number(r.d) }),
  }));
  const totals = npsTrend.reduce(
    (t, r) => ({
      promoters: t.promoters + r.promoters,
      passives: t.passives + r.passives,
      detractors: t.detractors + r.detractors,
    }),
    { promoters: 0, passives: 0, detractors: 0 },
  );
  const csatRows = await fdb
    .selectFrom('survey_responses')
    .select([
      month.as('month'),
      sql<number>`count(*)`.as('n'),
      sql<number>`sum(case when score >= 4 then 1 else 0 end)`.as('s'),
      sql<number>`sum(score)`.as('total'),
    ])
    .where('kind', '=', 'csat')
    .where('score', 'is not', null)
    .where('answered_at', '>=', lower)
    .where('answered_at', '<', asOf)
    .groupBy(month)
    .orderBy(month)
    .execute();
  const csatTrend = csatRows.map((r) => ({
    month: r.month,
    ...csatSummary({ answers: Number(r.n), satisfied: Number(r.s), sum: Number(r.total) }),
  }));
  const csat = csatSummary(
    csatRows.reduce(
      (t, r) => ({
        answers: t.answers + Number(r.n),
        satisfied: t.satisfied + Number(r.s),
        sum: t.sum + Number(r.total),
      }),
      { answers: 0, satisfied: 0, sum: 0 },
    ),
  );
  // A survey link is answered when it was used (`used_at`). A review link is never marked used (one
  // link reviews every product of its order): it is answered when its customer posted a review of
  // its order (context `order:<id>`) after the link was issued.
  const reviewed = sql<boolean>`exists (select 1 from product_reviews r
    where r.customer_id = l.customer_id
      and l.context = ${'order:'} || cast(r.order_id as text)
      and r.created_at >= l.issued_at and r.created_at < ${asOf})`;
  const links = await fdb
    .selectFrom('survey_links as l')
    .select([
      'l.survey_key',
      sql<number>`count(*)`.as('issued'),
      sql<number>`sum(case when (l.survey_key <> ${'review'} and l.used_at is not null and l.used_at < ${asOf})
        or (l.survey_key = ${'review'} and ${reviewed}) then 1 else 0 end)`.as('answered'),
    ])
    .where('l.issued_at', '>=', lower)
    .where('l.issued_at', '<', asOf)
    .groupBy('l.survey_key')
    .orderBy('l.survey_key')
    .execute();
  const reasons = async (kind: string) =>
    (
      await fdb
        .selectFrom('survey_responses')
        .select(['reason', sql<number>`count(*)`.as('n')])
        .where('kind', '=', kind)
        .where('reason', 'is not', null)
        .where('answered_at', '>=', lower)
        .where('answered_at', '<', asOf)
        .groupBy('reason')
        .orderBy(sql`count(*)`, 'desc')
        .orderBy('reason')
        .execute()
    ).map((r) => ({ reason: r.reason ?? '', answers: Number(r.n) }));
  const byMonth = await fdb
    .selectFrom('survey_responses')
    .select([month.as('month'), 'reason', sql<number>`count(*)`.as('n')])
    .where('kind', '=', 'exit')
    .where('reason', 'is not', null)
    .where('answered_at', '>=', lower)
    .where('answered_at', '<', asOf)
    .groupBy([month, 'reason'])
    .orderBy(month)
    .orderBy('reason')
    .execute();
  const churn = await exitChurn(db, {
    asOf,
    ...(from !== undefined ? { from } : {}),
    months: byMonth.map((r) => r.month),
  });
  // The reasons by the stage the churn beside them is counted by: each customer's at the span's start.
  const stages = await groupAssignment(
    db,
    { kind: 'lifecycle' },
    churn.span?.from ?? Math.max(lower, 0),
    churn.salesEnd ?? asOf,
  );
  const segment = sql<string>`case when g.grp is null or g.grp = '(no sale yet)' then 'none' else g.grp end`;
  // Only the answers within the churn's span: after the orders end no stage can be read.
  const upper = churn.salesEnd === null ? asOf : Math.min(churn.span?.to ?? churn.salesEnd, asOf);
  const bySegment = (
    await sql<{ segment: string; reason: string; n: number }>`
      select ${segment} as segment, r.reason, count(*) as n
      from survey_responses r left join (${stages}) g on g.customer_id = r.customer_id
      where r.kind = 'exit' and r.reason is not null and r.answered_at >= ${lower} and r.answered_at < ${upper}
      group by ${segment}, r.reason
      order by ${segment}, r.reason`.execute(db)
  ).rows;
  const afterOrders = Number(
    (
      await fdb
        .selectFrom('survey_responses')
        .select(sql<number>`count(*)`.as('n'))
        .where('kind', '=', 'exit')
        .where('reason', 'is not', null)
        .where('answered_at', '>=', Math.max(lower, upper))
        .where('answered_at', '<', asOf)
        .executeTakeFirstOrThrow()
    ).n,
  );
  const comments = await fdb
    .selectFrom('survey_responses')
    .select(['customer_id', 'survey_key', 'score', 'reason', 'comment', 'answered_at'])
    .select(storeIdOf(sql.ref('survey_responses.customer_id')).as('store_id'))
    .where('comment', 'is not', null)
    .where('comment', '<>', '')
    .where('answered_at', '>=', lower)
    .where('answered_at', '<', asOf)
    .orderBy('answered_at', 'desc')
    .orderBy('id', 'desc')
    .limit(20)
    .execute();
  const reviewTotals = await fdb
    .selectFrom('product_reviews')
    .select([sql<number>`count(*)`.as('n'), sql<number>`sum(rating)`.as('total')])
    .where('created_at', '>=', lower)
    .where('created_at', '<', asOf)
    .executeTakeFirstOrThrow();
  const reviewCount = Number(reviewTotals.n);
  return {
    from: from ?? null,
    asOf,
    nps: npsSummary(totals),
    npsTrend,
    csat,
    csatTrend,
    responseRates: links.map((l) => ({
      survey: l.survey_key,
      issued: Number(l.issued),
      answered: Number(l.answered),
      rate: Number(l.issued) === 0 ? null : Number(l.answered) / Number(l.issued),
    })),
    exitReasons: {
      total: await reasons('exit'),
      bySegment: bySegment.map((r) => ({ segment: r.segment, reason: r.reason ?? '', answers: Number(r.n) })),
      byMonth: byMonth.map((r) => ({ month: r.month, reason: r.reason ?? '', answers: Number(r.n) })),
      churn: { ...churn, bySegment: stagesWithFigures(churn.bySegment, bySegment) },
      afterOrders,
    },
    cartReasons: await reasons('cart'),
    latestComments: comments.map((c) => ({
      customerId: c.customer_id,
      storeId: c.store_id,
      survey: c.survey_key,
      score: c.score,
      reason: c.reason,
      comment: c.comment ?? '',
      answeredAt: Number(c.answered_at),
    })),
    reviews: {
      count: reviewCount,
      average: reviewCount === 0 ? null : Number(reviewTotals.total) / reviewCount,
      latest: (await latestReviews(db, { limit: 10 })).filter((r) => r.createdAt < asOf),
    },
  };
}

/**
 * The stages worth a row beside the reasons: those with customers active at the span's start (a churn
 * rate) or with reasons; a stage with reasons and nobody in it gets zero customers and a null rate.
 */
function stagesWithFigures(
  churn: ExitChurn['bySegment'],
  reasons: ReadonlyArray<{ segment: string }>,
): ExitChurn['bySegment'] {
  const answered = new Set(reasons.map((r) => r.segment));
  const rows = churn.filter((c) => (c.customersStart ?? 0) > 0 || answered.has(c.segment));
  for (const segment of answered) {
    if (!rows.some((c) => c.segment === segment)) {
      rows.push({ segment, customersStart: 0, customersLost: 0, churnRate: null, cannotLeave: false });
    }
  }
  return rows.sort((a, b) => stageRank(a.segment) - stageRank(b.segment));
}
