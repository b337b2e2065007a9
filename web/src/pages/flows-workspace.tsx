import { useEffect, useState } from 'react';
import { useApi } from '../api.js';
import { CampaignsPanel } from '../components/campaign-composer.js';
import { FlowEditor } from '../components/flow-editor.js';
import { type TemplateItem, TemplatePreview } from '../components/template-preview.js';
import { type MessageKey, useI18n } from '../i18n.js';
import { Async, Card, PageHead } from '../ui.js';
import { FlowsPage } from './flows.js';
import { OutreachPanel } from './outreach.js';
import type { Who } from './sign-in.js';
import './compose.css';

const TABS = [
  { tab: 'flows', hash: '#/flows', label: 'composeTabFlows' },
  { tab: 'edit', hash: '#/flows/edit', label: 'composeTabEdit' },
  { tab: 'campaigns', hash: '#/flows/campaigns', label: 'composeTabCampaigns' },
  { tab: 'templates', hash: '#/flows/templates', label: 'composeTabTemplates' },
  { tab: 'outreach', hash: '#/flows/outreach', label: 'outreachTab' },
] as const satisfies ReadonlyArray<{ tab: string; hash: string; label: MessageKey }>;
type Tab = (typeof TABS)[number]['tab'];

/** The tab named by the hash (`#/flows/campaigns`); the router sends every `#/flows…` here. */
function tabOf(hash: string): Tab {
  const part = hash.replace(/^#\/?flows\/?/, '').split(/[/?]/)[0];
  return TABS.find((t) => t.tab === part)?.tab ?? 'flows';
}

function useTab(): Tab {
  const [tab, setTab] = useState(() => tabOf(window.location.hash));
  useEffect(() => {
    const onChange = () => setTab(tabOf(window.location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return tab;
}

function TemplatesPanel() {
  const i18n = useI18n();
  const [state, retry] = useApi<{ templates: TemplateItem[] }>('/templates');
  return (
    <Card title={i18n.t('previewTitle')}>
      <p className="muted">{i18n.t('previewLead')}</p>
      <Async state={state} retry={retry}>
        {({ templates }) => <TemplatePreview templates={templates} />}
      </Async>
    </Card>
  );
}

/**
 * The Flows section: the flows and their reports (pages/flows.tsx), the flow editor, the campaigns with
 * their composer, template previews and the staff outreach queue, one tab each (`#/flows`, `#/flows/edit`,
 * `#/flows/campaigns`, `#/flows/templates`, `#/flows/outreach`).
 */
export function FlowsWorkspace() {
  const i18n = useI18n();
  const tab = useTab();
  const [who] = useApi<Who>('/session');
  const canWrite = who.status === 'ok' && (who.data.scope === 'admin' || who.data.scope === 'write');
  const tabs = (
    <nav className="compose-tabs" aria-label={i18n.t('composeTabsLabel')}>
      {TABS.map((t) => (
        <a
          key={t.tab}
          href={t.hash}
          className={t.tab === tab ? 'compose-tab active' : 'compose-tab'}
          aria-current={t.tab === tab ? 'page' : undefined}
          data-testid={`flows-tab-${t.tab}`}
        >
          {i18n.t(t.label)}
        </a>
      ))}
    </nav>
  );
  if (tab === 'flows') {
    return (
      <>
        {tabs}
        <FlowsPage />
      </>
    );
  }
  return (
    <>
      {tabs}
      <PageHead title={i18n.t(TABS.find((t) => t.tab === tab)!.label)} />
      {tab === 'edit' && <FlowEditor canWrite={canWrite} />}
      {tab === 'campaigns' && <CampaignsPanel canWrite={canWrite} />}
      {tab === 'templates' && <TemplatesPanel />}
      {tab === 'outreach' && <OutreachPanel canWrite={canWrite} />}
    </>
  );
}
