import { Type } from '@fastify/type-provider-typebox';
import { customerSummaries, defaultAsOf, holdoutPurchases } from '../../analytics/index.js';
import {
  compareHoldout,
  customerLifetimeValues,
  fitGammaGamma,
  fitPurchaseModel,
  type GammaGammaParams,
  ggConditionalExpectedSpend,
  ggParams,
  MIN_CUSTOMERS,
  predictCustomers,
  purchasePredictor,
} from '../../models/index.js';
import {
  type CustomerScores,
  computeLifecycle,
  computePersonas,
  computeRfm,
  customerProfile,
  exportCustomers,
  getSavedSegment,
  LIFECYCLE_STAGES,
  lifecycleMigration,
  listSavedSegments,
  loadLatestScores,
  membersCsv,
  PERSONA_ORDER,
  PERSONAS,
  RFM_GROUPS,
  type ScoresByCustomer,
  segmentMemberIds,
  segmentSizeHistory,
} from '../../segments/index.js';
import { MS_PER_DAY } from '../../shared/dates.js';
import { toMajor } from '../../shared/money.js';
import type { Db } from '../../store/index.js';
import type { ApiApp, RouteDeps } from '../app.types.js';
import { authErrors } from '../schemas.js';

/** Model time units (weeks) per month, for CLV horizons. */
const WEEKS_PER_MONTH = 4.345;
/** Length of the hold-out period of the model check. */
const HOLDOUT_WEEKS = 26;
const HISTOGRAM_BINS = 10;

const Json = (description: string) => Type.Unknown({ description });

/** The instant the dashboard describes: the day after the latest sale (sample data is historical), else now. */
async function dashboardAsOf(db: Db, now: number): Promise<number> {
  return (await defaultAsOf(db)) ?? now;
}

/** Counts of `values` in `bins` equal-width bins over [min, max]. */
function histogram(values: ArrayLike<number>, min: number, max: number, bins = HISTOGRAM_BINS) {
  const width = (max - min) / bins || 1;
  const counts = new Array<number>(bins).fill(0);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) continue;
    counts[Math.min(bins - 1, Math.max(0, Math.floor((v - min) / width)))]! += 1;
  }
  return counts.map((count, i) => ({ from: min + i * width, to: min + (i + 1) * width, count }));
}

/** One customer's model outputs. */
export interface CustomerPrediction {
  pAlive: number;
  expectedPurchases: number;
  clv: number | null;
}

/** What the Predictions page shows: the fits, distributions of P(alive) and CLV, and the hold-out check. */
export interface PredictionReport {
  asOf: number;
  currency: string | null;
  available: boolean;
  /** `stored`: the per-customer figures are the latest scores of `comeback predict`; `fitted`: computed here. */
  source: 'stored' | 'fitted' | null;
  note: string | null;
  model: { name: string; params: Record<string, number>; converged: boolean; warnings: string[] } | null;
  spendModel: { params: Record<string, number>; warnings: string[] } | null;
  customers: number;
  horizonMonths: number;
  pAlive: Array<{ from: number; to: number; count: number }>;
  clv: Array<{ from: number; to: number; count: number }>;
  meanPAlive: number | null;
  totalClv: number | null;
  holdout: {
    calibrationEnd: number;
    holdoutEnd: number;
    weeks: number;
    customers: number;
    totalPredicted: number;
    totalActual: number;
    byFrequency: Array<{ label: string; customers: number; meanPredicted: number | null; meanActual: number | null }>;
  } | null;
  byCustomer: Map<number, CustomerPrediction>;
}

/**
 * Fits BG/NBD (weeks) and Gamma-Gamma to every customer's history up to `asOf` and scores them for 12
 * months; refits on the data before a 26-week hold-out and compares predicted with actual purchases.
 */
