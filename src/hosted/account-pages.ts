import {
  type LedgerEntry,
  type MemberStatus,
  memberHistory,
  type ProgramConfig,
  tierAllowsReward,
  tierByKey,
} from '../loyalty/index.js';
import { formatMoney } from '../shared/money.js';
import { html, layout, type PageLang } from './html.js';
import { CHANNELS, type Preferences, TOPICS } from './preferences.queries.js';

const TEXT = {
  en: {
    title: 'Your message preferences',
    channels: 'How we may contact you',
    topics: 'What you would like to hear about',
    channel: { email: 'E-mail', sms: 'Text messages (SMS)', kakao: 'KakaoTalk' },
    topic: {
      offers: 'Offers and discounts',
      new_products: 'New products',
      rewards: 'Rewards and points',
      surveys: 'Surveys',
    },
    save: 'Save my choices',
    pause: 'Pause all marketing for 30 days',
    resume: 'Resume messages now',
    unsubscribeAll: 'Unsubscribe from everything',
    pausedUntil: (d: string) => `Marketing messages are paused until ${d}.`,
    saved: 'Your choices are saved.',
    unsubscribed: 'You are unsubscribed from all marketing messages.',
    paused: 'Marketing messages are paused for 30 days.',
    resumed: 'Messages are on again.',
    note: 'Order confirmations and other service messages are still sent.',
    rewardsTitle: 'Your rewards',
    balance: 'Points available',
    worth: (v: string) => `worth ${v}`,
    pending: (n: string) => `${n} points pending (they become available after the return window)`,
    settles: (n: string, d: string) => `${n} available from ${d}`,
    tier: 'Tier',
    nextTier: (name: string, missing: string) => `${missing} more points to ${name}`,
    nextTierSpend: (name: string, missing: string) => `${missing} more spend to ${name}`,
    keepTier: (name: string, missing: string, date: string) => `${missing} more by ${date} to keep ${name}`,
    tierKept: (name: string, date: string) => `${name} is yours until at least ${date}`,
    topTier: 'You are in the highest tier.',
    rewards: 'Rewards',
    canRedeem: 'Enough points to redeem',
    needMore: (n: string) => `${n} more points needed`,
    forTier: (tier: string) => `For higher tiers (${tier} and above)`,
    howToRedeem: 'To redeem a reward, open Rewards in our store while signed in to your account.',
    history: 'History',
    historyPart: (shown: string, all: string) => `The latest ${shown} of ${all} entries.`,
    referral: 'Invite friends',
    referralText: 'Share your code: friends get points on their first order, and so do you.',
    none: 'Nothing yet.',
    notMember: 'You are not a member of the rewards program yet.',
    credit: 'Store credit',
    creditCode: 'Enter this code at checkout to spend it:',
    entry: {
      order: (n: string) => `Order ${n}`,
      refunded: (n: string) => `Order ${n} refunded`,
      cancelled: (n: string) => `Order ${n} cancelled`,
      redeemed: (name: string) => `Redeemed ${name}`,
      rule: {
        signup: 'Joined the program',
        birthday: 'Birthday',
        review: 'Review',
        share: 'Shared a product',
        referral: 'Invited a friend',
      } as Record<string, string>,
      bonus: 'Bonus points',
      expired: 'Points expired',
      adjusted: 'Adjusted by the store',
      repaid: 'Repays points spent before a refund',
      other: 'Points changed',
    },
  },
  ko: {
    title: '메시지 수신 설정',
    channels: '연락 방법',
    topics: '받고 싶은 소식',
    channel: { email: '이메일', sms: '문자 메시지(SMS)', kakao: '카카오톡' },
    topic: { offers: '할인 및 혜택', new_products: '신상품 소식', rewards: '적립금 및 포인트', surveys: '설문' },
    save: '설정 저장',
    pause: '30일 동안 광고 메시지 받지 않기',
    resume: '지금부터 다시 받기',
    unsubscribeAll: '모든 광고 메시지 수신 거부',
    pausedUntil: (d: string) => `${d}까지 광고 메시지 발송이 중지됩니다.`,
    saved: '설정이 저장되었습니다.',
    unsubscribed: '모든 광고성 메시지 수신이 거부되었습니다.',
    paused: '30일 동안 광고 메시지를 보내지 않습니다.',
    resumed: '메시지 수신이 다시 시작되었습니다.',
    note: '주문 확인 등 서비스 안내 메시지는 계속 발송됩니다.',
    rewardsTitle: '나의 적립 혜택',
    balance: '사용 가능한 포인트',
    worth: (v: string) => `${v} 상당`,
    pending: (n: string) => `적립 예정 ${n}포인트 (반품 기간이 지나면 사용할 수 있어요)`,
    settles: (n: string, d: string) => `${d}부터 ${n}포인트 사용 가능`,
    tier: '등급',
    nextTier: (name: string, missing: string) => `${name} 등급까지 ${missing}포인트 남았어요`,
    nextTierSpend: (name: string, missing: string) => `${name} 등급까지 ${missing} 더 구매하면 돼요`,
    keepTier: (name: string, missing: string, date: string) =>
      `${date}까지 ${missing} 더 모으면 ${name} 등급이 유지돼요`,
    tierKept: (name: string, date: string) => `${name} 등급이 최소 ${date}까지 유지돼요`,
    topTier: '최고 등급입니다.',
    rewards: '교환 가능한 혜택',
    canRedeem: '포인트가 충분해요',
    needMore: (n: string) => `${n}포인트 더 필요해요`,
    forTier: (tier: string) => `상위 등급 전용 (${tier} 등급 이상)`,
    howToRedeem: '혜택은 쇼핑몰에 로그인한 뒤 적립금 혜택 메뉴에서 사용할 수 있어요.',
    history: '적립 내역',
    historyPart: (shown: string, all: string) => `전체 ${all}건 중 최근 ${shown}건입니다.`,
    referral: '친구 초대',
    referralText: '초대 코드를 공유하세요. 친구가 첫 주문을 하면 친구와 나 모두 포인트를 받아요.',
    none: '아직 내역이 없습니다.',
    notMember: '아직 적립 프로그램 회원이 아닙니다.',
    credit: '적립금',
    creditCode: '결제할 때 이 코드를 입력하면 적립금을 사용할 수 있어요:',
    entry: {
      order: (n: string) => `주문 ${n} 적립`,
      refunded: (n: string) => `주문 ${n} 환불`,
      cancelled: (n: string) => `주문 ${n} 취소`,
      redeemed: (name: string) => `${name} 교환`,
      rule: {
        signup: '회원 가입',
        birthday: '생일',
        review: '리뷰 작성',
        share: '상품 공유',
        referral: '친구 초대',
      } as Record<string, string>,
      bonus: '이벤트 적립',
      expired: '포인트 소멸',
      adjusted: '포인트 조정',
      repaid: '환불 전에 사용한 포인트 상환',
      other: '포인트 변동',
    },
  },
} as const;

