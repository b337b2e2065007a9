/**
 * Special functions the buy-till-you-die models need: log-gamma, log-beta, digamma and the Gauss
 * hypergeometric function 2F1 on the real line left of 1. Pure numbers, no dependencies.
 */

// Lanczos coefficients for g = 671/128, n = 14 (Press et al., Numerical Recipes 3rd ed., §6.1, gammln).
const LANCZOS_G = 5.2421875;
// Shortest round-trip spellings of the published 18-digit constants (the same doubles).
const LANCZOS = [
  57.15623566586292, -59.59796035547549, 14.136097974741746, -0.4919138160976202, 3.399464998481189e-5,
  4.652362892704858e-5, -9.837447530487956e-5, 1.580887032249125e-4, -2.1026444172410488e-4, 2.1743961811521265e-4,
  -1.643181065367639e-4, 8.441822398385275e-5, -2.6190838401581408e-5, 3.6899182659531625e-6,
];
const SQRT_TWO_PI = 2.5066282746310007;
const LOG_PI = Math.log(Math.PI);

/** log Γ(x) for real x; for x < 0 it is log |Γ(x)|, and +∞ at the poles 0, −1, −2, … */
export function lgamma(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  if (x < 0.5) {
    if (Number.isInteger(x)) return Number.POSITIVE_INFINITY;
    // Reflection Γ(x)Γ(1−x) = π / sin(πx) (Abramowitz & Stegun 6.1.17).
    return LOG_PI - Math.log(Math.abs(sinPi(x))) - lgamma(1 - x);
  }
  if (x === 1 || x === 2) return 0;
  if (x === Number.POSITIVE_INFINITY) return x;
  // Lanczos (1964) approximation, Numerical Recipes 3rd ed. eq. 6.1.5, relative error below 1e-15.
  let series = 0.9999999999999971;
  let y = x;
  for (const c of LANCZOS) {
    y += 1;
    series += c / y;
  }
  const shifted = x + LANCZOS_G;
  return (x + 0.5) * Math.log(shifted) - shifted + Math.log((SQRT_TWO_PI * series) / x);
}

/** The sign of Γ(x): +1 for x > 0, alternating between the poles for x < 0 (0 at a pole). */
export function gammaSign(x: number): number {
  if (x > 0) return 1;
  if (Number.isInteger(x)) return 0;
  return Math.floor(x) % 2 === 0 ? 1 : -1;
}

/** log B(a, b) = log Γ(a) + log Γ(b) − log Γ(a + b), for a, b > 0. */
export function lbeta(a: number, b: number): number {
  return lgamma(a) + lgamma(b) - lgamma(a + b);
}

/** sin(πx) without the rounding of π·x for large x, so that reflection stays accurate. */
function sinPi(x: number): number {
  const r = x - 2 * Math.floor(x / 2);
  if (r === 0 || r === 1) return 0;
  return Math.sin(Math.PI * r);
}

/** The digamma function ψ(x) = d/dx log Γ(x); NaN at the poles 0, −1, −2, … */
export function digamma(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  if (x <= 0) {
    if (Number.isInteger(x)) return Number.NaN;
    // Reflection ψ(1−x) − ψ(x) = π cot(πx) (Abramowitz & Stegun 6.3.7).
    return digamma(1 - x) - Math.PI / Math.tan(Math.PI * (x - Math.round(x)));
  }
  let shift = 0;
  while (x < 10) {
    // Recurrence ψ(x+1) = ψ(x) + 1/x (A&S 6.3.5) until the asymptotic series is exact to double precision.
    shift -= 1 / x;
    x += 1;
  }
  const inv2 = 1 / (x * x);
  // Asymptotic expansion with Bernoulli numbers (A&S 6.3.18).
  const tail =
    inv2 *
    (1 / 12 -
      inv2 * (1 / 120 - inv2 * (1 / 252 - inv2 * (1 / 240 - inv2 * (1 / 132 - inv2 * (691 / 32760 - inv2 / 12))))));
  return shift + Math.log(x) - 0.5 / x - tail;
}

/**
 * Terms of the 2F1 series beyond which we give up and answer NaN: reached only within ~2e-5 of z = 1
 * when c − a − b is also within `NEAR_INTEGER` of an integer (the connection formula's blind spot).
 */
const MAX_SERIES_TERMS = 2_000_000;
/** Above this z the series is slow; the 1 − z connection formula is used when it is well conditioned. */
const SERIES_LIMIT = 0.9;
/** How far c − a − b must be from an integer for the connection formula not to lose digits to cancellation. */
const NEAR_INTEGER = 0.02;

/**
 * The Gauss hypergeometric function 2F1(a, b; c; z) for real parameters and real z < 1 (and z = 1 when
 * c − a − b > 0). Used by the BG/NBD and Pareto/NBD expressions of Fader, Hardie & Lee (2005) and
 * Fader & Hardie (2005), where it is always called with z in [0, 1). Close to z = 1 with c − a − b
 * near an integer it falls back to the slow series, and to NaN within ~2e-5 of 1.
 */
