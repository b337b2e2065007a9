import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { type PreferenceTopic, TOPICS } from '../feedback/tables.js';
import { METHODS } from '../recommend/index.js';

/**
 * A flow is a validated JSON document: what starts it (trigger), what ends it early (exit
 * conditions), and a graph of steps (wait, send, branch, staff outreach, exit). The first step is where
 * a customer enters. Flows are versioned by the store; a customer finishes the version they entered.
 */

const Key = Type.String({ pattern: '^[a-z0-9][a-z0-9_-]*$', maxLength: 64 });
const StepId = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_-]*$', maxLength: 64 });

/** A span of time; days are calendar days in the customer's time zone (a day across a DST change is 23 or 25 hours). */
export const DurationSchema = Type.Object(
  {
    days: Type.Optional(Type.Integer({ minimum: 0, maximum: 3650 })),
    hours: Type.Optional(Type.Integer({ minimum: 0, maximum: 24 * 366 })),
    minutes: Type.Optional(Type.Integer({ minimum: 0, maximum: 60 * 24 * 366 })),
  },
  { additionalProperties: false },
);
export type Duration = Static<typeof DurationSchema>;

/** The channels a step can use. `outreach` is a task for staff, counted like a send. */
export const CHANNELS = ['email', 'sms', 'kakao', 'webhook'] as const;
export type Channel = (typeof CHANNELS)[number];
const ChannelSchema = Type.Union(CHANNELS.map((c) => Type.Literal(c)));

const Trigger = Type.Union([
  /** A segment change written by the segments code (`segment_entered` events), e.g. `lifecycle:at_risk`. */
  Type.Object(
    { type: Type.Literal('segment_entered'), segments: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }) },
    { additionalProperties: false },
  ),
  /** Any event the store sends (`Checkout Started`, `Product Viewed`, its app's `Store Visited Nearby`). */
  Type.Object(
    { type: Type.Literal('event'), events: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }) },
    { additionalProperties: false },
  ),
  /** A paid order; `nth` limits it to the customer's n-th order (1 = the first). */
  Type.Object(
    { type: Type.Literal('order'), nth: Type.Optional(Type.Integer({ minimum: 1 })) },
    { additionalProperties: false },
  ),
  /** A yearly date on the customer (the birthday), `daysBefore` it, at the store's send time. */
  Type.Object(
    {
      type: Type.Literal('date'),
      field: Type.Literal('birthday'),
      daysBefore: Type.Optional(Type.Integer({ minimum: 0, maximum: 60 })),
    },
    { additionalProperties: false },
  ),
  /** Loyalty: points about to expire within `daysBefore` days; a tier reached. */
  Type.Object(
    { type: Type.Literal('points_expiring'), daysBefore: Type.Integer({ minimum: 1, maximum: 365 }) },
    { additionalProperties: false },
  ),
  Type.Object(
    { type: Type.Literal('tier_reached'), tiers: Type.Optional(Type.Array(Key)) },
    { additionalProperties: false },
  ),
  /** A product's own repurchase cycle has come due for the customer (from recommend/). */
  Type.Object({ type: Type.Literal('replenishment_due') }, { additionalProperties: false }),
  /** A subscriber who has not bought yet (captured on the storefront). */
  Type.Object({ type: Type.Literal('subscribed') }, { additionalProperties: false }),
  /** A one-off campaign to a saved segment's members, entered when it is sent (`comeback campaigns send`). */
  Type.Object(
    { type: Type.Literal('campaign'), segment: Type.String({ minLength: 1, maxLength: 200 }) },
    { additionalProperties: false },
  ),
]);
export type FlowTrigger = Static<typeof Trigger>;

const ExitCondition = Type.Union([
  /** The customer placed a paid order after entering. */
  Type.Object({ type: Type.Literal('ordered') }, { additionalProperties: false }),
  /** The customer withdrew marketing consent on the flow's channels. */
  Type.Object({ type: Type.Literal('unsubscribed') }, { additionalProperties: false }),
  /** The customer is no longer in the segment (for example no longer `lifecycle:at_risk`). */
  Type.Object(
    { type: Type.Literal('left_segment'), segments: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }) },
    { additionalProperties: false },
  ),
  /** One of these events happened after entering (`Order Completed`). */
  Type.Object(
    { type: Type.Literal('event'), events: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }) },
    { additionalProperties: false },
  ),
]);
export type ExitCondition = Static<typeof ExitCondition>;

