import { useId, useState } from 'react';
import type { CampaignAudience, CampaignSends } from '../../../src/campaigns/audience.queries.js';
import type { CampaignSendSummary } from '../../../src/campaigns/campaigns.queries.js';
import type { FlowSummary } from '../../../src/campaigns/flows.queries.js';
import { useApi } from '../api.js';
import { callApi, type Refusal } from '../compose-api.js';
import { type I18n, useI18n, zoneLabel } from '../i18n.js';
import { Async, Card } from '../ui.js';
import { channelName, RefusalText, type TemplateItem, TemplatePreview, templateLabel } from './template-preview.js';

/** `GET /api/v1/campaigns/sends`: each campaign with what sending it did. */
type CampaignRow = FlowSummary & CampaignSends;

/** `POST /api/v1/campaigns/audience`. */
type Audience = CampaignAudience;

/** What `POST /campaigns/:key/send` answers. */
type SendSummary = CampaignSendSummary;

const CHANNELS = ['email', 'sms', 'kakao'] as const;

/** An instant in the viewer's own zone, with the zone: campaigns are scheduled in local time. */
function localInstant(i18n: I18n, ms: number): string {
  return `${new Intl.DateTimeFormat(i18n.locale, { dateStyle: 'medium', timeStyle: 'short' }).format(ms)} ${zoneLabel(-new Date(ms).getTimezoneOffset())}`;
}

