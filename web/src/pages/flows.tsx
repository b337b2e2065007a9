import { ScatterChart } from 'echarts/charts';
import { MarkLineComponent } from 'echarts/components';
import { use } from 'echarts/core';
import { useMemo, useState } from 'react';
import { apiFetch, useApi } from '../api.js';
import { AXIS_NAME, Chart } from '../chart.js';
import { currencyDigits, type I18n, type MessageKey, useI18n } from '../i18n.js';
import { flowName } from '../i18n-korean.js';
import { Async, Card, Empty, Kpi, PageHead } from '../ui.js';
import type { Who } from './sign-in.js';
import './flows.css';

// The interval chart draws a point with whiskers; registered here so other pages do not carry it.
use([ScatterChart, MarkLineComponent]);

/** A flow as `GET /api/v1/flows` lists it. */
export interface FlowItem {
  key: string;
  name: string;
  kind: 'flow' | 'campaign';
  enabled: boolean;
  version: number;
  trigger: string;
}

/** An estimate with its 95 % interval (bounds null when the data cannot give one). */
export interface Interval {
  estimate: number;
  low: number | null;
  high: number | null;
}

interface ArmFigures {
  entrants: number;
  converters: number;
  orders: number;
  revenueMinor: number;
  conversionRate: number | null;
}

/** `GET /api/v1/flows/:key/report`. */
export interface FlowReportView {
  key: string;
  name: string;
  asOf: number;
  attributionDays: number;
  currency: string | null;
  entrants: { treatment: number; control: number };
  steps: Array<{
    stepId: string;
    treated: { sent: number; queued: number; skipped: Record<string, number>; failed: number; uncertain: number };
    heldOut: number;
    opened: number;
    clicked: number;
    unsubscribed: number;
  }>;
  lift: {
    treatment: ArmFigures;
    control: ArmFigures;
    conversionLift: Interval | null;
    incrementalOrders: Interval | null;
    incrementalRevenueMinor: Interval | null;
    couponCostMinor: number;
    netIncrementalRevenueMinor: number | null;
    verdict: 'positive' | 'negative' | 'inconclusive' | 'no_data';
    moreEntrantsNeeded: number | null;
  };
  coupons: { issued: number; used: number };
}

const TRIGGERS: Record<string, MessageKey> = {
  segment_entered: 'flowTriggerSegment',
  event: 'flowTriggerEvent',
  order: 'flowTriggerOrder',
  date: 'flowTriggerDate',
  birthday: 'flowTriggerBirthday',
  points_expiring: 'flowTriggerPointsExpiring',
  tier_reached: 'flowTriggerTierReached',
  replenishment_due: 'flowTriggerReplenishment',
  subscribed: 'flowTriggerSubscribed',
};

const SKIP_REASONS: Record<string, MessageKey> = {
  no_consent: 'flowSkipNoConsent',
  suppressed: 'flowSkipSuppressed',
  frequency_cap: 'flowSkipFrequencyCap',
  quiet_hours: 'flowSkipQuietHours',
};

/** A skip reason in the page's language; a code this page does not know is shown as it is. */
function skipReason(i18n: I18n, code: string): string {
  const key = SKIP_REASONS[code];
  return key ? i18n.t(key) : code;
}

function money(i18n: I18n, minor: number, currency: string): string {
  return i18n.money(minor / 10 ** currencyDigits(currency), currency);
}

/** "1.2 (95 % CI −0.4 to 2.8)", or the estimate alone when the interval is unknown. */
function withInterval(i18n: I18n, interval: Interval, format: (v: number) => string): string {
  if (interval.low === null || interval.high === null)
    return `${format(interval.estimate)} (${i18n.t('flowNoInterval')})`;
  return `${format(interval.estimate)} (${i18n.t('flowCi', { low: format(interval.low), high: format(interval.high) })})`;
}

