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
  arrivals: 'New since your last visit',
  missing: 'What you are missing',
  balance: 'You have {{ loyalty.balance }} points ({{ loyalty.balance_value }}) as a {{ loyalty.tier }} member.',
  reward:
    '{{ r.name }}: {% if r.points_needed == 0 %}yours now for {{ r.cost }} points{% else %}{{ r.points_needed }} more points to go{% endif %}',
  quantity: 'Qty',
  because: 'You receive this because you shop at {{ store.name }}.',
  preferences: 'Preferences',
  unsubscribe: 'Unsubscribe',
};
const EMAIL_WORDS_KO: typeof EMAIL_WORDS_EN = {
  picked: '고객님을 위해 골랐어요',
  arrivals: '지난번 방문 이후 새로 들어온 상품',
  missing: '놓치고 계신 혜택',
  balance: '{{ loyalty.tier }} 등급 고객님의 포인트는 {{ loyalty.balance }}점({{ loyalty.balance_value }})이에요.',
  reward:
    '{{ r.name }}: {% if r.points_needed == 0 %}지금 {{ r.cost }}점으로 받으실 수 있어요{% else %}{{ r.points_needed }}점만 더 모으시면 돼요{% endif %}',
  quantity: '수량',
  because: '{{ store.name }}에서 쇼핑하신 고객님께 보내 드리는 메일입니다.',
  preferences: '수신 설정',
  unsubscribe: '수신거부',
};

/** The blocks an e-mail shows besides its message; each reads one part of the context (`MessageContext`). */
interface Blocks {
  /** The trigger's items (the cart's lines, the viewed items, the order's lines) with image, price and link. */
  items?: boolean;
  /** Recommended products with the reason each is shown. */
  products?: boolean;
  /** The catalogue's newest items. */
  arrivals?: boolean;
  /** "What you are missing": a member's points, tier and the rewards within reach (members with points only). */
  loyalty?: boolean;
}

