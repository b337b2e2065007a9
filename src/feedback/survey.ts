import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

/**
 * Survey definitions, as validated JSON. A survey has a kind (`nps`, `csat`, `exit`, `cart`,
 * `custom`), a title and questions in English and Korean, how long its links stay valid, and for
 * custom (needs) surveys the loyalty points an answer earns. Question kinds: `nps` (0–10), `rating`
 * (1–5), `choice` (one of the options) and `text`.
 */

const Text = Type.Object(
  { en: Type.String({ minLength: 1, maxLength: 500 }), ko: Type.String({ minLength: 1, maxLength: 500 }) },
  { additionalProperties: false },
);

const Option = Type.Object(
  { value: Type.String({ pattern: '^[a-z0-9_]{1,40}$' }), label: Text },
  { additionalProperties: false },
);

const Question = Type.Object(
  {
    id: Type.String({ pattern: '^[a-z0-9_]{1,40}$' }),
    type: Type.Union([Type.Literal('nps'), Type.Literal('rating'), Type.Literal('choice'), Type.Literal('text')]),
    label: Text,
    options: Type.Optional(Type.Array(Option, { minItems: 2, maxItems: 20 })),
    required: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const SurveySchema = Type.Object(
  {
    key: Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,39}$' }),
    kind: Type.Union([
      Type.Literal('nps'),
      Type.Literal('csat'),
      Type.Literal('exit'),
      Type.Literal('cart'),
      Type.Literal('custom'),
    ]),
    title: Text,
    questions: Type.Array(Question, { minItems: 1, maxItems: 20 }),
    /** Days a link stays valid after it is issued. */
    linkDays: Type.Integer({ minimum: 1, maximum: 365 }),
    /** Loyalty points for answering (custom surveys), credited once per link through the ledger. */
    points: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000 })),
  },
  { additionalProperties: false },
);
export type SurveyDefinition = Static<typeof SurveySchema>;
export type SurveyQuestion = SurveyDefinition['questions'][number];
export type SurveyKind = SurveyDefinition['kind'];

/** The reasons of the exit survey, in the order shown. */
export const EXIT_REASONS = [
  'too_expensive',
  'did_not_meet_needs',
  'found_better',
  'poor_service',
  'just_forgot',
] as const;
export type ExitReason = (typeof EXIT_REASONS)[number];

/** A problem in a survey document or an answer, at a dotted path (`questions.0.type`). */
export interface SurveyProblem {
  path: string;
  message: string;
}

/** Why an answer was refused, for a page to say in the customer's language. */
export type AnswerProblemCode =
  | 'unknown_question'
  | 'required'
  | 'out_of_range'
  | 'not_an_option'
  | 'not_text'
  | 'too_long';

/** A problem of an answer to a question (`path` is its id), with its `code`; `message` is English. */
export interface AnswerProblem extends SurveyProblem {
  code: AnswerProblemCode;
}

