import type { Command } from 'commander';
import {
  type ComparedMetric,
  type CurrencyReport,
  type Engagement,
  GROUP_KINDS,
  type GroupedFigures,
  type Grouping,
  parseDurationDays,
  parseGrouping,
  type RetentionReport,
  retentionReport,
  SECOND_ORDER_HORIZONS,
  type TimeToSecondOrder,
} from '../../analytics/index.js';
import { ComebackError } from '../../errors.js';
import { dayInZone, isMidnightInZone, MS_PER_DAY } from '../../shared/dates.js';
import { openStore } from '../../store/index.js';
import { asOfText, formatCount, formatTable, type Io, printJson } from '../io.js';
import { type CommandContext, dateFlag, dbOption, endDateFlag, resolveAsOf } from '../shared.js';

interface ReportFlags {
  db?: string;
  from?: string;
  to?: string;
  asOf?: string;
  activeWindow?: string;
  currency?: string;
  by?: string;
  json?: boolean;
}

/** `comeback report`: the retention metrics of a period beside the previous one. */
export function registerReport(program: Command, ctx: CommandContext): void {
  dbOption(
    program
      .command('report')
      .description(
        'retention metrics of a period (CRR, churn, repeat rate, AOV, CLV, revenue churn…) against the previous one',
      )
      .option('--from <date>', 'first day of the period, YYYY-MM-DD (default: the last full month before --as-of)')
      .option('--to <date>', 'last day of the period, YYYY-MM-DD, included (--to 2011-03-31 includes March 31)')
      .option(
        '--as-of <date>',
        'describe the store as of the end of this day, YYYY-MM-DD (default: the end of the day of the latest sale)',
      )
      .option(
        '--active-window <duration>',
        'a customer at time t bought within this window before t (default: derived from the store: the 90th percentile of days between repeat purchases, rounded up to 30-day months)',
      )
      .option('--currency <code>', 'one currency only (default: every currency, the main one first)')
      .option(
        '--by <group>',
        `every figure per group, side by side: ${GROUP_KINDS.filter((k) => k !== 'segment').join(', ')} or segment:NAME (each customer in their group as of the period's end)`,
      )
      .option('--json', 'print JSON'),
  ).action(async (flags: ReportFlags) => {
    const activeWindowDays =
      flags.activeWindow === undefined ? undefined : parseDurationDays(flags.activeWindow, '--active-window');
    // Read in UTC first so that a bad date is refused before the store is opened; re-read in its zone below.
    const inZone = (timeZone?: string) => ({
      from: dateFlag(flags.from, '--from', timeZone),
      to: endDateFlag(flags.to, '--to', timeZone),
    });
    const checked = inZone();
    const by = flags.by === undefined ? undefined : groupingFlag(flags.by);
    if (checked.from !== undefined && checked.to !== undefined && checked.from >= checked.to) {
      throw new ComebackError('usage', `--from ${flags.from} must not be after --to ${flags.to}`);
    }
    const store = await openStore(ctx.config(flags).dbUrl);
    try {
      // The store's zone (`comeback flows settings`): typed days, the as-of and the default month are its local days.
      const { asOf, source, timeZone } = await resolveAsOf(ctx, store.db, flags.asOf, flags.currency);
      const { from, to } = inZone(timeZone);
      const report = await retentionReport(store.db, {
        from,
        to,
        asOf,
        activeWindowDays,
        currency: flags.currency,
        by,
        timeZone,
      });
      if (flags.json) printJson(ctx.io, reportJson(report, source, timeZone));
      else printReport(ctx.io, report, source, timeZone);
    } finally {
      await store.close();
    }
  });
}

/** Parses `--by`, a usage error (exit 2) naming the flag. */
function groupingFlag(text: string): Grouping {
  try {
    return parseGrouping(text);
  } catch (error) {
    throw new ComebackError('usage', `--${error instanceof Error ? error.message : String(error)}`);
  }
}

