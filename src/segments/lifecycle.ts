import { ComebackError } from '../errors.js';
import type { Db } from '../store/index.js';
import { customerIdRanges, interOrderDays, purchaseFacts } from './customers.queries.js';
import type { CustomerScores, ScoresByCustomer } from './tables.js';

/** The lifecycle stages of a customer who has bought. */
export type LifecycleStage = 'new' | 'active' | 'at_risk' | 'lapsed' | 'churned';

export const LIFECYCLE_STAGES: readonly LifecycleStage[] = ['new', 'active', 'at_risk', 'lapsed', 'churned'];

/** A stage's place in the lifecycle (new … churned); anything else (no sale yet) after them. */
export function stageRank(stage: string): number {
  const i = (LIFECYCLE_STAGES as readonly string[]).indexOf(stage);
  return i === -1 ? LIFECYCLE_STAGES.length : i;
}

export interface LifecycleOptions {
  asOf: number;
  /** Model scores by customer; a customer with scores is staged by them, the others by the gaps. */
  scores?: ScoresByCustomer;
  /** Percentile of the days between orders beyond which a customer is at risk (default 0.8). */
  atRiskPercentile?: number;
  /** Percentile beyond which a customer has lapsed (default 0.95). */
  lapsedPercentile?: number;
  /** A customer is churned beyond this multiple of the lapsed threshold (default 2). */
  churnedMultiple?: number;
  /** P(alive) below which a scored customer is at risk, lapsed, churned (default 0.6, 0.3, 0.1). */
  pAliveAtRisk?: number;
  pAliveLapsed?: number;
  pAliveChurned?: number;
}

/** The day thresholds of the store, from its own distribution of days between orders. */
export interface GapThresholds {
  atRiskDays: number;
  lapsedDays: number;
  churnedDays: number;
  /** How many gaps they were measured on (0 means the fallback of 90 and 180 days was used). */
  gaps: number;
}

/** A customer's stage and why. */
export interface LifecycleAssignment {
  customerId: number;
  stage: LifecycleStage;
  reason: string;
  daysSinceLastSale: number;
  sales: number;
  pAlive: number | null;
}

