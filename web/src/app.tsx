import { useCallback, useEffect, useMemo, useState } from 'react';
import { apiFetch, forgetStoredKey } from './api.js';
import { detectLang, I18nContext, type Lang, type MessageKey, makeI18n } from './i18n.js';
import { CohortsPage } from './pages/cohorts.js';
import { CustomerPage, CustomersPage } from './pages/customers.js';
import { FeedbackPage } from './pages/feedback.js';
import { FlowsWorkspace } from './pages/flows-workspace.js';
import { LoyaltyPage } from './pages/loyalty.js';
import { OverviewPage } from './pages/overview.js';
import { PredictionsPage } from './pages/predictions.js';
import { SegmentsPage } from './pages/segments.js';
import { SignInPage, type Who } from './pages/sign-in.js';
import { type Route, useRoute } from './router.js';
import type { WhoOrNone } from './types.js';

const NAV: Array<{ page: Route['page']; href: string; label: MessageKey; icon: string }> = [
  { page: 'overview', href: '#/overview', label: 'navOverview', icon: 'M3 13h4v8H3zM10 8h4v13h-4zM17 3h4v18h-4z' },
  {
    page: 'cohorts',
    href: '#/cohorts',
    label: 'navCohorts',
    icon: 'M3 3h8v8H3zM13 3h8v8h-8zM3 13h8v8H3zM13 13h8v8h-8z',
  },
  {
    page: 'customers',
    href: '#/customers',
    label: 'navCustomers',
    icon: 'M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8zM4 21a8 8 0 0 1 16 0z',
  },
  {
    page: 'segments',
    href: '#/segments',
    label: 'navSegments',
    icon: 'M12 3a9 9 0 1 0 9 9h-9z M14 2v8h8a8 8 0 0 0-8-8z',
  },
  { page: 'predictions', href: '#/predictions', label: 'navPredictions', icon: 'M3 17l6-6 4 4 8-8M15 7h6v6' },
  { page: 'flows', href: '#/flows', label: 'navFlows', icon: 'M4 6h10l3 3-3 3H4zM20 14H10l-3 3 3 3h10z' },
  {
    page: 'loyalty',
    href: '#/loyalty',
    label: 'navLoyalty',
    icon: 'M12 2l3 6 6 1-4.5 4.5L18 20l-6-3-6 3 1.5-6.5L3 9l6-1z',
  },
  { page: 'feedback', href: '#/feedback', label: 'navFeedback', icon: 'M4 4h16v12H8l-4 4z' },
];

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case 'overview':
      return <OverviewPage />;
    case 'cohorts':
      return <CohortsPage />;
    case 'customers':
      return <CustomersPage q={route.q} offset={route.offset} />;
    case 'customer':
      return <CustomerPage id={route.id} />;
    case 'segments':
      return <SegmentsPage />;
    case 'predictions':
      return <PredictionsPage />;
    case 'flows':
      return <FlowsWorkspace />;
    case 'loyalty':
      return <LoyaltyPage />;
    case 'feedback':
      return <FeedbackPage />;
  }
}

/** The dashboard: sign-in, then the sidebar (a top bar on a phone) and the page of the URL hash. */
export function App() {
  const [lang, setLang] = useState<Lang>(() =>
    detectLang(window.location.search, navigator.languages ?? [navigator.language]),
  );
  const i18n = useMemo(() => makeI18n(lang), [lang]);
  const route = useRoute();
  const [who, setWho] = useState<Who | null | undefined>(undefined);
  const [menuOpen, setMenuOpen] = useState(false);

  useEffect(() => {
    document.documentElement.lang = lang;
    document.title = `${i18n.t('appName')} · ${i18n.t('tagline')}`;
  }, [lang, i18n]);

  useEffect(() => {
    forgetStoredKey();
    // Before sign-in the server answers 200 { kind: 'none' } (no 401 in the console on a fresh load).
    apiFetch<WhoOrNone>('/session').then(
      (who) => setWho(who.kind === 'none' ? null : who),
      () => setWho(null),
    );
  }, []);

  // biome-ignore lint/correctness/useExhaustiveDependencies: the phone menu closes whenever the page changes.
  useEffect(() => setMenuOpen(false), [route]);

  const changeLang = useCallback((next: Lang) => {
    const url = new URL(window.location.href);
    url.searchParams.set('lang', next);
    window.history.replaceState(null, '', url);
    setLang(next);
  }, []);

  const signOut = useCallback(async () => {
    await apiFetch('/session', { method: 'DELETE' }).catch(() => undefined);
    setWho(null);
  }, []);

  const current = route.page === 'customer' ? 'customers' : route.page;
  return (
    <I18nContext.Provider value={i18n}>
      {who === undefined ? (
        <div className="boot" aria-busy="true">
          {i18n.t('loading')}
        </div>
      ) : who === null ? (
        <SignInPage onSignedIn={setWho} onLang={changeLang} />
      ) : (
        <div className="shell">
          <aside className={menuOpen ? 'sidebar open' : 'sidebar'}>
            <div className="sidebar-top">
              <a className="brand" href="#/overview">
                <span className="logo" aria-hidden="true">
                  C
                </span>
                <span>{i18n.t('appName')}</span>
              </a>
              <button
                type="button"
                className="menu-button"
                aria-expanded={menuOpen}
                aria-controls="main-nav"
                aria-label="Menu"
                onClick={() => setMenuOpen((open) => !open)}
              >
                <svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true">
                  <path d="M4 6h16M4 12h16M4 18h16" stroke="currentColor" strokeWidth="2" strokeLinecap="round" />
                </svg>
              </button>
            </div>
            <nav id="main-nav" aria-label={i18n.t('appName')}>
              <ul>
                {NAV.map((item) => (
                  <li key={item.page}>
                    <a
                      href={item.href}
                      aria-current={current === item.page ? 'page' : undefined}
                      data-testid={`nav-${item.page}`}
                    >
                      <svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true">
                        <path
                          d={item.icon}
                          fill="none"
                          stroke="currentColor"
                          strokeWidth="1.8"
                          strokeLinejoin="round"
                        />
                      </svg>
                      {i18n.t(item.label)}
                    </a>
                  </li>
                ))}
              </ul>
            </nav>
            <div className="sidebar-bottom">
              <label className="field">
                <span>{i18n.t('language')}</span>
                <select
                  value={lang}
                  onChange={(e) => changeLang(e.target.value === 'ko' ? 'ko' : 'en')}
                  data-testid="lang"
                >
                  <option value="en">English</option>
                  <option value="ko">한국어</option>
                </select>
              </label>
              <div className="who">
                <span className="muted" translate="no">
                  {who.name}
                </span>
                <button type="button" className="link" onClick={() => void signOut()}>
                  {i18n.t('signOut')}
                </button>
              </div>
            </div>
          </aside>
          <main className="content" id="content">
            <Page route={route} />
          </main>
        </div>
      )}
    </I18nContext.Provider>
  );
}
