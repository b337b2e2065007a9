/**
 * The Pareto/NBD model: Schmittlein, Morrison & Colombo (1987), "Counting Your Customers: Who Are They
 * and What Will They Do Next?", Management Science 33(1), 1–24. While alive a customer buys at Poisson
 * rate λ ~ Gamma(r, α) and has an exponential lifetime with rate μ ~ Gamma(s, β). The expressions are
 * those of Fader & Hardie (2005), "A Note on Deriving the Pareto/NBD Model and Related Expressions"
 * (equation numbers below), and Fader & Hardie (2006, rev. 2020), "Deriving an Expression for
 * P(X(t) = x) Under the Pareto/NBD Model".
 */

import type { FitOptions, FitResult, PurchasePredictor } from './fit.js';
import type { Histories, RfmSummary } from './histories.js';
import { closedFormPredictions, definePurchaseModel, transactionStart } from './model-definition.js';
import { nbdLogPmf } from './nbd.js';
import { appellF1, digamma, hyp2f1, lbeta, lgamma, log1mExp, logAddExp } from './special.js';

/** Pareto/NBD parameters: purchase rate λ ~ Gamma(r, α), dropout rate μ ~ Gamma(s, β). */
export interface ParetoNbdParams {
  r: number;
  alpha: number;
  s: number;
  beta: number;
}

/** Parameter names in the order the fit reports them. */
export const PNBD_PARAMS = ['r', 'alpha', 's', 'beta'] as const;

/** Below this z the 2F1(1, b; c; z) series is summed inline; above it `logHyp2f1OneIntegral` takes over. */
const INLINE_SERIES_LIMIT = 0.9;

/**
 * ln 2F1(1, b; c; z) for c > 1, b > 0 and 0 ≤ z < 1. For z ≤ 0.9 by its series, where every term
 * ratio (b+n)/(c+n)·z is below z, so the tail after a term is at most term · z/(1−z); with
 * `derivatives`, also fills ∂ln F/∂b, ∂ln F/∂c and ∂ln F/∂z, summed in the same loop
 * (∂(b)ₙ/∂b = (b)ₙ Σ_{k<n} 1/(b+k), and likewise for c). Above 0.9 by `logHyp2f1OneIntegral`.
 */
function logHyp2f1One(b: number, c: number, z: number, derivatives?: Float64Array): number {
  if (z > INLINE_SERIES_LIMIT) return logHyp2f1OneIntegral(b, c, z, derivatives);
  let term = 1;
  let sum = 1;
  let dB = 0;
  let dC = 0;
  let dZ = 0;
  let harmonicB = 0;
  let harmonicC = 0;
  const tailFactor = z / (1 - z);
  for (let n = 0; n < 10_000; n++) {
    const step = (b + n) / (c + n);
    if (derivatives) {
      harmonicB += 1 / (b + n);
      harmonicC += 1 / (c + n);
      // term · step = (b)ₙ₊₁/(c)ₙ₊₁ · zⁿ, the coefficient of zⁿ in the derivative in z.
      dZ += (n + 1) * term * step;
    }
    term *= step * z;
    sum += term;
    if (derivatives) {
      dB += term * harmonicB;
      dC -= term * harmonicC;
    }
    if (term * tailFactor <= 1e-17 * sum) break;
  }
  if (derivatives) {
    derivatives[0] = dB / sum;
    derivatives[1] = dC / sum;
    derivatives[2] = dZ / sum;
  }
  return Math.log(sum);
}

// Eight-point Gauss–Legendre rule on [−1, 1] (A&S Table 25.4), nodes ±x with weights w.
const GAUSS_NODES = [0.18343464249564978, 0.525532409916329, 0.7966664774136267, 0.9602898564975362];
const GAUSS_WEIGHTS = [0.36268378337836166, 0.3137066458778869, 0.22238103445337443, 0.10122853629037706];
/** The integrand is left out once it is below e^−50 of its peak (a relative 2e−22). */
const NEGLIGIBLE_LOG = -50;
/** A safety cap on quadrature panels; the step rule below needs about a hundred. */
const MAX_PANELS = 4000;

