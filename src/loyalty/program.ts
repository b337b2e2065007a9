import { type Static, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ComebackError } from '../errors.js';
import { dayInZone } from '../shared/dates.js';
import { currencyExponent, MAX_AMOUNT_MINOR } from '../shared/money.js';

const Key = Type.String({ pattern: '^[a-z0-9][a-z0-9_-]*$', maxLength: 64 });

/** Caps a rule may carry: how often per customer, how often per rolling period, how many points in all. */
const Limits = Type.Object(
  {
    perCustomer: Type.Optional(Type.Integer({ minimum: 1 })),
    perPeriod: Type.Optional(
      Type.Object(
        { count: Type.Integer({ minimum: 1 }), days: Type.Integer({ minimum: 1 }) },
        { additionalProperties: false },
      ),
    ),
    budget: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  { additionalProperties: false },
);

const ActionRule = Type.Object(
  { points: Type.Integer({ minimum: 0 }), limits: Type.Optional(Limits) },
  { additionalProperties: false },
);

/** A custom action: a rule and the name the member sees (the launcher falls back to the key). */
const CustomRule = Type.Object(
  {
    points: Type.Integer({ minimum: 0 }),
    limits: Type.Optional(Limits),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 80 })),
  },
  { additionalProperties: false },
);

const ShareRule = Type.Object(
  {
    points: Type.Integer({ minimum: 0 }),
    /** At most this many rewarded shares per customer per UTC calendar day. */
    dailyCap: Type.Integer({ minimum: 1 }),
    limits: Type.Optional(Limits),
  },
  { additionalProperties: false },
);

const Tier = Type.Object(
  {
    key: Key,
    name: Type.String({ minLength: 1 }),
    /** Points earned (or minor units spent) in the rolling window needed to hold the tier. */
    threshold: Type.Integer({ minimum: 0 }),
    /** Multiplies the points of paid orders (not of actions); 1.25 means 25 % more. */
    multiplier: Type.Number({ minimum: 0, maximum: 10 }),
    perks: Type.Array(Type.String()),
  },
  { additionalProperties: false },
);

const RewardType = Type.Union([
  Type.Literal('fixed_amount'),
  Type.Literal('percentage'),
  Type.Literal('free_shipping'),
  Type.Literal('free_product'),
  Type.Literal('bogo'),
  Type.Literal('early_access'),
  /** `amountMinor` of the program currency credited to the member's store-credit balance. */
  Type.Literal('store_credit'),
]);

const Reward = Type.Object(
  {
    key: Key,
    name: Type.String({ minLength: 1 }),
    type: RewardType,
    cost: Type.Integer({ minimum: 1 }),
    amountMinor: Type.Optional(Type.Integer({ minimum: 1 })),
    percent: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 100 })),
    sku: Type.Optional(Type.String({ minLength: 1 })),
    minOrderMinor: Type.Optional(Type.Integer({ minimum: 0 })),
    /** Days a reward code stays valid; for `store_credit`, days the credit stays spendable before it expires. */
    validDays: Type.Integer({ minimum: 1 }),
    minTier: Type.Optional(Key),
  },
  { additionalProperties: false },
);

