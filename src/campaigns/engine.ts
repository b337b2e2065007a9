import type { PreferenceTopic } from '../feedback/tables.js';
import { MS_PER_DAY, wallTimeInZone, zoneOffsetAt } from '../shared/dates.js';
import type {
  Channel,
  Condition,
  Duration,
  ExitCondition,
  FlowDefinition,
  FlowStep,
  KakaoStep,
  Offer,
  ProductsBlock,
} from './flow.js';
import type { Arm } from './holdout.js';

/**
 * The journey engine: a pure function from (flow definition, a customer's journey state, the facts it
 * needs, now) to what happens next. It reads no clock, database or randomness; a worker applies its
 * actions, and the backtest runs the same function over past facts.
 */

/** Why a journey ended before its last step. */
export type ExitReason = 'ordered' | 'unsubscribed' | 'left_segment' | 'event';

/** Where a customer is in a flow. Stored per (flow, version, customer, occurrence). */
export interface JourneyState {
  /** The step the customer is at; undefined until the first step has run. */
  stepId: string | undefined;
  /** When the current step started: a wait counts from here. */
  stepStartedAt: number;
  /** When the customer entered (the trigger's instant). */
  enteredAt: number;
  arm: Arm;
  status: 'active' | 'exited' | 'completed';
  exitReason?: ExitReason;
}

/** What the engine needs to know about the customer, as of `now`. */
export interface JourneyFacts {
  /** The customer's IANA time zone (the store's when the customer has none). */
  timeZone: string;
  /** The latest paid order's instant, if any. */
  lastOrderAt?: number;
  /** When the customer withdrew marketing consent (or was suppressed), if they did. */
  unsubscribedAt?: number;
  /** Segment labels the customer is in now, as `family:label` (`lifecycle:at_risk`, `rfm:champions`). */
  segments: ReadonlySet<string>;
  /** The latest instant of each event the customer sent (by event name). */
  lastEventAt?: ReadonlyMap<string, number>;
  /** Facts that branches read: `country`, `score.p_alive`, `survey.exit_reason`, `loyalty.balance` … */
  values: Readonly<Record<string, string | number | boolean | null | undefined>>;
}

/** What to do next. Sends and outreach of the control arm are recorded as held out and never delivered. */
export type JourneyAction =
  | { type: 'wait'; stepId: string; until: number }
  | {
      type: 'send';
      stepId: string;
      channels: readonly Channel[];
      template: string;
      purpose: 'marketing' | 'transactional';
      /** The preference-centre topic (`stepTopic`): a customer who turned it off is skipped. */
      topic?: PreferenceTopic;
      offer?: Offer;
      kakao?: KakaoStep;
      products?: ProductsBlock;
      heldOut: boolean;
      at: number;
    }
  | { type: 'outreach'; stepId: string; note: string; heldOut: boolean; at: number }
  | { type: 'branch'; stepId: string; taken: string; matched: number | 'default' }
  | { type: 'exit'; reason: ExitReason; at: number }
  | { type: 'complete'; at: number };

/** The first state of a customer who enters at `enteredAt` in `arm`. */
export function enterJourney(enteredAt: number, arm: Arm): JourneyState {
  return { stepId: undefined, stepStartedAt: enteredAt, enteredAt, arm, status: 'active' };
}

/**
 * `start` plus a duration in the customer's zone: days are calendar days (the same wall-clock time,
 * 23 or 25 hours across a daylight-saving change), hours and minutes are elapsed time.
 */
export function addDuration(start: number, duration: Duration, timeZone: string): number {
  let at = start;
  const days = duration.days ?? 0;
  if (days > 0) {
    const wall = start + zoneOffsetAt(start, timeZone) * 60_000 + days * MS_PER_DAY;
    at = wallTimeInZone(wall, timeZone).epochMs;
  }
  return at + ((duration.hours ?? 0) * 60 + (duration.minutes ?? 0)) * 60_000;
}

/** The first instant at or after `from` whose wall-clock time in `timeZone` is `hhmm` (`09:30`). */
export function nextLocalTime(from: number, hhmm: string, timeZone: string): number {
  const [h, m] = hhmm.split(':').map(Number) as [number, number];
  const wall = from + zoneOffsetAt(from, timeZone) * 60_000;
  const midnight = Math.floor(wall / MS_PER_DAY) * MS_PER_DAY;
  for (let day = 0; day < 3; day++) {
    const candidate = wallTimeInZone(midnight + day * MS_PER_DAY + (h * 60 + m) * 60_000, timeZone).epochMs;
    if (candidate >= from) return candidate;
  }
  throw new Error(`no ${hhmm} in ${timeZone} after ${new Date(from).toISOString()}`);
}

/** When a wait step that started at `startedAt` ends. */
export function waitEnd(step: Extract<FlowStep, { type: 'wait' }>, startedAt: number, timeZone: string): number {
  const after = addDuration(startedAt, step.for, timeZone);
  return step.atLocalTime === undefined ? after : nextLocalTime(after, step.atLocalTime, timeZone);
}

