export {
  type CustomerScore,
  type FitStoreOptions,
  fitStoreModel,
  type HoldoutCheck,
  type ScoreOptions,
  type ScoreRun,
  type StoreFit,
  scoreCustomers,
  UNIT_DAYS,
} from './predict.js';
