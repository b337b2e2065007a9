import { Type } from '@fastify/type-provider-typebox';
import { defaultAsOf, latestSaleEnd } from '../../analytics/index.js';
import { messagingSettings } from '../../campaigns/settings.js';
import { ComebackError, type ErrorKind } from '../../errors.js';
import {
  adjustCredit,
  creditStatus,
  dormantMembersAndCount,
  earnForAction,
  futureWriteRefusal,
  ledgerThrough,
  loadProgram,
  memberAsOf,
  memberInstant,
  memberStatus,
  memberToday,
  parseAction,
  programReport,
  redeem,
  staleWriteRefusal,
} from '../../loyalty/index.js';
import { resolveCustomerRef } from '../../segments/index.js';
import { dayInZone } from '../../shared/dates.js';
import { MAX_AMOUNT_MINOR, normaliseCurrency } from '../../shared/money.js';
import type { Db } from '../../store/index.js';
import type { ApiApp, RouteDeps } from '../app.types.js';
import { authErrors, endDateQuery } from '../schemas.js';

const Json = (description: string) => Type.Unknown({ description });
const CustomerParams = Type.Object({
  customerId: Type.String({
    minLength: 1,
    maxLength: 320,
    description:
      'Comeback’s id of the customer (a number, or #17), or the store’s own id as source:id (online-retail:13173), or an e-mail',
  }),
});

/**
 * Comeback's id of the customer a loyalty path names (`pathCustomer`): a number is Comeback's own id,
 * as it always was here (so `#17` is too); `source:id`, an e-mail or another store id is looked up as
 * the command line does (`resolveCustomerRef`). No such customer is 404; a store id naming several is
 * 400 naming `customerId`.
 */
async function pathCustomer(db: Db, ref: string): Promise<number> {
  const text = ref.trim();
  const own = /^#?(\d+)$/.exec(text);
  if (own) {
    const id = Number(own[1]);
    if (!Number.isSafeInteger(id) || id < 1) {
      throw new ComebackError('bad_input', 'customerId: a whole number of 1 or more', {
        location: { field: 'customerId' },
      });
    }
    return id;
  }
  try {
    return await resolveCustomerRef(db, text);
  } catch (error) {
    if (error instanceof ComebackError && error.kind === 'bad_input') {
      throw new ComebackError('bad_input', `customerId: ${error.message}`, { location: { field: 'customerId' } });
    }
    throw error;
  }
}

/** Not a member: says that a bare number is Comeback's id, and how to name the store's customer. */
function notAMember(ref: string): ComebackError {
  const hint = /^\d+$/.test(ref.trim())
    ? " (a number here is Comeback's id; name the store's customer as source:id, e.g. online-retail:13173, or by e-mail)"
    : '';
  return new ComebackError('not_found', `customer ${ref} is not a member${hint}`);
}
const IdempotencyKey = Type.Optional(
  Type.String({
    minLength: 1,
    maxLength: 200,
    description:
      'a retry with the same key and parameters is applied once and answers the first result; the key with other parameters (another customer, reward or action) answers 409',
  }),
);
const AsOfQuery = Type.Optional(
  Type.String({
    description: "YYYY-MM-DD (the end of that day) or an ISO instant; default: the store's latest data",
  }),
);
const AsOfBody = Type.Optional(
  Type.String({
    description:
      "when the write happens: YYYY-MM-DD (the end of that day) or an ISO instant; default now, refused (409) when now is more than 7 days past the store's latest data and what the member's ledger is booked through",
  }),
);

/**
 * A refused action (`{ ok: false }`) becomes the error response its kind stands for; a message that
 * starts with one of the request's `fields` (`reason: …`) names that field in the answer.
 */
function unwrap<T>(
  result: { ok: true; value: T } | { ok: false; error: { kind: ErrorKind; message: string } },
  fields: readonly string[] = [],
): T {
  if (result.ok) return result.value;
  const field = fields.find((f) => result.error.message.startsWith(`${f}: `));
  throw new ComebackError(result.error.kind, result.error.message, field ? { location: { field } } : {});
}

