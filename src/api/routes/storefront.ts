import { Type } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { ComebackError } from '../../errors.js';
import { normaliseEmail, recordConsent, recordEvents } from '../../ingest/index.js';
import {
  findProgram,
  loadProgram,
  memberAsOf,
  type ProgramConfig,
  redeem,
  tierAllowsReward,
} from '../../loyalty/index.js';
import { recommendationsBlock } from '../../recommend/index.js';
import { currencyExponent } from '../../shared/money.js';
import type { ApiApp, RouteDeps } from '../app.types.js';
import { messageLinkSecret } from '../keys.queries.js';
import { memberOf } from '../member-token.js';
import { authErrors } from '../schemas.js';
import { customerOfEmail, customerOfUser, matchingSegments, productReviewSummary } from '../storefront.queries.js';
import { requestOptIn } from '../storefront-opt-in.queries.js';

const Json = (description: string) => Type.Unknown({ description });
const Locale = Type.Optional(Type.Union([Type.Literal('en'), Type.Literal('ko')]));

/** One way a member earns points, as the rewards launcher lists it. */
export interface WayToEarn {
  action: string;
  points: number;
  /** `order`: points per 1.00 of the program currency; otherwise points per action. */
  per: 'unit' | 'action';
  /** A custom action's name, as the program states it (the launcher shows the key without one). */
  name?: string;
}

/** The ways to earn of a program: orders, then each configured action, then referrals. */
export function waysToEarn(config: ProgramConfig): WayToEarn[] {
  const out: WayToEarn[] = [];
  if (config.earning.pointsPerUnit > 0)
    out.push({ action: 'order', points: config.earning.pointsPerUnit, per: 'unit' });
  const { signup, birthday, review, share, custom } = config.actions;
  for (const [action, rule] of [
    ['signup', signup],
    ['birthday', birthday],
    ['review', review],
    ['share', share],
  ] as const) {
    if (rule && rule.points > 0) out.push({ action, points: rule.points, per: 'action' });
  }
  for (const [key, rule] of Object.entries(custom ?? {})) {
    if (rule.points > 0)
      out.push({
        action: `custom:${key}`,
        points: rule.points,
        per: 'action',
        ...(rule.name !== undefined ? { name: rule.name } : {}),
      });
  }
  if (config.referral && config.referral.referrerPoints > 0) {
    out.push({ action: 'referral', points: config.referral.referrerPoints, per: 'action' });
  }
  return out;
}

/**
 * What the storefront snippet reads and writes with a publishable key: the signed-in member's own
 * rewards (the member is named by a store-signed `x-comeback-member` header, never by an id the
 * visitor could change), one-step redemption, recommendation blocks, whether an on-site offer's
 * segments describe the visitor, and the e-mail capture form. Every route here also answers server keys.
 */
