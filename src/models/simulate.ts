/**
 * Simulated customers drawn from the models' own assumptions: for checking that a fit recovers known
 * parameters, and for synthetic data. Randomness comes in through `Rng`, so runs are reproducible.
 */
import type { BgNbdParams } from './bgnbd.js';
import type { GammaGammaParams } from './gamma-gamma.js';
import type { RfmSummary } from './histories.js';
import type { ParetoNbdParams } from './pnbd.js';

/** A source of uniform numbers in [0, 1). */
export type Rng = () => number;

/** A small seeded generator (mulberry32) for reproducible simulations; not for anything secret. */
export function seededRng(seed: number): Rng {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A uniform in (0, 1), never exactly 0, so that logs of it are finite. */
function open(rng: Rng): number {
  let u = rng();
  while (u <= 0) u = rng();
  return u;
}

/** A standard normal draw (Box–Muller). */
export function normalVariate(rng: Rng): number {
  return Math.sqrt(-2 * Math.log(open(rng))) * Math.cos(2 * Math.PI * rng());
}

/**
 * A Gamma(shape, rate) draw by Marsaglia & Tsang (2000), "A Simple Method for Generating Gamma
 * Variables", ACM TOMS 26(3); shapes below 1 use the boost Gamma(k) = Gamma(k+1) · U^(1/k).
 */
export function gammaVariate(shape: number, rate: number, rng: Rng): number {
  if (shape < 1) return gammaVariate(shape + 1, rate, rng) * open(rng) ** (1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const x = normalVariate(rng);
    const v = (1 + c * x) ** 3;
    if (v <= 0) continue;
    if (Math.log(open(rng)) < 0.5 * x * x + d - d * v + d * Math.log(v)) return (d * v) / rate;
  }
}

/** A Beta(a, b) draw as a ratio of gamma draws. */
export function betaVariate(a: number, b: number, rng: Rng): number {
  const x = gammaVariate(a, 1, rng);
  return x / (x + gammaVariate(b, 1, rng));
}

/**
 * Purchase histories under BG/NBD (dropout after each repeat purchase) or MBG/NBD (also right after
 * the first purchase), one customer per entry of `ages` (T).
 */
export function simulateBgNbd(params: BgNbdParams, ages: ArrayLike<number>, rng: Rng, modified = false): RfmSummary {
  const { r, alpha, a, b } = params;
  return simulate(ages, (T) => {
    const rate = gammaVariate(r, alpha, rng);
    const dropout = betaVariate(a, b, rng);
    let x = 0;
    let tx = 0;
    if (modified && rng() < dropout) return [0, 0];
    for (let t = -Math.log(open(rng)) / rate; t <= T; t += -Math.log(open(rng)) / rate) {
      x++;
      tx = t;
      if (rng() < dropout) break;
    }
    return [x, tx];
  });
}

/** Purchase histories under Pareto/NBD, one customer per entry of `ages` (T). */
export function simulateParetoNbd(params: ParetoNbdParams, ages: ArrayLike<number>, rng: Rng): RfmSummary {
  const { r, alpha, s, beta } = params;
  return simulate(ages, (T) => {
    const rate = gammaVariate(r, alpha, rng);
    const lifetime = -Math.log(open(rng)) / gammaVariate(s, beta, rng);
    const end = Math.min(T, lifetime);
    let x = 0;
    let tx = 0;
    for (let t = -Math.log(open(rng)) / rate; t <= end; t += -Math.log(open(rng)) / rate) {
      x++;
      tx = t;
    }
    return [x, tx];
  });
}

/** Mean transaction values under Gamma-Gamma for customers with `x` transactions (0 where x = 0). */
export function simulateGammaGamma(params: GammaGammaParams, x: ArrayLike<number>, rng: Rng): Float64Array {
  const { p, q, gamma } = params;
  return Float64Array.from({ length: x.length }, (_, i) => {
    const count = x[i] ?? 0;
    if (count <= 0) return 0;
    const scale = gammaVariate(q, gamma, rng);
    let total = 0;
    for (let k = 0; k < count; k++) total += gammaVariate(p, scale, rng);
    return total / count;
  });
}

function simulate(ages: ArrayLike<number>, customer: (T: number) => [number, number]): RfmSummary {
  const n = ages.length;
  const x = new Float64Array(n);
  const tx = new Float64Array(n);
  const T = Float64Array.from(ages);
  for (let i = 0; i < n; i++) {
    const [count, last] = customer(T[i] ?? 0);
    x[i] = count;
    tx[i] = last;
  }
  return { x, tx, T };
}
