/**
 * The MBG/NBD model: Batislam, Denizel & Filiztekin (2007), "Empirical validation and comparison of
 * models for customer base analysis", International Journal of Research in Marketing 24(3), 201–209,
 * with the corrections of Wagner & Hoppe (2008), "Erratum on the MBG/NBD model", IJRM 25(3). As BG/NBD,
 * but the customer may also drop out right after the first purchase, so a customer without repeat
 * purchases is not certainly alive. Equation references are to the BG/NBD paper (Fader, Hardie & Lee
 * 2005) whose derivations this follows with b + x + 1 in place of b + x.
 */
import {
  BGNBD_PARAMS,
  type BgNbdParams,
  betaGeometricLogLikelihood,
  defineBetaGeometricModel,
  smoothAtOne,
} from './bgnbd.js';
import type { FitOptions, FitResult, PurchasePredictor } from './fit.js';
import type { Histories, RfmSummary } from './histories.js';
import { nbdLogPmf, nbdUpperTail } from './nbd.js';
import { hyp2f1, lbeta, lgamma, logistic, softplus } from './special.js';

/** MBG/NBD parameters have BG/NBD's names and meanings. */
export type MbgNbdParams = BgNbdParams;

/** Parameter names in the order the fit reports them: BG/NBD's. */
export const MBGNBD_PARAMS = BGNBD_PARAMS;

/**
 * One customer's log-likelihood (Batislam et al. 2007, Appendix A):
 * L = Γ(r+x)α^r/Γ(r) · [B(a,b+x+1)/B(a,b)·(α+T)^−(r+x) + B(a+1,b+x)/B(a,b)·(α+t_x)^−(r+x)],
 * taken in logs as ln[Γ(r+x)α^r/Γ(r)] + ln[B(a,b+x+1)/B(a,b)] − (r+x)ln(α+T) + ln(1 + a/(b+x)·((α+T)/(α+t_x))^(r+x)).
 */
export function mbgnbdCustomerLogLikelihood(params: MbgNbdParams, x: number, tx: number, T: number): number {
  const { r, alpha, a, b } = params;
  const logT = Math.log(alpha + T);
  return (
    lgamma(r + x) -
    lgamma(r) +
    r * Math.log(alpha) +
    lbeta(a, b + x + 1) -
    lbeta(a, b) -
    (r + x) * logT +
    softplus(Math.log(a / (b + x)) + (r + x) * (logT - Math.log(alpha + tx)))
  );
}

/**
 * The log-likelihood summed over histories with their weights (BG/NBD's eq. 6 with b + x + 1, see
 * `betaGeometricLogLikelihood`); `gradient`, when given, receives ∂LL/∂(r, α, a, b).
 */
export function mbgnbdLogLikelihood(params: MbgNbdParams, histories: Histories, gradient?: Float64Array): number {
  return betaGeometricLogLikelihood(params, histories, 1, gradient);
}

/** MBG/NBD as a purchase model: its parameters, likelihood and predictions. */
export const MBGNBD = defineBetaGeometricModel({
  model: 'mbgnbd',
  logLikelihood: mbgnbdLogLikelihood,
  probabilityAlive: mbgnbdProbabilityAlive,
  conditionalExpectedPurchases: mbgnbdConditionalExpectedPurchases,
  expectedPurchases: mbgnbdExpectedPurchases,
  probabilityOfPurchases: mbgnbdProbabilityOfPurchases,
});

/** Reads MBG/NBD parameters from a record such as `FitResult.params`. */
export function mbgnbdParams(record: Readonly<Record<string, number>>): MbgNbdParams {
  return MBGNBD.params(record);
}

/** Fits MBG/NBD by maximum likelihood over the distinct histories of a calibration summary. */
export function fitMbgNbd(summary: RfmSummary, options: FitOptions = {}): FitResult {
  return MBGNBD.fit(summary, options);
}

/** The MBG/NBD predictions behind the common interface. */
export function mbgnbdPredictor(params: MbgNbdParams): PurchasePredictor {
  return MBGNBD.predictor(params);
}

/** P(alive at T | x, t_x, T) (Batislam et al. 2007, Appendix A eq. 5): 1 / (1 + a/(b+x)·((α+T)/(α+t_x))^(r+x)). */
export function mbgnbdProbabilityAlive(params: MbgNbdParams, x: number, tx: number, T: number): number {
  const { r, alpha, a, b } = params;
  return logistic(-(Math.log(a / (b + x)) + (r + x) * (Math.log(alpha + T) - Math.log(alpha + tx))));
}

/**
 * E[X(t)] for a new customer (Batislam et al. 2007, Appendix A): b/(a−1)·[1 − (α/(α+t))^r ₂F₁(r, b+1; a+b; t/(α+t))],
 * with Euler's transformation (A&S 15.3.3): (1−z)^r ₂F₁(r, b+1; a+b; z) = (1−z)^(a−1) ₂F₁(a+b−r, a−1; a+b; z).
 */
export function mbgnbdExpectedPurchases(params: MbgNbdParams, t: number): number {
  if (t <= 0) return 0;
  const { r, alpha, b } = params;
  return smoothAtOne(params.a, (a) => {
    const z = t / (alpha + t);
    const survivor = (1 - z) ** (a - 1) * hyp2f1(a + b - r, a - 1, a + b, z);
    return (b / (a - 1)) * (1 - survivor);
  });
}

/**
 * Expected purchases in (T, T+t] given (x, t_x, T) (Wagner & Hoppe 2008, the corrected expression):
 * (a+b+x)/(a−1)·[1 − ((α+T)/(α+T+t))^(r+x) ₂F₁(r+x, b+x+1; a+b+x; t/(α+T+t))] · P(alive),
 * with Euler's transformation to ₂F₁(a+b−r, a−1; a+b+x; z) and the factor (1−z)^(a−1).
 */
export function mbgnbdConditionalExpectedPurchases(
  params: MbgNbdParams,
  t: number,
  x: number,
  tx: number,
  T: number,
): number {
  if (t <= 0) return 0;
  const { r, alpha, b } = params;
  const alive = mbgnbdProbabilityAlive(params, x, tx, T);
  return smoothAtOne(params.a, (a) => {
    const z = t / (alpha + T + t);
    const survivor = (1 - z) ** (a - 1) * hyp2f1(a + b - r, a - 1, a + b + x, z);
    return ((a + b + x) / (a - 1)) * (1 - survivor) * alive;
  });
}

/**
 * P(X(t) = n) for a new customer: B(a,b+n+1)/B(a,b)·NB(n) + B(a+1,b+n)/B(a,b)·P(NB ≥ n), where the
 * second term for n = 0 is a/(a+b), the share who drop out at once (Batislam et al. 2007, Appendix A;
 * the BG/NBD eq. 8 argument with one more dropout opportunity).
 */
export function mbgnbdProbabilityOfPurchases(params: MbgNbdParams, n: number, t: number): number {
  const { r, alpha, a, b } = params;
  if (!(Number.isInteger(n) && n >= 0)) return 0;
  const stillAlive = Math.exp(lbeta(a, b + n + 1) - lbeta(a, b) + nbdLogPmf(r, alpha, t, n));
  return stillAlive + Math.exp(lbeta(a + 1, b + n) - lbeta(a, b)) * nbdUpperTail(r, alpha, t, n);
}
