/**
 * Fits every model on the whole CDNOW cohort (23,570 customers, 39-week calibration) and reports fit
 * time, iterations, convergence, log-likelihood and peak memory, plus each fit's cost in units of one
 * log-likelihood evaluation over all customers ungrouped (one customer at a time, nothing shared).
 * Reads ../shared/datasets/cdnow (relative to the repository root); skips with exit 0 when the data
 * are not there.
 *
 *   npm run bench:models
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  bgnbdCustomerLogLikelihood,
  bgnbdParams,
  bgnbdPredictor,
  compareHoldout,
  type FitResult,
  fitBgNbd,
  fitGammaGamma,
  fitMbgNbd,
  fitParetoNbd,
  ggCustomerLogLikelihood,
  ggParams,
  groupHistories,
  mbgnbdCustomerLogLikelihood,
  mbgnbdParams,
  pnbdCustomerLogLikelihood,
  pnbdParams,
  type RfmSummary,
} from '../src/models/index.js';

const DATA = new URL('../../shared/datasets/cdnow/', import.meta.url);
const MASTER = new URL('CDNOW_master.txt', DATA);
const SAMPLE = new URL('CDNOW_sample.txt', DATA);
const SAMPLE_SUMMARY = new URL('cdnow_customers_summary_with_transactions.csv', DATA);

const DAY = 86_400_000;
const CALIBRATION_END = Date.UTC(1997, 8, 30) / DAY;
const HOLDOUT_END = Date.UTC(1998, 5, 30) / DAY;

interface Summary extends RfmSummary {
  ids: string[];
  zbar: Float64Array;
  holdout: Float64Array;
}

function dayOf(yyyymmdd: string): number {
  return Date.UTC(Number(yyyymmdd.slice(0, 4)), Number(yyyymmdd.slice(4, 6)) - 1, Number(yyyymmdd.slice(6, 8))) / DAY;
}

/**
 * The per-customer calibration summary in the conventions of the published one: repeat purchases
 * counted per distinct day, time in weeks (days / 7), T from the first purchase to 1997-09-30, and
 * zbar the mean spend of the repeat days; plus hold-out purchase days up to 1998-06-30.
 */
function summarise(lines: string[][]): Summary {
  // customer → day → spend that day
  const days = new Map<string, Map<number, number>>();
  for (const [id, date, , dollars] of lines) {
    if (!id || !date || dollars === undefined) continue;
    let spend = days.get(id);
    if (!spend) {
      spend = new Map();
      days.set(id, spend);
    }
    const day = dayOf(date);
    spend.set(day, (spend.get(day) ?? 0) + Number(dollars));
  }
  const ids = [...days.keys()];
  const n = ids.length;
  const summary: Summary = {
    ids,
    x: new Float64Array(n),
    tx: new Float64Array(n),
    T: new Float64Array(n),
    zbar: new Float64Array(n),
    holdout: new Float64Array(n),
  };
  ids.forEach((id, i) => {
    const spend = [...(days.get(id) ?? new Map<number, number>())].sort((a, b) => a[0] - b[0]);
    const first = spend[0]?.[0] ?? 0;
    const calibration = spend.filter(([day]) => day <= CALIBRATION_END);
    const repeat = calibration.slice(1);
    summary.x[i] = repeat.length;
    summary.tx[i] = ((calibration.at(-1)?.[0] ?? first) - first) / 7;
    summary.T[i] = (CALIBRATION_END - first) / 7;
    summary.zbar[i] = repeat.length > 0 ? repeat.reduce((sum, [, dollars]) => sum + dollars, 0) / repeat.length : 0;
    summary.holdout[i] = spend.filter(([day]) => day > CALIBRATION_END && day <= HOLDOUT_END).length;
  });
  return summary;
}

function readTable(url: URL, skipHeader: boolean): string[][] {
  const rows = readFileSync(url, 'utf8')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0)
    .map((line) => line.split(/\s+/));
  return skipHeader ? rows.slice(1) : rows;
}

