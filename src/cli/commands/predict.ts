import type { Command } from 'commander';
import { stringify } from 'csv-stringify/sync';
import { defaultAsOf } from '../../analytics/index.js';
import { ComebackError } from '../../errors.js';
import { formatEstimate, isPurchaseModel, type ModelName } from '../../models/index.js';
import {
  type CustomerScore,
  fitStoreModel,
  type ModelSelection,
  pAliveInformative,
  type StoreFit,
  scoreCustomers,
  UNIT_DAYS,
} from '../../predict/index.js';
import { dayInZone, isMidnightInZone, MS_PER_DAY } from '../../shared/dates.js';
import { currencyExponent, formatMoney } from '../../shared/money.js';
import { openStore } from '../../store/index.js';
import { storeCustomers } from '../export-columns.js';
import { asOfText, formatCount, formatTable, printJson, printJsonList, writeChunk } from '../io.js';
import { leftOutNote } from '../left-out.js';
import { AS_OF_HELP, type CommandContext, dbOption, endDateFlag, storeTimeZone } from '../shared.js';

const MODELS = ['bgnbd', 'pnbd', 'mbgnbd', 'gg'] as const;

function unitOf(value: string): 'day' | 'week' {
  if (value !== 'day' && value !== 'week') throw new ComebackError('usage', `--unit ${value}: choose day or week`);
  return value;
}

/** The local date of an instant in the store's zone `tz` (`storeTimeZone`). */
const day = (ms: number, tz: string) => dayInZone(ms, tz);
/** The last day before an exclusive end: the local day a midnight of `tz` ends, else the day 24 hours before. */
const lastDay = (ms: number, tz: string) => dayInZone(isMidnightInZone(ms, tz) ? ms - 1 : ms - MS_PER_DAY, tz);