export function registerStorefrontRoutes(app: ApiApp, deps: RouteDeps): void {
  const db = deps.store.db;
  /** The signed-in customer, undefined for a visitor; a signed id the store has not sent yet is 404. */
  const signedIn = async (request: FastifyRequest, required: boolean): Promise<number | undefined> => {
    const userId = memberOf(request);
    if (userId === undefined) {
      if (required) {
        throw new ComebackError('unauthorized', 'x-comeback-member: sign the customer in (see the README)', {
          location: { field: 'x-comeback-member' },
        });
      }
      return undefined;
    }
    const customerId = await customerOfUser(db, deps.userIdSource, userId);
    if (customerId === undefined && required) {
      throw new ComebackError('not_found', `customer ${userId} is not known yet (identify them first)`);
    }
    return customerId;
  };
  /** The id of the product with this SKU; not_found (field `product`) when there is none. */
  const productOfSku = async (sku: string): Promise<number> => {
    const row = await db.selectFrom('products').select('id').where('sku', '=', sku).executeTakeFirst();
    if (!row)
      throw new ComebackError('not_found', `product: no product with SKU ${sku}`, { location: { field: 'product' } });
    return Number(row.id);
  };

  app.get(
    '/storefront/me',
    {
      config: { access: 'publishable' },
      schema: {
        summary:
          "The signed-in member's balance, tier and progress, store credit and its checkout code, rewards, ways to earn and referral code; `{program: false}` when the store has no loyalty program",
        tags: ['storefront'],
        response: { 200: Json('see WayToEarn and memberStatus'), 404: Type.Ref('ErrorBody'), ...authErrors },
      },
    },
    async (request) => {
      const customerId = await signedIn(request, true);
      // A store without a loyalty program: the launcher hides itself on this answer (not an error).
      const program = await findProgram(db);
      if (!program) return { program: false, member: null };
      const now = deps.now();
      // As every face reads a member: forward to the latest ledger entry when that is later than now
      // (an entry made as of today is dated at the day's last millisecond).
      const status = (await memberAsOf(db, program, customerId!, now, { given: false, timeZone: 'UTC', entries: 0 }))
        ?.status;
      const { config } = program;
      const base = {
        program: true,
        currency: config.currency,
        currencyExponent: currencyExponent(config.currency),
        waysToEarn: waysToEarn(config),
        referral: config.referral ?? null,
      };
      if (!status) return { ...base, member: null };
      return {
        ...base,
        member: {
          available: status.available,
          pending: status.pending,
          availableValueMinor: status.availableValueMinor,
          tier: { key: status.tier.key, name: status.tier.name, perks: status.tier.perks },
          nextTier: status.nextTier
            ? { ...status.nextTier, basis: config.tiers.basis, windowDays: config.tiers.windowDays }
            : null,
          referralCode: status.referralCode,
          rewards: config.rewards.map((r) => ({
            key: r.key,
            name: r.name,
            type: r.type,
            cost: r.cost,
            minTier: r.minTier ?? null,
            redeemable: status.rewardsWithinReach.some((w) => w.key === r.key),
            short: Math.max(0, r.cost - status.available),
            tierTooLow: !tierAllowsReward(config, r, status.tier.key),
          })),
          redemptions: status.redemptions.slice(0, 5),
          // Store credit in the program currency and the personal code that spends it at checkout.
          credit: status.credit,
        },
      };
    },
  );

  app.post(
    '/storefront/me/redeem',
    {
      config: { access: 'publishable' },
      schema: {
        summary: 'The signed-in member redeems a reward in one step: points debited, single-use code issued',
        tags: ['storefront'],
        body: Type.Object({
          reward: Type.String({ minLength: 1, maxLength: 100 }),
          idempotencyKey: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
        }),
        response: {
          200: Json('the redemption with its code'),
          404: Type.Ref('ErrorBody'),
          409: Type.Ref('ErrorBody'),
          422: Type.Ref('ErrorBody'),
          ...authErrors,
        },
      },
    },
    async (request) => {
      const customerId = await signedIn(request, true);
      // A shopper's redemption happens at the request's time, as a survey's or a review's points do:
      // that date is the event's own, not a default. The stale-write refusal (staleWriteRefusal) guards
      // an operator's write on a default date past the store's data; a shopper cannot give another date,
      // and a quiet store without a sale for a week must still let its members redeem.
      const now = deps.now();
      const program = await loadProgram(db);
      const result = await redeem(db, program, {
        customerId: customerId!,
        rewardKey: request.body.reward,
        now,
        idempotencyKey: request.body.idempotencyKey
          ? `storefront:${customerId}:${request.body.idempotencyKey}`
          : undefined,
      });
      if (!result.ok)
        throw new ComebackError(result.error.kind, result.error.message, { location: { field: 'reward' } });
      const r = result.value;
      // What the member can spend now, as /storefront/me reads it (lapsed credit and expired points
      // taken off), not the booked balances the redemption returns.
      const after = (await memberAsOf(db, program, customerId!, now, { given: false, timeZone: 'UTC', entries: 0 }))
        ?.status;
      return {
        code: r.code,
        reward: { key: r.reward.key, name: r.reward.name },
        points: r.points,
        balance: after?.available ?? r.balance,
        minOrderMinor: r.minOrderMinor,
        currency: r.currency,
        expiresAt: r.expiresAt,
        created: r.created,
        // A store_credit reward: the credit went to the member's account; `code` is the account's code.
        credit: r.credit ? { ...r.credit, balanceMinor: after?.credit?.balanceMinor ?? r.credit.balanceMinor } : null,
      };
    },
  );

  app.get(
    '/storefront/recommendations',
    {
      config: { access: 'publishable' },
      schema: {
        summary: '"Recommended for you" (the signed-in member, else best-sellers) or "bought together" with a product',
        tags: ['storefront'],
        querystring: Type.Object({
          block: Type.Union([Type.Literal('for-you'), Type.Literal('bought-together')]),
          product: Type.Optional(Type.String({ minLength: 1, maxLength: 255, description: 'SKU (bought-together)' })),
          n: Type.Optional(Type.Integer({ minimum: 1, maximum: 24 })),
          locale: Locale,
        }),
        response: { 200: Json('items of the recommendations block'), 404: Type.Ref('ErrorBody'), ...authErrors },
      },
    },
    async (request) => {
      const { block, product, n = 4, locale = 'en' } = request.query;
      const customerId = await signedIn(request, false);
      let seed: number | undefined;
      if (block === 'bought-together') {
        if (!product) {
          throw new ComebackError('bad_input', 'product: bought-together needs the SKU it is about', {
            location: { field: 'product' },
          });
        }
        seed = await productOfSku(product);
      }
      // A visitor has no history: "for you" is then the best-sellers, and says so.
      const method =
        block === 'bought-together' ? 'bought-together' : customerId === undefined ? 'popular' : 'personal';
      try {
        const answer = await recommendationsBlock(db, customerId ?? 0, { method, seed, n, locale });
        return { block, method, items: answer.items, note: answer.note };
      } catch (error) {
        if (error instanceof ComebackError && error.kind === 'not_found') {
          return { block, method, items: [], note: error.message };
        }
        throw error;
      }
    },
  );

  app.get(
    '/storefront/reviews',
    {
      config: { access: 'publishable' },
      schema: {
        summary: "A product's average rating, review count and latest reviews",
        tags: ['storefront'],
        querystring: Type.Object({ product: Type.String({ minLength: 1, maxLength: 255, description: 'SKU' }) }),
        response: {
          200: Type.Object({
            count: Type.Integer(),
            average: Type.Union([Type.Number(), Type.Null()]),
            latest: Type.Array(Type.Object({ rating: Type.Number(), text: Type.String(), at: Type.Number() })),
          }),
          404: Type.Ref('ErrorBody'),
          ...authErrors,
        },
      },
    },
    async (request) => productReviewSummary(db, await productOfSku(request.query.product)),
  );

  app.get(
    '/storefront/offer',
    {
      config: { access: 'publishable' },
      schema: {
        summary:
          "Which of the offer's segments (visitor, member, kind:value such as lifecycle:at_risk) describe this visitor",
        tags: ['storefront'],
        querystring: Type.Object({ segments: Type.String({ minLength: 1, maxLength: 1000 }) }),
        response: {
          200: Type.Object({ eligible: Type.Boolean(), matched: Type.Array(Type.String()) }),
          ...authErrors,
        },
      },
    },
    async (request) => {
      const wanted = request.query.segments
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
      const matched = await matchingSegments(db, await signedIn(request, false), wanted);
      return { eligible: matched.length > 0, matched };
    },
  );

  /**
   * The e-mail capture from a browser, where anyone can type anyone's address: double opt-in. The
   * address (a new one becomes a customer without consent) gets a confirmation e-mail with a signed,
   * one-use link; consent, the ledger row and `Signed Up` come when the link is confirmed
   * (`storefront-opt-in.queries.ts`). Confirmation e-mails are limited per address. Every answer is
   * `{subscribed: false, pending: true}`, so the form does not tell whether an address is known.
   */
  const subscribeFromBrowser = async (
    email: string,
    userId: string | undefined,
    body: { locale?: 'en' | 'ko'; messageId?: string },
  ): Promise<{ subscribed: boolean; pending: boolean; duplicate: boolean }> => {
    const asked = await requestOptIn(
      db,
      { email, ...(userId ? { userId } : {}), locale: body.locale ?? 'en', messageId: body.messageId, now: deps.now() },
      { linkSecret: await messageLinkSecret(db), userIdSource: deps.userIdSource },
    );
    if (asked.status === 'queued') deps.segments.touch([asked.customerId]);
    return { subscribed: false, pending: true, duplicate: false };
  };

  app.post(
    '/storefront/subscribe',
    {
      config: { access: 'publishable' },
      schema: {
        summary:
          'E-mail capture: with a publishable key, double opt-in (a confirmation e-mail; consent and "Signed Up" when confirmed); with a server key, consent at once',
        description:
          'The "Signed Up" track event is what a welcome flow triggers on (`trigger: {type: event, events: [Signed Up]}`). ' +
          'With a publishable key (a browser, where anyone can type any address) nothing is granted yet: the address gets a transactional e-mail with a signed link valid for 7 days and usable once (`/o/…`); confirming it grants e-mail consent (source storefront, the consent ledger noting the double opt-in with both times) and records "Signed Up". At most one e-mail per address in 10 minutes and 3 in 24 hours; the answer is `{subscribed: false, pending: true}` for every address. ' +
          "A server key is the store's own server vouching for the consent: it is recorded at once, as before.",
        tags: ['storefront'],
        body: Type.Object({
          email: Type.String({ minLength: 3, maxLength: 254 }),
          consent: Type.Literal(true, { description: 'the visitor ticked the consent box' }),
          anonymousId: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
          locale: Locale,
          messageId: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
        }),
        response: {
          200: Type.Object({
            subscribed: Type.Boolean(),
            pending: Type.Optional(
              Type.Boolean({ description: 'a confirmation e-mail is asked for (publishable keys)' }),
            ),
            duplicate: Type.Boolean(),
          }),
          409: Type.Ref('ErrorBody'),
          ...authErrors,
        },
      },
    },
    async (request) => {
      const { anonymousId, locale = 'en', messageId } = request.body;
      const email = normaliseEmail(request.body.email);
      if (!email || !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) {
        throw new ComebackError('bad_input', `email: "${request.body.email}" is not an e-mail address`, {
          location: { field: 'email' },
        });
      }
      const userId = memberOf(request);
      const now = deps.now();
      if (request.principal?.kind === 'key' && request.principal.scope === 'publishable') {
        return subscribeFromBrowser(email, userId, request.body);
      }
      // The visit joins a new subscriber; an address that is already a customer's does not pull the
      // visit onto that customer (anyone can type anyone's address): their own sign-in links it.
      const known = (await customerOfEmail(db, email)) !== undefined;
      const who = {
        ...(userId ? { userId } : {}),
        anonymousId: anonymousId && !known ? anonymousId : `subscribe:${email}`,
      };
      const result = await recordEvents(
        db,
        [
          {
            type: 'identify',
            ...who,
            traits: { email, consent: { email: true } },
            ...(messageId ? { messageId: `${messageId}:identify` } : {}),
          },
          {
            type: 'track',
            ...who,
            event: 'Signed Up',
            context: { traits: { email } },
            properties: { source: 'storefront', form: 'email-capture', locale },
            ...(messageId ? { messageId: `${messageId}:signed-up` } : {}),
          },
        ],
        { now, userIdSource: deps.userIdSource },
      );
      deps.segments.touch(result.customerIds);
      const customerId = await customerOfEmail(db, email);
      if (customerId !== undefined && result.inserted > 0) {
        // The same instant as the identify's consent: the ledger then says where it was given.
        await recordConsent(db, customerId, { channel: 'email', granted: true, at: now, source: 'storefront' });
      }
      return { subscribed: customerId !== undefined, duplicate: result.inserted === 0 && result.duplicates > 0 };
    },
  );
}