/** The schema of a program file (`samples/loyalty/program.example.json`). */
export const ProgramConfigSchema = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    currency: Type.String({ pattern: '^[A-Z]{3}$' }),
    /** What one point is worth, in minor units of `currency` (0.5 means 200 points buy 1.00). */
    pointValueMinor: Type.Number({ exclusiveMinimum: 0 }),
    /** Enrol every customer with a paid order when orders are synced; otherwise enrol explicitly. */
    autoEnrol: Type.Boolean(),
    earning: Type.Object(
      {
        /** Points per whole unit of currency (per 1.00) of net merchandise. */
        pointsPerUnit: Type.Integer({ minimum: 0 }),
        includeShipping: Type.Boolean(),
        includeTax: Type.Boolean(),
        /** Order points stay pending this long, then become available. */
        returnWindowDays: Type.Integer({ minimum: 0 }),
        limits: Type.Optional(Limits),
      },
      { additionalProperties: false },
    ),
    actions: Type.Object(
      {
        signup: Type.Optional(ActionRule),
        birthday: Type.Optional(ActionRule),
        review: Type.Optional(ActionRule),
        share: Type.Optional(ShareRule),
        custom: Type.Optional(Type.Record(Key, CustomRule)),
      },
      { additionalProperties: false },
    ),
    referral: Type.Optional(
      Type.Object(
        {
          referrerPoints: Type.Integer({ minimum: 0 }),
          refereePoints: Type.Integer({ minimum: 0 }),
          limits: Type.Optional(Limits),
        },
        { additionalProperties: false },
      ),
    ),
    tiers: Type.Object(
      {
        basis: Type.Union([Type.Literal('points_earned'), Type.Literal('spend')]),
        windowDays: Type.Integer({ minimum: 1 }),
        graceDays: Type.Integer({ minimum: 0 }),
        levels: Type.Array(Tier, { minItems: 1 }),
      },
      { additionalProperties: false },
    ),
    rewards: Type.Array(Reward),
    expiry: Type.Object(
      {
        mode: Type.Union([Type.Literal('none'), Type.Literal('lot'), Type.Literal('inactivity')]),
        days: Type.Optional(Type.Integer({ minimum: 1 })),
      },
      { additionalProperties: false },
    ),
    /** A member with no earn or redemption for this many days counts as dormant. */
    dormantDays: Type.Integer({ minimum: 1 }),
  },
  { additionalProperties: false },
);

/** A validated program configuration. */
export type ProgramConfig = Static<typeof ProgramConfigSchema>;
export type TierConfig = ProgramConfig['tiers']['levels'][number];
export type RewardConfig = ProgramConfig['rewards'][number];
export type RuleLimits = Static<typeof Limits>;

/** A stored configuration with the version that ledger entries computed under it refer to. */
export interface Program {
  readonly version: number;
  readonly config: ProgramConfig;
}

/** The earning actions a member can be credited for besides orders. */
export type Action = 'signup' | 'birthday' | 'review' | 'share' | `custom:${string}`;

/** Parses `review`, `custom:summer-contest` … into an action; undefined when it is none. */
export function parseAction(text: string): Action | undefined {
  if (text === 'signup' || text === 'birthday' || text === 'review' || text === 'share') return text;
  if (/^custom:[a-z0-9][a-z0-9_-]*$/.test(text)) return text as Action;
  return undefined;
}

