/**
 * k-means with k-means++ seeding (Arthur & Vassilvitskii 2007, "k-means++: the advantages of careful
 * seeding") and Lloyd's iterations, deterministic for a given seed. Points are rows of a flat
 * Float64Array (`n × d`).
 */

/** A small seeded generator (mulberry32), so that clusters are the same on every run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export interface KMeansResult {
  k: number;
  /** `k × d` centroids. */
  centroids: Float64Array;
  /** The cluster of each point. */
  labels: Int32Array;
  /** Sum of squared distances of points to their centroid. */
  inertia: number;
  iterations: number;
}

function distance2(points: Float64Array, i: number, centroids: Float64Array, c: number, d: number): number {
  let sum = 0;
  for (let j = 0; j < d; j++) {
    const diff = points[i * d + j]! - centroids[c * d + j]!;
    sum += diff * diff;
  }
  return sum;
}

/** Clusters `n` points of `d` features into at most `k` groups. */
export function kMeans(
  points: Float64Array,
  d: number,
  { k, seed = 1, maxIterations = 100 }: { k: number; seed?: number; maxIterations?: number },
): KMeansResult {
  const n = d === 0 ? 0 : points.length / d;
  k = Math.max(1, Math.min(k, n));
  const random = seededRandom(seed);
  const centroids = new Float64Array(k * d);
  const labels = new Int32Array(n);
  if (n === 0) return { k: 0, centroids: new Float64Array(0), labels, inertia: 0, iterations: 0 };
  // k-means++: each next centre is drawn with probability proportional to the squared distance to the nearest centre.
  const first = Math.floor(random() * n);
  centroids.set(points.subarray(first * d, first * d + d), 0);
  const nearest = new Float64Array(n).fill(Number.POSITIVE_INFINITY);
  for (let c = 1; c < k; c++) {
    let total = 0;
    for (let i = 0; i < n; i++) {
      nearest[i] = Math.min(nearest[i]!, distance2(points, i, centroids, c - 1, d));
      total += nearest[i]!;
    }
    let pick = n - 1;
    if (total > 0) {
      let target = random() * total;
      for (let i = 0; i < n; i++) {
        target -= nearest[i]!;
        if (target <= 0) {
          pick = i;
          break;
        }
      }
    } else pick = Math.floor(random() * n);
    centroids.set(points.subarray(pick * d, pick * d + d), c * d);
  }
  let iterations = 0;
  let inertia = 0;
  const counts = new Float64Array(k);
  for (; iterations < maxIterations; iterations++) {
    let changed = iterations === 0;
    inertia = 0;
    for (let i = 0; i < n; i++) {
      let best = 0;
      let bestDistance = Number.POSITIVE_INFINITY;
      for (let c = 0; c < k; c++) {
        const dist = distance2(points, i, centroids, c, d);
        if (dist < bestDistance) {
          bestDistance = dist;
          best = c;
        }
      }
      if (labels[i] !== best) changed = true;
      labels[i] = best;
      inertia += bestDistance;
    }
    if (!changed) break;
    const sums = new Float64Array(k * d);
    counts.fill(0);
    for (let i = 0; i < n; i++) {
      const c = labels[i]!;
      counts[c]! += 1;
      for (let j = 0; j < d; j++) sums[c * d + j]! += points[i * d + j]!;
    }
    for (let c = 0; c < k; c++) {
      // An empty cluster keeps its centre rather than collapsing to the origin.
      if (counts[c]! === 0) continue;
      for (let j = 0; j < d; j++) centroids[c * d + j] = sums[c * d + j]! / counts[c]!;
    }
  }
  return { k, centroids, labels, inertia, iterations };
}

/** Standardises each column to mean 0 and standard deviation 1 (a constant column becomes 0). */
export function standardise(points: Float64Array, d: number): Float64Array {
  const n = d === 0 ? 0 : points.length / d;
  const out = new Float64Array(points.length);
  for (let j = 0; j < d; j++) {
    let mean = 0;
    for (let i = 0; i < n; i++) mean += points[i * d + j]!;
    mean /= n || 1;
    let variance = 0;
    for (let i = 0; i < n; i++) variance += (points[i * d + j]! - mean) ** 2;
    const sd = Math.sqrt(variance / (n || 1));
    for (let i = 0; i < n; i++) out[i * d + j] = sd > 0 ? (points[i * d + j]! - mean) / sd : 0;
  }
  return out;
}
