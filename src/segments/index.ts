export { type ClusterResult, computeClusters, type PersonaCard } from './clusters.js';
export { resolveCustomerRef } from './customer-ref.queries.js';
export { mainCurrency } from './customers.queries.js';
export {
  type AudienceExport,
  type AudienceLayout,
  audienceCsv,
  audienceExport,
  countryCode,
  type ExportCustomer,
  e164Phone,
  exportCustomers,
  membersCsv,
  normaliseAudienceEmail,
  normaliseAudiencePhone,
  normaliseGoogleEmail,
} from './export.js';
export { type KMeansResult, kMeans, standardise } from './kmeans.js';
export {
  computeLifecycle,
  type GapThresholds,
  gapThresholds,
  LIFECYCLE_STAGES,
  type LifecycleAssignment,
  type LifecycleOptions,
  type LifecycleStage,
  lifecycleByRange,
  lifecycleMigration,
  lifecycleStage,
  type MigrationMatrix,
} from './lifecycle.js';
export {
  classifyPersona,
  computePersonas,
  PERSONA_ORDER,
  PERSONAS,
  type Persona,
  type PersonaAssignment,
  type PersonaOptions,
  personasByRange,
} from './personas.js';
export {
  type CustomerProfile,
  customerProfile,
  latestScoresWithoutPAlive,
  loadLatestScores,
  resolveCustomerId,
  type TimelineEntry,
} from './profile.queries.js';
export { quintileScores } from './quintiles.js';
export {
  computeRfm,
  countBy,
  type RfmColumns,
  type RfmResult,
  type RfmScore,
  rfmColumns,
  rfmScoreAt,
} from './rfm.js';
export { RFM_GROUPS, RFM_RULES, type RfmGroup, rfmGroup } from './rfm-groups.js';
export { MAX_RULE_DEPTH, parseRule, type Rule, type RuleParseOptions } from './rules.js';
export { compileRule, selectByRule } from './rules.queries.js';
export { salesAsOf } from './sales-as-of.queries.js';
export {
  getSavedSegment,
  type LabelChange,
  listSavedSegments,
  type RefreshChanges,
  type RefreshSummary,
  refreshMembership,
  refreshSegments,
  refreshSegmentsForCustomers,
  type SavedSegment,
  saveSegment,
  segmentMemberIds,
  segmentSizeHistory,
  segmentsInUse,
  storeLabels,
} from './segments.queries.js';
export type { CustomerScores, ScoresByCustomer } from './tables.js';