/**
 * The loyalty program for the store's site and support staff: the program's report, a member's
 * balance and rewards within reach, crediting an action and redeeming a reward (one step: the points
 * are debited and the single-use code comes back). Reads default to the store's latest data as every
 * face does; writes are live operations at `now`, unless now is far past the store's data.
 */
export function registerLoyaltyRoutes(app: ApiApp, deps: RouteDeps): void {
  const db = deps.store.db;
  /**
   * The as-of every face shares (the CLI's `resolveAsOf`): the one asked for, else the store's latest
   * data, else now; with its day (`YYYY-MM-DD`, the last day it includes) in the store's zone
   * (messaging settings, default UTC), for a page to say which day its figures are as of.
   */
  const readAsOfDay = async (text: string | undefined, currency: string) => {
    const { timeZone } = await messagingSettings(db);
    const asOf = endDateQuery(text, 'asOf', timeZone) ?? (await defaultAsOf(db, currency, timeZone)) ?? deps.now();
    return { asOf, asOfDay: dayInZone(asOf - 1, timeZone) };
  };
  const readAsOf = async (text: string | undefined, currency: string) => (await readAsOfDay(text, currency)).asOf;
  /**
   * When a member's write happens: the date asked for (a day, `YYYY-MM-DD`, is that day's last
   * millisecond, as the CLI dates a hand-made entry: its end would be the next day's midnight), else
   * now, unless now is far past both the store's data and what the member's ledger is booked through
   * (409; a member synced to today may be written today); never before the member's latest ledger entry
   * (`memberInstant`: an asked-for date before it is refused, 400 naming `asOf`).
   */
  const writeAt = async (text: string | undefined, customerId: number) => {
    const { timeZone } = await messagingSettings(db);
    const given = endDateQuery(text, 'asOf', timeZone);
    let at = given !== undefined && /^\d{4}-\d{2}-\d{2}$/.test(text!.trim()) ? given - 1 : given;
    const ahead = given === undefined ? undefined : futureWriteRefusal(given - 1, deps.now(), timeZone);
    if (ahead) throw new ComebackError('bad_input', `asOf: ${ahead}`, { location: { field: 'asOf' } });
    if (at === undefined) {
      at = deps.now();
      const dataEnd = await latestSaleEnd(db, undefined, undefined, timeZone);
      const booked = (await ledgerThrough(db, customerId)) + 1;
      const refusal = staleWriteRefusal(
        at,
        dataEnd === undefined ? undefined : Math.max(dataEnd, booked),
        false,
        timeZone,
      );
      if (refusal) throw new ComebackError('conflict', refusal, { location: { field: 'asOf' } });
    }
    return memberInstant(db, customerId, at, { given: given !== undefined, timeZone, writing: true }).catch(asOfField);
  };
  app.get(
    '/loyalty',
    {
      config: { access: 'read' },
      schema: {
        summary: 'The program: members, points issued / redeemed / expired, liability, tiers, repeat purchase',
        tags: ['loyalty'],
        querystring: Type.Object({ asOf: AsOfQuery }),
        response: { 200: Json('the program report of src/loyalty'), 404: Type.Ref('ErrorBody'), ...authErrors },
      },
    },
    async (request) => {
      const program = await loadProgram(db);
      const { asOf, asOfDay } = await readAsOfDay(request.query.asOf, program.config.currency);
      return { ...(await programReport(db, program, { asOf })), asOfDay };
    },
  );

  app.get(
    '/loyalty/dormant',
    {
      config: { access: 'read' },
      schema: {
        summary:
          'Members with no activity for the program’s dormant days (or `days`) as of `asOf`, largest balance first, with the rewards within their reach: `comeback loyalty dormant`',
        tags: ['loyalty'],
        querystring: Type.Object({
          asOf: AsOfQuery,
          days: Type.Optional(
            Type.Integer({ minimum: 1, description: "days without activity; default the program's dormantDays" }),
          ),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
        }),
        response: {
          200: Json(
            '{ asOf, asOfDay, total, members }: the dormant members of src/loyalty, the first `limit` (default 50) of `total`',
          ),
          404: Type.Ref('ErrorBody'),
          ...authErrors,
        },
      },
    },
    async (request) => {
      const program = await loadProgram(db);
      const { asOf, asOfDay } = await readAsOfDay(request.query.asOf, program.config.currency);
      const { days, limit = 50 } = request.query;
      const { total, members } = await dormantMembersAndCount(db, program, { asOf, days, limit });
      return { asOf, asOfDay, total, members };
    },
  );

  app.get(
    '/loyalty/members/:customerId',
    {
      config: { access: 'read' },
      schema: {
        summary: "A member's balance, tier, rewards within reach and recent ledger entries",
        tags: ['loyalty'],
        params: CustomerParams,
        querystring: Type.Object({ asOf: AsOfQuery }),
        response: { 200: Json('the member status of src/loyalty'), 404: Type.Ref('ErrorBody'), ...authErrors },
      },
    },
    async (request) => {
      const program = await loadProgram(db);
      const asOf = await readAsOf(request.query.asOf, program.config.currency);
      const { timeZone } = await messagingSettings(db);
      // As `loyalty member`: a ledger booked past the default as-of is read as of its latest entry (the
      // answer's `asOf`); an `asOf` asked for before it is refused, naming the field.
      const customerId = await pathCustomer(db, request.params.customerId);
      const read = await memberAsOf(db, program, customerId, asOf, {
        given: request.query.asOf !== undefined,
        timeZone,
        entries: 50,
      }).catch(asOfField);
      if (!read) throw notAMember(request.params.customerId);
      // As `loyalty member --json`: on a store whose data ends long ago, what the customer's pages show today.
      const dataEnd =
        request.query.asOf === undefined ? await latestSaleEnd(db, undefined, undefined, timeZone) : undefined;
      const seen = await memberToday(db, program, customerId, {
        readAsOf: read.asOf,
        now: deps.now(),
        dataEnd,
        timeZone,
      });
      return { ...read.status, asOf: read.asOf, ...(seen ? { today: seen.today } : {}) };
    },
  );

  app.post(
    '/loyalty/members/:customerId/earn',
    {
      config: { access: 'write' },
      schema: {
        summary: 'Credit an action: signup, birthday, review, share or custom:NAME (within the rule’s limits)',
        tags: ['loyalty'],
        params: CustomerParams,
        body: Type.Object({
          action: Type.String({ minLength: 1, maxLength: 100 }),
          reference: Type.Optional(Type.String({ maxLength: 200 })),
          idempotencyKey: IdempotencyKey,
          asOf: AsOfBody,
        }),
        response: {
          200: Json('the credit'),
          404: Type.Ref('ErrorBody'),
          409: Type.Ref('ErrorBody'),
          422: Type.Ref('ErrorBody'),
          ...authErrors,
        },
      },
    },
    async (request) => {
      const action = parseAction(request.body.action);
      if (!action) {
        throw new ComebackError('bad_input', 'use signup, birthday, review, share or custom:NAME', {
          location: { field: 'action' },
        });
      }
      const customerId = await pathCustomer(db, request.params.customerId);
      return unwrap(
        await earnForAction(db, await loadProgram(db), {
          customerId,
          action,
          now: await writeAt(request.body.asOf, customerId),
          reference: request.body.reference,
          idempotencyKey: request.body.idempotencyKey,
        }),
      );
    },
  );

  app.post(
    '/loyalty/members/:customerId/redeem',
    {
      config: { access: 'write' },
      schema: {
        summary: 'Redeem a reward: debit the points and issue its single-use code',
        tags: ['loyalty'],
        params: CustomerParams,
        body: Type.Object({
          reward: Type.String({ minLength: 1, maxLength: 100 }),
          idempotencyKey: IdempotencyKey,
          asOf: AsOfBody,
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
      const customerId = await pathCustomer(db, request.params.customerId);
      return unwrap(
        await redeem(db, await loadProgram(db), {
          customerId,
          rewardKey: request.body.reward,
          now: await writeAt(request.body.asOf, customerId),
          idempotencyKey: request.body.idempotencyKey,
        }),
      );
    },
  );

  app.get(
    '/loyalty/members/:customerId/credit',
    {
      config: { access: 'read' },
      schema: {
        summary: "A member's store credit: balance and personal checkout code per currency, newest entries first",
        tags: ['loyalty'],
        params: CustomerParams,
        querystring: Type.Object({
          asOf: AsOfQuery,
          entries: Type.Optional(
            Type.Integer({ minimum: 0, maximum: 500, description: 'history entries (default 50)' }),
          ),
        }),
        response: { 200: Json('the credit status of src/loyalty'), 404: Type.Ref('ErrorBody'), ...authErrors },
      },
    },
    async (request) => {
      const program = await loadProgram(db);
      const dataAsOf = await readAsOf(request.query.asOf, program.config.currency);
      const customerId = await pathCustomer(db, request.params.customerId);
      if (!(await memberStatus(db, program, customerId, { asOf: dataAsOf, entries: 0 })))
        throw notAMember(request.params.customerId);
      // As the member's own read: a ledger booked past the store's data is read as of its latest entry;
      // an asked-for date reads the credit ledger's history as it stood then.
      const { timeZone } = await messagingSettings(db);
      const asOf =
        request.query.asOf === undefined
          ? await memberInstant(db, customerId, dataAsOf, { given: false, timeZone })
          : dataAsOf;
      return { asOf, ...(await creditStatus(db, customerId, { asOf, entries: request.query.entries })) };
    },
  );

  app.post(
    '/loyalty/members/:customerId/credit/adjust',
    {
      config: { access: 'write' },
      // The validator coerces "5.00" to 5: money typed as text would become 5 minor units, so refuse it first.
      preValidation: async (request) => {
        const body: unknown = request.body;
        if (
          typeof body === 'object' &&
          body !== null &&
          'amountMinor' in body &&
          typeof body.amountMinor !== 'number'
        ) {
          throw new ComebackError('bad_input', 'amountMinor: a JSON number of minor units (500 is 5.00), not text', {
            location: { field: 'amountMinor' },
          });
        }
      },
      schema: {
        summary: "Credit or debit a member's store credit by hand, with a reason (never below zero)",
        tags: ['loyalty'],
        params: CustomerParams,
        body: Type.Object({
          amountMinor: Type.Integer({
            minimum: -MAX_AMOUNT_MINOR,
            maximum: MAX_AMOUNT_MINOR,
            description: 'minor units of the currency (ISO 4217 exponent): 500 adds USD 5.00, -250 takes 2.50 away',
          }),
          currency: Type.Optional(
            Type.String({ minLength: 3, maxLength: 3, description: "ISO 4217 code; default the program's currency" }),
          ),
          reason: Type.String({ minLength: 1, maxLength: 500, description: 'kept in the credit ledger' }),
          idempotencyKey: IdempotencyKey,
          asOf: AsOfBody,
        }),
        response: {
          200: Json('the adjustment: amountMinor, balanceMinor, applied'),
          404: Type.Ref('ErrorBody'),
          409: Type.Ref('ErrorBody'),
          ...authErrors,
        },
      },
    },
    async (request) => {
      const program = await loadProgram(db);
      const { body } = request;
      const currency = body.currency === undefined ? program.config.currency : normaliseCurrency(body.currency);
      if (!currency) {
        throw new ComebackError('bad_input', `currency: "${body.currency}" is not an ISO 4217 currency code`, {
          location: { field: 'currency' },
        });
      }
      const who = request.principal;
      const customerId = await pathCustomer(db, request.params.customerId);
      return unwrap(
        await adjustCredit(db, {
          customerId,
          currency,
          amountMinor: body.amountMinor,
          reason: body.reason,
          now: await writeAt(body.asOf, customerId),
          actor: who === undefined ? 'api' : who.kind === 'key' ? `key:${who.name}` : `user:${who.username}`,
          idempotencyKey: body.idempotencyKey,
        }),
        ['amountMinor', 'reason', 'currency'],
      );
    },
  );
}

/** The as-of refusal of the loyalty library (`as-of`, as the CLI's flag) in the API's terms: field `asOf`. */
function asOfField(error: unknown): never {
  if (error instanceof ComebackError && error.kind === 'bad_input')
    throw new ComebackError('bad_input', `asOf: ${error.message}`, { location: { field: 'asOf' } });
  throw error;
}
