import { Type } from '@fastify/type-provider-typebox';
import { ComebackError } from '../../errors.js';
import { MIN_CUSTOMERS } from '../../models/index.js';
import {
  computeScores,
  evaluateModel,
  latestStoredScores,
  type ModelEvaluation,
  type ScoreRun,
} from '../../predict/index.js';
import {
  type CustomerProfile,
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
  membersCsv,
  PERSONA_ORDER,
  PERSONAS,
  RFM_GROUPS,
  segmentMemberIds,
  segmentSizeHistory,
} from '../../segments/index.js';
import { MS_PER_DAY } from '../../shared/dates.js';
import { toMajor } from '../../shared/money.js';
import type { Db } from '../../store/index.js';
import type { ApiApp, RouteDeps } from '../app.types.js';
import { authErrors } from '../schemas.js';
import { storeDefaultAsOf } from '../store-zone.js';

const DAYS_PER_MONTH = 365.25 / 12;
/** Length of the hold-out period of the model check. */
const HOLDOUT_WEEKS = 26;
const HISTOGRAM_BINS = 10;

const Json = (description: string) => Type.Unknown({ description });

/** The instant the dashboard describes: the day after the latest sale (sample data is historical), else now. */
async function dashboardAsOf(db: Db, now: number): Promise<number> {
  return storeDefaultAsOf(db, now);
}

/**
 * The smallest "readable" bin width at least `raw`: 1, 2, 2.5 or 5 times a power of ten (0.25, 50,
 * 2,500…), so that bin edges read as round money. `raw` ≤ 0 or not finite gives 1.
 */
export function niceStep(raw: number): number {
  if (!(raw > 0) || !Number.isFinite(raw)) return 1;
  const power = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 2.5, 5, 10]) {
    // Rounded to 12 significant digits: 0.1 × 3 is not 0.3 in binary.
    const step = Number((m * power).toPrecision(12));
    if (step >= raw) return step;
  }
  return 10 * power;
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
  /** Null when the model cannot tell who has left (see `PredictionReport.pAliveNote`). */
  pAlive: number | null;
  expectedPurchases: number;
  clv: number | null;
  nextOrderAt: number | null;
}

/** What the Predictions page shows: the fits, distributions of P(alive) and CLV, and the hold-out check. */
export interface PredictionReport {
  asOf: number;
  currency: string | null;
  available: boolean;
  /** `stored`: the per-customer figures are the latest scores of `comeback predict`; `fitted`: computed here. */
  source: 'stored' | 'fitted' | null;
  note: string | null;
  model: {
    name: string;
    params: Record<string, number>;
    converged: boolean;
    identified: boolean;
    warnings: string[];
    diagnostics: Array<{ code: string; message: string }>;
  } | null;
  /** Why P(alive) is not shown: the fit cannot tell who has left; lifecycle uses the recency rule instead. */
  pAliveNote: string | null;
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
  /** One customer's prediction, or null when the run did not score them (kept on the server). */
  predictionOf: (customerId: number) => CustomerPrediction | null;
}

/**
 * The Predictions page: the BG/NBD and Gamma-Gamma scores that `comeback predict` (or the demo) stored
 * for `asOf`, else the same scores computed now without storing them (src/predict either way), their
 * distributions, and the model refitted on the data before a 26-week hold-out against what customers
 * then actually did.
 */
