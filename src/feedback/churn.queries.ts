import { activeWindowOf, groupedFigures, latestSaleEnd, periodFigures, saleCurrencies } from '../analytics/index.js';
import { dayInZone } from '../shared/dates.js';
import type { Db } from '../store/index.js';

/** One period's churn, as the retention report counts it (analytics/report.queries.ts). */
export interface ChurnFigures {
  /**
   * Customers active at the start (a sale in the active window before it); null when that cannot be
   * seen: the period starts before the first sale, or (a month) after the orders end.
   */
  customersStart: number | null;
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
  /**
   * Where the churn ends: the end of the day of the latest sale before the as-of (epoch ms); months
   * after it have no churn (null), a month it falls in is counted up to it and partial.
   */
  salesEnd: number | null;
  /**
   * A month after the orders end has no figures at all: `customersStart`, `customersLost` and
   * `churnRate` are null (who was active then cannot be seen either).
   */
  byMonth: Array<{ month: string; partial: boolean } & ChurnFigures>;
  /**
   * Over `span`, each customer in their lifecycle stage at its start, by days since their last sale
   * ('none' without a sale before it): a stage taken later is decided by the silence churn counts.
   * In the lifecycle's order. `cannotLeave`: the stage's customers were silent at most so long at the
   * start that none could leave the active window within the span (its churn is 0 by construction).
   */
  bySegment: Array<{ segment: string; cannotLeave: boolean } & ChurnFigures>;
  span: { from: number; to: number } | null;
  /** Why a figure is null (history shorter than the window), for people; null when all are shown. */
  note: string | null;
}

const figures = (f: { customersStart: number | null; customersLost: number | null; churnRate: number | null }) => ({
  customersStart: f.customersStart,
  customersLost: f.customersLost,
  churnRate: f.churnRate,
});

/**
 * The retention report's churn for the months of the exit reasons (`YYYY-MM`, UTC calendar months,
 * cut at `asOf` and at the end of the day of the store's latest sale before it, since churn after the
 * orders stop cannot be seen) and, over `[from or the first month, that end)`, per lifecycle stage at
 * that span's start (`groupAssignment`): churn rate = customers active at the start and not at the end /
 * customers active at the start, "active" being a sale in the store's active window (`activeWindowOf`),
 * in the main currency. A stage whose customers were silent too briefly at the start to leave within
 * the span under the window is marked `cannotLeave` (its 0 % is by construction, not a finding).
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
    salesEnd: null,
    byMonth: [],
    bySegment: [],
    span: null,
    note: null,
  };
  if (!currency || !window || months.length === 0) return empty;
  // Feedback may run past the orders (a live survey beside an old export): churn ends where they do.
  const salesEnd = Math.min(asOf, (await latestSaleEnd(db, currency, asOf)) ?? asOf);
  const sorted = [...new Set(months)].sort();
  const monthRange = (m: string) => {
    const [y, mo] = m.split('-').map(Number) as [number, number];
    return { from: Date.UTC(y, mo - 1, 1), to: Date.UTC(y, mo, 1) };
  };
  const options = { asOf: salesEnd, activeWindowDays: window.days, currency };
  const notes = new Set<string>();
  const byMonth: ExitChurn['byMonth'] = [];
  for (const month of sorted) {
    const range = monthRange(month);
    if (range.from >= salesEnd) {
      notes.add(`the orders end on ${dayInZone(salesEnd - 1)}: churn after that is not known`);
      byMonth.push({ month, partial: true, customersStart: null, customersLost: null, churnRate: null });
      continue;
    }
    // A month the orders stop in counts up to their end, not to the month's (it is marked partial).
    const cut = { from: range.from, to: Math.min(range.to, salesEnd) };
    const { current } = await periodFigures(db, cut, options);
    for (const issue of current.unsupported) notes.add(issue.message);
    byMonth.push({ month, partial: cut.to < range.to, ...figures(current) });
  }
  const span = { from: from ?? monthRange(sorted[0]!).from, to: Math.min(salesEnd, monthRange(sorted.at(-1)!).to) };
  if (span.from >= span.to) return { ...empty, salesEnd, byMonth, note: notes.size > 0 ? [...notes].join(' ') : null };
  const grouped = await groupedFigures(db, span, { ...options, by: { kind: 'lifecycle' } });
  // In the lifecycle's order, as `groupedFigures` gives the stages, with their `cannotLeave`.
  const bySegment = grouped.groups.map((g) => {
    for (const issue of g.unsupported) notes.add(issue.message);
    const segment = g.group === '(no sale yet)' ? 'none' : g.group;
    return { segment, ...figures(g), cannotLeave: g.cannotLeave };
  });
  return { ...empty, salesEnd, byMonth, bySegment, span, note: notes.size > 0 ? [...notes].join(' ') : null };
}
