import { useApi } from '../api.js';
import { AXIS_NAME, Chart, PALETTE } from '../chart.js';
import { type MessageKey, useI18n } from '../i18n.js';
import { Async, Card, Empty, Kpi, PageHead } from '../ui.js';

interface Nps {
  answers: number;
  promoters: number;
  passives: number;
  detractors: number;
  nps: number | null;
  interval: { low: number; high: number; level: number } | null;
  note: 'no_answers' | 'small_sample' | null;
}

/** `GET /api/v1/feedback/report`. */
export interface FeedbackReportView {
  nps: Nps;
  npsTrend: Array<{ month: string } & Nps>;
  csat: { answers: number; csat: number | null; mean: number | null; note: string | null };
  responseRates: Array<{ survey: string; issued: number; answered: number; rate: number | null }>;
  exitReasons: { total: Array<{ reason: string; answers: number }> };
  latestComments: Array<{
    customerId: number;
    survey: string;
    score: number | null;
    comment: string;
    answeredAt: number;
  }>;
  reviews: {
    count: number;
    average: number | null;
    latest: Array<{
      id: number;
      product: string;
      customerId: number;
      rating: number;
      body: string | null;
      createdAt: number;
    }>;
  };
}

/** The Feedback page: NPS with its interval and trend, CSAT, response rates, exit reasons, comments, reviews. */
export function FeedbackPage() {
  const i18n = useI18n();
  const { t } = i18n;
  const [state, retry] = useApi<FeedbackReportView>('/feedback/report');
  const reason = (r: string) => {
    const key = `reason_${r}` as MessageKey;
    const text = t(key);
    return text === undefined ? r : text;
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
                        text: t('fbCsatHint', { n: r.csat.answers, mean: i18n.number(r.csat.mean, 2) }),
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
                        text: t('fbReviewsHint', { n: r.reviews.count, avg: i18n.number(r.reviews.average, 2) }),
                        direction: 'flat',
                      }
                }
              />
            </div>
            {r.nps.note === 'small_sample' && (
              <p className="muted" data-testid="nps-note">
                {t('fbSmallSample')}
              </p>
            )}
            <div className="grid">
              <Card title={t('fbNpsTrend')} wide>
                {r.npsTrend.length === 0 ? (
                  <Empty title={t('fbNoAnswers')} />
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
                {r.exitReasons.total.length === 0 ? (
                  <Empty title={t('fbNoExit')} />
                ) : (
                  <table className="table">
                    <thead>
                      <tr>
                        <th>{t('fbReason')}</th>
                        <th>{t('fbAnswers')}</th>
                      </tr>
                    </thead>
                    <tbody>
                      {r.exitReasons.total.map((x) => (
                        <tr key={x.reason}>
                          <td>{reason(x.reason)}</td>
                          <td>{i18n.number(x.answers)}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                )}
              </Card>
              <Card title={t('fbResponseRates')}>
                {r.responseRates.length === 0 ? (
                  <Empty />
                ) : (
                  <table className="table">
                    <thead>
                      <tr>
                        <th>{t('fbSurvey')}</th>
                        <th>{t('fbLinks')}</th>
                        <th>{t('fbAnswered')}</th>
                        <th>{t('fbRate')}</th>
                      </tr>
                    </thead>
                    <tbody>
                      {r.responseRates.map((x) => (
                        <tr key={x.survey}>
                          <td>{x.survey}</td>
                          <td>{i18n.number(x.issued)}</td>
                          <td>{i18n.number(x.answered)}</td>
                          <td>{x.rate === null ? '–' : i18n.percent(x.rate)}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                )}
              </Card>
              <Card title={t('fbComments')} wide>
                {r.latestComments.length === 0 ? (
                  <Empty title={t('fbNoComments')} />
                ) : (
                  <div className="table-scroll">
                    <table className="table" data-testid="comments">
                      <thead>
                        <tr>
                          <th>{t('fbDate')}</th>
                          <th>{t('fbCustomer')}</th>
                          <th>{t('fbSurvey')}</th>
                          <th>{t('fbScore')}</th>
                          <th>{t('fbComment')}</th>
                        </tr>
                      </thead>
                      <tbody>
                        {r.latestComments.map((c) => (
                          <tr key={`${c.customerId}-${c.answeredAt}-${c.survey}`}>
                            <td>{i18n.date(c.answeredAt)}</td>
                            <td>
                              <a href={`#/customers/${c.customerId}`}>{c.customerId}</a>
                            </td>
                            <td>{c.survey}</td>
                            <td>{c.score ?? '–'}</td>
                            <td>{c.comment}</td>
                          </tr>
                        ))}
                      </tbody>
                    </table>
                  </div>
                )}
              </Card>
              <Card title={t('fbReviews')} wide>
                {r.reviews.latest.length === 0 ? (
                  <Empty title={t('fbNoReviews')} />
                ) : (
                  <div className="table-scroll">
                    <table className="table">
                      <thead>
                        <tr>
                          <th>{t('fbDate')}</th>
                          <th>{t('fbProduct')}</th>
                          <th>{t('fbRating')}</th>
                          <th>{t('fbComment')}</th>
                        </tr>
                      </thead>
                      <tbody>
                        {r.reviews.latest.map((x) => (
                          <tr key={x.id}>
                            <td>{i18n.date(x.createdAt)}</td>
                            <td>{x.product}</td>
                            <td>{'★'.repeat(x.rating)}</td>
                            <td>{x.body ?? ''}</td>
                          </tr>
                        ))}
                      </tbody>
                    </table>
                  </div>
                )}
              </Card>
            </div>
          </>
        )}
      </Async>
    </>
  );
}
