/**
 * The shapes of the API answers the dashboard reads: the server's own types, imported as types only
 * (nothing of the server is bundled), so that a change on the server that the dashboard does not
 * follow fails `npm run typecheck:web`.
 */

import type { NewVsReturningMonth, TimeToSecondOrder } from '../../src/analytics/acquisition.queries.js';
import type { CohortTable as ServerCohortTable } from '../../src/analytics/cohorts.queries.js';
import type { RetentionReport } from '../../src/analytics/report.queries.js';
import type { CustomerListItem, searchCustomers } from '../../src/api/customers.queries.js';
import type {
  PredictionsView,
  CustomerStory as ServerCustomerStory,
  SegmentsView as ServerSegmentsView,
} from '../../src/api/routes/dashboard.js';
import type { Who as ServerWho, WhoOrNone as ServerWhoOrNone } from '../../src/api/routes/session.js';
import type { CustomerProfile as ServerCustomerProfile, TimelineEntry } from '../../src/segments/profile.queries.js';

export type { NewVsReturningMonth, TimeToSecondOrder } from '../../src/analytics/acquisition.queries.js';
export type { GroupFigures, PeriodFigures, RetentionReport } from '../../src/analytics/report.queries.js';
export type { StoreStats } from '../../src/store/stats.queries.js';
export type { TimelineEntry };

/** `GET /session`: who is signed in. */
export type Who = ServerWho;
/** `GET /session` before sign-in too. */
export type WhoOrNone = ServerWhoOrNone;

/** What the Overview page loads: the report of the chosen months and the monthly series. */
export interface Overview {
  from: string;
  to: string;
  report: RetentionReport;
  newVsReturning: { currency: string | null; months: NewVsReturningMonth[] };
  timeToSecondOrder: TimeToSecondOrder;
}

/** `GET /cohorts`. */
export type CohortTable = ServerCohortTable;
export type CohortMetric = CohortTable['metric'];

/** The groupings `by=` takes on /metrics and /cohorts (a saved segment is `segment:NAME`). */
export const GROUPINGS = [
  'country',
  'payment',
  'source',
  'medium',
  'campaign',
  'referrer',
  'channel',
  'rfm',
  'persona',
  'lifecycle',
  'tier',
] as const;

/** One row of `GET /customers`. */
export type CustomerItem = CustomerListItem;
/** `GET /customers`. */
export type CustomerList = Awaited<ReturnType<typeof searchCustomers>>;
/** `GET /customers/:id`: the customer's story as src/segments tells it. */
export type CustomerProfile = ServerCustomerProfile;
export type CustomerOrder = CustomerProfile['orders'][number];
export type OrderLine = CustomerOrder['lines'][number];
/** `GET /dashboard/customers/:id`: the story with the model's prediction. */
export type CustomerStory = ServerCustomerStory;
/** `GET /dashboard/segments`. */
export type SegmentsView = ServerSegmentsView;
/** `GET /dashboard/predictions`. */
export type Predictions = PredictionsView;
/** One bar of a histogram. */
export type Bin = Predictions['clv'][number];
