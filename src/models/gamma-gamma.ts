/**
 * The Gamma-Gamma model of spend per transaction: Fader, Hardie & Lee (2005), "RFM and CLV: Using
 * Iso-Value Curves for Customer Base Analysis", Journal of Marketing Research 42(4), 415–430, and
 * Fader & Hardie (2013), "The Gamma-Gamma Model of Monetary Value" (equation numbers are the note's).
 * A customer's transaction values are Gamma(p, ν) with ν ~ Gamma(q, γ) across customers, independent of
 * the purchase process; the model is fitted on repeat customers' mean repeat-transaction value.
 */
import {
  type FitDiagnostic,
  type FitOptions,
  type FitResult,
  failedFit,
  fitMaximumLikelihood,
  MIN_REPEATERS,
  positiveParam,
  withDiagnostics,
} from './fit.js';
import { groupRows } from './histories.js';
import { digamma, lgamma } from './special.js';

/** Gamma-Gamma parameters: transaction value ~ Gamma(p, ν), ν ~ Gamma(q, γ). */
export interface GammaGammaParams {
  p: number;
  q: number;
  gamma: number;
}

/** Parameter names in the order the fit reports them. */
export const GG_PARAMS = ['p', 'q', 'gamma'] as const;

/** Per-customer spend summary: repeat transactions x and their mean value m (z̄ in the papers). */
export interface SpendSummary {
  readonly x: Float64Array;
  readonly mean: Float64Array;
}

/** |ρ(x, m)| at or above this and the fit warns that spend depends on frequency. */
export const CORRELATION_WARNING = 0.3;

/** Reads Gamma-Gamma parameters from a record such as `FitResult.params`. */
export function ggParams(record: Readonly<Record<string, number>>): GammaGammaParams {
  return {
    p: positiveParam('gg', record, 'p'),
    q: positiveParam('gg', record, 'q'),
    gamma: positiveParam('gg', record, 'gamma'),
  };
}

/**
 * One customer's log-likelihood, the density of the mean m of x transaction values (eq. 1a):
 * Γ(px+q)/(Γ(px)Γ(q)) · γ^q m^(px−1) x^(px) / (γ + x m)^(px+q).
 */
export function ggCustomerLogLikelihood(params: GammaGammaParams, x: number, m: number): number {
  const { p, q, gamma } = params;
  const px = p * x;
  return (
    lgamma(px + q) -
    lgamma(px) -
    lgamma(q) +
    q * Math.log(gamma) +
    (px - 1) * Math.log(m) +
    px * Math.log(x) -
    (px + q) * Math.log(gamma + x * m)
  );
}

/** Distinct (x, m) pairs of repeat customers with their weights. */
export interface SpendGroups {
  readonly x: Float64Array;
  readonly mean: Float64Array;
  readonly weight: Float64Array;
  readonly count: number;
  readonly customers: number;
  /** Repeat customers (x > 0) left out because their mean spend is zero (or not a positive number). */
  readonly zeroSpendRepeaters: number;
}

/** Groups repeat customers (x > 0, m > 0) by equal (x, m); everyone else carries no spend information. */
export function groupSpend(summary: SpendSummary): SpendGroups {
  const { x, mean } = summary;
  if (x.length !== mean.length)
    throw new RangeError(`spend arrays differ in length: x ${x.length}, mean ${mean.length}`);
  const keepX: number[] = [];
  const keepM: number[] = [];
  let zeroSpendRepeaters = 0;
  for (let i = 0; i < x.length; i++) {
    const xi = x[i] ?? 0;
    const mi = mean[i] ?? 0;
    if (xi > 0 && mi > 0 && Number.isFinite(mi)) {
      keepX.push(xi);
      keepM.push(mi);
    } else if (xi > 0) {
      zeroSpendRepeaters++;
    }
  }
  const grouped = groupRows([Float64Array.from(keepX), Float64Array.from(keepM)]);
  const [gx, gm] = grouped.columns;
  if (!gx || !gm) throw new RangeError('groupSpend: lost a column');
  return { x: gx, mean: gm, weight: grouped.weight, count: gx.length, customers: keepX.length, zeroSpendRepeaters };
}

/** The log-likelihood summed over groups (eq. 1a); `gradient` receives ∂LL/∂(p, q, γ) when given. */
export function ggLogLikelihood(params: GammaGammaParams, groups: SpendGroups, gradient?: Float64Array): number {
  const { p, q, gamma } = params;
  const lgq = lgamma(q);
  const psiQ = gradient ? digamma(q) : 0;
  const logGamma = Math.log(gamma);
  let ll = 0;
  let gp = 0;
  let gq = 0;
  let gg = 0;
  // x takes few values, so Γ and ψ terms are cached per x.
  const cache = new Map<number, { lg: number; psiSum: number; psiPx: number }>();
  for (let i = 0; i < groups.count; i++) {
    const x = groups.x[i] ?? 0;
    const m = groups.mean[i] ?? 0;
    const w = groups.weight[i] ?? 0;
    const px = p * x;
    let level = cache.get(x);
    if (!level) {
      level = {
        lg: lgamma(px + q) - lgamma(px),
        psiSum: gradient ? digamma(px + q) : 0,
        psiPx: gradient ? digamma(px) : 0,
      };
      cache.set(x, level);
    }
    const logM = Math.log(m);
    const logX = Math.log(x);
    const logDen = Math.log(gamma + x * m);
    ll += w * (level.lg - lgq + q * logGamma + (px - 1) * logM + px * logX - (px + q) * logDen);
    if (gradient) {
      gp += w * x * (level.psiSum - level.psiPx + logM + logX - logDen);
      gq += w * (level.psiSum - psiQ + logGamma - logDen);
      gg += w * (q / gamma - (px + q) / (gamma + x * m));
    }
  }
  if (gradient) {
    gradient[0] = gp;
    gradient[1] = gq;
    gradient[2] = gg;
  }
  return ll;
}