/** The notices the preference centre shows after a change. */
export type PreferenceNotice = 'saved' | 'unsubscribed' | 'paused' | 'resumed';

const dateIn = (lang: PageLang, ms: number) =>
  new Intl.DateTimeFormat(lang === 'ko' ? 'ko-KR' : 'en-GB', { dateStyle: 'long', timeZone: 'UTC' }).format(ms);

/** The preference centre: consent per channel and topic, pause for 30 days, unsubscribe from everything. */
export function preferencePage(lang: PageLang, prefs: Preferences, action: string, notice?: PreferenceNotice): string {
  const t = TEXT[lang];
  const box = (name: string, label: string, on: boolean) =>
    html`<label class="switch"><span>${label}</span><input type="checkbox" name="${name}" value="1"${on ? html` checked` : ''}></label>`;
  return layout(
    lang,
    t.title,
    html`<h1>${t.title}</h1>${notice ? html`<p class="ok" role="status">${t[notice]}</p>` : ''}${
      prefs.pausedUntil !== null ? html`<p>${t.pausedUntil(dateIn(lang, prefs.pausedUntil))}</p>` : ''
    }<form method="post" action="${action}"><input type="hidden" name="do" value="save"><fieldset><legend>${t.channels}</legend>${CHANNELS.map(
      (c) => box(`channel_${c}`, t.channel[c], prefs.channels[c]),
    )}</fieldset><fieldset><legend>${t.topics}</legend>${TOPICS.map((x) => box(`topic_${x}`, t.topic[x], prefs.topics[x]))}</fieldset><button type="submit">${t.save}</button></form>
<form method="post" action="${action}"><input type="hidden" name="do" value="${prefs.pausedUntil !== null ? 'resume' : 'pause'}"><button class="secondary" type="submit">${prefs.pausedUntil !== null ? t.resume : t.pause}</button></form>
<form method="post" action="${action}"><input type="hidden" name="do" value="unsubscribe_all"><button class="secondary" type="submit">${t.unsubscribeAll}</button></form><p class="muted">${t.note}</p>`,
  );
}