/**
 * ln 2F1(1, b; c; z) for c > 1, b > 0 and 0.9 < z < 1 from Euler's integral (A&S 15.3.1) with
 * 1 − t = e^−v: 2F1 = (c−1)∫₀^∞ e^f(v) dv, f(v) = −(c−1)v − b·ln(1 − z + z e^−v). f is concave
 * (f″ = −b·g(1−g) with g = z e^−v/(1 − z + z e^−v)), so the integrand has one peak, found in closed
 * form, and composite eight-point Gauss–Legendre panels step away from it on both sides with widths
 * min(1, 1/|f′|, 1/√|f″|): the log-integrand changes by O(1) over a panel, so the rule is exact to
 * rounding, and about a hundred panels suffice whatever b and c (the series and the 1 − z connection
 * formula need a number of terms that grows with them, which made Pareto/NBD fits with large r run
 * for minutes). Once max(b, 1)·z e^−v/(1−z) ≤ 0.1 the rest of the integral is a binomial series in
 * e^−v integrated term by term (see below). The derivatives in b, c and z are integrated with the same
 * nodes and terms (differentiation under the integral sign).
 */
function logHyp2f1OneIntegral(b: number, c: number, z: number, derivatives?: Float64Array): number {
  const decay = c - 1;
  const oneMinusZ = 1 - z;
  const logD = (v: number) => Math.log(oneMinusZ + z * Math.exp(-v));
  const f = (v: number) => -decay * v - b * logD(v);
  const gOf = (v: number) => {
    const w = z * Math.exp(-v);
    return w / (oneMinusZ + w);
  };
  // The peak: f′(v) = −(c−1) + b·g(v) = 0, at v = 0 when f′(0) ≤ 0.
  const k = decay / b;
  const peak = b * z > decay ? Math.log((z * (1 - k)) / (k * oneMinusZ)) : 0;
  const top = f(peak);
  let sum = 0;
  let sumB = 0;
  let sumC = 0;
  let sumZ = 0;
  const add = (v: number, weight: number): number => {
    const expV = Math.exp(-v);
    const d = oneMinusZ + z * expV;
    const logValue = -decay * v - b * Math.log(d) - top;
    const value = weight * Math.exp(logValue);
    sum += value;
    if (derivatives) {
      sumB -= value * Math.log(d);
      sumC -= value * v;
      sumZ -= (value * b * (expV - 1)) / d;
    }
    return logValue;
  };
  const panel = (from: number, to: number) => {
    const middle = (from + to) / 2;
    const half = (to - from) / 2;
    for (let i = 0; i < GAUSS_NODES.length; i++) {
      const offset = half * (GAUSS_NODES[i] ?? 0);
      const weight = Math.abs(half) * (GAUSS_WEIGHTS[i] ?? 0);
      add(middle - offset, weight);
      add(middle + offset, weight);
    }
  };
  const width = (v: number) => {
    const g = gOf(v);
    const slope = Math.abs(b * g - decay);
    const curvature = b * g * (1 - g);
    return Math.min(1, 1 / slope, 1 / Math.sqrt(curvature));
  };
  // Left of the peak, down to v = 0.
  let v = peak;
  for (let n = 0; n < MAX_PANELS && v > 0; n++) {
    const next = Math.max(0, v - width(v));
    panel(next, v);
    v = next;
    if (f(v) - top < NEGLIGIBLE_LOG) break;
  }
  // Right of the peak, until the integrand is negligible or its tail has a series: with
  // ρ = z/(1−z), (1 − z + z e^−v)^−b = (1−z)^−b Σₖ (−1)ᵏ (b)ₖ/k! ρᵏ e^−kv, integrated term by term,
  // once max(b, 1)·ρ e^−v ≤ 0.1 makes every term at most a tenth of the one before.
  const rho = z / oneMinusZ;
  const logOneMinusZ = Math.log(oneMinusZ);
  v = peak;
  for (let n = 0; n <= MAX_PANELS; n++) {
    const rest = f(v) - top;
    if (rest < NEGLIGIBLE_LOG) break;
    const ratio = rho * Math.exp(-v);
    if (Math.max(b, 1) * ratio <= 0.1) {
      let term = Math.exp(-b * logOneMinusZ - decay * v - top) / decay;
      let harmonic = 0;
      for (let k = 0; k < 60; k++) {
        sum += term;
        if (derivatives) {
          sumB += term * (harmonic - logOneMinusZ);
          sumC -= term * (v + 1 / (decay + k));
          sumZ += term * (b / oneMinusZ + k / (z * oneMinusZ));
        }
        if (Math.abs(term) <= 1e-17 * Math.abs(sum)) break;
        harmonic += 1 / (b + k);
        term *= ((-(b + k) / (k + 1)) * ratio * (decay + k)) / (decay + k + 1);
      }
      break;
    }
    const next = v + width(v);
    panel(v, next);
    v = next;
  }
  if (derivatives) {
    derivatives[0] = sumB / sum;
    derivatives[1] = 1 / decay + sumC / sum;
    derivatives[2] = sumZ / sum;
  }
  return Math.log(decay) + top + Math.log(sum);
}

