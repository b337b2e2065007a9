/**
 * Scores 1–5 by quintiles of the store's own customers, with ties kept together.
 *
 * A customer's score is `1 + floor(5 × b / n)`, where `n` is the number of customers scored and `b`
 * the number of them strictly worse on this measure. Customers with equal values therefore always
 * share a score (the score of the first rank of their tie, as SQL's `rank()` gives it), and a value
 * held by many customers may leave a quintile empty: when 40 % of customers bought once, every one
 * of them scores F = 1 and the next value up scores F = 3. This is the `rank()`-based form of
 * `NTILE(5)`; unlike `NTILE`, it never splits a tie across two scores.
 */
export function quintileScores(values: ArrayLike<number>, higherIsBetter: boolean): Uint8Array {
  const n = values.length;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => (higherIsBetter ? values[a]! - values[b]! : values[b]! - values[a]!));
  const scores = new Uint8Array(n);
  let worse = 0;
  for (let k = 0; k < n; k++) {
    const i = order[k]!;
    if (k > 0 && values[i] !== values[order[k - 1]!]) worse = k;
    scores[i] = 1 + Math.floor((5 * worse) / n);
  }
  return scores;
}
