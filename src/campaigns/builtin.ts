import type { Db } from '../store/index.js';
import { type FlowDefinition, validateFlow } from './flow.js';
import { saveFlow, saveTemplate } from './flows.queries.js';
import type { TemplateSource } from './render.js';
import { messagingSettings } from './settings.js';
import { campaignDb } from './tables.js';

/**
 * The flows every store starts with, each off until the owner turns it on, and their templates. They
 * are installed once; a store's edits are new versions and are never overwritten by a later install.
 */

const EMAIL_WORDS_EN = {
  picked: 'Picked for you',
  because: 'You receive this because you shop at {{ store.name }}.',
  preferences: 'Preferences',
  unsubscribe: 'Unsubscribe',
};
const EMAIL_WORDS_KO = {
  picked: '고객님을 위해 골랐어요',
  because: '{{ store.name }}에서 쇼핑하신 고객님께 보내 드리는 메일입니다.',
  preferences: '수신 설정',
  unsubscribe: '수신거부',
};

/** A one-column MJML e-mail with the store's name, the message, optional blocks and the unsubscribe link. */
function email(body: string, lang: 'en' | 'ko' = 'en'): string {
  const words = lang === 'ko' ? EMAIL_WORDS_KO : EMAIL_WORDS_EN;
  return `<mjml>
  <mj-head><mj-attributes><mj-all font-family="Helvetica, Arial, sans-serif" /></mj-attributes></mj-head>
  <mj-body background-color="#f4f4f5">
    <mj-section background-color="#ffffff" padding="24px">
      <mj-column>
        <mj-text font-size="18px" font-weight="bold">{{ store.name }}</mj-text>
${body}
        <mj-raw>{% if products.size > 0 %}</mj-raw>
        <mj-text font-weight="bold">${words.picked}</mj-text>
        <mj-raw>{% for p in products %}</mj-raw>
        <mj-text><a href="{{ p.url }}">{{ p.title }}</a> {{ p.price }}<br /><span style="color:#71717a">{{ p.reason }}</span></mj-text>
        <mj-raw>{% endfor %}{% endif %}</mj-raw>
        <mj-divider border-width="1px" border-color="#e4e4e7" />
        <mj-text font-size="12px" color="#71717a">${words.because}
          <a href="{{ links.preferences }}">${words.preferences}</a> · <a href="{{ links.unsubscribe }}">${words.unsubscribe}</a></mj-text>
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>`;
}

const text = (t: string) => `        <mj-text font-size="15px" line-height="22px">${t}</mj-text>`;
/** The signed link to the order's review page (`links.review`, feedback-links.queries.ts), when the message has one. */
const reviewButton = (label: string) => `        <mj-raw>{% if links.review %}</mj-raw>
        <mj-button href="{{ links.review }}" background-color="#18181b">${label}</mj-button>
        <mj-raw>{% endif %}</mj-raw>`;
const coupon = `        <mj-raw>{% if coupon %}</mj-raw>
        <mj-text font-size="15px">Your code <b>{{ coupon.code }}</b>: {{ coupon.description }}, until {{ coupon.expires_on }}.</mj-text>
        <mj-raw>{% endif %}</mj-raw>`;

