import { useMemo, useState } from 'react';
import { apiFetch, useLoad } from '../api.js';
import { AXIS_NAME, Chart } from '../chart.js';
import { GroupBySelect } from '../components/group-by-select.js';
import { type I18n, type MessageKey, useI18n } from '../i18n.js';
import { extra } from '../i18n-korean.js';
import type { Overview, PeriodFigures, RetentionReport, StoreStats, TimeToSecondOrder } from '../types.js';
import { Async, Card, Empty, Kpi, PageHead, TableScroll } from '../ui.js';

const PERIODS = [1, 3, 6, 12] as const;
/** Active windows a store can read its retention by (0: derived from the store's own repeat gaps). */
const WINDOWS = [0, 90, 180, 365] as const;

/** The figures that are numbers (the KPIs and the side-by-side table). */
type NumericKey = {
  [K in keyof PeriodFigures]: PeriodFigures[K] extends number | null ? K : never;
}[keyof PeriodFigures];

type Kind = 'count' | 'rate' | 'money' | 'decimal';

interface Metric {
  key: NumericKey;
  label: MessageKey;
  kind: Kind;
  good?: 'up' | 'down';
}

const METRICS: Metric[] = [
  { key: 'customersEnd', label: 'customersEnd', kind: 'count' },
  { key: 'newCustomers', label: 'newCustomers', kind: 'count' },
  { key: 'crr', label: 'crr', kind: 'rate' },
  { key: 'reactivatedCustomers', label: 'reactivatedCustomers', kind: 'count' },
  { key: 'churnRate', label: 'churnRate', kind: 'rate', good: 'down' },
  { key: 'repeatPurchaseRate', label: 'repeatPurchaseRate', kind: 'rate' },
  { key: 'revenue', label: 'revenue', kind: 'money' },
  { key: 'orders', label: 'orders', kind: 'count' },
  { key: 'aov', label: 'aov', kind: 'money' },
];

function show(i18n: I18n, kind: Kind, value: number | null, currency: string): string {
  if (value === null) return '—';
  if (kind === 'rate') return i18n.percent(value);
  if (kind === 'money') return i18n.money(value, currency);
  if (kind === 'decimal') return i18n.number(value, 2);
  return i18n.number(value);
}

/** How the active window was chosen, in the reader's language (the server's rule text as a last resort). */
function windowRule(
  i18n: I18n,
  w: { source: string; rule: string; repeatGaps?: number; p90GapDays?: number | null; days: number },
): string {
  if (w.source === 'derived' && typeof w.repeatGaps === 'number' && typeof w.p90GapDays === 'number') {
    return extra(i18n.lang, 'windowDerived', {
      gaps: i18n.number(w.repeatGaps),
      days: i18n.number(Math.round(w.p90GapDays)),
    });
  }
  if (w.source === 'fallback' && typeof w.repeatGaps === 'number') {
    return extra(i18n.lang, 'windowFallback', { gaps: i18n.number(w.repeatGaps), days: i18n.number(w.days) });
  }
  return w.rule;
}

/** The change against the previous period: points for rates, a relative change for the rest. */
function changeOf(i18n: I18n, kind: Kind, current: number | null, previous: number | null) {
  if (current === null || previous === null) return { text: i18n.t('noPrevious'), direction: 'flat' as const };
  const diff = current - previous;
  const direction = Math.abs(diff) < 1e-9 ? ('flat' as const) : diff > 0 ? ('up' as const) : ('down' as const);
  if (kind === 'rate') {
    const points = i18n.number(Math.abs(diff) * 100, 1);
    return { text: extra(i18n.lang, 'percentPoints', { n: `${diff < 0 ? '−' : '+'}${points}` }), direction };
  }
  if (previous === 0) return { text: i18n.t('noPrevious'), direction: 'flat' as const };
  return { text: `${diff < 0 ? '−' : '+'}${i18n.percent(Math.abs(diff / previous))}`, direction };
}