/**
 * Formats minor units of a currency for people, by the ISO 4217 exponent the amounts are stored in
 * (IDR, HUF, COP and PKR have 2 there, where Intl shows 0 decimals).
 */
function money(lang: PageLang, minor: number, currency: string): string {
  return formatMoney(minor, currency, lang === 'ko' ? 'ko-KR' : 'en-GB');
}

/**
 * What a history line says to the customer, in their language: from the entry's kind, rule and the
 * store's order number, never the ledger's `reason` (written for staff, in English, with Comeback's ids).
 */
/** How many lines of history the rewards page shows. */
const HISTORY_LINES = 20;

function entryText(lang: PageLang, e: LedgerEntry): string {
  const t = TEXT[lang].entry;
  const order = e.orderNumber ?? '';
  if (e.source === 'order' && e.kind === 'earn') return t.order(order);
  if (e.source === 'order' && e.kind === 'reverse')
    return e.reason.endsWith(' cancelled') ? t.cancelled(order) : t.refunded(order);
  if (e.kind === 'redeem')
    return e.reason.startsWith('redeemed ') ? t.redeemed(e.reason.slice('redeemed '.length)) : t.other;
  if (e.kind === 'earn' && e.source === 'rule') return t.rule[e.rule] ?? t.bonus;
  if (e.kind === 'expire') return t.expired;
  if (e.kind === 'adjust') return t.adjusted;
  if (e.kind === 'repay') return t.repaid;
  return t.other;
}

/**
 * The rewards page of a member without a store login: spendable points and their worth, pending points
 * and when they become available, tier, store credit and its checkout code (when there is any), rewards
 * (by `tierAllowsReward` and the points available, as the launcher and `redeem`; redeeming happens in
 * the store's launcher, not here), history, referral code.
 */