/** The local date of an instant in the store's zone. */
const day = (ms: number, timeZone: string) => dayInZone(ms, timeZone);
/** The last day before an exclusive end: the local day a local midnight ends, else the day 24 hours before. */
const lastDay = (ms: number, timeZone: string) =>
  dayInZone(isMidnightInZone(ms, timeZone) ? ms - 1 : ms - MS_PER_DAY, timeZone);

/** Right-aligns every column but the first, whatever its text, then lays the table out. */
function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return formatTable(rows.map((r, ri) => r.map((v, i) => (i === 0 || ri === 0 ? v : v.padStart(widths[i]!)))));
}

/**
 * The JSON face: `from` is the first day, `to` the exclusive end (the day after the last), `lastDay`
 * the last day included; `asOf` is an instant (the end of `asOfLastDay`).
 */
function reportJson(report: RetentionReport, asOfSource: string, timeZone: string) {
  const dates = <T extends { from: number; to: number }>(p: T) => ({
    ...p,
    from: day(p.from, timeZone),
    to: day(p.to, timeZone),
    lastDay: lastDay(p.to, timeZone),
  });
  const currency = <T extends Omit<CurrencyReport, 'currency'>>(c: T) => ({ ...dates(c), previous: dates(c.previous) });
  return {
    ...currency(report),
    asOf: new Date(report.asOf).toISOString(),
    asOfLastDay: lastDay(report.asOf, timeZone),
    asOfSource,
    dates:
      'from and lastDay are included; to is the exclusive end (the day after lastDay); asOf is the end of asOfLastDay',
    byCurrency: report.byCurrency.map(currency),
    byGroup: report.byGroup && {
      ...report.byGroup,
      groups: report.byGroup.groups.map((g) => ({ ...dates(g), previous: dates(g.previous) })),
    },
  };
}

type Kind = 'count' | 'rate' | 'money' | 'number' | 'days';

const ROWS: Array<[ComparedMetric, string, Kind]> = [
  ['customersStart', 'customers at start (S)', 'count'],
  ['customersEnd', 'customers at end (E)', 'count'],
  ['newCustomers', 'new customers (N)', 'count'],
  ['customersLost', 'customers lost', 'count'],
  ['retainedCustomers', 'customers retained (in S and E)', 'count'],
  ['reactivatedCustomers', 'customers reactivated (in E, not S, not new)', 'count'],
  ['crr', 'customer retention rate retained/S', 'rate'],
  ['churnRate', 'churn rate', 'rate'],
  ['repeatPurchaseRate', 'repeat-purchase rate', 'rate'],
  ['buyers', 'buying customers', 'count'],
  ['returningCustomers', 'returning customers', 'count'],
  ['returningCustomerRate', 'returning-customer rate', 'rate'],
  ['orders', 'orders', 'count'],
  ['revenue', 'net revenue', 'money'],
  ['aov', 'average order value', 'money'],
  ['purchaseFrequency', 'purchase frequency', 'number'],
  ['customerValue', 'customer value', 'money'],
  ['averageLifespanDays', 'expected lifespan (period ÷ churn)', 'days'],
  ['clv', 'customer lifetime value', 'money'],
  ['revenueChurn', 'revenue churn', 'rate'],
  ['netRevenueRetention', 'net revenue retention', 'rate'],
  ['guestOrders', 'guest orders (not above)', 'count'],
  ['guestRevenue', 'guest revenue (not above)', 'money'],
];

function formatValue(value: number | null, kind: Kind, currency: string, isChange = false): string {
  if (value === null) return '–';
  const sign = isChange && value > 0 ? '+' : '';
  switch (kind) {
    case 'count':
      return sign + formatCount(value);
    case 'rate':
      return isChange ? `${sign}${(value * 100).toFixed(1)} pp` : `${(value * 100).toFixed(1)} %`;
    case 'money':
      return (
        sign +
        new Intl.NumberFormat('en', { style: 'currency', currency, currencyDisplay: 'narrowSymbol' }).format(value)
      );
    case 'days':
      return `${sign}${Math.round(value).toLocaleString('en-US')} d`;
    default:
      return sign + value.toFixed(2);
  }
}