function CampaignList({ rows }: { rows: readonly CampaignRow[] }) {
  const i18n = useI18n();
  if (rows.length === 0) return <p className="muted">{i18n.t('campaignNone')}</p>;
  return (
    <div className="table-scroll">
      <table className="table" data-testid="campaigns-table">
        <thead>
          <tr>
            <th scope="col">{i18n.t('campaignKey')}</th>
            <th scope="col" className="num">
              {i18n.t('campaignEntered')}
            </th>
            <th scope="col" className="num">
              {i18n.t('campaignHeldOut')}
            </th>
            <th scope="col">{i18n.t('campaignSendAt')}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((c) => (
            <tr key={c.key} data-testid={`campaign-${c.key}`}>
              <th scope="row">
                {c.name}
                <div className="muted" translate="no">
                  {c.key} · {i18n.t('editVersion', { n: c.version })}
                </div>
              </th>
              <td className="num" data-col="entered">
                {i18n.number(c.entered)}
              </td>
              <td className="num" data-col="held-out">
                {i18n.number(c.heldOut)}
              </td>
              <td data-col="send-at">{c.sendAt === null ? i18n.t('campaignNotSent') : localInstant(i18n, c.sendAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

interface Draft {
  key: string;
  name: string;
  segment: string;
  channels: string[];
  templateA: string;
  templateB: string;
  ab: boolean;
  splitPct: number;
  holdoutPct: number;
  when: 'now' | 'later';
  at: string;
}

function Composer({
  segments,
  templates,
  onDone,
}: {
  segments: readonly string[];
  templates: readonly TemplateItem[];
  onDone: () => void;
}) {
  const i18n = useI18n();
  const id = useId();
  const [draft, setDraft] = useState<Draft>({
    key: '',
    name: '',
    segment: segments[0] ?? '',
    channels: ['email'],
    templateA: templates[0]?.key ?? '',
    templateB: templates[1]?.key ?? templates[0]?.key ?? '',
    ab: false,
    splitPct: 50,
    holdoutPct: 10,
    when: 'now',
    at: '',
  });
  const [preview, setPreview] = useState<string | null>(null);
  const [audience, setAudience] = useState<{ for: string; data: Audience } | null>(null);
  const [refusal, setRefusal] = useState<Refusal | null>(null);
  const [busy, setBusy] = useState<'check' | 'send' | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const set = <K extends keyof Draft>(field: K, value: Draft[K]) => setDraft((d) => ({ ...d, [field]: value }));
  const snapshot = JSON.stringify(draft);
  const fresh = audience !== null && audience.for === snapshot;

  const check = async () => {
    setRefusal(null);
    setDone(null);
    setBusy('check');
    const answer = await callApi<Audience>('/campaigns/audience', {
      method: 'POST',
      body: {
        segment: draft.segment,
        channels: draft.channels,
        holdoutShare: draft.holdoutPct / 100,
        ...(draft.key ? { key: draft.key } : {}),
      },
    });
    setBusy(null);
    if (answer.ok) setAudience({ for: snapshot, data: answer.data });
    else {
      setAudience(null);
      setRefusal(answer.refusal);
    }
  };

  const send = async () => {
    setRefusal(null);
    let at: string | undefined;
    if (draft.when === 'later') {
      const ms = Date.parse(draft.at);
      if (!draft.at || Number.isNaN(ms)) {
        setRefusal({ status: 400, message: i18n.t('composeNeedAt'), field: 'at' });
        return;
      }
      if (ms < Date.now()) {
        setRefusal({ status: 400, message: i18n.t('composeInPast'), field: 'at' });
        return;
      }
      at = new Date(ms).toISOString();
    }
    setBusy('send');
    const created = await callApi('/campaigns', {
      method: 'POST',
      body: {
        key: draft.key,
        segment: draft.segment,
        templates: draft.ab ? [draft.templateA, draft.templateB] : [draft.templateA],
        channels: draft.channels,
        holdoutShare: draft.holdoutPct / 100,
        ...(draft.name.trim() ? { name: draft.name.trim() } : {}),
        ...(draft.ab ? { split: draft.splitPct / 100 } : {}),
      },
    });
    if (!created.ok) {
      setBusy(null);
      setRefusal(created.refusal);
      return;
    }
    const sent = await callApi<SendSummary>(`/campaigns/${encodeURIComponent(draft.key)}/send`, {
      method: 'POST',
      body: at ? { at } : {},
    });
    setBusy(null);
    if (!sent.ok) {
      setRefusal(sent.refusal);
      return;
    }
    const s = sent.data;
    setDone(
      i18n.t('composeSent', {
        key: s.key,
        entered: i18n.number(s.entered),
        treated: i18n.number(s.treatment),
        control: i18n.number(s.control),
      }),
    );
    setAudience(null);
    onDone();
  };

  const templateSelect = (field: 'templateA' | 'templateB', label: string) => (
    <label className="field" htmlFor={`${id}-${field}`}>
      <span>{label}</span>
      <select
        id={`${id}-${field}`}
        value={draft[field]}
        onChange={(e) => set(field, e.target.value)}
        data-testid={`compose-${field}`}
      >
        {templates.map((t) => (
          <option key={t.key} value={t.key}>
            {templateLabel(i18n, t)}
          </option>
        ))}
      </select>
      <button
        type="button"
        className="button small"
        onClick={() => setPreview(preview === draft[field] ? null : draft[field])}
        data-testid={`compose-preview-${field}`}
      >
        {preview === draft[field] ? i18n.t('composeHidePreview') : i18n.t('composeShowPreview')}
      </button>
    </label>
  );

  const reach = audience?.data.reachable ?? 0;
  const zone = zoneLabel(-new Date().getTimezoneOffset());
  return (
    // Not a <form>: the template preview inside it is one.
    <div className="compose-form" data-testid="campaign-composer">
      <div className="compose-grid">
        <label className="field" htmlFor={`${id}-key`}>
          <span>{i18n.t('composeKey')}</span>
          <input
            id={`${id}-key`}
            value={draft.key}
            onChange={(e) => set('key', e.target.value.toLowerCase())}
            pattern="[a-z0-9][a-z0-9_\-]*"
            maxLength={64}
            required
            autoCapitalize="off"
            autoComplete="off"
            translate="no"
            data-testid="compose-key"
          />
        </label>
        <label className="field" htmlFor={`${id}-name`}>
          <span>{i18n.t('composeName')}</span>
          <input
            id={`${id}-name`}
            value={draft.name}
            maxLength={200}
            onChange={(e) => set('name', e.target.value)}
            data-testid="compose-name"
          />
        </label>
        <label className="field" htmlFor={`${id}-segment`}>
          <span>{i18n.t('composeSegment')}</span>
          <select
            id={`${id}-segment`}
            value={draft.segment}
            onChange={(e) => set('segment', e.target.value)}
            data-testid="compose-segment"
          >
            {segments.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <fieldset className="field compose-channels">
          <legend>{i18n.t('composeChannels')}</legend>
          {CHANNELS.map((c) => (
            <label key={c} className="field inline">
              <input
                type="checkbox"
                checked={draft.channels.includes(c)}
                onChange={(e) =>
                  set(
                    'channels',
                    e.target.checked
                      ? CHANNELS.filter((x) => x === c || draft.channels.includes(x))
                      : draft.channels.filter((x) => x !== c),
                  )
                }
                data-testid={`compose-channel-${c}`}
              />
              <span>{channelName(i18n, c)}</span>
            </label>
          ))}
        </fieldset>
        {templateSelect('templateA', draft.ab ? i18n.t('composeTemplateA') : i18n.t('composeTemplate'))}
        <label className="field inline">
          <input
            type="checkbox"
            checked={draft.ab}
            onChange={(e) => set('ab', e.target.checked)}
            data-testid="compose-ab"
          />
          <span>{i18n.t('composeAb')}</span>
        </label>
        {draft.ab && templateSelect('templateB', i18n.t('composeTemplateB'))}
        {draft.ab && (
          <label className="field" htmlFor={`${id}-split`}>
            <span>{i18n.t('composeSplit')}</span>
            <input
              id={`${id}-split`}
              type="number"
              inputMode="numeric"
              min={1}
              max={99}
              value={draft.splitPct}
              onChange={(e) => set('splitPct', Number(e.target.value))}
              data-testid="compose-split"
            />
          </label>
        )}
        <label className="field" htmlFor={`${id}-holdout`}>
          <span>{i18n.t('composeHoldout')}</span>
          <input
            id={`${id}-holdout`}
            type="number"
            inputMode="decimal"
            min={0}
            max={50}
            step="any"
            value={draft.holdoutPct}
            onChange={(e) => set('holdoutPct', Number(e.target.value))}
            data-testid="compose-holdout"
          />
        </label>
        <fieldset className="field compose-channels">
          <legend>{i18n.t('composeWhen')}</legend>
          <label className="field inline">
            <input
              type="radio"
              name={`${id}-when`}
              checked={draft.when === 'now'}
              onChange={() => set('when', 'now')}
              data-testid="compose-now"
            />
            <span>{i18n.t('composeNow')}</span>
          </label>
          <label className="field inline">
            <input
              type="radio"
              name={`${id}-when`}
              checked={draft.when === 'later'}
              onChange={() => set('when', 'later')}
              data-testid="compose-later"
            />
            <span>{i18n.t('composeLater')}</span>
          </label>
          {draft.when === 'later' && (
            <label className="field" htmlFor={`${id}-at`}>
              <span>{i18n.t('composeAt', { zone })}</span>
              <input
                id={`${id}-at`}
                type="datetime-local"
                value={draft.at}
                onChange={(e) => set('at', e.target.value)}
                data-testid="compose-at"
              />
            </label>
          )}
        </fieldset>
      </div>
      {preview && <TemplatePreview key={preview} templates={templates} fixed={preview} />}
      <div className="compose-actions">
        <button
          type="button"
          className="button"
          onClick={() => void check()}
          disabled={busy !== null || !draft.segment || draft.channels.length === 0}
          data-testid="compose-check"
        >
          {busy === 'check' ? i18n.t('composeChecking') : i18n.t('composeCheck')}
        </button>
      </div>
      {refusal && <RefusalText refusal={refusal} testId="compose-error" />}
      {audience && (
        <div className="compose-audience" data-testid="compose-audience" aria-live="polite">
          <h3>{i18n.t('composeAudience')}</h3>
          <dl className="facts">
            {(
              [
                ['members', 'composeMembers', audience.data.members],
                ['reachable', 'composeReachable', audience.data.reachable],
                ['no-consent', 'composeExcludedConsent', audience.data.excluded.no_consent],
                ['suppressed', 'composeExcludedSuppressed', audience.data.excluded.suppressed],
                ['no-address', 'composeExcludedAddress', audience.data.excluded.no_address],
                ...(audience.data.heldOut !== null
                  ? [['held-out', 'composeHeldOutCount', audience.data.heldOut] as const]
                  : []),
              ] as const
            ).map(([testId, label, n]) => (
              <div key={testId}>
                <dt>{i18n.t(label)}</dt>
                <dd data-testid={`compose-audience-${testId}`}>{i18n.number(n)}</dd>
              </div>
            ))}
          </dl>
          {reach === 0 && <p className="compose-note">{i18n.t('composeEmptyAudience')}</p>}
          {!fresh && <p className="compose-note">{i18n.t('composeChanged')}</p>}
          <button
            type="button"
            className="button primary"
            disabled={!fresh || busy !== null || !draft.key}
            onClick={() => void send()}
            data-testid="compose-send"
          >
            {busy === 'send'
              ? i18n.t('composeSending')
              : i18n.t(draft.when === 'now' ? 'composeConfirm' : 'composeConfirmLater', {
                  n: i18n.number(audience.data.members),
                })}
          </button>
        </div>
      )}
      {done && (
        <p className="compose-note" role="status" data-testid="compose-done">
          {done}
        </p>
      )}
    </div>
  );
}

/** The Campaigns tab: every campaign with the customers it entered, and the composer (write sessions). */
export function CampaignsPanel({ canWrite }: { canWrite: boolean }) {
  const i18n = useI18n();
  const [list, retryList] = useApi<{ campaigns: CampaignRow[] }>('/campaigns/sends');
  const [segments, retrySegments] = useApi<{ segments: { name: string }[] }>('/segments/saved');
  const [templates, retryTemplates] = useApi<{ templates: TemplateItem[] }>('/templates');
  const [listKey, setListKey] = useState(0);
  return (
    <>
      <Card title={i18n.t('campaignsTitle')}>
        <p className="muted">{i18n.t('campaignsLead')}</p>
        <Async state={list} retry={retryList}>
          {({ campaigns }) => <CampaignList key={listKey} rows={campaigns} />}
        </Async>
      </Card>
      {canWrite && (
        <Card title={i18n.t('composeTitle')}>
          <Async state={segments} retry={retrySegments}>
            {(s) =>
              s.segments.length === 0 ? (
                <p className="muted">{i18n.t('composeNoSegments')}</p>
              ) : (
                <Async state={templates} retry={retryTemplates}>
                  {(t) => (
                    <Composer
                      segments={s.segments.map((x) => x.name)}
                      templates={t.templates}
                      onDone={() => {
                        setListKey((n) => n + 1);
                        retryList();
                      }}
                    />
                  )}
                </Async>
              )
            }
          </Async>
        </Card>
      )}
    </>
  );
}
