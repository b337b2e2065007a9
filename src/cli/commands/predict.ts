import type { Command } from 'commander';
import { stringify } from 'csv-stringify/sync';
import { ComebackError } from '../../errors.js';
import { isPurchaseModel, type ModelName } from '../../models/index.js';
import { fitStoreModel, type StoreFit, scoreCustomers, UNIT_DAYS } from '../../predict/index.js';
import { openStore } from '../../store/index.js';
import { storeCustomers } from '../export-columns.js';
import { formatCount, formatTable, printJson } from '../io.js';
import { type CommandContext, dateFlag, dbOption } from '../shared.js';

const MODELS = ['bgnbd', 'pnbd', 'mbgnbd', 'gg'] as const;

function unitOf(value: string): 'day' | 'week' {
  if (value !== 'day' && value !== 'week') throw new ComebackError('usage', `--unit ${value}: choose day or week`);
  return value;
}

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** `comeback fit MODEL` and `comeback predict`: the probabilistic models over the store's customers. */
export function registerPredict(program: Command, ctx: CommandContext): void {
  dbOption(
    program
      .command('fit')
      .description('fit BG/NBD, Pareto/NBD, MBG/NBD or Gamma-Gamma to the customers; check against a hold-out')
      .argument('<model>', MODELS.join(' | '))
      .option('--calibration-end <date>', 'end (exclusive) of the calibration period; later data is the hold-out')
      .option('--as-of <date>', 'end (exclusive) of the data read; default the day after the last sale')
      .option('--unit <unit>', 'time unit of the model: day or week', 'week')
      .option('--currency <code>', 'currency of the spend model (default: the main currency)')
      .option('--json', 'print JSON'),
  ).action(
    async (
      model: string,
      flags: { db?: string; calibrationEnd?: string; asOf?: string; unit: string; currency?: string; json?: boolean },
    ) => {
      if (!(MODELS as readonly string[]).includes(model)) {
        throw new ComebackError('usage', `fit ${model}: choose one of ${MODELS.join(', ')}`);
      }
      const store = await openStore(ctx.config(flags).dbUrl);
      try {
        const result = await fitStoreModel(store.db, {
          model: model as ModelName,
          asOf: dateFlag(flags.asOf, '--as-of'),
          calibrationEnd: dateFlag(flags.calibrationEnd, '--calibration-end'),
          unit: unitOf(flags.unit),
          currency: flags.currency,
          now: ctx.now(),
        });
        if (flags.json) printJson(ctx.io, fitJson(result));
        else printFit(ctx, result);
      } finally {
        await store.close();
      }
    },
  );

  dbOption(
    program
      .command('predict')
      .description('score every customer: P(alive), churn risk, expected purchases and spend, CLV, next order')
      .option('--model <model>', 'bgnbd | pnbd | mbgnbd', 'bgnbd')
      .option('--horizon <n>', 'how far ahead, in --unit', '52')
      .option('--unit <unit>', 'day or week', 'week')
      .option('--as-of <date>', 'score as of this date (default: the day after the last sale)')
      .option('--currency <code>', 'currency of the spend and CLV (default: the main currency)')
      .option('--discount-rate <rate>', 'monthly discount rate of the CLV', '0.01')
      .option('--margin <share>', 'share of revenue that is margin (1 = CLV as revenue)', '1')
      .option('--json', 'print every customer as JSON')
      .option('--csv', 'print every customer as CSV'),
  ).action(
    async (flags: {
      db?: string;
      model: string;
      horizon: string;
      unit: string;
      asOf?: string;
      currency?: string;
      discountRate: string;
      margin: string;
      json?: boolean;
      csv?: boolean;
    }) => {
      if (!isPurchaseModel(flags.model))
        throw new ComebackError('usage', `--model ${flags.model}: bgnbd, pnbd or mbgnbd`);
      const unit = unitOf(flags.unit);
      const horizon = Number(flags.horizon);
      const rate = Number(flags.discountRate);
      const margin = Number(flags.margin);
      if (!(horizon > 0)) throw new ComebackError('usage', `--horizon ${flags.horizon}: a positive number`);
      if (!(rate >= 0)) throw new ComebackError('usage', `--discount-rate ${flags.discountRate}: a rate ≥ 0`);
      if (!(margin > 0 && margin <= 1)) throw new ComebackError('usage', `--margin ${flags.margin}: between 0 and 1`);
      const store = await openStore(ctx.config(flags).dbUrl);
      try {
        const run = await scoreCustomers(store.db, {
          model: flags.model,
          unit,
          horizonDays: horizon * UNIT_DAYS[unit],
          asOf: dateFlag(flags.asOf, '--as-of'),
          currency: flags.currency,
          monthlyDiscountRate: rate,
          margin,
          now: ctx.now(),
        });
        const rows = run.scores.map((s) => ({
          customer_id: s.customerId,
          p_alive: round(s.probabilityAlive, 4),
          churn_risk: round(s.churnRisk, 4),
          churn_band: s.churnBand,
          expected_purchases: round(s.expectedPurchases, 4),
          expected_spend: round(s.expectedSpend, 2),
          clv: round(s.clv, 2),
          next_order: s.nextOrderAt === null ? null : day(s.nextOrderAt),
        }));
        if (flags.csv) {
          const known = await storeCustomers(
            store.db,
            run.scores.map((s) => s.customerId),
          );
          const withStoreIds = rows.map(({ customer_id, ...rest }) => {
            const c = known(customer_id);
            return {
              customer_id,
              source: c.source,
              store_id: c.storeId,
              email: c.email,
              currency: run.currency,
              ...rest,
            };
          });
          ctx.io.out.write(stringify(withStoreIds, { header: true }));
          return;
        }
        if (flags.json) {
          printJson(ctx.io, {
            model: flags.model,
            asOf: day(run.asOf),
            horizonDays: run.horizonDays,
            currency: run.currency,
            purchaseFit: fitJson(run.purchaseFit),
            spendFit: run.spendFit ? fitJson(run.spendFit) : null,
            customers: rows,
          });
          return;
        }
        const bands = { low: 0, medium: 0, high: 0 };
        let clv = 0;
        for (const s of run.scores) {
          bands[s.churnBand] += 1;
          clv += Number.isFinite(s.clv) ? s.clv : 0;
        }
        ctx.io.out.write(
          `Scored ${formatCount(run.scores.length)} customers with ${flags.model} as of ${day(run.asOf)}, ` +
            `horizon ${horizon} ${unit}s; stored for segments and campaigns.\n\n` +
            `${formatTable([
              ['churn risk', 'customers'],
              ['low (< 30 %)', formatCount(bands.low)],
              ['medium', formatCount(bands.medium)],
              ['high (≥ 70 %)', formatCount(bands.high)],
            ])}\n\n` +
            `total predicted value over the horizon: ${round(clv, 2).toLocaleString('en-US')} ${run.currency ?? ''}\n`,
        );
        if (!run.spendFit)
          ctx.io.out.write('spend model: too few repeat customers; expected spend is each customer’s own average\n');
      } finally {
        await store.close();
      }
    },
  );
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Number.isFinite(value) ? Math.round(value * f) / f : value;
}