/** The built-in templates (English; stores edit them as new versions). */
export const BUILTIN_TEMPLATES: readonly TemplateSource[] = [
  {
    key: 'win-back-reminder',
    channel: 'email',
    purpose: 'marketing',
    subject: 'It has been a while, {{ customer.first_name | default: "friend" }}',
    body: email(text('We have not seen you for a while. Here is what is new since your last visit.')),
  },
  {
    key: 'win-back-offer',
    channel: 'email',
    purpose: 'marketing',
    subject: 'A little something to welcome you back',
    body: email(`${text('We would love to see you again, so here is an offer just for you.')}\n${coupon}`),
  },
  {
    key: 'win-back-sorry',
    channel: 'email',
    purpose: 'marketing',
    subject: 'We are sorry, {{ customer.first_name | default: "" }}',
    body: email(
      `${text('You told us our service let you down. We are sorry: someone from our team will be in touch personally.')}\n${coupon}`,
    ),
  },
  {
    key: 'win-back-last-call',
    channel: 'email',
    purpose: 'marketing',
    subject: 'Last call: your offer ends soon',
    body: email(`${text('This is the last reminder from us for now.')}\n${coupon}`),
  },
  {
    key: 'cart-reminder',
    channel: 'email',
    purpose: 'marketing',
    subject: 'You left something in your cart',
    body: email(text('Your cart is saved. Complete your order whenever you are ready.')),
  },
  {
    key: 'browse-reminder',
    channel: 'email',
    purpose: 'marketing',
    subject: 'Still thinking it over?',
    body: email(text('You were looking at a few things. Here they are again, with a few more you may like.')),
  },
  {
    key: 'welcome',
    channel: 'email',
    purpose: 'marketing',
    subject: 'Welcome to {{ store.name }}',
    body: email(text('Thank you for your first order. Here is what other customers love.')),
  },
  {
    key: 'second-order',
    channel: 'email',
    purpose: 'marketing',
    subject: 'Ready for another?',
    body: email(
      `${text('Most of our customers come back around now. Here is something for your next order.')}\n${coupon}`,
    ),
  },
  {
    key: 'review-request',
    channel: 'email',
    purpose: 'marketing',
    subject: 'How was your order?',
    body: email(
      `${text('Tell other shoppers what you thought: a review takes a minute.')}\n${reviewButton('Write a review')}`,
    ),
  },
  {
    key: 'birthday',
    channel: 'email',
    purpose: 'marketing',
    subject: 'Happy birthday, {{ customer.first_name | default: "" }}!',
    body: email(`${text('A small gift from us for your birthday.')}\n${coupon}`),
  },
];

const couponKo = `        <mj-raw>{% if coupon %}</mj-raw>
        <mj-text font-size="15px">쿠폰 코드 <b>{{ coupon.code }}</b>: {{ coupon.description }} ({{ coupon.expires_on }}까지)</mj-text>
        <mj-raw>{% endif %}</mj-raw>`;
const ko = (t: string) => email(text(t), 'ko');
const koWithCoupon = (t: string) => email(`${text(t)}\n${couponKo}`, 'ko');

/**
 * The built-in templates in Korean, for a store whose messaging language is `ko`: the same keys, written
 * as a Korean shop writes to its customers. Marketing e-mail to a Korean recipient also gets `(광고)`
 * and the sender's footer at send time (korea.ts).
 */
export const BUILTIN_TEMPLATES_KO: readonly TemplateSource[] = [
  {
    key: 'win-back-reminder',
    channel: 'email',
    purpose: 'marketing',
    subject: '{{ customer.first_name | default: "고객" }}님, 오랜만이에요',
    body: ko('한동안 뵙지 못했네요. 지난번 방문 이후 새로 들어온 상품을 모아 보았어요.'),
  },
  {
    key: 'win-back-offer',
    channel: 'email',
    purpose: 'marketing',
    subject: '다시 만나고 싶어 작은 선물을 준비했어요',
    body: koWithCoupon('다시 찾아 주시길 바라는 마음으로 고객님만을 위한 혜택을 드려요.'),
  },
  {
    key: 'win-back-sorry',
    channel: 'email',
    purpose: 'marketing',
    subject: '{{ customer.first_name | default: "고객" }}님, 불편을 드려 죄송합니다',
    body: koWithCoupon(
      '저희 서비스가 만족스럽지 못하셨다는 말씀을 들었습니다. 진심으로 사과드리며, 담당자가 직접 연락드리겠습니다.',
    ),
  },
  {
    key: 'win-back-last-call',
    channel: 'email',
    purpose: 'marketing',
    subject: '혜택이 곧 끝나요',
    body: koWithCoupon('당분간 마지막으로 드리는 안내예요.'),
  },
  {
    key: 'cart-reminder',
    channel: 'email',
    purpose: 'marketing',
    subject: '장바구니에 담아 두신 상품이 기다리고 있어요',
    body: ko('장바구니는 그대로 저장되어 있어요. 편하실 때 주문을 마무리해 주세요.'),
  },
  {
    key: 'browse-reminder',
    channel: 'email',
    purpose: 'marketing',
    subject: '아직 고민 중이신가요?',
    body: ko('둘러보신 상품을 다시 모아 보았어요. 함께 좋아하실 만한 상품도 골랐어요.'),
  },
  {
    key: 'welcome',
    channel: 'email',
    purpose: 'marketing',
    subject: '{{ store.name }}에 오신 것을 환영해요',
    body: ko('첫 주문 감사합니다. 다른 고객님들이 특히 아끼는 상품을 소개해 드려요.'),
  },
  {
    key: 'second-order',
    channel: 'email',
    purpose: 'marketing',
    subject: '다음 쇼핑을 위한 혜택이에요',
    body: koWithCoupon('많은 고객님이 이맘때 다시 찾아 주세요. 다음 주문에 쓰실 수 있는 혜택을 드려요.'),
  },
  {
    key: 'review-request',
    channel: 'email',
    purpose: 'marketing',
    subject: '주문하신 상품은 마음에 드셨나요?',
    body: email(
      `${text('다른 고객님들께 솔직한 후기를 들려주세요. 1분이면 충분해요.')}\n${reviewButton('후기 쓰기')}`,
      'ko',
    ),
  },
  {
    key: 'birthday',
    channel: 'email',
    purpose: 'marketing',
    subject: '{{ customer.first_name | default: "고객" }}님, 생일 축하드려요!',
    body: koWithCoupon('생일을 맞은 고객님께 작은 선물을 드려요.'),
  },
];

