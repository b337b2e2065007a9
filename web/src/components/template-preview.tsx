import { useId, useState } from 'react';
import type { TemplatePreview as PreviewView, TemplateSummary } from '../../../src/campaigns/preview.queries.js';
import { callApi, type Refusal } from '../compose-api.js';
import { type I18n, type MessageKey, useI18n } from '../i18n.js';

/** A template as `GET /api/v1/templates` lists it. */
export type TemplateItem = TemplateSummary;

const CHANNEL: Record<TemplateItem['channel'], MessageKey> = {
  email: 'channelEmail',
  sms: 'channelSms',
  kakao: 'channelKakao',
  webhook: 'channelWebhook',
};

/** A channel's name in the page's language. */
export function channelName(i18n: I18n, channel: string): string {
  const key = CHANNEL[channel as TemplateItem['channel']];
  return key ? i18n.t(key) : channel;
}

/** "welcome · E-mail · marketing · version 2". */
export function templateLabel(i18n: I18n, t: TemplateItem): string {
  const purpose = i18n.t(t.purpose === 'marketing' ? 'purposeMarketing' : 'purposeTransactional');
  return `${t.key} · ${channelName(i18n, t.channel)} · ${purpose} · ${i18n.t('templateVersion', { n: t.version })}`;
}

/** A refusal as a form shows it: the server's message and the field it named. */
export function RefusalText({ refusal, testId }: { refusal: Refusal; testId: string }) {
  const i18n = useI18n();
  return (
    <div className="compose-error" role="alert" data-testid={testId}>
      <p>{refusal.message}</p>
      {refusal.field && (
        <p className="muted" data-testid={`${testId}-field`}>
          {i18n.t('errorField', { field: refusal.field })}
        </p>
      )}
    </div>
  );
}

function lengthText(i18n: I18n, l: NonNullable<PreviewView['length']>): string {
  const values = {
    chars: i18n.number(l.characters),
    encoding: l.encoding === 'gsm7' ? 'GSM-7' : 'UCS-2',
    segments: i18n.number(l.segments),
    bytes: i18n.number(l.eucKrBytes),
    type: l.koreanType === 'too_long' ? i18n.t('previewTooLong') : l.koreanType,
  };
  return i18n.t(l.segments === 1 ? 'previewLengthOne' : 'previewLength', values);
}

/**
 * Picks a template (or shows the one given) and a customer, and shows what the server renders: the
 * subject, the HTML in a sandboxed frame (no scripts, no same-origin access), the text part, and for
 * text messages their length in characters, SMS parts and EUC-KR bytes.
 */
export function TemplatePreview({ templates, fixed }: { templates: readonly TemplateItem[]; fixed?: string }) {
  const i18n = useI18n();
  const id = useId();
  const [chosen, setChosen] = useState(fixed ?? templates[0]?.key ?? '');
  const [customer, setCustomer] = useState('');
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<PreviewView | null>(null);
  const [refusal, setRefusal] = useState<Refusal | null>(null);
  const key = fixed ?? chosen;

  const run = async () => {
    setBusy(true);
    setRefusal(null);
    const answer = await callApi<PreviewView>(`/templates/${encodeURIComponent(key)}/preview`, {
      method: 'POST',
      body: customer.trim() ? { customer: customer.trim() } : {},
    });
    setBusy(false);
    if (answer.ok) setResult(answer.data);
    else {
      setResult(null);
      setRefusal(answer.refusal);
    }
  };

  if (templates.length === 0) return <p className="muted">{i18n.t('previewNoTemplates')}</p>;
  const who = result?.customer;
  return (
    <div className="template-preview" data-testid="template-preview">
      <form
        className="compose-form"
        onSubmit={(e) => {
          e.preventDefault();
          void run();
        }}
      >
        {fixed === undefined && (
          <label className="field" htmlFor={`${id}-template`}>
            <span>{i18n.t('previewTemplate')}</span>
            <select
              id={`${id}-template`}
              value={chosen}
              onChange={(e) => setChosen(e.target.value)}
              data-testid="preview-template"
            >
              {templates.map((t) => (
                <option key={t.key} value={t.key}>
                  {templateLabel(i18n, t)}
                </option>
              ))}
            </select>
          </label>
        )}
        <label className="field" htmlFor={`${id}-customer`}>
          <span>{i18n.t('previewCustomer')}</span>
          <input
            id={`${id}-customer`}
            value={customer}
            onChange={(e) => setCustomer(e.target.value)}
            placeholder="1234 · ann@example.com · shopify:5678"
            autoComplete="off"
            inputMode="text"
            data-testid="preview-customer"
            aria-describedby={`${id}-hint`}
          />
          <small className="muted" id={`${id}-hint`}>
            {i18n.t('previewCustomerHint')}
          </small>
        </label>
        <div>
          <button type="submit" className="button primary" disabled={busy || !key} data-testid="preview-run">
            {busy ? i18n.t('previewRendering') : i18n.t('previewRun')}
          </button>
        </div>
      </form>
      {refusal && <RefusalText refusal={refusal} testId="preview-error" />}
      {result && who && (
        <div className="preview-result" data-testid="preview-result" aria-live="polite">
          <p className="muted" data-testid="preview-for">
            {who.sample
              ? i18n.t('previewForSample', { name: who.name ?? '' })
              : who.name
                ? i18n.t('previewFor', { name: who.name })
                : i18n.t('previewForUnnamed', { id: who.id ?? '' })}
            {' · '}
            {templateLabel(i18n, result.template)}
          </p>
          {result.advertisement && <p className="compose-note">{i18n.t('previewAd')}</p>}
          {result.subject !== null && (
            <div className="preview-part">
              <h3>{i18n.t('previewSubject')}</h3>
              <p className="preview-subject" data-testid="preview-subject">
                {result.subject}
              </p>
            </div>
          )}
          {result.html !== null && (
            <div className="preview-part">
              <h3>{i18n.t('previewHtml')}</h3>
              <iframe
                className="preview-frame"
                title={i18n.t('previewHtmlFrame')}
                sandbox=""
                referrerPolicy="no-referrer"
                srcDoc={result.html}
                data-testid="preview-html"
              />
            </div>
          )}
          <div className="preview-part">
            <h3>
              {result.template.channel === 'webhook'
                ? i18n.t('previewWebhook')
                : result.html !== null
                  ? i18n.t('previewText')
                  : i18n.t('previewMessage')}
            </h3>
            <pre className="preview-text" data-testid="preview-text">
              {result.text}
            </pre>
            {result.length && (
              <p className="muted" data-testid="preview-length">
                {lengthText(i18n, result.length)}
              </p>
            )}
          </div>
        </div>
      )}
    </div>
  );
}
