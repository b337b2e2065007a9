import type { ChurnFigures } from '../../../src/feedback/churn.queries.js';
import type { FeedbackReport } from '../../../src/feedback/report.queries.js';
import { useApi } from '../api.js';
import { AXIS_NAME, Chart, PALETTE } from '../chart.js';
import { DataTable } from '../components/data-table.js';
import { type MessageKey, stageLabel, useI18n } from '../i18n.js';
import { Async, Card, Empty, Kpi, PageHead } from '../ui.js';

type ReasonCount = FeedbackReport['exitReasons']['total'][number];
/** A month after the orders end has no start count either. */
type Churn = Omit<ChurnFigures, 'customersStart'> & { customersStart: number | null; cannotLeave?: boolean };

/** `GET /api/v1/feedback/report`: the server's own type. */
export type FeedbackReportView = FeedbackReport;

/** No answer, survey link, review or comment in the report's period: the page says how feedback arrives. */
function isEmpty(r: FeedbackReportView): boolean {
  return (
    r.nps.answers === 0 &&
    r.csat.answers === 0 &&
    r.responseRates.length === 0 &&
    r.exitReasons.total.length === 0 &&
    r.cartReasons.length === 0 &&
    r.latestComments.length === 0 &&
    r.reviews.count === 0
  );
}

