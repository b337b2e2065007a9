/** The models surface: pure buy-till-you-die models, numbers in and numbers out. */
export {
  BGNBD_PARAMS,
  type BgNbdParams,
  bgnbdConditionalExpectedPurchases,
  bgnbdCustomerLogLikelihood,
  bgnbdExpectedPurchases,
  bgnbdLogLikelihood,
  bgnbdParams,
  bgnbdPredictor,
  bgnbdProbabilityAlive,
  bgnbdProbabilityOfPurchases,
  fitBgNbd,
} from './bgnbd.js';
export {
  type ChurnBand,
  type ChurnThresholds,
  type ClvOptions,
  type CustomerPredictions,
  churnBand,
  churnRisk,
  customerLifetimeValue,
  customerLifetimeValues,
  DEFAULT_CHURN_THRESHOLDS,
  type NextOrderOptions,
  predictCustomers,
  timeToNextOrder,
} from './clv.js';
export {
  type FitOptions,
  type FitResult,
  MIN_CUSTOMERS,
  MIN_REPEATERS,
  type ModelName,
  type PurchasePredictor,
} from './fit.js';
export {
  CORRELATION_WARNING,
  fitGammaGamma,
  type GammaGammaParams,
  GG_PARAMS,
  ggConditionalExpectedSpend,
  ggCustomerLogLikelihood,
  ggExpectedSpend,
  ggLogLikelihood,
  ggParams,
  groupSpend,
  type SpendGroups,
  type SpendSummary,
  spendFrequencyCorrelation,
} from './gamma-gamma.js';
export {
  checkSummary,
  groupHistories,
  type Histories,
  type RfmSummary,
  rfmSummary,
  ungroupedHistories,
} from './histories.js';
export { compareHoldout, type HoldoutComparison, type HoldoutRow } from './holdout.js';
export {
  fitMbgNbd,
  MBGNBD_PARAMS,
  type MbgNbdParams,
  mbgnbdConditionalExpectedPurchases,
  mbgnbdCustomerLogLikelihood,
  mbgnbdExpectedPurchases,
  mbgnbdLogLikelihood,
  mbgnbdParams,
  mbgnbdPredictor,
  mbgnbdProbabilityAlive,
  mbgnbdProbabilityOfPurchases,
} from './mbgnbd.js';
export {
  fitParetoNbd,
  type ParetoNbdParams,
  PNBD_PARAMS,
  pnbdConditionalExpectedPurchases,
  pnbdCustomerLogLikelihood,
  pnbdExpectedPurchases,
  pnbdLogLikelihood,
  pnbdParams,
  pnbdPredictor,
  pnbdProbabilityAlive,
  pnbdProbabilityOfPurchases,
} from './pnbd.js';
export {
  fitPurchaseModel,
  isPurchaseModel,
  PURCHASE_MODELS,
  type PurchaseModelName,
  purchasePredictor,
} from './purchase-models.js';
export {
  type Rng,
  seededRng,
  simulateBgNbd,
  simulateGammaGamma,
  simulateParetoNbd,
} from './simulate.js';
