import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { validateFlow } from './flow.js';
import {
  addSeoulMonths,
  domesticNumber,
  eucKrBytes,
  isKoreanNumber,
  isKoreanRecipient,
  koreanAdDecision,
  koreanAdHtml,
  koreanAdSubject,
  koreanAdText,
  reconfirmDueAt,
  reconfirmNoticeText,
  smsType,
} from './korea.js';
import { decideSend, type SendFacts } from './policy.js';

/** Seoul wall-clock time written with its offset, read as an instant (independent of korea.ts). */
const seoul = (local: string) => Date.parse(`${local}+09:00`);

const korean = (over: Partial<SendFacts> = {}): SendFacts => ({
  purpose: 'marketing',
  channel: 'kakao',
  timeZone: 'Asia/Seoul',
  heldOut: false,
  consent: true,
  recentMarketingSends: [],
  korea: { adConsent: true, refused: false, nightConsent: false },
  ...over,
});

describe('Korean advertising rules (정보통신망법 제50조)', () => {
  test('night rule at the boundaries: 20:59 sends, 21:00 and 07:59 wait for 08:00, 08:00 sends', () => {
    const rules = {};
    assert.deepEqual(decideSend(korean(), rules, seoul('2026-06-01T20:59:00')), { type: 'send' });
    assert.deepEqual(decideSend(korean(), rules, seoul('2026-06-01T21:00:00')), {
      type: 'defer',
      until: seoul('2026-06-02T08:00:00'),
      reason: 'kr_night_no_consent',
    });
    assert.deepEqual(decideSend(korean(), rules, seoul('2026-06-02T07:59:00')), {
      type: 'defer',
      until: seoul('2026-06-02T08:00:00'),
      reason: 'kr_night_no_consent',
    });
    assert.deepEqual(decideSend(korean(), rules, seoul('2026-06-02T08:00:00')), { type: 'send' });
    // Midnight across the month end: still the next 08:00.
    assert.deepEqual(decideSend(korean(), rules, seoul('2026-06-30T23:30:00')), {
      type: 'defer',
      until: seoul('2026-07-01T08:00:00'),
      reason: 'kr_night_no_consent',
    });
  });

  test('the separate night consent lets a message go at 21:00 and 07:59', () => {
    const withNight = korean({ korea: { adConsent: true, refused: false, nightConsent: true } });
    assert.deepEqual(decideSend(withNight, {}, seoul('2026-06-01T21:00:00')), { type: 'send' });
    assert.deepEqual(decideSend(withNight, {}, seoul('2026-06-02T07:59:00')), { type: 'send' });
  });

  test('the night rule is read in Seoul whatever the customer zone and store quiet hours say', () => {
    // A customer whose zone says London: 13:00 in London is 21:00 in Seoul.
    const facts = korean({ timeZone: 'Europe/London' });
    assert.equal(decideSend(facts, {}, Date.parse('2026-06-01T12:00:00Z')).type, 'defer');
    // Without the Korean facts the same message sends (no quiet hours configured).
    assert.equal(decideSend({ ...facts, korea: undefined }, {}, Date.parse('2026-06-01T12:00:00Z')).type, 'send');
  });

  test('transactional messages (order, shipping) need neither consent nor night consent', () => {
    const facts = korean({ purpose: 'transactional', consent: false });
    assert.deepEqual(decideSend(facts, {}, seoul('2026-06-01T23:00:00')), { type: 'send' });
  });

  test('no opt-in, no advertisement; the 6-month transaction exception only when the store turns it on', () => {
    const facts = korean({
      consent: false,
      korea: { adConsent: false, refused: false, nightConsent: false, lastTransactionAt: seoul('2026-01-15T10:00:00') },
    });
    const noon = seoul('2026-06-01T12:00:00');
    assert.deepEqual(decideSend(facts, {}, noon), { type: 'skip', reason: 'no_consent', detail: 'kakao:kr_no_opt_in' });
    assert.deepEqual(decideSend(facts, { korea: { transactionException: true } }, noon), { type: 'send' });
    // Six calendar months after 2026-01-15 10:00 Seoul is 2026-07-15 10:00 Seoul: one minute before still sends.
    const rules = { korea: { transactionException: true } };
    assert.equal(decideSend(facts, rules, seoul('2026-07-15T09:59:00')).type, 'send');
    assert.deepEqual(decideSend(facts, rules, seoul('2026-07-15T10:00:00')), {
      type: 'skip',
      reason: 'no_consent',
      detail: 'kakao:kr_no_opt_in_or_recent_order',
    });
    // The exception does not lift the night rule.
    assert.equal(decideSend(facts, rules, seoul('2026-06-01T22:00:00')).type, 'defer');
  });

  test('the transaction exception never overrides a recorded no or a pause (제50조 제2항)', () => {
    const noon = seoul('2026-06-01T12:00:00');
    const rules = { korea: { transactionException: true } };
    const order = seoul('2026-05-01T10:00:00');
    const refused = korean({
      consent: false,
      korea: { adConsent: false, refused: true, nightConsent: false, lastTransactionAt: order },
    });
    assert.deepEqual(decideSend(refused, rules, noon), {
      type: 'skip',
      reason: 'no_consent',
      detail: 'kakao:kr_opted_out',
    });
    // Without the exception the detail stays the plain one.
    assert.deepEqual(decideSend(refused, {}, noon), {
      type: 'skip',
      reason: 'no_consent',
      detail: 'kakao:kr_no_opt_in',
    });
    const silent = korean({
      consent: false,
      korea: { adConsent: false, refused: false, nightConsent: false, lastTransactionAt: order },
    });
    assert.deepEqual(decideSend(silent, rules, noon), { type: 'send' });
  });

  test('calendar months in Seoul clamp to the month end', () => {
    assert.equal(addSeoulMonths(seoul('2026-08-31T09:00:00'), 6), seoul('2027-02-28T09:00:00'));
    // 2025-12-31 20:00 UTC is already 2026-01-01 05:00 in Seoul.
    assert.equal(addSeoulMonths(Date.parse('2025-12-31T20:00:00Z'), 1), seoul('2026-02-01T05:00:00'));
  });

  test('koreanAdDecision names its basis', () => {
    const now = seoul('2026-06-01T12:00:00');
    assert.deepEqual(
      koreanAdDecision({ adConsent: true, refused: false, nightConsent: false }, { transactionException: false }, now),
      {
        type: 'send',
        basis: 'consent',
      },
    );
    assert.deepEqual(
      koreanAdDecision(
        { adConsent: false, refused: false, nightConsent: false, lastTransactionAt: now - 86_400_000 },
        { transactionException: true },
        now,
      ),
      { type: 'send', basis: 'transaction_exception' },
    );
  });

  const who = {
    senderName: '다온상회',
    contact: '02-123-4567',
    optOutNumber: '080-123-4567',
    optOutLink: 'https://x.example/m/u/t',
  };

  test('(광고), the sender, the contact and the free opt-out in every advertisement', () => {
    assert.equal(
      koreanAdText('봄 신상품이 들어왔어요.', who),
      '(광고) 다온상회\n봄 신상품이 들어왔어요.\n문의 02-123-4567\n무료수신거부 080-123-4567',
    );
    // Without an 080 number, the signed link; a body that already says (광고) keeps it once.
    assert.equal(
      koreanAdText('(광고) 봄 세일', { ...who, contact: null, optOutNumber: null }),
      '(광고) 다온상회\n봄 세일\n수신거부: https://x.example/m/u/t',
    );
    assert.equal(koreanAdSubject('봄 세일'), '(광고) 봄 세일');
    assert.equal(koreanAdSubject('(광고) 봄 세일'), '(광고) 봄 세일');
    const html = koreanAdHtml('<html><body><p>안녕</p></body></html>', { ...who, senderName: 'A&B' });
    assert.equal(
      html,
      '<html><body><p>안녕</p><p style="font-size:12px;color:#71717a">(광고) A&amp;B · 문의 02-123-4567 · <a href="https://x.example/m/u/t">수신거부</a> · 무료수신거부 080-123-4567</p></body></html>',
    );
  });

  test('SMS up to 90 EUC-KR bytes, LMS up to 2,000: a Hangul syllable is two bytes', () => {
    assert.equal(eucKrBytes('가'), 2);
    assert.equal(eucKrBytes('a가1'), 4);
    assert.equal(smsType('가'.repeat(45)), 'SMS'); // 90 bytes
    assert.equal(smsType(`${'가'.repeat(44)}ab`), 'SMS'); // 90 bytes
    assert.equal(smsType(`${'가'.repeat(45)}a`), 'LMS'); // 91 bytes
    assert.equal(smsType('a'.repeat(90)), 'SMS');
    assert.equal(smsType('a'.repeat(91)), 'LMS');
    assert.equal(smsType('가'.repeat(1000)), 'LMS'); // 2,000 bytes
    assert.equal(smsType(`${'가'.repeat(1000)}a`), 'too_long');
  });

  test('Korean numbers: +82 or a domestic number of a KR customer', () => {
    assert.equal(isKoreanNumber('+821012345678'), true);
    assert.equal(isKoreanNumber('010-1234-5678', 'KR'), true);
    assert.equal(isKoreanNumber('01012345678'), false); // no country: not readable as Korean
    assert.equal(isKoreanNumber('+447700900123'), false);
    assert.equal(isKoreanRecipient({ phone: null, country: 'KR' }), true);
    assert.equal(isKoreanRecipient({ phone: '+447700900123', country: 'GB' }), false);
    assert.equal(domesticNumber('+821012345678'), '01012345678');
    assert.equal(domesticNumber('+82212345678'), '0212345678');
  });

  test('re-confirmation falls due every two years from the date of consent (시행령 제62조의3)', () => {
    const given = seoul('2024-03-05T10:00:00');
    assert.equal(reconfirmDueAt(given, seoul('2026-03-05T09:59:59')), undefined);
    assert.equal(reconfirmDueAt(given, seoul('2026-03-05T10:00:00')), seoul('2026-03-05T10:00:00'));
    assert.equal(reconfirmDueAt(given, seoul('2028-03-05T10:00:00')), seoul('2028-03-05T10:00:00'));
    const notice = reconfirmNoticeText(who, given, '문자·카카오톡');
    assert.match(notice.text, /2024년 3월 5일에 다온상회의 문자·카카오톡 광고성 정보 수신에 동의하셨습니다/);
    assert.match(notice.text, /무료수신거부 080-123-4567/);
    assert.ok(!notice.text.startsWith('(광고)'), 'the notice is informational, not an advertisement');
  });
});