/** Reused by `logTail` for the series' partial derivatives, so a likelihood evaluation allocates nothing per point. */
const seriesPartials = new Float64Array(3);

/**
 * log τ(t), where τ(t) = (r+s+x)∫ₜ^∞ (α+u)^−(r+x) (β+u)^−(s+1) du, so that A₀ = τ(t_x) − τ(T)
 * (Fader & Hardie 2005, eqs. 19–20). The note writes τ with ₂F₁(r+s+x, s+1 or r+x; r+s+x+1; z), using
 * z = (α−β)/(α+t) when α ≥ β and z = (β−α)/(β+t) when α < β so that 0 ≤ z < 1; Euler's
 * transformation (A&S 15.3.3) turns that into ₂F₁(1, ·; r+s+x+1; z), whose terms shrink from the first:
 * α ≥ β: τ = ₂F₁(1, r+x; c; z) (β+t)^−s (α+t)^−(r+x);  α < β: τ = ₂F₁(1, s+1; c; z) (α+t)^−(r+x−1) (β+t)^−(s+1).
 * With `gradient`, fills ∂ log τ / ∂(r, α, s, β).
 */
function logTail(
  r: number,
  alpha: number,
  s: number,
  beta: number,
  x: number,
  t: number,
  gradient?: Float64Array,
): number {
  const c = r + s + x + 1;
  const logA = Math.log(alpha + t);
  const logB = Math.log(beta + t);
  const partials = gradient ? seriesPartials : undefined;
  if (alpha >= beta) {
    const z = (alpha - beta) / (alpha + t);
    const logG = logHyp2f1One(r + x, c, z, partials);
    if (gradient) {
      const gb = seriesPartials[0] ?? 0;
      const gc = seriesPartials[1] ?? 0;
      const gz = seriesPartials[2] ?? 0;
      gradient[0] = gb + gc - logA;
      gradient[1] = (gz * (beta + t)) / ((alpha + t) * (alpha + t)) - (r + x) / (alpha + t);
      gradient[2] = gc - logB;
      gradient[3] = -gz / (alpha + t) - s / (beta + t);
    }
    return logG - s * logB - (r + x) * logA;
  }
  const z = (beta - alpha) / (beta + t);
  const logH = logHyp2f1One(s + 1, c, z, partials);
  if (gradient) {
    const hb = seriesPartials[0] ?? 0;
    const hc = seriesPartials[1] ?? 0;
    const hz = seriesPartials[2] ?? 0;
    gradient[0] = hc - logA;
    gradient[1] = -hz / (beta + t) - (r + x - 1) / (alpha + t);
    gradient[2] = hb + hc - logB;
    gradient[3] = (hz * (alpha + t)) / ((beta + t) * (beta + t)) - (s + 1) / (beta + t);
  }
  return logH - (r + x - 1) * logA - (s + 1) * logB;
}

/**
 * log of the bracket in eq. 18 without the constant Γ(r+x)α^rβ^s/Γ(r):
 * ln[(α+T)^−(r+x)(β+T)^−s + s/(r+s+x)·A₀], as a log-sum-exp so it stays finite on real data.
 * Returns the two logged terms as well, for P(alive) and the conditional expectation.
 */
function logBracket(params: ParetoNbdParams, x: number, tx: number, T: number): { alive: number; total: number } {
  const { r, alpha, s, beta } = params;
  const alive = -(r + x) * Math.log(alpha + T) - s * Math.log(beta + T);
  if (tx >= T) return { alive, total: alive };
  const upper = logTail(r, alpha, s, beta, x, tx);
  const lower = logTail(r, alpha, s, beta, x, T);
  // ln A₀ = ln(τ(t_x) − τ(T)); τ decreases in t, so the difference is ≤ 0 up to rounding.
  const logA0 = upper + log1mExp(Math.min(0, lower - upper));
  const dead = Math.log(s) - Math.log(r + s + x) + logA0;
  return { alive, total: logAddExp(alive, dead) };
}

