import { Type } from '@fastify/type-provider-typebox';
import { defaultAsOf, latestSaleEnd } from '../../analytics/index.js';
import { messagingSettings } from '../../campaigns/settings.js';
import { ComebackError, type ErrorKind } from '../../errors.js';
import {
  earnForAction,
  loadProgram,
  memberStatus,
  parseAction,
  programReport,
  redeem,
  staleWriteRefusal,
} from '../../loyalty/index.js';
import type { ApiApp, RouteDeps } from '../app.types.js';
import { authErrors, endDateQuery } from '../schemas.js';

const Json = (description: string) => Type.Unknown({ description });
const CustomerParams = Type.Object({ customerId: Type.Integer({ minimum: 1 }) });
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
      "when the write happens: YYYY-MM-DD (the end of that day) or an ISO instant; default now, refused (409) when now is more than 7 days past the store's latest data",
  }),
);

/** A refused action (`{ ok: false }`) becomes the error response its kind stands for. */
function unwrap<T>(result: { ok: true; value: T } | { ok: false; error: { kind: ErrorKind; message: string } }): T {
  if (result.ok) return result.value;
  throw new ComebackError(result.error.kind, result.error.message);
}

/**
 * The loyalty program for the store's site and support staff: the program's report, a member's
 * balance and rewards within reach, crediting an action and redeeming a reward (one step: the points
 * are debited and the single-use code comes back). Reads default to the store's latest data as every
 * face does; writes are live operations at `now`, unless now is far past the store's data.
 */
export function registerLoyaltyRoutes(app: ApiApp, deps: RouteDeps): void {
  const db = deps.store.db;
  /** The as-of every face shares: the one asked for, else the store's latest data, else now. */
  /** Days are days of the store's zone (messaging settings, default UTC), as in the CLI. */
  const readAsOf = async (text: string | undefined, currency: string) => {
    const { timeZone } = await messagingSettings(db);
    return endDateQuery(text, 'asOf', timeZone) ?? (await defaultAsOf(db, currency, timeZone)) ?? deps.now();
  };
  /** When a write happens: the date asked for, else now unless now is far past the store's data (409). */
  const writeAt = async (text: string | undefined) => {
    const { timeZone } = await messagingSettings(db);
    const given = endDateQuery(text, 'asOf', timeZone);
    if (given !== undefined) return given;
    const now = deps.now();
    const refusal = staleWriteRefusal(now, await latestSaleEnd(db, undefined, undefined, timeZone), false, timeZone);
    if (refusal) throw new ComebackError('conflict', refusal, { location: { field: 'asOf' } });
    return now;
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
      return programReport(db, program, { asOf: await readAsOf(request.query.asOf, program.config.currency) });
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
      const status = await memberStatus(db, program, request.params.customerId, { asOf });
      if (!status) throw new ComebackError('not_found', `customer ${request.params.customerId} is not a member`);
      return status;
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
      return unwrap(
        await earnForAction(db, await loadProgram(db), {
          customerId: request.params.customerId,
          action,
          now: await writeAt(request.body.asOf),
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
    async (request) =>
      unwrap(
        await redeem(db, await loadProgram(db), {
          customerId: request.params.customerId,
          rewardKey: request.body.reward,
          now: await writeAt(request.body.asOf),
          idempotencyKey: request.body.idempotencyKey,
        }),
      ),
  );
}
