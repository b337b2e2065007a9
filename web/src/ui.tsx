import { type ReactNode, useEffect, useId, useRef, useState } from 'react';
import type { Loaded } from './api.js';
import { useI18n } from './i18n.js';

/** A titled panel. */
export function Card({
  title,
  children,
  actions,
  wide,
}: {
  title?: string;
  children: ReactNode;
  actions?: ReactNode;
  wide?: boolean;
}) {
  return (
    <section className={wide ? 'card wide' : 'card'}>
      {(title || actions) && (
        <header className="card-head">
          {title && <h2>{title}</h2>}
          {actions}
        </header>
      )}
      {children}
    </section>
  );
}

/** Grey placeholder blocks shown while a page loads. */
export function Skeleton({ rows = 3 }: { rows?: number }) {
  const { t } = useI18n();
  return (
    <div className="skeleton" aria-busy="true" aria-live="polite">
      <span className="sr-only">{t('loading')}</span>
      <div className="skeleton-kpis">
        {[0, 1, 2, 3].map((i) => (
          <div key={i} className="skeleton-block short" />
        ))}
      </div>
      {Array.from({ length: rows }, (_, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: placeholders have no identity.
        <div key={i} className="skeleton-block" />
      ))}
    </div>
  );
}

/** What a page shows when there is nothing to show yet. */
/** An empty state: `title` (default "no data") and `hint` (default: import orders); `hint={null}` shows none. */
export function Empty({ title, hint }: { title?: string; hint?: string | null }) {
  const { t } = useI18n();
  return (
    <div className="empty" data-testid="empty">
      <svg viewBox="0 0 48 48" width="48" height="48" aria-hidden="true">
        <rect x="6" y="26" width="8" height="14" rx="2" fill="#d5dcea" />
        <rect x="20" y="16" width="8" height="24" rx="2" fill="#c3cde2" />
        <rect x="34" y="8" width="8" height="32" rx="2" fill="#aebbd7" />
      </svg>
      <p className="empty-title">{title ?? t('noData')}</p>
      {hint !== null && <p className="muted">{hint ?? t('noDataHint')}</p>}
    </div>
  );
}

/** Renders a request: a skeleton while loading, an error with a retry, or the data. */
export function Async<T>({
  state,
  retry,
  children,
}: {
  state: Loaded<T>;
  retry: () => void;
  children: (data: T) => ReactNode;
}) {
  const { t } = useI18n();
  if (state.status === 'loading') return <Skeleton />;
  if (state.status === 'error') {
    return (
      <div className="error" role="alert">
        <p className="empty-title">{t('error')}</p>
        <p className="muted">{state.error.message}</p>
        <button type="button" className="button" onClick={retry}>
          {t('retry')}
        </button>
      </div>
    );
  }
  return <>{children(state.data)}</>;
}

/** A headline figure with its change against the previous period. */
export function Kpi({
  id,
  label,
  value,
  change,
  good = 'up',
}: {
  id: string;
  label: string;
  value: string;
  change?: { text: string; direction: 'up' | 'down' | 'flat' } | null;
  good?: 'up' | 'down';
}) {
  const tone = !change || change.direction === 'flat' ? 'flat' : change.direction === good ? 'good' : 'bad';
  return (
    <div className="kpi" data-testid={`kpi-${id}`}>
      <div className="kpi-label">{label}</div>
      <div className="kpi-value" data-testid={`kpi-${id}-value`}>
        {value}
      </div>
      {change && (
        <div className={`kpi-change ${tone}`}>
          <span aria-hidden="true">{change.direction === 'up' ? '▲' : change.direction === 'down' ? '▼' : '■'}</span>{' '}
          {change.text}
        </div>
      )}
    </div>
  );
}

/** A page title with an optional lead line. */
export function PageHead({ title, lead, children }: { title: string; lead?: string; children?: ReactNode }) {
  return (
    <div className="page-head">
      <div>
        <h1>{title}</h1>
        {lead && <p className="muted">{lead}</p>}
      </div>
      {children}
    </div>
  );
}

/**
 * A box a wide table scrolls sideways in. When the table is wider than the screen, a shadow on the
 * edge that hides columns and a line under the table say so (a phone shows no scroll bar until touched).
 */
export function TableScroll({ children }: { children: ReactNode }) {
  const { t } = useI18n();
  const hintId = useId();
  const ref = useRef<HTMLDivElement>(null);
  const [view, setView] = useState({ overflows: false, atStart: true, atEnd: true });
  useEffect(() => {
    const box = ref.current;
    if (!box) return;
    const update = () => {
      const overflows = box.scrollWidth > box.clientWidth + 1;
      const atStart = box.scrollLeft <= 1;
      const atEnd = box.scrollLeft + box.clientWidth >= box.scrollWidth - 1;
      setView((old) =>
        old.overflows === overflows && old.atStart === atStart && old.atEnd === atEnd
          ? old
          : { overflows, atStart, atEnd },
      );
    };
    update();
    const observer = new ResizeObserver(update);
    observer.observe(box);
    if (box.firstElementChild) observer.observe(box.firstElementChild);
    box.addEventListener('scroll', update, { passive: true });
    return () => {
      observer.disconnect();
      box.removeEventListener('scroll', update);
    };
  }, []);
  const classes = ['table-scroll-wrap'];
  if (view.overflows) classes.push('overflows');
  if (view.overflows && !view.atStart) classes.push('shadow-start');
  if (view.overflows && !view.atEnd) classes.push('shadow-end');
  return (
    <div className={classes.join(' ')}>
      <div
        className="table-scroll"
        ref={ref}
        // A box that scrolls must be reachable by keyboard to be scrolled without a pointer.
        tabIndex={view.overflows ? 0 : undefined}
        aria-describedby={view.overflows ? hintId : undefined}
      >
        {children}
      </div>
      {view.overflows && (
        <p className="scroll-hint" id={hintId} data-testid="scroll-hint">
          {t('scrollHint')} <span aria-hidden="true">→</span>
        </p>
      )}
    </div>
  );
}
