import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { addDuration, conditionHolds, enterJourney, type JourneyFacts, nextActions, nextLocalTime } from './engine.js';
import { type FlowDefinition, validateFlow } from './flow.js';

const utc = (text: string) => Date.parse(text);

function flowOf(input: Record<string, unknown>): FlowDefinition {
  const r = validateFlow(input);
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.flow;
}

const winBack = flowOf({
  key: 'win-back',
  name: 'Win-back',
  trigger: { type: 'segment_entered', segments: ['lifecycle:at_risk'] },
  exitWhen: [
    { type: 'ordered' },
    { type: 'unsubscribed' },
    { type: 'left_segment', segments: ['lifecycle:at_risk', 'lifecycle:lapsed'] },
  ],
  steps: [
    { id: 'remind', type: 'send', channels: ['email'], template: 'reminder', purpose: 'marketing', next: 'w1' },
    { id: 'w1', type: 'wait', for: { hours: 12 }, atLocalTime: '10:00', next: 'why' },
    {
      id: 'why',
      type: 'branch',
      cases: [
        { when: { fact: 'survey.exit_reason', eq: 'too_expensive' }, next: 'offer' },
        { when: { fact: 'survey.exit_reason', in: ['poor_service'] }, next: 'staff' },
      ],
      default: 'last',
    },
    {
      id: 'offer',
      type: 'send',
      channels: ['email'],
      template: 'offer',
      purpose: 'marketing',
      offer: { type: 'percent', percent: 10, validDays: 7 },
    },
    { id: 'staff', type: 'outreach', note: 'Call and apologise' },
    { id: 'last', type: 'send', channels: ['sms', 'email'], template: 'last-call', purpose: 'marketing' },
  ],
});

const facts = (over: Partial<JourneyFacts> = {}): JourneyFacts => ({
  timeZone: 'Europe/London',
  segments: new Set(['lifecycle:at_risk']),
  values: {},
  ...over,
});

describe('local time across daylight-saving changes', () => {
  test('a day is the same wall-clock time: 23 hours into BST, 25 hours out of it', () => {
    // 2026-03-29 01:00 UTC London springs forward; 2026-10-25 01:00 UTC it falls back.
    assert.equal(addDuration(utc('2026-03-28T10:00:00Z'), { days: 1 }, 'Europe/London'), utc('2026-03-29T09:00:00Z'));
    assert.equal(addDuration(utc('2026-10-24T09:00:00Z'), { days: 1 }, 'Europe/London'), utc('2026-10-25T10:00:00Z'));
    // Hours are elapsed time, not wall time.
    assert.equal(addDuration(utc('2026-03-28T10:00:00Z'), { hours: 24 }, 'Europe/London'), utc('2026-03-29T10:00:00Z'));
    // New York springs forward on 2026-03-08.
    assert.equal(
      addDuration(utc('2026-03-07T14:00:00Z'), { days: 1 }, 'America/New_York'),
      utc('2026-03-08T13:00:00Z'),
    );
  });

  test('the next local 10:00 after a time', () => {
    assert.equal(nextLocalTime(utc('2026-03-28T20:00:00Z'), '10:00', 'Europe/London'), utc('2026-03-29T09:00:00Z'));
    assert.equal(nextLocalTime(utc('2026-03-29T08:59:00Z'), '10:00', 'Europe/London'), utc('2026-03-29T09:00:00Z'));
    assert.equal(nextLocalTime(utc('2026-03-29T09:00:00Z'), '10:00', 'Europe/London'), utc('2026-03-29T09:00:00Z'));
    assert.equal(nextLocalTime(utc('2026-06-01T01:30:00Z'), '10:00', 'Asia/Seoul'), utc('2026-06-02T01:00:00Z'));
  });
});

