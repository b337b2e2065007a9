import { Type } from '@fastify/type-provider-typebox';
import {
  COHORT_BREAKDOWNS,
  COHORT_METRICS,
  COHORT_PERIODS,
  cohortTable,
  defaultAsOf,
  GROUP_KINDS,
  type Grouping,
  newVsReturning,
  parseDurationDays,
  parseGrouping,
  retentionReport,
  timeToSecondOrder,
} from '../../analytics/index.js';
import { ComebackError } from '../../errors.js';
import type { Db } from '../../store/index.js';
import type { ApiApp, RouteDeps } from '../app.types.js';
import { authErrors, dateQuery, endDateQuery } from '../schemas.js';
import { storeZone } from '../store-zone.js';

const DateParam = (description: string) =>
  Type.Optional(
    Type.String({
      maxLength: 40,
      description: `${description}: YYYY-MM-DD (a day of the store's time zone, the messaging setting timeZone, default UTC) or an ISO 8601 instant`,
    }),
  );

/** An end date: a day is included (`to=2011-03-31` includes March 31; `asOf=D` is the end of day D). */
const EndDateParam = (description: string) =>
  Type.Optional(
    Type.String({
      maxLength: 40,
      description: `${description}: YYYY-MM-DD (a day of the store's time zone, the messaging setting timeZone, default UTC), that day included (the range ends at the next local midnight), or an ISO 8601 instant, taken as it is`,
    }),
  );

const Currency = Type.Optional(
  Type.String({ pattern: '^[A-Za-z]{3}$', description: 'one currency; default the main currency of the store' }),
);

// The analytics results are large and typed in src/analytics (RetentionReport, CohortTable …); the
// schema documents them loosely so that a field added there is never dropped by the serialiser.
const Loose = (description: string) => Type.Object({}, { additionalProperties: true, description });

/**
 * `asOf` as given (a day: its end), else the end of the day of the latest sale (as the CLI), else now;
 * days are days of `timeZone`, the store's zone (`storeZone`).
 */
async function asOfOf(
  db: Db,
  text: string | undefined,
  currency: string | undefined,
  now: number,
  timeZone: string,
): Promise<number> {
  return endDateQuery(text, 'asOf', timeZone) ?? (await defaultAsOf(db, currency, timeZone)) ?? now;
}

const By = Type.Optional(
  Type.String({
    maxLength: 200,
    description: `every figure per group of customers: ${GROUP_KINDS.filter((k) => k !== 'segment').join(', ')} or segment:NAME`,
  }),
);

/** `by=` as a grouping; 400 naming `by` when unknown. */
function byQuery(text: string | undefined): Grouping | undefined {
  if (text === undefined || text === '') return undefined;
  try {
    return parseGrouping(text);
  } catch (error) {
    throw new ComebackError('bad_input', error instanceof Error ? error.message : String(error), {
      cause: error,
      location: { field: 'by' },
    });
  }
}

