import { createContext, useContext } from 'react';
import type { LifecycleStage } from '../../src/segments/lifecycle.js';
import { COMPOSE_EN, COMPOSE_KO } from './i18n-compose.js';
import { CUSTOMERS_EN, CUSTOMERS_KO } from './i18n-customers.js';
import { FEEDBACK_EN, FEEDBACK_KO } from './i18n-feedback.js';
import { FLOWS_EN, FLOWS_KO } from './i18n-flows.js';
import { OUTREACH_EN, OUTREACH_KO } from './i18n-outreach.js';

/** The dashboard's languages. */
export type Lang = 'en' | 'ko';

const en = {
  appName: 'Comeback',
  tagline: 'Customer retention',
  navOverview: 'Overview',
  navCohorts: 'Cohorts',
  navCustomers: 'Customers',
  navSegments: 'Segments',
  navPredictions: 'Predictions',
  signOut: 'Sign out',
  signInTitle: 'Sign in to Comeback',
  signInLead: 'Use the admin account, or paste an API key.',
  username: 'User name',
  password: 'Password',
  signIn: 'Sign in',
  signingIn: 'Signing in…',
  or: 'or',
  apiKey: 'API key',
  useKey: 'Use this key',
  wrongLogin: 'Wrong user name or password.',
  badKey: 'This key was not accepted.',
  loading: 'Loading…',
  error: 'Something went wrong',
  retry: 'Try again',
  noData: 'No data yet',
  noDataHint: 'Import orders (comeback import) and this page fills in.',
  asOfLabel: 'Data as of {date}',
  period: 'Period',
  activeWindow: 'Active within',
  groupBy: 'Side by side by',
  groupNone: 'Whole store',
  windowAuto: 'From this store ({n} days)',
  windowAutoShort: 'From this store',
  reactivatedCustomers: 'Reactivated customers',
  revenueChurn: 'Revenue churn',
  historyShort:
    'Retention and churn are not shown: the sales start on {start}, but a {days}-day active window before {from} needs them from {needed}. Choose a shorter window or a later period.',
  periodBeforeHistory:
    'The period starts on {from} and the sales on {start}: no purchase before the period can be seen, so customers at the start, new, reactivated and returning customers are not shown.',
  periodOutsideHistory:
    'The period ends on {to}, before the sales start on {start}: the data holds nothing of it, so none of its figures is shown (they are unknown, not 0).',
  partialMonth: '* {month}: partial month, the data stops on {day} ({days} of {of} days).',
  firstCohort:
    '† {month}: the data starts on {day}, so this cohort holds every customer already buying then, not only those acquired in it.',
  partialMonths: '* The data stops inside this month: it covers only part of it.',
  currencyLeftOut:
    'Sales in {currency} are not shown: nobody bought in {currency} in these periods (last sale {day}). `comeback report --currency {currency} --as-of {iso}` reports them.',
  groupsTitle: 'By {by}',
  groupCannotLeave: 'too recent at the start to leave in the period: a churn of 0 by construction, not a finding',
  group: 'Group',
  days: '{n} days',
  lastMonths: 'Last {n} months',
  previousPeriod: 'vs {from} – {to}',
  noPrevious: 'no previous data',
  customers: 'Customers',
  activeDefinition:
    'An active customer bought in the {days} days before a date; retention compares the start and the end of the period.',
  customersEnd: 'Active customers',
  newCustomers: 'New customers',
  crr: 'Retention rate (CRR)',
  churnRate: 'Churn rate',
  repeatPurchaseRate: 'Repeat purchase rate',
  returningCustomerRate: 'Returning customer rate',
  revenue: 'Revenue',
  orders: 'Orders',
  aov: 'Average order value',
  purchaseFrequency: 'Purchase frequency',
  clv: 'Customer lifetime value',
  netRevenueRetention: 'Net revenue retention',
  newVsReturningTitle: 'Revenue from new vs returning customers',
  buyersTitle: 'Buyers per month: new and returning',
  newRevenue: 'New customers',
  returningRevenue: 'Returning customers',
  month: 'Month',
  secondOrderTitle: 'Time to second order',
  medianDays: 'Median days to a second order',
  within: 'Came back within {n} days',
  cohortsTitle: 'Acquisition cohorts',
  cohortsLead: 'Customers grouped by the month of their first order, and what each group did in the months after.',
  metricCustomers: 'Customers',
  metricRevenue: 'Revenue',
  metricLtv: 'LTV',
  cohort: 'Cohort',
  cohortSize: 'Size',
  monthsSince: 'Months since first order',
  shareActive: 'Share who bought',
  revenuePerCustomer: 'Revenue per customer',
  ltvPerCustomer: 'Cumulative revenue per customer',
  search: 'Search',
  searchPlaceholder: 'Id, e-mail, name…',
  customersFound: '{n} customers',
  country: 'Country',
  firstSeen: 'First seen',
  lastOrder: 'Last order',
  previous: 'Previous',
  next: 'Next',
  back: 'Back to customers',
  customer: 'Customer',
  timeline: 'Timeline',
  ordersTitle: 'Orders',
  scores: 'Scores',
  segments: 'Segments',
  date: 'Date',
  status: 'Status',
  statusPaid: 'Paid',
  statusPartiallyRefunded: 'Partly refunded',
  statusRefunded: 'Refunded',
  statusCancelled: 'Cancelled',
  statusPending: 'Pending',
  total: 'Total',
  items: 'Items',
  pAlive: 'P(alive)',
  expectedPurchases: 'Expected orders, 12 months',
  predictedClv: 'Predicted CLV, 12 months',
  rfmScore: 'RFM score',
  rfmGroup: 'RFM group',
  persona: 'Persona',
  lifecycle: 'Lifecycle stage',
  savedSegments: 'Saved segments',
  noneYet: 'None',
  firstOrder: 'First order',
  orderPlaced: 'Order {id}',
  refund: 'Refund',
  rfmTitle: 'RFM grid',
  rfmLead: 'Recency × frequency scores (5 = best); each cell shows its customers, colour shows revenue.',
  recency: 'Recency score',
  frequency: 'Frequency score',
  rfmGroups: 'RFM groups',
  personasTitle: 'Personas',
  play: 'What to do',
  lifecycleTitle: 'Lifecycle',
  migrationTitle: 'Migration over the last 90 days',
  migrationLead: 'Rows: stage 90 days ago. Columns: stage now.',
  stageNone: 'No order yet',
  stageNew: 'New',
  stageActive: 'Active',
  stageAtRisk: 'At risk',
  stageLapsed: 'Lapsed',
  stageChurned: 'Churned',
  savedTitle: 'Saved segments',
  savedEmpty: 'No saved segments yet. Create one with comeback segments save.',
  size: 'Size',
  sizeOverTime: 'Size over time',
  exportCsv: 'Export CSV',
  predictionsTitle: 'Predictions',
  predictionsLead: 'BG/NBD and Gamma-Gamma fitted to every customer’s order history.',
  pAliveDist: 'Probability a customer is still active',
  clvDist: 'Predicted 12-month CLV',
  meanPAlive: 'Average P(alive)',
  totalClv: 'Total predicted CLV, 12 months',
  modelCustomers: 'Customers modelled',
  holdoutTitle: 'Hold-out check',
  holdoutLead: 'Fitted on the data before {date}, then compared with what customers did in the {n} weeks after.',
  predicted: 'Predicted',
  actual: 'Actual',
  repeatOrdersBefore: 'Repeat purchases before the hold-out',
  meanPurchases: 'Mean purchases in the hold-out',
  numberOfCustomers: 'Number of customers',
  notFitted: 'The models could not be fitted',
  pAliveNotInformative: 'P(alive) is not shown: this store’s history cannot tell who has left',
  pAliveFallback: 'Churn risk and lifecycle stages use days since the last order instead.',
  language: 'Language',
  ...FLOWS_EN,
  ...OUTREACH_EN,
  ...CUSTOMERS_EN,
  ...FEEDBACK_EN,
  ...COMPOSE_EN,
} as const;

