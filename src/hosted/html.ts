/**
 * Server-rendered pages customers open from a link: phone first, English and Korean, every value
 * escaped, no scripts (the server's CSP allows none inline), forms that POST back to the same URL.
 */

/** The languages of the customer's pages. */
export type PageLang = 'en' | 'ko';

/** Escapes text for HTML content and double- or single-quoted attributes. */
export function escapeHtml(value: string | number): string {
  return String(value).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

/** A tagged template that escapes every interpolated value except `Raw` fragments. */
export class Raw {
  constructor(readonly html: string) {}
}

/** Builds HTML from a template, escaping each value (arrays are joined; `Raw` is kept as is). */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Raw {
  let out = strings[0]!;
  values.forEach((v, i) => {
    out += render(v) + strings[i + 1]!;
  });
  return new Raw(out);
}

function render(v: unknown): string {
  if (v instanceof Raw) return v.html;
  if (Array.isArray(v)) return v.map(render).join('');
  if (v === null || v === undefined || v === false) return '';
  return escapeHtml(String(v));
}

/** The page's language: `?lang=ko|en` first, then the first language of `Accept-Language`. */
export function pageLang(query: string | undefined, accept: string | undefined): PageLang {
  if (query === 'ko' || query === 'en') return query;
  return /^\s*ko\b/i.test(accept ?? '') ? 'ko' : 'en';
}

const STYLE = `*{box-sizing:border-box}body{font-family:system-ui,-apple-system,"Apple SD Gothic Neo","Noto Sans KR",sans-serif;margin:0;padding:1rem;line-height:1.5;color:#18181b;background:#fafafa}
main{max-width:32rem;margin:0 auto;background:#fff;border-radius:.75rem;padding:1.25rem;box-shadow:0 1px 3px rgba(0,0,0,.08)}
h1{font-size:1.35rem;margin:.25rem 0 1rem}h2{font-size:1.05rem;margin:1.25rem 0 .5rem}fieldset{border:0;padding:0;margin:0 0 1.25rem}legend{font-weight:600;margin-bottom:.5rem}
.scale{display:flex;flex-wrap:wrap;gap:.35rem}.scale label{flex:1 0 2.6rem;text-align:center}.scale input{position:absolute;opacity:0}
.scale span{display:block;min-height:44px;line-height:44px;border:1px solid #d4d4d8;border-radius:.5rem}.scale input:checked+span{background:#18181b;color:#fff;border-color:#18181b}
.scale input:focus-visible+span{outline:2px solid #2563eb;outline-offset:2px}.ends{display:flex;justify-content:space-between;font-size:.8rem;color:#71717a}
.choice label{display:flex;gap:.6rem;align-items:center;min-height:44px;padding:.25rem .5rem;border:1px solid #e4e4e7;border-radius:.5rem;margin-bottom:.4rem}
textarea{width:100%;min-height:6rem;font:inherit;padding:.5rem;border:1px solid #d4d4d8;border-radius:.5rem}
button{font:inherit;font-size:1rem;width:100%;min-height:48px;padding:.75rem 1.25rem;border-radius:.5rem;border:0;background:#18181b;color:#fff;cursor:pointer}
button.secondary{background:#fff;color:#18181b;border:1px solid #d4d4d8;margin-top:.5rem}.error{color:#b91c1c}.ok{color:#15803d}
table{width:100%;border-collapse:collapse;font-size:.9rem}td,th{padding:.35rem .25rem;border-bottom:1px solid #f4f4f5;text-align:left}td.n{text-align:right}
.big{font-size:2rem;font-weight:700}.muted{color:#71717a;font-size:.85rem}.row{display:flex;justify-content:space-between;align-items:center;gap:.5rem}
.store{max-width:32rem;margin:0 auto .75rem}.store a{color:#18181b;display:inline-block;min-height:44px;line-height:44px}
.switch{display:flex;justify-content:space-between;align-items:center;min-height:44px;border-bottom:1px solid #f4f4f5}code{word-break:break-all}
:lang(ko){word-break:keep-all;overflow-wrap:anywhere}`;

/** A whole page: the language, title and body. */
export function layout(lang: PageLang, title: string, body: Raw): string {
  return `<!doctype html><html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body><main>${body.html}</main></body></html>`;
}

/** The store a customer's page links back to: its name and public https address. */
export interface StoreLink {
  name: string;
  url: string;
}

const BACK = { en: (name: string) => `← Back to ${name}`, ko: (name: string) => `← ${name} 바로가기` } as const;

/**
 * Adds "back to the store" at the top of a page made by `layout`, when the store's address is set
 * (`storeUrl`, validated as https when saved); the page as it was otherwise.
 */
export function withStoreLink(page: string, lang: PageLang, store: StoreLink | null): string {
  if (!store) return page;
  const nav = html`<nav class="store"><a href="${store.url}" rel="noopener" data-store-link>${BACK[lang](store.name)}</a></nav>`;
  return page.replace('<body>', `<body>${nav.html}`);
}