const dotted = (pointer: string) => pointer.replace(/^\//, '').replace(/\//g, '.') || '(root)';

function schemaProblems(schema: TSchema, value: unknown): SurveyProblem[] {
  const seen = new Set<string>();
  const problems: SurveyProblem[] = [];
  for (const error of Value.Errors(schema, value)) {
    const path = dotted(error.path);
    if (seen.has(`${path}|${error.message}`)) continue;
    seen.add(`${path}|${error.message}`);
    problems.push({ path, message: error.message });
  }
  return problems.filter((p) => !problems.some((q) => q !== p && q.path.startsWith(`${p.path}.`)));
}

/**
 * Checks a survey document: the schema, then the rules it cannot say (choice questions need options
 * and only they may have them; question ids are unique; an NPS survey has an `nps` question named
 * `score`, a CSAT survey a `rating` named `score`, exit and cart surveys a `choice` named `reason`;
 * only custom surveys earn points). Problems name the field.
 */
export function validateSurvey(
  input: unknown,
): { ok: true; survey: SurveyDefinition } | { ok: false; problems: SurveyProblem[] } {
  if (!Value.Check(SurveySchema, input)) return { ok: false, problems: schemaProblems(SurveySchema, input) };
  const survey = input;
  const problems: SurveyProblem[] = [];
  const ids = new Set<string>();
  survey.questions.forEach((q, i) => {
    if (ids.has(q.id)) problems.push({ path: `questions.${i}.id`, message: `${q.id} is used twice` });
    ids.add(q.id);
    if (q.type === 'choice' && !q.options)
      problems.push({ path: `questions.${i}.options`, message: 'a choice needs options' });
    if (q.type !== 'choice' && q.options)
      problems.push({ path: `questions.${i}.options`, message: 'only choice questions have options' });
    if (q.options) {
      const values = new Set<string>();
      q.options.forEach((o, j) => {
        if (values.has(o.value))
          problems.push({ path: `questions.${i}.options.${j}.value`, message: `${o.value} is used twice` });
        values.add(o.value);
      });
    }
  });
  const main: Record<SurveyKind, { id: string; type: SurveyQuestion['type'] } | undefined> = {
    nps: { id: 'score', type: 'nps' },
    csat: { id: 'score', type: 'rating' },
    exit: { id: 'reason', type: 'choice' },
    cart: { id: 'reason', type: 'choice' },
    custom: undefined,
  };
  const wanted = main[survey.kind];
  if (wanted && !survey.questions.some((q) => q.id === wanted.id && q.type === wanted.type)) {
    problems.push({
      path: 'questions',
      message: `a ${survey.kind} survey needs a ${wanted.type} question with id ${wanted.id}`,
    });
  }
  if (survey.kind === 'exit') {
    const reason = survey.questions.find((q) => q.id === 'reason');
    const values = reason?.options?.map((o) => o.value) ?? [];
    for (const r of EXIT_REASONS)
      if (!values.includes(r))
        problems.push({ path: 'questions.reason.options', message: `the exit survey offers ${r}` });
  }
  if (survey.points !== undefined && survey.points > 0 && survey.kind !== 'custom')
    problems.push({ path: 'points', message: 'only custom surveys earn points' });
  return problems.length > 0 ? { ok: false, problems } : { ok: true, survey };
}

/** A checked answer: the score (NPS/CSAT), the reason (exit/cart), the free text and every answer by id. */
export interface SurveyAnswer {
  score: number | null;
  reason: string | null;
  comment: string | null;
  answers: Record<string, string | number>;
}

/**
 * Checks an answer to a survey, from a form (strings) or JSON: NPS 0–10, ratings 1–5 (whole numbers),
 * a choice among the options, text up to 2000 characters; required questions answered; unknown
 * fields refused. Problems name the question id.
 */
export function checkAnswer(
  survey: SurveyDefinition,
  given: Record<string, unknown>,
): { ok: true; answer: SurveyAnswer } | { ok: false; problems: AnswerProblem[] } {
  const problems: AnswerProblem[] = [];
  const answers: Record<string, string | number> = {};
  const known = new Set(survey.questions.map((q) => q.id));
  for (const key of Object.keys(given))
    if (!known.has(key))
      problems.push({ path: key, code: 'unknown_question', message: 'not a question of this survey' });
  for (const q of survey.questions) {
    const raw = given[q.id];
    const empty = raw === undefined || raw === null || (typeof raw === 'string' && raw.trim() === '');
    const required = q.required ?? q.type !== 'text';
    if (empty) {
      if (required) problems.push({ path: q.id, code: 'required', message: 'an answer is needed' });
      continue;
    }
    if (q.type === 'nps' || q.type === 'rating') {
      const n =
        typeof raw === 'number' ? raw : typeof raw === 'string' && /^\s*\d+\s*$/.test(raw) ? Number(raw) : Number.NaN;
      const [lo, hi] = q.type === 'nps' ? [0, 10] : [1, 5];
      if (!Number.isInteger(n) || n < lo || n > hi)
        problems.push({ path: q.id, code: 'out_of_range', message: `a whole number from ${lo} to ${hi}` });
      else answers[q.id] = n;
    } else if (q.type === 'choice') {
      const v = String(raw).trim();
      if (!q.options!.some((o) => o.value === v))
        problems.push({
          path: q.id,
          code: 'not_an_option',
          message: `one of ${q.options!.map((o) => o.value).join(', ')}`,
        });
      else answers[q.id] = v;
    } else {
      if (typeof raw !== 'string') problems.push({ path: q.id, code: 'not_text', message: 'text' });
      else if (raw.length > 2000) problems.push({ path: q.id, code: 'too_long', message: 'at most 2000 characters' });
      else answers[q.id] = raw.trim();
    }
  }
  if (problems.length > 0) return { ok: false, problems };
  const score =
    typeof answers.score === 'number' && (survey.kind === 'nps' || survey.kind === 'csat') ? answers.score : null;
  const reason = typeof answers.reason === 'string' ? answers.reason : null;
  const comment = typeof answers.comment === 'string' ? answers.comment : null;
  return { ok: true, answer: { score, reason, comment, answers } };
}

const t = (en: string, ko: string) => ({ en, ko });
const comment = (en: string, ko: string): SurveyQuestion => ({ id: 'comment', type: 'text', label: t(en, ko) });

/** The built-in surveys, saved on first use: `nps`, `csat`, `exit`, `cart`. */
export const BUILTIN_SURVEYS: readonly SurveyDefinition[] = [
  {
    key: 'nps',
    kind: 'nps',
    title: t('How are we doing?', '저희 서비스는 어떠셨나요?'),
    questions: [
      {
        id: 'score',
        type: 'nps',
        label: t(
          'How likely are you to recommend us to a friend or colleague?',
          '친구나 동료에게 저희 쇼핑몰을 추천하실 가능성은 얼마나 되나요?',
        ),
      },
      comment('What is the main reason for your score?', '그렇게 평가하신 가장 큰 이유는 무엇인가요?'),
    ],
    linkDays: 30,
  },
  {
    key: 'csat',
    kind: 'csat',
    title: t('How did we do?', '만족스러우셨나요?'),
    questions: [
      {
        id: 'score',
        type: 'rating',
        label: t(
          'How satisfied are you with your order or your contact with us?',
          '이번 주문이나 상담에 얼마나 만족하셨나요?',
        ),
      },
      comment('Anything we could do better?', '더 나아졌으면 하는 점이 있으신가요?'),
    ],
    linkDays: 14,
  },
  {
    key: 'exit',
    kind: 'exit',
    title: t('We miss you', '다시 뵙고 싶어요'),
    questions: [
      {
        id: 'reason',
        type: 'choice',
        label: t(
          'What is the main reason you stopped shopping with us?',
          '저희 쇼핑몰을 더 이상 이용하지 않으시는 가장 큰 이유는 무엇인가요?',
        ),
        options: [
          { value: 'too_expensive', label: t('Too expensive', '가격이 부담돼요') },
          { value: 'did_not_meet_needs', label: t('It did not meet my needs', '원하던 상품이 아니었어요') },
          { value: 'found_better', label: t('I found something better', '더 나은 곳을 찾았어요') },
          { value: 'poor_service', label: t('Poor service', '서비스가 불만족스러웠어요') },
          { value: 'just_forgot', label: t('I just forgot', '그냥 잊고 있었어요') },
        ],
      },
      comment('Anything else you would like to tell us?', '더 하고 싶은 말씀이 있으신가요?'),
    ],
    linkDays: 30,
  },
  {
    key: 'cart',
    kind: 'cart',
    title: t('What stopped you?', '구매를 망설이신 이유가 있나요?'),
    questions: [
      {
        id: 'reason',
        type: 'choice',
        label: t(
          'You left items in your cart. What stopped you?',
          '장바구니에 상품이 남아 있어요. 무엇 때문에 망설이셨나요?',
        ),
        options: [
          { value: 'price', label: t('The price', '가격') },
          { value: 'shipping_cost', label: t('Shipping cost or time', '배송비나 배송 기간') },
          { value: 'payment', label: t('A problem paying', '결제 문제') },
          { value: 'just_browsing', label: t('Just looking', '그냥 둘러보는 중이었어요') },
          { value: 'other', label: t('Something else', '기타') },
        ],
      },
      comment('Tell us more (optional)', '자세히 알려 주세요(선택)'),
    ],
    linkDays: 14,
  },
];
