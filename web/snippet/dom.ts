/** A child of `h`: text becomes a text node (never parsed as markup), null and false are skipped. */
export type Child = Node | string | number | null | undefined | false;

/**
 * Creates an element with attributes and children without ever parsing markup: every string is a text
 * node or an attribute value, so data from the API cannot inject HTML. `on*` keys add listeners.
 */
export function h(
  tag: string,
  attrs: Record<string, string | number | boolean | EventListener | undefined> = {},
  ...children: Child[]
): HTMLElement {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') el.addEventListener(name.slice(2).toLowerCase(), value);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === 'object' ? child : String(child));
  }
  return el;
}

/** A link target only when it is http(s) (a `javascript:` URL from data would run in the store's page). */
export function safeUrl(url: string | null | undefined): string | undefined {
  if (!url) return undefined;
  try {
    const parsed = new URL(url, location.href);
    return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.href : undefined;
  } catch {
    return undefined;
  }
}

const FOCUSABLE =
  'a[href],button:not([disabled]),input:not([disabled]),select,textarea,[tabindex]:not([tabindex="-1"])';

/**
 * Shows `panel` as a modal dialog: focus moves into it, Tab and Shift+Tab stay inside, Escape or
 * `close()` removes it and gives focus back to where it was.
 */
export function openDialog(panel: HTMLElement, onClose: () => void = () => {}): { close: () => void } {
  const previous = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  const backdrop = h('div', { class: 'cb-backdrop' }, panel);
  const close = () => {
    backdrop.remove();
    document.removeEventListener('keydown', onKey, true);
    previous?.focus();
    onClose();
  };
  const onKey = (event: KeyboardEvent) => {
    if (event.key === 'Escape') {
      event.preventDefault();
      close();
    } else if (event.key === 'Tab') {
      const items = [...panel.querySelectorAll<HTMLElement>(FOCUSABLE)];
      const first = items[0];
      const last = items[items.length - 1];
      if (!first || !last) return;
      if (event.shiftKey && document.activeElement === first) {
        event.preventDefault();
        last.focus();
      } else if (!event.shiftKey && document.activeElement === last) {
        event.preventDefault();
        first.focus();
      }
    }
  };
  backdrop.addEventListener('click', (event) => {
    if (event.target === backdrop) close();
  });
  document.addEventListener('keydown', onKey, true);
  document.body.append(backdrop);
  (panel.querySelector<HTMLElement>(FOCUSABLE) ?? panel).focus();
  return { close };
}

/** The snippet's styles, scoped by the `cb-` prefix. */
export const STYLES = `
.cb-launcher{position:fixed;right:16px;bottom:16px;z-index:2147483000;border:0;border-radius:24px;padding:12px 18px;background:#1f3a5f;color:#fff;font:600 15px system-ui,sans-serif;cursor:pointer;box-shadow:0 2px 8px rgba(0,0,0,.25)}
.cb-launcher:focus-visible,.cb-panel button:focus-visible,.cb-panel a:focus-visible{outline:3px solid #f5b400;outline-offset:2px}
.cb-backdrop{position:fixed;inset:0;z-index:2147483001;background:rgba(0,0,0,.4);display:flex;align-items:flex-end;justify-content:flex-end}
.cb-panel{background:#fff;color:#1b1b1b;font:15px/1.45 system-ui,sans-serif;width:min(380px,100vw);max-height:90vh;overflow:auto;padding:20px;margin:16px;border-radius:12px;box-sizing:border-box}
.cb-panel h2{font-size:18px;margin:0 0 8px}.cb-panel h3{font-size:15px;margin:16px 0 6px}
.cb-panel ul{list-style:none;margin:0;padding:0}.cb-panel li{display:flex;justify-content:space-between;gap:8px;align-items:center;padding:6px 0;border-bottom:1px solid #eee}
.cb-panel button{font:inherit;border-radius:6px;border:1px solid #1f3a5f;background:#1f3a5f;color:#fff;padding:6px 12px;cursor:pointer}
.cb-panel button[disabled]{background:#eee;color:#555;border-color:#ccc;cursor:default}
.cb-panel .cb-close{float:right;background:none;color:#1b1b1b;border:0;font-size:20px;padding:0 4px}
.cb-bar{height:8px;background:#eee;border-radius:4px;overflow:hidden;margin:6px 0}.cb-bar>span{display:block;height:100%;background:#2e7d32}
.cb-muted{color:#555;font-size:13px}.cb-code{font:600 16px ui-monospace,monospace;background:#f3f3f3;padding:6px;border-radius:6px;display:block;margin:6px 0}
.cb-recs ul{display:grid;grid-template-columns:repeat(auto-fill,minmax(140px,1fr));gap:12px;list-style:none;padding:0}
.cb-recs img{width:100%;height:auto}
.cb-capture label{display:block;margin:6px 0}
`;
