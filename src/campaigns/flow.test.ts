import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { stepTopic, validateFlow } from './flow.js';

/** A small valid win-back flow; tests change one thing at a time. */
function winBack(): Record<string, unknown> {
  return {
    key: 'win-back',
    name: 'Win-back',
    trigger: { type: 'segment_entered', segments: ['lifecycle:at_risk', 'lifecycle:lapsed'] },
    exitWhen: [{ type: 'ordered' }, { type: 'unsubscribed' }],
    steps: [
      {
        id: 'remind',
        type: 'send',
        channels: ['email'],
        template: 'win-back-reminder',
        purpose: 'marketing',
        next: 'w1',
      },
      { id: 'w1', type: 'wait', for: { days: 3 }, next: 'offer' },
      {
        id: 'offer',
        type: 'send',
        channels: ['email', 'sms'],
        template: 'win-back-offer',
        purpose: 'marketing',
        offer: { type: 'percent', percent: 15, validDays: 14, maxShareOfPredictedValue: 0.2 },
        next: 'w2',
      },
      { id: 'w2', type: 'wait', for: { days: 7 }, next: 'last' },
      { id: 'last', type: 'send', channels: ['email'], template: 'win-back-last-call', purpose: 'marketing' },
    ],
  };
}

const problemsOf = (input: unknown) => {
  const r = validateFlow(input);
  assert.equal(r.ok, false, 'expected the flow to be refused');
  return r.ok ? [] : r.problems;
};

describe('validateFlow', () => {
  test('a send step takes a topic of the preference centre; others and transactional topics are refused by field', () => {
    const withTopic = (step: number, topic: unknown, purpose?: string) => {
      const flow = winBack();
      const steps = flow.steps as Array<Record<string, unknown>>;
      steps[step] = { ...steps[step]!, topic, ...(purpose ? { purpose } : {}) };
      return flow;
    };
    const ok = validateFlow(withTopic(0, 'new_products'));
    assert.ok(ok.ok);
    assert.equal((ok.flow.steps[0] as { topic?: string }).topic, 'new_products');
    assert.deepEqual(
      problemsOf(withTopic(4, 'promotions')).map((p) => p.path),
      ['steps.4.topic'],
    );
    assert.deepEqual(problemsOf(withTopic(4, 'surveys', 'transactional')), [
      {
        path: 'steps.4.topic',
        message: 'a topic is a marketing choice: a transactional step has none (topics never block it)',
      },
    ]);
  });

  test("stepTopic: the step's topic, else offers for a marketing step with an offer, else none; transactional none", () => {
    assert.equal(stepTopic({ purpose: 'marketing', topic: 'rewards', offer: {} }), 'rewards');
    assert.equal(stepTopic({ purpose: 'marketing', offer: {} }), 'offers');
    assert.equal(stepTopic({ purpose: 'marketing' }), undefined);
    assert.equal(stepTopic({ purpose: 'transactional' }), undefined);
  });

  test('accepts a valid flow and fills the defaults', () => {
    const r = validateFlow(winBack());
    assert.ok(r.ok);
    assert.equal(r.flow.holdoutShare, 0.1);
    assert.equal(r.flow.attributionDays, 5);
    assert.deepEqual(r.flow.reentry, { type: 'never' });
  });

  test('names the field of a schema error', () => {
    const flow = winBack();
    (flow.steps as Record<string, unknown>[])[2]!.channels = ['pigeon'];
    const problems = problemsOf(flow);
    assert.ok(
      problems.some((p) => p.path.startsWith('steps.2')),
      JSON.stringify(problems),
    );
  });

  test('refuses a hold-out share above one half', () => {
    const problems = problemsOf({ ...winBack(), holdoutShare: 0.9 });
    assert.deepEqual(
      problems.map((p) => p.path),
      ['holdoutShare'],
    );
  });

  test('refuses a dangling next, naming steps.N.next', () => {
    const flow = winBack();
    (flow.steps as Record<string, unknown>[])[1]!.next = 'nowhere';
    assert.deepEqual(problemsOf(flow), [{ path: 'steps.1.next', message: 'no step has the id "nowhere"' }]);
  });

  test('refuses a step that cannot be reached', () => {
    const flow = winBack();
    (flow.steps as Record<string, unknown>[]).push({ id: 'orphan', type: 'exit' });
    assert.deepEqual(problemsOf(flow), [
      { path: 'steps.5', message: 'step "orphan" cannot be reached from the first step' },
    ]);
  });

  test('refuses a loop without a wait, and accepts one through a wait', () => {
    const loop = {
      ...winBack(),
      steps: [
        { id: 'a', type: 'send', channels: ['email'], template: 't', purpose: 'marketing', next: 'b' },
        { id: 'b', type: 'branch', cases: [{ when: { fact: 'country', eq: 'GB' }, next: 'a' }], default: 'c' },
        { id: 'c', type: 'exit' },
      ],
    };
    const problems = problemsOf(loop);
    assert.equal(problems.length, 1);
    assert.match(problems[0]!.message, /loop without a wait: a → b → a|loop without a wait: b → a → b/);
    const withWait = {
      ...loop,
      steps: [
        { id: 'a', type: 'send', channels: ['email'], template: 't', purpose: 'marketing', next: 'w' },
        { id: 'w', type: 'wait', for: { days: 1 }, next: 'b' },
        { id: 'b', type: 'branch', cases: [{ when: { fact: 'country', eq: 'GB' }, next: 'a' }], default: 'c' },
        { id: 'c', type: 'exit' },
      ],
    };
    assert.ok(validateFlow(withWait).ok);
  });

  test('refuses a zero wait, duplicate ids, an offer on a transactional step, an empty condition', () => {
    const flow = winBack();
    const steps = flow.steps as Record<string, unknown>[];
    steps[1]!.for = { days: 0 };
    assert.deepEqual(problemsOf(flow), [{ path: 'steps.1.for', message: 'a wait must last at least a minute' }]);
    const dup = winBack();
    (dup.steps as Record<string, unknown>[])[4]!.id = 'remind';
    assert.ok(problemsOf(dup).some((p) => p.path === 'steps.4.id'));
    const tx = winBack();
    (tx.steps as Record<string, unknown>[])[2]!.purpose = 'transactional';
    assert.ok(problemsOf(tx).some((p) => p.path === 'steps.2.offer'));
    const cond = {
      ...winBack(),
      steps: [
        { id: 'b', type: 'branch', cases: [{ when: { fact: 'country' }, next: 'c' }], default: 'c' },
        { id: 'c', type: 'exit' },
      ],
    };
    assert.deepEqual(problemsOf(cond), [
      { path: 'steps.0.cases.0.when', message: 'a condition needs eq, in, gte, lt or exists' },
    ]);
  });

  test('refuses what is not an object', () => {
    assert.deepEqual(problemsOf([]), [{ path: '(root)', message: 'a flow is a JSON object' }]);
  });
});

describe('the tier_reached trigger', () => {
  test('validates with or without a list of tiers; a tier list of something else than keys is refused', () => {
    const any = validateFlow({ ...winBack(), trigger: { type: 'tier_reached' } });
    assert.ok(any.ok && any.flow.trigger.type === 'tier_reached' && any.flow.trigger.tiers === undefined);
    const gold = validateFlow({ ...winBack(), trigger: { type: 'tier_reached', tiers: ['gold'] } });
    assert.deepEqual(gold.ok && gold.flow.trigger, { type: 'tier_reached', tiers: ['gold'] });
    assert.equal(validateFlow({ ...winBack(), trigger: { type: 'tier_reached', tiers: [3] } }).ok, false);
  });
});