export async function predictionReport(db: Db, asOf: number): Promise<PredictionReport> {
  const summary = await customerSummaries(db, { asOf, unit: 'week' });
  const horizonMonths = 12;
  const empty: PredictionReport = {
    asOf,
    currency: summary.currency,
    available: false,
    source: null,
    note: null,
    model: null,
    spendModel: null,
    customers: summary.count,
    horizonMonths,
    pAlive: [],
    clv: [],
    meanPAlive: null,
    totalClv: null,
    holdout: null,
    byCustomer: new Map(),
  };
  if (summary.count < MIN_CUSTOMERS) {
    return { ...empty, note: `${summary.count} customers: the models need at least ${MIN_CUSTOMERS}` };
  }
  const fit = fitPurchaseModel('bgnbd', summary);
  const predictor = purchasePredictor(fit);
  const predicted = predictCustomers(predictor, summary, horizonMonths * WEEKS_PER_MONTH);
  let gg: GammaGammaParams | null = null;
  const spendWarnings: string[] = [];
  let spendFit: Record<string, number> | null = null;
  try {
    const ggFit = fitGammaGamma({ x: summary.x, mean: summary.monetary });
    gg = ggParams(ggFit.params);
    spendFit = ggFit.params;
    spendWarnings.push(...ggFit.warnings);
  } catch (error) {
    spendWarnings.push(`Gamma-Gamma not fitted: ${error instanceof Error ? error.message : String(error)}`);
  }
  let clv: Float64Array | null = null;
  if (gg) {
    const params = gg;
    const aov = Float64Array.from(summary.x, (x, i) => ggConditionalExpectedSpend(params, x, summary.monetary[i]!));
    clv = customerLifetimeValues(predictor, summary, aov, { periodsPerMonth: WEEKS_PER_MONTH, months: horizonMonths });
  }
  const byCustomer = new Map<number, CustomerPrediction>();
  for (let i = 0; i < summary.count; i++) {
    byCustomer.set(summary.customerIds[i]!, {
      pAlive: predicted.probabilityAlive[i]!,
      expectedPurchases: predicted.expectedPurchases[i]!,
      clv: clv ? clv[i]! : null,
    });
  }
  // Scores stored by `comeback predict` (or the demo) are what the rest of the product uses: show them.
  const stored = await storedScores(db);
  for (const [id, score] of stored ?? []) {
    const own = byCustomer.get(id);
    byCustomer.set(id, {
      pAlive: score.pAlive,
      expectedPurchases: score.expectedPurchases ?? own?.expectedPurchases ?? 0,
      clv: score.clv ?? own?.clv ?? null,
    });
  }
  const all = [...byCustomer.values()];
  const alive = Float64Array.from(all, (c) => c.pAlive);
  const values = all.every((c) => c.clv !== null) ? Float64Array.from(all, (c) => c.clv ?? 0) : null;
  let clvMax = 0;
  if (values) {
    const sorted = Float64Array.from(values).sort();
    // The 98th percentile bounds the bins so that a few whales do not squash the rest into one bar.
    clvMax = sorted[Math.floor(0.98 * (sorted.length - 1))]! || sorted[sorted.length - 1]! || 1;
  }
  return {
    ...empty,
    available: true,
    source: stored ? 'stored' : 'fitted',
    customers: all.length,
    model: { name: fit.model, params: fit.params, converged: fit.converged, warnings: fit.warnings },
    spendModel: spendFit ? { params: spendFit, warnings: spendWarnings } : null,
    note: spendFit ? null : spendWarnings.join('; '),
    pAlive: histogram(alive, 0, 1),
    clv: values
      ? histogram(
          values.map((v) => Math.min(v, clvMax)),
          0,
          clvMax,
        )
      : [],
    meanPAlive: alive.reduce((a, b) => a + b, 0) / all.length,
    totalClv: values ? values.reduce((a, b) => a + b, 0) : null,
    holdout: await holdoutCheck(db, asOf),
    byCustomer,
  };
}

