import { useEffect, useMemo, useState } from 'react';
import { useApi } from '../api.js';
import { AXIS_NAME, Chart } from '../chart.js';
import { GroupBySelect } from '../components/group-by-select.js';
import { type I18n, useI18n } from '../i18n.js';
import type { CohortMetric, CohortTable } from '../types.js';
import { Async, Card, Empty, PageHead, TableScroll } from '../ui.js';

const METRICS: Array<{ metric: CohortMetric; label: 'metricCustomers' | 'metricRevenue' | 'metricLtv' }> = [
  { metric: 'customers', label: 'metricCustomers' },
  { metric: 'revenue', label: 'metricRevenue' },
  { metric: 'ltv', label: 'metricLtv' },
];

function cellText(i18n: I18n, table: CohortTable, value: number, compact = false): string {
  if (table.metric === 'customers') return i18n.percent(value, compact ? 0 : 1);
  const currency = table.currency ?? 'USD';
  return compact ? i18n.compactMoney(value, currency) : i18n.money(value, currency);
}

/** Whether the screen is wide enough for numbers inside the heatmap cells; follows resizing. */
function useWide(): boolean {
  const query = '(min-width: 900px)';
  const [wide, setWide] = useState(() => window.matchMedia(query).matches);
  useEffect(() => {
    const media = window.matchMedia(query);
    const onChange = () => setWide(media.matches);
    media.addEventListener('change', onChange);
    return () => media.removeEventListener('change', onChange);
  }, []);
  return wide;
}

/** A cohort's name, with its group when the table is split by one. */
function rowName(i18n: I18n, c: CohortTable['cohorts'][number], first?: string): string {
  const name = c.cohort === first ? `${i18n.month(c.cohort)}†` : i18n.month(c.cohort);
  return c.group === undefined ? name : `${name} · ${c.group}`;
}

/** A cell's text, with a star in the last column when the data stops inside that period. */
function markedCell(i18n: I18n, table: CohortTable, values: number[], k: number): string {
  const text = cellText(i18n, table, values[k]!);
  return table.partial && k === values.length - 1 ? `${text}*` : text;
}

function Heatmap({ table }: { table: CohortTable }) {
  const i18n = useI18n();
  const wide = useWide();
  const option = useMemo(() => {
    // Month 0 is 100% of a cohort's customers by definition: the share chart starts at month 1.
    const first = table.metric === 'customers' ? 1 : 0;
    const periods = Math.max(...table.cohorts.map((c) => c.values.length));
    const cohorts = [...table.cohorts].reverse();
    const data: Array<[number, number, number]> = [];
    let max = 0;
    cohorts.forEach((c, y) => {
      c.values.forEach((v, x) => {
        if (x < first) return;
        max = Math.max(max, v);
        data.push([x - first, y, v]);
      });
    });
    const name =
      table.metric === 'customers'
        ? i18n.t('shareActive')
        : table.metric === 'revenue'
          ? i18n.t('revenuePerCustomer')
          : i18n.t('ltvPerCustomer');
    return {
      tooltip: {
        position: 'top',
        formatter: (p: { value: [number, number, number] }) => {
          const c = cohorts[p.value[1]];
          return c
            ? `${rowName(i18n, c, table.firstCohort?.cohort)} · ${i18n.t('cohortSize')} ${i18n.number(c.size)}<br/>${i18n.t('monthsSince')}: ${p.value[0] + first}<br/>${name}: ${cellText(i18n, table, p.value[2])}`
            : '';
        },
      },
      grid: { left: 8, right: 16, top: 32, bottom: 96, containLabel: true },
      xAxis: {
        type: 'category',
        data: Array.from({ length: periods - first }, (_, i) => String(i + first)),
        name: i18n.t('monthsSince'),
        nameLocation: 'middle',
        nameGap: 28,
        nameTextStyle: AXIS_NAME,
      },
      yAxis: {
        type: 'category',
        data: cohorts.map((c) =>
          wide
            ? `${rowName(i18n, c, table.firstCohort?.cohort)} (${i18n.number(c.size)})`
            : rowName(i18n, c, table.firstCohort?.cohort),
        ),
        name: i18n.t('cohort'),
        nameTextStyle: AXIS_NAME,
      },
      visualMap: {
        min: 0,
        max: max || 1,
        calculable: true,
        orient: 'horizontal',
        left: 'center',
        bottom: 0,
        inRange: { color: ['#eef3ff', '#9db8ff', '#1f5eff', '#0b2a80'] },
        formatter: (v: number) => cellText(i18n, table, v, true),
      },
      series: [
        {
          name,
          type: 'heatmap',
          data,
          label: {
            show: wide,
            fontSize: 10,
            formatter: (p: { value: [number, number, number] }) => cellText(i18n, table, p.value[2], true),
          },
          emphasis: { itemStyle: { borderColor: '#0b1b3f', borderWidth: 1 } },
          itemStyle: { borderColor: '#fff', borderWidth: 1 },
        },
      ],
    };
  }, [table, i18n, wide]);
  return (
    <Chart option={option} height={Math.max(340, table.cohorts.length * 30 + 160)} label={i18n.t('cohortsTitle')} />
  );
}