/**
 * The change between two figures as printed: each rounded as `formatValue` shows it (a rate to 0.1 %,
 * money to the currency's minor unit, days to whole days, decimals to 2 places) before subtracting, so
 * that the column adds up on the page (£478.32 − £430.40 = +£47.92, not the unrounded +£47.93). Null
 * when the report gives no change (`change`).
 */
function shownChange(
  current: number | null,
  previous: number | null,
  change: number | null,
  kind: Kind,
  currency: string,
): number | null {
  if (change === null || current === null || previous === null) return change;
  const places =
    kind === 'rate'
      ? 3
      : kind === 'money'
        ? (new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2)
        : kind === 'days'
          ? 0
          : kind === 'count'
            ? undefined
            : 2;
  if (places === undefined) return current - previous;
  const round = (v: number) => Math.round(v * 10 ** places) / 10 ** places;
  return round(round(current) - round(previous));
}

function printReport(io: Io, report: RetentionReport, asOfSource: string, timeZone: string): void {
  const write = (text: string) => io.out.write(text);
  if (report.byCurrency.length === 0) {
    write('No sales in the store: nothing to report.\n');
    return;
  }
  const period = `${day(report.from, timeZone)} … ${lastDay(report.to, timeZone)}`;
  const previous = `${day(report.previous.from, timeZone)} … ${lastDay(report.previous.to, timeZone)}`;
  write(
    `Retention report for ${period}${report.defaultPeriod ? ' (the last full month before as-of)' : ''}, ` +
      `previous period ${previous}\n`,
  );
  write(`as of ${asOfText(report.asOf, timeZone)} (${asOfSource})\n`);
  write(`A customer at time t is one with at least one sale in the ${report.activeWindowDays} days before t`);
  write(
    report.activeWindow.source === 'given'
      ? ' (--active-window).\n'
      : ` (${report.activeWindow.rule}; --active-window to change).\n`,
  );
  write(
    'Retention counts only customers active at both ends; those who came back after a silence are reactivated, not retained.\n',
  );
  write('Refunded, cancelled and pending orders are left out; partly refunded orders count at their net amount.\n');
  for (const note of report.notes) write(`Note: ${note}.\n`);
  for (const c of report.byCurrency) {
    write(`\n${c.currency}${c.partial ? ' (partial period: the data stops inside it)' : ''}\n`);
    for (const issue of c.unsupported) write(`Not shown for this period: ${issue.message}.\n`);
    for (const issue of c.previous.unsupported) write(`Not shown for the previous period: ${issue.message}.\n`);
    write(
      `${table([
        ['metric', 'this period', 'previous', 'change'],
        ...ROWS.map(([key, label, kind]) => [
          label,
          formatValue(c[key], kind, c.currency),
          formatValue(c.previous[key], kind, c.currency),
          formatValue(shownChange(c[key], c.previous[key], c.change[key], kind, c.currency), kind, c.currency, true),
        ]),
      ])}\n`,
    );
    if (c.newVsReturning.length > 0) {
      write(`\nNew vs returning customers per month (${c.currency})\n`);
      write(
        `${table([
          ['month', 'new', 'returning', 'new revenue', 'returning revenue'],
          ...c.newVsReturning.map((m) => [
            `${m.partial ? `${m.month} (partial)` : m.month}${m.dataStarts ? '†' : ''}`,
            formatCount(m.newCustomers),
            formatCount(m.returningCustomers),
            formatValue(m.newRevenue, 'money', c.currency),
            formatValue(m.returningRevenue, 'money', c.currency),
          ]),
        ])}\n`,
      );
      const start = c.newVsReturning.find((m) => m.dataStarts);
      if (start) {
        write(
          `† ${start.month}: the data starts in this month, so its buyers' earlier purchases cannot be seen and every one of them counts as new\n`,
        );
      }
    }
    write(`\nTime to second purchase of the customers acquired in the period (${c.currency})\n`);
    write(`${secondOrderTable(c.timeToSecondOrder.current, c.timeToSecondOrder.previous)}\n`);
    const blind = [
      c.timeToSecondOrder.current === null ? 'this period' : '',
      c.timeToSecondOrder.previous === null ? 'the previous one' : '',
    ].filter(Boolean);
    if (blind.length > 0) {
      write(
        `– ${blind.join(' and ')}: ${blind.length === 2 ? 'each starts' : 'it starts'} on the first sale's day or before it, so who was acquired in it cannot be seen (as new customers cannot)\n`,
      );
    }
  }
  if (report.byGroup) write(groupTable(report.byGroup));
  if (report.engagement) {
    const { current, previous } = report.engagement;
    const both = (pick: (e: Engagement) => number | null, kind: Kind) => [
      formatValue(current ? pick(current) : null, kind, ''),
      formatValue(previous ? pick(previous) : null, kind, ''),
    ];
    write('\nEngagement (events)\n');
    write(
      `${table([
        ['metric', 'this period', 'previous'],
        ['e-mails delivered', ...both((e) => e.emailsDelivered, 'count')],
        ['open rate', ...both((e) => e.emailOpenRate, 'rate')],
        ['click rate', ...both((e) => e.emailClickRate, 'rate')],
        ['visits', ...both((e) => e.visits, 'count')],
        ['visits per customer per month', ...both((e) => e.visitsPerCustomerPerMonth, 'number')],
      ])}\n`,
    );
  }
}

