import { activeWindowOf, groupedFigures, periodFigures, saleCurrencies } from '../analytics/index.js';
import type { Db } from '../store/index.js';

/** One period's churn, as the retention report counts it (analytics/report.queries.ts). */
export interface ChurnFigures {
  /** Customers active at the start (a sale in the active window before it). */
  customersStart: number;
  /** Of them, no longer active at the end; null when the history is shorter than the window. */
  customersLost: number | null;
  /** lost / start; null when start is 0 or the history cannot tell. */
  churnRate: number | null;
}

/** The churn beside the exit reasons: per month with answers, and per lifecycle stage over their span. */
export interface ExitChurn {
  /** The main currency (most sales), whose customers the figures count; null for a store without sales. */
  currency: string | null;
  activeWindowDays: number;
  /** How the active window was chosen, in words. */
  activeWindowRule: string;
  byMonth: Array<{ month: string; partial: boolean } & ChurnFigures>;
  /**
   * Over `span`, each customer in their lifecycle stage at its start, by days since their last sale
   * ('none' without a sale before it): a stage taken later is decided by the silence churn counts.
   */
  bySegment: Array<{ segment: string } & ChurnFigures>;
  span: { from: number; to: number } | null;
  /** Why a figure is null (history shorter than the window), for people; null when all are shown. */
  note: string | null;
}

const figures = (f: { customersStart: number; customersLost: number | null; churnRate: number | null }) => ({
  customersStart: f.customersStart,
  customersLost: f.customersLost,
  churnRate: f.churnRate,
});

/**
 * The retention report's churn for the months of the exit reasons (`YYYY-MM`, UTC calendar months,
 * cut at `asOf`) and, over `[from or the first month, asOf)`, per lifecycle stage at that span's start
 * (`groupAssignment`): churn rate = customers
 * active at the start and not at the end / customers active at the start, "active" being a sale in the
 * store's active window (`activeWindowOf`), in the main currency.
 */
export async function exitChurn(
  db: Db,
  { asOf, from, months }: { asOf: number; from?: number; months: readonly string[] },
): Promise<ExitChurn> {
  const currency = (await saleCurrencies(db, asOf))[0]?.currency ?? null;
  const window = currency ? await activeWindowOf(db, { asOf, currency }) : undefined;
  const empty: ExitChurn = {
    currency,
    activeWindowDays: window?.days ?? 0,
    activeWindowRule: window?.rule ?? '',
    byMonth: [],
    bySegment: [],
    span: null,
    note: null,
  };
  if (!currency || !window || months.length === 0) return empty;
  const sorted = [...new Set(months)].sort();
  const monthRange = (m: string) => {
    const [y, mo] = m.split('-').map(Number) as [number, number];
    return { from: Date.UTC(y, mo - 1, 1), to: Date.UTC(y, mo, 1) };
  };
  const options = { asOf, activeWindowDays: window.days, currency };
  const notes = new Set<string>();
  const byMonth: ExitChurn['byMonth'] = [];
  for (const month of sorted) {
    const { current } = await periodFigures(db, monthRange(month), options);
    for (const issue of current.unsupported) notes.add(issue.message);
    byMonth.push({ month, partial: current.partial, ...figures(current) });
  }
  const span = { from: from ?? monthRange(sorted[0]!).from, to: Math.min(asOf, monthRange(sorted.at(-1)!).to) };
  const grouped = await groupedFigures(db, span, { ...options, by: { kind: 'lifecycle' } });
  const bySegment = grouped.groups
    .map((g) => {
      for (const issue of g.unsupported) notes.add(issue.message);
      return { segment: g.group === '(no sale yet)' ? 'none' : g.group, ...figures(g) };
    })
    .sort((a, b) => a.segment.localeCompare(b.segment));
  return { ...empty, byMonth, bySegment, span, note: notes.size > 0 ? [...notes].join(' ') : null };
}
