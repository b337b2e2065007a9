/**
 * Scores 1–5 by quintiles of the store's own customers, ties given the middle of the ranks they share.
 *
 * A customer's score is `1 + floor(5 × (b + t/2) / n)` (at most 5), where `n` is the number of
 * customers scored, `b` the number of them strictly worse on this measure and `t` the number tied with
 * the customer (the customer included): `(b + t/2) / n` is the customer's mid-rank percentile, the
 * share of customers below plus half of those level with them (the "mean rank" of tied values, as
 * `rank(method = "average")` and the mid-P percentile give it). So tied customers always share a
 * score, distinct values spread evenly over 1–5, and a tie that holds everyone (every customer bought
 * on the same day, or the store has one customer) scores 3, the middle, not 1: nobody is the worst of
 * a crowd of equals. The best value of a measure never scores below 3.
 */
export function quintileScores(values: ArrayLike<number>, higherIsBetter: boolean): Uint8Array {
  const n = values.length;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => (higherIsBetter ? values[a]! - values[b]! : values[b]! - values[a]!));
  const scores = new Uint8Array(n);
  let k = 0;
  while (k < n) {
    let end = k + 1;
    while (end < n && values[order[end]!] === values[order[k]!]) end += 1;
    const score = Math.min(5, 1 + Math.floor((5 * (k + (end - k) / 2)) / n));
    for (let j = k; j < end; j++) scores[order[j]!] = score;
    k = end;
  }
  return scores;
}