/** The latest BG/NBD scores in `customer_scores`, or undefined when none were stored (or no table yet). */
async function storedScores(db: Db): Promise<ScoresByCustomer | undefined> {
  try {
    return await loadLatestScores(db, { model: 'bgnbd' });
  } catch {
    return undefined;
  }
}

async function holdoutCheck(db: Db, asOf: number): Promise<PredictionReport['holdout']> {
  const calibrationEnd = asOf - HOLDOUT_WEEKS * 7 * MS_PER_DAY;
  const calibration = await customerSummaries(db, { asOf: calibrationEnd, unit: 'week' });
  if (calibration.count < MIN_CUSTOMERS) return null;
  const predictor = purchasePredictor(fitPurchaseModel('bgnbd', calibration));
  const actual = await holdoutPurchases(db, { calibrationEnd, holdoutEnd: asOf });
  const predicted = Float64Array.from(calibration.x, (x, i) =>
    predictor.conditionalExpectedPurchases(HOLDOUT_WEEKS, x, calibration.tx[i]!, calibration.T[i]!),
  );
  const comparison = compareHoldout(calibration.x, predicted, actual.purchases);
  const finite = (v: number) => (Number.isFinite(v) ? v : null);
  return {
    calibrationEnd,
    holdoutEnd: asOf,
    weeks: HOLDOUT_WEEKS,
    customers: comparison.customers,
    totalPredicted: comparison.totalPredicted,
    totalActual: comparison.totalActual,
    byFrequency: comparison.byFrequency.map((row) => ({
      label: row.label,
      customers: row.customers,
      meanPredicted: finite(row.meanPredicted),
      meanActual: finite(row.meanActual),
    })),
  };
}

/** The RFM grid (recency × frequency, with counts and revenue) and group sizes. */
async function rfmGrid(db: Db, asOf: number) {
  const rfm = await computeRfm(db, { asOf });
  const currency = rfm.currency;
  const cells = new Map<string, { r: number; f: number; customers: number; revenueMinor: number }>();
  for (let r = 1; r <= 5; r++)
    for (let f = 1; f <= 5; f++) cells.set(`${r}${f}`, { r, f, customers: 0, revenueMinor: 0 });
  const groups = new Map(RFM_GROUPS.map((g) => [g, { group: g, customers: 0, revenueMinor: 0 }]));
  for (const c of rfm.customers) {
    const cell = cells.get(`${c.r}${c.f}`)!;
    cell.customers += 1;
    cell.revenueMinor += c.monetaryMinor;
    const group = groups.get(c.group)!;
    group.customers += 1;
    group.revenueMinor += c.monetaryMinor;
  }
  const major = (minor: number) => (currency ? toMajor(minor, currency) : 0);
  return {
    currency,
    customers: rfm.customers.length,
    cells: [...cells.values()].map(({ revenueMinor, ...cell }) => ({ ...cell, revenue: major(revenueMinor) })),
    groups: [...groups.values()].map(({ revenueMinor, ...g }) => ({ ...g, revenue: major(revenueMinor) })),
  };
}

/**
 * The dashboard's read-only views over analytics, segments and models: one request per page, each
 * computed as of the day after the latest sale.
 */