/** A message key. */
export type MessageKey = keyof typeof en;

const ko: Record<MessageKey, string> = {
  appName: 'Comeback',
  tagline: '고객 리텐션',
  navOverview: '개요',
  navCohorts: '코호트',
  navCustomers: '고객',
  navSegments: '세그먼트',
  navPredictions: '예측',
  signOut: '로그아웃',
  signInTitle: 'Comeback 로그인',
  signInLead: '관리자 계정으로 로그인하거나 API 키를 붙여 넣으세요.',
  username: '사용자 이름',
  password: '비밀번호',
  signIn: '로그인',
  signingIn: '로그인 중…',
  or: '또는',
  apiKey: 'API 키',
  useKey: '이 키 사용',
  wrongLogin: '사용자 이름 또는 비밀번호가 올바르지 않습니다.',
  badKey: '이 키는 허용되지 않았습니다.',
  loading: '불러오는 중…',
  error: '문제가 발생했습니다',
  retry: '다시 시도',
  noData: '아직 데이터가 없습니다',
  noDataHint: '주문을 가져오면(comeback import) 이 페이지가 채워집니다.',
  asOfLabel: '{date} 기준 데이터',
  period: '기간',
  activeWindow: '활성 기준',
  groupBy: '비교 기준',
  groupNone: '전체 스토어',
  windowAuto: '스토어 기준 ({n}일)',
  windowAutoShort: '스토어 기준',
  reactivatedCustomers: '복귀 고객',
  revenueChurn: '매출 이탈률',
  historyShort:
    '유지율과 이탈률을 표시하지 않습니다: 판매 기록은 {start}부터인데, {from} 이전 {days}일 활성 기준에는 {needed}부터의 기록이 필요합니다. 더 짧은 기준이나 이후 기간을 고르세요.',
  periodBeforeHistory:
    '기간은 {from}에 시작하고 판매 기록은 {start}부터입니다: 기간 이전의 구매를 알 수 없어 기간 시작 고객, 신규·복귀·재구매 고객을 표시하지 않습니다.',
  periodOutsideHistory:
    '기간은 {to}에 끝나고 판매 기록은 {start}부터입니다: 이 기간의 데이터가 없어 어떤 수치도 표시하지 않습니다(0이 아니라 알 수 없음).',
  partialMonth: '* {month}: 부분 월입니다. 데이터는 {day}까지입니다({of}일 중 {days}일).',
  firstCohort:
    '† {month}: 데이터가 {day}부터 시작하므로 이 코호트에는 그 달에 새로 유입된 고객뿐 아니라 이미 구매하던 고객이 모두 포함됩니다.',
  partialMonths: '* 데이터가 이 달 중간에 끝나 일부만 포함합니다.',
  currencyLeftOut:
    '{currency} 판매는 표시하지 않습니다: 이 기간에 {currency}로 구매한 고객이 없습니다(마지막 판매 {day}). `comeback report --currency {currency} --as-of {iso}`로 볼 수 있습니다.',
  groupsTitle: '{by}별',
  groupCannotLeave:
    '시작 시점에 최근 구매 고객이라 기간 안에 이탈할 수 없음: 이탈률 0은 계산상 당연한 값이며 발견이 아닙니다',
  group: '그룹',
  days: '{n}일',
  lastMonths: '최근 {n}개월',
  previousPeriod: '비교: {from} – {to}',
  noPrevious: '이전 데이터 없음',
  customers: '고객',
  activeDefinition: '활성 고객은 기준일 이전 {days}일 안에 구매한 고객입니다. 유지율은 기간 시작과 끝을 비교합니다.',
  customersEnd: '활성 고객',
  newCustomers: '신규 고객',
  crr: '고객 유지율(CRR)',
  churnRate: '이탈률',
  repeatPurchaseRate: '재구매율',
  returningCustomerRate: '재방문 고객 비율',
  revenue: '매출',
  orders: '주문',
  aov: '평균 주문 금액',
  purchaseFrequency: '구매 빈도',
  clv: '고객 생애 가치',
  netRevenueRetention: '순매출 유지율',
  newVsReturningTitle: '신규 고객 대 재구매 고객 매출',
  buyersTitle: '월별 구매 고객: 신규와 재구매',
  newRevenue: '신규 고객',
  returningRevenue: '재구매 고객',
  month: '월',
  secondOrderTitle: '두 번째 주문까지의 기간',
  medianDays: '두 번째 주문까지의 중앙값(일)',
  within: '{n}일 이내 재구매',
  cohortsTitle: '획득 코호트',
  cohortsLead: '첫 주문 월로 고객을 묶고, 각 그룹이 이후 몇 달 동안 어떻게 구매했는지 보여 줍니다.',
  metricCustomers: '고객',
  metricRevenue: '매출',
  metricLtv: 'LTV',
  cohort: '코호트',
  cohortSize: '규모',
  monthsSince: '첫 주문 후 경과 월',
  shareActive: '구매한 고객 비율',
  revenuePerCustomer: '고객당 매출',
  ltvPerCustomer: '고객당 누적 매출',
  search: '검색',
  searchPlaceholder: 'ID, 이메일, 이름…',
  customersFound: '고객 {n}명',
  country: '국가',
  firstSeen: '최초 방문',
  lastOrder: '최근 주문',
  previous: '이전',
  next: '다음',
  back: '고객 목록으로',
  customer: '고객',
  timeline: '타임라인',
  ordersTitle: '주문',
  scores: '점수',
  segments: '세그먼트',
  date: '날짜',
  status: '상태',
  statusPaid: '결제 완료',
  statusPartiallyRefunded: '부분 환불',
  statusRefunded: '환불',
  statusCancelled: '취소',
  statusPending: '대기',
  total: '합계',
  items: '상품 수',
  pAlive: '활성 확률',
  expectedPurchases: '12개월 예상 주문 수',
  predictedClv: '12개월 예측 CLV',
  rfmScore: 'RFM 점수',
  rfmGroup: 'RFM 그룹',
  persona: '페르소나',
  lifecycle: '라이프사이클 단계',
  savedSegments: '저장된 세그먼트',
  noneYet: '없음',
  firstOrder: '첫 주문',
  orderPlaced: '주문 {id}',
  refund: '환불',
  rfmTitle: 'RFM 그리드',
  rfmLead: '최근성 × 빈도 점수(5 = 최고). 각 칸에는 고객 수가, 색에는 매출이 표시됩니다.',
  recency: '최근성 점수',
  frequency: '빈도 점수',
  rfmGroups: 'RFM 그룹',
  personasTitle: '페르소나',
  play: '권장 조치',
  lifecycleTitle: '라이프사이클',
  migrationTitle: '최근 90일 이동',
  migrationLead: '행: 90일 전 단계. 열: 현재 단계.',
  stageNone: '주문 없음',
  stageNew: '신규',
  stageActive: '활성',
  stageAtRisk: '위험',
  stageLapsed: '휴면',
  stageChurned: '이탈',
  savedTitle: '저장된 세그먼트',
  savedEmpty: '저장된 세그먼트가 없습니다. comeback segments save 로 만드세요.',
  size: '규모',
  sizeOverTime: '규모 추이',
  exportCsv: 'CSV 내보내기',
  predictionsTitle: '예측',
  predictionsLead: '모든 고객의 주문 이력에 BG/NBD와 Gamma-Gamma 모델을 적합했습니다.',
  pAliveDist: '고객이 아직 활성일 확률',
  clvDist: '12개월 예측 CLV',
  meanPAlive: '평균 활성 확률',
  totalClv: '12개월 예측 CLV 합계',
  modelCustomers: '모델링된 고객',
  holdoutTitle: '홀드아웃 검증',
  holdoutLead: '{date} 이전 데이터로 적합한 뒤, 이후 {n}주 동안의 실제 구매와 비교했습니다.',
  predicted: '예측',
  actual: '실제',
  repeatOrdersBefore: '홀드아웃 이전 재구매 횟수',
  meanPurchases: '홀드아웃 기간 평균 구매 수',
  numberOfCustomers: '고객 수',
  notFitted: '모델을 적합할 수 없습니다',
  pAliveNotInformative: '활성 확률을 표시하지 않습니다: 이 스토어의 이력으로는 누가 떠났는지 알 수 없습니다',
  pAliveFallback: '이탈 위험과 라이프사이클 단계는 마지막 주문 이후 일수로 판단합니다.',
  language: '언어',
  ...FLOWS_KO,
  ...OUTREACH_KO,
  ...CUSTOMERS_KO,
  ...FEEDBACK_KO,
  ...COMPOSE_KO,
};

