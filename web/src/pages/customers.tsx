import { type FormEvent, useEffect, useState } from 'react';
import { useApi } from '../api.js';
import { currencyDigits, type I18n, stageLabel, useI18n } from '../i18n.js';
import { countryName, eventWord, extra, personaText, rfmGroupLabel } from '../i18n-korean.js';
import { hrefOf } from '../router.js';
import type {
  CustomerItem,
  CustomerList,
  CustomerOrder,
  CustomerProfile,
  CustomerStory,
  TimelineEntry,
} from '../types.js';
import { Async, Card, Empty, Kpi, PageHead, TableScroll } from '../ui.js';

const PAGE = 25;

/** A customer's name for people: the name, else the e-mail, else the store's id, else Comeback's number. */
export function displayName(
  c: Pick<CustomerItem, 'id' | 'firstName' | 'lastName' | 'email'> & { storeId?: string | null },
  i18n: I18n,
): string {
  const name = [c.firstName, c.lastName].filter(Boolean).join(' ');
  return name || c.email || i18n.t('customerWithId', { id: c.storeId ?? `#${c.id}` });
}

/** Net revenue per currency, never added across currencies; '—' when none. */
function revenueText(i18n: I18n, revenue: CustomerItem['revenue']): string {
  return revenue.length === 0 ? '—' : revenue.map((r) => i18n.money(r.revenue, r.currency)).join(' + ');
}

