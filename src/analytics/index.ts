/** The analytics surface: retention metrics, cohorts and per-customer summaries, computed in SQL. */
export {
  type AcquisitionOptions,
  type NewVsReturningMonth,
  newVsReturning,
  SECOND_ORDER_HORIZONS,
  type TimeToSecondOrder,
  timeToSecondOrder,
} from './acquisition.queries.js';
export {
  COHORT_BREAKDOWNS,
  COHORT_METRICS,
  COHORT_PERIODS,
  type CohortBreakdown,
  type CohortMetric,
  type CohortOptions,
  type CohortPeriod,
  type CohortRow,
  type CohortTable,
  cohortTable,
} from './cohorts.queries.js';
export { EMAIL_EVENTS, type Engagement, engagement } from './engagement.queries.js';
export {
  averageLifespanPeriods,
  averageOrderValue,
  churnRate,
  customerRetentionRate,
  customerValue,
  netRevenueRetention,
  purchaseFrequency,
  repeatPurchaseRate,
  returningCustomerRate,
  revenueChurn,
  simpleClv,
} from './formulas.js';
export {
  GROUP_KINDS,
  GROUP_RULES,
  type Grouping,
  type GroupKind,
  groupAssignment,
  groupingName,
  parseGrouping,
} from './groups.queries.js';
export { defaultPeriod, type Period, parseDurationDays, previousPeriod } from './periods.js';
export {
  type ActiveWindow,
  activeWindowOf,
  COMPARED_METRICS,
  type ComparedMetric,
  type CurrencyReport,
  DEFAULT_ACTIVE_WINDOW_DAYS,
  type FigureIssue,
  type GroupedFigures,
  type GroupFigures,
  groupedFigures,
  type PeriodFigures,
  periodFigures,
  type RetentionOptions,
  type RetentionReport,
  reportPeriod,
  retentionReport,
} from './report.queries.js';
export { type CurrencyCount, defaultAsOf, latestSaleEnd, saleCurrencies } from './sales.queries.js';
export {
  type CustomerSummaries,
  customerSummaries,
  type HoldoutOptions,
  type HoldoutPurchases,
  holdoutPurchases,
  type LeftOutCurrency,
  lastDayBefore,
  leftOutCurrencies,
  type SummaryOptions,
  type SummaryUnit,
} from './summary.queries.js';