export function registerDashboardRoutes(app: ApiApp, deps: RouteDeps): void {
  const db = deps.store.db;
  // Fitting takes a moment; keep the latest report per asOf (new sales move asOf and refit).
  let cached: { asOf: number; report: Promise<PredictionReport> } | undefined;
  const predictions = (asOf: number) => {
    if (cached?.asOf !== asOf) {
      const report = predictionReport(db, asOf);
      cached = { asOf, report };
      report.catch(() => {
        if (cached?.report === report) cached = undefined;
      });
    }
    return cached.report;
  };
  const read = { config: { access: 'read' as const } };

  app.get(
    '/dashboard/segments',
    {
      ...read,
      schema: {
        summary: 'RFM grid and groups, personas, lifecycle stages with the 90-day migration, saved segments',
        tags: ['dashboard'],
        response: { 200: Json('{ asOf, rfm, personas, lifecycle, saved }'), ...authErrors },
      },
    },
    async () => {
      const asOf = await dashboardAsOf(db, deps.now());
      const rfm = await rfmGrid(db, asOf);
      const personas = await computePersonas(db, { asOf });
      const personaCounts = new Map(PERSONA_ORDER.map((p) => [p, 0]));
      for (const p of personas) personaCounts.set(p.persona, (personaCounts.get(p.persona) ?? 0) + 1);
      const lifecycle = await computeLifecycle(db, { asOf });
      const stageCounts = new Map(LIFECYCLE_STAGES.map((s) => [s, 0]));
      for (const c of lifecycle.customers) stageCounts.set(c.stage, (stageCounts.get(c.stage) ?? 0) + 1);
      const migration = await lifecycleMigration(db, { from: asOf - 90 * MS_PER_DAY, to: asOf });
      const saved = [];
      for (const segment of await listSavedSegments(db)) {
        const history = await segmentSizeHistory(db, segment.id);
        saved.push({
          name: segment.name,
          rule: segment.rule,
          updatedAt: segment.updatedAt,
          size: history.at(-1)?.size ?? 0,
          history,
        });
      }
      return {
        asOf,
        rfm,
        personas: PERSONA_ORDER.map((p) => ({
          persona: p,
          label: PERSONAS[p].label,
          play: PERSONAS[p].play,
          customers: personaCounts.get(p) ?? 0,
        })),
        lifecycle: {
          thresholds: lifecycle.thresholds,
          stages: LIFECYCLE_STAGES.map((stage) => ({ stage, customers: stageCounts.get(stage) ?? 0 })),
          migration,
        },
        saved,
      };
    },
  );

  app.get(
    '/dashboard/segments/:name/members.csv',
    {
      ...read,
      schema: {
        summary: "A saved segment's members as CSV (id, e-mail, name, country)",
        tags: ['dashboard'],
        params: Type.Object({ name: Type.String({ minLength: 1, maxLength: 200 }) }),
        response: { 200: Type.String(), 404: Type.Ref('ErrorBody'), ...authErrors },
      },
    },
    async (request, reply) => {
      const segment = await getSavedSegment(db, request.params.name);
      const csv = membersCsv(await exportCustomers(db, await segmentMemberIds(db, segment.id)));
      const file = `${segment.name.replace(/[^\w.-]+/g, '_')}.csv`;
      reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${file}"`);
      return csv;
    },
  );

  app.get(
    '/dashboard/predictions',
    {
      ...read,
      schema: {
        summary: 'BG/NBD and Gamma-Gamma fits: P(alive) and 12-month CLV distributions, and the 26-week hold-out check',
        tags: ['dashboard'],
        response: { 200: Json('the prediction report'), ...authErrors },
      },
    },
    async () => {
      const { byCustomer: _omit, ...report } = await predictions(await dashboardAsOf(db, deps.now()));
      return report;
    },
  );

  app.get(
    '/dashboard/customers/:id',
    {
      ...read,
      schema: {
        summary: "A customer's whole story with model predictions: timeline, RFM, persona, lifecycle, segments",
        tags: ['dashboard'],
        params: Type.Object({ id: Type.Integer({ minimum: 1 }) }),
        response: {
          200: Json('the customer profile of src/segments with `prediction`'),
          404: Type.Ref('ErrorBody'),
          ...authErrors,
        },
      },
    },
    async (request) => {
      const asOf = await dashboardAsOf(db, deps.now());
      const report = await predictions(asOf);
      const scores = new Map<number, CustomerScores>(report.byCustomer);
      const profile = await customerProfile(db, request.params.id, { asOf, scores, timelineLimit: 200 });
      return { ...profile, currency: report.currency, prediction: report.byCustomer.get(request.params.id) ?? null };
    },
  );
}
