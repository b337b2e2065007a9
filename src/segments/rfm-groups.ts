/**
 * The eleven named RFM groups, written down in one place. Rules are read top to bottom and the first
 * that matches wins; together they cover all 125 combinations of R, F and M scores, so every scored
 * customer has exactly one group.
 *
 * What is implemented: the ten-cell recency × frequency segment map that RFM tutorials in Python share
 * as a regular-expression map over the two-digit "RF" score (`[1-2][1-2]` hibernating, `[1-2][3-4]`
 * at risk, `[1-2]5` can't lose, `3[1-2]` about to sleep, `33` need attention, `[3-4][4-5]` loyal,
 * `41` promising, `51` new customers, `[4-5][2-3]` potential loyalists, `5[4-5]` champions; e.g. the
 * `seg_map` of the Miuul / VBO "CRM Analytics" course notebooks, reproduced cell for cell in
 * rfm.test.ts), plus one cell of our own: *Lost* is the part of hibernating with the lowest recency
 * and a low spend (R = 1, M 1–2), so that monetary tells a customer worth one more try from one who
 * is not. It is not the table of the R package `rfm` (`rfm_segment`'s example bounds R, F and M
 * together and leaves combinations unnamed), whose Champions (R 4–5, F 4–5, M 4–5) count differently.
 */

/** The name of an RFM group. */
export type RfmGroup =
  | 'Champions'
  | 'Loyal'
  | 'Potential loyalist'
  | 'New customers'
  | 'Promising'
  | 'Need attention'
  | 'About to sleep'
  | 'At risk'
  | 'Cannot lose them'
  | 'Hibernating'
  | 'Lost';

interface Range {
  min: number;
  max: number;
}

/** One row of the table: the group, the score ranges it takes, and what it means in plain words. */
export interface RfmRule {
  group: RfmGroup;
  r: Range;
  f: Range;
  m: Range;
  meaning: string;
}

const ANY: Range = { min: 1, max: 5 };
const span = (min: number, max = min): Range => ({ min, max });

/** First match wins. */
export const RFM_RULES: readonly RfmRule[] = [
  { group: 'Champions', r: span(5), f: span(4, 5), m: ANY, meaning: 'bought very recently and buy often' },
  { group: 'Loyal', r: span(3, 4), f: span(4, 5), m: ANY, meaning: 'buy often and not long ago' },
  {
    group: 'Potential loyalist',
    r: span(4, 5),
    f: span(2, 3),
    m: ANY,
    meaning: 'recent, with a few orders: could become loyal',
  },
  { group: 'New customers', r: span(5), f: span(1), m: ANY, meaning: 'first order, very recent' },
  { group: 'Promising', r: span(4), f: span(1), m: ANY, meaning: 'one recent order, not yet a habit' },
  { group: 'Need attention', r: span(3), f: span(3), m: ANY, meaning: 'middling on recency and frequency' },
  { group: 'About to sleep', r: span(3), f: span(1, 2), m: ANY, meaning: 'few orders and fading recency' },
  { group: 'Cannot lose them', r: span(1, 2), f: span(5), m: ANY, meaning: 'bought the most often, long ago' },
  { group: 'At risk', r: span(1, 2), f: span(3, 4), m: ANY, meaning: 'bought often, but long ago' },
  { group: 'Lost', r: span(1), f: span(1, 2), m: span(1, 2), meaning: 'lowest recency, frequency and spend' },
  { group: 'Hibernating', r: span(1, 2), f: span(1, 2), m: ANY, meaning: 'few orders, long ago' },
];

/** Every group name, in the order of the table. */
export const RFM_GROUPS: readonly RfmGroup[] = RFM_RULES.map((rule) => rule.group);

const inRange = (score: number, range: Range) => score >= range.min && score <= range.max;
const describe = (name: string, range: Range) =>
  range.min === 1 && range.max === 5
    ? ''
    : range.min === range.max
      ? `${name}=${range.min}`
      : `${name} ${range.min}–${range.max}`;

/** The rule as text: `R=5, F 4–5`. */
export function ruleText(rule: RfmRule): string {
  return [describe('R', rule.r), describe('F', rule.f), describe('M', rule.m)].filter((s) => s !== '').join(', ');
}

/** The group of a customer's three scores, with the reason: the scores and the rule that matched. */
export function rfmGroup(r: number, f: number, m: number): { group: RfmGroup; reason: string } {
  for (const rule of RFM_RULES) {
    if (inRange(r, rule.r) && inRange(f, rule.f) && inRange(m, rule.m)) {
      return {
        group: rule.group,
        reason: `R=${r} F=${f} M=${m} matches ${rule.group} (${ruleText(rule)}): ${rule.meaning}`,
      };
    }
  }
  throw new RangeError(`RFM scores out of range: R=${r} F=${f} M=${m}`);
}