const MESSAGES: Record<Lang, Record<MessageKey, string>> = { en, ko };

/** `?lang=ko|en` wins, then the browser's preferred languages, then English. */
export function detectLang(search: string, languages: readonly string[]): Lang {
  const asked = new URLSearchParams(search).get('lang');
  if (asked === 'ko' || asked === 'en') return asked;
  for (const language of languages) {
    const base = language.toLowerCase().split('-')[0];
    if (base === 'ko' || base === 'en') return base;
  }
  return 'en';
}

/** Minor-unit digits of currencies that differ from the usual two. */
const CURRENCY_DIGITS: Readonly<Record<string, number>> = { KRW: 0, JPY: 0, VND: 0, CLP: 0, ISK: 0, HUF: 2, KWD: 3 };

/** Fraction digits of a currency: 0 for KRW and JPY, else 2 unless listed. */
export function currencyDigits(currency: string): number {
  return CURRENCY_DIGITS[currency.toUpperCase()] ?? 2;
}

/** Messages and formatters of one language. */
export interface I18n {
  lang: Lang;
  locale: string;
  t(key: MessageKey, values?: Record<string, string | number>): string;
  number(value: number, digits?: number): string;
  percent(fraction: number, digits?: number): string;
  money(value: number, currency: string): string;
  compactMoney(value: number, currency: string): string;
  date(ms: number): string;
  /** Date and time of an instant on the clock `offsetMinutes` east of UTC, with the zone (`UTC+01:00`). */
  localTime(ms: number, offsetMinutes: number): string;
  /**
   * `one` or `other` by the language's plural rule for `n` (Intl.PluralRules), with `{n}` formatted and
   * any other `values` filled in as `t` fills them.
   */
  count(n: number, one: MessageKey, other: MessageKey, values?: Record<string, string | number>): string;
  month(label: string): string;
}