/** `comeback fit MODEL` and `comeback predict`: the probabilistic models over the store's customers. */
export function registerPredict(program: Command, ctx: CommandContext): void {
  dbOption(
    program
      .command('fit')
      .description('fit BG/NBD, Pareto/NBD, MBG/NBD or Gamma-Gamma to the customers; check against a hold-out')
      .argument('<model>', MODELS.join(' | '))
      .option(
        '--calibration-end <date>',
        'last day of the calibration period, included (YYYY-MM-DD); later data is the hold-out',
      )
      .option('--as-of <date>', AS_OF_HELP)
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
        // Typed days, the default as-of and printed days are days of the store's zone.
        const tz = await storeTimeZone(store.db);
        const result = await fitStoreModel(store.db, {
          model: model as ModelName,
          asOf: endDateFlag(flags.asOf, '--as-of', tz) ?? (await defaultAsOf(store.db, flags.currency, tz)),
          calibrationEnd: endDateFlag(flags.calibrationEnd, '--calibration-end', tz),
          unit: unitOf(flags.unit),
          currency: flags.currency,
          now: ctx.now(),
        });
        if (flags.json) printJson(ctx.io, fitJson(result, tz));
        else printFit(ctx, result, tz);
        if (!result.fit.identified) {
          ctx.io.err.write(`${model}: the data do not identify this fit: ${notIdentifiedSummary(result)}\n`);
        }
      } finally {
        await store.close();
      }
    },
  );

  dbOption(
    program
      .command('predict')
      .description('score every customer: P(alive), churn risk, expected purchases and purchase value, CLV, next order')
      .option(
        '--model <model>',
        'auto | bgnbd | pnbd | mbgnbd (auto: the lowest hold-out error among identified models)',
        'auto',
      )
      .option('--horizon <n>', 'how far ahead, in --unit', '52')
      .option('--unit <unit>', 'day or week', 'week')
      .option('--as-of <date>', AS_OF_HELP)
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
      const chosenModel = flags.model;
      if (chosenModel !== 'auto' && !isPurchaseModel(chosenModel))
        throw new ComebackError('usage', `--model ${flags.model}: auto, bgnbd, pnbd or mbgnbd`);
      const unit = unitOf(flags.unit);
      const horizon = Number(flags.horizon);
      const rate = Number(flags.discountRate);
      const margin = Number(flags.margin);
      if (!(horizon > 0)) throw new ComebackError('usage', `--horizon ${flags.horizon}: a positive number`);
      if (!(rate >= 0)) throw new ComebackError('usage', `--discount-rate ${flags.discountRate}: a rate ≥ 0`);
      if (!(margin > 0 && margin <= 1)) throw new ComebackError('usage', `--margin ${flags.margin}: between 0 and 1`);
      const store = await openStore(ctx.config(flags).dbUrl);
      try {
        // Typed days, the default as-of and printed days are days of the store's zone.
        const tz = await storeTimeZone(store.db);
        const run = await scoreCustomers(store.db, {
          model: chosenModel,
          unit,
          horizonDays: horizon * UNIT_DAYS[unit],
          asOf: endDateFlag(flags.asOf, '--as-of', tz) ?? (await defaultAsOf(store.db, flags.currency, tz)),
          currency: flags.currency,
          monthlyDiscountRate: rate,
          margin,
          now: ctx.now(),
        });
        const row = (s: CustomerScore) => ({
          customer_id: s.customerId,
          p_alive: s.probabilityAlive === null ? null : round(s.probabilityAlive, 4),
          churn_risk: s.churnRisk === null ? null : round(s.churnRisk, 4),
          churn_band: s.churnBand,
          expected_purchases: round(s.expectedPurchases, 4),
          expected_purchase_value: round(s.expectedPurchaseValue, 2),
          clv: round(s.clv, 2),
          next_order: s.nextOrderAt === null ? null : day(s.nextOrderAt, tz),
        });
        // The rows are made 2,000 customers at a time from the score columns, never all at once.
        function* chunks() {
          for (let start = 0; start < run.scores.length; start += 2000) yield run.scores.slice(start, start + 2000);
        }
        // Said on stderr whatever the output format: the stored scores carry no P(alive) or churn risk.
        if (run.pAliveNote) {
          ctx.io.err.write(
            `${run.model}: ${run.pAliveNote}. Scores were stored without P(alive) and churn risk; lifecycle stages use the store's recency rule.\n`,
          );
        }
        if (!run.purchaseFit.fit.identified && !run.pAliveNote) {
          ctx.io.err.write(
            `${run.model}: the data do not identify this fit: ${notIdentifiedSummary(run.purchaseFit)}\n`,
          );
        }
        if (run.spendNote) ctx.io.err.write(`spend model: ${run.spendNote}\n`);
        if (flags.csv) {
          // The CSV holds one currency's customers: the others are named on stderr, as the table names them.
          const leftOut = leftOutNote(run.leftOut ?? [], 'predict');
          if (leftOut) ctx.io.err.write(`${leftOut}\n`);
          // Written 2,000 customers at a time, waiting for the reader, never as one string of every row;
          // each chunk's store ids are read with it.
          let header = true;
          for (const chunk of chunks()) {
            const known = await storeCustomers(
              store.db,
              chunk.map((s) => s.customerId),
            );
            const lines = chunk.map((s) => {
              const { customer_id, ...rest } = row(s);
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
            await writeChunk(ctx.io, stringify(lines, { header }));
            header = false;
          }
          if (header) await writeChunk(ctx.io, stringify([], { header: true }));
          return;
        }
        if (flags.json) {
          await printJsonList(
            ctx.io,
            {
              model: run.model,
              selection: run.selection ? selectionJson(run.selection, tz) : null,
              pAliveInformative: run.pAliveNote === undefined,
              pAliveNote: run.pAliveNote ?? null,
              spendNote: run.spendNote ?? null,
              leftOutCurrencies: run.leftOut ?? [],
              leftOutNote: leftOutNote(run.leftOut ?? [], 'predict'),
              asOf: day(run.asOf, tz),
              horizonDays: run.horizonDays,
              currency: run.currency,
              purchaseFit: fitJson(run.purchaseFit, tz),
              spendFit: run.spendFit ? fitJson(run.spendFit, tz) : null,
            },
            'customers',
            (function* () {
              for (const chunk of chunks()) yield chunk.map(row);
            })(),
          );
          return;
        }
        const bands = { low: 0, medium: 0, high: 0 };
        let clv = 0;
        for (const s of run.scores) {
          if (s.churnBand !== null) bands[s.churnBand] += 1;
          clv += Number.isFinite(s.clv) ? s.clv : 0;
        }
        const out: string[] = [];
        if (run.selection) out.push(selectionText(run.selection, unit, tz), '');
        out.push(
          `Scored ${formatCount(run.scores.length)} customers with ${run.model} as of ${asOfText(run.asOf, tz)}, ` +
            `horizon ${horizon} ${unit}s; stored for segments and campaigns.`,
          '',
        );
        if (run.pAliveNote) {
          out.push(
            `P(alive) and churn risk: not informative: ${run.pAliveNote}.`,
            'Lifecycle stages and churn risk fall back to the store’s own recency rule (days since the last order).',
          );
        } else {
          out.push(
            formatTable([
              ['churn risk', 'customers'],
              ['low (< 30 %)', formatCount(bands.low)],
              ['medium', formatCount(bands.medium)],
              ['high (≥ 70 %)', formatCount(bands.high)],
            ]),
          );
        }
        out.push(
          '',
          `total predicted value over the horizon: ${run.currency ? formatMoney(Math.round(clv * 10 ** currencyExponent(run.currency)), run.currency) : round(clv, 2).toLocaleString('en-US')}`,
        );
        if (run.spendNote) out.push(`spend model: ${run.spendNote}`);
        const leftOut = leftOutNote(run.leftOut ?? [], 'predict');
        if (leftOut) out.push(leftOut);
        for (const w of run.spendFit?.fit.warnings ?? []) out.push(`spend model warning: ${w}`);
        ctx.io.out.write(`${out.join('\n')}\n`);
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

function fitJson(r: StoreFit, tz = 'UTC') {
  return {
    model: r.fit.model,
    params: r.fit.params,
    stderr: r.fit.stderr,
    logLikelihood: r.fit.logLikelihood,
    customers: r.fit.customers,
    converged: r.fit.converged,
    iterations: r.fit.iterations,
    warnings: r.fit.warnings,
    diagnostics: r.fit.diagnostics,
    identified: r.fit.identified,
    ...(r.fit.model === 'gg' ? {} : { pAliveInformative: pAliveInformative(r.fit) }),
    unit: r.unit,
    currency: r.currency,
    calibrationEnd: day(r.calibrationEnd, tz),
    calibrationLastDay: lastDay(r.calibrationEnd, tz),
    asOf: day(r.asOf, tz),
    ...(r.spendCorrelation === undefined ? {} : { spendFrequencyCorrelation: r.spendCorrelation }),
    holdout: r.holdout
      ? {
          calibrationEnd: day(r.holdout.calibrationEnd, tz),
          calibrationLastDay: lastDay(r.holdout.calibrationEnd, tz),
          holdoutEnd: day(r.holdout.holdoutEnd, tz),
          length: r.holdout.length,
          meanAbsoluteError: r.holdout.meanAbsoluteError ?? null,
          ...r.holdout.comparison,
        }
      : null,
  };
}

function printFit(ctx: CommandContext, r: StoreFit, tz = 'UTC'): void {
  const f = r.fit;
  const num = (v: number | undefined, digits = 4) => (v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits));
  const estimate = (v: number | undefined) => formatEstimate(v);
  const lines = [
    `${f.model} fitted to ${formatCount(f.customers)} customers (${formatCount(f.histories)} distinct histories), ` +
      `calibration up to and including ${lastDay(r.calibrationEnd, tz)} in ${r.unit}s${r.currency ? `, ${r.currency}` : ''}`,
    '',
    formatTable([
      ['parameter', 'estimate', 'std. error'],
      ...Object.keys(f.params).map((k) => [k, estimate(f.params[k]), estimate(f.stderr[k])]),
    ]),
    '',
    `log-likelihood ${formatLogLikelihood(f.logLikelihood)}, ${f.iterations} iterations, ${f.converged ? 'converged' : 'NOT converged'}; ` +
      (f.identified ? 'the data identify every parameter' : 'NOT identified: do not read these estimates as facts'),
  ];
  const dropout = f.diagnostics.find((d) => d.code === 'dropout_not_identified');
  if (dropout) lines.push('', dropout.message);
  if (r.spendCorrelation !== undefined) {
    lines.push(
      `correlation of frequency and spend among repeaters: ${r.spendCorrelation.toFixed(3)} (should be near 0)`,
    );
  }
  for (const d of f.diagnostics) if (d !== dropout) lines.push(`warning [${d.code}]: ${d.message}`);
  if (r.holdout) {
    const h = r.holdout.comparison;
    lines.push(
      '',
      `hold-out ${day(r.holdout.calibrationEnd, tz)} … ${lastDay(r.holdout.holdoutEnd, tz)} (${r.holdout.length.toFixed(1)} ${r.unit}s): ` +
        `predicted ${formatPurchases(h.totalPredicted)} purchases, actual ${formatCount(h.totalActual)}`,
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

/** A log-likelihood to two decimals, never `-0.00`. */
function formatLogLikelihood(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const text = value.toFixed(2);
  return /^-0\.0*$/.test(text) || text === '0.00' ? formatEstimate(value) : text;
}

/** The codes that make a fit unidentified, in a line for stderr. */
function notIdentifiedSummary(r: StoreFit | { fit: StoreFit['fit'] }): string {
  return r.fit.diagnostics.map((d) => d.code).join(', ') || 'see the warnings';
}

function selectionJson(s: ModelSelection, tz = 'UTC') {
  return {
    chosen: s.chosen,
    reason: s.reason,
    tieRule: { relativeTolerance: s.tieTolerance, order: s.tieOrder },
    calibrationLastDay: lastDay(s.calibrationEnd, tz),
    holdoutLastDay: lastDay(s.holdoutEnd, tz),
    candidates: s.candidates.map((c) => ({
      ...c,
      holdoutError: Number.isFinite(c.holdoutError) ? c.holdoutError : null,
    })),
  };
}

/** Expected purchases (a sum of expectations) to one decimal with thousands separators; – when unknown. */
function formatPurchases(value: number): string {
  return Number.isFinite(value)
    ? value.toLocaleString('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 })
    : '–';
}

/** The table of `--model auto`: each candidate's hold-out error, predicted and actual purchases (whole). */
export function selectionText(s: ModelSelection, unit: string, tz = 'UTC'): string {
  return [
    `model chosen: ${s.chosen} (${s.reason}); hold-out ${day(s.calibrationEnd, tz)} … ${lastDay(s.holdoutEnd, tz)}, per ${unit} unit`,
    formatTable([
      [
        'model',
        'hold-out error (mean |predicted − actual| per customer)',
        'predicted',
        'actual',
        'identified',
        'P(alive)',
      ],
      ...s.candidates.map((c) => [
        c.model,
        c.failure ? `failed: ${c.failure}` : formatEstimate(c.holdoutError),
        formatPurchases(c.totalPredicted),
        Number.isFinite(c.totalActual) ? formatCount(c.totalActual) : '–',
        c.identified ? 'yes' : 'no',
        c.pAliveInformative ? 'informative' : 'not informative',
      ]),
    ]),
  ].join('\n');
}
