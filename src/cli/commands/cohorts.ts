import type { Command } from 'commander';
import {
  COHORT_BREAKDOWNS,
  COHORT_METRICS,
  COHORT_PERIODS,
  type CohortBreakdown,
  type CohortMetric,
  type CohortPeriod,
  type CohortTable,
  cohortTable,
  GROUP_KINDS,
  type Grouping,
  leftOutCurrencies,
  parseGrouping,
} from '../../analytics/index.js';
import { ComebackError } from '../../errors.js';
import { currencyExponent } from '../../shared/money.js';
import { openStore } from '../../store/index.js';
import { asOfText, formatCount, formatTable, type Io, printJson } from '../io.js';
import { leftOutNote } from '../left-out.js';
import { AS_OF_HELP, type CommandContext, dbOption, resolveAsOf } from '../shared.js';

interface CohortFlags {
  db?: string;
  period: string;
  metric: string;
  breakdown?: string;
  asOf?: string;
  currency?: string;
  by?: string;
  json?: boolean;
}

function oneOf<T extends string>(value: string, allowed: readonly T[], flag: string): T {
  const found = allowed.find((a) => a === value);
  if (found === undefined) throw new ComebackError('usage', `${flag} ${value}: choose one of ${allowed.join(', ')}`);
  return found;
}

/** `comeback cohorts`: the acquisition-cohort table, as a heatmap on a colour terminal. */
export function registerCohorts(program: Command, ctx: CommandContext): void {
  dbOption(
    program
      .command('cohorts')
      .description('acquisition cohorts by month or week of first purchase: what each cohort did in every later period')
      .option('--period <period>', 'month or week (ISO, Monday first)', 'month')
      .option(
        '--metric <metric>',
        'customers (share who bought), revenue or ltv (cumulative) per original customer',
        'customers',
      )
      .option(
        '--breakdown <by>',
        'split cohorts by first-order value quartile, country or discount use: value, country, discount',
      )
      .option(
        '--by <group>',
        `split cohorts by who the customers are as of --as-of: ${GROUP_KINDS.filter((k) => k !== 'segment').join(', ')} or segment:NAME`,
      )
      .option('--as-of <date>', AS_OF_HELP)
      .option('--currency <code>', 'currency (default: the main currency of the store)')
      .option('--json', 'print JSON'),
  ).action(async (flags: CohortFlags) => {
    const period: CohortPeriod = oneOf(flags.period, COHORT_PERIODS, '--period');
    const metric: CohortMetric = oneOf(flags.metric, COHORT_METRICS, '--metric');
    const breakdown: CohortBreakdown | undefined =
      flags.breakdown === undefined ? undefined : oneOf(flags.breakdown, COHORT_BREAKDOWNS, '--breakdown');
    let by: Grouping | undefined;
    if (flags.by !== undefined) {
      if (breakdown !== undefined) throw new ComebackError('usage', '--by and --breakdown: choose one');
      try {
        by = parseGrouping(flags.by);
      } catch (error) {
        throw new ComebackError('usage', `--${error instanceof Error ? error.message : String(error)}`);
      }
    }
    const store = await openStore(ctx.config(flags).dbUrl);
    try {
      const { asOf, timeZone } = await resolveAsOf(ctx, store.db, flags.asOf, flags.currency);
      const table = await cohortTable(store.db, { period, metric, breakdown, by, asOf, currency: flags.currency });
      const leftOut = table.currency ? await leftOutCurrencies(store.db, { asOf, currency: table.currency }) : [];
      const note = leftOutNote(leftOut, 'cohorts');
      if (flags.json) {
        printJson(ctx.io, {
          ...table,
          asOf: new Date(table.asOf).toISOString(),
          leftOutCurrencies: leftOut,
          leftOutNote: note,
        });
      } else {
        ctx.io.out.write(renderCohorts(table, wantsColour(ctx.io, ctx.env), timeZone));
        if (note) ctx.io.out.write(`${note}\n`);
      }
    } finally {
      await store.close();
    }
  });
}

/** Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org). */
function wantsColour(io: Io, env: NodeJS.ProcessEnv): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return 'isTTY' in io.out && io.out.isTTY === true;
}

/** Light yellow to dark green in the xterm 256-colour cube: a sequential heatmap scale. */
const RAMP = [230, 229, 193, 192, 156, 120, 114, 78, 72, 36, 29, 22];

function heat(text: string, share: number): string {
  const index = Math.min(RAMP.length - 1, Math.max(0, Math.round(share * (RAMP.length - 1))));
  const foreground = index >= 8 ? 15 : 16;
  return `\u001b[48;5;${RAMP[index]}m\u001b[38;5;${foreground}m${text}\u001b[0m`;
}

/** The cohort table for people: one row per cohort, one column per period since acquisition. */
export function renderCohorts(table: CohortTable, colour: boolean, timeZone = 'UTC'): string {
  if (table.cohorts.length === 0) return 'No sales in the store: no cohorts.\n';
  const width = Math.max(...table.cohorts.map((c) => c.values.length));
  // Money in major units with the currency's own decimals (none for KRW or JPY), thousands grouped.
  const digits = table.currency ? currencyExponent(table.currency) : 2;
  const money = (v: number) =>
    v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
  const cell = (v: number) => (table.metric === 'customers' ? `${(v * 100).toFixed(1)}%` : money(v));
  // The acquisition period is 100 % by definition; the scale is set by the later periods.
  const later = table.cohorts.flatMap((c) => (table.metric === 'customers' ? c.values.slice(1) : c.values));
  const max = Math.max(1e-12, ...later);
  // The last column falls in a period the data stops inside: marked, so that it never reads as a drop.
  const texts = table.cohorts.map((c) =>
    c.values.map((v, k) => (table.partial && k === c.values.length - 1 ? `${cell(v)}*` : cell(v))),
  );
  const cellWidth = Math.max(5, ...texts.flat().map((t) => t.length));
  const unit = table.period === 'month' ? 'M' : 'W';
  const header = [
    'cohort',
    ...(table.breakdown ? [table.breakdown] : table.by ? [table.by.name] : []),
    'customers',
    ...Array.from({ length: width }, (_, k) => `${unit}${k}`.padStart(cellWidth)),
  ];
  // The first cohort holds everyone already a customer when the data starts: marked, with a note below.
  const rows = table.cohorts.map((c, r) => [
    c.cohort === table.firstCohort?.cohort ? `${c.cohort}†` : c.cohort,
    ...(table.breakdown || table.by ? [c.group ?? ''] : []),
    formatCount(c.size),
    ...texts[r]!.map((t, k) => {
      const padded = t.padStart(cellWidth);
      return colour ? heat(padded, c.values[k]! / max) : padded;
    }),
  ]);
  const what = {
    customers: 'share of the cohort that bought in each period since acquisition',
    revenue: `net revenue per original customer in each period (${table.currency})`,
    ltv: `cumulative net revenue per original customer (${table.currency})`,
  }[table.metric];
  const grouped = table.by ? `groups: ${table.by.rule}\n` : '';
  const bands = table.bands
    ? `first-order value bands: ${table.bands.map((b) => `${b.group} ${money(b.min)}–${money(b.max)}`).join(', ')}\n`
    : '';
  const partial = table.partial
    ? `* ${table.partial.cohort} is partial: the data stops on ${table.partial.lastDay} (${table.partial.days} of ${table.partial.ofDays} days), so its values are not comparable with whole periods\n`
    : '';
  const first = table.firstCohort
    ? `† ${table.firstCohort.cohort}: the data starts on ${table.firstCohort.firstSaleDay}, so this cohort holds every customer already buying then, not only those acquired in it\n`
    : '';
  // Whose and when: the cohorts count only the customers who bought in this currency, up to the as-of.
  const scope = `${table.currency ? `customers who bought in ${table.currency}, ` : ''}as of ${asOfText(table.asOf, timeZone)}\n`;
  return `Acquisition cohorts by ${table.period} of first purchase: ${what}\n${scope}${grouped}${bands}${formatTable([header, ...rows])}\n${partial}${first}`;
}
