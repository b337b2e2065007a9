import type { AnswerProblem, AnswerProblemCode, ReviewItem, SurveyDefinition } from '../feedback/index.js';
import { html, layout, type PageLang, type Raw } from './html.js';

/** Fixed texts of the customer's pages. */
export const TEXT = {
  en: {
    send: 'Send',
    thanks: 'Thank you! Your answer has been received.',
    points: (n: number) => `${n} points have been added to your rewards.`,
    notLikely: 'Not at all likely',
    veryLikely: 'Extremely likely',
    unhappy: 'Very unsatisfied',
    happy: 'Very satisfied',
    fix: 'Please check the highlighted answers.',
    refused: {
      malformed: 'This link is not valid. Please use the link from your message as it was sent.',
      forged: 'This link is not valid. Please use the link from your message as it was sent.',
      wrong_purpose: 'This link is not valid for this page.',
      unknown_link: 'This link is not valid for this page.',
      expired: 'This link has expired. Thank you for your interest — we will ask again another time.',
      used: 'This survey has already been answered with this link. Thank you!',
    },
    /** The page title of a refused link: what the tab and a screen reader announce. */
    refusedTitle: { answered: 'Already answered', invalid: 'Link not valid', expired: 'Link expired' },
    reviewTitle: 'Review your order',
    rating: 'Your rating',
    reviewText: 'Your review (optional)',
    reviewed: 'Reviewed — thank you!',
    reviewSend: 'Post review',
    stars: (n: number) => `${n} of 5 stars`,
    notInOrder: 'That product is not in this order.',
    ratingNeeded: 'Please choose a rating from 1 to 5 stars.',
    tooLong: 'Please write at most 2,000 characters.',
    problem: {
      unknown_question: 'This answer does not belong to this survey.',
      required: 'An answer is needed.',
      out_of_range: (lo: number, hi: number) => `Please choose a number from ${lo} to ${hi}.`,
      not_an_option: 'Please choose one of the options.',
      not_text: 'Please write your answer as text.',
      too_long: 'Please write at most 2,000 characters.',
    },
  },
  ko: {
    send: '보내기',
    thanks: '소중한 의견 감사합니다! 응답이 접수되었습니다.',
    points: (n: number) => `적립금 ${n}포인트가 지급되었습니다.`,
    notLikely: '전혀 추천하지 않음',
    veryLikely: '적극 추천함',
    unhappy: '매우 불만족',
    happy: '매우 만족',
    fix: '표시된 항목을 다시 확인해 주세요.',
    refused: {
      malformed: '유효하지 않은 링크입니다. 받으신 메시지의 링크를 그대로 이용해 주세요.',
      forged: '유효하지 않은 링크입니다. 받으신 메시지의 링크를 그대로 이용해 주세요.',
      wrong_purpose: '이 페이지에서 사용할 수 없는 링크입니다.',
      unknown_link: '이 페이지에서 사용할 수 없는 링크입니다.',
      expired: '링크의 유효 기간이 지났습니다. 관심 가져 주셔서 감사합니다. 다음에 다시 여쭤볼게요.',
      used: '이 링크로 이미 응답하셨습니다. 감사합니다!',
    },
    refusedTitle: { answered: '이미 응답하셨습니다', invalid: '유효하지 않은 링크', expired: '기간이 지난 링크' },
    reviewTitle: '주문하신 상품은 어떠셨나요?',
    rating: '별점',
    reviewText: '리뷰 (선택)',
    reviewed: '리뷰를 남겨 주셔서 감사합니다!',
    reviewSend: '리뷰 등록',
    stars: (n: number) => `별 5개 중 ${n}개`,
    notInOrder: '이 주문에 포함된 상품이 아닙니다.',
    ratingNeeded: '별점을 1~5개 중에서 선택해 주세요.',
    tooLong: '2,000자 이내로 작성해 주세요.',
    problem: {
      unknown_question: '이 설문에 없는 항목입니다.',
      required: '답변을 선택하거나 입력해 주세요.',
      out_of_range: (lo: number, hi: number) => `${lo}부터 ${hi}까지 중에서 선택해 주세요.`,
      not_an_option: '보기 중 하나를 선택해 주세요.',
      not_text: '답변을 글로 입력해 주세요.',
      too_long: '2,000자 이내로 작성해 주세요.',
    },
  },
} as const;

/** The refusals a customer link can meet. */
export type Refusal = keyof (typeof TEXT)['en']['refused'];