/** A one-column MJML e-mail with the store's name, the message, the chosen blocks and the unsubscribe link. */
function email(body: string, lang: 'en' | 'ko' = 'en', blocks: Blocks = {}): string {
  const words = lang === 'ko' ? EMAIL_WORDS_KO : EMAIL_WORDS_EN;
  const parts: string[] = [body];
  if (blocks.items) {
    parts.push(`        <mj-raw>{% for i in trigger.items %}{% if i.image %}</mj-raw>
        <mj-image width="160px" align="left" src="{{ i.image }}" alt="{{ i.title }}" />
        <mj-raw>{% endif %}</mj-raw>
        <mj-text><a href="{{ i.url }}">{{ i.title }}</a> · ${words.quantity} {{ i.quantity }} · {{ i.price }}</mj-text>
        <mj-raw>{% endfor %}</mj-raw>`);
  }
  if (blocks.loyalty) {
    parts.push(`        <mj-raw>{% if loyalty.member and loyalty.balance > 0 %}</mj-raw>
        <mj-text font-weight="bold">${words.missing}</mj-text>
        <mj-text>${words.balance}</mj-text>
        <mj-raw>{% for r in loyalty.rewards_within_reach %}</mj-raw>
        <mj-text>${words.reward}</mj-text>
        <mj-raw>{% endfor %}{% endif %}</mj-raw>`);
  }
  if (blocks.products) {
    parts.push(`        <mj-raw>{% if products.size > 0 %}</mj-raw>
        <mj-text font-weight="bold">${words.picked}</mj-text>
        <mj-raw>{% for p in products %}</mj-raw>
        <mj-text><a href="{{ p.url }}">{{ p.title }}</a> {{ p.price }}<br /><span style="color:#71717a">{{ p.reason }}</span></mj-text>
        <mj-raw>{% endfor %}{% endif %}</mj-raw>`);
  }
  if (blocks.arrivals) {
    parts.push(`        <mj-raw>{% if new_arrivals.size > 0 %}</mj-raw>
        <mj-text font-weight="bold">${words.arrivals}</mj-text>
        <mj-raw>{% for a in new_arrivals %}</mj-raw>
        <mj-text><a href="{{ a.url }}">{{ a.title }}</a> {{ a.price }}</mj-text>
        <mj-raw>{% endfor %}{% endif %}</mj-raw>`);
  }
  return `<mjml>
  <mj-head><mj-attributes><mj-all font-family="Helvetica, Arial, sans-serif" /></mj-attributes></mj-head>
  <mj-body background-color="#f4f4f5">
    <mj-section background-color="#ffffff" padding="24px">
      <mj-column>
        <mj-text font-size="18px" font-weight="bold">{{ store.name }}</mj-text>
${parts.join('\n')}
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
    body: email(
      text('We have not seen you for a while. Here is what we picked for you, and what is new since your last visit.'),
      'en',
      {
        loyalty: true,
        products: true,
        arrivals: true,
      },
    ),
  },
  {
    key: 'win-back-offer',
    channel: 'email',
    purpose: 'marketing',
    subject: 'A little something to welcome you back',
    body: email(`${text('We would love to see you again, so here is an offer just for you.')}\n${coupon}`, 'en', {
      loyalty: true,
      products: true,
    }),
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
    body: email(`${text('This is the last reminder from us for now.')}\n${coupon}`, 'en', { loyalty: true }),
  },
  {
    key: 'cart-reminder',
    channel: 'email',
    purpose: 'marketing',
    subject: 'You left something in your cart',
    body: email(text('Your cart is saved. Complete your order whenever you are ready.'), 'en', { items: true }),
  },
  {
    key: 'browse-reminder',
    channel: 'email',
    purpose: 'marketing',
    subject: 'Still thinking it over?',
    body: email(text('You were looking at a few things. Here they are again, with a few more you may like.'), 'en', {
      items: true,
      products: true,
    }),
  },
  {
    key: 'welcome',
    channel: 'email',
    purpose: 'marketing',
    subject: 'Welcome to {{ store.name }}',
    body: email(text('Thank you for your first order. Here is what other customers love.'), 'en', { products: true }),
  },
  {
    key: 'second-order',
    channel: 'email',
    purpose: 'marketing',
    subject: 'Ready for another?',
    body: email(
      `${text('Most of our customers come back around now. Here is something for your next order.')}\n${coupon}`,
      'en',
      { products: true },
    ),
  },
  {
    key: 'review-request',
    channel: 'email',
    purpose: 'marketing',
    subject: 'How was your order{% if trigger.order %} {{ trigger.order.name }}{% endif %}?',
    body: email(
      `${text(
        'Tell other shoppers what you thought of {% for i in trigger.items %}{% if forloop.last and forloop.length > 1 %} and {% elsif forloop.index > 1 %}, {% endif %}{{ i.title }}{% endfor %}: a review takes a minute.',
      )}\n${reviewButton('Write a review')}`,
      'en',
      { items: true },
    ),
  },
  {
    key: 'birthday',
    channel: 'email',
    purpose: 'marketing',
    subject: 'Happy birthday, {{ customer.first_name | default: "" }}!',
    body: email(`${text('A small gift from us for your birthday.')}\n${coupon}`),
  },
  {
    key: 'cart-reminder-sms',
    channel: 'sms',
    purpose: 'marketing',
    subject: null,
    body: '{{ store.name }}: {% if trigger.items.size > 0 %}{{ trigger.items.first.title }}{% if trigger.item_count > 1 %} and {{ trigger.item_count | minus: 1 }} more{% endif %} {% if trigger.item_count > 1 %}are{% else %}is{% endif %}{% else %}your cart is{% endif %} waiting for you. {{ store.url }} Stop: {{ links.unsubscribe }}',
  },
  {
    key: 'replenishment',
    channel: 'email',
    purpose: 'marketing',
    subject: 'Time to restock {{ trigger.product.title }}?',
    body: email(
      `${text('You usually buy {{ trigger.product.title }} about every {{ trigger.cycle_days | round }} days; you last bought it on {{ trigger.last_bought_on }}.')}
        <mj-button href="{{ trigger.buy_again_url }}">Buy it again</mj-button>`,
      'en',
      { items: true, products: true },
    ),
  },
];

const couponKo = `        <mj-raw>{% if coupon %}</mj-raw>
        <mj-text font-size="15px">쿠폰 코드 <b>{{ coupon.code }}</b>: {{ coupon.description }} ({{ coupon.expires_on }}까지)</mj-text>
        <mj-raw>{% endif %}</mj-raw>`;
const ko = (t: string, blocks: Blocks = {}) => email(text(t), 'ko', blocks);
const koWithCoupon = (t: string, blocks: Blocks = {}) => email(`${text(t)}\n${couponKo}`, 'ko', blocks);

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
    body: ko('한동안 뵙지 못했네요. 고객님을 위해 고른 상품과 지난번 방문 이후 새로 들어온 상품을 모아 보았어요.', {
      loyalty: true,
      products: true,
      arrivals: true,
    }),
  },
  {
    key: 'win-back-offer',
    channel: 'email',
    purpose: 'marketing',
    subject: '다시 만나고 싶어 작은 선물을 준비했어요',
    body: koWithCoupon('다시 찾아 주시길 바라는 마음으로 고객님만을 위한 혜택을 드려요.', {
      loyalty: true,
      products: true,
    }),
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
    body: koWithCoupon('당분간 마지막으로 드리는 안내예요.', { loyalty: true }),
  },
  {
    key: 'cart-reminder',
    channel: 'email',
    purpose: 'marketing',
    subject: '장바구니에 담아 두신 상품이 기다리고 있어요',
    body: ko('장바구니는 그대로 저장되어 있어요. 편하실 때 주문을 마무리해 주세요.', { items: true }),
  },
  {
    key: 'browse-reminder',
    channel: 'email',
    purpose: 'marketing',
    subject: '아직 고민 중이신가요?',
    body: ko('둘러보신 상품을 다시 모아 보았어요. 함께 좋아하실 만한 상품도 골랐어요.', {
      items: true,
      products: true,
    }),
  },
  {
    key: 'welcome',
    channel: 'email',
    purpose: 'marketing',
    subject: '{{ store.name }}에 오신 것을 환영해요',
    body: ko('첫 주문 감사합니다. 다른 고객님들이 특히 아끼는 상품을 소개해 드려요.', { products: true }),
  },
  {
    key: 'second-order',
    channel: 'email',
    purpose: 'marketing',
    subject: '다음 쇼핑을 위한 혜택이에요',
    body: koWithCoupon('많은 고객님이 이맘때 다시 찾아 주세요. 다음 주문에 쓰실 수 있는 혜택을 드려요.', {
      products: true,
    }),
  },
  {
    key: 'review-request',
    channel: 'email',
    purpose: 'marketing',
    subject: '주문하신 상품은 마음에 드셨나요?',
    body: email(
      `${text(
        '{% for i in trigger.items %}{% if forloop.index > 1 %}, {% endif %}{{ i.title }}{% endfor %} 어떠셨나요? 다른 고객님들께 솔직한 후기를 들려주세요. 1분이면 충분해요.',
      )}\n${reviewButton('후기 쓰기')}`,
      'ko',
      { items: true },
    ),
  },
  {
    key: 'birthday',
    channel: 'email',
    purpose: 'marketing',
    subject: '{{ customer.first_name | default: "고객" }}님, 생일 축하드려요!',
    body: koWithCoupon('생일을 맞은 고객님께 작은 선물을 드려요.'),
  },
  {
    key: 'cart-reminder-sms',
    channel: 'sms',
    purpose: 'marketing',
    subject: null,
    body: '[{{ store.name }}] {% if trigger.items.size > 0 %}{{ trigger.items.first.title }}{% if trigger.item_count > 1 %} 외 {{ trigger.item_count | minus: 1 }}개 상품이{% else %} 상품이{% endif %}{% else %}담아 두신 상품이{% endif %} 장바구니에서 기다리고 있어요. {{ store.url }} 수신거부: {{ links.unsubscribe }}',
  },
  {
    key: 'replenishment',
    channel: 'email',
    purpose: 'marketing',
    subject: '{{ trigger.product.title }}, 다시 채우실 때가 되었어요',
    body: email(
      `${text('{{ trigger.product.title }}은(는) 보통 {{ trigger.cycle_days | round }}일마다 구매하셨어요. 마지막 구매일은 {{ trigger.last_bought_on }}이에요.')}
        <mj-button href="{{ trigger.buy_again_url }}">다시 구매하기</mj-button>`,
      'ko',
      { items: true, products: true },
    ),
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
        // What they bought leads: neighbours of their own purchases, topped up with best-sellers.
        products: { method: 'personal', n: 4 },
        topic: 'offers',
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
        topic: 'offers',
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
        topic: 'offers',
        offer: { type: 'percent', percent: 15, validDays: 14, maxShareOfPredictedValue: 0.2 },
        next: 'wait-2',
      },
      { id: 'wait-2', type: 'wait', for: { days: 7 }, atLocalTime: '10:00', next: 'last' },
      {
        id: 'last',
        type: 'send',
        channels: ['email'],
        template: 'win-back-last-call',
        purpose: 'marketing',
        topic: 'offers',
      },
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
        topic: 'offers',
        next: 'wait-2',
      },
      { id: 'wait-2', type: 'wait', for: { days: 1 }, next: 'again' },
      {
        id: 'again',
        type: 'send',
        channels: ['email'],
        template: 'cart-reminder',
        purpose: 'marketing',
        topic: 'offers',
      },
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
      {
        id: 'remind',
        type: 'send',
        channels: ['email'],
        template: 'browse-reminder',
        purpose: 'marketing',
        topic: 'new_products',
      },
    ],
  },
  {
    key: 'welcome',
    name: 'Welcome after a first order',
    trigger: { type: 'order', nth: 1 },
    exitWhen: [{ type: 'unsubscribed' }],
    steps: [
      { id: 'wait', type: 'wait', for: { hours: 2 }, next: 'welcome' },
      {
        id: 'welcome',
        type: 'send',
        channels: ['email'],
        template: 'welcome',
        purpose: 'marketing',
        topic: 'new_products',
      },
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
        topic: 'offers',
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
      {
        id: 'ask',
        type: 'send',
        channels: ['email'],
        template: 'review-request',
        purpose: 'marketing',
        topic: 'surveys',
      },
    ],
  },
  {
    key: 'replenishment',
    name: 'Replenishment and buy-again',
    description:
      'A product’s own repurchase cycle (learned by the recommendation build) comes due: a reminder with a buy-again link, on the due day. Needs more than two cycles overdue have ended and are not chased.',
    trigger: { type: 'replenishment_due' },
    exitWhen: [{ type: 'ordered' }, { type: 'unsubscribed' }],
    // One product at a time: a second product due the same day enters the day after.
    reentry: { type: 'after', days: 1 },
    steps: [
      {
        id: 'remind',
        type: 'send',
        channels: ['email'],
        template: 'replenishment',
        purpose: 'marketing',
        // A reminder of products, like browse abandonment: no offer.
        topic: 'new_products',
        products: { method: 'replenishment', n: 4 },
      },
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
        topic: 'offers',
        offer: { type: 'percent', percent: 10, validDays: 30 },
      },
    ],
  },
];

/**
 * The built-in flow definitions, validated. Each send has its preference-centre topic: win-back, cart
 * abandonment, the second-order nudge and the birthday gift are `offers`; browse abandonment and the
 * welcome (products to discover) `new_products`; the review request `surveys`.
 */
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