function Kpis({ report }: { report: RetentionReport }) {
  const i18n = useI18n();
  const currency = report.currency ?? 'USD';
  return (
    <div className="kpis">
      {METRICS.map((m) => {
        const current = report[m.key];
        const previous = report.previous[m.key];
        return (
          <Kpi
            key={m.key}
            id={m.key}
            label={i18n.t(m.label)}
            value={show(i18n, m.kind, current, currency)}
            change={changeOf(i18n, m.kind, current, previous)}
            good={m.good}
          />
        );
      })}
    </div>
  );
}

/** The columns of the side-by-side table: every retention figure of each group. */
const GROUP_COLUMNS: Metric[] = [
  { key: 'customersEnd', label: 'customersEnd', kind: 'count' },
  { key: 'newCustomers', label: 'newCustomers', kind: 'count' },
  { key: 'crr', label: 'crr', kind: 'rate' },
  { key: 'churnRate', label: 'churnRate', kind: 'rate' },
  { key: 'reactivatedCustomers', label: 'reactivatedCustomers', kind: 'count' },
  { key: 'repeatPurchaseRate', label: 'repeatPurchaseRate', kind: 'rate' },
  { key: 'aov', label: 'aov', kind: 'money' },
  { key: 'purchaseFrequency', label: 'purchaseFrequency', kind: 'decimal' },
  { key: 'clv', label: 'clv', kind: 'money' },
  { key: 'revenueChurn', label: 'revenueChurn', kind: 'rate' },
  { key: 'revenue', label: 'revenue', kind: 'money' },
];