/** The page of a refused link. */
export function refusedPage(lang: PageLang, reason: Refusal): string {
  const titles = TEXT[lang].refusedTitle;
  const title = reason === 'used' ? titles.answered : reason === 'expired' ? titles.expired : titles.invalid;
  return layout(lang, title, html`<p class="error" role="alert">${TEXT[lang].refused[reason]}</p>`);
}

/** A short message page (thanks, done). */
export function messagePage(lang: PageLang, title: string, lines: string[]): string {
  return layout(lang, title, html`<h1>${title}</h1>${lines.map((l) => html`<p class="ok">${l}</p>`)}`);
}

function scale(name: string, from: number, to: number, chosen: unknown, ends: [string, string], labelId: string): Raw {
  const values = Array.from({ length: to - from + 1 }, (_, i) => from + i);
  return html`<div class="scale" role="radiogroup" aria-labelledby="${labelId}">${values.map(
    (v) =>
      html`<label><input type="radio" name="${name}" value="${v}"${String(chosen) === String(v) ? html` checked` : ''}><span>${v}</span></label>`,
  )}</div><div class="ends"><span>${ends[0]}</span><span>${ends[1]}</span></div>`;
}

/**
 * The form of a survey in `lang`, posting to `action`; `given` refills the answers and `problems`
 * marks the questions to fix after a refused submission.
 */
export function surveyPage(
  lang: PageLang,
  survey: SurveyDefinition,
  action: string,
  given: Record<string, unknown> = {},
  problems: AnswerProblem[] = [],
): string {
  const t = TEXT[lang];
  // The page says each problem in its own language; `message` is the API's English.
  const say = (code: AnswerProblemCode, type: SurveyDefinition['questions'][number]['type']): string => {
    const text = t.problem[code];
    return typeof text === 'string' ? text : type === 'nps' ? text(0, 10) : text(1, 5);
  };
  const questions = survey.questions.map((q, i) => {
    const labelId = `q${i}`;
    const found = problems.find((p) => p.path === q.id);
    const problem = found ? say(found.code, q.type) : undefined;
    const input =
      q.type === 'nps'
        ? scale(q.id, 0, 10, given[q.id], [t.notLikely, t.veryLikely], labelId)
        : q.type === 'rating'
          ? scale(q.id, 1, 5, given[q.id], [t.unhappy, t.happy], labelId)
          : q.type === 'choice'
            ? html`<div class="choice">${q.options!.map(
                (o) =>
                  html`<label><input type="radio" name="${q.id}" value="${o.value}"${given[q.id] === o.value ? html` checked` : ''}>${o.label[lang]}</label>`,
              )}</div>`
            : html`<textarea name="${q.id}" aria-labelledby="${labelId}" maxlength="2000">${typeof given[q.id] === 'string' ? given[q.id] : ''}</textarea>`;
    return html`<fieldset><legend id="${labelId}">${q.label[lang]}</legend>${input}${problem ? html`<p class="error">${problem}</p>` : ''}</fieldset>`;
  });
  return layout(
    lang,
    survey.title[lang],
    html`<h1>${survey.title[lang]}</h1>${problems.length > 0 ? html`<p class="error" role="alert">${t.fix}</p>` : ''}<form method="post" action="${action}">${questions}<button type="submit">${t.send}</button></form>`,
  );
}

/** A line at the top of the review page: `ok` after a review, `error` for a refused one. */
export interface ReviewNotice {
  tone: 'ok' | 'error';
  text: string;
}

/** The review page of an order: one form per product, or its review when given. */
export function reviewPage(
  lang: PageLang,
  items: readonly ReviewItem[],
  action: string,
  notice?: ReviewNotice,
): string {
  const t = TEXT[lang];
  const forms = items.map((item, i) =>
    item.reviewed
      ? html`<section><h2>${item.title}</h2><p class="ok">${t.reviewed} (${t.stars(item.reviewed.rating)})</p></section>`
      : html`<section><h2 id="p${i}">${item.title}</h2><form method="post" action="${action}"><input type="hidden" name="product" value="${item.productId}"><fieldset><legend>${t.rating}</legend>${scale('rating', 1, 5, undefined, [t.unhappy, t.happy], `p${i}`)}</fieldset><fieldset><legend>${t.reviewText}</legend><textarea name="body" maxlength="2000"></textarea></fieldset><button type="submit">${t.reviewSend}</button></form></section>`,
  );
  return layout(
    lang,
    t.reviewTitle,
    html`<h1>${t.reviewTitle}</h1>${
      notice
        ? notice.tone === 'error'
          ? html`<p class="error" role="alert">${notice.text}</p>`
          : html`<p class="ok" role="status">${notice.text}</p>`
        : ''
    }${forms}`,
  );
}