/** The Feedback page: NPS with its interval and trend, CSAT, response rates, exit and cart reasons, comments, reviews. */
export function FeedbackPage() {
  const i18n = useI18n();
  const { t } = i18n;
  const [state, retry] = useApi<FeedbackReportView>('/feedback/report');
  const reason = (r: string) => {
    const key = `reason_${r}` as MessageKey;
    const text = t(key);
    return text === undefined ? r : text;
  };
  /** A built-in survey's name (`nps`, `csat`, `exit`, `cart`); a store's own survey key as it is. */
  const survey = (key: string) => {
    const text = t(`survey_${key}` as MessageKey);
    return text === undefined ? key : text;
  };
  return (
    <>
      <PageHead title={t('navFeedback')} lead={t('fbLead')} />
      <Async state={state} retry={retry}>
        {(r) => (
          <>
            <div className="kpis">
              <Kpi
                id="nps"
                label={t('fbNps')}
                value={r.nps.nps === null ? '–' : i18n.number(r.nps.nps, 1)}
                change={
                  r.nps.interval
                    ? {
                        text: t('fbNpsInterval', {
                          low: i18n.number(r.nps.interval.low, 1),
                          high: i18n.number(r.nps.interval.high, 1),
                        }),
                        direction: 'flat',
                      }
                    : { text: t('fbNoAnswers'), direction: 'flat' }
                }
              />
              <Kpi id="nps-answers" label={t('fbAnswers')} value={i18n.number(r.nps.answers)} />
              <Kpi
                id="csat"
                label={t('fbCsat')}
                value={r.csat.csat === null ? '–' : i18n.percent(r.csat.csat / 100)}
                change={
                  r.csat.mean === null
                    ? { text: t('fbNoAnswers'), direction: 'flat' }
                    : {
                        text: i18n.count(r.csat.answers, 'fbCsatHintOne', 'fbCsatHint', {
                          mean: i18n.number(r.csat.mean, 2),
                        }),
                        direction: 'flat',
                      }
                }
              />
              <Kpi
                id="reviews"
                label={t('fbReviews')}
                value={i18n.number(r.reviews.count)}
                change={
                  r.reviews.average === null
                    ? null
                    : {
                        text: i18n.count(r.reviews.count, 'fbReviewsHintOne', 'fbReviewsHint', {
                          avg: i18n.number(r.reviews.average, 2),
                        }),
                        direction: 'flat',
                      }
                }
              />
            </div>
            {isEmpty(r) && <Empty title={t('fbNoFeedback')} hint={t('fbEmptyHint')} />}
            {r.nps.note === 'small_sample' && (
              <p className="muted" data-testid="nps-note">
                {t('fbSmallSample')}
              </p>
            )}
            <div className="grid">
              <Card title={t('fbNpsTrend')} wide>
                {r.npsTrend.length === 0 ? (
                  <Empty title={t('fbNoAnswers')} hint={null} />
                ) : (
                  <Chart
                    label={t('fbNpsTrend')}
                    height={260}
                    option={{
                      color: PALETTE,
                      tooltip: { trigger: 'axis' },
                      xAxis: { type: 'category', data: r.npsTrend.map((m) => i18n.month(m.month)) },
                      yAxis: { type: 'value', min: -100, max: 100, name: t('fbNps'), nameTextStyle: AXIS_NAME },
                      series: [
                        { name: t('fbNps'), type: 'line', data: r.npsTrend.map((m) => m.nps) },
                        {
                          name: '95 %',
                          type: 'line',
                          lineStyle: { type: 'dashed', opacity: 0.5 },
                          data: r.npsTrend.map((m) => m.interval?.low ?? null),
                        },
                        {
                          name: '95 % ',
                          type: 'line',
                          lineStyle: { type: 'dashed', opacity: 0.5 },
                          data: r.npsTrend.map((m) => m.interval?.high ?? null),
                        },
                      ],
                    }}
                  />
                )}
              </Card>
              <Card title={t('fbExitReasons')}>
                <DataTable
                  rows={r.exitReasons.total}
                  rowKey={(x) => x.reason}
                  empty={<Empty title={t('fbNoExit')} hint={null} />}
                  columns={[
                    { head: t('fbReason'), cell: (x) => reason(x.reason) },
                    { head: t('fbAnswers'), cell: (x) => i18n.number(x.answers) },
                  ]}
                />
              </Card>
              <Card title={t('fbCartReasons')}>
                <DataTable
                  rows={r.cartReasons}
                  rowKey={(x) => x.reason}
                  empty={<Empty title={t('fbNoCart')} hint={null} />}
                  testId="cart-reasons"
                  columns={[
                    { head: t('fbReason'), cell: (x) => reason(x.reason) },
                    { head: t('fbAnswers'), cell: (x) => i18n.number(x.answers) },
                  ]}
                />
              </Card>
              {(['byMonth', 'bySegment'] as const).map((side) => {
                const churn = r.exitReasons.churn;
                // Which notes the English text holds, to say them in the page's language.
                const months: Churn[] = churn.byMonth;
                const figures = [...months, ...churn.bySegment];
                const afterOrders = figures.some((c) => c.customersStart === null);
                const historyShort = figures.some((c) => c.customersStart !== null && c.customersLost === null);
                const rows: Array<{ key: string; label: string; churn: Churn; reasons: ReasonCount[] }> =
                  side === 'byMonth'
                    ? churn.byMonth.map((c) => ({
                        key: c.month,
                        label: `${c.month}${c.partial ? ` ${t('fbPartial')}` : ''}`,
                        churn: c,
                        reasons: r.exitReasons.byMonth.filter((x) => x.month === c.month),
                      }))
                    : churn.bySegment.map((c) => ({
                        key: c.segment,
                        label: c.segment === 'none' ? t('fbNoStage') : stageLabel(i18n, c.segment),
                        churn: c,
                        reasons: r.exitReasons.bySegment.filter((x) => x.segment === c.segment),
                      }));
                return (
                  <Card key={side} title={t(side === 'byMonth' ? 'fbChurnByMonth' : 'fbChurnBySegment')} wide>
                    <DataTable
                      rows={rows}
                      rowKey={(x) => x.key}
                      empty={<Empty title={t('fbNoExit')} hint={null} />}
                      testId={`exit-churn-${side}`}
                      columns={[
                        { head: t(side === 'byMonth' ? 'fbMonth' : 'fbStage'), cell: (x) => x.label },
                        {
                          head: t('fbChurn'),
                          cell: (x) =>
                            x.churn.customersStart === null
                              ? t('fbChurnAfterOrders')
                              : x.churn.customersLost === null
                                ? t('fbChurnUnknown')
                                : x.churn.customersStart === 0 || x.churn.churnRate === null
                                  ? t('fbChurnNoneActive')
                                  : `${i18n.percent(x.churn.churnRate)} (${t('fbChurnOf', {
                                      lost: i18n.number(x.churn.customersLost),
                                      start: i18n.number(x.churn.customersStart),
                                    })}${x.churn.cannotLeave ? `: ${t('fbCannotLeave')}` : ''})`,
                        },
                        {
                          head: t('fbExitReasons'),
                          cell: (x) =>
                            x.reasons.length === 0
                              ? '–'
                              : x.reasons.map((y) => `${reason(y.reason)} ${i18n.number(y.answers)}`).join(', '),
                        },
                      ]}
                    />
                    {churn.currency && (
                      <p className="muted" data-testid={`exit-churn-note-${side}`}>
                        {t('fbChurnRule', { days: churn.activeWindowDays, currency: churn.currency })}
                        {churn.note && i18n.lang === 'en' ? ` ${churn.note}` : ''}
                        {churn.note && i18n.lang !== 'en' && historyShort
                          ? ` ${t('fbChurnNoteShort', { days: churn.activeWindowDays })}`
                          : ''}
                        {churn.note && i18n.lang !== 'en' && afterOrders && churn.salesEnd !== null
                          ? ` ${t('fbOrdersEnd', { day: i18n.date(churn.salesEnd - 1) })}`
                          : ''}
                        {side === 'bySegment' && r.exitReasons.afterOrders > 0
                          ? ` ${t('fbAfterOrders', { n: i18n.number(r.exitReasons.afterOrders) })}`
                          : ''}
                      </p>
                    )}
                  </Card>
                );
              })}
              <Card title={t('fbResponseRates')}>
                <DataTable
                  rows={r.responseRates}
                  rowKey={(x) => x.survey}
                  empty={<Empty hint={null} />}
                  testId="response-rates"
                  columns={[
                    { head: t('fbSurvey'), cell: (x) => survey(x.survey) },
                    { head: t('fbLinks'), cell: (x) => i18n.number(x.issued) },
                    { head: t('fbAnswered'), cell: (x) => i18n.number(x.answered) },
                    { head: t('fbRate'), cell: (x) => (x.rate === null ? '–' : i18n.percent(x.rate)) },
                  ]}
                />
              </Card>
              <Card title={t('fbComments')} wide>
                <DataTable
                  rows={r.latestComments}
                  rowKey={(c) => `${c.customerId}-${c.answeredAt}-${c.survey}`}
                  empty={<Empty title={t('fbNoComments')} hint={null} />}
                  scroll
                  testId="comments"
                  columns={[
                    { head: t('fbDate'), cell: (c) => i18n.date(c.answeredAt) },
                    {
                      head: t('fbCustomer'),
                      cell: (c) => <a href={`#/customers/${c.customerId}`}>{c.storeId ?? `#${c.customerId}`}</a>,
                    },
                    { head: t('fbSurvey'), cell: (c) => survey(c.survey) },
                    { head: t('fbScore'), cell: (c) => c.score ?? '–' },
                    { head: t('fbComment'), cell: (c) => c.comment },
                  ]}
                />
              </Card>
              <Card title={t('fbReviews')} wide>
                <DataTable
                  rows={r.reviews.latest}
                  rowKey={(x) => x.id}
                  empty={<Empty title={t('fbNoReviews')} hint={null} />}
                  scroll
                  columns={[
                    { head: t('fbDate'), cell: (x) => i18n.date(x.createdAt) },
                    { head: t('fbProduct'), cell: (x) => x.product },
                    { head: t('fbRating'), cell: (x) => '★'.repeat(x.rating) },
                    { head: t('fbComment'), cell: (x) => x.body ?? '' },
                  ]}
                />
              </Card>
            </div>
          </>
        )}
      </Async>
    </>
  );
}