function fitJson(r: StoreFit) {
  return {
    model: r.fit.model,
    params: r.fit.params,
    stderr: r.fit.stderr,
    logLikelihood: r.fit.logLikelihood,
    customers: r.fit.customers,
    converged: r.fit.converged,
    iterations: r.fit.iterations,
    warnings: r.fit.warnings,
    unit: r.unit,
    currency: r.currency,
    calibrationEnd: day(r.calibrationEnd),
    asOf: day(r.asOf),
    ...(r.spendCorrelation === undefined ? {} : { spendFrequencyCorrelation: r.spendCorrelation }),
    holdout: r.holdout
      ? {
          calibrationEnd: day(r.holdout.calibrationEnd),
          holdoutEnd: day(r.holdout.holdoutEnd),
          length: r.holdout.length,
          ...r.holdout.comparison,
        }
      : null,
  };
}

function printFit(ctx: CommandContext, r: StoreFit): void {
  const f = r.fit;
  const num = (v: number | undefined, digits = 4) => (v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits));
  const lines = [
    `${f.model} fitted to ${formatCount(f.customers)} customers (${formatCount(f.histories)} distinct histories), ` +
      `calibration up to ${day(r.calibrationEnd - 86_400_000)} in ${r.unit}s${r.currency ? `, ${r.currency}` : ''}`,
    '',
    formatTable([
      ['parameter', 'estimate', 'std. error'],
      ...Object.keys(f.params).map((k) => [k, num(f.params[k]), num(f.stderr[k])]),
    ]),
    '',
    `log-likelihood ${f.logLikelihood.toFixed(2)}, ${f.iterations} iterations, ${f.converged ? 'converged' : 'NOT converged'}`,
  ];
  if (r.spendCorrelation !== undefined) {
    lines.push(
      `correlation of frequency and spend among repeaters: ${r.spendCorrelation.toFixed(3)} (should be near 0)`,
    );
  }
  for (const w of f.warnings) lines.push(`warning: ${w}`);
  if (r.holdout) {
    const h = r.holdout.comparison;
    lines.push(
      '',
      `hold-out ${day(r.holdout.calibrationEnd)} … ${day(r.holdout.holdoutEnd - 86_400_000)} (${r.holdout.length.toFixed(1)} ${r.unit}s): ` +
        `predicted ${h.totalPredicted.toFixed(1)} purchases, actual ${h.totalActual}`,
      formatTable([
        ['calibration repeat purchases', 'customers', 'predicted (mean)', 'actual (mean)'],
        ...h.byFrequency.map((row) => [
          row.label,
          formatCount(row.customers),
          num(row.meanPredicted, 3),
          num(row.meanActual, 3),
        ]),
      ]),
    );
  }
  ctx.io.out.write(`${lines.join('\n')}\n`);
}
