/**
 * The negative binomial distribution of purchases in (0, t] for a Poisson rate drawn from
 * Gamma(r, α): the "NBD" inside BG/NBD, MBG/NBD and Pareto/NBD.
 */
import { lgamma } from './special.js';

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