function secondOrderTable(current: TimeToSecondOrder | null, previous: TimeToSecondOrder | null): string {
  const days = (v: number | null | undefined) => (v == null ? '–' : `${v.toFixed(1)} days`);
  // A previous period wholly before the sales (null) acquired nobody the data can see: "–", not 0.
  const count = (v: number | undefined) => (v === undefined ? '–' : formatCount(v));
  const rows: string[][] = [
    ['', 'this period', 'previous'],
    ['customers acquired', count(current?.customers), count(previous?.customers)],
    ['came back', count(current?.withSecondOrder), count(previous?.withSecondOrder)],
    ['first quartile', days(current?.q1), days(previous?.q1)],
    ['median', days(current?.median), days(previous?.median)],
    ['third quartile', days(current?.q3), days(previous?.q3)],
  ];
  SECOND_ORDER_HORIZONS.forEach((horizon, i) => {
    rows.push([
      `within ${horizon} days`,
      formatValue(current?.within[i]?.share ?? null, 'rate', ''),
      formatValue(previous?.within[i]?.share ?? null, 'rate', ''),
    ]);
  });
  return table(rows);
}

/** The columns of the side-by-side table: one row per group. */
const GROUP_COLUMNS: Array<[ComparedMetric, string, Kind]> = [
  ['customersStart', 'S', 'count'],
  ['customersEnd', 'E', 'count'],
  ['newCustomers', 'N', 'count'],
  ['customersLost', 'lost', 'count'],
  ['reactivatedCustomers', 'reactivated', 'count'],
  ['crr', 'retention', 'rate'],
  ['churnRate', 'churn', 'rate'],
  ['repeatPurchaseRate', 'repeat rate', 'rate'],
  ['aov', 'AOV', 'money'],
  ['purchaseFrequency', 'frequency', 'number'],
  ['clv', 'CLV', 'money'],
  ['revenueChurn', 'revenue churn', 'rate'],
  ['revenue', 'net revenue', 'money'],
];

/** Every figure per group, side by side, with how a customer's group was decided. */
function groupTable(grouped: GroupedFigures): string {
  const rows = [
    [grouped.by, ...GROUP_COLUMNS.map(([, label]) => label)],
    ...grouped.groups.map((g) => [
      g.group,
      ...GROUP_COLUMNS.map(([key, , kind]) => formatValue(g[key], kind, grouped.currency)),
    ]),
  ];
  const cannotLeave = grouped.groups.filter((g) => g.cannotLeave).map((g) => g.group);
  const footnote =
    cannotLeave.length === 0
      ? ''
      : `${cannotLeave.join(', ')}: too recent at the start to leave in the period, so a churn of 0 is by construction, not a finding\n`;
  return `\nBy ${grouped.by} (${grouped.currency}): ${grouped.rule}\n${table(rows)}\n${footnote}`;
}
