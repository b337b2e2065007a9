import { type CountryCode, isSupportedCountry, parsePhoneNumberFromString } from 'libphonenumber-js';
import { MS_PER_DAY } from '../shared/dates.js';

/**
 * The Korean rules for advertising, in one place. Every marketing message to a Korean recipient (a
 * +82 number, or a customer whose country is KR), whatever the channel, passes through them:
 *
 * - 정보통신망법 제50조 제1항: an advertisement needs the recipient's prior explicit consent, except for
 *   a contact collected in a transaction, for the sender's own similar goods, within 6 months of it
 *   (a store setting, off by default: the store must know it sells similar goods).
 * - 정보통신망법 제50조 제3항: between 21:00 and 08:00 (Asia/Seoul) a separate consent is needed; without
 *   it the message waits for 08:00.
 * - 정보통신망법 제50조 제4항: every advertisement starts with `(광고)`, names the sender and its contact,
 *   and gives a free way to opt out (an 080 number or a link).
 * - 정보통신망법 시행령 제62조의3: consent is re-confirmed every 2 years; the recipient is told the sender,
 *   the date of consent and how to withdraw (see `consent.queries.ts`).
 *
 * Korea has kept one offset (+09:00, no daylight saving) since 1988, so Seoul wall-clock times are
 * computed with a fixed offset here.
 */

/** The zone the night rule is read in. */
export const KOREA_TIME_ZONE = 'Asia/Seoul';
const SEOUL_OFFSET_MS = 9 * 3_600_000;

/** The night window of 정보통신망법 제50조 제3항, Seoul wall-clock minutes: [21:00, 08:00). */
export const KOREAN_NIGHT = { start: 21 * 60, end: 8 * 60 } as const;

/** The consent channel that holds the separate night-time consent (stored apart from the general one). */
export const NIGHT_CONSENT_CHANNEL = 'ad_night';

/** Whether a phone number is a Korean one (+82), read with libphonenumber-js and the customer's country. */
export function isKoreanNumber(phone: string | null | undefined, country?: string | null): boolean {
  if (!phone) return false;
  const code = country?.trim().toUpperCase();
  const region = code && code.length === 2 && isSupportedCountry(code) ? (code as CountryCode) : undefined;
  const parsed = parsePhoneNumberFromString(phone, region);
  return parsed?.countryCallingCode === '82';
}

/** Whether the Korean rules apply to a customer: a +82 phone or country KR. */
export function isKoreanRecipient(customer: { phone: string | null; country: string | null }): boolean {
  return customer.country?.toUpperCase() === 'KR' || isKoreanNumber(customer.phone, customer.country);
}

/** A Korean number as domestic digits (`01012345678`), as KakaoTalk and SMS providers take it; else the digits. */
export function domesticNumber(phone: string): string {
  const parsed = parsePhoneNumberFromString(phone, 'KR');
  if (parsed?.countryCallingCode === '82') return `0${parsed.nationalNumber}`.replace(/^00/, '0');
  return phone.replace(/[^\d+]/g, '');
}

/** The Seoul wall-clock minute of the day at `at` (0–1439). */
export function seoulMinute(at: number): number {
  return Math.floor(((((at + SEOUL_OFFSET_MS) % MS_PER_DAY) + MS_PER_DAY) % MS_PER_DAY) / 60_000);
}

/** Whether `at` falls in the night window [21:00, 08:00) Seoul time (제50조 제3항). */
export function inKoreanNight(at: number): boolean {
  const minute = seoulMinute(at);
  return minute >= KOREAN_NIGHT.start || minute < KOREAN_NIGHT.end;
}

/** The next 08:00 Seoul at or after `at`. */
export function nextSeoulMorning(at: number): number {
  const wall = at + SEOUL_OFFSET_MS;
  const eight = Math.floor(wall / MS_PER_DAY) * MS_PER_DAY + KOREAN_NIGHT.end * 60_000;
  return (eight >= wall ? eight : eight + MS_PER_DAY) - SEOUL_OFFSET_MS;
}

/** `at` plus `months` calendar months in Seoul (the day clamped to the month's last day). */
export function addSeoulMonths(at: number, months: number): number {
  const wall = new Date(at + SEOUL_OFFSET_MS);
  const y = wall.getUTCFullYear();
  const m = wall.getUTCMonth() + months;
  const lastDay = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
  const shifted = Date.UTC(
    y,
    m,
    Math.min(wall.getUTCDate(), lastDay),
    wall.getUTCHours(),
    wall.getUTCMinutes(),
    wall.getUTCSeconds(),
    wall.getUTCMilliseconds(),
  );
  return shifted - SEOUL_OFFSET_MS;
}

