import type { Lang } from './i18n.js';

/**
 * The labels the server sends as keys (RFM groups, personas and their plays, built-in flow names,
 * model diagnostics, timeline entries, countries), in English and natural Korean. The dashboard shows
 * these, never the server's English text, except where a table's English is empty because the server's
 * English is the text (personas, built-in flows, diagnostics); an unknown key falls back to what the server sent.
 */

type Table = Readonly<Record<string, string>>;

const RFM_GROUPS: Record<Lang, Table> = {
  en: {
    Champions: 'Champions',
    Loyal: 'Loyal',
    'Potential loyalist': 'Potential loyalist',
    'New customers': 'New customers',
    Promising: 'Promising',
    'Need attention': 'Need attention',
    'About to sleep': 'About to sleep',
    'At risk': 'At risk',
    'Cannot lose them': 'Cannot lose them',
    Hibernating: 'Hibernating',
    Lost: 'Lost',
  },
  ko: {
    Champions: '최우수 고객',
    Loyal: '충성 고객',
    'Potential loyalist': '충성 고객 후보',
    'New customers': '신규 고객',
    Promising: '성장 기대 고객',
    'Need attention': '관심 필요 고객',
    'About to sleep': '휴면 직전 고객',
    'At risk': '이탈 위험 고객',
    'Cannot lose them': '놓치면 안 될 고객',
    Hibernating: '휴면 고객',
    Lost: '이탈 고객',
  },
};

/**
 * Korean only: in English the dashboard shows the label and play the server sends, which come from
 * `PERSONAS` in src/segments/personas.ts, the one English text (not imported: web/ imports only types
 * from src/, and personas.ts loads the store).
 */
const PERSONAS: Record<Lang, Readonly<Record<string, { label: string; play: string }>>> = {
  en: {},
  ko: {
    cart_abandoner: {
      label: '장바구니 이탈 고객',
      play: '하루 안에 장바구니에 담아 둔 상품을 알려 주고, 작은 혜택은 두 번째 안내 때만 더하세요.',
    },
    repeat_buyer: {
      label: '재구매 고객',
      play: '구매 습관에 보답하세요. 적립금과 등급, 신상품 먼저 보기, 자주 사는 상품의 묶음·정기배송 혜택이 잘 맞습니다.',
    },
    first_time_high_value: {
      label: '첫 구매 고객 (고액)',
      play: '처음부터 단골처럼 대하세요. 감사 인사를 직접 전하고, 세심한 서비스와 신상품을 먼저 고를 기회를 주세요.',
    },
    first_time_low_value: {
      label: '첫 구매 고객 (소액)',
      play: '장바구니를 키워 보세요. 함께 쓰기 좋은 상품과 묶음 구성을 추천하고, 무료배송 기준 금액을 알려 주세요.',
    },
    passive_browser: {
      label: '구경만 하는 고객',
      play: '둘러본 상품을 다시 보여 주세요. 사이트 안 맞춤 추천과 리타기팅 광고가 효과적입니다.',
    },
    bouncer: {
      label: '바로 나가는 방문자',
      play: '떠나기 전에 붙잡으세요. 이탈 직전 혜택 안내나 회원가입 혜택을 첫 화면에 보여 주세요.',
    },
  },
};

/** The names of the built-in flows, by key (a store that renames a flow sees its own name). */
const BUILTIN_FLOWS: Record<Lang, Readonly<Record<string, { en: string; name: string }>>> = {
  en: {},
  ko: {
    'win-back': { en: 'Win-back', name: '휴면 고객 다시 부르기' },
    'cart-abandonment': { en: 'Cart abandonment', name: '장바구니 이탈 안내' },
    'browse-abandonment': { en: 'Browse abandonment', name: '둘러본 상품 다시 보기' },
    welcome: { en: 'Welcome after a first order', name: '첫 구매 환영 인사' },
    'second-order': { en: 'Second-order nudge', name: '두 번째 구매 유도' },
    'review-request': { en: 'Review request', name: '구매 후기 요청' },
    replenishment: { en: 'Replenishment and buy-again', name: '재구매 시기 알림' },
    birthday: { en: 'Birthday', name: '생일 축하' },
    'consent-reconfirm': { en: '', name: '광고성 정보 수신동의 재확인 (2년마다)' },
  },
};

const DIAGNOSTICS: Record<Lang, Table> = {
  en: {},
  ko: {
    degenerate_data: '이 데이터로는 모델을 추정할 수 없습니다.',
    dropout_not_identified: '이 구매 이력으로는 누가 떠났는지 구분할 수 없어, 이탈 확률 없이 구매 빈도만 추정했습니다.',
    few_repeaters: '재구매 고객이 너무 적어 추정값이 불안정합니다.',
    history_shorter_than_window: '데이터 기간이 분석 기간보다 짧습니다.',
    spend_frequency_correlated: '구매 금액과 구매 빈도가 서로 관련되어 있어 금액 모델의 가정이 맞지 않습니다.',
    spend_mean_infinite: '추정된 평균 구매 금액이 한없이 커져 금액 예측을 믿을 수 없습니다.',
    zero_spend_left_out: '구매 금액이 0인 고객은 금액 모델에서 뺐습니다.',
    weakly_identified: '일부 모수의 표준오차가 추정값만큼 커서, 이 데이터로는 값을 확정할 수 없습니다.',
  },
};

