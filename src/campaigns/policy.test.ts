import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decideSend, inQuietHours, type SendFacts } from './policy.js';

const utc = (text: string) => Date.parse(text);
const DAY = 86_400_000;

const marketing = (over: Partial<SendFacts> = {}): SendFacts => ({
  purpose: 'marketing',
  channel: 'email',
  timeZone: 'Asia/Seoul',
  heldOut: false,
  consent: true,
  recentMarketingSends: [],
  ...over,
});

const rules = { quietHours: { start: '21:00', end: '08:00' }, cap: { count: 2, days: 7 } };

describe('decideSend', () => {
  const noon = utc('2026-06-01T03:00:00Z'); // 12:00 in Seoul

  test('sends marketing with consent, inside the cap and outside quiet hours', () => {
    assert.deepEqual(decideSend(marketing(), rules, noon), { type: 'send' });
  });

  test('the control group never receives anything, transactional included', () => {
    assert.deepEqual(decideSend(marketing({ heldOut: true }), rules, noon), { type: 'skip', reason: 'held_out' });
    assert.equal(decideSend(marketing({ heldOut: true, purpose: 'transactional' }), rules, noon).type, 'skip');
  });

  test('a topic the customer turned off stops marketing (after consent, before the cap); transactional never', () => {
    const off = { topic: { name: 'offers', on: false } };
    assert.deepEqual(decideSend(marketing(off), rules, noon), {
      type: 'skip',
      reason: 'topic_opted_out',
      detail: 'offers',
    });
    assert.deepEqual(decideSend(marketing({ topic: { name: 'offers', on: true } }), rules, noon), { type: 'send' });
    assert.deepEqual(decideSend(marketing({ ...off, purpose: 'transactional' }), rules, noon), { type: 'send' });
    // Without channel consent the consent reason comes first; over the cap, the topic's.
    assert.equal(
      (decideSend(marketing({ ...off, consent: false }), rules, noon) as { reason: string }).reason,
      'no_consent',
    );
    const full = { recentMarketingSends: [noon - DAY, noon - 2 * DAY] };
    assert.equal(
      (decideSend(marketing({ ...off, ...full }), rules, noon) as { reason: string }).reason,
      'topic_opted_out',
    );
  });

  test('no consent, no marketing; transactional needs none', () => {
    assert.deepEqual(decideSend(marketing({ consent: false }), rules, noon), {
      type: 'skip',
      reason: 'no_consent',
      detail: 'email',
    });
    assert.deepEqual(decideSend(marketing({ consent: false, purpose: 'transactional' }), rules, noon), {
      type: 'send',
    });
  });

  test('a hard bounce stops everything; an unsubscribe or complaint stops marketing only', () => {
    assert.equal(decideSend(marketing({ suppressed: 'bounce', purpose: 'transactional' }), rules, noon).type, 'skip');
    assert.deepEqual(decideSend(marketing({ suppressed: 'unsubscribe' }), rules, noon), {
      type: 'skip',
      reason: 'suppressed',
      detail: 'unsubscribe',
    });
    assert.deepEqual(decideSend(marketing({ suppressed: 'complaint', purpose: 'transactional' }), rules, noon), {
      type: 'send',
    });
  });

  test('quiet hours in the customer zone defer marketing to their end; edges included at the start only', () => {
    const at2100 = utc('2026-06-01T12:00:00Z'); // 21:00 Seoul
    assert.deepEqual(decideSend(marketing(), rules, at2100), {
      type: 'defer',
      until: utc('2026-06-01T23:00:00Z'),
      reason: 'quiet_hours',
    });
    const at0759 = utc('2026-06-01T22:59:00Z'); // 07:59 Seoul
    assert.equal(decideSend(marketing(), rules, at0759).type, 'defer');
    const at0800 = utc('2026-06-01T23:00:00Z'); // 08:00 Seoul
    assert.deepEqual(decideSend(marketing(), rules, at0800), { type: 'send' });
    const at2059 = utc('2026-06-01T11:59:00Z');
    assert.deepEqual(decideSend(marketing(), rules, at2059), { type: 'send' });
    // The same instant is daytime for a London customer.
    assert.deepEqual(decideSend(marketing({ timeZone: 'Europe/London' }), rules, at2100), { type: 'send' });
    // Transactional messages are not held back.
    assert.deepEqual(decideSend(marketing({ purpose: 'transactional' }), rules, at2100), { type: 'send' });
  });

  test('one cap over every flow and campaign: at most 2 marketing messages in any 7 days', () => {
    const two = [noon - DAY, noon - 6 * DAY];
    assert.equal(decideSend(marketing({ recentMarketingSends: two }), rules, noon).type, 'skip');
    assert.deepEqual(decideSend(marketing({ recentMarketingSends: two }), rules, noon), {
      type: 'skip',
      reason: 'frequency_cap',
      detail: '2 marketing messages in 7 days',
    });
    // A message sent exactly 7 days ago has left the window.
    assert.deepEqual(decideSend(marketing({ recentMarketingSends: [noon - DAY, noon - 7 * DAY] }), rules, noon), {
      type: 'send',
    });
    assert.deepEqual(decideSend(marketing({ recentMarketingSends: [noon - DAY] }), rules, noon), { type: 'send' });
  });

  test('quiet hours that do not wrap midnight, and empty ones', () => {
    assert.equal(inQuietHours(13 * 60, { start: '12:00', end: '14:00' }), true);
    assert.equal(inQuietHours(14 * 60, { start: '12:00', end: '14:00' }), false);
    assert.equal(inQuietHours(12 * 60, { start: '12:00', end: '12:00' }), false);
  });
});