/** A message with its `{name}` placeholders replaced by `values`. */
function fill(text: string, values: Record<string, string | number> | undefined): string {
  if (values) for (const [name, value] of Object.entries(values)) text = text.replaceAll(`{${name}}`, String(value));
  return text;
}

/** Builds the messages and `Intl` formatters of a language (dates in UTC: the store's dates are UTC). */
export function makeI18n(lang: Lang): I18n {
  const locale = lang === 'ko' ? 'ko-KR' : 'en-GB';
  const table = MESSAGES[lang];
  const dateFormat = new Intl.DateTimeFormat(locale, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    timeZone: 'UTC',
  });
  const timeFormat = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' });
  const plural = new Intl.PluralRules(locale);
  const numberFormat = new Intl.NumberFormat(locale);
  const monthFormat = new Intl.DateTimeFormat(locale, { year: 'numeric', month: 'short', timeZone: 'UTC' });
  return {
    lang,
    locale,
    t: (key, values) => fill(table[key], values),
    number: (value, digits = 0) =>
      new Intl.NumberFormat(locale, { minimumFractionDigits: digits, maximumFractionDigits: digits }).format(value),
    percent: (fraction, digits = 1) =>
      new Intl.NumberFormat(locale, {
        style: 'percent',
        minimumFractionDigits: digits,
        maximumFractionDigits: digits,
      }).format(fraction),
    money: (value, currency) => {
      const digits = currencyDigits(currency);
      return new Intl.NumberFormat(locale, {
        style: 'currency',
        currency,
        minimumFractionDigits: digits,
        maximumFractionDigits: digits,
      }).format(value);
    },
    compactMoney: (value, currency) =>
      new Intl.NumberFormat(locale, {
        style: 'currency',
        currency,
        notation: 'compact',
        maximumFractionDigits: 1,
      }).format(value),
    date: (ms) => dateFormat.format(ms),
    localTime: (ms, offsetMinutes) => `${timeFormat.format(ms + offsetMinutes * 60_000)} ${zoneLabel(offsetMinutes)}`,
    count: (n, one, other, values) =>
      fill(table[plural.select(n) === 'one' ? one : other], { ...values, n: numberFormat.format(n) }),
    month: (label) => {
      const [year, month] = label.split('-').map(Number);
      return year && month ? monthFormat.format(Date.UTC(year, month - 1, 1)) : label;
    },
  };
}

