/**
 * The calibration/hold-out check of Fader, Hardie & Lee (2005, Figure 4): fit on a calibration period,
 * predict each customer's purchases in the following hold-out period, and compare the means with what
 * customers actually did, grouped by how often they bought during calibration.
 */

/** One row of the comparison: customers with this calibration frequency (the last row is "N+"). */
export interface HoldoutRow {
  /** Calibration repeat purchases; the last row holds this many or more. */
  frequency: number;
  /** "0", "1", …, "7+". */
  label: string;
  customers: number;
  /** Mean predicted hold-out purchases; NaN when the row has no customers. */
  meanPredicted: number;
  /** Mean actual hold-out purchases; NaN when the row has no customers. */
  meanActual: number;
}

/** Totals and the table by calibration frequency. */
export interface HoldoutComparison {
  customers: number;
  totalPredicted: number;
  totalActual: number;
  byFrequency: HoldoutRow[];
}

/**
 * Compares predicted with actual hold-out purchases per customer, in total and by calibration
 * frequency 0, 1, …, `maxFrequency`+ (default 7+, as in the paper's figure).
 */
export function compareHoldout(
  calibrationFrequency: ArrayLike<number>,
  predicted: ArrayLike<number>,
  actual: ArrayLike<number>,
  { maxFrequency = 7 }: { maxFrequency?: number } = {},
): HoldoutComparison {
  const n = calibrationFrequency.length;
  if (predicted.length !== n || actual.length !== n) {
    throw new RangeError(
      `arrays differ in length: frequency ${n}, predicted ${predicted.length}, actual ${actual.length}`,
    );
  }
  if (!(Number.isInteger(maxFrequency) && maxFrequency >= 0)) {
    throw new RangeError(`maxFrequency must be a whole number ≥ 0, got ${maxFrequency}`);
  }
  const counts = new Float64Array(maxFrequency + 1);
  const sumPredicted = new Float64Array(maxFrequency + 1);
  const sumActual = new Float64Array(maxFrequency + 1);
  let totalPredicted = 0;
  let totalActual = 0;
  for (let i = 0; i < n; i++) {
    const bucket = Math.min(maxFrequency, Math.max(0, Math.floor(calibrationFrequency[i] ?? 0)));
    const p = predicted[i] ?? 0;
    const a = actual[i] ?? 0;
    counts[bucket] = (counts[bucket] ?? 0) + 1;
    sumPredicted[bucket] = (sumPredicted[bucket] ?? 0) + p;
    sumActual[bucket] = (sumActual[bucket] ?? 0) + a;
    totalPredicted += p;
    totalActual += a;
  }
  const byFrequency = Array.from(counts, (count, frequency) => ({
    frequency,
    label: frequency === maxFrequency ? `${frequency}+` : String(frequency),
    customers: count,
    meanPredicted: count > 0 ? (sumPredicted[frequency] ?? 0) / count : Number.NaN,
    meanActual: count > 0 ? (sumActual[frequency] ?? 0) / count : Number.NaN,
  }));
  return { customers: n, totalPredicted, totalActual, byFrequency };
}
