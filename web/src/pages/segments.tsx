import { useMemo } from 'react';
import { useApi } from '../api.js';
import { AXIS_NAME, Chart } from '../chart.js';
import { stageLabel, useI18n } from '../i18n.js';
import { personaText, rfmGroupLabel } from '../i18n-korean.js';
import type { SegmentsView } from '../types.js';
import { Async, Card, Empty, PageHead, TableScroll } from '../ui.js';

/** A blue of the given strength (0–1) and a text colour that stays readable on it. */
function shade(strength: number): { background: string; color: string } {
  const s = Math.max(0, Math.min(1, strength));
  const light = 96 - s * 58;
  return { background: `hsl(222 90% ${light}%)`, color: light < 62 ? '#fff' : '#0b1b3f' };
}

function RfmGrid({ rfm }: { rfm: SegmentsView['rfm'] }) {
  const i18n = useI18n();
  const currency = rfm.currency ?? 'USD';
  const maxRevenue = Math.max(1, ...rfm.cells.map((c) => c.revenue));
  const cell = (r: number, f: number) => rfm.cells.find((c) => c.r === r && c.f === f);
  return (
    <div className="rfm">
      <div className="rfm-y" aria-hidden="true">
        {i18n.t('recency')} →
      </div>
      <table className="rfm-grid">
        <caption className="sr-only">{i18n.t('rfmTitle')}</caption>
        <thead>
          <tr>
            <th scope="col">
              <span className="sr-only">{i18n.t('recency')}</span>
            </th>
            {[1, 2, 3, 4, 5].map((f) => (
              <th key={f} scope="col">
                F{f}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {[5, 4, 3, 2, 1].map((r) => (
            <tr key={r}>
              <th scope="row">R{r}</th>
              {[1, 2, 3, 4, 5].map((f) => {
                const c = cell(r, f);
                const style = shade((c?.revenue ?? 0) / maxRevenue);
                return (
                  <td key={f} style={style} data-testid={`rfm-cell-${r}-${f}`} title={`R${r} F${f}`}>
                    <span className="rfm-count">{i18n.number(c?.customers ?? 0)}</span>
                    <span className="rfm-revenue">{i18n.compactMoney(c?.revenue ?? 0, currency)}</span>
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
      <div className="rfm-x" aria-hidden="true">
        {i18n.t('frequency')} →
      </div>
    </div>
  );
}

function LifecycleChart({ lifecycle }: { lifecycle: SegmentsView['lifecycle'] }) {
  const i18n = useI18n();
  const option = useMemo(
    () => ({
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
      legend: { show: false },
      grid: { left: 8, right: 16, top: 24, bottom: 32, containLabel: true },
      xAxis: {
        type: 'category',
        data: lifecycle.stages.map((s) => stageLabel(i18n, s.stage)),
        name: i18n.t('lifecycle'),
        nameLocation: 'middle',
        nameGap: 28,
        nameTextStyle: AXIS_NAME,
      },
      yAxis: { type: 'value', name: i18n.t('customers'), nameTextStyle: { ...AXIS_NAME, align: 'left' } },
      series: [
        {
          name: i18n.t('customers'),
          type: 'bar',
          data: lifecycle.stages.map((s, i) => ({
            value: s.customers,
            itemStyle: { color: ['#14a38b', '#1f5eff', '#f29d38', '#e5484d', '#8b93a7'][i] },
          })),
          label: { show: true, position: 'top' },
          barMaxWidth: 56,
        },
      ],
    }),
    [lifecycle, i18n],
  );
  return <Chart option={option} height={280} label={i18n.t('lifecycleTitle')} />;
}

function Migration({ migration }: { migration: SegmentsView['lifecycle']['migration'] }) {
  const i18n = useI18n();
  const max = Math.max(1, ...migration.counts.flat());
  return (
    <TableScroll>
      <table className="table matrix">
        <thead>
          <tr>
            <th scope="col">
              <span className="sr-only">{i18n.t('migrationLead')}</span>
            </th>
            {migration.stages.map((s) => (
              <th key={s} scope="col" className="num">
                {stageLabel(i18n, s)}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {migration.stages.map((from, i) => (
            <tr key={from}>
              <th scope="row">{stageLabel(i18n, from)}</th>
              {migration.stages.map((to, j) => {
                const n = migration.counts[i]?.[j] ?? 0;
                return (
                  <td key={to} className="num" style={n ? shade(n / max) : undefined}>
                    {i18n.number(n)}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </TableScroll>
  );
}

async function downloadCsv(name: string): Promise<void> {
  const response = await fetch(`/api/v1/dashboard/segments/${encodeURIComponent(name)}/members.csv`, {
    credentials: 'same-origin',
  });
  if (!response.ok) return;
  const url = URL.createObjectURL(await response.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = `${name}.csv`;
  a.click();
  URL.revokeObjectURL(url);
}

function SavedSegments({ saved }: { saved: SegmentsView['saved'] }) {
  const i18n = useI18n();
  if (saved.length === 0) return <Empty title={i18n.t('noneYet')} hint={i18n.t('savedEmpty')} />;
  return (
    <ul className="saved">
      {saved.map((s) => (
        <li key={s.name}>
          <div className="saved-head">
            <strong translate="no">{s.name}</strong>
            <span className="muted">
              {i18n.t('size')}: <span data-testid={`saved-size-${s.name}`}>{i18n.number(s.size)}</span>
            </span>
            <button type="button" className="button small" onClick={() => void downloadCsv(s.name)}>
              {i18n.t('exportCsv')}
            </button>
          </div>
          {s.history.length > 1 && (
            <Chart
              height={140}
              label={`${s.name}: ${i18n.t('sizeOverTime')}`}
              option={{
                tooltip: { trigger: 'axis' },
                grid: { left: 8, right: 16, top: 28, bottom: 8, containLabel: true },
                xAxis: { type: 'category', data: s.history.map((h) => i18n.date(h.asOf)) },
                yAxis: { type: 'value', name: i18n.t('size'), minInterval: 1 },
                series: [
                  {
                    name: i18n.t('size'),
                    type: 'line',
                    data: s.history.map((h) => h.size),
                    areaStyle: { opacity: 0.1 },
                  },
                ],
              }}
            />
          )}
        </li>
      ))}
    </ul>
  );
}

/** The Segments page: RFM grid and groups, personas, lifecycle with its migration, saved segments. */
export function SegmentsPage() {
  const i18n = useI18n();
  const [state, retry] = useApi<SegmentsView>('/dashboard/segments');
  return (
    <>
      <PageHead title={i18n.t('navSegments')} />
      <Async state={state} retry={retry}>
        {(view) =>
          view.rfm.customers === 0 ? (
            <Empty />
          ) : (
            <div className="grid">
              <Card title={i18n.t('rfmTitle')}>
                <p className="muted small">{i18n.t('rfmLead')}</p>
                <RfmGrid rfm={view.rfm} />
              </Card>
              <Card title={i18n.t('rfmGroups')}>
                <TableScroll>
                  <table className="table">
                    <thead>
                      <tr>
                        <th scope="col">{i18n.t('group')}</th>
                        <th scope="col" className="num">
                          {i18n.t('customers')}
                        </th>
                        <th scope="col" className="num">
                          {i18n.t('revenue')}
                        </th>
                      </tr>
                    </thead>
                    <tbody>
                      {view.rfm.groups.map((g) => (
                        <tr key={g.group}>
                          <th scope="row">{rfmGroupLabel(i18n.lang, g.group)}</th>
                          <td className="num" data-testid={`rfm-group-${g.group}`}>
                            {i18n.number(g.customers)}
                          </td>
                          <td className="num">{i18n.money(g.revenue, view.rfm.currency ?? 'USD')}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </TableScroll>
              </Card>
              <Card title={i18n.t('personasTitle')} wide>
                <TableScroll>
                  <table className="table">
                    <thead>
                      <tr>
                        <th scope="col">{i18n.t('persona')}</th>
                        <th scope="col" className="num">
                          {i18n.t('customers')}
                        </th>
                        <th scope="col">{i18n.t('play')}</th>
                      </tr>
                    </thead>
                    <tbody>
                      {view.personas.map((p) => (
                        <tr key={p.persona}>
                          <th scope="row">{personaText(i18n.lang, p.persona, p).label}</th>
                          <td className="num">{i18n.number(p.customers)}</td>
                          <td className="play">{personaText(i18n.lang, p.persona, p).play}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </TableScroll>
              </Card>
              <Card title={i18n.t('lifecycleTitle')} wide>
                <div className="split">
                  <LifecycleChart lifecycle={view.lifecycle} />
                  <div>
                    <h3>{i18n.t('migrationTitle')}</h3>
                    <p className="muted small">{i18n.t('migrationLead')}</p>
                    <Migration migration={view.lifecycle.migration} />
                  </div>
                </div>
              </Card>
              <Card title={i18n.t('savedTitle')} wide>
                <SavedSegments saved={view.saved} />
              </Card>
            </div>
          )
        }
      </Async>
    </>
  );
}
