import { type Child, h, openDialog, STYLES, safeUrl } from './dom.js';
import { type Locale, say, type Word } from './i18n.js';

/**
 * The storefront snippet (`<script src="https://comeback.example/comeback.js" data-key="cb_publishable_…">`):
 * Segment e-commerce events with an anonymous id and the first visit's UTM parameters and referrer,
 * identify for the signed-in customer the store vouches for, a rewards launcher, e-mail capture,
 * recommendation blocks and an on-site offer. With `data-consent="required"` nothing is stored or sent
 * until `comeback.consent(true)`: events wait in memory, and are dropped on `consent(false)`.
 */

type Props = Record<string, unknown>;
interface Call {
  path: 'track' | 'page' | 'identify';
  body: Props;
}

const script = document.currentScript as HTMLScriptElement | null;
const data = script?.dataset ?? {};
const KEY = data.key ?? '';
const API = (data.api ?? (script?.src ? new URL(script.src).origin : location.origin)).replace(/\/$/, '');
const LOCALE: Locale = (data.locale ?? document.documentElement.lang ?? 'en').toLowerCase().startsWith('ko')
  ? 'ko'
  : 'en';
const t = (word: Word, values?: Record<string, string | number>) => say(LOCALE, word, values);
const STORE = 'comeback_';

let consented = data.consent !== 'required';
let decided = consented;
let member: string | undefined; // `<store customer id>.<hmac>`
let userId: string | undefined;
let anonymousId = '';
let firstVisit: Props = {};
const waiting: Call[] = [];
let offerShown = false;

/** localStorage only once consent allows it; in memory until then. */
const storage = {
  get(name: string): string | null {
    try {
      return consented ? localStorage.getItem(STORE + name) : null;
    } catch {
      return null;
    }
  },
  set(name: string, value: string): void {
    try {
      if (consented) localStorage.setItem(STORE + name, value);
    } catch {
      // Private mode or full storage: the visit still works, it is just not remembered.
    }
  },
};