/** Percentage points with a sign: +1.2 pp. */
function points(i18n: I18n, fraction: number): string {
  const value = fraction * 100;
  return `${value > 0 ? '+' : ''}${i18n.number(value, 1)}${i18n.t('flowPp')}`;
}

function verdictText(i18n: I18n, lift: FlowReportView['lift']): string {
  switch (lift.verdict) {
    case 'positive':
      return i18n.t('flowVerdictPositive');
    case 'negative':
      return i18n.t('flowVerdictNegative');
    case 'no_data':
      return i18n.t('flowVerdictNoData');
    case 'inconclusive':
      return lift.moreEntrantsNeeded === null
        ? i18n.t('flowVerdictInconclusiveNoRate')
        : i18n.t('flowVerdictInconclusive', { n: i18n.number(lift.moreEntrantsNeeded) });
  }
}

function LiftChart({ lift }: { lift: Interval }) {
  const i18n = useI18n();
  const option = useMemo(() => {
    const pp = (v: number) => Math.round(v * 10000) / 100;
    const row = i18n.t('flowConversionLift');
    const whisker = lift.low !== null && lift.high !== null;
    return {
      tooltip: { trigger: 'item' },
      grid: { left: 8, right: 24, top: 16, bottom: 40, containLabel: true },
      xAxis: {
        type: 'value',
        name: i18n.t('flowLiftAxis'),
        nameLocation: 'middle',
        nameGap: 28,
        nameTextStyle: AXIS_NAME,
        axisLabel: { formatter: (v: number) => `${v}` },
        scale: true,
      },
      yAxis: { type: 'category', data: [row], axisLabel: { show: false }, axisTick: { show: false } },
      series: [
        {
          name: i18n.t('flowCiShort'),
          type: 'line',
          data: whisker
            ? [
                [pp(lift.low!), row],
                [pp(lift.high!), row],
              ]
            : [],
          symbol: 'rect',
          symbolSize: [2, 18],
          lineStyle: { width: 2, color: '#1f5eff' },
          itemStyle: { color: '#1f5eff' },
          markLine: {
            silent: true,
            symbol: 'none',
            lineStyle: { color: '#e5484d', type: 'dashed' },
            label: { formatter: '0' },
            data: [{ xAxis: 0 }],
          },
        },
        {
          name: row,
          type: 'scatter',
          data: [[pp(lift.estimate), row]],
          symbolSize: 14,
          itemStyle: { color: '#1f5eff' },
          label: { show: true, position: 'top', formatter: () => points(i18n, lift.estimate) },
        },
      ],
    };
  }, [lift, i18n]);
  return <Chart option={option} height={140} label={i18n.t('flowLiftChart')} />;
}

