/**
 * The BG/NBD model: Fader, Hardie & Lee (2005), "'Counting Your Customers' the Easy Way: An
 * Alternative to the Pareto/NBD Model", Marketing Science 24(2), 275–284. While alive a customer buys
 * at Poisson rate λ ~ Gamma(r, α); after each repeat purchase she drops out with probability
 * p ~ Beta(a, b). Equation numbers below are the paper's.
 */
import type { FitOptions, FitResult, PurchasePredictor } from './fit.js';
import type { Histories, RfmSummary } from './histories.js';
import {
  type ClosedForms,
  closedFormPredictions,
  definePurchaseModel,
  type PurchaseModel,
  transactionStart,
} from './model-definition.js';
import { nbdLogPmf, nbdUpperTail } from './nbd.js';
import { digamma, hyp2f1, lbeta, lgamma, logistic, softplus } from './special.js';

/** BG/NBD parameters: purchase rate λ ~ Gamma(r, α), dropout probability p ~ Beta(a, b). */
export interface BgNbdParams {
  r: number;
  alpha: number;
  a: number;
  b: number;
}

/** Parameter names in the order the fit reports them. */
export const BGNBD_PARAMS = ['r', 'alpha', 'a', 'b'] as const;

/**
 * One customer's log-likelihood, eq. 6 in log-sum-exp form:
 * ln L = ln[Γ(r+x)α^r/Γ(r)] + ln[B(a,b+x)/B(a,b)] − (r+x)ln(α+T) + ln(1 + δ(x>0)·a/(b+x−1)·((α+T)/(α+t_x))^(r+x)).
 */
export function bgnbdCustomerLogLikelihood(params: BgNbdParams, x: number, tx: number, T: number): number {
  const { r, alpha, a, b } = params;
  const logT = Math.log(alpha + T);
  let ll = lgamma(r + x) - lgamma(r) + r * Math.log(alpha) + lbeta(a, b + x) - lbeta(a, b) - (r + x) * logT;
  if (x > 0) ll += softplus(Math.log(a / (b + x - 1)) + (r + x) * (logT - Math.log(alpha + tx)));
  return ll;
}

/**
 * The log-likelihood summed over histories, weighted by how many customers share each (eq. 6). When
 * `gradient` is given it receives ∂LL/∂(r, α, a, b), differentiated analytically.
 */
export function bgnbdLogLikelihood(params: BgNbdParams, histories: Histories, gradient?: Float64Array): number {
  return betaGeometricLogLikelihood(params, histories, 0, gradient);
}

/**
 * The likelihood shared by BG/NBD (`shift` 0) and MBG/NBD (`shift` 1, Batislam et al. 2007, whose
 * customer may also drop out right after the first purchase): eq. 6 with b + x + shift in place of
 * b + x, in log-sum-exp form,
 * ln L = ln[Γ(r+x)α^r/Γ(r)] + ln[B(a,b+x+k)/B(a,b)] − (r+x)ln(α+T) + ln(1 + δ·a/(b+x+k−1)·((α+T)/(α+t_x))^(r+x)),
 * with δ = 1 when x > 0 or k = 1. `gradient` receives ∂LL/∂(r, α, a, b); terms that depend on x
 * alone are computed once per distinct x.
 */