const flows: readonly unknown[] = [
  {
    key: 'win-back',
    name: 'Win-back',
    description:
      'Customers who become at risk or lapsed: a reminder, then an offer (or an apology and a call from staff when they said service was poor), then a last call.',
    trigger: { type: 'segment_entered', segments: ['lifecycle:at_risk', 'lifecycle:lapsed'] },
    exitWhen: [
      { type: 'ordered' },
      { type: 'unsubscribed' },
      { type: 'left_segment', segments: ['lifecycle:at_risk', 'lifecycle:lapsed'] },
    ],
    steps: [
      {
        id: 'remind',
        type: 'send',
        channels: ['email'],
        template: 'win-back-reminder',
        purpose: 'marketing',
        next: 'wait-1',
      },
      { id: 'wait-1', type: 'wait', for: { days: 4 }, atLocalTime: '10:00', next: 'why' },
      {
        id: 'why',
        type: 'branch',
        cases: [{ when: { fact: 'survey.exit_reason', eq: 'poor_service' }, next: 'sorry' }],
        default: 'offer',
      },
      {
        id: 'sorry',
        type: 'send',
        channels: ['email'],
        template: 'win-back-sorry',
        purpose: 'marketing',
        offer: { type: 'percent', percent: 15, validDays: 21, maxShareOfPredictedValue: 0.2 },
        next: 'staff',
      },
      { id: 'staff', type: 'outreach', note: 'Said our service was poor: call or write personally.' },
      {
        id: 'offer',
        type: 'send',
        channels: ['email'],
        template: 'win-back-offer',
        purpose: 'marketing',
        offer: { type: 'percent', percent: 15, validDays: 14, maxShareOfPredictedValue: 0.2 },
        next: 'wait-2',
      },
      { id: 'wait-2', type: 'wait', for: { days: 7 }, atLocalTime: '10:00', next: 'last' },
      { id: 'last', type: 'send', channels: ['email'], template: 'win-back-last-call', purpose: 'marketing' },
    ],
  },
  {
    key: 'cart-abandonment',
    name: 'Cart abandonment',
    description: 'A checkout started without an order: a reminder four hours later, and one more the next day.',
    trigger: { type: 'event', events: ['Checkout Started'] },
    exitWhen: [{ type: 'ordered' }, { type: 'event', events: ['Order Completed'] }],
    reentry: { type: 'after', days: 7 },
    steps: [
      { id: 'wait-1', type: 'wait', for: { hours: 4 }, next: 'remind' },
      {
        id: 'remind',
        type: 'send',
        channels: ['email', 'sms'],
        template: 'cart-reminder',
        purpose: 'marketing',
        next: 'wait-2',
      },
      { id: 'wait-2', type: 'wait', for: { days: 1 }, next: 'again' },
      { id: 'again', type: 'send', channels: ['email'], template: 'cart-reminder', purpose: 'marketing' },
    ],
  },
  {
    key: 'browse-abandonment',
    name: 'Browse abandonment',
    description: 'Viewed products without adding to cart or ordering: one reminder the next morning.',
    trigger: { type: 'event', events: ['Product Viewed'] },
    exitWhen: [
      { type: 'ordered' },
      { type: 'event', events: ['Product Added', 'Checkout Started', 'Order Completed'] },
    ],
    reentry: { type: 'after', days: 14 },
    steps: [
      { id: 'wait', type: 'wait', for: { hours: 12 }, atLocalTime: '10:00', next: 'remind' },
      { id: 'remind', type: 'send', channels: ['email'], template: 'browse-reminder', purpose: 'marketing' },
    ],
  },
  {
    key: 'welcome',
    name: 'Welcome after a first order',
    trigger: { type: 'order', nth: 1 },
    exitWhen: [{ type: 'unsubscribed' }],
    steps: [
      { id: 'wait', type: 'wait', for: { hours: 2 }, next: 'welcome' },
      { id: 'welcome', type: 'send', channels: ['email'], template: 'welcome', purpose: 'marketing' },
    ],
  },
  {
    key: 'second-order',
    name: 'Second-order nudge',
    description: 'Set the wait to the store’s median time to a second order (comeback report shows it).',
    trigger: { type: 'order', nth: 1 },
    exitWhen: [{ type: 'ordered' }, { type: 'unsubscribed' }],
    steps: [
      { id: 'wait', type: 'wait', for: { days: 30 }, atLocalTime: '10:00', next: 'nudge' },
      {
        id: 'nudge',
        type: 'send',
        channels: ['email'],
        template: 'second-order',
        purpose: 'marketing',
        offer: { type: 'amount', amountMinor: 500, minOrderMinor: 3000, validDays: 14, maxShareOfPredictedValue: 0.2 },
      },
    ],
  },
  {
    key: 'review-request',
    name: 'Review request',
    trigger: { type: 'order' },
    reentry: { type: 'after', days: 1 },
    exitWhen: [{ type: 'unsubscribed' }],
    steps: [
      { id: 'wait', type: 'wait', for: { days: 10 }, atLocalTime: '10:00', next: 'ask' },
      { id: 'ask', type: 'send', channels: ['email'], template: 'review-request', purpose: 'marketing' },
    ],
  },
  {
    key: 'birthday',
    name: 'Birthday',
    trigger: { type: 'date', field: 'birthday', daysBefore: 0 },
    reentry: { type: 'after', days: 300 },
    exitWhen: [{ type: 'unsubscribed' }],
    steps: [
      {
        id: 'wish',
        type: 'send',
        channels: ['email'],
        template: 'birthday',
        purpose: 'marketing',
        offer: { type: 'percent', percent: 10, validDays: 30 },
      },
    ],
  },
];