function GroupTable({ grouped }: { grouped: NonNullable<RetentionReport['byGroup']> }) {
  const i18n = useI18n();
  return (
    <TableScroll>
      <p className="muted small">{grouped.rule}</p>
      <table className="table" data-testid="group-table">
        <thead>
          <tr>
            <th scope="col">{grouped.by}</th>
            {GROUP_COLUMNS.map((c) => (
              <th key={c.key} scope="col" className="num">
                {i18n.t(c.label)}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {grouped.groups.map((g) => (
            <tr key={g.group} data-testid={`group-${g.group}`}>
              <th scope="row">{g.group}</th>
              {GROUP_COLUMNS.map((c) => (
                <td key={c.key} className="num">
                  {show(i18n, c.kind, g[c.key], grouped.currency)}
                  {c.key === 'churnRate' && g.cannotLeave ? '*' : ''}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      {grouped.groups.some((g) => g.cannotLeave) && (
        <p className="muted small" data-testid="group-cannot-leave">
          * {i18n.t('groupCannotLeave')}
        </p>
      )}
    </TableScroll>
  );
}

/** A month label, with a star when the data stops inside the month. */
function monthName(i18n: I18n, m: { month: string; partial: boolean }): string {
  return m.partial ? `${i18n.month(m.month)}*` : i18n.month(m.month);
}

function NewVsReturningChart({ data }: { data: Overview['newVsReturning'] }) {
  const i18n = useI18n();
  const currency = data.currency ?? 'USD';
  const option = useMemo(
    () => ({
      tooltip: {
        trigger: 'axis',
        axisPointer: { type: 'shadow' },
        valueFormatter: (v: number) => i18n.money(v, currency),
      },
      legend: { top: 0, data: [i18n.t('newRevenue'), i18n.t('returningRevenue')] },
      grid: { left: 16, right: 16, top: 60, bottom: 36, containLabel: true },
      xAxis: {
        type: 'category',
        name: i18n.t('month'),
        nameLocation: 'middle',
        nameGap: 30,
        nameTextStyle: AXIS_NAME,
        data: data.months.map((m) => monthName(i18n, m)),
      },
      yAxis: {
        type: 'value',
        name: `${i18n.t('revenue')} (${currency})`,
        nameTextStyle: { ...AXIS_NAME, align: 'left' },
        axisLabel: { formatter: (v: number) => i18n.compactMoney(v, currency) },
      },
      series: [
        {
          name: i18n.t('newRevenue'),
          type: 'bar',
          stack: 'revenue',
          data: data.months.map((m) => m.newRevenue),
        },
        {
          name: i18n.t('returningRevenue'),
          type: 'bar',
          stack: 'revenue',
          data: data.months.map((m) => m.returningRevenue),
        },
      ],
    }),
    [data, i18n, currency],
  );
  if (data.months.length === 0) return <Empty />;
  return <Chart option={option} label={i18n.t('newVsReturningTitle')} />;
}

function BuyersChart({ data }: { data: Overview['newVsReturning'] }) {
  const i18n = useI18n();
  const option = useMemo(
    () => ({
      tooltip: { trigger: 'axis', valueFormatter: (v: number) => i18n.number(v) },
      legend: { top: 0, data: [i18n.t('newRevenue'), i18n.t('returningRevenue')] },
      grid: { left: 8, right: 16, top: 60, bottom: 36, containLabel: true },
      xAxis: {
        type: 'category',
        name: i18n.t('month'),
        nameLocation: 'middle',
        nameGap: 30,
        nameTextStyle: AXIS_NAME,
        boundaryGap: false,
        data: data.months.map((m) => monthName(i18n, m)),
      },
      yAxis: {
        type: 'value',
        name: i18n.t('customers'),
        nameTextStyle: { ...AXIS_NAME, align: 'left' },
        minInterval: 1,
      },
      series: [
        { name: i18n.t('newRevenue'), type: 'line', data: data.months.map((m) => m.newCustomers), symbolSize: 6 },
        {
          name: i18n.t('returningRevenue'),
          type: 'line',
          data: data.months.map((m) => m.returningCustomers),
          symbolSize: 6,
        },
      ],
    }),
    [data, i18n],
  );
  if (data.months.length === 0) return <Empty />;
  return <Chart option={option} height={300} label={i18n.t('buyersTitle')} />;
}

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** A figure the data cannot support, said in the page's language from the figures the API sends. */
function historyShortText(i18n: I18n, report: RetentionReport, issue: RetentionReport['unsupported'][number]): string {
  if (issue.code === 'period_outside_history') {
    return i18n.t('periodOutsideHistory', {
      to: i18n.date(report.to - 1),
      start: i18n.date(Date.parse(issue.historyStart)),
    });
  }
  if (issue.code === 'period_before_history') {
    return i18n.t('periodBeforeHistory', {
      from: i18n.date(report.from),
      start: i18n.date(Date.parse(issue.historyStart)),
    });
  }
  return i18n.t('historyShort', {
    start: i18n.date(Date.parse(issue.historyStart)),
    days: i18n.number(report.activeWindowDays),
    from: i18n.date(report.from),
    needed: i18n.date(Date.parse(issue.needed)),
  });
}

/**
 * The last `months` full calendar months before the month of the latest order (the data may be
 * historical, so "now" is the data's end), then the report of that period and the monthly series.
 */
async function loadOverview(months: number, windowDays: number, by: string): Promise<Overview | null> {
  const stats = await apiFetch<StoreStats>('/stats');
  if (stats.lastOrderAt === null) return null;
  const end = new Date(stats.lastOrderAt);
  const from = day(Date.UTC(end.getUTCFullYear(), end.getUTCMonth() - months, 1));
  // The API reads `to` as the last day included: the last day of the month before the latest order's.
  const to = day(Date.UTC(end.getUTCFullYear(), end.getUTCMonth(), 0));
  const [report, newVsReturning, timeToSecondOrder] = await Promise.all([
    apiFetch<RetentionReport>(
      `/metrics?from=${from}&to=${to}${windowDays > 0 ? `&activeWindow=${windowDays}d` : ''}${by ? `&by=${encodeURIComponent(by)}` : ''}`,
    ),
    apiFetch<Overview['newVsReturning']>('/metrics/new-vs-returning'),
    apiFetch<TimeToSecondOrder>('/metrics/time-to-second-order'),
  ]);
  return { from, to, report, newVsReturning, timeToSecondOrder };
}

/** The Overview page: retention figures against the previous period and revenue from new vs returning customers. */
export function OverviewPage() {
  const i18n = useI18n();
  const [months, setMonths] = useState<number>(3);
  const [windowDays, setWindowDays] = useState<number>(0);
  const [by, setBy] = useState<string>('');
  const [state, retry] = useLoad(`overview-${months}-${windowDays}-${by}`, () => loadOverview(months, windowDays, by));
  return (
    <>
      <PageHead title={i18n.t('navOverview')}>
        <label className="field inline">
          <span>{i18n.t('period')}</span>
          <select value={months} onChange={(e) => setMonths(Number(e.target.value))} data-testid="period">
            {PERIODS.map((n) => (
              <option key={n} value={n}>
                {i18n.t('lastMonths', { n })}
              </option>
            ))}
          </select>
        </label>
        <label className="field inline">
          <span>{i18n.t('activeWindow')}</span>
          <select
            value={windowDays}
            onChange={(e) => setWindowDays(Number(e.target.value))}
            data-testid="active-window"
          >
            {WINDOWS.map((n) => (
              <option key={n} value={n}>
                {n === 0 ? i18n.t('windowAutoShort') : i18n.t('days', { n })}
              </option>
            ))}
          </select>
        </label>
        <GroupBySelect value={by} onChange={setBy} testId="group-by" />
      </PageHead>
      <Async state={state} retry={retry}>
        {(data) =>
          data === null || data.report.currency === null ? (
            <Empty />
          ) : (
            <>
              <p className="muted period-line" data-testid="period-line" data-from={data.from} data-to={data.to}>
                {i18n.date(data.report.from)} – {i18n.date(data.report.to - 1)} ·{' '}
                {i18n.t('previousPeriod', {
                  from: i18n.date(data.report.previous.from),
                  to: i18n.date(data.report.previous.to - 1),
                })}
              </p>
              <Kpis report={data.report} />
              {data.report.leftOutCurrencies.map((c) => (
                <p key={c.currency} className="notice" data-testid={`left-out-${c.currency}`}>
                  {i18n.t('currencyLeftOut', {
                    currency: c.currency,
                    day: i18n.date(Date.parse(c.lastSaleDay)),
                    iso: c.lastSaleDay,
                  })}
                </p>
              ))}
              {data.report.unsupported.map((u) => (
                <p key={u.code} className="notice" data-testid={`unsupported-${u.code}`}>
                  {historyShortText(i18n, data.report, u)}
                </p>
              ))}
              <p className="muted small definition" data-testid="active-definition">
                {i18n.t('activeDefinition', { days: i18n.number(data.report.activeWindowDays) })}{' '}
                {data.report.activeWindow.source === 'given'
                  ? ''
                  : `${i18n.t('windowAuto', { n: i18n.number(data.report.activeWindowDays) })}: ${windowRule(i18n, data.report.activeWindow)}`}
              </p>
              {data.report.byGroup && (
                <Card title={i18n.t('groupsTitle', { by: data.report.byGroup.by })} wide>
                  <GroupTable grouped={data.report.byGroup} />
                </Card>
              )}
              <div className="grid">
                <Card title={i18n.t('newVsReturningTitle')} wide>
                  <NewVsReturningChart data={data.newVsReturning} />
                </Card>
                <Card title={i18n.t('buyersTitle')}>
                  <BuyersChart data={data.newVsReturning} />
                </Card>
                {data.newVsReturning.months.some((m) => m.partial) && (
                  <p className="muted small" data-testid="partial-note">
                    {i18n.t('partialMonths')}
                  </p>
                )}
                <Card title={i18n.t('secondOrderTitle')}>
                  <dl className="facts">
                    <div>
                      <dt>{i18n.t('medianDays')}</dt>
                      <dd>
                        {data.timeToSecondOrder.median === null ? '—' : i18n.number(data.timeToSecondOrder.median)}
                      </dd>
                    </div>
                    {data.timeToSecondOrder.within.map((w) => (
                      <div key={w.days}>
                        <dt>{i18n.t('within', { n: w.days })}</dt>
                        <dd>{w.share === null ? '—' : i18n.percent(w.share)}</dd>
                      </div>
                    ))}
                  </dl>
                </Card>
              </div>
            </>
          )
        }
      </Async>
    </>
  );
}