/** The Customers page: search and a paged list. */
export function CustomersPage({ q, offset }: { q: string; offset: number }) {
  const i18n = useI18n();
  const [text, setText] = useState(q);
  useEffect(() => setText(q), [q]);
  const [state, retry] = useApi<CustomerList>(
    `/customers?limit=${PAGE}&offset=${offset}${q ? `&q=${encodeURIComponent(q)}` : ''}`,
  );
  const submit = (event: FormEvent) => {
    event.preventDefault();
    window.location.hash = hrefOf({ page: 'customers', q: text.trim(), offset: 0 });
  };
  return (
    <>
      <PageHead title={i18n.t('navCustomers')}>
        <form className="search" onSubmit={submit}>
          <label htmlFor="customer-search" className="sr-only">
            {i18n.t('search')}
          </label>
          <input
            id="customer-search"
            type="search"
            value={text}
            placeholder={i18n.t('searchPlaceholder')}
            onChange={(e) => setText(e.target.value)}
          />
          <button type="submit" className="button">
            {i18n.t('search')}
          </button>
        </form>
      </PageHead>
      <Async state={state} retry={retry}>
        {(list) =>
          list.customers.length === 0 ? (
            q ? (
              <Empty title={i18n.t('noMatchTitle', { q })} hint={i18n.t('noMatchHint')} />
            ) : (
              <Empty />
            )
          ) : (
            <Card wide>
              <p className="muted" data-testid="customers-total">
                {i18n.count(list.total, 'customersFoundOne', 'customersFoundOther')}
              </p>
              <TableScroll>
                <table className="table">
                  <thead>
                    <tr>
                      <th scope="col">{i18n.t('customer')}</th>
                      <th scope="col">{i18n.t('storeId')}</th>
                      <th scope="col">{i18n.t('country')}</th>
                      <th scope="col" className="num">
                        {i18n.t('orders')}
                      </th>
                      <th scope="col" className="num">
                        {i18n.t('netRevenue')}
                      </th>
                      <th scope="col">{i18n.t('firstSeen')}</th>
                      <th scope="col">{i18n.t('lastOrder')}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {list.customers.map((c) => (
                      <tr key={c.id} data-testid={`customer-row-${c.id}`}>
                        <td>
                          <a href={hrefOf({ page: 'customer', id: c.id })}>{displayName(c, i18n)}</a>
                        </td>
                        <td className="nowrap">{c.storeId ?? '—'}</td>
                        <td>{countryName(i18n.lang, c.country) ?? '—'}</td>
                        <td className="num">{i18n.number(c.orders)}</td>
                        <td className="num nowrap">{revenueText(i18n, c.revenue)}</td>
                        <td>{i18n.date(c.firstSeenAt)}</td>
                        <td>{c.lastOrderAt === null ? '—' : i18n.date(c.lastOrderAt)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </TableScroll>
              <nav className="pager" aria-label={extra(i18n.lang, 'pagination')}>
                <a
                  className={offset === 0 ? 'button disabled' : 'button'}
                  aria-disabled={offset === 0}
                  href={hrefOf({ page: 'customers', q, offset: Math.max(0, offset - PAGE) })}
                >
                  {i18n.t('previous')}
                </a>
                <span className="muted">
                  {i18n.number(offset + 1)}–{i18n.number(Math.min(list.total, offset + PAGE))} /{' '}
                  {i18n.number(list.total)}
                </span>
                <a
                  className={offset + PAGE >= list.total ? 'button disabled' : 'button'}
                  aria-disabled={offset + PAGE >= list.total}
                  href={hrefOf({ page: 'customers', q, offset: offset + PAGE })}
                >
                  {i18n.t('next')}
                </a>
              </nav>
            </Card>
          )
        }
      </Async>
    </>
  );
}

function orderTotal(i18n: I18n, order: CustomerOrder): string {
  const net = (order.totalMinor - order.refundedMinor) / 10 ** currencyDigits(order.currency);
  return i18n.money(net, order.currency);
}

/** An order status in the current language. */
function statusLabel(i18n: I18n, status: string): string {
  const keys = {
    paid: 'statusPaid',
    partially_refunded: 'statusPartiallyRefunded',
    refunded: 'statusRefunded',
    cancelled: 'statusCancelled',
    pending: 'statusPending',
  } as const;
  return status in keys ? i18n.t(keys[status as keyof typeof keys]) : status;
}

function Scores({ scores }: { scores: CustomerStory }) {
  const i18n = useI18n();
  const rows: Array<[string, string]> = [
    [i18n.t('rfmScore'), scores.rfm ? `R${scores.rfm.r} F${scores.rfm.f} M${scores.rfm.m}` : '—'],
    [i18n.t('rfmGroup'), scores.rfm ? rfmGroupLabel(i18n.lang, scores.rfm.group) : '—'],
    [i18n.t('expectedPurchases'), scores.prediction ? i18n.number(scores.prediction.expectedPurchases, 1) : '—'],
    [i18n.t('persona'), scores.persona ? personaText(i18n.lang, scores.persona.persona, scores.persona).label : '—'],
    [i18n.t('lifecycle'), scores.lifecycle ? stageLabel(i18n, scores.lifecycle.stage) : '—'],
    [i18n.t('savedSegments'), scores.segments.length ? scores.segments.join(', ') : i18n.t('noneYet')],
  ];
  return (
    <dl className="facts">
      {rows.map(([label, value]) => (
        <div key={label}>
          <dt>{label}</dt>
          {/* Saved segments are named by the store: its own words, not the dashboard's. */}
          <dd translate={label === i18n.t('savedSegments') && scores.segments.length ? 'no' : undefined}>{value}</dd>
        </div>
      ))}
    </dl>
  );
}

function money(i18n: I18n, minor: number, currency: string): string {
  return i18n.money(minor / 10 ** currencyDigits(currency), currency);
}

/**
 * One line of the timeline: an order (by the store's name, #1001, with its gross total and, once
 * refunded, its net, as the orders table shows), a refund, or an event (a tracked one by its name).
 */
function entryText(i18n: I18n, entry: TimelineEntry): string {
  switch (entry.kind) {
    case 'order': {
      const gross = i18n.t('orderGross', { amount: money(i18n, entry.totalMinor, entry.currency) });
      const net =
        entry.refundedMinor > 0
          ? ` · ${i18n.t('orderNet', { amount: money(i18n, entry.totalMinor - entry.refundedMinor, entry.currency) })}`
          : '';
      return `${i18n.t('orderPlaced', { id: entry.name ?? entry.externalId })} · ${gross}${net}`;
    }
    case 'refund':
      return `${i18n.t('refund')} · ${money(i18n, entry.amountMinor, entry.currency)}`;
    case 'event': {
      const kind = eventWord(i18n.lang, entry.type);
      if (!entry.event) return kind;
      return entry.type === 'track' ? entry.event : `${kind}: ${eventWord(i18n.lang, entry.event)}`;
    }
  }
}

function Timeline({ story }: { story: CustomerStory }) {
  const i18n = useI18n();
  const items = [...story.timeline].sort((a, b) => b.at - a.at);
  if (items.length === 0) return <Empty />;
  // Orders show the clock they were placed by; refunds and events the clock of the latest order (the store's).
  const storeOffset = items.find((item) => item.kind === 'order')?.placedOffset ?? 0;
  return (
    <ol className="timeline">
      {items.slice(0, 40).map((item, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: entries have no id of their own across kinds.
        <li key={i} className={`timeline-item ${item.kind === 'order' ? item.status : item.kind}`}>
          <time dateTime={new Date(item.at).toISOString()}>
            {i18n.localTime(item.at, item.kind === 'order' ? item.placedOffset : storeOffset)}
          </time>
          <span>{entryText(i18n, item)}</span>
        </li>
      ))}
    </ol>
  );
}

/** The customer 360 page: figures, scores and segments, timeline and orders. */
export function CustomerPage({ id }: { id: number }) {
  const i18n = useI18n();
  const [profileState, retryProfile] = useApi<CustomerProfile>(`/customers/${id}`);
  const [scoresState] = useApi<CustomerStory>(`/dashboard/customers/${id}`);
  const scores = scoresState.status === 'ok' ? scoresState.data : null;
  return (
    <Async state={profileState} retry={retryProfile}>
      {(profile) => {
        const revenue = profile.revenue[0];
        return (
          <>
            <a className="back" href={hrefOf({ page: 'customers', q: '', offset: 0 })}>
              ← {i18n.t('back')}
            </a>
            <PageHead
              title={displayName(profile.customer, i18n)}
              lead={[
                countryName(i18n.lang, profile.customer.country),
                `${i18n.t('firstSeen')} ${i18n.date(profile.customer.firstSeenAt)}`,
              ]
                .filter(Boolean)
                .join(' · ')}
            />
            <div className="kpis">
              <Kpi id="customer-orders" label={i18n.t('orders')} value={i18n.number(revenue?.orders ?? 0)} />
              <Kpi
                id="customer-revenue"
                label={i18n.t('revenue')}
                value={revenue ? i18n.money(revenue.revenue, revenue.currency) : '—'}
              />
              <Kpi
                id="customer-palive"
                label={i18n.t('pAlive')}
                value={scores?.prediction?.pAlive != null ? i18n.percent(scores.prediction.pAlive) : '—'}
              />
              <Kpi
                id="customer-clv"
                label={i18n.t('predictedClv')}
                value={
                  scores?.prediction?.clv != null && scores.currency
                    ? i18n.money(scores.prediction.clv, scores.currency)
                    : '—'
                }
              />
            </div>
            <div className="grid">
              <Card title={i18n.t('scores')}>
                {scores ? <Scores scores={scores} /> : <div className="skeleton-block" />}
              </Card>
              <Card title={i18n.t('timeline')}>
                {scores ? <Timeline story={scores} /> : <div className="skeleton-block" />}
              </Card>
              <Card title={i18n.t('ordersTitle')} wide>
                {profile.orders.length === 0 ? (
                  <Empty />
                ) : (
                  <TableScroll>
                    <table className="table">
                      <thead>
                        <tr>
                          <th scope="col">{i18n.t('date')}</th>
                          <th scope="col">#</th>
                          <th scope="col">{i18n.t('status')}</th>
                          <th scope="col" className="num">
                            {i18n.t('items')}
                          </th>
                          <th scope="col" className="num" title={i18n.t('netTotalHint')}>
                            {i18n.t('netTotal')}
                          </th>
                        </tr>
                      </thead>
                      <tbody>
                        {[...profile.orders].reverse().map((o) => (
                          <tr key={o.id}>
                            <td className="nowrap">{i18n.date(o.placedAt)}</td>
                            <td className="nowrap">{o.name ?? o.externalId}</td>
                            <td>
                              <span className={`badge ${o.status}`}>{statusLabel(i18n, o.status)}</span>
                            </td>
                            <td className="num">{i18n.number(o.lines.reduce((n, l) => n + l.quantity, 0))}</td>
                            <td className="num">{orderTotal(i18n, o)}</td>
                          </tr>
                        ))}
                      </tbody>
                    </table>
                  </TableScroll>
                )}
              </Card>
            </div>
          </>
        );
      }}
    </Async>
  );
}