/** One customer's log-likelihood (Fader & Hardie 2005, eq. 18, with A₀ from eqs. 19–20). */
export function pnbdCustomerLogLikelihood(params: ParetoNbdParams, x: number, tx: number, T: number): number {
  const { r, alpha, s, beta } = params;
  const constant = lgamma(r + x) - lgamma(r) + r * Math.log(alpha) + s * Math.log(beta);
  return constant + logBracket(params, x, tx, T).total;
}

/**
 * The distinct (x, t) points at which a likelihood evaluation needs τ: (x, t_x) and (x, T) of every
 * history. Far fewer than two per history (all customers without repeat purchases share (0, 0), and
 * T takes one value per cohort day), and τ is the expensive part.
 */
interface TailPoints {
  x: Float64Array;
  t: Float64Array;
  /** Per history, the point of (x, t_x); −1 when t_x = T and the dead term vanishes. */
  upper: Int32Array;
  /** Per history, the point of (x, T). */
  lower: Int32Array;
}

const tailPointsCache = new WeakMap<Histories, TailPoints>();

function tailPoints(histories: Histories): TailPoints {
  const cached = tailPointsCache.get(histories);
  if (cached) return cached;
  const index = new Map<string, number>();
  const xs: number[] = [];
  const ts: number[] = [];
  const point = (x: number, t: number): number => {
    const key = `${x}|${t}`;
    let k = index.get(key);
    if (k === undefined) {
      k = xs.length;
      index.set(key, k);
      xs.push(x);
      ts.push(t);
    }
    return k;
  };
  const upper = new Int32Array(histories.count);
  const lower = new Int32Array(histories.count);
  for (let i = 0; i < histories.count; i++) {
    const x = histories.x[i] ?? 0;
    const tx = histories.tx[i] ?? 0;
    const T = histories.T[i] ?? 0;
    upper[i] = tx < T ? point(x, tx) : -1;
    lower[i] = point(x, T);
  }
  const points = { x: Float64Array.from(xs), t: Float64Array.from(ts), upper, lower };
  tailPointsCache.set(histories, points);
  return points;
}

/**
 * The log-likelihood summed over histories, weighted by how many customers share each (eq. 18).
 * When `gradient` is given it receives ∂LL/∂(r, α, s, β), differentiated analytically through the
 * hypergeometric function (see `logHyp2f1One`).
 */
export function pnbdLogLikelihood(params: ParetoNbdParams, histories: Histories, gradient?: Float64Array): number {
  const { r, alpha, s, beta } = params;
  const points = tailPoints(histories);
  const pointCount = points.x.length;
  // Per point: log τ, ∂ log τ/∂(r, α, s, β), and ln(α+t), ln(β+t) for the alive term at t = T.
  const logTau = new Float64Array(pointCount);
  const logAlphaT = new Float64Array(pointCount);
  const logBetaT = new Float64Array(pointCount);
  const dTau = gradient ? new Float64Array(4 * pointCount) : undefined;
  const scratch = new Float64Array(4);
  for (let k = 0; k < pointCount; k++) {
    const t = points.t[k] ?? 0;
    logTau[k] = logTail(r, alpha, s, beta, points.x[k] ?? 0, t, dTau ? scratch : undefined);
    logAlphaT[k] = Math.log(alpha + t);
    logBetaT[k] = Math.log(beta + t);
    if (dTau) dTau.set(scratch, 4 * k);
  }
  const levels = histories.xLevels;
  const constant = new Float64Array(levels.length);
  const dConstantR = new Float64Array(levels.length);
  const logAlpha = Math.log(alpha);
  const logBeta = Math.log(beta);
  const logS = Math.log(s);
  const shared = -lgamma(r) + r * logAlpha + s * logBeta;
  const psiR = gradient ? digamma(r) : 0;
  for (let k = 0; k < levels.length; k++) {
    constant[k] = lgamma(r + (levels[k] ?? 0)) + shared;
    if (gradient) dConstantR[k] = digamma(r + (levels[k] ?? 0)) - psiR + logAlpha;
  }
  let ll = 0;
  let gr = 0;
  let gAlpha = 0;
  let gs = 0;
  let gBeta = 0;
  const { x: xs, T: Ts, weight, xLevel } = histories;
  const { upper, lower } = points;
  for (let i = 0; i < histories.count; i++) {
    const x = xs[i] ?? 0;
    const w = weight[i] ?? 0;
    const level = xLevel[i] ?? 0;
    const low = lower[i] ?? 0;
    const up = upper[i] ?? -1;
    const logAT = logAlphaT[low] ?? 0;
    const logBT = logBetaT[low] ?? 0;
    const alive = -(r + x) * logAT - s * logBT;
    let total = alive;
    let dead = Number.NEGATIVE_INFINITY;
    let ratio = 0;
    if (up >= 0) {
      const logUpper = logTau[up] ?? 0;
      const difference = Math.min(0, (logTau[low] ?? 0) - logUpper);
      ratio = Math.exp(difference);
      dead = logS - Math.log(r + s + x) + logUpper + log1mExp(difference);
      total = logAddExp(alive, dead);
    }
    ll += w * ((constant[level] ?? 0) + total);
    if (!gradient || !dTau) continue;
    // The gradient of a log-sum-exp weighs each term's gradient by its share of the sum; the dead
    // term's is ∂ ln(τ₁ − τ₂) = (∂ ln τ₁ − ρ ∂ ln τ₂)/(1 − ρ) with ρ = τ₂/τ₁.
    const aliveShare = Math.exp(alive - total);
    const T = Ts[i] ?? 0;
    gr += w * ((dConstantR[level] ?? 0) - aliveShare * logAT);
    gAlpha += w * (r / alpha - (aliveShare * (r + x)) / (alpha + T));
    gs += w * (logBeta - aliveShare * logBT);
    gBeta += w * (s / beta - (aliveShare * s) / (beta + T));
    const deadShare = up >= 0 ? Math.exp(dead - total) : 0;
    if (deadShare === 0) continue;
    const scale = deadShare / (1 - ratio);
    const rsx = r + s + x;
    const u = 4 * up;
    const l = 4 * low;
    gr += w * (scale * ((dTau[u] ?? 0) - ratio * (dTau[l] ?? 0)) - deadShare / rsx);
    gAlpha += w * scale * ((dTau[u + 1] ?? 0) - ratio * (dTau[l + 1] ?? 0));
    gs += w * (scale * ((dTau[u + 2] ?? 0) - ratio * (dTau[l + 2] ?? 0)) + deadShare * (1 / s - 1 / rsx));
    gBeta += w * scale * ((dTau[u + 3] ?? 0) - ratio * (dTau[l + 3] ?? 0));
  }
  if (gradient) {
    gradient[0] = gr;
    gradient[1] = gAlpha;
    gradient[2] = gs;
    gradient[3] = gBeta;
  }
  return ll;
}

