/**
 * Net Promoter Score and CSAT, pure.
 *
 * NPS (Reichheld 2003): answers 0–10 to "how likely are you to recommend…"; 9–10 promoters, 7–8
 * passives, 0–6 detractors; NPS = 100 · (p_P − p_D).
 *
 * Its interval: p̂_P − p̂_D is a difference of two proportions from one multinomial sample, so
 * Var = (p_P + p_D − (p_P − p_D)²) / n (Rostami et al.; Rocks, "Interval estimation for the net
 * promoter score", The American Statistician 70(4), 2016). The plain Wald interval collapses to a
 * point when every answer is in one group (one answer, all passives), so the interval is the adjusted
 * Wald of Rocks (2016): add 3/4 of a promoter, 3/4 of a detractor and 3/2 of a passive (n + 3) before
 * computing p_P, p_D and the variance, then NPS_adj ± z·SE, clipped to [−100, 100]. The point estimate
 * stays the plain NPS of the answers.
 *
 * That interval is centred on the adjusted estimate, which the added answers pull towards 0, so with
 * few answers it can leave out the plain NPS printed beside it: one promoter gives NPS 100 and
 * [−48.5, 98.5], one detractor −100 and [−98.5, 48.5]. The interval reported is therefore the adjusted
 * Wald one extended to the plain NPS, [min(low, NPS), max(high, NPS)]. It holds the adjusted-Wald
 * interval, so its coverage is at least that which Rocks (2016) measured for it; it differs only where
 * the answers are few and lopsided, and only on the side of the NPS, by the gap that would otherwise
 * show an estimate outside its own interval. The iterative score interval Rocks also found to perform
 * well holds the estimate by construction (it inverts a test whose statistic is 0 there); the extension
 * gives the adjusted Wald that property at the cost of a little width, without a root search.
 *
 * CSAT: answers 1–5; the score is the share of 4s and 5s (satisfied), in percent, with the mean.
 */

/** The group an NPS answer falls in. */
export type NpsGroup = 'promoter' | 'passive' | 'detractor';

/** The group of a 0–10 answer: 9–10 promoter, 7–8 passive, 0–6 detractor. */
export function npsGroup(score: number): NpsGroup {
  return score >= 9 ? 'promoter' : score >= 7 ? 'passive' : 'detractor';
}

/** Fewer answers than this make the interval wide; the summary says so. */
export const NPS_SMALL_SAMPLE = 30;

/** An NPS summary of answers grouped by count. */
export interface NpsSummary {
  answers: number;
  promoters: number;
  passives: number;
  detractors: number;
  /** 100 · (promoters − detractors) / answers; null without answers. */
  nps: number | null;
  /**
   * The adjusted-Wald interval at `level` (Rocks 2016) extended to hold `nps` (see the module comment),
   * NPS points; null without answers.
   */
  interval: { low: number; high: number; level: number } | null;
  /** Why a figure is missing or weak: `no_answers`, `small_sample` (< NPS_SMALL_SAMPLE answers). */
  note: 'no_answers' | 'small_sample' | null;
}

/** The two-sided standard-normal quantile for 90, 95 and 99 % intervals. */
const Z: Record<number, number> = { 0.9: 1.6448536269514722, 0.95: 1.959963984540054, 0.99: 2.5758293035489004 };

/**
 * The NPS of counts per group, with its adjusted-Wald interval extended to hold the NPS (see the module
 * comment); `level` ∈ {0.9, 0.95, 0.99}.
 */
export function npsSummary(
  counts: { promoters: number; passives: number; detractors: number },
  level = 0.95,
): NpsSummary {
  const { promoters, passives, detractors } = counts;
  const n = promoters + passives + detractors;
  if (n === 0) return { answers: 0, promoters, passives, detractors, nps: null, interval: null, note: 'no_answers' };
  const z = Z[level];
  if (z === undefined) throw new RangeError(`level ${level}: use 0.9, 0.95 or 0.99`);
  const nps = (100 * (promoters - detractors)) / n;
  const na = n + 3;
  const pp = (promoters + 0.75) / na;
  const pd = (detractors + 0.75) / na;
  const diff = pp - pd;
  const se = Math.sqrt((pp + pd - diff * diff) / na);
  // nps is within [−100, 100], so the extension keeps the clipping.
  const low = Math.min(nps, Math.max(-100, 100 * (diff - z * se)));
  const high = Math.max(nps, Math.min(100, 100 * (diff + z * se)));
  return {
    answers: n,
    promoters,
    passives,
    detractors,
    nps,
    interval: { low, high, level },
    note: n < NPS_SMALL_SAMPLE ? 'small_sample' : null,
  };
}

/** Counts 0–10 answers by group. */
export function countNps(scores: readonly number[]): { promoters: number; passives: number; detractors: number } {
  const c = { promoters: 0, passives: 0, detractors: 0 };
  for (const s of scores) c[`${npsGroup(s)}s` as 'promoters' | 'passives' | 'detractors'] += 1;
  return c;
}

/** A CSAT summary. */
export interface CsatSummary {
  answers: number;
  /** Answers of 4 or 5. */
  satisfied: number;
  /** 100 · satisfied / answers; null without answers. */
  csat: number | null;
  /** Mean answer (1–5); null without answers. */
  mean: number | null;
  note: 'no_answers' | 'small_sample' | null;
}

/** CSAT of 1–5 answers given as the count and sum of all answers and the count of 4s and 5s. */
export function csatSummary({
  answers,
  satisfied,
  sum,
}: {
  answers: number;
  satisfied: number;
  sum: number;
}): CsatSummary {
  if (answers === 0) return { answers: 0, satisfied: 0, csat: null, mean: null, note: 'no_answers' };
  return {
    answers,
    satisfied,
    csat: (100 * satisfied) / answers,
    mean: sum / answers,
    note: answers < NPS_SMALL_SAMPLE ? 'small_sample' : null,
  };
}
