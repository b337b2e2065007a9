import { useEffect, useId, useState } from 'react';
import type { FlowDefinition } from '../../../src/campaigns/flow.js';
import type { FlowSummary, SavedFlow } from '../../../src/campaigns/flows.queries.js';
import { useApi } from '../api.js';
import { callApi, type Refusal } from '../compose-api.js';
import { type I18n, useI18n } from '../i18n.js';
import { flowName } from '../i18n-korean.js';
import { Async, Card, Empty } from '../ui.js';
import { channelName, RefusalText } from './template-preview.js';

/** A flow as `GET /api/v1/flows` lists it. */
type FlowListItem = FlowSummary;

/** A flow definition as the server stores it (the TypeBox schema of src/campaigns/flow.ts). */
type FlowDocument = FlowDefinition;
type Step = FlowDocument['steps'][number];
type Duration = Extract<Step, { type: 'wait' }>['for'];
type Condition = Extract<Step, { type: 'branch' }>['cases'][number]['when'];

/** `GET /api/v1/flows/:key`. */
type FlowDetail = SavedFlow;

function duration(i18n: I18n, d: Duration): string {
  const parts = [
    d.days ? i18n.t('durationDays', { n: d.days }) : '',
    d.hours ? i18n.t('durationHours', { n: d.hours }) : '',
    d.minutes ? i18n.t('durationMinutes', { n: d.minutes }) : '',
  ].filter(Boolean);
  return parts.length > 0 ? parts.join(' ') : i18n.t('durationMinutes', { n: 0 });
}

function list(values: readonly unknown[] | undefined): string {
  return (values ?? []).map(String).join(', ');
}

function condition(c: Condition): string {
  if (c.eq !== undefined) return `${c.fact} = ${String(c.eq)}`;
  if (c.in !== undefined) return `${c.fact} ∈ {${list(c.in)}}`;
  const bounds = [c.gte !== undefined ? `≥ ${c.gte}` : '', c.lt !== undefined ? `< ${c.lt}` : ''].filter(Boolean);
  if (bounds.length > 0) return `${c.fact} ${bounds.join(', ')}`;
  if (c.exists !== undefined) return `${c.fact} ${c.exists ? '✓' : '✗'}`;
  return c.fact;
}

function triggerText(i18n: I18n, t: FlowDocument['trigger']): string {
  switch (t.type) {
    case 'segment_entered':
      return i18n.t('triggerSegment', { segments: list(t.segments as string[]) });
    case 'event':
      return i18n.t('triggerEvent', { events: list(t.events as string[]) });
    case 'order':
      return typeof t.nth === 'number' ? i18n.t('triggerOrderNth', { n: t.nth }) : i18n.t('triggerOrder');
    case 'date':
      return i18n.t('triggerBirthday', { days: typeof t.daysBefore === 'number' ? t.daysBefore : 0 });
    case 'points_expiring':
      return i18n.t('triggerPoints', { days: String(t.daysBefore) });
    case 'tier_reached':
      return i18n.t('triggerTier');
    case 'subscribed':
      return i18n.t('triggerSubscribed');
    case 'campaign':
      return i18n.t('triggerCampaign', { segment: String(t.segment) });
    default:
      return i18n.t('triggerOther', { type: t.type });
  }
}

function exitText(i18n: I18n, e: FlowDocument['exitWhen'][number]): string {
  switch (e.type) {
    case 'ordered':
      return i18n.t('exitOrdered');
    case 'unsubscribed':
      return i18n.t('exitUnsubscribed');
    case 'left_segment':
      return i18n.t('exitLeftSegment', { segments: list(e.segments) });
    case 'event':
      return i18n.t('exitEvent', { events: list(e.events) });
    default:
      // A kind added on the server before the dashboard knows it.
      return (e as { type: string }).type;
  }
}