describe('promotional 알림톡 is refused when a flow is validated', () => {
  const base = {
    key: 'kr-win-back',
    name: '휴면 고객 다시 부르기',
    trigger: { type: 'segment_entered', segments: ['lifecycle:at_risk'] },
  };

  test('a marketing step as 알림톡 names steps.N.kakao.type', () => {
    const result = validateFlow({
      ...base,
      steps: [
        {
          id: 'offer',
          type: 'send',
          channels: ['kakao'],
          template: 'win-back-offer',
          purpose: 'marketing',
          kakao: { type: 'alimtalk', templateCode: 'WINBACK01' },
        },
      ],
    });
    assert.equal(result.ok, false);
    if (!result.ok)
      assert.deepEqual(
        result.problems.map((p) => p.path),
        ['steps.0.kakao.type'],
      );
  });

  test('a transactional 알림톡 needs its template code; 친구톡 marketing is fine; the default for marketing is 친구톡', () => {
    const noCode = validateFlow({
      ...base,
      steps: [{ id: 's', type: 'send', channels: ['kakao'], template: 't', purpose: 'transactional' }],
    });
    assert.equal(noCode.ok, false);
    if (!noCode.ok)
      assert.deepEqual(
        noCode.problems.map((p) => p.path),
        ['steps.0.kakao.templateCode'],
      );
    const friend = validateFlow({
      ...base,
      steps: [{ id: 's', type: 'send', channels: ['kakao', 'sms'], template: 't', purpose: 'marketing' }],
    });
    assert.equal(friend.ok, true);
    const offer = validateFlow({
      ...base,
      steps: [
        {
          id: 's',
          type: 'send',
          channels: ['kakao'],
          template: 't',
          purpose: 'transactional',
          kakao: { type: 'alimtalk', templateCode: 'C1' },
          offer: { type: 'percent', percent: 10, validDays: 7 },
        },
      ],
    });
    assert.equal(offer.ok, false);
  });
});