/** The Cohorts page: the acquisition-cohort heatmap, switchable between customers, revenue and LTV. */
export function CohortsPage() {
  const i18n = useI18n();
  const [metric, setMetric] = useState<CohortMetric>('customers');
  const [by, setBy] = useState<string>('');
  const [state, retry] = useApi<CohortTable>(
    `/cohorts?metric=${metric}&period=month${by ? `&by=${encodeURIComponent(by)}` : ''}`,
  );
  return (
    <>
      <PageHead title={i18n.t('cohortsTitle')} lead={i18n.t('cohortsLead')}>
        <fieldset className="segmented">
          <legend className="sr-only">{i18n.t('cohortsTitle')}</legend>
          {METRICS.map((m) => (
            <button
              key={m.metric}
              type="button"
              aria-pressed={metric === m.metric}
              className={metric === m.metric ? 'active' : ''}
              onClick={() => setMetric(m.metric)}
              data-testid={`metric-${m.metric}`}
            >
              {i18n.t(m.label)}
            </button>
          ))}
        </fieldset>
        <GroupBySelect value={by} onChange={setBy} testId="cohort-group-by" />
      </PageHead>
      <Async state={state} retry={retry}>
        {(table) =>
          table.cohorts.length === 0 ? (
            <Empty />
          ) : (
            <>
              <Card wide>
                <Heatmap table={table} />
              </Card>
              <Card wide>
                <TableScroll>
                  <table className="table cohort-table">
                    <thead>
                      <tr>
                        <th scope="col">{i18n.t('cohort')}</th>
                        <th scope="col" className="num">
                          {i18n.t('cohortSize')}
                        </th>
                        {(table.cohorts[0]?.values ?? []).map((_, i) => (
                          // biome-ignore lint/suspicious/noArrayIndexKey: the column is the period number.
                          <th key={i} scope="col" className="num">
                            {i}
                          </th>
                        ))}
                      </tr>
                    </thead>
                    <tbody>
                      {table.cohorts.map((c) => (
                        <tr key={`${c.cohort}|${c.group ?? ''}`}>
                          <th scope="row">{rowName(i18n, c, table.firstCohort?.cohort)}</th>
                          <td
                            className="num"
                            data-testid={
                              c.group === undefined ? `cohort-size-${c.cohort}` : `cohort-size-${c.cohort}-${c.group}`
                            }
                          >
                            {i18n.number(c.size)}
                          </td>
                          {c.values.map((_v, i) => (
                            // biome-ignore lint/suspicious/noArrayIndexKey: the column is the period number.
                            <td key={i} className="num">
                              {markedCell(i18n, table, c.values, i)}
                            </td>
                          ))}
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </TableScroll>
                {table.by && <p className="muted small">{table.by.rule}</p>}
                {table.firstCohort && (
                  <p className="muted small" data-testid="cohort-first">
                    {i18n.t('firstCohort', {
                      month: i18n.month(table.firstCohort.cohort),
                      day: i18n.date(Date.parse(table.firstCohort.firstSaleDay)),
                    })}
                  </p>
                )}
                {table.partial && (
                  <p className="muted small" data-testid="cohort-partial">
                    {i18n.t('partialMonth', {
                      month: i18n.month(table.partial.cohort),
                      day: i18n.date(Date.parse(table.partial.lastDay)),
                      days: i18n.number(table.partial.days),
                      of: i18n.number(table.partial.ofDays),
                    })}
                  </p>
                )}
              </Card>
            </>
          )
        }
      </Async>
    </>
  );
}