/** An offer attached to a send: a unique single-use code is issued per customer. */
export const OfferSchema = Type.Object(
  {
    type: Type.Union([
      Type.Literal('amount'),
      Type.Literal('percent'),
      Type.Literal('free_shipping'),
      Type.Literal('bogo'),
      Type.Literal('gift'),
      Type.Literal('early_access'),
    ]),
    amountMinor: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000_000 })),
    percent: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 100 })),
    minOrderMinor: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000_000 })),
    validDays: Type.Integer({ minimum: 1, maximum: 365 }),
    /** The discount never exceeds this share of the customer's predicted value (0.2 = 20 %). */
    maxShareOfPredictedValue: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1 })),
  },
  { additionalProperties: false },
);
export type Offer = Static<typeof OfferSchema>;

/**
 * How a send step uses KakaoTalk. 알림톡 needs a template code registered with Kakao; the step's template
 * is the registered text with `#{name}` placeholders, and `variables` gives each name a Liquid
 * expression rendered as text. 친구톡 / 브랜드 메시지 renders the template as Liquid.
 */
export const KakaoStepSchema = Type.Object(
  {
    type: Type.Union([Type.Literal('alimtalk'), Type.Literal('friendtalk')]),
    templateCode: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    variables: Type.Optional(
      Type.Record(Type.String({ minLength: 1, maxLength: 40 }), Type.String({ maxLength: 500 })),
    ),
  },
  { additionalProperties: false },
);
export type KakaoStep = Static<typeof KakaoStepSchema>;

/** The KakaoTalk message kind of a send step: as set, else 알림톡 for transactional and 친구톡 for marketing. */
export function kakaoKind(step: {
  purpose: 'marketing' | 'transactional';
  kakao?: KakaoStep;
}): 'alimtalk' | 'friendtalk' {
  return step.kakao?.type ?? (step.purpose === 'transactional' ? 'alimtalk' : 'friendtalk');
}

/** Most items a template block (products, new arrivals, a trigger's items) carries. */
export const MAX_BLOCK_ITEMS = 12;

/**
 * The `products` block of a send step: the recommendation method (`personal` by default: what the
 * customer bought and viewed, topped up with best-sellers; `popular-in-category` for their categories;
 * `buy-again` or `replenishment` for a reminder) and how many items every list block carries (default 4).
 */
export const ProductsBlockSchema = Type.Object(
  {
    method: Type.Optional(Type.Union(METHODS.map((m) => Type.Literal(m)))),
    n: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_BLOCK_ITEMS })),
  },
  { additionalProperties: false },
);
export type ProductsBlock = Static<typeof ProductsBlockSchema>;
/** The topic of a marketing message: one of the preference centre's topics (`TOPICS`). */
export const TopicSchema = Type.Union(TOPICS.map((t) => Type.Literal(t)));

/**
 * The preference-centre topic a send step's message belongs to: the step's `topic`; else `offers` for a
 * marketing step with an offer (a coupon is an offer, whatever the template says); else none, and only the
 * channel's consent governs it. A transactional step has none: topics never block it.
 */
export function stepTopic(step: {
  purpose: 'marketing' | 'transactional';
  topic?: PreferenceTopic;
  offer?: unknown;
}): PreferenceTopic | undefined {
  if (step.purpose !== 'marketing') return undefined;
  return step.topic ?? (step.offer !== undefined ? 'offers' : undefined);
}