function Report({ flowKey }: { flowKey: string }) {
  const i18n = useI18n();
  const [state, retry] = useApi<FlowReportView>(`/flows/${encodeURIComponent(flowKey)}/report`);
  return (
    <Async state={state} retry={retry}>
      {(r) => {
        const l = r.lift;
        const currency = r.currency;
        const rate = (a: ArmFigures) => (a.conversionRate === null ? '—' : i18n.percent(a.conversionRate, 1));
        const m = (v: number) => (currency ? money(i18n, v, currency) : i18n.number(v));
        return (
          <div data-testid="flow-report" data-flow={r.key}>
            <div className="kpis">
              <Kpi id="flow-treated" label={i18n.t('flowTreated')} value={i18n.number(r.entrants.treatment)} />
              <Kpi id="flow-held-out" label={i18n.t('flowHeldOut')} value={i18n.number(r.entrants.control)} />
              <Kpi id="flow-rate-treated" label={i18n.t('flowRateTreated')} value={rate(l.treatment)} />
              <Kpi id="flow-rate-held-out" label={i18n.t('flowRateHeldOut')} value={rate(l.control)} />
            </div>
            <p className={`flow-verdict verdict-${l.verdict}`} data-testid="flow-verdict" role="status">
              {verdictText(i18n, l)}
            </p>
            {l.conversionLift ? (
              <>
                <p data-testid="flow-conversion-lift">
                  {i18n.t('flowConversionLift')}: {withInterval(i18n, l.conversionLift, (v) => points(i18n, v))}
                </p>
                <LiftChart lift={l.conversionLift} />
              </>
            ) : null}
            <dl className="facts">
              <div>
                <dt>{i18n.t('flowIncrementalOrders')}</dt>
                <dd data-testid="flow-incremental-orders">
                  {l.incrementalOrders ? withInterval(i18n, l.incrementalOrders, (v) => i18n.number(v, 1)) : '—'}
                </dd>
              </div>
              <div>
                <dt>{i18n.t('flowIncrementalRevenue')}</dt>
                <dd data-testid="flow-incremental-revenue">
                  {l.incrementalRevenueMinor ? withInterval(i18n, l.incrementalRevenueMinor, m) : '—'}
                </dd>
              </div>
              <div>
                <dt>{i18n.t('flowCouponCost')}</dt>
                <dd data-testid="flow-coupon-cost">
                  {m(l.couponCostMinor)} (
                  {i18n.t('flowCouponsUsed', { used: r.coupons.used, issued: r.coupons.issued })})
                </dd>
              </div>
              <div>
                <dt>{i18n.t('flowNetRevenue')}</dt>
                <dd data-testid="flow-net-revenue">
                  {l.netIncrementalRevenueMinor === null ? '—' : m(l.netIncrementalRevenueMinor)}
                </dd>
              </div>
            </dl>
            <p className="muted">
              {i18n.t('flowMethod', { days: r.attributionDays, date: i18n.date(r.asOf - 1) })}
              {currency ? ` ${i18n.t('flowCurrency', { currency })}` : ''}
            </p>
            <h3>{i18n.t('flowSteps')}</h3>
            <p className="muted scroll-hint">{i18n.t('flowScrollHint')}</p>
            <div className="table-scroll flow-scroll" data-testid="flow-steps">
              <table className="table flow-table">
                <thead>
                  <tr>
                    <th scope="col">{i18n.t('flowStep')}</th>
                    <th scope="col" className="num">
                      {i18n.t('flowSent')}
                    </th>
                    <th scope="col" className="num">
                      {i18n.t('flowQueued')}
                    </th>
                    <th scope="col">{i18n.t('flowSkipped')}</th>
                    <th scope="col" className="num">
                      {i18n.t('flowHeldOutStep')}
                    </th>
                    <th scope="col" className="num">
                      {i18n.t('flowOpened')}
                    </th>
                    <th scope="col" className="num">
                      {i18n.t('flowClicked')}
                    </th>
                    <th scope="col" className="num">
                      {i18n.t('flowUnsubscribed')}
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {r.steps.map((s) => {
                    const skipped = Object.entries(s.treated.skipped);
                    return (
                      <tr key={s.stepId} data-testid={`flow-step-${s.stepId}`}>
                        <th scope="row" translate="no">
                          {s.stepId}
                        </th>
                        <td className="num" data-col="sent">
                          {i18n.number(s.treated.sent)}
                        </td>
                        <td className="num" data-col="queued">
                          {i18n.number(s.treated.queued)}
                        </td>
                        <td data-col="skipped">
                          {skipped.length === 0
                            ? '0'
                            : skipped.map(([reason, n]) => `${skipReason(i18n, reason)}: ${i18n.number(n)}`).join(', ')}
                        </td>
                        <td className="num" data-col="held-out">
                          {i18n.number(s.heldOut)}
                        </td>
                        <td className="num" data-col="opened">
                          {i18n.number(s.opened)}
                        </td>
                        <td className="num" data-col="clicked">
                          {i18n.number(s.clicked)}
                        </td>
                        <td className="num" data-col="unsubscribed">
                          {i18n.number(s.unsubscribed)}
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
          </div>
        );
      }}
    </Async>
  );
}

/** The Flows page: every flow with an on/off switch (write sessions), and the selected flow's lift report. */
export function FlowsPage() {
  const i18n = useI18n();
  const [state, retry] = useApi<{ flows: FlowItem[] }>('/flows');
  const [who] = useApi<Who>('/session');
  const [selected, setSelected] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const canWrite = who.status === 'ok' && (who.data.scope === 'admin' || who.data.scope === 'write');

  const toggle = async (flow: FlowItem) => {
    setBusy(flow.key);
    setError(null);
    try {
      await apiFetch(`/flows/${encodeURIComponent(flow.key)}/${flow.enabled ? 'disable' : 'enable'}`, {
        method: 'POST',
      });
      retry();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(null);
    }
  };

  return (
    <>
      <PageHead title={i18n.t('navFlows')} lead={i18n.t('flowsLead')} />
      <Async state={state} retry={retry}>
        {({ flows }) => {
          if (flows.length === 0) return <Empty />;
          const current = selected ?? flows[0]!.key;
          return (
            <>
              <Card title={i18n.t('flowsList')}>
                {error && (
                  <p className="error-text" role="alert">
                    {error}
                  </p>
                )}
                <p className="muted scroll-hint">{i18n.t('flowScrollHint')}</p>
                <div className="table-scroll flow-scroll">
                  <table className="table flow-table" data-testid="flows-table">
                    <thead>
                      <tr>
                        <th scope="col">{i18n.t('flowName')}</th>
                        <th scope="col">{i18n.t('flowTrigger')}</th>
                        <th scope="col" className="num">
                          {i18n.t('flowVersion')}
                        </th>
                        <th scope="col">{i18n.t('flowStatus')}</th>
                        <th scope="col">
                          <span className="sr-only">{i18n.t('flowReport')}</span>
                        </th>
                      </tr>
                    </thead>
                    <tbody>
                      {flows.map((f) => {
                        const trigger = TRIGGERS[f.trigger];
                        return (
                          <tr key={f.key} data-testid={`flow-${f.key}`} aria-selected={f.key === current}>
                            <th scope="row">
                              {flowName(i18n.lang, f.key, f.name)}
                              <div className="muted" translate="no">
                                {f.key}
                              </div>
                            </th>
                            <td>{trigger ? i18n.t(trigger) : f.trigger}</td>
                            <td className="num">{f.version}</td>
                            <td className="nowrap">
                              {canWrite ? (
                                <label className="flow-switch">
                                  <input
                                    type="checkbox"
                                    role="switch"
                                    aria-checked={f.enabled}
                                    checked={f.enabled}
                                    disabled={busy !== null}
                                    onChange={() => void toggle(f)}
                                    data-testid={`flow-toggle-${f.key}`}
                                    aria-label={`${flowName(i18n.lang, f.key, f.name)}: ${i18n.t(f.enabled ? 'flowOn' : 'flowOff')}`}
                                  />{' '}
                                  <span data-testid={`flow-state-${f.key}`}>
                                    {i18n.t(f.enabled ? 'flowOn' : 'flowOff')}
                                  </span>
                                </label>
                              ) : (
                                <span data-testid={`flow-state-${f.key}`}>
                                  {i18n.t(f.enabled ? 'flowOn' : 'flowOff')}
                                </span>
                              )}
                            </td>
                            <td className="nowrap">
                              <button
                                type="button"
                                className={f.key === current ? 'button small primary' : 'button small'}
                                onClick={() => setSelected(f.key)}
                                data-testid={`flow-select-${f.key}`}
                              >
                                {i18n.t('flowReport')}
                              </button>
                            </td>
                          </tr>
                        );
                      })}
                    </tbody>
                  </table>
                </div>
              </Card>
              <Card
                title={`${i18n.t('flowReport')}: ${flowName(i18n.lang, current, flows.find((f) => f.key === current)?.name ?? current)}`}
              >
                <Report key={current} flowKey={current} />
              </Card>
            </>
          );
        }}
      </Async>
    </>
  );
}