/** Builds the summary from the 1/10 sample and counts how many customers match the published summary. */
function checkConventions(): string {
  if (!existsSync(SAMPLE) || !existsSync(SAMPLE_SUMMARY)) return 'sample files absent: conventions not checked';
  // CDNOW_sample.txt: master id, sample id, date, CDs, dollars; the published summary is by sample id.
  const sample = summarise(
    readTable(SAMPLE, false).map(([, sampleId, date, cds, dollars]) => [
      sampleId ?? '',
      date ?? '',
      cds ?? '',
      dollars ?? '',
    ]),
  );
  const published = new Map(
    readFileSync(SAMPLE_SUMMARY, 'utf8')
      .trim()
      .split(/\r?\n/)
      .slice(1)
      .map((line) => line.split(','))
      .map(([id, ...values]) => [Number(id), values.map(Number)] as const),
  );
  let same = 0;
  sample.ids.forEach((id, i) => {
    const row = published.get(Number(id));
    const round = (v: number | undefined) => Math.round((v ?? Number.NaN) * 100) / 100;
    if (
      row &&
      row[0] === sample.x[i] &&
      round(row[1]) === round(sample.tx[i]) &&
      round(row[2]) === round(sample.T[i]) &&
      Math.abs((row[3] ?? 0) - (sample.zbar[i] ?? 0)) <= 0.005 + 1e-9
    ) {
      same++;
    }
  });
  return `summary conventions: ${same} of ${published.size} sample customers match the published summary exactly`;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/** Median time of `f` over enough runs to take about 200 ms. */
function timeIt(f: () => unknown): number {
  const start = performance.now();
  f();
  const once = performance.now() - start;
  const runs = Math.max(5, Math.min(200, Math.ceil(200 / Math.max(once, 1e-3))));
  const times: number[] = [];
  for (let k = 0; k < runs; k++) {
    const t0 = performance.now();
    f();
    times.push(performance.now() - t0);
  }
  return median(times);
}

interface Row {
  model: string;
  coldMs: number;
  warmMs: number;
  fit: FitResult;
  evaluationMs: number;
  rssMb: number;
}

function main(): void {
  if (!existsSync(MASTER)) {
    console.log(`skipping the models benchmark: ${fileURLToPath(MASTER)} not found`);
    return;
  }
  const parseStart = performance.now();
  const summary = summarise(readTable(MASTER, true));
  const parseMs = performance.now() - parseStart;
  const repeaters = summary.x.reduce((n, x) => n + (x > 0 ? 1 : 0), 0);
  console.log(
    `CDNOW master: ${summary.x.length} customers, ${repeaters} repeaters, ${groupHistories(summary).count} distinct histories (summary built in ${parseMs.toFixed(0)} ms)`,
  );
  console.log(checkConventions());

  const spend = { x: summary.x, mean: summary.zbar };
  // The reference cost: one log-likelihood over every customer, one customer at a time, with none of
  // the fit's sharing (no grouping into histories, no per-x or per-point caches).
  const perCustomer =
    (one: (x: number, tx: number, T: number) => number): (() => number) =>
    () => {
      let ll = 0;
      for (let i = 0; i < summary.x.length; i++) ll += one(summary.x[i] ?? 0, summary.tx[i] ?? 0, summary.T[i] ?? 0);
      return ll;
    };
  const perRepeater =
    (one: (x: number, m: number) => number): (() => number) =>
    () => {
      let ll = 0;
      for (let i = 0; i < summary.x.length; i++) {
        const x = summary.x[i] ?? 0;
        const m = summary.zbar[i] ?? 0;
        if (x > 0 && m > 0) ll += one(x, m);
      }
      return ll;
    };

  const models: { name: string; fit: () => FitResult; evaluate: (fit: FitResult) => () => number }[] = [
    {
      name: 'bgnbd',
      fit: () => fitBgNbd(summary),
      evaluate: (f) => {
        const params = bgnbdParams(f.params);
        return perCustomer((x, tx, T) => bgnbdCustomerLogLikelihood(params, x, tx, T));
      },
    },
    {
      name: 'mbgnbd',
      fit: () => fitMbgNbd(summary),
      evaluate: (f) => {
        const params = mbgnbdParams(f.params);
        return perCustomer((x, tx, T) => mbgnbdCustomerLogLikelihood(params, x, tx, T));
      },
    },
    {
      name: 'pnbd',
      fit: () => fitParetoNbd(summary),
      evaluate: (f) => {
        const params = pnbdParams(f.params);
        return perCustomer((x, tx, T) => pnbdCustomerLogLikelihood(params, x, tx, T));
      },
    },
    {
      name: 'gg',
      fit: () => fitGammaGamma(spend),
      evaluate: (f) => {
        const params = ggParams(f.params);
        return perRepeater((x, m) => ggCustomerLogLikelihood(params, x, m));
      },
    },
  ];
  const rows: Row[] = [];
  for (const model of models) {
    let t0 = performance.now();
    model.fit();
    const coldMs = performance.now() - t0;
    t0 = performance.now();
    const fit = model.fit();
    const warmMs = performance.now() - t0;
    const evaluate = model.evaluate(fit);
    const ll = evaluate();
    if (Math.abs(ll - fit.logLikelihood) > 1e-6 * Math.abs(ll)) {
      console.log(`${model.name}: the per-customer log-likelihood ${ll} differs from the fit's ${fit.logLikelihood}`);
    }
    const evaluationMs = timeIt(evaluate);
    rows.push({ model: model.name, coldMs, warmMs, fit, evaluationMs, rssMb: process.resourceUsage().maxRSS / 1024 });
  }

  console.log('');
  console.log(
    [
      'model',
      'fit ms (cold)',
      'fit ms (warm)',
      'iterations',
      'converged',
      'log-likelihood',
      'LL eval ms',
      'fit / LL eval',
      'peak RSS MB',
    ]
      .map((h, i) => (i === 0 ? h.padEnd(7) : h.padStart(i === 5 ? 15 : 13)))
      .join(' '),
  );
  for (const row of rows) {
    console.log(
      [
        row.model.padEnd(7),
        row.coldMs.toFixed(1).padStart(13),
        row.warmMs.toFixed(1).padStart(13),
        String(row.fit.iterations).padStart(13),
        String(row.fit.converged).padStart(13),
        row.fit.logLikelihood.toFixed(2).padStart(15),
        row.evaluationMs.toFixed(3).padStart(13),
        (row.warmMs / row.evaluationMs).toFixed(0).padStart(13),
        row.rssMb.toFixed(0).padStart(13),
      ].join(' '),
    );
  }
  console.log('');
  for (const row of rows) {
    const params = Object.entries(row.fit.params)
      .map(
        ([name, value]) => `${name} = ${value.toPrecision(5)} ± ${(row.fit.stderr[name] ?? Number.NaN).toPrecision(2)}`,
      )
      .join(', ');
    const warnings = row.fit.warnings.length > 0 ? `  warnings: ${row.fit.warnings.join('; ')}` : '';
    console.log(`${row.model.padEnd(7)} ${params} (${row.fit.histories} histories)${warnings}`);
  }

  // The calibration/hold-out check of Fader, Hardie & Lee (2005, Figure 4) for BG/NBD.
  const bgnbd = rows.find((row) => row.model === 'bgnbd');
  if (bgnbd) {
    const predictor = bgnbdPredictor(bgnbdParams(bgnbd.fit.params));
    const horizon = (HOLDOUT_END - CALIBRATION_END) / 7;
    const predicted = Float64Array.from(summary.x, (x, i) =>
      predictor.conditionalExpectedPurchases(horizon, x, summary.tx[i] ?? 0, summary.T[i] ?? 0),
    );
    const check = compareHoldout(summary.x, predicted, summary.holdout);
    console.log('');
    console.log(
      `BG/NBD hold-out (${horizon} weeks): predicted ${check.totalPredicted.toFixed(0)} repeat purchases, actual ${check.totalActual}`,
    );
    console.log(
      check.byFrequency
        .map(
          (row) =>
            `  x = ${row.label.padEnd(3)} n = ${String(row.customers).padStart(5)}  predicted ${row.meanPredicted.toFixed(3)}  actual ${row.meanActual.toFixed(3)}`,
        )
        .join('\n'),
    );
  }
}

main();