/**
 * Fits Gamma-Gamma on the repeat customers (x > 0 with a positive mean repeat spend), warning when
 * there are few of them, when q ≤ 1 (the mean spend would be infinite) and when frequency and spend
 * are correlated (the model assumes they are independent).
 */
export function fitGammaGamma(summary: SpendSummary, options: FitOptions = {}): FitResult {
  const groups = groupSpend(summary);
  const diagnostics: FitDiagnostic[] = [];
  if (groups.zeroSpendRepeaters > 0) {
    diagnostics.push({
      code: 'zero_spend_left_out',
      message: `${groups.zeroSpendRepeaters} repeat customers with a mean spend of zero were left out (the model needs positive spend)`,
    });
  }
  // With one repeater (or all with the same mean spend) the likelihood grows without bound as the
  // spend distribution collapses onto the observed value: there is no estimate to report.
  const distinct = new Set(Array.from(groups.mean)).size;
  if (groups.customers < 2 || distinct < 2) {
    const reason =
      groups.customers === 0
        ? 'no repeat customer with a positive spend: the spend model has nothing to fit'
        : groups.customers === 1
          ? 'only one repeat customer with a positive spend: the spend model needs at least two with different spends'
          : 'every repeat customer has the same mean spend: the spread of spend is not identified';
    const failed = failedFit('gg', GG_PARAMS, groups.customers, groups.count, reason);
    return {
      ...failed,
      diagnostics: [...diagnostics, ...failed.diagnostics],
      warnings: [...diagnostics.map((d) => d.message), reason],
    };
  }
  if (groups.customers < MIN_REPEATERS) {
    diagnostics.push({
      code: 'few_repeaters',
      message: `only ${groups.customers} repeat customers with spend: too few for stable estimates (want at least ${MIN_REPEATERS})`,
    });
  }
  const { correlation } = spendFrequencyCorrelation(summary);
  if (Math.abs(correlation) >= CORRELATION_WARNING) {
    diagnostics.push({
      code: 'spend_frequency_correlated',
      message: `frequency and mean spend are correlated (ρ = ${correlation.toFixed(2)}): the Gamma-Gamma independence assumption is doubtful`,
    });
  }
  let total = 0;
  for (let i = 0; i < groups.count; i++) total += (groups.weight[i] ?? 0) * (groups.mean[i] ?? 0);
  const meanSpend = groups.customers > 0 ? total / groups.customers : 1;
  const result = fitMaximumLikelihood(
    {
      model: 'gg',
      names: GG_PARAMS,
      // With p = 1 and q = 2 the population mean spend pγ/(q−1) equals γ, so γ starts at the observed mean.
      start: [1, 2, meanSpend],
      analyticGradient: true,
      logLikelihood: (theta, gradient) =>
        ggLogLikelihood({ p: theta[0] ?? 0, q: theta[1] ?? 0, gamma: theta[2] ?? 0 }, groups, gradient),
      customers: groups.customers,
      histories: groups.count,
      diagnostics,
    },
    options,
  );
  if ((result.params.q ?? 0) <= 1) {
    return withDiagnostics(result, [
      {
        code: 'spend_mean_infinite',
        message: 'q ≤ 1: the model implies an infinite mean spend, so expected order values are unusable',
      },
    ]);
  }
  return result;
}

/** The population mean transaction value E[Z] = pγ/(q−1); infinite when q ≤ 1. */
export function ggExpectedSpend(params: GammaGammaParams): number {
  const { p, q, gamma } = params;
  return q > 1 ? (p * gamma) / (q - 1) : Number.POSITIVE_INFINITY;
}

/**
 * Expected mean transaction value for a customer with x repeat transactions of mean m (eq. 5):
 * (q−1)/(px+q−1) · pγ/(q−1) + px/(px+q−1) · m, a weighted average of the population mean and the
 * customer's own mean. For x = 0 it is the population mean.
 */
export function ggConditionalExpectedSpend(params: GammaGammaParams, x: number, m: number): number {
  const { p, q, gamma } = params;
  if (x <= 0) return ggExpectedSpend(params);
  return (p * (gamma + x * m)) / (p * x + q - 1);
}

/**
 * The independence check of Fader, Hardie & Lee (2005, RFM and CLV): the Pearson correlation between
 * the number of repeat transactions and the mean repeat spend among repeat customers.
 */
export function spendFrequencyCorrelation(summary: SpendSummary): { correlation: number; repeaters: number } {
  let n = 0;
  let sx = 0;
  let sm = 0;
  for (let i = 0; i < summary.x.length; i++) {
    const x = summary.x[i] ?? 0;
    const m = summary.mean[i] ?? 0;
    if (!(x > 0 && m > 0)) continue;
    n++;
    sx += x;
    sm += m;
  }
  if (n < 2) return { correlation: Number.NaN, repeaters: n };
  const meanX = sx / n;
  const meanM = sm / n;
  let cxx = 0;
  let cmm = 0;
  let cxm = 0;
  for (let i = 0; i < summary.x.length; i++) {
    const x = summary.x[i] ?? 0;
    const m = summary.mean[i] ?? 0;
    if (!(x > 0 && m > 0)) continue;
    cxx += (x - meanX) ** 2;
    cmm += (m - meanM) ** 2;
    cxm += (x - meanX) * (m - meanM);
  }
  return { correlation: cxm / Math.sqrt(cxx * cmm), repeaters: n };
}