function stepText(i18n: I18n, s: Step): string[] {
  switch (s.type) {
    case 'wait':
      return [
        s.atLocalTime
          ? i18n.t('stepWaitAt', { duration: duration(i18n, s.for), time: s.atLocalTime })
          : i18n.t('stepWait', { duration: duration(i18n, s.for) }),
        i18n.t('stepNext', { next: s.next }),
      ];
    case 'send': {
      const send = i18n.t('stepSend', {
        template: s.template,
        channels: s.channels.map((c) => channelName(i18n, c)).join(' / '),
        purpose: i18n.t(s.purpose === 'marketing' ? 'purposeMarketing' : 'purposeTransactional'),
      });
      const offer = s.offer
        ? i18n.t('stepOffer', {
            offer: [s.offer.type, s.offer.percent ? `${s.offer.percent} %` : '', s.offer.amountMinor ?? '']
              .filter((x) => x !== '')
              .join(' '),
          })
        : '';
      return [offer ? `${send}, ${offer}` : send, ...(s.next ? [i18n.t('stepNext', { next: s.next })] : [])];
    }
    case 'branch':
      return [
        i18n.t('stepBranch'),
        ...s.cases.map((c) => i18n.t('stepBranchCase', { condition: condition(c.when), next: c.next })),
        i18n.t('stepBranchDefault', { next: s.default }),
      ];
    case 'outreach':
      return [i18n.t('stepOutreach', { note: s.note }), ...(s.next ? [i18n.t('stepNext', { next: s.next })] : [])];
    case 'exit':
      return [i18n.t('stepExit')];
  }
}

/** A flow definition as a person reads it: trigger, exits, steps in order, hold-out and re-entry. */
export function FlowSteps({ flow }: { flow: FlowDocument }) {
  const i18n = useI18n();
  return (
    <div className="flow-doc" data-testid="flow-doc">
      <dl className="facts">
        <div>
          <dt>{i18n.t('editTrigger')}</dt>
          <dd data-testid="flow-doc-trigger">{triggerText(i18n, flow.trigger)}</dd>
        </div>
        <div>
          <dt>{i18n.t('editExits')}</dt>
          <dd>
            {flow.exitWhen.length === 0
              ? i18n.t('editNoExits')
              : flow.exitWhen.map((e) => exitText(i18n, e)).join('; ')}
          </dd>
        </div>
      </dl>
      <h3>{i18n.t('editSteps')}</h3>
      <ol className="flow-steps" data-testid="flow-doc-steps">
        {flow.steps.map((s) => (
          <li key={s.id} data-testid={`flow-doc-step-${s.id}`}>
            <code translate="no">{s.id}</code>
            {stepText(i18n, s).map((line) => (
              <div key={line}>{line}</div>
            ))}
          </li>
        ))}
      </ol>
      <p className="muted">
        {i18n.t('editHoldout', { share: i18n.percent(flow.holdoutShare, 0) })} ·{' '}
        {i18n.t('editAttribution', { days: flow.attributionDays })} ·{' '}
        {flow.reentry.type === 'never'
          ? i18n.t('editReentryNever')
          : i18n.t('editReentryAfter', { days: flow.reentry.days })}
      </p>
    </div>
  );
}

