import { ApiError, apiFetch, useLoad } from '../api.js';
import { useI18n } from '../i18n.js';
import { Async, Card, Empty, Kpi, PageHead } from '../ui.js';

interface Repeat {
  customers: number;
  repeaters: number;
  rate: number | null;
}

/** `GET /api/v1/loyalty` (the program report of src/loyalty). */
interface ProgramReportView {
  currency: string;
  members: number;
  activeMembers: number;
  activeDays: number;
  points: { issued: number; redeemed: number; expired: number };
  outstanding: { liabilityMinor: number };
  redemptionRate: number | null;
  tiers: Array<{ key: string; name: string; members: number }>;
  movementDays: number;
  upgrades: number;
  downgrades: number;
  repeatPurchase: { members: Repeat; nonMembers: Repeat };
}

interface DormantView {
  members: Array<{
    customerId: number;
    email: string | null;
    daysInactive: number;
    balance: number;
    rewardsWithinReach: Array<{ key: string; name: string }>;
    nextReward: { name: string; missing: number } | undefined;
  }>;
}

/** The Loyalty page: members, points, liability, redemption rate, tiers, repeat rate, dormant members. */
export function LoyaltyPage() {
  const i18n = useI18n();
  const { t } = i18n;
  const [state, retry] = useLoad('loyalty', async () => {
    try {
      const report = await apiFetch<ProgramReportView>('/loyalty');
      const dormant = await apiFetch<DormantView>('/loyalty/dormant');
      return { report, dormant };
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return null;
      throw error;
    }
  });
  const money = (minor: number, currency: string) =>
    i18n.money(minor / 10 ** (currency === 'KRW' || currency === 'JPY' ? 0 : 2), currency);
  return (
    <>
      <PageHead title={t('navLoyalty')} lead={t('loyLead')} />
      <Async state={state} retry={retry}>
        {(data) =>
          data === null ? (
            <Empty title={t('loyNoProgram')} hint={t('loyNoProgramHint')} />
          ) : (
            <>
              <div className="kpis">
                <Kpi
                  id="members"
                  label={t('loyMembers')}
                  value={i18n.number(data.report.members)}
                  change={{
                    text: `${t('loyActive', { days: data.report.activeDays })}: ${i18n.number(data.report.activeMembers)}`,
                    direction: 'flat',
                  }}
                />
                <Kpi id="issued" label={t('loyIssued')} value={i18n.number(data.report.points.issued)} />
                <Kpi id="redeemed" label={t('loyRedeemed')} value={i18n.number(data.report.points.redeemed)} />
                <Kpi id="expired" label={t('loyExpired')} value={i18n.number(data.report.points.expired)} />
                <Kpi
                  id="liability"
                  label={t('loyLiability')}
                  value={money(data.report.outstanding.liabilityMinor, data.report.currency)}
                />
                <Kpi
                  id="redemption"
                  label={t('loyRedemptionRate')}
                  value={data.report.redemptionRate === null ? '–' : i18n.percent(data.report.redemptionRate)}
                  change={data.report.redemptionRate === null ? { text: t('loyNoRate'), direction: 'flat' } : null}
                />
              </div>
              <div className="grid">
                <Card title={t('loyTiers')}>
                  <table className="table">
                    <thead>
                      <tr>
                        <th>{t('loyTier')}</th>
                        <th>{t('loyMembers')}</th>
                      </tr>
                    </thead>
                    <tbody>
                      {data.report.tiers.map((tier) => (
                        <tr key={tier.key}>
                          <td>{tier.name}</td>
                          <td>{i18n.number(tier.members)}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                  <p className="muted">
                    {t('loyMovement', { days: data.report.movementDays })}: {t('loyUpgrades')} {data.report.upgrades} ·{' '}
                    {t('loyDowngrades')} {data.report.downgrades}
                  </p>
                </Card>
                <Card title={t('loyRepeat')}>
                  <table className="table">
                    <thead>
                      <tr>
                        <th />
                        <th>{t('loyBuyers')}</th>
                        <th>{t('loyRepeaters')}</th>
                        <th>{t('loyRepeat')}</th>
                      </tr>
                    </thead>
                    <tbody>
                      {(['members', 'nonMembers'] as const).map((k) => (
                        <tr key={k}>
                          <td>{t(k === 'members' ? 'loyMembersRepeat' : 'loyNonMembersRepeat')}</td>
                          <td>{i18n.number(data.report.repeatPurchase[k].customers)}</td>
                          <td>{i18n.number(data.report.repeatPurchase[k].repeaters)}</td>
                          <td>
                            {data.report.repeatPurchase[k].rate === null
                              ? '–'
                              : i18n.percent(data.report.repeatPurchase[k].rate ?? 0)}
                          </td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </Card>
                <Card title={t('loyDormant')} wide>
                  {data.dormant.members.length === 0 ? (
                    <Empty title={t('loyNoDormant')} />
                  ) : (
                    <div className="table-scroll">
                      <table className="table">
                        <thead>
                          <tr>
                            <th>{t('fbCustomer')}</th>
                            <th>{t('loyDays')}</th>
                            <th>{t('loyBalance')}</th>
                            <th>{t('loyWithinReach')}</th>
                            <th>{t('loyNextReward')}</th>
                          </tr>
                        </thead>
                        <tbody>
                          {data.dormant.members.map((m) => (
                            <tr key={m.customerId}>
                              <td>
                                <a href={`#/customers/${m.customerId}`}>{m.email ?? m.customerId}</a>
                              </td>
                              <td>{i18n.number(m.daysInactive)}</td>
                              <td>{i18n.number(m.balance)}</td>
                              <td>{m.rewardsWithinReach.map((r) => r.name).join(', ') || '–'}</td>
                              <td>
                                {m.nextReward
                                  ? t('loyMissing', { name: m.nextReward.name, missing: m.nextReward.missing })
                                  : '–'}
                              </td>
                            </tr>
                          ))}
                        </tbody>
                      </table>
                    </div>
                  )}
                </Card>
              </div>
            </>
          )
        }
      </Async>
    </>
  );
}