/** A comparison on one fact of the customer (a field, a score, a survey answer, a segment). */
const Condition = Type.Object(
  {
    /** `country`, `score.p_alive`, `survey.exit_reason`, `loyalty.balance`, `segment` … */
    fact: Type.String({ minLength: 1, maxLength: 64 }),
    eq: Type.Optional(Type.Union([Type.String(), Type.Number(), Type.Boolean()])),
    in: Type.Optional(Type.Array(Type.Union([Type.String(), Type.Number()]), { minItems: 1 })),
    gte: Type.Optional(Type.Number()),
    lt: Type.Optional(Type.Number()),
    exists: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type Condition = Static<typeof Condition>;

const WaitStep = Type.Object(
  {
    id: StepId,
    type: Type.Literal('wait'),
    for: DurationSchema,
    /** After the wait, move on at the next time of day `HH:MM` in the customer's zone. */
    atLocalTime: Type.Optional(Type.String({ pattern: '^([01]\\d|2[0-3]):[0-5]\\d$' })),
    next: StepId,
  },
  { additionalProperties: false },
);
const SendStep = Type.Object(
  {
    id: StepId,
    type: Type.Literal('send'),
    /** Several channels: each customer gets their preferred one among them. */
    channels: Type.Array(ChannelSchema, { minItems: 1, uniqueItems: true }),
    template: Key,
    /** Marketing needs consent, respects caps and quiet hours; transactional (order status) does not. */
    purpose: Type.Union([Type.Literal('marketing'), Type.Literal('transactional')]),
    offer: Type.Optional(OfferSchema),
    /**
     * Marketing only: the preference-centre topic (`offers`, `new_products`, `rewards`, `surveys`); a
     * customer who turned it off is skipped (`topic_opted_out`). Without one, see `stepTopic`.
     */
    topic: Type.Optional(TopicSchema),
    /** KakaoTalk: 알림톡 (informational, a registered template) or 친구톡 (may advertise). See `kakaoKind`. */
    kakao: Type.Optional(KakaoStepSchema),
    /** Which recommendations fill `products`, and how many items the list blocks carry. */
    products: Type.Optional(ProductsBlockSchema),
    next: Type.Optional(StepId),
  },
  { additionalProperties: false },
);
const BranchStep = Type.Object(
  {
    id: StepId,
    type: Type.Literal('branch'),
    cases: Type.Array(Type.Object({ when: Condition, next: StepId }, { additionalProperties: false }), {
      minItems: 1,
    }),
    default: StepId,
  },
  { additionalProperties: false },
);
const OutreachStep = Type.Object(
  {
    id: StepId,
    type: Type.Literal('outreach'),
    /** What staff should do, shown in the outreach queue beside the customer's 360. */
    note: Type.String({ minLength: 1, maxLength: 2000 }),
    next: Type.Optional(StepId),
  },
  { additionalProperties: false },
);
const ExitStep = Type.Object({ id: StepId, type: Type.Literal('exit') }, { additionalProperties: false });

const Step = Type.Union([WaitStep, SendStep, BranchStep, OutreachStep, ExitStep]);
export type FlowStep = Static<typeof Step>;

/** The schema of a flow definition. */
export const FlowSchema = Type.Object(
  {
    key: Key,
    name: Type.String({ minLength: 1, maxLength: 200 }),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    trigger: Trigger,
    exitWhen: Type.Array(ExitCondition),
    steps: Type.Array(Step, { minItems: 1, maxItems: 100 }),
    /** Share of entrants held out as the control group (receives nothing, tracked the same way). */
    holdoutShare: Type.Number({ minimum: 0, maximum: 0.5 }),
    /** Orders within this many days after a step count towards it. */
    attributionDays: Type.Integer({ minimum: 1, maximum: 90 }),
    /** Whether a customer can enter again, and after how long. */
    reentry: Type.Union([
      Type.Object({ type: Type.Literal('never') }, { additionalProperties: false }),
      Type.Object(
        { type: Type.Literal('after'), days: Type.Integer({ minimum: 1, maximum: 3650 }) },
        { additionalProperties: false },
      ),
    ]),
  },
  { additionalProperties: false },
);
export type FlowDefinition = Static<typeof FlowSchema>;

/** Each step type's own schema: a step that fails the union is explained by the variant its `type` names. */
const STEP_VARIANTS: Record<string, TSchema> = {
  wait: WaitStep,
  send: SendStep,
  branch: BranchStep,
  outreach: OutreachStep,
  exit: ExitStep,
};

/** A problem in a flow document, at a dotted path (`steps.2.next`). */
export interface FlowProblem {
  path: string;
  message: string;
}

/** Reads a JSON Pointer (`/steps/2/next`) as a dotted path (`steps.2.next`). */
function dotted(pointer: string): string {
  return pointer.replace(/^\//, '').replace(/\//g, '.') || '(root)';
}

/** The most specific schema errors: TypeBox reports a union's failure once per branch, keep the deepest. */
function schemaProblems(schema: TSchema, value: unknown): FlowProblem[] {
  const seen = new Set<string>();
  const problems: FlowProblem[] = [];
  for (const error of Value.Errors(schema, value)) {
    const path = dotted(error.path);
    const key = `${path}|${error.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push({ path, message: error.message });
  }
  // A step of a known type that fails the union: the errors of its own variant name the field (`steps.4.topic`).
  const steps = (value as { steps?: unknown }).steps;
  const explained = problems.flatMap((p) => {
    const i = /^steps\.(\d+)$/.exec(p.path)?.[1];
    const step = i !== undefined && Array.isArray(steps) ? (steps[Number(i)] as { type?: unknown }) : undefined;
    const variant = typeof step?.type === 'string' ? STEP_VARIANTS[step.type] : undefined;
    if (!variant || schema !== FlowSchema) return [p];
    const inner = schemaProblems(variant, step).map((q) => ({
      path: q.path === '(root)' ? p.path : `${p.path}.${q.path}`,
      message: q.message,
    }));
    return inner.length > 0 ? inner : [p];
  });
  // Drop a parent's "expected union value" when a deeper path explains it.
  return explained.filter((p) => !explained.some((q) => q !== p && q.path.startsWith(`${p.path}.`)));
}

/** The steps a step can go to next. */
export function successors(step: FlowStep): string[] {
  switch (step.type) {
    case 'wait':
      return [step.next];
    case 'send':
    case 'outreach':
      return step.next === undefined ? [] : [step.next];
    case 'branch':
      return [...step.cases.map((c) => c.next), step.default];
    case 'exit':
      return [];
  }
}

/** Whether a wait really waits (a zero wait cannot break a loop). */
export function durationMs(duration: Duration): number {
  return ((duration.days ?? 0) * 24 * 60 + (duration.hours ?? 0) * 60 + (duration.minutes ?? 0)) * 60_000;
}

/** Graph rules: unique ids, no dangling `next`, every step reachable, every loop passes a real wait. */
function graphProblems(flow: FlowDefinition): FlowProblem[] {
  const problems: FlowProblem[] = [];
  const index = new Map<string, number>();
  flow.steps.forEach((step, i) => {
    if (index.has(step.id)) problems.push({ path: `steps.${i}.id`, message: `duplicate step id "${step.id}"` });
    else index.set(step.id, i);
  });
  flow.steps.forEach((step, i) => {
    if (step.type === 'wait' && durationMs(step.for) === 0 && step.atLocalTime === undefined) {
      problems.push({ path: `steps.${i}.for`, message: 'a wait must last at least a minute' });
    }
    if (step.type === 'send' && step.offer) {
      const o = step.offer;
      if (o.type === 'amount' && o.amountMinor === undefined) {
        problems.push({ path: `steps.${i}.offer.amountMinor`, message: 'an amount offer needs amountMinor' });
      }
      if (o.type === 'percent' && o.percent === undefined) {
        problems.push({ path: `steps.${i}.offer.percent`, message: 'a percent offer needs percent' });
      }
      if (step.purpose === 'transactional') {
        problems.push({ path: `steps.${i}.offer`, message: 'an offer is marketing: the step cannot be transactional' });
      }
    }
    if (step.type === 'send' && step.topic !== undefined && step.purpose === 'transactional') {
      problems.push({
        path: `steps.${i}.topic`,
        message: 'a topic is a marketing choice: a transactional step has none (topics never block it)',
      });
    }
    if (step.type === 'send' && (step.channels.includes('kakao') || step.kakao)) {
      const kind = kakaoKind(step);
      // 정보통신망법 제50조: a promotion sent as 알림톡 is an advertisement without the ad rules; refuse it.
      if (kind === 'alimtalk' && step.purpose !== 'transactional') {
        problems.push({
          path: `steps.${i}.kakao.type`,
          message:
            '알림톡 carries information only (order, payment, shipping, points): a marketing step (win-back, birthday coupon, offers) must use friendtalk',
        });
      }
      if (kind === 'alimtalk' && !step.kakao?.templateCode) {
        problems.push({
          path: `steps.${i}.kakao.templateCode`,
          message: '알림톡 needs the code of a template registered with Kakao',
        });
      }
      if (!step.channels.includes('kakao')) {
        problems.push({ path: `steps.${i}.kakao`, message: 'kakao settings on a step without the kakao channel' });
      }
    }
    if (step.type === 'branch') {
      step.cases.forEach((c, j) => {
        const w = c.when;
        const tests = [w.eq, w.in, w.gte, w.lt, w.exists].filter((t) => t !== undefined).length;
        if (tests === 0) {
          problems.push({ path: `steps.${i}.cases.${j}.when`, message: 'a condition needs eq, in, gte, lt or exists' });
        }
      });
    }
    const where = (n: number) => {
      if (step.type === 'branch') return n < step.cases.length ? `steps.${i}.cases.${n}.next` : `steps.${i}.default`;
      return `steps.${i}.next`;
    };
    successors(step).forEach((target, n) => {
      if (!index.has(target)) problems.push({ path: where(n), message: `no step has the id "${target}"` });
      if (target === step.id && step.type !== 'wait') {
        problems.push({ path: where(n), message: 'a step cannot lead to itself without a wait' });
      }
    });
  });
  if (problems.length > 0) return problems;

  // Reachability from the first step.
  const reached = new Set<string>();
  const stack = [flow.steps[0]!.id];
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (reached.has(id)) continue;
    reached.add(id);
    for (const next of successors(flow.steps[index.get(id)!]!)) stack.push(next);
  }
  flow.steps.forEach((step, i) => {
    if (!reached.has(step.id)) {
      problems.push({ path: `steps.${i}`, message: `step "${step.id}" cannot be reached from the first step` });
    }
  });

  // A cycle through steps that are not waits would send without end: find one in the graph without waits.
  const state = new Map<string, 'open' | 'done'>();
  const visit = (id: string, path: string[]): string[] | undefined => {
    state.set(id, 'open');
    const step = flow.steps[index.get(id)!]!;
    if (step.type !== 'wait') {
      for (const next of successors(step)) {
        const nextStep = flow.steps[index.get(next)!]!;
        if (nextStep.type === 'wait') continue;
        if (state.get(next) === 'open') return [...path, id, next];
        if (!state.has(next)) {
          const loop = visit(next, [...path, id]);
          if (loop) return loop;
        }
      }
    }
    state.set(id, 'done');
    return undefined;
  };
  for (const step of flow.steps) {
    if (state.has(step.id) || step.type === 'wait') continue;
    const loop = visit(step.id, []);
    if (loop) {
      problems.push({
        path: `steps.${index.get(loop[loop.length - 1]!)!}`,
        message: `loop without a wait: ${loop.slice(loop.indexOf(loop[loop.length - 1]!)).join(' → ')}`,
      });
      break;
    }
  }
  return problems;
}

/** Flow defaults a document may leave out. */
const DEFAULTS = { exitWhen: [], holdoutShare: 0.1, attributionDays: 5, reentry: { type: 'never' } };

/**
 * Validates a flow document (JSON already parsed). Fills the defaults (10 % hold-out, 5-day
 * attribution, no re-entry, no exit conditions), then checks the schema and the step graph.
 * Returns the definition, or every problem found with the dotted path of the field (`steps.2.next`).
 */
export function validateFlow(
  input: unknown,
): { ok: true; flow: FlowDefinition } | { ok: false; problems: FlowProblem[] } {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { ok: false, problems: [{ path: '(root)', message: 'a flow is a JSON object' }] };
  }
  const withDefaults: unknown = { ...structuredClone(DEFAULTS), ...input };
  if (!Value.Check(FlowSchema, withDefaults)) return { ok: false, problems: schemaProblems(FlowSchema, withDefaults) };
  const flow = withDefaults;
  const graph = graphProblems(flow);
  if (graph.length > 0) return { ok: false, problems: graph };
  return { ok: true, flow };
}
