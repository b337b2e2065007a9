import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LIFECYCLE_STAGES, RFM_GROUPS } from '../../src/segments/index.js';
import { currencyDigits, detectLang, makeI18n, stageLabel } from '../../web/src/i18n.js';
import { eventWord, rfmGroupLabel } from '../../web/src/i18n-korean.js';

/** The dashboard's language choice and `Intl` formatting, without a browser. */
describe('dashboard i18n', () => {
  test('?lang wins, then the browser languages, then English', () => {
    assert.equal(detectLang('?lang=ko', ['en-GB']), 'ko');
    assert.equal(detectLang('?lang=en', ['ko-KR']), 'en');
    assert.equal(detectLang('?lang=fr', ['ko-KR', 'en']), 'ko');
    assert.equal(detectLang('', ['de-DE', 'en-US']), 'en');
    assert.equal(detectLang('', ['de-DE']), 'en');
  });

  test('KRW and JPY have no decimals, others two', () => {
    assert.equal(currencyDigits('KRW'), 0);
    assert.equal(currencyDigits('jpy'), 0);
    assert.equal(currencyDigits('GBP'), 2);
    const ko = makeI18n('ko');
    const en = makeI18n('en');
    assert.equal(ko.money(1234567.4, 'KRW'), '₩1,234,567');
    assert.equal(en.money(1234567.4, 'KRW'), '₩1,234,567');
    assert.equal(en.money(394.2956, 'GBP'), '£394.30');
    assert.equal(en.money(1000, 'INR'), '₹1,000.00');
  });

  test('numbers, percentages, dates and months follow the locale', () => {
    const ko = makeI18n('ko');
    const en = makeI18n('en');
    assert.equal(en.percent(0.6253), '62.5%');
    assert.equal(ko.percent(0.6253), '62.5%');
    assert.equal(en.number(12345), '12,345');
    assert.equal(en.date(Date.UTC(2011, 11, 9, 23)), '9 Dec 2011');
    assert.equal(ko.date(Date.UTC(2011, 11, 9, 23)), '2011년 12월 9일');
    assert.equal(en.month('2011-03'), 'Mar 2011');
    assert.equal(ko.month('2011-03'), '2011년 3월');
    assert.equal(ko.t('lastMonths', { n: 3 }), '최근 3개월');
  });

  test('counts take the singular for one in English, with the other values filled in; Korean has one form', () => {
    const en = makeI18n('en');
    const ko = makeI18n('ko');
    assert.equal(en.count(1, 'fbCsatHintOne', 'fbCsatHint', { mean: '5.00' }), '1 answer, mean 5.00 of 5');
    assert.equal(en.count(2, 'fbCsatHintOne', 'fbCsatHint', { mean: '4.50' }), '2 answers, mean 4.50 of 5');
    assert.equal(
      en.count(1234, 'fbReviewsHintOne', 'fbReviewsHint', { avg: '4.10' }),
      '1,234 reviews, average 4.10 of 5',
    );
    assert.equal(en.count(1, 'fbReviewsHintOne', 'fbReviewsHint', { avg: '3.00' }), '1 review, average 3.00 of 5');
    assert.equal(ko.count(1, 'fbReviewsHintOne', 'fbReviewsHint', { avg: '3.00' }), '리뷰 1건, 평균 3.00점(5점 만점)');
    assert.equal(ko.count(2, 'fbReviewsHintOne', 'fbReviewsHint', { avg: '3.00' }), '리뷰 2건, 평균 3.00점(5점 만점)');
  });

  test('Korean messages are translations, not copies (tsc checks that every key has one)', () => {
    const en = makeI18n('en');
    const ko = makeI18n('ko');
    for (const key of ['navOverview', 'crr', 'aov', 'exportCsv', 'holdoutTitle'] as const) {
      assert.notEqual(ko.t(key), en.t(key), key);
    }
  });

  test('every lifecycle stage and RFM group the server names has a Korean label wherever the dashboard prints it', () => {
    const en = makeI18n('en');
    const ko = makeI18n('ko');
    for (const stage of LIFECYCLE_STAGES) {
      // Segments, the customer page and Feedback's churn by stage print `stageLabel`.
      assert.notEqual(stageLabel(ko, stage), stage, stage);
      assert.notEqual(stageLabel(ko, stage), stageLabel(en, stage), stage);
      // A customer's timeline prints the stage entered or left as an event word.
      assert.notEqual(eventWord('ko', stage), eventWord('en', stage), stage);
    }
    assert.equal(stageLabel(ko, 'churned'), '이탈');
    for (const group of RFM_GROUPS) assert.notEqual(rfmGroupLabel('ko', group), rfmGroupLabel('en', group), group);
    for (const type of ['segment_entered', 'segment_exited']) {
      assert.notEqual(eventWord('ko', type), eventWord('en', type), type);
    }
  });
});