export async function predictionReport(db: Db, asOf: number): Promise<PredictionReport> {
  const empty: PredictionReport = {
    asOf,
    currency: null,
    available: false,
    source: null,
    note: null,
    model: null,
    pAliveNote: null,
    spendModel: null,
    customers: 0,
    horizonMonths: 12,
    pAlive: [],
    clv: [],
    meanPAlive: null,
    totalClv: null,
    holdout: null,
    predictionOf: () => null,
  };
  const stored = await latestStoredScores(db);
  let run: Pick<ScoreRun, 'asOf' | 'horizonDays' | 'currency' | 'scores' | 'pAliveNote' | 'spendNote'> & {
    purchaseFit: ModelEvaluation;
    spendFit: ModelEvaluation | undefined;
  };
  if (stored && stored.asOf === asOf) {
    run = stored;
  } else {
    try {
      run = await computeScores(db, { model: 'bgnbd', asOf, unit: 'week', horizonDays: 365 });
    } catch (error) {
      if (error instanceof ComebackError && error.kind === 'bad_input') return { ...empty, note: error.message };
      throw error;
    }
  }
  const fit = run.purchaseFit.fit;
  if (fit.customers < MIN_CUSTOMERS) {
    return {
      ...empty,
      currency: run.currency,
      customers: fit.customers,
      note: `${fit.customers} customers: the models need at least ${MIN_CUSTOMERS}`,
    };
  }
  // Read from the score columns: no object per customer, however large the store.
  const { scores } = run;
  const { pAlive: pAliveColumn, clv: clvColumn } = scores.columns;
  const predictionOf = (customerId: number): CustomerPrediction | null => {
    const i = scores.indexOf(customerId);
    if (i < 0) return null;
    const score = scores.at(i);
    return {
      pAlive: score.probabilityAlive,
      expectedPurchases: score.expectedPurchases,
      clv: Number.isFinite(score.clv) ? score.clv : null,
      nextOrderAt: score.nextOrderAt,
    };
  };
  const informative = run.pAliveNote === undefined;
  const alive = pAliveColumn.filter((p) => !Number.isNaN(p));
  const values = clvColumn.every(Number.isFinite) ? Float64Array.from(clvColumn) : null;
  let clvMax = 0;
  if (values) {
    const sorted = Float64Array.from(values).sort();
    // The 98th percentile bounds the bins so that a few whales do not squash the rest into one bar.
    clvMax = sorted[Math.floor(0.98 * (sorted.length - 1))]! || sorted[sorted.length - 1]! || 1;
  }
  const spend = run.spendFit?.fit;
  return {
    ...empty,
    currency: run.currency,
    available: true,
    source: run === stored ? 'stored' : 'fitted',
    customers: scores.length,
    horizonMonths: Math.round(run.horizonDays / DAYS_PER_MONTH),
    model: {
      name: fit.model,
      params: fit.params,
      converged: fit.converged,
      identified: fit.identified,
      warnings: fit.warnings,
      diagnostics: fit.diagnostics.map(({ code, message }) => ({ code, message })),
    },
    pAliveNote: run.pAliveNote ?? null,
    spendModel: spend ? { params: spend.params, warnings: spend.warnings } : null,
    note:
      run.spendNote ??
      (spend ? null : 'too few repeat customers for the spend model: CLV uses each customer’s own average order'),
    pAlive: informative ? histogram(alive, 0, 1) : [],
    // Round bin edges (£0–£50, £50–£100…): at most HISTOGRAM_BINS bins of a readable width.
    clv: values
      ? (() => {
          const width = niceStep(clvMax / HISTOGRAM_BINS);
          const bins = Math.max(1, Math.ceil(clvMax / width));
          return histogram(
            values.map((v) => Math.min(v, clvMax)),
            0,
            Number((bins * width).toPrecision(12)),
            bins,
          );
        })()
      : [],
    meanPAlive: informative && alive.length > 0 ? alive.reduce((a, b) => a + b, 0) / alive.length : null,
    totalClv: values ? values.reduce((a, b) => a + b, 0) : null,
    holdout: await holdoutReport(db, asOf, run.purchaseFit.fit.model === 'gg' ? 'bgnbd' : run.purchaseFit.fit.model),
    predictionOf,
  };
}

async function holdoutReport(
  db: Db,
  asOf: number,
  model: 'bgnbd' | 'mbgnbd' | 'pnbd',
): Promise<PredictionReport['holdout']> {
  const calibrationEnd = asOf - HOLDOUT_WEEKS * 7 * MS_PER_DAY;
  let evaluation: ModelEvaluation;
  try {
    evaluation = await evaluateModel(db, { model, calibrationEnd, asOf, unit: 'week' });
  } catch (error) {
    if (error instanceof ComebackError && error.kind === 'bad_input') return null;
    throw error;
  }
  const check = evaluation.holdout;
  if (!check || evaluation.fit.customers < MIN_CUSTOMERS) return null;
  const finite = (v: number) => (Number.isFinite(v) ? v : null);
  return {
    calibrationEnd,
    holdoutEnd: asOf,
    weeks: check.length,
    customers: check.comparison.customers,
    totalPredicted: check.comparison.totalPredicted,
    totalActual: check.comparison.totalActual,
    byFrequency: check.comparison.byFrequency.map((row) => ({
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
/** What the Segments page shows at `asOf`: the RFM grid and groups, personas, lifecycle with the 90-day migration, saved segments. */
export async function segmentsView(db: Db, asOf: number) {
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
}

/** `GET /dashboard/segments`. */
export type SegmentsView = Awaited<ReturnType<typeof segmentsView>>;

/** `GET /dashboard/customers/:id`: the customer's story (src/segments) with the model's prediction. */
export type CustomerStory = CustomerProfile & { currency: string | null; prediction: CustomerPrediction | null };

/** `GET /dashboard/predictions`: the report without the per-customer scores, which stay on the server. */
export type PredictionsView = Omit<PredictionReport, 'predictionOf'>;

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
    async () => segmentsView(db, await dashboardAsOf(db, deps.now())),
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
      const { predictionOf: _omit, ...report } = await predictions(await dashboardAsOf(db, deps.now()));
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
      // Only informative P(alive) stages a customer; the others fall back to the recency rule.
      const prediction = report.predictionOf(request.params.id);
      const scores = new Map<number, CustomerScores>();
      if (prediction && prediction.pAlive !== null)
        scores.set(request.params.id, { ...prediction, pAlive: prediction.pAlive });
      const profile = await customerProfile(db, request.params.id, { asOf, scores, timelineLimit: 200 });
      return { ...profile, currency: report.currency, prediction };
    },
  );
}