/** Retention metrics and acquisition cohorts from `src/analytics`. */
export function registerMetricRoutes(app: ApiApp, deps: RouteDeps): void {
  const db = deps.store.db;

  app.get(
    '/metrics',
    {
      config: { access: 'read' },
      schema: {
        summary: 'Retention report of a period beside the previous one (CRR, churn, repeat rate, AOV, CLV, …)',
        description: 'The shape is `RetentionReport` of src/analytics. Rates are fractions, money in major units.',
        tags: ['analytics'],
        querystring: Type.Object({
          from: DateParam('first day of the period (default: the last full month before asOf)'),
          to: EndDateParam('last day of the period'),
          asOf: EndDateParam('the store as of the end of this day (default: the end of the day of the latest sale)'),
          activeWindow: Type.Optional(
            Type.String({
              maxLength: 10,
              description:
                "a customer at t bought within this window: 365d, 52w, 12m (default: derived from the store's repeat-purchase gaps, see activeWindow in the answer)",
            }),
          ),
          currency: Currency,
          by: By,
        }),
        response: { 200: Loose('RetentionReport'), ...authErrors },
      },
    },
    async (request) => {
      const q = request.query;
      let activeWindowDays: number | undefined;
      if (q.activeWindow !== undefined) {
        try {
          activeWindowDays = parseDurationDays(q.activeWindow, 'activeWindow');
        } catch (error) {
          throw new ComebackError('bad_input', 'write a positive duration such as 365d, 52w or 12m', {
            cause: error,
            location: { field: 'activeWindow' },
          });
        }
      }
      // The store's zone (messaging settings): typed days, the as-of and the default month are its days, as in the CLI.
      const timeZone = await storeZone(db);
      const from = dateQuery(q.from, 'from', timeZone);
      const to = endDateQuery(q.to, 'to', timeZone);
      if (from !== undefined && to !== undefined && from >= to) {
        throw new ComebackError('bad_input', 'must be before to', { location: { field: 'from' } });
      }
      const asOf = await asOfOf(db, q.asOf, q.currency, deps.now(), timeZone);
      const by = byQuery(q.by);
      return retentionReport(db, { from, to, asOf, activeWindowDays, currency: q.currency, by, timeZone });
    },
  );

  app.get(
    '/cohorts',
    {
      config: { access: 'read' },
      schema: {
        summary: 'Acquisition cohorts by month or ISO week: share who bought, revenue or LTV per period since',
        description: 'The shape is `CohortTable` of src/analytics.',
        tags: ['analytics'],
        querystring: Type.Object({
          period: Type.Optional(Type.Union(COHORT_PERIODS.map((p) => Type.Literal(p)))),
          metric: Type.Optional(Type.Union(COHORT_METRICS.map((m) => Type.Literal(m)))),
          breakdown: Type.Optional(Type.Union(COHORT_BREAKDOWNS.map((b) => Type.Literal(b)))),
          asOf: EndDateParam(
            'only sales up to the end of this day count (default: the end of the day of the latest sale)',
          ),
          currency: Currency,
          by: By,
        }),
        response: { 200: Loose('CohortTable'), ...authErrors },
      },
    },
    async (request) => {
      const { period, metric, breakdown, currency } = request.query;
      const by = byQuery(request.query.by);
      if (by !== undefined && breakdown !== undefined) {
        throw new ComebackError('bad_input', 'give either breakdown or by', { location: { field: 'by' } });
      }
      const asOf = await asOfOf(db, request.query.asOf, currency, deps.now(), await storeZone(db));
      return cohortTable(db, { period, metric, breakdown, by, currency, asOf });
    },
  );

  const acquisitionQuery = Type.Object({
    from: DateParam('first day of the range'),
    to: EndDateParam('last day of the range'),
    asOf: EndDateParam('only sales up to the end of this day count (default: the end of the day of the latest sale)'),
    currency: Currency,
  });

  app.get(
    '/metrics/new-vs-returning',
    {
      config: { access: 'read' },
      schema: {
        summary: 'New and returning customers, orders and revenue per month',
        tags: ['analytics'],
        querystring: acquisitionQuery,
        response: { 200: Loose('{ currency, months: NewVsReturningMonth[] }'), ...authErrors },
      },
    },
    async (request) => {
      const q = request.query;
      const timeZone = await storeZone(db);
      const asOf = await asOfOf(db, q.asOf, q.currency, deps.now(), timeZone);
      return newVsReturning(db, {
        asOf,
        from: dateQuery(q.from, 'from', timeZone),
        to: endDateQuery(q.to, 'to', timeZone),
        currency: q.currency,
      });
    },
  );

  app.get(
    '/metrics/time-to-second-order',
    {
      config: { access: 'read' },
      schema: {
        summary: 'Days from first to second purchase of the customers acquired in a range',
        tags: ['analytics'],
        querystring: acquisitionQuery,
        response: { 200: Loose('TimeToSecondOrder'), ...authErrors },
      },
    },
    async (request) => {
      const q = request.query;
      const timeZone = await storeZone(db);
      const asOf = await asOfOf(db, q.asOf, q.currency, deps.now(), timeZone);
      return timeToSecondOrder(db, {
        asOf,
        from: dateQuery(q.from, 'from', timeZone),
        to: endDateQuery(q.to, 'to', timeZone),
        currency: q.currency,
      });
    },
  );
}