function fieldOf(path: string): string {
  return path.replace(/^\//, '').replace(/\//g, '.') || '(root)';
}

/**
 * Validates a parsed program file and returns it frozen; throws `bad_input` naming the field (for
 * example `tiers.levels.1.threshold: thresholds must rise`) otherwise. `file` goes into the message.
 */
export function validateProgramConfig(value: unknown, file?: string): ProgramConfig {
  const fail = (field: string, message: string): never => {
    throw new ComebackError('bad_input', message, { location: { file, field } });
  };
  const errors = [...Value.Errors(ProgramConfigSchema, value)];
  const first = errors[0];
  if (first) {
    const more =
      errors.length > 1
        ? ` (and ${errors.length - 1} more: ${errors
            .slice(1, 4)
            .map((e) => fieldOf(e.path))
            .join(', ')})`
        : '';
    fail(fieldOf(first.path), `${first.message}${more}`);
  }
  if (!Value.Check(ProgramConfigSchema, value)) fail('(root)', 'not a program configuration');
  const config = value as ProgramConfig;
  const levels = config.tiers.levels;
  if (levels[0]!.threshold !== 0) fail('tiers.levels.0.threshold', 'the first tier must have threshold 0');
  const tierKeys = new Set<string>();
  levels.forEach((level, i) => {
    if (tierKeys.has(level.key)) fail(`tiers.levels.${i}.key`, `duplicate tier key ${level.key}`);
    tierKeys.add(level.key);
    if (i > 0 && level.threshold <= levels[i - 1]!.threshold) {
      fail(`tiers.levels.${i}.threshold`, 'thresholds must rise from tier to tier');
    }
  });
  const rewardKeys = new Set<string>();
  config.rewards.forEach((reward, i) => {
    const at = `rewards.${i}`;
    if (rewardKeys.has(reward.key)) fail(`${at}.key`, `duplicate reward key ${reward.key}`);
    rewardKeys.add(reward.key);
    if ((reward.type === 'fixed_amount' || reward.type === 'store_credit') && reward.amountMinor === undefined) {
      fail(`${at}.amountMinor`, `a ${reward.type} reward needs amountMinor (minor units of ${config.currency})`);
    }
    if (reward.type === 'store_credit') {
      for (const field of ['percent', 'sku', 'minOrderMinor'] as const) {
        if (reward[field] !== undefined) fail(`${at}.${field}`, `a store_credit reward has no ${field}`);
      }
      // The bound of every amount of money the edges accept (src/shared/currencies.ts).
      if (reward.amountMinor! > MAX_AMOUNT_MINOR) {
        fail(`${at}.amountMinor`, `at most ${MAX_AMOUNT_MINOR} minor units`);
      }
    }
    if (reward.type === 'percentage' && reward.percent === undefined) {
      fail(`${at}.percent`, 'a percentage reward needs percent');
    }
    if ((reward.type === 'free_product' || reward.type === 'bogo') && reward.sku === undefined) {
      fail(`${at}.sku`, `a ${reward.type} reward needs sku`);
    }
    if (reward.minTier !== undefined && !tierKeys.has(reward.minTier)) {
      fail(`${at}.minTier`, `no tier ${reward.minTier}`);
    }
  });
  if (config.expiry.mode !== 'none' && config.expiry.days === undefined) {
    fail('expiry.days', `expiry mode ${config.expiry.mode} needs days`);
  }
  return Object.freeze(structuredClone(config));
}

/** Parses and validates program JSON text. */
export function parseProgramConfig(text: string, file?: string): ProgramConfig {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ComebackError('bad_input', `not valid JSON: ${(error as Error).message}`, {
      location: { file },
      cause: error,
    });
  }
  return validateProgramConfig(value, file);
}

/**
 * The merchandise an order earns on, in minor units: subtotal less discounts, plus shipping and tax
 * only when the program says so; never below zero.
 */
export function earnableMinor(
  config: ProgramConfig,
  order: { subtotal_minor: number; discount_minor: number; shipping_minor: number; tax_minor: number },
): number {
  let net = order.subtotal_minor - order.discount_minor;
  if (config.earning.includeShipping) net += order.shipping_minor;
  if (config.earning.includeTax) net += order.tax_minor;
  return Math.max(0, net);
}

/**
 * Points for an order, stated exactly: floor(net minor units × pointsPerUnit × multiplier% /
 * (100 × 10^exponent)), in integer arithmetic with the multiplier taken to whole percent, once per order.
 */
export function orderPoints(config: ProgramConfig, netMinor: number, multiplier: number): number {
  const percent = Math.round(multiplier * 100);
  const divisor = 100 * 10 ** currencyExponent(config.currency);
  return Math.floor((netMinor * config.earning.pointsPerUnit * percent) / divisor);
}

/**
 * The points an order's refunds take back in all: in proportion to the refunded share of the total,
 * rounded down (so a partial refund never takes more than its share), all of it once fully refunded
 * or cancelled.
 */
export function reversalTarget(earned: number, refundedMinor: number, totalMinor: number, cancelled: boolean): number {
  if (cancelled || totalMinor <= 0 || refundedMinor >= totalMinor) return earned;
  return Math.floor((earned * Math.max(0, refundedMinor)) / totalMinor);
}

