import { ApiError, apiFetch, useLoad } from '../api.js';
import { DataTable } from '../components/data-table.js';
import { useI18n } from '../i18n.js';
import { Async, Card, Empty, Kpi, PageHead } from '../ui.js';

interface Repeat {
  customers: number;
  repeaters: number;
  rate: number | null;
}

/** `GET /api/v1/loyalty` (the program report of src/loyalty). */
interface ProgramReportView {
  /** The last day (store-local `YYYY-MM-DD`) the figures include: the store's latest data by default. */
  asOfDay: string;
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
  /** Store credit outstanding per currency: money owed to members beside the points' liability. */
  /** `spendableMinor`: what members can spend (credit lapsed by the as-of left out, booked or not). */
  credit: Array<{ currency: string; outstandingMinor: number; spendableMinor: number; accounts: number }>;
}

interface DormantView {
  /** How many members are dormant in all; `members` are the first of them, largest balance first. */
  total: number;
  members: Array<{
    customerId: number;
    email: string | null;
    /** The store's own id; null for a customer known only by e-mail. */
    storeId: string | null;
    daysInactive: number;
    balance: number;
    rewardsWithinReach: Array<{ key: string; name: string }>;
    nextReward: { name: string; missing: number } | undefined;
  }>;
}

/** The Loyalty page: members, points, liability, store credit, redemption rate, tiers, repeat rate, dormant members. */
export function LoyaltyPage() {
  const i18n = useI18n();
  const { t } = i18n;
  const [state, retry] = useLoad('loyalty', async () => {
    try {
      const report = await apiFetch<ProgramReportView>('/loyalty');
      // The same day as the report, even if a sale arrives between the two requests.
      const dormant = await apiFetch<DormantView>(`/loyalty/dormant?asOf=${report.asOfDay}`);
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
      <PageHead
        title={t('navLoyalty')}
        lead={
          state.status === 'ok' && state.data
            ? t('loyLead', { date: i18n.date(Date.parse(state.data.report.asOfDay)) })
            : t('loyLeadUndated')
        }
      />
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
                  id="credit-liability"
                  label={t('loyCreditLiability')}
                  value={
                    data.report.credit.length === 0
                      ? money(0, data.report.currency)
                      : data.report.credit.map((c) => money(c.spendableMinor, c.currency)).join(' · ')
                  }
                  change={{
                    text: i18n.count(
                      data.report.credit.reduce((n, c) => n + c.accounts, 0),
                      'loyCreditHolderOne',
                      'loyCreditHolders',
                    ),
                    direction: 'flat',
                  }}
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
                  <DataTable
                    rows={data.report.tiers}
                    rowKey={(tier) => tier.key}
                    columns={[
                      { head: t('loyTier'), cell: (tier) => tier.name },
                      { head: t('loyMembers'), cell: (tier) => i18n.number(tier.members) },
                    ]}
                  />
                  <p className="muted">
                    {t('loyMovement', { days: data.report.movementDays })}: {t('loyUpgrades')} {data.report.upgrades} ·{' '}
                    {t('loyDowngrades')} {data.report.downgrades}
                  </p>
                </Card>
                <Card title={t('loyRepeat')}>
                  <DataTable
                    rows={['members', 'nonMembers'] as const}
                    rowKey={(k) => k}
                    scroll
                    columns={[
                      { head: null, cell: (k) => t(k === 'members' ? 'loyMembersRepeat' : 'loyNonMembersRepeat') },
                      {
                        head: t('loyBuyers'),
                        className: 'wrap',
                        cell: (k) => i18n.number(data.report.repeatPurchase[k].customers),
                      },
                      {
                        head: t('loyRepeaters'),
                        className: 'wrap',
                        cell: (k) => i18n.number(data.report.repeatPurchase[k].repeaters),
                      },
                      {
                        head: t('loyRepeat'),
                        className: 'wrap',
                        cell: (k) =>
                          data.report.repeatPurchase[k].rate === null
                            ? '–'
                            : i18n.percent(data.report.repeatPurchase[k].rate ?? 0),
                      },
                    ]}
                  />
                </Card>
                <Card title={t('loyDormant')} wide>
                  {data.dormant.total > 0 && (
                    <p className="muted" data-testid="dormant-count">
                      {data.dormant.total > data.dormant.members.length
                        ? t('loyDormantShown', {
                            shown: i18n.number(data.dormant.members.length),
                            total: i18n.number(data.dormant.total),
                          })
                        : i18n.count(data.dormant.total, 'loyDormantCountOne', 'loyDormantCount')}
                    </p>
                  )}
                  <DataTable
                    rows={data.dormant.members}
                    rowKey={(m) => m.customerId}
                    empty={<Empty title={t('loyNoDormant')} />}
                    scroll
                    columns={[
                      {
                        head: t('fbCustomer'),
                        cell: (m) => (
                          <a href={`#/customers/${m.customerId}`}>{m.email ?? m.storeId ?? `#${m.customerId}`}</a>
                        ),
                      },
                      { head: t('loyDays'), cell: (m) => i18n.number(m.daysInactive) },
                      { head: t('loyBalance'), cell: (m) => i18n.number(m.balance) },
                      {
                        head: t('loyWithinReach'),
                        className: 'wrap list',
                        cell: (m) => m.rewardsWithinReach.map((r) => r.name).join(', ') || '–',
                      },
                      {
                        head: t('loyNextReward'),
                        className: 'wrap list',
                        cell: (m) =>
                          m.nextReward
                            ? t('loyMissing', { name: m.nextReward.name, missing: m.nextReward.missing })
                            : '–',
                      },
                    ]}
                  />
                </Card>
              </div>
            </>
          )
        }
      </Async>
    </>
  );
}
