import { useId, useState } from 'react';
import type { OutreachFilter, OutreachTask } from '../../../src/campaigns/outreach.queries.js';
import { useApi } from '../api.js';
import { callApi, type Refusal } from '../compose-api.js';
import { currencyDigits, type I18n, type MessageKey, useI18n } from '../i18n.js';
import { Async, Card, Empty } from '../ui.js';
import './outreach.css';

/** One task of `GET /api/v1/outreach`: the server's own type. */
type OutreachTaskItem = OutreachTask;

type Filter = OutreachFilter;
const FILTERS: ReadonlyArray<{ filter: Filter; label: MessageKey }> = [
  { filter: 'open', label: 'outreachOpen' },
  { filter: 'done', label: 'outreachDone' },
  { filter: 'all', label: 'outreachAll' },
];

function money(i18n: I18n, minor: number, currency: string): string {
  return i18n.money(minor / 10 ** currencyDigits(currency), currency);
}

/**
 * The staff outreach queue (`#/flows/outreach`): the tasks flows made for a person, oldest first, with
 * the customer (linking to their 360 page), why, the flow and step, when, and the customer's orders,
 * spend, predicted value and last order; a filter open / done / all; with write access, "Mark done" with
 * an optional note posts `POST /api/v1/outreach/:id/done` and reloads the list.
 */
export function OutreachPanel({ canWrite }: { canWrite: boolean }) {
  const i18n = useI18n();
  const [filter, setFilter] = useState<Filter>('open');
  const [state, reload] = useApi<{ status: Filter; tasks: OutreachTaskItem[] }>(`/outreach?status=${filter}`);
  return (
    <Card
      actions={
        <fieldset className="outreach-filter" data-testid="outreach-filter">
          <legend className="sr-only">{i18n.t('outreachFilter')}</legend>
          {FILTERS.map((f) => (
            <button
              key={f.filter}
              type="button"
              className={f.filter === filter ? 'button small primary' : 'button small'}
              aria-pressed={f.filter === filter}
              onClick={() => setFilter(f.filter)}
              data-testid={`outreach-filter-${f.filter}`}
            >
              {i18n.t(f.label)}
            </button>
          ))}
        </fieldset>
      }
    >
      <p className="muted">{i18n.t('outreachLead')}</p>
      {!canWrite && <p className="muted">{i18n.t('outreachReadOnly')}</p>}
      <Async state={state} retry={reload}>
        {({ tasks }) =>
          tasks.length === 0 ? (
            <Empty
              title={i18n.t(
                filter === 'open' ? 'outreachNoneOpen' : filter === 'done' ? 'outreachNoneDone' : 'outreachNone',
              )}
              hint={i18n.t(filter === 'open' ? 'outreachNoneOpenHint' : 'outreachNoneHint')}
            />
          ) : (
            <>
              <p className="muted" data-testid="outreach-count">
                {i18n.count(tasks.length, 'outreachCountOne', 'outreachCount')}
              </p>
              <ul className="outreach-list" data-testid="outreach-list">
                {tasks.map((task) => (
                  <OutreachTaskCard key={task.id} task={task} canWrite={canWrite} onDone={reload} />
                ))}
              </ul>
            </>
          )
        }
      </Async>
    </Card>
  );
}