function Editor({ flowKey, canWrite }: { flowKey: string; canWrite: boolean }) {
  const i18n = useI18n();
  const id = useId();
  const [state, reload] = useApi<FlowDetail>(`/flows/${encodeURIComponent(flowKey)}`);
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [refusal, setRefusal] = useState<Refusal | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const original = state.status === 'ok' ? JSON.stringify(state.data.definition, null, 2) : '';
  useEffect(() => {
    setText(original);
  }, [original]);

  const toggle = async (flow: FlowDetail) => {
    setBusy(true);
    setRefusal(null);
    const answer = await callApi(`/flows/${encodeURIComponent(flow.key)}/${flow.enabled ? 'disable' : 'enable'}`, {
      method: 'POST',
    });
    setBusy(false);
    if (!answer.ok) setRefusal(answer.refusal);
    reload();
  };

  const save = async () => {
    setNotice(null);
    setRefusal(null);
    let document: unknown;
    try {
      document = JSON.parse(text);
    } catch (error) {
      setRefusal({
        status: 400,
        message: i18n.t('editNotJson', { message: error instanceof Error ? error.message : String(error) }),
        field: null,
      });
      return;
    }
    setBusy(true);
    const answer = await callApi<{ version: number; created: boolean }>(`/flows/${encodeURIComponent(flowKey)}`, {
      method: 'PUT',
      body: document,
    });
    setBusy(false);
    if (!answer.ok) {
      setRefusal(answer.refusal);
      return;
    }
    setNotice(
      answer.data.created
        ? i18n.t('editSaved', { n: answer.data.version })
        : i18n.t('editUnchanged', { n: answer.data.version }),
    );
    reload();
  };

  return (
    <Async state={state} retry={reload}>
      {(flow) => (
        <div data-testid="flow-editor" data-flow={flow.key}>
          <p className="flow-editor-head">
            <strong>{flowName(i18n.lang, flow.key, flow.name)}</strong>{' '}
            <span className="muted" data-testid="flow-editor-version">
              {i18n.t('editVersion', { n: flow.version })}
            </span>
            {canWrite ? (
              <label className="flow-switch">
                <input
                  type="checkbox"
                  role="switch"
                  aria-checked={flow.enabled}
                  checked={flow.enabled}
                  disabled={busy}
                  onChange={() => void toggle(flow)}
                  data-testid="flow-editor-toggle"
                />
                <span>{i18n.t(flow.enabled ? 'flowOn' : 'flowOff')}</span>
              </label>
            ) : (
              <span className="flow-switch">{i18n.t(flow.enabled ? 'flowOn' : 'flowOff')}</span>
            )}
          </p>
          <FlowSteps flow={flow.definition} />
          <label className="field" htmlFor={`${id}-json`}>
            <span>{i18n.t('editJson')}</span>
            <textarea
              id={`${id}-json`}
              className="flow-json"
              value={text}
              onChange={(e) => setText(e.target.value)}
              spellCheck={false}
              autoCapitalize="off"
              autoCorrect="off"
              readOnly={!canWrite}
              rows={18}
              aria-invalid={refusal !== null}
              aria-describedby={`${id}-hint ${id}-error`}
              data-testid="flow-json"
            />
            <small className="muted" id={`${id}-hint`}>
              {canWrite ? i18n.t('editJsonHint') : i18n.t('editReadOnly')}
            </small>
          </label>
          <div id={`${id}-error`}>{refusal && <RefusalText refusal={refusal} testId="flow-edit-error" />}</div>
          {notice && (
            <p className="compose-note" role="status" data-testid="flow-edit-notice">
              {notice}
            </p>
          )}
          {canWrite && (
            <div className="compose-actions">
              <button
                type="button"
                className="button primary"
                disabled={busy}
                onClick={() => void save()}
                data-testid="flow-save"
              >
                {busy ? i18n.t('editSaving') : i18n.t('editSave')}
              </button>
              <button
                type="button"
                className="button"
                disabled={busy || text === original}
                onClick={() => {
                  setText(original);
                  setRefusal(null);
                }}
              >
                {i18n.t('editReset')}
              </button>
            </div>
          )}
        </div>
      )}
    </Async>
  );
}

/** The flow editor: pick a flow, read it as steps, switch it on or off, edit its JSON and save a new version. */
export function FlowEditor({ canWrite }: { canWrite: boolean }) {
  const i18n = useI18n();
  const id = useId();
  const [state, retry] = useApi<{ flows: FlowListItem[] }>('/flows');
  const [chosen, setChosen] = useState<string | null>(null);
  return (
    <Card title={i18n.t('editTitle')}>
      <p className="muted">{i18n.t('editLead')}</p>
      <Async state={state} retry={retry}>
        {({ flows }) => {
          const editable = flows.filter((f) => f.kind === 'flow');
          if (editable.length === 0) return <Empty />;
          const current = chosen ?? editable[0]!.key;
          return (
            <>
              <label className="field" htmlFor={`${id}-flow`}>
                <span>{i18n.t('editFlow')}</span>
                <select
                  id={`${id}-flow`}
                  value={current}
                  onChange={(e) => setChosen(e.target.value)}
                  data-testid="flow-edit-choose"
                >
                  {editable.map((f) => (
                    <option key={f.key} value={f.key}>
                      {flowName(i18n.lang, f.key, f.name)} ({f.key}, {i18n.t('editVersion', { n: f.version })})
                    </option>
                  ))}
                </select>
              </label>
              <Editor key={current} flowKey={current} canWrite={canWrite} />
            </>
          );
        }}
      </Async>
    </Card>
  );
}