export function hyp2f1(a: number, b: number, c: number, z: number): number {
  if ([a, b, c, z].some(Number.isNaN) || z > 1) return Number.NaN;
  if (c <= 0 && Number.isInteger(c)) return Number.NaN;
  if (z === 0 || a === 0 || b === 0) return 1;
  if (z < 0) {
    // Pfaff transformation (A&S 15.3.4) maps z < 0 onto [0, 1).
    return (1 - z) ** -a * hyp2f1(a, c - b, c, z / (z - 1));
  }
  const excess = c - a - b;
  if (z === 1) {
    // Gauss's summation theorem (A&S 15.1.20).
    if (excess <= 0) return Number.POSITIVE_INFINITY;
    return gammaRatio([c, excess], [c - a, c - b]);
  }
  if (z > SERIES_LIMIT && Math.abs(excess - Math.round(excess)) > NEAR_INTEGER) {
    // Connection formula from z to 1 − z (A&S 15.3.6): two series in 1 − z < 0.1 instead of one slow series.
    const w = 1 - z;
    const first = gammaRatio([c, excess], [c - a, c - b]);
    const second = gammaRatio([c, -excess], [a, b]);
    const left = first === 0 ? 0 : first * hyp2f1Series(a, b, 1 - excess, w);
    const right = second === 0 ? 0 : second * w ** excess * hyp2f1Series(c - a, c - b, 1 + excess, w);
    return left + right;
  }
  return hyp2f1Series(a, b, c, z);
}

/** The defining power series Σ (a)ₙ(b)ₙ / ((c)ₙ n!) zⁿ (A&S 15.1.1), summed until terms stop mattering. */
export function hyp2f1Series(a: number, b: number, c: number, z: number): number {
  let term = 1;
  let sum = 1;
  const size = Math.abs(z);
  for (let n = 0; n < MAX_SERIES_TERMS; n++) {
    term *= (((a + n) * (b + n)) / ((c + n) * (n + 1))) * z;
    sum += term;
    if (term === 0) return sum;
    // The term ratio tends to z; once it is below 1 the rest of the series is bounded by a geometric
    // series, so stop when that bound is below the last bit of the sum.
    const ratio = Math.max(Math.abs(((a + n + 1) * (b + n + 1)) / ((c + n + 1) * (n + 2))) * size, size);
    if (ratio < 1 && Math.abs(term) * (ratio / (1 - ratio)) <= 1e-17 * Math.abs(sum)) return sum;
  }
  return Number.NaN;
}

/**
 * Appell's F1(a; b₁, b₂; c; x, y) for 0 ≤ x, y < 1 as a single series of Gauss functions,
 * F1 = Σᵢ (a)ᵢ(b₁)ᵢ / ((c)ᵢ i!) xⁱ ₂F₁(a+i, b₂; c+i; y), the double series of DLMF 16.13.1 summed over
 * one index. Used where a Pareto/NBD integral would otherwise be a difference of nearly equal terms.
 */
export function appellF1(a: number, b1: number, b2: number, c: number, x: number, y: number): number {
  if ([a, b1, b2, c, x, y].some(Number.isNaN) || x < 0 || y < 0 || x >= 1 || y >= 1) return Number.NaN;
  let coefficient = 1;
  let sum = 0;
  let previous = Number.NaN;
  for (let i = 0; i < MAX_SERIES_TERMS; i++) {
    const term = coefficient * hyp2f1(a + i, b2, c + i, y);
    sum += term;
    if (term === 0) return sum;
    const ratio = i > 0 ? Math.max(term / previous, x) : 1;
    if (ratio < 1 && (Math.abs(term) * ratio) / (1 - ratio) <= 1e-17 * Math.abs(sum)) return sum;
    previous = term;
    coefficient *= (((a + i) * (b1 + i)) / ((c + i) * (i + 1))) * x;
  }
  return Number.NaN;
}

/** Γ(p₁)Γ(p₂)… / (Γ(q₁)Γ(q₂)…) with signs, computed in logs; 0 when a denominator argument is a pole. */
function gammaRatio(numerator: readonly number[], denominator: readonly number[]): number {
  let sign = 1;
  let log = 0;
  for (const p of numerator) {
    sign *= gammaSign(p);
    log += lgamma(p);
  }
  for (const q of denominator) {
    const s = gammaSign(q);
    if (s === 0) return 0;
    sign *= s;
    log -= lgamma(q);
  }
  return sign * Math.exp(log);
}

/** log(1 + eˣ) without overflow: the log-sum-exp of (0, x). */
export function softplus(x: number): number {
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}

/** 1 / (1 + e⁻ˣ), the derivative of softplus. */
export function logistic(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** log(eᵃ + eᵇ) without overflow or underflow. */
export function logAddExp(a: number, b: number): number {
  if (a === Number.NEGATIVE_INFINITY) return b;
  if (b === Number.NEGATIVE_INFINITY) return a;
  return a > b ? a + Math.log1p(Math.exp(b - a)) : b + Math.log1p(Math.exp(a - b));
}

/** log(1 − eᵈ) for d ≤ 0, accurate near both ends (Mächler 2012, "Accurately computing log(1 − exp(−|a|))"). */
export function log1mExp(d: number): number {
  if (d > 0) return Number.NaN;
  return d > -Math.LN2 ? Math.log(-Math.expm1(d)) : Math.log1p(-Math.exp(d));
}