function OutreachTaskCard({
  task,
  canWrite,
  onDone,
}: {
  task: OutreachTaskItem;
  canWrite: boolean;
  onDone: () => void;
}) {
  const i18n = useI18n();
  const id = useId();
  const [open, setOpen] = useState(false);
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [refusal, setRefusal] = useState<Refusal | null>(null);
  const { customer, value, lastOrder, done } = task;
  const name = customer.name ?? customer.email ?? i18n.t('outreachUnnamed', { id: customer.id });

  const submit = async () => {
    setBusy(true);
    setRefusal(null);
    const answer = await callApi(`/outreach/${task.id}/done`, {
      method: 'POST',
      body: note.trim() ? { note: note.trim() } : {},
    });
    setBusy(false);
    if (!answer.ok) {
      setRefusal(answer.refusal);
      return;
    }
    setOpen(false);
    setNote('');
    onDone();
  };

  const facts: Array<[MessageKey, string, string]> = [
    ['outreachWhy', task.why || '—', 'why'],
    ['outreachFlow', `${task.flow.name || task.flow.key}${task.stepId ? ` · ${task.stepId}` : ''}`, 'flow'],
    ['outreachCreated', i18n.date(task.createdAt), 'created'],
    ['outreachOrders', i18n.number(value.orders), 'orders'],
    [
      'outreachSpent',
      value.spent.length
        ? value.spent.map((s) => money(i18n, s.minor, s.currency)).join(' + ')
        : i18n.t('outreachNoOrder'),
      'spent',
    ],
    ['outreachClv', value.clv ? i18n.money(value.clv.value, value.clv.currency) : i18n.t('outreachNoClv'), 'clv'],
    [
      'outreachLastOrder',
      lastOrder
        ? `${i18n.date(lastOrder.at)} · ${money(i18n, lastOrder.totalMinor, lastOrder.currency)}`
        : i18n.t('outreachNoOrder'),
      'last-order',
    ],
  ];
  return (
    <li className="outreach-task" data-testid={`outreach-task-${task.id}`} data-customer={customer.id}>
      <div className="outreach-who">
        <a href={`#/customers/${customer.id}`} data-testid="outreach-customer">
          {name}
        </a>
        {customer.name && customer.email && <span className="muted"> · {customer.email}</span>}
        {customer.phone && (
          <span className="muted">
            {' · '}
            <a href={`tel:${customer.phone}`}>{customer.phone}</a>
          </span>
        )}
      </div>
      <dl className="outreach-facts">
        {facts.map(([label, text, key]) => (
          <div key={key}>
            <dt>{i18n.t(label)}</dt>
            <dd data-testid={`outreach-${key}`}>{text}</dd>
          </div>
        ))}
      </dl>
      {done ? (
        <div className="outreach-done" data-testid="outreach-done">
          <p>
            <span aria-hidden="true">✓ </span>
            {i18n.t('outreachDoneBy', { by: done.by, at: i18n.date(done.at) })}
          </p>
          {done.note && (
            <p>
              <strong>{i18n.t('outreachDoneNote')}:</strong>{' '}
              <span className="outreach-note-text" data-testid="outreach-done-note">
                {done.note}
              </span>
            </p>
          )}
        </div>
      ) : canWrite && !open ? (
        <button type="button" className="button primary" onClick={() => setOpen(true)} data-testid="outreach-mark-done">
          {i18n.t('outreachMarkDone')}
        </button>
      ) : canWrite ? (
        <form
          className="outreach-form"
          onSubmit={(e) => {
            e.preventDefault();
            void submit();
          }}
        >
          <label className="field" htmlFor={`${id}-note`}>
            <span>{i18n.t('outreachNote')}</span>
            <textarea
              id={`${id}-note`}
              value={note}
              maxLength={2000}
              rows={3}
              placeholder={i18n.t('outreachNotePlaceholder')}
              onChange={(e) => setNote(e.target.value)}
              data-testid="outreach-note"
            />
          </label>
          {refusal && (
            <p className="compose-error" role="alert" data-testid="outreach-error">
              {refusal.field ? `${i18n.t('errorField', { field: refusal.field })} — ` : ''}
              {refusal.message}
            </p>
          )}
          <div className="outreach-actions">
            <button type="submit" className="button primary" disabled={busy} data-testid="outreach-save">
              {busy ? i18n.t('outreachSaving') : i18n.t('outreachSave')}
            </button>
            <button type="button" className="button" disabled={busy} onClick={() => setOpen(false)}>
              {i18n.t('outreachCancel')}
            </button>
          </div>
        </form>
      ) : null}
    </li>
  );
}