export function rewardsPage(
  lang: PageLang,
  status: MemberStatus | undefined,
  config: ProgramConfig | undefined,
): string {
  const t = TEXT[lang];
  if (!status || !config) return layout(lang, t.rewardsTitle, html`<h1>${t.rewardsTitle}</h1><p>${t.notMember}</p>`);
  const count = (n: number) => n.toLocaleString(lang === 'ko' ? 'ko-KR' : 'en-GB');
  // Tiers are reached on the program's basis over its window (`qualifyingValue`), as the launcher says.
  const missing = status.nextTier ? Math.max(0, status.nextTier.threshold - status.nextTier.qualifying) : 0;
  const toNext = (name: string) =>
    config.tiers.basis === 'spend'
      ? t.nextTierSpend(name, money(lang, missing, config.currency))
      : t.nextTier(name, count(missing));
  const rewardState = (r: ProgramConfig['rewards'][number]) =>
    !tierAllowsReward(config, r, status.tier.key)
      ? html`<span class="muted" data-reward-state="tier">${t.forTier(tierByKey(config, r.minTier!).name)}</span>`
      : r.cost <= status.available
        ? html`<span class="ok" data-reward-state="enough">${t.canRedeem}</span>`
        : html`<span data-reward-state="short">${t.needMore(count(r.cost - status.available))}</span>`;
  // The ledger's entries and the expiries due but not booked yet, newest first, as one history.
  const lines = memberHistory(status).map((h) => ({
    ...h,
    text: h.due ? t.entry.expired : entryText(lang, h.entry),
  }));
  return layout(
    lang,
    t.rewardsTitle,
    html`<h1>${t.rewardsTitle}</h1>
<div class="row"><div><div class="muted">${t.balance}</div><div class="big" data-balance>${count(status.available)}</div><div class="muted">${t.worth(money(lang, status.availableValueMinor, status.currency))}</div></div>
<div><div class="muted">${t.tier}</div><div class="big">${status.tier.name}</div></div></div>
${
  status.pending > 0
    ? html`<p class="muted" data-pending>${t.pending(count(status.pending))}</p>${
        status.pendingSettles.length > 0
          ? html`<ul class="muted">${status.pendingSettles.map((s) => html`<li data-settles>${t.settles(count(s.points), dateIn(lang, s.availableAt))}</li>`)}</ul>`
          : ''
      }`
    : ''
}
${
  status.credit && status.credit.balanceMinor > 0
    ? html`<h2>${t.credit}</h2><div class="big" data-credit>${money(lang, status.credit.balanceMinor, status.credit.currency)}</div><p>${t.creditCode}</p><p class="big"><code data-credit-code>${status.credit.code}</code></p>`
    : ''
}
<p data-next-tier>${status.nextTier ? toNext(status.nextTier.name) : t.topTier}</p>${
      status.tierKeep
        ? html`<p class="muted" data-keep-tier>${
            status.tierKeep.missing > 0
              ? t.keepTier(
                  status.tier.name,
                  config.tiers.basis === 'spend'
                    ? money(lang, status.tierKeep.missing, config.currency)
                    : lang === 'ko'
                      ? `${count(status.tierKeep.missing)}포인트`
                      : `${count(status.tierKeep.missing)} points`,
                  dateIn(lang, status.tierKeep.reviewAt - 1),
                )
              : t.tierKept(status.tier.name, dateIn(lang, status.tierKeep.reviewAt - 1))
          }</p>`
        : ''
    }
<h2>${t.rewards}</h2><table>${config.rewards.map(
      (r) => html`<tr><td>${r.name}</td><td class="n">${count(r.cost)}</td><td>${rewardState(r)}</td></tr>`,
    )}</table><p class="muted">${t.howToRedeem}</p>
<h2>${t.history}</h2>${
      lines.length === 0
        ? html`<p class="muted">${t.none}</p>`
        : html`<table>${lines
            .slice(0, HISTORY_LINES)
            .map(
              (line) =>
                html`<tr${line.due ? html` data-due-expiry` : ''}><td>${new Date(line.at).toISOString().slice(0, 10)}</td><td>${line.text}</td><td class="n">${line.points > 0 ? '+' : ''}${count(line.points)}</td></tr>`,
            )}</table>${
            lines.length > HISTORY_LINES || status.entryCount > status.entries.length
              ? html`<p class="muted" data-history-part>${t.historyPart(count(Math.min(HISTORY_LINES, lines.length)), count(status.entryCount + status.dueExpiries.length))}</p>`
              : ''
          }`
    }
<h2>${t.referral}</h2><p>${t.referralText}</p><p class="big"><code>${status.referralCode}</code></p>`,
  );
}
