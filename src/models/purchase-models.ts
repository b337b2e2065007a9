/**
 * One entry point over the three purchase models, so that a face can take the model's name from the
 * command line (`comeback fit bgnbd`) and later rebuild its predictor from a stored `FitResult`.
 */
import { BGNBD } from './bgnbd.js';
import type { FitOptions, FitResult, PurchasePredictor } from './fit.js';
import type { RfmSummary } from './histories.js';
import { MBGNBD } from './mbgnbd.js';
import type { PurchaseModelName } from './model-definition.js';
import { PNBD } from './pnbd.js';

export type { PurchaseModelName } from './model-definition.js';

/** Every purchase model, in the order a user would try them. */
export const PURCHASE_MODELS: readonly PurchaseModelName[] = ['bgnbd', 'mbgnbd', 'pnbd'];

/** True when `name` is one of the purchase models. */
export function isPurchaseModel(name: string): name is PurchaseModelName {
  return name === 'bgnbd' || name === 'mbgnbd' || name === 'pnbd';
}

/** Fits the named purchase model to a calibration summary. */
export function fitPurchaseModel(model: PurchaseModelName, summary: RfmSummary, options: FitOptions = {}): FitResult {
  switch (model) {
    case 'bgnbd':
      return BGNBD.fit(summary, options);
    case 'mbgnbd':
      return MBGNBD.fit(summary, options);
    case 'pnbd':
      return PNBD.fit(summary, options);
  }
}

/** The predictor of a fitted (or stored) purchase model; throws for a Gamma-Gamma fit. */
export function purchasePredictor(fit: Pick<FitResult, 'model' | 'params'>): PurchasePredictor {
  switch (fit.model) {
    case 'bgnbd':
      return BGNBD.predictor(BGNBD.params(fit.params));
    case 'mbgnbd':
      return MBGNBD.predictor(MBGNBD.params(fit.params));
    case 'pnbd':
      return PNBD.predictor(PNBD.params(fit.params));
    case 'gg':
      throw new RangeError('a Gamma-Gamma fit predicts spend, not purchases');
  }
}
