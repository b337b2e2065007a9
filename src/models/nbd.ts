/**
 * The negative binomial distribution of purchases in (0, t] for a Poisson rate drawn from
 * Gamma(r, α): the "NBD" inside BG/NBD, MBG/NBD and Pareto/NBD.
 */
import { digamma, lgamma } from './special.js';

/** log P(N(t) = j) = log[Γ(r+j)/(Γ(r) j!) (α/(α+t))^r (t/(α+t))^j] (Fader, Hardie & Lee 2005, eq. 2). */
export function nbdLogPmf(r: number, alpha: number, t: number, j: number): number {
  if (t === 0) return j === 0 ? 0 : Number.NEGATIVE_INFINITY;
  const logShare = Math.log(t / (alpha + t));
  return lgamma(r + j) - lgamma(r) - lgamma(j + 1) + r * Math.log(alpha / (alpha + t)) + j * logShare;
}

/**
 * P(N(t) ≥ n). Sums the lower terms while they are below one half and the upper tail otherwise, so
 * that the answer never comes from subtracting two nearly equal numbers. Successive terms come from
 * the ratio P(j+1)/P(j) = (r+j)/(j+1) · t/(α+t), kept in logs so that a tiny P(0) cannot underflow.
 */
export function nbdUpperTail(r: number, alpha: number, t: number, n: number): number {
  if (n <= 0) return 1;
  if (t === 0) return 0;
  const logShare = Math.log(t / (alpha + t));
  let logTerm = nbdLogPmf(r, alpha, t, 0);
  let lower = 0;
  for (let j = 0; j < n; j++) {
    lower += Math.exp(logTerm);
    logTerm += Math.log((r + j) / (j + 1)) + logShare;
  }
  if (lower <= 0.5) return 1 - lower;
  // The ratio tends to t/(α+t) < 1, so the tail is bounded by a geometric series.
  const share = Math.exp(logShare);
  let upper = 0;
  for (let j = n; j < n + 10_000_000; j++) {
    const term = Math.exp(logTerm);
    upper += term;
    const ratio = ((r + j) / (j + 1)) * share;
    const bound = Math.max(ratio, share);
    if (bound < 1 && (term * bound) / (1 - bound) <= 1e-17 * upper) break;
    logTerm += Math.log(ratio);
  }
  return upper;
}

/**
 * The NBD log-likelihood of repeat purchases x over exposure T, summed over histories with their
 * weights: Σ w·[ln Γ(r+x) − ln Γ(r) + r ln α − (r+x) ln(α+T)] (Fader, Hardie & Lee 2005, eq. 6 in the
 * limit a → 0, where nobody drops out; the same constants as the BG/NBD, MBG/NBD and Pareto/NBD
 * likelihoods, so the values compare). `gradient`, when given, receives ∂/∂(r, α).
 */
export function nbdLogLikelihood(
  r: number,
  alpha: number,
  histories: { x: Float64Array; T: Float64Array; weight: Float64Array; count: number },
  gradient?: Float64Array,
): number {
  const psiR = gradient ? digamma(r) : 0;
  const logAlpha = Math.log(alpha);
  const base = lgamma(r);
  let ll = 0;
  let gr = 0;
  let ga = 0;
  for (let i = 0; i < histories.count; i++) {
    const x = histories.x[i] ?? 0;
    const T = histories.T[i] ?? 0;
    const w = histories.weight[i] ?? 0;
    const logT = Math.log(alpha + T);
    ll += w * (lgamma(r + x) - base + r * logAlpha - (r + x) * logT);
    if (gradient) {
      gr += w * (digamma(r + x) - psiR + logAlpha - logT);
      ga += w * (r / alpha - (r + x) / (alpha + T));
    }
  }
  if (gradient) {
    gradient[0] = gr;
    gradient[1] = ga;
  }
  return ll;
}
