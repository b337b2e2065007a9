export {
  type AnswerOptions,
  type Candidate,
  type CatalogueItem,
  candidates,
  DEFAULT_ANSWER,
  eligible,
  type Flag,
  finish,
  flags,
  type ItemInfo,
  METHODS,
  type Method,
  type ModelView,
  modelFromBuild,
  type Neighbour,
  type Reason,
  type ReasonKind,
  type Recommendation,
  type Signal,
  type SignalKind,
} from './answer.js';
export {
  type BuildParams,
  type BuildResult,
  buildRecommender,
  DEFAULT_BUILD_PARAMS,
  type Interactions,
  median,
  RELATIONS,
  type Relation,
} from './build.js';
export { defaultCut, EVALUATED_METHODS, type Evaluation, evaluate, type MethodScore } from './evaluate.js';
export { withFallback } from './fallback.js';
export {
  type BlockItem,
  type BuildSummary,
  buildRecommendations,
  type CustomerRecommendations,
  evaluateStore,
  profileRecommendations,
  type RecommendOptions,
  recommendationsBlock,
  recommendForCustomer,
} from './recommend.js';
export {
  type LoadedInteractions,
  latestBuild,
  loadInteractions,
  type RepurchaseCycle,
  repurchaseCycles,
  SIGNAL_EVENTS,
} from './recommend.queries.js';