function uuid(): string {
  return crypto.randomUUID ? crypto.randomUUID() : `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

/** The anonymous id and the first visit's campaign and referrer: read back, or made now and kept. */
function loadVisitor(): void {
  anonymousId = storage.get('aid') ?? (anonymousId || uuid());
  storage.set('aid', anonymousId);
  const saved = storage.get('first');
  if (saved) {
    try {
      firstVisit = JSON.parse(saved) as Props;
    } catch {
      firstVisit = {};
    }
  } else {
    if (Object.keys(firstVisit).length === 0) {
      const q = new URLSearchParams(location.search);
      const campaign: Props = {};
      for (const name of ['source', 'medium', 'campaign', 'term', 'content']) {
        const value = q.get(`utm_${name}`);
        if (value) campaign[name === 'campaign' ? 'name' : name] = value;
      }
      firstVisit = {
        ...(Object.keys(campaign).length > 0 ? { campaign } : {}),
        ...(document.referrer ? { referrer: { url: document.referrer } } : {}),
        landedAt: new Date().toISOString(),
      };
    }
    storage.set('first', JSON.stringify(firstVisit));
  }
}

async function api<T>(method: 'GET' | 'POST', path: string, body?: Props, keepalive = false): Promise<T> {
  const response = await fetch(`${API}/api/v1/${path}`, {
    method,
    mode: 'cors',
    credentials: 'omit',
    keepalive,
    headers: {
      authorization: `Bearer ${KEY}`,
      ...(body ? { 'content-type': 'application/json' } : {}),
      ...(member ? { 'x-comeback-member': member } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = (await response.json().catch(() => ({}))) as T & { error?: { code?: string; message?: string } };
  if (!response.ok) throw Object.assign(new Error(json.error?.message ?? `HTTP ${response.status}`), json.error);
  return json;
}

/** What to tell the shopper about a refused call: the API's code in the page's language, else its message. */
function refusal(error: unknown): string {
  const { code, message } = error as { code?: string; message?: string };
  const word = (
    { insufficient_points: 'notEnough', forbidden: 'tierTooLow', rate_limited: 'tooMany', busy: 'failed' } as const
  )[code as 'busy'];
  return word ? t(word) : code && message ? message : t('failed');
}

function send(call: Call): Promise<unknown> {
  if (!consented) {
    if (!decided) waiting.push(call);
    return Promise.resolve();
  }
  const body: Props = {
    ...call.body,
    anonymousId,
    ...(userId ? { userId } : {}),
    messageId: uuid(),
    timestamp: new Date().toISOString(),
    context: {
      ...firstVisit,
      page: { url: location.href, path: location.pathname, title: document.title, referrer: document.referrer },
      locale: LOCALE,
      library: { name: 'comeback.js', version: '1' },
    },
  };
  return api('POST', call.path, body, true).catch(() => {});
}

/** Segment `track` (e-commerce spec names: `Product Viewed`, `Product Added`, `Checkout Started` …). */
function track(event: string, properties: Props = {}): void {
  void send({ path: 'track', body: { event, properties } });
}

/** Segment `page`. */
function page(name?: string, properties: Props = {}): void {
  void send({ path: 'page', body: { ...(name ? { name } : {}), properties } });
}

/**
 * The signed-in customer: the store's own customer id and `hmac_sha256(id, member secret)`, rendered by
 * the store's server. Sends `identify`, so the visit's earlier events land on the customer.
 */
function identify(id: string, signature: string, traits?: Props): void {
  userId = String(id);
  member = `${userId}.${signature}`;
  // The launcher asks about the member once the identify that may introduce them has been answered.
  void send({ path: 'identify', body: traits ? { traits } : {} }).then(renderLauncher);
}

/** The visitor's consent decision: true stores the id and sends what waited; false drops it. */
function consent(granted: boolean): void {
  decided = true;
  consented = granted;
  if (granted) {
    loadVisitor();
    for (const call of waiting.splice(0)) void send(call);
  } else waiting.length = 0;
}

// ——— money ———

/** Minor units by the ISO 4217 exponent the server stores them in (IDR has 2 there, 0 in Intl). */
function money(minor: number, me: Pick<Me, 'currency' | 'currencyExponent'>): string {
  const digits = me.currencyExponent;
  return new Intl.NumberFormat(LOCALE === 'ko' ? 'ko-KR' : 'en', {
    style: 'currency',
    currency: me.currency,
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  }).format(minor / 10 ** digits);
}

// ——— rewards launcher ———

interface Me {
  /** False when the store has no loyalty program (then nothing else is given). */
  program: boolean;
  currency: string;
  /** ISO 4217 decimals of `currency`: its amounts are integers of 10^-currencyExponent. */
  currencyExponent: number;
  waysToEarn: Array<{ action: string; points: number; per: 'unit' | 'action'; name?: string }>;
  referral: { referrerPoints: number; refereePoints: number } | null;
  member: null | {
    available: number;
    availableValueMinor: number;
    tier: { name: string };
    nextTier: null | { name: string; threshold: number; basis: 'points_earned' | 'spend'; qualifying: number };
    referralCode: string;
    /** Store credit in the program currency and the code that spends it at checkout. */
    credit: null | { balanceMinor: number; code: string };
    rewards: Array<{
      key: string;
      name: string;
      cost: number;
      redeemable: boolean;
      short: number;
      tierTooLow: boolean;
    }>;
  };
}

let launcher: HTMLElement | undefined;

/** The launcher appears once the server has answered that the store has a program for this member. */
function renderLauncher(): void {
  if (!member || launcher || data.rewards === 'off') return;
  const button = h(
    'button',
    { type: 'button', class: 'cb-launcher', 'data-comeback': 'launcher', onclick: openRewards },
    t('rewards'),
  );
  launcher = button;
  api<Me>('GET', 'storefront/me')
    .then((me) => {
      if (me.program) document.body.append(button);
    })
    .catch(() => {});
}

async function openRewards(): Promise<void> {
  const body = h('div', { 'aria-live': 'polite' }, '…');
  const titleId = `cb-t-${uuid()}`;
  const panel = h(
    'div',
    { class: 'cb-panel', role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': titleId, 'data-comeback': 'rewards' },
    h('button', { type: 'button', class: 'cb-close', 'aria-label': t('close'), onclick: () => dialog.close() }, '×'),
    h('h2', { id: titleId }, t('rewards')),
    body,
  );
  const dialog = openDialog(panel);
  try {
    const me = await api<Me>('GET', 'storefront/me');
    body.replaceChildren(h('div', {}, ...rewardsBody(me, () => openRewardsAgain(dialog))));
  } catch {
    body.replaceChildren(t('failed'));
  }
}

function openRewardsAgain(dialog: { close: () => void }): void {
  dialog.close();
  void openRewards();
}

function rewardsBody(me: Me, refresh: () => void): Child[] {
  const m = me.member;
  const out: Child[] = [];
  if (m) {
    out.push(
      h(
        'p',
        { 'data-comeback': 'balance' },
        h('strong', {}, t('points', { n: m.available })),
        ' · ',
        t('worth', { money: money(m.availableValueMinor, me) }),
      ),
      h('p', { 'data-comeback': 'tier' }, t('tier', { tier: m.tier.name })),
    );
    if (m.credit && m.credit.balanceMinor > 0) {
      out.push(
        h(
          'p',
          { 'data-comeback': 'credit' },
          t('credit', { money: money(m.credit.balanceMinor, me) }),
          ' · ',
          t('creditCode'),
          h('span', { class: 'cb-code' }, m.credit.code),
        ),
      );
    }
    const next = m.nextTier;
    if (next) {
      const left = Math.max(0, next.threshold - next.qualifying);
      const share = Math.min(100, Math.round((100 * next.qualifying) / next.threshold));
      out.push(
        h(
          'div',
          { class: 'cb-bar', role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': share },
          h('span', { style: `width:${share}%` }),
        ),
        h(
          'p',
          { class: 'cb-muted' },
          next.basis === 'spend'
            ? t('toNextSpend', { money: money(left, me), tier: next.name })
            : t('toNext', { n: left, tier: next.name }),
        ),
      );
    } else out.push(h('p', { class: 'cb-muted' }, t('topTier')));
    const result = h('div', { 'aria-live': 'polite', 'data-comeback': 'redeemed' });
    out.push(
      h('h3', {}, t('rewards')),
      h(
        'ul',
        {},
        ...m.rewards.map((r) => {
          const button = h('button', { type: 'button', disabled: !r.redeemable, 'data-reward': r.key }, t('redeem'));
          button.addEventListener('click', async () => {
            button.setAttribute('disabled', '');
            try {
              const done = await api<{ code: string }>('POST', 'storefront/me/redeem', {
                reward: r.key,
                idempotencyKey: uuid(),
              });
              result.replaceChildren(
                h('span', {}, t('redeemed', { code: '' })),
                h('span', { class: 'cb-code' }, done.code),
              );
              track('Reward Redeemed', { reward: r.key, points: r.cost });
              window.setTimeout(refresh, 2500);
            } catch (error) {
              result.replaceChildren(refusal(error));
              button.removeAttribute('disabled');
            }
          });
          const note = r.redeemable ? '' : r.tierTooLow ? t('tierTooLow') : t('short', { n: r.short });
          return h(
            'li',
            {},
            h(
              'span',
              {},
              r.name,
              h('br'),
              h('span', { class: 'cb-muted' }, t('points', { n: r.cost }), note ? ` · ${note}` : ''),
            ),
            button,
          );
        }),
      ),
      result,
    );
  }
  out.push(
    h('h3', {}, t('waysToEarn')),
    h(
      'ul',
      {},
      ...me.waysToEarn.map((w) => {
        const known = `action_${w.action}` as Word;
        const label =
          known in
          {
            action_order: 1,
            action_signup: 1,
            action_birthday: 1,
            action_review: 1,
            action_share: 1,
            action_referral: 1,
          }
            ? t(known)
            : (w.name ?? w.action.replace(/^custom:/, '').replace(/[-_]+/g, ' '));
        const amount =
          w.per === 'unit'
            ? t('perUnit', { n: w.points, money: money(10 ** me.currencyExponent, me) })
            : t('perAction', { n: w.points });
        return h('li', {}, h('span', {}, label), h('span', {}, amount));
      }),
    ),
  );
  if (m && me.referral) {
    const link = `${location.origin}/?ref=${encodeURIComponent(m.referralCode)}`;
    const copy = h('button', { type: 'button' }, t('copy'));
    copy.addEventListener('click', () => {
      void navigator.clipboard?.writeText(link).then(() => copy.replaceChildren(t('copied')));
    });
    out.push(
      h('h3', {}, t('referral')),
      h(
        'p',
        { class: 'cb-muted' },
        t('referralText', { mine: me.referral.referrerPoints, theirs: me.referral.refereePoints }),
      ),
      h(
        'p',
        {},
        h('input', {
          type: 'text',
          readonly: true,
          value: link,
          'aria-label': t('referral'),
          'data-comeback': 'referral-link',
          style: 'width:100%',
        }),
      ),
      copy,
    );
  }
  return out;
}

// ——— e-mail capture ———

function renderCapture(target: HTMLElement): void {
  const id = `cb-e-${uuid()}`;
  const email = h('input', {
    id,
    type: 'email',
    name: 'email',
    required: true,
    autocomplete: 'email',
  }) as HTMLInputElement;
  const agree = h('input', { type: 'checkbox', name: 'consent', required: true }) as HTMLInputElement;
  const status = h('p', { 'aria-live': 'polite', role: 'status' });
  const form = h(
    'form',
    { class: 'cb-capture', novalidate: false },
    h('h3', {}, t('emailTitle')),
    h('label', { for: id }, t('emailLabel')),
    email,
    h('label', {}, agree, ' ', t('emailConsent')),
    h('button', { type: 'submit' }, t('subscribe')),
    status,
  ) as HTMLFormElement;
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!form.reportValidity()) return;
    try {
      // Submitting with the box ticked is consent to this e-mail; the visit's id goes along only when
      // the visitor's storage consent allows it.
      await api('POST', 'storefront/subscribe', {
        email: email.value,
        consent: agree.checked,
        locale: LOCALE,
        ...(consented ? { anonymousId } : {}),
      });
      form.replaceChildren(h('p', { role: 'status', 'data-comeback': 'subscribed' }, t('subscribed')));
    } catch {
      status.replaceChildren(t('failed'));
    }
  });
  target.replaceChildren(form);
}

// ——— recommendations ———

interface RecItem {
  sku: string;
  title: string;
  url: string | null;
  image_url: string | null;
  price: string | null;
}

async function renderRecommendations(target: HTMLElement): Promise<void> {
  const block = target.dataset.block === 'bought-together' ? 'bought-together' : 'for-you';
  const q = new URLSearchParams({ block, locale: LOCALE, n: target.dataset.limit ?? '4' });
  if (target.dataset.product) q.set('product', target.dataset.product);
  try {
    const answer = await api<{ items: RecItem[] }>('GET', `storefront/recommendations?${q}`);
    if (answer.items.length === 0) return;
    target.replaceChildren(
      h(
        'section',
        { class: 'cb-recs' },
        h('h3', {}, t(block === 'bought-together' ? 'boughtTogether' : 'forYou')),
        h(
          'ul',
          {},
          ...answer.items.map((item) => {
            const href = safeUrl(item.url);
            const image = safeUrl(item.image_url);
            const inner: Child[] = [
              image ? h('img', { src: image, alt: '', loading: 'lazy' }) : null,
              h('span', {}, item.title),
              item.price ? h('span', { class: 'cb-muted' }, ' ', item.price) : null,
            ];
            return h('li', { 'data-sku': item.sku }, href ? h('a', { href }, ...inner) : h('span', {}, ...inner));
          }),
        ),
      ),
    );
  } catch {
    // A block that cannot load leaves the store's placeholder as it was.
  }
}

// ——— reviews ———

async function renderReviews(target: HTMLElement): Promise<void> {
  const sku = target.dataset.product;
  if (!sku) return;
  try {
    const r = await api<{ count: number; average: number | null; latest: Array<{ rating: number; text: string }> }>(
      'GET',
      `storefront/reviews?product=${encodeURIComponent(sku)}`,
    );
    if (r.count === 0 || r.average === null) return;
    const stars = (n: number) => '★'.repeat(Math.round(n)) + '☆'.repeat(5 - Math.round(n));
    target.replaceChildren(
      h(
        'section',
        { class: 'cb-reviews' },
        h('h3', {}, t('reviews')),
        h(
          'p',
          {},
          h('span', { 'aria-label': t('rated', { avg: r.average }) }, stars(r.average)),
          ' ',
          t('reviewCount', { n: r.count }),
        ),
        h(
          'ul',
          {},
          ...r.latest.map((x) =>
            h('li', {}, h('span', { 'aria-label': t('rated', { avg: x.rating }) }, stars(x.rating)), ' ', x.text),
          ),
        ),
      ),
    );
  } catch {
    // Leaves the placeholder as the store wrote it.
  }
}

// ——— on-site offer ———

async function maybeOffer(): Promise<void> {
  if (offerShown || (consented && sessionStorage.getItem(`${STORE}offer`))) return;
  offerShown = true;
  if (consented) sessionStorage.setItem(`${STORE}offer`, '1');
  const segments = data.offerSegments ?? 'visitor,member';
  try {
    const answer = await api<{ eligible: boolean }>('GET', `storefront/offer?segments=${encodeURIComponent(segments)}`);
    if (!answer.eligible) return;
  } catch {
    return;
  }
  const template = document.querySelector<HTMLTemplateElement>('template[data-comeback="offer"]');
  const titleId = `cb-o-${uuid()}`;
  const panel = h(
    'div',
    {
      class: 'cb-panel',
      role: 'dialog',
      'aria-modal': 'true',
      'aria-labelledby': titleId,
      'data-comeback': 'offer-dialog',
    },
    h('button', { type: 'button', class: 'cb-close', 'aria-label': t('close'), onclick: () => dialog.close() }, '×'),
    h('h2', { id: titleId }, template?.dataset.title ?? t('offerTitle')),
    // The store's own markup, cloned as nodes (not parsed from data).
    template ? template.content.cloneNode(true) : null,
    h('p', {}, h('button', { type: 'button', onclick: () => dialog.close() }, t('dismiss'))),
  );
  const dialog = openDialog(panel);
  track('Offer Shown', { trigger: data.offer ?? 'exit', segments });
}

function armOffer(): void {
  const trigger = data.offer;
  if (!trigger) return;
  const seconds = /^time:(\d+)$/.exec(trigger);
  if (seconds) {
    window.setTimeout(() => void maybeOffer(), Number(seconds[1]) * 1000);
    return;
  }
  // Exit intent: the pointer leaves through the top of the window (towards the tabs or the address bar).
  document.addEventListener('mouseout', (event) => {
    if (!event.relatedTarget && event.clientY <= 0) void maybeOffer();
  });
}

// ——— declarative tracking ———

function productOf(el: HTMLElement): Props {
  const d = el.dataset;
  const props: Props = {};
  if (d.productId) props.product_id = d.productId;
  if (d.sku) props.sku = d.sku;
  if (d.name) props.name = d.name;
  if (d.price) props.price = Number(d.price);
  if (d.currency) props.currency = d.currency;
  if (d.quantity) props.quantity = Number(d.quantity);
  return props;
}

function start(): void {
  const style = h('style', {}, STYLES);
  document.head.append(style);
  if (consented) loadVisitor();
  page();
  const product = document.querySelector<HTMLElement>('[data-comeback-product]');
  if (product) track('Product Viewed', productOf(product));
  document.addEventListener('click', (event) => {
    const el = event.target instanceof Element ? event.target.closest<HTMLElement>('[data-comeback-event]') : null;
    if (el) track(el.dataset.comebackEvent ?? 'Clicked', productOf(el));
  });
  if (data.customerId && data.customerHash) identify(data.customerId, data.customerHash);
  for (const el of document.querySelectorAll<HTMLElement>('[data-comeback="email-capture"]')) renderCapture(el);
  for (const el of document.querySelectorAll<HTMLElement>('[data-comeback="recommendations"]'))
    void renderRecommendations(el);
  for (const el of document.querySelectorAll<HTMLElement>('[data-comeback="reviews"]')) void renderReviews(el);
  armOffer();
}

/** The page's handle: `window.comeback`. Calls queued in `window.comeback = [[name, ...args]]` before loading run now. */
const handle = { track, page, identify, consent, openRewards, anonymousId: () => (consented ? anonymousId : null) };
const queued = (window as unknown as { comeback?: unknown }).comeback;
(window as unknown as { comeback: typeof handle }).comeback = handle;
if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
else start();
if (Array.isArray(queued)) {
  for (const item of queued as Array<[keyof typeof handle, ...unknown[]]>) {
    const [name, ...args] = item;
    const fn = handle[name] as ((...a: unknown[]) => unknown) | undefined;
    fn?.(...args);
  }
}