/** The store's choices under the Korean rules (part of the messaging settings). */
export interface KoreanAdRules {
  /** Use the 6-month transaction exception of 제50조 제1항 단서 (off by default). */
  transactionException: boolean;
}

/** What the rules need to know about one Korean recipient. */
export interface KoreanAdFacts {
  /** Prior explicit consent to advertisements on this channel. */
  adConsent: boolean;
  /**
   * The recipient said no on this channel (a consent row that is withdrawn or refused) or paused
   * marketing: the transaction exception never applies (제50조 제2항). False only when no consent row
   * exists for the channel and no pause runs.
   */
  refused: boolean;
  /** The separate consent for 21:00–08:00. */
  nightConsent: boolean;
  /** The customer's last paid order (the transaction the contact came from), if any. */
  lastTransactionAt?: number;
}

/** Why a Korean advertisement did not go now. */
export type KoreanAdDecision =
  | { type: 'send'; basis: 'consent' | 'transaction_exception' }
  | { type: 'skip'; reason: 'no_consent'; detail: string }
  | { type: 'defer'; until: number; reason: 'kr_night_no_consent' };

/**
 * Decides a Korean advertisement at `now`: consent, then the night rule (제50조 제3항: without the
 * separate night consent, a send between 21:00 and 08:00 Seoul waits for 08:00).
 * Without consent, the transaction exception (제50조 제1항 단서; only when the store turned it on) lets a
 * contact collected in a transaction receive the sender's own similar goods within 6 calendar months
 * (Seoul) of a paid order at or before `now`, but only a recipient who never answered: no consent row for
 * the channel and no pause running. Under 제50조 제2항 a sender must not advertise, 제1항 notwithstanding,
 * to a recipient who refused or withdrew consent, so a recorded "no" or a pause is never overridden
 * (`refused`; skip detail `kr_opted_out`).
 */
export function koreanAdDecision(facts: KoreanAdFacts, rules: KoreanAdRules, now: number): KoreanAdDecision {
  let basis: 'consent' | 'transaction_exception' = 'consent';
  if (!facts.adConsent) {
    const within =
      rules.transactionException &&
      !facts.refused &&
      facts.lastTransactionAt !== undefined &&
      facts.lastTransactionAt <= now &&
      now < addSeoulMonths(facts.lastTransactionAt, 6);
    if (!within) {
      return {
        type: 'skip',
        reason: 'no_consent',
        detail: !rules.transactionException
          ? 'kr_no_opt_in'
          : facts.refused
            ? 'kr_opted_out'
            : 'kr_no_opt_in_or_recent_order',
      };
    }
    basis = 'transaction_exception';
  }
  if (!facts.nightConsent && inKoreanNight(now)) {
    return { type: 'defer', until: nextSeoulMorning(now), reason: 'kr_night_no_consent' };
  }
  return { type: 'send', basis };
}

/** The sender and the free opt-out every Korean advertisement names (제50조 제4항). */
export interface AdvertiserIdentity {
  /** The store's name as the recipient knows it. */
  senderName: string;
  /** The store's contact (a phone number or address); optional. */
  contact: string | null;
  /** A free opt-out number (080-…), preferred on SMS and KakaoTalk when set. */
  optOutNumber: string | null;
  /** The signed unsubscribe link of this message (always available). */
  optOutLink: string;
}

/** The prefix of every advertisement (제50조 제4항). */
export const AD_PREFIX = '(광고)';

/** The opt-out line: the 080 number when the store has one, else the link. */
export function optOutLine(who: AdvertiserIdentity): string {
  return who.optOutNumber ? `무료수신거부 ${who.optOutNumber}` : `수신거부: ${who.optOutLink}`;
}

/**
 * A text advertisement (SMS, LMS, KakaoTalk): `(광고)` and the sender first, the message, then the
 * sender's contact and the free opt-out (제50조 제4항). A body that already starts with `(광고)` keeps it once.
 */
export function koreanAdText(body: string, who: AdvertiserIdentity): string {
  const rest = body.startsWith(AD_PREFIX) ? body.slice(AD_PREFIX.length).trimStart() : body;
  const lines = [`${AD_PREFIX} ${who.senderName}`, rest.trim()];
  if (who.contact) lines.push(`문의 ${who.contact}`);
  lines.push(optOutLine(who));
  return lines.join('\n');
}