/** Pareto/NBD as a purchase model: its parameters, likelihood and predictions. */
export const PNBD = definePurchaseModel<ParetoNbdParams>({
  model: 'pnbd',
  names: PNBD_PARAMS,
  fromArray: (t) => ({
    r: t[0] ?? Number.NaN,
    alpha: t[1] ?? Number.NaN,
    s: t[2] ?? Number.NaN,
    beta: t[3] ?? Number.NaN,
  }),
  start: (histories) => {
    const [r = 1, alpha = 1] = transactionStart(histories);
    // β starts at α: the lifetime and inter-purchase scales are usually of the same order.
    return [r, alpha, 1, alpha];
  },
  logLikelihood: pnbdLogLikelihood,
  predictions: closedFormPredictions({
    probabilityAlive: pnbdProbabilityAlive,
    conditionalExpectedPurchases: pnbdConditionalExpectedPurchases,
    expectedPurchases: pnbdExpectedPurchases,
    probabilityOfPurchases: pnbdProbabilityOfPurchases,
  }),
  dropoutParameters: ['s', 'beta'],
});

/** Reads Pareto/NBD parameters from a record such as `FitResult.params`. */
export function pnbdParams(record: Readonly<Record<string, number>>): ParetoNbdParams {
  return PNBD.params(record);
}

/** Fits Pareto/NBD by maximum likelihood over the distinct histories, with the analytic gradient. */
export function fitParetoNbd(summary: RfmSummary, options: FitOptions = {}): FitResult {
  return PNBD.fit(summary, options);
}

/** The Pareto/NBD predictions behind the common interface. */
export function pnbdPredictor(params: ParetoNbdParams): PurchasePredictor {
  return PNBD.predictor(params);
}

/**
 * P(alive at T | x, t_x, T) (Fader & Hardie 2005, section 5): the share of the likelihood that
 * comes from the customer still being alive at T.
 */
export function pnbdProbabilityAlive(params: ParetoNbdParams, x: number, tx: number, T: number): number {
  const { alive, total } = logBracket(params, x, tx, T);
  return Math.exp(alive - total);
}