/** `UTC`, or `UTC+05:30` / `UTC−05:00` for a clock that many minutes east of UTC. */
export function zoneLabel(offsetMinutes: number): string {
  if (offsetMinutes === 0) return 'UTC';
  const abs = Math.abs(offsetMinutes);
  const hhmm = `${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  return `UTC${offsetMinutes > 0 ? '+' : '−'}${hhmm}`;
}

/** The message of each lifecycle stage (and of `none`, no order yet): a stage added on the server fails tsc here until it has one. */
const STAGE_MESSAGES: Readonly<Record<LifecycleStage | 'none', MessageKey>> = {
  none: 'stageNone',
  new: 'stageNew',
  active: 'stageActive',
  at_risk: 'stageAtRisk',
  lapsed: 'stageLapsed',
  churned: 'stageChurned',
};
const STAGE_KEYS: ReadonlyMap<string, MessageKey> = new Map(Object.entries(STAGE_MESSAGES));

/** A lifecycle stage's name in the current language; an unknown stage as the server sent it. */
export function stageLabel(i18n: I18n, stage: string): string {
  const key = STAGE_KEYS.get(stage);
  return key ? i18n.t(key) : stage;
}

/** The current language's messages and formatters. */
export const I18nContext = createContext<I18n>(makeI18n('en'));

/** Reads the current language's messages and formatters. */
export function useI18n(): I18n {
  return useContext(I18nContext);
}
