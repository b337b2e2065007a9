import { useMemo } from 'react';
import { useApi } from '../api.js';
import { AXIS_NAME, Chart } from '../chart.js';
import { useI18n } from '../i18n.js';
import { diagnosticText, extra, modelName } from '../i18n-korean.js';
import type { Bin, Predictions } from '../types.js';
import { Async, Card, Empty, Kpi, PageHead } from '../ui.js';

function Histogram({
  id,
  bins,
  label,
  axis,
  format,
}: {
  id: string;
  bins: Bin[];
  label: string;
  axis: string;
  format: (v: number) => string;
}) {
  const i18n = useI18n();
  const option = useMemo(
    () => ({
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
      grid: { left: 8, right: 16, top: 32, bottom: 36, containLabel: true },
      xAxis: {
        type: 'category',
        data: bins.map((b) => `${format(b.from)}–${format(b.to)}`),
        name: axis,
        nameLocation: 'middle',
        nameGap: 30,
        nameTextStyle: AXIS_NAME,
        axisLabel: { hideOverlap: true },
      },
      yAxis: {
        type: 'value',
        name: i18n.t('numberOfCustomers'),
        nameTextStyle: { ...AXIS_NAME, align: 'left' },
        minInterval: 1,
      },
      series: [{ name: i18n.t('customers'), type: 'bar', data: bins.map((b) => b.count), barCategoryGap: '8%' }],
    }),
    [bins, axis, format, i18n],
  );
  return (
    <>
      <Chart option={option} height={300} label={label} />
      {/* The bars as text, for screen readers (and the browser test): the canvas holds no words. */}
      <p className="sr-only" data-testid={`${id}-bins`}>
        {bins.map((b) => `${format(b.from)}–${format(b.to)}: ${i18n.number(b.count)}`).join('; ')}
      </p>
    </>
  );
}

function HoldoutChart({ holdout }: { holdout: NonNullable<Predictions['holdout']> }) {
  const i18n = useI18n();
  const option = useMemo(
    () => ({
      tooltip: { trigger: 'axis', valueFormatter: (v: number | null) => (v === null ? '—' : i18n.number(v, 2)) },
      legend: { top: 0, data: [i18n.t('predicted'), i18n.t('actual')] },
      grid: { left: 8, right: 16, top: 60, bottom: 36, containLabel: true },
      xAxis: {
        type: 'category',
        data: holdout.byFrequency.map((r) => r.label),
        name: i18n.t('repeatOrdersBefore'),
        nameLocation: 'middle',
        nameGap: 30,
        nameTextStyle: AXIS_NAME,
      },
      yAxis: { type: 'value', name: i18n.t('meanPurchases'), nameTextStyle: { ...AXIS_NAME, align: 'left' } },
      series: [
        {
          name: i18n.t('predicted'),
          type: 'line',
          data: holdout.byFrequency.map((r) => r.meanPredicted),
          symbolSize: 8,
        },
        { name: i18n.t('actual'), type: 'bar', data: holdout.byFrequency.map((r) => r.meanActual), barMaxWidth: 36 },
      ],
    }),
    [holdout, i18n],
  );
  return <Chart option={option} height={320} label={i18n.t('holdoutTitle')} />;
}

/** The Predictions page: P(alive) and CLV distributions and the hold-out check of the model. */
export function PredictionsPage() {
  const i18n = useI18n();
  const [state, retry] = useApi<Predictions>('/dashboard/predictions');
  return (
    <>
      <PageHead title={i18n.t('predictionsTitle')} lead={i18n.t('predictionsLead')} />
      <Async state={state} retry={retry}>
        {(p) => {
          if (!p.available || !p.currency) return <Empty title={i18n.t('notFitted')} hint={p.note ?? undefined} />;
          const currency = p.currency;
          return (
            <>
              <div className="kpis">
                <Kpi id="model-customers" label={i18n.t('modelCustomers')} value={i18n.number(p.customers)} />
                <Kpi
                  id="mean-palive"
                  label={i18n.t('meanPAlive')}
                  value={p.meanPAlive === null ? '—' : i18n.percent(p.meanPAlive)}
                />
                <Kpi
                  id="total-clv"
                  label={i18n.t('totalClv')}
                  value={p.totalClv === null ? '—' : i18n.money(p.totalClv, currency)}
                />
                {p.holdout && (
                  <Kpi
                    id="holdout-total"
                    label={`${i18n.t('holdoutTitle')}: ${i18n.t('predicted')} / ${i18n.t('actual')}`}
                    value={`${i18n.number(p.holdout.totalPredicted)} / ${i18n.number(p.holdout.totalActual)}`}
                  />
                )}
              </div>
              {p.model && p.model.identified === false && (
                <p id="model-diagnostics" className="muted small" role="note">
                  {modelName(i18n.lang, p.model.name)}:{' '}
                  {[
                    ...new Set((p.model.diagnostics ?? []).map((d) => diagnosticText(i18n.lang, d.code, d.message))),
                  ].join(' · ')}
                </p>
              )}
              <div className="grid">
                <Card title={i18n.t('pAliveDist')}>
                  {p.pAliveNote ? (
                    <div id="palive-not-informative" role="note">
                      <p>
                        <strong>{i18n.t('pAliveNotInformative')}</strong>
                      </p>
                      <p className="muted small">
                        {i18n.lang === 'en' ? p.pAliveNote : extra(i18n.lang, 'pAliveNoteGeneric')}
                      </p>
                      <p className="muted small">{i18n.t('pAliveFallback')}</p>
                    </div>
                  ) : (
                    <Histogram
                      id="palive"
                      bins={p.pAlive}
                      label={i18n.t('pAliveDist')}
                      axis={i18n.t('pAlive')}
                      format={(v) => i18n.percent(v, 0)}
                    />
                  )}
                </Card>
                <Card title={i18n.t('clvDist')}>
                  {p.clv.length ? (
                    <Histogram
                      id="clv"
                      bins={p.clv}
                      label={i18n.t('clvDist')}
                      axis={`CLV (${currency})`}
                      format={(v) => i18n.compactMoney(v, currency)}
                    />
                  ) : (
                    <Empty title={i18n.t('notFitted')} hint={p.note ?? undefined} />
                  )}
                </Card>
                <Card title={i18n.t('holdoutTitle')} wide>
                  {p.holdout ? (
                    <>
                      <p className="muted small">
                        {i18n.t('holdoutLead', { date: i18n.date(p.holdout.calibrationEnd), n: p.holdout.weeks })}
                      </p>
                      <HoldoutChart holdout={p.holdout} />
                    </>
                  ) : (
                    <Empty />
                  )}
                </Card>
              </div>
            </>
          );
        }}
      </Async>
    </>
  );
}