export function betaGeometricLogLikelihood(
  params: BgNbdParams,
  histories: Histories,
  shift: 0 | 1,
  gradient?: Float64Array,
): number {
  const { r, alpha, a, b } = params;
  const levels = histories.xLevels;
  const base = new Float64Array(levels.length);
  const logOdds = new Float64Array(levels.length);
  const dBaseR = new Float64Array(levels.length);
  const dBaseA = new Float64Array(levels.length);
  const dBaseB = new Float64Array(levels.length);
  const common = lgamma(r) + lbeta(a, b);
  const psiR = gradient ? digamma(r) : 0;
  const psiAB = gradient ? digamma(a + b) : 0;
  const psiB = gradient ? digamma(b) : 0;
  for (let k = 0; k < levels.length; k++) {
    const x = levels[k] ?? 0;
    base[k] = lgamma(r + x) + lbeta(a, b + x + shift) - common;
    logOdds[k] = x > 0 || shift === 1 ? Math.log(a / (b + x + shift - 1)) : Number.NaN;
    if (gradient) {
      const psiABX = digamma(a + b + x + shift);
      dBaseR[k] = digamma(r + x) - psiR;
      dBaseA[k] = psiAB - psiABX;
      dBaseB[k] = digamma(b + x + shift) - psiABX - psiB + psiAB;
    }
  }
  const logAlpha = Math.log(alpha);
  let ll = 0;
  let gr = 0;
  let gAlpha = 0;
  let ga = 0;
  let gb = 0;
  const { x: xs, tx: txs, T: Ts, weight, xLevel } = histories;
  for (let i = 0; i < histories.count; i++) {
    const x = xs[i] ?? 0;
    const w = weight[i] ?? 0;
    const k = xLevel[i] ?? 0;
    const T = Ts[i] ?? 0;
    const logT = Math.log(alpha + T);
    let term = (base[k] ?? 0) + r * logAlpha - (r + x) * logT;
    const odds = logOdds[k] ?? Number.NaN;
    if (!Number.isNaN(odds)) {
      const tx = txs[i] ?? 0;
      const logTx = Math.log(alpha + tx);
      const u = odds + (r + x) * (logT - logTx);
      term += softplus(u);
      if (gradient) {
        // σ(u) is the posterior probability that the customer dropped out after the last purchase.
        const dead = logistic(u);
        gr += w * dead * (logT - logTx);
        gAlpha += w * dead * (r + x) * (1 / (alpha + T) - 1 / (alpha + tx));
        ga += (w * dead) / a;
        gb -= (w * dead) / (b + x + shift - 1);
      }
    }
    if (gradient) {
      gr += w * ((dBaseR[k] ?? 0) + logAlpha - logT);
      gAlpha += w * (r / alpha - (r + x) / (alpha + T));
      ga += w * (dBaseA[k] ?? 0);
      gb += w * (dBaseB[k] ?? 0);
    }
    ll += w * term;
  }
  if (gradient) {
    gradient[0] = gr;
    gradient[1] = gAlpha;
    gradient[2] = ga;
    gradient[3] = gb;
  }
  return ll;
}

/**
 * What sets MBG/NBD apart from BG/NBD (Batislam et al. 2007 against Fader, Hardie & Lee 2005): its
 * name, its likelihood (`betaGeometricLogLikelihood` with shift 1 rather than 0) and its closed forms.
 */
export interface BetaGeometricVariant extends ClosedForms<BgNbdParams> {
  model: 'bgnbd' | 'mbgnbd';
  logLikelihood(params: BgNbdParams, histories: Histories, gradient?: Float64Array): number;
}

/**
 * The one definition behind BG/NBD and MBG/NBD: parameters (r, α, a, b) in that order, starting values
 * from `transactionStart`, dropout through p ~ Beta(a, b); the variant supplies the rest.
 */
export function defineBetaGeometricModel(variant: BetaGeometricVariant): PurchaseModel<BgNbdParams> {
  const { model, logLikelihood, ...forms } = variant;
  return definePurchaseModel<BgNbdParams>({
    model,
    names: BGNBD_PARAMS,
    fromArray: (t) => ({
      r: t[0] ?? Number.NaN,
      alpha: t[1] ?? Number.NaN,
      a: t[2] ?? Number.NaN,
      b: t[3] ?? Number.NaN,
    }),
    start: transactionStart,
    logLikelihood,
    predictions: closedFormPredictions(forms),
    dropoutParameters: ['a', 'b'],
  });
}

/** BG/NBD as a purchase model: its parameters, likelihood and predictions. */
export const BGNBD = defineBetaGeometricModel({
  model: 'bgnbd',
  logLikelihood: bgnbdLogLikelihood,
  probabilityAlive: bgnbdProbabilityAlive,
  conditionalExpectedPurchases: bgnbdConditionalExpectedPurchases,
  expectedPurchases: bgnbdExpectedPurchases,
  probabilityOfPurchases: bgnbdProbabilityOfPurchases,
});

/** Reads BG/NBD parameters from a record such as `FitResult.params`. */
export function bgnbdParams(record: Readonly<Record<string, number>>): BgNbdParams {
  return BGNBD.params(record);
}

/** Fits BG/NBD by maximum likelihood over the distinct histories of a calibration summary. */
export function fitBgNbd(summary: RfmSummary, options: FitOptions = {}): FitResult {
  return BGNBD.fit(summary, options);
}