/** The p-quantile of sorted values, interpolating linearly between ranks (Hyndman & Fan type 7). */
export function quantile(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const h = (n - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

/** Thresholds from the days between orders; with no repeat purchase in the store, 90 and 180 days. */
export function gapThresholds(
  gaps: Float64Array,
  { atRiskPercentile = 0.8, lapsedPercentile = 0.95, churnedMultiple = 2 }: Partial<LifecycleOptions> = {},
): GapThresholds {
  if (gaps.length === 0) return { atRiskDays: 90, lapsedDays: 180, churnedDays: 180 * churnedMultiple, gaps: 0 };
  const sorted = Float64Array.from(gaps).sort();
  const lapsedDays = quantile(sorted, lapsedPercentile);
  return {
    atRiskDays: quantile(sorted, atRiskPercentile),
    lapsedDays,
    churnedDays: lapsedDays * churnedMultiple,
    gaps: gaps.length,
  };
}

/**
 * The fewest whole days since the last sale that are beyond a threshold of `days` ("beyond" being
 * strictly more, as `lifecycleStage` reads it): `floor(days) + 1`.
 */
export function firstDayBeyond(days: number): number {
  return Math.floor(days) + 1;
}

/**
 * For each stage the gap rule keeps a customer in while silent, the fewest whole days of silence that
 * take them out of it (new and active: past at risk; at risk: past lapsed; lapsed: past churned).
 * Churned has no limit and is not listed.
 */
export function stageSilenceLimits(t: GapThresholds): Readonly<Record<string, number>> {
  return {
    new: firstDayBeyond(t.atRiskDays),
    active: firstDayBeyond(t.atRiskDays),
    at_risk: firstDayBeyond(t.lapsedDays),
    lapsed: firstDayBeyond(t.churnedDays),
  };
}

const round1 = (x: number) => Math.round(x * 10) / 10;

/**
 * Fewer gaps between orders than this and the store's percentiles are too noisy to overrule a model
 * (the fallback thresholds of a store without any repeat order still do).
 */
export const MIN_GAPS_TO_OVERRULE = 30;

/**
 * The stage of one customer. With scores: churned, lapsed or at risk when P(alive) falls below the
 * thresholds, at risk too when the expected next order is overdue; but a customer silent beyond the
 * store's lapsed or churned threshold is never new or active, whatever the model says (BG/NBD gives
 * every one-time buyer P(alive) = 1), when those thresholds stand on `MIN_GAPS_TO_OVERRULE` gaps or
 * are the defaults of a store without repeat orders. Without scores (none stored, or a model whose P(alive) is not
 * informative, which stores none): by days since the last sale against the store's thresholds,
 * "beyond" meaning strictly more. A customer not past any threshold is new with one sale and active
 * with more.
 */
export function lifecycleStage(
  input: { sales: number; daysSinceLastSale: number; asOf: number; scores?: CustomerScores },
  thresholds: GapThresholds,
  { pAliveAtRisk = 0.6, pAliveLapsed = 0.3, pAliveChurned = 0.1 }: Partial<LifecycleOptions> = {},
): { stage: LifecycleStage; reason: string } {
  const { sales, daysSinceLastSale: d, scores } = input;
  const fresh = (why: string) =>
    sales === 1 ? { stage: 'new' as const, reason: `one order; ${why}` } : { stage: 'active' as const, reason: why };
  if (scores) {
    const p = scores.pAlive;
    if (p < pAliveChurned) return { stage: 'churned', reason: `P(alive) ${p.toFixed(3)} below ${pAliveChurned}` };
    if (p < pAliveLapsed) return { stage: 'lapsed', reason: `P(alive) ${p.toFixed(3)} below ${pAliveLapsed}` };
    if (p < pAliveAtRisk) return { stage: 'at_risk', reason: `P(alive) ${p.toFixed(3)} below ${pAliveAtRisk}` };
    const next = scores.nextOrderAt ?? null;
    if (next !== null && input.asOf > next) {
      return {
        stage: 'at_risk',
        reason: `expected next order ${new Date(next).toISOString().slice(0, 10)} is overdue (P(alive) ${p.toFixed(3)})`,
      };
    }
    const t = thresholds;
    const overrule = t.gaps === 0 || t.gaps >= MIN_GAPS_TO_OVERRULE;
    if (overrule && d > t.churnedDays) {
      return {
        stage: 'churned',
        reason: `${d} days since last order, beyond ${round1(t.churnedDays)} (P(alive) ${p.toFixed(3)} overruled by the store's own gaps)`,
      };
    }
    if (overrule && d > t.lapsedDays) {
      return {
        stage: 'lapsed',
        reason: `${d} days since last order, beyond ${round1(t.lapsedDays)} (P(alive) ${p.toFixed(3)} overruled by the store's own gaps)`,
      };
    }
    return fresh(
      `P(alive) ${p.toFixed(3)}${next !== null ? `, next order expected ${new Date(next).toISOString().slice(0, 10)}` : ''}`,
    );
  }
  const t = thresholds;
  if (d > t.churnedDays)
    return { stage: 'churned', reason: `${d} days since last order, beyond ${round1(t.churnedDays)}` };
  if (d > t.lapsedDays)
    return { stage: 'lapsed', reason: `${d} days since last order, beyond ${round1(t.lapsedDays)}` };
  if (d > t.atRiskDays)
    return { stage: 'at_risk', reason: `${d} days since last order, beyond ${round1(t.atRiskDays)}` };
  return fresh(`${d} days since last order, within ${round1(t.atRiskDays)}`);
}

/** Customer ids per range of a whole-store `computeLifecycle`. */
const LIFECYCLE_RANGE = 50_000;

/**
 * `computeLifecycle` of the whole store one range of 50,000 customer ids at a time (in id order), all
 * with the store's thresholds as of `asOf` (or `thresholds`): for a writer that lets each range go.
 */
export async function* lifecycleByRange(
  db: Db,
  options: LifecycleOptions & { thresholds?: GapThresholds },
): AsyncGenerator<{ thresholds: GapThresholds; customers: LifecycleAssignment[] }> {
  const thresholds = options.thresholds ?? gapThresholds(await interOrderDays(db, options.asOf), options);
  for (const idRange of await customerIdRanges(db, LIFECYCLE_RANGE)) {
    yield computeLifecycle(db, { ...options, thresholds, idRange });
  }
}

/**
 * Lifecycle stages of every customer with a sale before `asOf` (or of `customerIds`), in id order. The
 * day thresholds are the store's as of `asOf` unless `thresholds` gives them (the migration matrix
 * stages both of its dates with one set). The whole store is worked through a range of customer ids at
 * a time (`lifecycleByRange`), so no map of every customer's purchase facts is held.
 */
export async function computeLifecycle(
  db: Db,
  options: LifecycleOptions & {
    customerIds?: readonly number[];
    /** Only the customers whose ids are in `[from, to)`. */
    idRange?: readonly [number, number];
    thresholds?: GapThresholds;
  },
): Promise<{ thresholds: GapThresholds; customers: LifecycleAssignment[] }> {
  const { asOf, scores, customerIds, idRange } = options;
  if (!customerIds && !idRange) {
    let thresholds = options.thresholds;
    const customers: LifecycleAssignment[] = [];
    for await (const range of lifecycleByRange(db, options)) {
      thresholds = range.thresholds;
      for (const c of range.customers) customers.push(c);
    }
    return { thresholds: thresholds ?? gapThresholds(await interOrderDays(db, asOf), options), customers };
  }
  const thresholds = options.thresholds ?? gapThresholds(await interOrderDays(db, asOf), options);
  const facts = await purchaseFacts(db, { asOf, customerIds, idRange });
  const customers: LifecycleAssignment[] = [];
  for (const [customerId, p] of [...facts].sort((a, b) => a[0] - b[0])) {
    if (p.sales === 0) continue;
    const daysSinceLastSale = Math.floor((asOf - p.lastSaleAt) / 86_400_000);
    const own = scores?.get(customerId);
    const { stage, reason } = lifecycleStage(
      { sales: p.sales, daysSinceLastSale, asOf, scores: own },
      thresholds,
      options,
    );
    customers.push({ customerId, stage, reason, daysSinceLastSale, sales: p.sales, pAlive: own?.pAlive ?? null });
  }
  return { thresholds, customers };
}

/** How many customers moved from each stage to each other between two dates (`none`: no sale yet). */
export interface MigrationMatrix {
  from: number;
  to: number;
  stages: ReadonlyArray<LifecycleStage | 'none'>;
  /** counts[i][j]: customers in stages[i] at `from` and stages[j] at `to`. */
  counts: number[][];
  /** The day thresholds both dates were staged with: the store's as of `to`. */
  thresholds: GapThresholds;
}

/**
 * The migration matrix of lifecycle stages between `from` and `to` (instants, `from` ≤ `to`, else
 * `bad_input`). The `to` column is exactly `computeLifecycle` as of `to` with `scoresTo` (the scores
 * the caller read as of `to`); the `from` row stages each customer as of `from` with `scoresFrom` and
 * with the same day thresholds, those of `to`, so that nobody moves only because the thresholds did.
 */
export async function lifecycleMigration(
  db: Db,
  {
    from,
    to,
    scoresFrom,
    scoresTo,
    ...options
  }: Omit<LifecycleOptions, 'asOf' | 'scores'> & {
    from: number;
    to: number;
    scoresFrom?: ScoresByCustomer;
    scoresTo?: ScoresByCustomer;
  },
): Promise<MigrationMatrix> {
  if (from > to) {
    throw new ComebackError('bad_input', `from ${day(from)} is after to ${day(to)}`, { location: { field: 'from' } });
  }
  const after = await computeLifecycle(db, { ...options, asOf: to, scores: scoresTo });
  const before = await computeLifecycle(db, {
    ...options,
    asOf: from,
    scores: scoresFrom,
    thresholds: after.thresholds,
  });
  const stages: Array<LifecycleStage | 'none'> = ['none', ...LIFECYCLE_STAGES];
  const index = new Map(stages.map((s, i) => [s, i]));
  const counts = stages.map(() => stages.map(() => 0));
  const was = new Map(before.customers.map((c) => [c.customerId, c.stage]));
  for (const c of after.customers) {
    counts[index.get(was.get(c.customerId) ?? 'none')!]![index.get(c.stage)!]! += 1;
  }
  return { from, to, stages, counts, thresholds: after.thresholds };
}

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
