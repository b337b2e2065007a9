import { Type } from '@fastify/type-provider-typebox';
import {
  COHORT_BREAKDOWNS,
  COHORT_METRICS,
  COHORT_PERIODS,
  cohortTable,
  DEFAULT_ACTIVE_WINDOW_DAYS,
  defaultAsOf,
  newVsReturning,
  parseDurationDays,
  retentionReport,
  timeToSecondOrder,
} from '../../analytics/index.js';
import { ComebackError } from '../../errors.js';
import type { Db } from '../../store/index.js';
import type { ApiApp, RouteDeps } from '../app.types.js';
import { authErrors, dateQuery } from '../schemas.js';

const DateParam = (description: string) =>
  Type.Optional(Type.String({ maxLength: 40, description: `${description}: YYYY-MM-DD (UTC) or an ISO 8601 instant` }));

const Currency = Type.Optional(
  Type.String({ pattern: '^[A-Za-z]{3}$', description: 'one currency; default the main currency of the store' }),
);

// The analytics results are large and typed in src/analytics (RetentionReport, CohortTable …); the
// schema documents them loosely so that a field added there is never dropped by the serialiser.
const Loose = (description: string) => Type.Object({}, { additionalProperties: true, description });

/** `asOf` as given, else the day after the latest sale (as the CLI), else now. */
async function asOfOf(db: Db, text: string | undefined, currency: string | undefined, now: number): Promise<number> {
  return dateQuery(text, 'asOf') ?? (await defaultAsOf(db, currency)) ?? now;
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
          from: DateParam('start of the period (default: 12 full months before asOf)'),
          to: DateParam('end of the period, exclusive'),
          asOf: DateParam('the moment described (default: the day after the latest sale)'),
          activeWindow: Type.Optional(
            Type.String({
              maxLength: 10,
              description: `a customer at t bought within this window: 365d, 52w, 12m (default ${DEFAULT_ACTIVE_WINDOW_DAYS}d)`,
            }),
          ),
          currency: Currency,
        }),
        response: { 200: Loose('RetentionReport'), ...authErrors },
      },
    },
    async (request) => {
      const q = request.query;
      let activeWindowDays = DEFAULT_ACTIVE_WINDOW_DAYS;
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
      const from = dateQuery(q.from, 'from');
      const to = dateQuery(q.to, 'to');
      if (from !== undefined && to !== undefined && from >= to) {
        throw new ComebackError('bad_input', 'must be before to', { location: { field: 'from' } });
      }
      const asOf = await asOfOf(db, q.asOf, q.currency, deps.now());
      return retentionReport(db, { from, to, asOf, activeWindowDays, currency: q.currency });
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
          asOf: DateParam('only sales before this count (default: the day after the latest sale)'),
          currency: Currency,
        }),
        response: { 200: Loose('CohortTable'), ...authErrors },
      },
    },
    async (request) => {
      const { period, metric, breakdown, currency } = request.query;
      const asOf = await asOfOf(db, request.query.asOf, currency, deps.now());
      return cohortTable(db, { period, metric, breakdown, currency, asOf });
    },
  );

  const acquisitionQuery = Type.Object({
    from: DateParam('start of the range'),
    to: DateParam('end of the range, exclusive'),
    asOf: DateParam('only sales before this count (default: the day after the latest sale)'),
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
      const asOf = await asOfOf(db, q.asOf, q.currency, deps.now());
      return newVsReturning(db, {
        asOf,
        from: dateQuery(q.from, 'from'),
        to: dateQuery(q.to, 'to'),
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
      const asOf = await asOfOf(db, q.asOf, q.currency, deps.now());
      return timeToSecondOrder(db, {
        asOf,
        from: dateQuery(q.from, 'from'),
        to: dateQuery(q.to, 'to'),
        currency: q.currency,
      });
    },
  );
}