/**
 * E[X(t)] for a new customer (Fader & Hardie 2005, eq. 27): rβ/(α(s−1))·[1 − (β/(β+t))^(s−1)],
 * written with expm1 so that it stays exact at s = 1 (where it tends to rβ/α·ln((β+t)/β)).
 */
export function pnbdExpectedPurchases(params: ParetoNbdParams, t: number): number {
  if (t <= 0) return 0;
  const { r, alpha, s, beta } = params;
  return ((r * beta) / alpha) * lifetimeIntegral(s, beta, t);
}

/**
 * Expected purchases in (T, T+t] given (x, t_x, T) (Fader & Hardie 2005, eq. 41):
 * (r+x)(β+T)/((α+T)(s−1))·[1 − ((β+T)/(β+T+t))^(s−1)] · P(alive).
 */
export function pnbdConditionalExpectedPurchases(
  params: ParetoNbdParams,
  t: number,
  x: number,
  tx: number,
  T: number,
): number {
  if (t <= 0) return 0;
  const { r, alpha, s, beta } = params;
  const rate = (r + x) / (alpha + T);
  return rate * (beta + T) * lifetimeIntegral(s, beta + T, t) * pnbdProbabilityAlive(params, x, tx, T);
}

/** [1 − (β/(β+t))^(s−1)]/(s−1), the expected alive time in (0, t] over β, continuous at s = 1. */
function lifetimeIntegral(s: number, beta: number, t: number): number {
  const logRatio = Math.log(beta / (beta + t));
  const k = s - 1;
  if (Math.abs(k * logRatio) < 1e-300) return -logRatio;
  return -Math.expm1(k * logRatio) / k;
}

/** Below this the bracket B₁ − Σ has lost more than two digits to cancellation. */
const CANCELLED_BRACKET = 1e-2;

/**
 * P(X(t) = n) for a new customer (Fader & Hardie, "Deriving an Expression for P(X(t) = x) Under the
 * Pareto/NBD Model", section 4, the final expression with its B₁ and B₂):
 * NB(n)·(β/(β+t))^s + α^rβ^s·B(r+n, s+1)/B(r, s)·[B₁ − Σ_{j=0..n} Γ(r+s+j)/(Γ(r+s) j!)·t^j·B₂(j)].
 * For small t or large n the bracket is a difference of nearly equal numbers; there the death-in-(0, t]
 * term is computed instead from the integral it comes from, s·∫₀ᵗ … (the note's section 4), which
 * the substitution u = t(1 − w) turns into an Appell series of positive terms:
 * NB(n)·(β/(β+t))^s · s·t/((β+t)(n+1)) · F1(1; r+n, s+1; n+2; t/(α+t), t/(β+t)).
 */
export function pnbdProbabilityOfPurchases(params: ParetoNbdParams, n: number, t: number): number {
  const { r, alpha, s, beta } = params;
  if (!(Number.isInteger(n) && n >= 0)) return 0;
  if (t <= 0) return n === 0 ? 1 : 0;
  const stillAlive = Math.exp(nbdLogPmf(r, alpha, t, n) + s * Math.log(beta / (beta + t)));
  const rs = r + s;
  const c = rs + n + 1;
  // B₁ and B₂(j) use the same switch as the likelihood so that the 2F1 argument lies in [0, 1).
  const big = Math.max(alpha, beta);
  const second = alpha >= beta ? s + 1 : r + n;
  const logB1 = Math.log(hyp2f1(rs, second, c, Math.abs(alpha - beta) / big)) - rs * Math.log(big);
  let sum = 0;
  const logT = Math.log(t);
  const z2 = Math.abs(alpha - beta) / (big + t);
  const logBigT = Math.log(big + t);
  for (let j = 0; j <= n; j++) {
    const logB2 = Math.log(hyp2f1(rs + j, second, c, z2)) - (rs + j) * logBigT;
    const logCoefficient = lgamma(rs + j) - lgamma(rs) - lgamma(j + 1) + (j === 0 ? 0 : j * logT);
    sum += Math.exp(logCoefficient + logB2 - logB1);
  }
  const bracket = 1 - sum;
  if (bracket >= CANCELLED_BRACKET) {
    const logScale = r * Math.log(alpha) + s * Math.log(beta) + lbeta(r + n, s + 1) - lbeta(r, s) + logB1;
    return stillAlive + Math.exp(logScale) * bracket;
  }
  const died = appellF1(1, r + n, s + 1, n + 2, t / (alpha + t), t / (beta + t));
  return stillAlive * (1 + ((s * t) / ((beta + t) * (n + 1))) * died);
}