/** The BG/NBD predictions behind the common interface. */
export function bgnbdPredictor(params: BgNbdParams): PurchasePredictor {
  return BGNBD.predictor(params);
}

/**
 * P(alive at T | x, t_x, T) (Fader, Hardie & Lee 2008, "Computing P(alive) Using the BG/NBD Model":
 * the alive term's share of eq. 6): 1 / (1 + δ(x>0)·a/(b+x−1)·((α+T)/(α+t_x))^(r+x)). A customer
 * without repeat purchases cannot have dropped out in this model, so it is 1 for x = 0.
 */
export function bgnbdProbabilityAlive(params: BgNbdParams, x: number, tx: number, T: number): number {
  if (x === 0) return 1;
  const { r, alpha, a, b } = params;
  return logistic(-(Math.log(a / (b + x - 1)) + (r + x) * (Math.log(alpha + T) - Math.log(alpha + tx))));
}

/**
 * E[X(t)] for a new customer, eq. 9: (a+b−1)/(a−1)·[1 − (α/(α+t))^r ₂F₁(r, b; a+b−1; t/(α+t))],
 * with Euler's transformation (Abramowitz & Stegun 15.3.3) so the series has small parameters:
 * (1−z)^r ₂F₁(r, b; a+b−1; z) = (1−z)^(a−1) ₂F₁(a+b−1−r, a−1; a+b−1; z).
 */
export function bgnbdExpectedPurchases(params: BgNbdParams, t: number): number {
  if (t <= 0) return 0;
  const { r, alpha, b } = params;
  return smoothAtOne(params.a, (a) => {
    const z = t / (alpha + t);
    const survivor = (1 - z) ** (a - 1) * hyp2f1(a + b - 1 - r, a - 1, a + b - 1, z);
    return ((a + b - 1) / (a - 1)) * (1 - survivor);
  });
}

/**
 * Expected purchases in (T, T+t] given the history (x, t_x, T), eq. 10:
 * (a+b+x−1)/(a−1)·[1 − ((α+T)/(α+T+t))^(r+x) ₂F₁(r+x, b+x; a+b+x−1; t/(α+T+t))] · P(alive),
 * with the same Euler transformation as `bgnbdExpectedPurchases`.
 */
export function bgnbdConditionalExpectedPurchases(
  params: BgNbdParams,
  t: number,
  x: number,
  tx: number,
  T: number,
): number {
  if (t <= 0) return 0;
  const { r, alpha, b } = params;
  const alive = bgnbdProbabilityAlive(params, x, tx, T);
  return smoothAtOne(params.a, (a) => {
    const z = t / (alpha + T + t);
    const survivor = (1 - z) ** (a - 1) * hyp2f1(a + b - 1 - r, a - 1, a + b + x - 1, z);
    return ((a + b + x - 1) / (a - 1)) * (1 - survivor) * alive;
  });
}

/**
 * P(X(t) = n) for a new customer, eq. 8:
 * B(a,b+n)/B(a,b)·NB(n) + δ(n>0)·B(a+1,b+n−1)/B(a,b)·P(NB ≥ n), with NB the NBD(r, α) count in (0, t].
 */
export function bgnbdProbabilityOfPurchases(params: BgNbdParams, n: number, t: number): number {
  const { r, alpha, a, b } = params;
  if (!(Number.isInteger(n) && n >= 0)) return 0;
  const stillAlive = Math.exp(lbeta(a, b + n) - lbeta(a, b) + nbdLogPmf(r, alpha, t, n));
  if (n === 0) return stillAlive;
  return stillAlive + Math.exp(lbeta(a + 1, b + n - 1) - lbeta(a, b)) * nbdUpperTail(r, alpha, t, n);
}

/**
 * Evaluates f(a) where the closed form has a removable 0/0 at a = 1 (the (a−1) denominators of eqs.
 * 9 and 10): close to 1 it interpolates between a = 1 ± h, where f is smooth, with an O(h²) error.
 */
export function smoothAtOne(a: number, f: (a: number) => number): number {
  const h = 1e-5;
  if (Math.abs(a - 1) >= h) return f(a);
  const below = f(1 - h);
  return below + ((a - (1 - h)) / (2 * h)) * (f(1 + h) - below);
}
