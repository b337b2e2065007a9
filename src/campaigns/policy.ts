import { MS_PER_DAY, zoneOffsetAt } from '../shared/dates.js';
import { nextLocalTime } from './engine.js';
import type { Channel } from './flow.js';
import { type KoreanAdFacts, type KoreanAdRules, koreanAdDecision } from './korea.js';

/**
 * One policy check that every send passes just before the outbox: hold-out, suppression, consent,
 * quiet hours and the frequency cap shared by every flow and campaign. Pure: the caller gathers the
 * facts as of `now`. A skip is recorded with its reason; a deferral is retried at `until`.
 */

/** Why an address is on the suppression list. A hard bounce stops every message; the rest stop marketing. */
export type SuppressionReason = 'bounce' | 'complaint' | 'unsubscribe';

/** The store's rules for sending. */
export interface SendRules {
  /** Marketing is not sent between `start` and `end` (local `HH:MM`, may wrap midnight), but deferred to `end`. */
  quietHours?: { start: string; end: string };
  /** At most `count` marketing messages per customer in any `days` days, over every flow and campaign. */
  cap?: { count: number; days: number };
  /** The store's choices under the Korean rules (applied when `facts.korea` is set). */
  korea?: KoreanAdRules;
}

/** What the policy needs to know about one send. */
export interface SendFacts {
  purpose: 'marketing' | 'transactional';
  channel: Channel;
  /** The customer's IANA zone (the store's when unknown). */
  timeZone: string;
  /** The customer is in the flow's control group. */
  heldOut: boolean;
  /** Consent for this channel's marketing as of now (transactional messages need none). */
  consent: boolean;
  /**
   * The message's preference-centre topic and whether the customer has it on as of now (a topic without
   * a recorded choice is on). Absent: no topic, only the channel's consent governs. Never read for transactional.
   */
  topic?: { name: string; on: boolean };
  /** The address is suppressed, and why. */
  suppressed?: SuppressionReason;
  /** Instants of the marketing messages sent or queued for this customer (any flow or campaign). */
  recentMarketingSends: readonly number[];
  /** Set for a Korean recipient (+82 or country KR): the advertising rules of `korea.ts` apply. */
  korea?: KoreanAdFacts;
}

/** Why a send did not happen. */
export type SkipReason = 'held_out' | 'suppressed' | 'no_consent' | 'topic_opted_out' | 'frequency_cap';

/** The decision for one send at `now`. */
export type SendDecision =
  | { type: 'send' }
  | { type: 'defer'; until: number; reason: 'quiet_hours' | 'kr_night_no_consent' }
  | { type: 'skip'; reason: SkipReason; detail?: string };

const minutesOf = (hhmm: string): number => {
  const [h, m] = hhmm.split(':').map(Number) as [number, number];
  return h * 60 + m;
};

/** Whether local wall-clock minute-of-day `minute` falls in [start, end), wrapping midnight when start > end. */
export function inQuietHours(minute: number, quiet: { start: string; end: string }): boolean {
  const start = minutesOf(quiet.start);
  const end = minutesOf(quiet.end);
  if (start === end) return false;
  return start < end ? minute >= start && minute < end : minute >= start || minute < end;
}

/**
 * Decides one send at `now`, in this order: the control group never receives anything; a hard bounce
 * stops every message and any other suppression stops marketing; marketing needs the channel's consent;
 * marketing of a topic the customer turned off on the preference centre is skipped (`topic_opted_out`,
 * detail the topic); marketing over the cap (messages sent or already queued in the last `days` days) is skipped; marketing
 * inside quiet hours is queued for the moment they end. Transactional messages skip consent, quiet
 * hours, topics and the cap. A Korean recipient's marketing follows `korea.ts` instead of the plain consent
 * check (the 6-month exception when the store allows it) and, without night consent, waits from
 * 21:00 to 08:00 Seoul (reason `kr_night_no_consent`) before the store's own quiet hours apply.
 */
export function decideSend(facts: SendFacts, rules: SendRules, now: number): SendDecision {
  if (facts.heldOut) return { type: 'skip', reason: 'held_out' };
  if (facts.suppressed === 'bounce') return { type: 'skip', reason: 'suppressed', detail: 'bounce' };
  if (facts.purpose === 'transactional') return { type: 'send' };
  if (facts.suppressed) return { type: 'skip', reason: 'suppressed', detail: facts.suppressed };
  let koreanNight: number | undefined;
  if (facts.korea) {
    // 정보통신망법 제50조: opt-in (or the 6-month exception) and the separate night consent.
    const korean = koreanAdDecision(
      { ...facts.korea, adConsent: facts.consent },
      rules.korea ?? { transactionException: false },
      now,
    );
    if (korean.type === 'skip')
      return { type: 'skip', reason: 'no_consent', detail: `${facts.channel}:${korean.detail}` };
    if (korean.type === 'defer') koreanNight = korean.until;
  } else if (!facts.consent) return { type: 'skip', reason: 'no_consent', detail: facts.channel };
  if (facts.topic && !facts.topic.on) return { type: 'skip', reason: 'topic_opted_out', detail: facts.topic.name };
  if (rules.cap) {
    const since = now - rules.cap.days * MS_PER_DAY;
    // Messages already queued for later (deferred by quiet hours) count too.
    const recent = facts.recentMarketingSends.filter((at) => at > since).length;
    if (recent >= rules.cap.count) {
      return {
        type: 'skip',
        reason: 'frequency_cap',
        detail: `${recent} marketing messages in ${rules.cap.days} days`,
      };
    }
  }
  if (koreanNight !== undefined) return { type: 'defer', until: koreanNight, reason: 'kr_night_no_consent' };
  if (rules.quietHours) {
    const minute = Math.floor((now + zoneOffsetAt(now, facts.timeZone) * 60_000) / 60_000) % (24 * 60);
    if (inQuietHours(minute, rules.quietHours)) {
      return { type: 'defer', until: nextLocalTime(now, rules.quietHours.end, facts.timeZone), reason: 'quiet_hours' };
    }
  }
  return { type: 'send' };
}