/** An e-mail subject with `(광고)` at its start (once). */
export function koreanAdSubject(subject: string): string {
  return subject.startsWith(AD_PREFIX) ? subject : `${AD_PREFIX} ${subject}`;
}

const escapeHtml = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * The footer an advertising e-mail carries in HTML: sender, contact and a free opt-out link, inserted
 * before `</body>` (or appended).
 */
export function koreanAdHtml(html: string, who: AdvertiserIdentity): string {
  const footer = `<p style="font-size:12px;color:#71717a">${AD_PREFIX} ${escapeHtml(who.senderName)}${
    who.contact ? ` · 문의 ${escapeHtml(who.contact)}` : ''
  } · <a href="${escapeHtml(who.optOutLink)}">수신거부</a>${
    who.optOutNumber ? ` · 무료수신거부 ${escapeHtml(who.optOutNumber)}` : ''
  }</p>`;
  const at = html.lastIndexOf('</body>');
  return at >= 0 ? `${html.slice(0, at)}${footer}${html.slice(at)}` : `${html}${footer}`;
}

/** Consent is re-confirmed this many months after it was given, and again every such period (시행령 제62조의3). */
export const RECONFIRM_MONTHS = 24;

/**
 * The most recent re-confirmation date due at or before `now` for consent given at `consentedAt`
 * (consent date + 2, 4, 6 … years, Seoul calendar), or undefined when none is due yet.
 */
export function reconfirmDueAt(consentedAt: number, now: number): number | undefined {
  let due: number | undefined;
  for (let k = 1; k < 100; k++) {
    const at = addSeoulMonths(consentedAt, RECONFIRM_MONTHS * k);
    if (at > now) break;
    due = at;
  }
  return due;
}

/** The date of an instant as a Korean reader writes it: `2024년 3월 5일` (Seoul). */
export function koreanDate(at: number): string {
  const d = new Date(at + SEOUL_OFFSET_MS);
  return `${d.getUTCFullYear()}년 ${d.getUTCMonth() + 1}월 ${d.getUTCDate()}일`;
}

/**
 * The re-confirmation notice (시행령 제62조의3 제1항): the sender, the date of consent and how to withdraw.
 * Informational, so it carries no `(광고)` and needs no marketing consent.
 */
export function reconfirmNoticeText(
  who: AdvertiserIdentity,
  consentedAt: number,
  channelLabel: string,
): { subject: string; text: string } {
  const withdraw = who.optOutNumber
    ? `수신을 원하지 않으시면 무료수신거부 ${who.optOutNumber} 또는 ${who.optOutLink} 에서 철회하실 수 있습니다.`
    : `수신을 원하지 않으시면 ${who.optOutLink} 에서 철회하실 수 있습니다.`;
  return {
    subject: `[${who.senderName}] 광고성 정보 수신동의 확인 안내`,
    text: [
      `[${who.senderName}] 광고성 정보 수신동의 확인 안내`,
      `고객님께서는 ${koreanDate(consentedAt)}에 ${who.senderName}의 ${channelLabel} 광고성 정보 수신에 동의하셨습니다.`,
      '관련 법령에 따라 2년마다 수신동의 여부를 안내해 드립니다. 동의를 유지하시려면 별도로 하실 일은 없습니다.',
      withdraw,
      ...(who.contact ? [`문의 ${who.contact}`] : []),
    ].join('\n'),
  };
}

/** SMS and LMS limits in EUC-KR bytes, as Korean carriers and providers count them. */
export const SMS_MAX_BYTES = 90;
export const LMS_MAX_BYTES = 2000;

/**
 * The length of `text` in EUC-KR bytes: one byte per ASCII character, two for every other character
 * (Hangul and symbols; a character EUC-KR lacks is counted as two, as providers do).
 */
export function eucKrBytes(text: string): number {
  let bytes = 0;
  for (const ch of text) bytes += ch.codePointAt(0)! < 0x80 ? 1 : 2;
  return bytes;
}

/** The text-message type a fallback needs: SMS up to 90 EUC-KR bytes, LMS up to 2,000, else too long. */
export function smsType(text: string): 'SMS' | 'LMS' | 'too_long' {
  const bytes = eucKrBytes(text);
  if (bytes <= SMS_MAX_BYTES) return 'SMS';
  return bytes <= LMS_MAX_BYTES ? 'LMS' : 'too_long';
}