/** The first exit condition that holds at `now`, if any. */
export function exitReason(
  conditions: readonly ExitCondition[],
  state: JourneyState,
  facts: JourneyFacts,
  now: number,
): ExitReason | undefined {
  for (const condition of conditions) {
    switch (condition.type) {
      case 'ordered':
        // An order after entering: the order that triggered a post-purchase flow is at enteredAt itself.
        if (facts.lastOrderAt !== undefined && facts.lastOrderAt > state.enteredAt && facts.lastOrderAt <= now) {
          return 'ordered';
        }
        break;
      case 'unsubscribed':
        if (facts.unsubscribedAt !== undefined && facts.unsubscribedAt <= now) return 'unsubscribed';
        break;
      case 'left_segment':
        if (!condition.segments.some((s) => facts.segments.has(s))) return 'left_segment';
        break;
      case 'event':
        for (const name of condition.events) {
          const at = facts.lastEventAt?.get(name);
          if (at !== undefined && at > state.enteredAt && at <= now) return 'event';
        }
        break;
    }
  }
  return undefined;
}

/** Whether a branch condition holds; every test given must hold, and a missing fact fails all but `exists: false`. */
export function conditionHolds(condition: Condition, facts: JourneyFacts): boolean {
  if (condition.fact === 'segment') {
    // `segment` asks for membership: eq names one label, in any of several.
    const wanted = [...(condition.eq === undefined ? [] : [String(condition.eq)]), ...(condition.in ?? []).map(String)];
    return wanted.some((s) => facts.segments.has(s));
  }
  const value = facts.values[condition.fact];
  const present = value !== undefined && value !== null && value !== '';
  if (condition.exists !== undefined && condition.exists !== present) return false;
  if (!present) return condition.exists === false && condition.eq === undefined && condition.in === undefined;
  if (condition.eq !== undefined && value !== condition.eq) return false;
  if (condition.in !== undefined && !condition.in.some((v) => v === value)) return false;
  if (condition.gte !== undefined && !(typeof value === 'number' && value >= condition.gte)) return false;
  if (condition.lt !== undefined && !(typeof value === 'number' && value < condition.lt)) return false;
  return true;
}

/**
 * What happens next for one customer in one flow. Checks the exit conditions first, then walks steps
 * from the current one: waits that have ended are passed (the next step counts from the wait's end),
 * sends, outreach and branches happen at `now`, and the walk stops at a wait still running, at an exit
 * step or at a step with no `next` (the journey is complete). Pure: the same inputs give the same output.
 */
export function nextActions(
  flow: FlowDefinition,
  state: JourneyState,
  facts: JourneyFacts,
  now: number,
): { actions: JourneyAction[]; state: JourneyState } {
  if (state.status !== 'active') return { actions: [], state };
  const reason = exitReason(flow.exitWhen, state, facts, now);
  if (reason) {
    return { actions: [{ type: 'exit', reason, at: now }], state: { ...state, status: 'exited', exitReason: reason } };
  }
  const byId = new Map(flow.steps.map((s) => [s.id, s]));
  const actions: JourneyAction[] = [];
  const heldOut = state.arm === 'control';
  let current: string | undefined = state.stepId ?? flow.steps[0]!.id;
  let startedAt = state.stepId === undefined ? state.enteredAt : state.stepStartedAt;
  // validateFlow refuses loops without a wait, so a walk visits each step at most once between waits.
  for (let guard = 0; guard <= flow.steps.length; guard++) {
    const step: FlowStep | undefined = current === undefined ? undefined : byId.get(current);
    if (step === undefined || step.type === 'exit') {
      actions.push({ type: 'complete', at: now });
      return { actions, state: { ...state, stepId: current, stepStartedAt: startedAt, status: 'completed' } };
    }
    switch (step.type) {
      case 'wait': {
        const until = waitEnd(step, startedAt, facts.timeZone);
        if (now < until) {
          actions.push({ type: 'wait', stepId: step.id, until });
          return { actions, state: { ...state, stepId: step.id, stepStartedAt: startedAt } };
        }
        current = step.next;
        startedAt = until;
        break;
      }
      case 'send':
        actions.push({
          type: 'send',
          stepId: step.id,
          channels: step.channels,
          template: step.template,
          purpose: step.purpose,
          // `stepTopic` (flow.ts), inline: the engine imports only types.
          ...(step.purpose === 'marketing' && (step.topic ?? step.offer) ? { topic: step.topic ?? 'offers' } : {}),
          ...(step.offer ? { offer: step.offer } : {}),
          ...(step.kakao ? { kakao: step.kakao } : {}),
          ...(step.products ? { products: step.products } : {}),
          heldOut,
          at: now,
        });
        current = step.next;
        startedAt = now;
        break;
      case 'outreach':
        actions.push({ type: 'outreach', stepId: step.id, note: step.note, heldOut, at: now });
        current = step.next;
        startedAt = now;
        break;
      case 'branch': {
        const matched = step.cases.findIndex((c) => conditionHolds(c.when, facts));
        const taken = matched === -1 ? step.default : step.cases[matched]!.next;
        actions.push({ type: 'branch', stepId: step.id, taken, matched: matched === -1 ? 'default' : matched });
        current = taken;
        startedAt = now;
        break;
      }
    }
  }
  throw new Error(`flow ${flow.key}: a walk passed every step without a wait (validateFlow should refuse it)`);
}
