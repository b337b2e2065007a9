/**
 * Customers with the same purchase history contribute the same likelihood term, so a fit groups them
 * first: on the CDNOW sample 2,357 customers become about 1,300 distinct histories, and every
 * customer without a repeat purchase collapses onto one history per cohort week.
 */

/** Per-customer calibration summary, one entry per customer: repeat purchases x, recency t_x, age T. */
export interface RfmSummary {
  /** Repeat purchases in the calibration period (purchase days after the first), x. */
  readonly x: Float64Array;
  /** Time from the first to the last purchase, t_x (0 when x = 0). */
  readonly tx: Float64Array;
  /** Time from the first purchase to the end of the calibration period, T. */
  readonly T: Float64Array;
}

/** Distinct (x, t_x, T) histories with the number of customers who share each. */
export interface Histories extends RfmSummary {
  /** How many customers have this history. */
  readonly weight: Float64Array;
  /** Number of distinct histories (the length of every array above). */
  readonly count: number;
  /** Number of customers, the sum of the weights. */
  readonly customers: number;
  /** For each input customer, the index of its history. */
  readonly historyOf: Int32Array;
  /** The distinct values of x, ascending: terms that depend on x alone are computed once per level. */
  readonly xLevels: Float64Array;
  /** For each history, the index of its x in `xLevels`. */
  readonly xLevel: Int32Array;
}

/** Rows grouped by equal values in every column. */
export interface GroupedRows {
  /** One array per input column, holding the distinct rows. */
  readonly columns: Float64Array[];
  readonly weight: Float64Array;
  readonly historyOf: Int32Array;
}

/**
 * Groups rows that are equal in every column, keeping the first-seen order. Values are compared
 * exactly (recencies are usually whole days divided by a unit, so equal histories are bit-equal).
 */
export function groupRows(columns: readonly Float64Array[]): GroupedRows {
  const length = columns[0]?.length ?? 0;
  for (const column of columns) {
    if (column.length !== length) throw new RangeError('groupRows: columns differ in length');
  }
  const index = new Map<string, number>();
  const historyOf = new Int32Array(length);
  const firstRow: number[] = [];
  const counts: number[] = [];
  for (let i = 0; i < length; i++) {
    let key = '';
    for (const column of columns) key += `${column[i]}|`;
    let h = index.get(key);
    if (h === undefined) {
      h = firstRow.length;
      index.set(key, h);
      firstRow.push(i);
      counts.push(0);
    }
    counts[h] = (counts[h] ?? 0) + 1;
    historyOf[i] = h;
  }
  const grouped = columns.map((column) => Float64Array.from(firstRow, (i) => column[i] ?? 0));
  return { columns: grouped, weight: Float64Array.from(counts), historyOf };
}

/** Checks a summary: equal lengths, finite values, whole x ≥ 0, 0 ≤ t_x ≤ T, t_x = 0 when x = 0. */
export function checkSummary(summary: RfmSummary): void {
  const { x, tx, T } = summary;
  if (tx.length !== x.length || T.length !== x.length) {
    throw new RangeError(`summary arrays differ in length: x ${x.length}, tx ${tx.length}, T ${T.length}`);
  }
  for (let i = 0; i < x.length; i++) {
    const xi = x[i] ?? Number.NaN;
    const txi = tx[i] ?? Number.NaN;
    const Ti = T[i] ?? Number.NaN;
    if (!(Number.isInteger(xi) && xi >= 0)) throw new RangeError(`customer ${i}: x = ${xi} is not a whole number ≥ 0`);
    if (!(txi >= 0 && Ti >= txi && Number.isFinite(Ti))) {
      throw new RangeError(`customer ${i}: needs 0 ≤ t_x ≤ T, got t_x = ${txi}, T = ${Ti}`);
    }
    if (xi === 0 && txi !== 0) throw new RangeError(`customer ${i}: t_x = ${txi} but x = 0`);
  }
}

/** Groups customers with the same (x, t_x, T); a fit then costs the number of distinct histories. */
export function groupHistories(summary: RfmSummary): Histories {
  checkSummary(summary);
  const grouped = groupRows([summary.x, summary.tx, summary.T]);
  const [x, tx, T] = grouped.columns;
  if (!x || !tx || !T) throw new RangeError('groupHistories: lost a column');
  return withLevels(x, tx, T, grouped.weight, grouped.historyOf);
}

/** One history per customer, each of weight 1: the reference that grouped likelihoods must equal. */
export function ungroupedHistories(summary: RfmSummary): Histories {
  checkSummary(summary);
  const n = summary.x.length;
  const historyOf = Int32Array.from({ length: n }, (_, i) => i);
  return withLevels(
    Float64Array.from(summary.x),
    Float64Array.from(summary.tx),
    Float64Array.from(summary.T),
    new Float64Array(n).fill(1),
    historyOf,
  );
}

/** Builds a summary from plain arrays of numbers (a convenience for callers and tests). */
export function rfmSummary(x: ArrayLike<number>, tx: ArrayLike<number>, T: ArrayLike<number>): RfmSummary {
  return { x: Float64Array.from(x), tx: Float64Array.from(tx), T: Float64Array.from(T) };
}

function withLevels(
  x: Float64Array,
  tx: Float64Array,
  T: Float64Array,
  weight: Float64Array,
  historyOf: Int32Array,
): Histories {
  const xLevels = Float64Array.from(new Set(x)).sort();
  const levelOf = new Map<number, number>();
  xLevels.forEach((value, level) => {
    levelOf.set(value, level);
  });
  const xLevel = Int32Array.from(x, (value) => levelOf.get(value) ?? -1);
  let customers = 0;
  for (const w of weight) customers += w;
  return { x, tx, T, weight, count: x.length, customers, historyOf, xLevels, xLevel };
}
