/** The shapes of the API answers the dashboard reads (the server's JSON, described for the browser). */

export interface PeriodFigures {
  from: number;
  to: number;
  customersStart: number;
  customersEnd: number;
  newCustomers: number;
  customersLost: number | null;
  retainedCustomers: number | null;
  reactivatedCustomers: number;
  crr: number | null;
  churnRate: number | null;
  repeatPurchaseRate: number | null;
  buyers: number;
  returningCustomers: number;
  returningCustomerRate: number | null;
  orders: number;
  revenue: number;
  aov: number | null;
  purchaseFrequency: number | null;
  clv: number | null;
  revenueChurn: number | null;
  netRevenueRetention: number | null;
  /** The data stops inside the period. */
  partial: boolean;
  /** Figures the data cannot support, by code. */
  unsupported: Array<{ code: string; figures: string[]; historyStart: string; needed: string; message: string }>;
}

/** One group's figures beside the others (`by=`). */
export interface GroupFigures extends PeriodFigures {
  group: string;
  previous: PeriodFigures;
}

export interface RetentionReport extends PeriodFigures {
  currency: string | null;
  /** What "an active customer" means in this report, in words. */
  definition: string;
  activeWindowDays: number;
  activeWindow: {
    days: number;
    source: 'given' | 'derived' | 'fallback';
    rule: string;
    repeatGaps?: number;
    p90GapDays?: number | null;
  };
  byGroup: { by: string; rule: string; currency: string; groups: GroupFigures[] } | null;
  previous: PeriodFigures;
  change: Record<string, number | null>;
}

export interface NewVsReturningMonth {
  month: string;
  newCustomers: number;
  returningCustomers: number;
  newRevenue: number;
  returningRevenue: number;
  partial: boolean;
}

export interface TimeToSecondOrder {
  customers: number;
  withSecondOrder: number;
  median: number | null;
  within: Array<{ days: number; eligible: number; returned: number; share: number | null }>;
}

export interface StoreStats {
  customers: number;
  orders: number;
  lastOrderAt: number | null;
}

/** What the Overview page loads: the report of the chosen months and the monthly series. */
export interface Overview {
  from: string;
  to: string;
  report: RetentionReport;
  newVsReturning: { currency: string | null; months: NewVsReturningMonth[] };
  timeToSecondOrder: TimeToSecondOrder;
}

export type CohortMetric = 'customers' | 'revenue' | 'ltv';

export interface CohortTable {
  metric: CohortMetric;
  currency: string | null;
  asOf: number;
  by: { name: string; rule: string } | null;
  partial: { cohort: string; start: string; lastDay: string; days: number; ofDays: number } | null;
  cohorts: Array<{ cohort: string; start: string; group?: string; size: number; values: number[] }>;
}

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

export interface CustomerItem {
  id: number;
  email: string | null;
  firstName: string | null;
  lastName: string | null;
  country: string | null;
  firstSeenAt: number;
  orders: number;
  lastOrderAt: number | null;
  storeId: string | null;
  revenue: Array<{ currency: string; revenueMinor: number; revenue: number }>;
}

export interface CustomerList {
  total: number;
  customers: CustomerItem[];
}

export interface OrderLine {
  lineNo: number;
  sku: string | null;
  title: string | null;
  quantity: number;
  totalMinor: number;
  kind: string;
}

export interface CustomerOrder {
  id: number;
  externalId: string;
  name: string | null;
  placedAt: number;
  placedOffset: number;
  currency: string;
  totalMinor: number;
  refundedMinor: number;
  status: string;
  lines: OrderLine[];
}

/** `GET /customers/:id`: the customer's story as src/segments tells it (the parts this page shows). */
export interface CustomerProfile {
  customer: Pick<CustomerItem, 'id' | 'email' | 'firstName' | 'lastName' | 'country' | 'firstSeenAt'> & {
    city: string | null;
    source: string;
  };
  identities: Array<{ source: string; externalId: string }>;
  revenue: Array<{ currency: string; orders: number; revenue: number }>;
  /** Oldest first. */
  orders: CustomerOrder[];
}

export type TimelineEntry =
  | {
      at: number;
      kind: 'order';
      orderId: number;
      externalId: string;
      name: string | null;
      status: string;
      totalMinor: number;
      refundedMinor: number;
      currency: string;
      placedOffset: number;
    }
  | { at: number; kind: 'refund'; orderId: number | null; amountMinor: number; currency: string; reason: string | null }
  | { at: number; kind: 'event'; type: string; event: string | null };

/** `GET /dashboard/customers/:id`: the segments' customer story with the model's prediction. */
export interface CustomerStory {
  asOf: number;
  currency: string | null;
  timeline: TimelineEntry[];
  rfm: { r: number; f: number; m: number; group: string; reason: string; recencyDays: number } | null;
  lifecycle: { stage: string; reason: string } | null;
  persona: { persona: string; label: string; reason: string } | null;
  labels: Array<{ kind: string; value: string; since: number; reason: string }>;
  segments: string[];
  /** `pAlive` is null when the model cannot tell who has left. */
  prediction: { pAlive: number | null; expectedPurchases: number; clv: number | null } | null;
}

export interface SegmentsView {
  asOf: number;
  rfm: {
    currency: string | null;
    customers: number;
    cells: Array<{ r: number; f: number; customers: number; revenue: number }>;
    groups: Array<{ group: string; customers: number; revenue: number }>;
  };
  personas: Array<{ persona: string; label: string; play: string; customers: number }>;
  lifecycle: {
    stages: Array<{ stage: string; customers: number }>;
    migration: { from: number; to: number; stages: string[]; counts: number[][] };
  };
  saved: Array<{ name: string; size: number; updatedAt: number; history: Array<{ asOf: number; size: number }> }>;
}

export interface Bin {
  from: number;
  to: number;
  count: number;
}

export interface Predictions {
  asOf: number;
  currency: string | null;
  available: boolean;
  note: string | null;
  model: {
    name: string;
    params: Record<string, number>;
    identified?: boolean;
    diagnostics?: Array<{ code: string; message: string }>;
  } | null;
  /** Why P(alive) is not shown (the fit cannot tell who has left); null when it is informative. */
  pAliveNote?: string | null;
  customers: number;
  horizonMonths: number;
  pAlive: Bin[];
  clv: Bin[];
  meanPAlive: number | null;
  totalClv: number | null;
  holdout: {
    calibrationEnd: number;
    weeks: number;
    customers: number;
    totalPredicted: number;
    totalActual: number;
    byFrequency: Array<{ label: string; customers: number; meanPredicted: number | null; meanActual: number | null }>;
  } | null;
}