const MODELS: Record<Lang, Table> = {
  en: { bgnbd: 'BG/NBD', pnbd: 'Pareto/NBD', gg: 'Gamma-Gamma' },
  ko: { bgnbd: 'BG/NBD', pnbd: 'Pareto/NBD', gg: 'Gamma-Gamma' },
};

const EVENT_KINDS: Record<Lang, Table> = {
  en: {},
  ko: {
    segment_entered: '고객 단계 변경',
    segment_exited: '이전 고객 단계',
    identify: '고객 정보 갱신',
    page: '페이지 방문',
    screen: '앱 화면 방문',
    track: '행동',
    active: '활동 고객',
    new: '신규 고객',
    at_risk: '이탈 위험 고객',
    lapsed: '휴면 고객',
    churned: '이탈 고객',
    lost: '이탈 고객',
    reactivated: '복귀 고객',
    prospect: '잠재 고객',
  },
};

/** The name of an RFM group (the server sends the English name as its key). */
export function rfmGroupLabel(lang: Lang, group: string): string {
  return RFM_GROUPS[lang][group] ?? group;
}

/** A persona's name and play, by its key; the server's text when the key is unknown. */
export function personaText(lang: Lang, persona: string, fallback: { label: string; play?: string }) {
  const found = PERSONAS[lang][persona];
  return { label: found?.label ?? fallback.label, play: found?.play ?? fallback.play ?? '' };
}

/** A flow's name: a built-in flow the store has not renamed shows its name in the reader's language. */
export function flowName(lang: Lang, key: string, name: string): string {
  const builtin = BUILTIN_FLOWS[lang][key];
  return builtin && (builtin.en === '' || builtin.en === name) ? builtin.name : name;
}

/** A model's display name by its code. */
export function modelName(lang: Lang, code: string): string {
  return MODELS[lang][code] ?? code;
}

/** A model diagnostic: the reader's language by code, the server's message when there is none. */
export function diagnosticText(lang: Lang, code: string, message: string): string {
  if (lang === 'en') return message;
  return DIAGNOSTICS[lang][code] ?? DIAGNOSTICS[lang].weakly_identified!;
}

/** A timeline event's type or value (`segment_entered`, `at_risk`) in the reader's language. */
export function eventWord(lang: Lang, word: string): string {
  return EVENT_KINDS[lang][word] ?? word.replaceAll('_', ' ');
}

const regionNames = new Map<Lang, Intl.DisplayNames>();

/** A country's name from its ISO code (`FR` → 프랑스), by `Intl.DisplayNames`; the code when unknown. */
export function countryName(lang: Lang, code: string | null | undefined): string | null {
  if (!code) return null;
  let names = regionNames.get(lang);
  if (!names) {
    names = new Intl.DisplayNames([lang === 'ko' ? 'ko-KR' : 'en-GB'], { type: 'region' });
    regionNames.set(lang, names);
  }
  try {
    return names.of(code.toUpperCase()) ?? code;
  } catch {
    return code;
  }
}

/** Dashboard messages of this module (merged into the main tables' users by key). */
export const KOREAN_EXTRA = {
  en: {
    pagination: 'Pages',
    percentPoints: '{n} pp',
    windowDerived:
      'derived: 9 in 10 of the store’s {gaps} repeat purchases came within {days} days of the previous one (rounded up to whole 30-day months)',
    windowFallback: '{gaps} repeat purchases are too few to derive a window from: {days} days',
    pAliveNoteGeneric: 'This purchase history cannot tell who has left, so P(alive) is not shown.',
  },
  ko: {
    pagination: '페이지',
    percentPoints: '{n}%p',
    windowDerived: '스토어의 재구매 {gaps}건 중 90%가 직전 구매 후 {days}일 안에 이루어졌습니다 (30일 단위로 올림).',
    windowFallback: '재구매가 {gaps}건뿐이라 기간을 정할 수 없어 {days}일을 씁니다.',
    pAliveNoteGeneric: '이 구매 이력으로는 누가 떠났는지 구분할 수 없어 생존 확률을 보여 드리지 않습니다.',
  },
} as const;

/** One message of this module, with `{name}` values filled. */
export function extra(
  lang: Lang,
  key: keyof (typeof KOREAN_EXTRA)['en'],
  values: Record<string, string | number> = {},
): string {
  let text: string = KOREAN_EXTRA[lang][key];
  for (const [name, value] of Object.entries(values)) text = text.replaceAll(`{${name}}`, String(value));
  return text;
}