/** The built-in flow definitions, validated. */
export function builtinFlows(): FlowDefinition[] {
  return flows.map((f) => {
    const result = validateFlow(f);
    if (!result.ok) throw new Error(`built-in flow: ${JSON.stringify(result.problems)}`);
    return result.flow;
  });
}

/**
 * Installs the built-in templates and flows the store does not have yet (flows disabled); the templates
 * are Korean when the store's messaging language is `ko`.
 */
export async function installBuiltins(db: Db, now: number): Promise<{ flows: number; templates: number }> {
  const builtinTemplates = (await messagingSettings(db)).language === 'ko' ? BUILTIN_TEMPLATES_KO : BUILTIN_TEMPLATES;
  const cdb = campaignDb(db);
  const haveTemplates = new Set((await cdb.selectFrom('message_templates').select('key').execute()).map((r) => r.key));
  const haveFlows = new Set((await cdb.selectFrom('flows').select('key').execute()).map((r) => r.key));
  let templates = 0;
  for (const template of builtinTemplates) {
    if (haveTemplates.has(template.key)) continue;
    await saveTemplate(db, template, now);
    templates += 1;
  }
  let installed = 0;
  for (const flow of builtinFlows()) {
    if (haveFlows.has(flow.key)) continue;
    await saveFlow(db, flow, now);
    installed += 1;
  }
  return { flows: installed, templates };
}