describe('nextActions', () => {
  const entered = utc('2026-03-28T15:00:00Z');

  test('(state, facts, now) → actions: send, then wait 12 hours and until the next 10:00 local (BST has begun overnight)', () => {
    const first = nextActions(winBack, enterJourney(entered, 'treatment'), facts(), entered);
    assert.deepEqual(
      first.actions.map((a) => a.type),
      ['send', 'wait'],
    );
    const wait = first.actions[1]!;
    assert.equal(wait.type === 'wait' && wait.until, utc('2026-03-29T09:00:00Z'));
    // Nothing happens before the wait ends.
    const early = nextActions(winBack, first.state, facts(), utc('2026-03-29T08:59:59Z'));
    assert.deepEqual(early.actions, [{ type: 'wait', stepId: 'w1', until: utc('2026-03-29T09:00:00Z') }]);
    // At the end of the wait the branch takes the default path and the last call goes out; the journey completes.
    const later = nextActions(winBack, first.state, facts(), utc('2026-03-29T09:00:00Z'));
    assert.deepEqual(
      later.actions.map((a) => (a.type === 'branch' ? `branch:${a.taken}` : a.type)),
      ['branch:last', 'send', 'complete'],
    );
    assert.equal(later.state.status, 'completed');
  });

  test('branches on the exit-survey answer', () => {
    const first = nextActions(winBack, enterJourney(entered, 'treatment'), facts(), entered);
    const at = utc('2026-03-29T09:00:00Z');
    const offer = nextActions(winBack, first.state, facts({ values: { 'survey.exit_reason': 'too_expensive' } }), at);
    const send = offer.actions.find((a) => a.type === 'send');
    assert.equal(send?.type === 'send' && send.template, 'offer');
    assert.deepEqual(send?.type === 'send' && send.offer, { type: 'percent', percent: 10, validDays: 7 });
    const staff = nextActions(winBack, first.state, facts({ values: { 'survey.exit_reason': 'poor_service' } }), at);
    assert.ok(staff.actions.some((a) => a.type === 'outreach' && a.note === 'Call and apologise'));
  });

  test('the control arm walks the same steps and every send is held out', () => {
    const first = nextActions(winBack, enterJourney(entered, 'control'), facts(), entered);
    const send = first.actions[0]!;
    assert.equal(send.type === 'send' && send.heldOut, true);
  });

  test('exits when the customer orders after entering, not for the order at entry', () => {
    const first = nextActions(winBack, enterJourney(entered, 'treatment'), facts({ lastOrderAt: entered }), entered);
    assert.equal(first.actions[0]!.type, 'send');
    const ordered = nextActions(winBack, first.state, facts({ lastOrderAt: entered + 1 }), entered + 1000);
    assert.deepEqual(ordered.actions, [{ type: 'exit', reason: 'ordered', at: entered + 1000 }]);
    assert.equal(ordered.state.status, 'exited');
    // An ended journey does nothing more.
    assert.deepEqual(nextActions(winBack, ordered.state, facts(), entered + 2000).actions, []);
  });

  test('exits on unsubscribe and on leaving the segment', () => {
    const state = nextActions(winBack, enterJourney(entered, 'treatment'), facts(), entered).state;
    assert.equal(
      nextActions(winBack, state, facts({ unsubscribedAt: entered + 5 }), entered + 10).state.exitReason,
      'unsubscribed',
    );
    assert.equal(
      nextActions(winBack, state, facts({ segments: new Set(['lifecycle:active']) }), entered + 10).state.exitReason,
      'left_segment',
    );
    // Lapsed is still one of the segments the flow is for.
    assert.equal(
      nextActions(winBack, state, facts({ segments: new Set(['lifecycle:lapsed']) }), entered + 10).state.status,
      'active',
    );
  });

  test('a cart-abandonment flow exits on Order Completed after entry', () => {
    const cart = flowOf({
      key: 'cart',
      name: 'Cart',
      trigger: { type: 'event', events: ['Checkout Started'] },
      exitWhen: [{ type: 'event', events: ['Order Completed'] }],
      steps: [
        { id: 'w', type: 'wait', for: { hours: 4 }, next: 's' },
        { id: 's', type: 'send', channels: ['email'], template: 'cart', purpose: 'marketing' },
      ],
    });
    const start = utc('2026-05-01T12:00:00Z');
    const waiting = nextActions(cart, enterJourney(start, 'treatment'), facts(), start);
    assert.deepEqual(waiting.actions, [{ type: 'wait', stepId: 'w', until: utc('2026-05-01T16:00:00Z') }]);
    const done = new Map([['Order Completed', utc('2026-05-01T13:00:00Z')]]);
    assert.equal(
      nextActions(cart, waiting.state, facts({ lastEventAt: done }), utc('2026-05-01T16:00:00Z')).state.exitReason,
      'event',
    );
    const before = new Map([['Order Completed', utc('2026-05-01T11:00:00Z')]]);
    const sent = nextActions(cart, waiting.state, facts({ lastEventAt: before }), utc('2026-05-01T16:00:00Z'));
    assert.deepEqual(
      sent.actions.map((a) => a.type),
      ['send', 'complete'],
    );
  });
});

describe('branch conditions on a fact', () => {
  test('`in` holds only for a listed value; `gte`/`lt` bound a number at their edges', () => {
    const f = facts({ values: { country: 'FR', 'score.clv': 100 } });
    assert.equal(conditionHolds({ fact: 'country', in: ['GB', 'IE'] }, f), false);
    assert.equal(conditionHolds({ fact: 'country', in: ['GB', 'FR'] }, f), true);
    // gte includes its bound, lt excludes it.
    assert.equal(conditionHolds({ fact: 'score.clv', gte: 100 }, f), true);
    assert.equal(conditionHolds({ fact: 'score.clv', gte: 100.01 }, f), false);
    assert.equal(conditionHolds({ fact: 'score.clv', lt: 100 }, f), false);
    assert.equal(conditionHolds({ fact: 'score.clv', lt: 100.01 }, f), true);
  });
});