/** The tier a qualifying value reaches: the highest level whose threshold it meets. */
export function tierFor(config: ProgramConfig, value: number): TierConfig {
  let reached = config.tiers.levels[0]!;
  for (const level of config.tiers.levels) if (value >= level.threshold) reached = level;
  return reached;
}

/** The tier of a key; falls back to the lowest when a configuration change removed it. */
export function tierByKey(config: ProgramConfig, key: string): TierConfig {
  return config.tiers.levels.find((level) => level.key === key) ?? config.tiers.levels[0]!;
}

/** The index of a tier in the ladder, -1 when unknown. */
export function tierRank(config: ProgramConfig, key: string): number {
  return config.tiers.levels.findIndex((level) => level.key === key);
}

/**
 * Whether a member in tier `tierKey` may redeem `reward`: true when it names no `minTier` or the
 * member's tier (an unknown key counts as the lowest, as `tierByKey`) ranks at or above it. The one rule
 * of `redeem`, `memberStatus`, the storefront launcher and the hosted rewards page.
 */
export function tierAllowsReward(config: ProgramConfig, reward: RewardConfig, tierKey: string): boolean {
  return (
    reward.minTier === undefined || tierRank(config, tierByKey(config, tierKey).key) >= tierRank(config, reward.minTier)
  );
}

/** The limits and points of an action, or undefined when the program does not reward it. */
export function actionRule(config: ProgramConfig, action: Action): { points: number; limits: RuleLimits } | undefined {
  if (action.startsWith('custom:')) {
    const rule = config.actions.custom?.[action.slice('custom:'.length)];
    return rule ? { points: rule.points, limits: rule.limits ?? {} } : undefined;
  }
  if (action === 'share') {
    const rule = config.actions.share;
    return rule ? { points: rule.points, limits: rule.limits ?? {} } : undefined;
  }
  const rule = config.actions[action as 'signup' | 'birthday' | 'review'];
  return rule ? { points: rule.points, limits: rule.limits ?? {} } : undefined;
}

/** How far past the store's latest data a ledger write may go without an explicit date (days). */
export const STALE_WRITE_DAYS = 7;

/**
 * Why a ledger write at `at` must not happen on a default date, or undefined when it may: the store's
 * data ends at `dataEnd` (epoch ms, the end of the day of its latest sale) more than `STALE_WRITE_DAYS`
 * days before `at`, so a sync would settle, expire and review tiers against a clock the data never
 * reached (the ledger is append-only: that cannot be undone). An explicit date is always accepted.
 * Days are named in `timeZone` (the store's IANA zone, default UTC), as `dataEnd` is a midnight of it.
 */
export function staleWriteRefusal(
  at: number,
  dataEnd: number | undefined,
  explicit: boolean,
  timeZone = 'UTC',
): string | undefined {
  if (explicit || dataEnd === undefined) return undefined;
  const days = (at - dataEnd) / 86_400_000;
  if (days <= STALE_WRITE_DAYS) return undefined;
  const iso = (ms: number) => dayInZone(ms, timeZone);
  return `the store's data ends on ${iso(dataEnd - 1)}, ${Math.floor(days)} days before ${iso(at)}: a ledger write then would settle, expire and review tiers against dates the data never reached; give the date explicitly (--as-of / asOf)`;
}

/**
 * Why a ledger write dated `at` (epoch ms) cannot be made at `now` (the clock, read by the caller at the
 * edge): its day (in `timeZone`, the store's IANA zone) is after today's. The ledger is append-only and
 * dated when things happen: a sync or an entry as of next year would expire points and credit that have
 * not expired yet, and every later read would see them gone. Undefined when `at` is today or earlier
 * (an entry as of today is dated at the day's last millisecond, a little after now).
 */
export function futureWriteRefusal(at: number, now: number, timeZone = 'UTC'): string | undefined {
  const day = dayInZone(at, timeZone);
  const today = dayInZone(now, timeZone);
  if (day <= today) return undefined;
  return `${day} is after today (${today}): a ledger entry is dated when it happens, never ahead of it`;
}
