import { Type } from '@fastify/type-provider-typebox';
import { ComebackError, type ErrorKind } from '../../errors.js';
import { earnForAction, loadProgram, memberStatus, parseAction, programReport, redeem } from '../../loyalty/index.js';
import type { ApiApp, RouteDeps } from '../app.types.js';
import { authErrors, dateQuery } from '../schemas.js';

const Json = (description: string) => Type.Unknown({ description });
const CustomerParams = Type.Object({ customerId: Type.Integer({ minimum: 1 }) });
const IdempotencyKey = Type.Optional(
  Type.String({ minLength: 1, maxLength: 200, description: 'a retry with the same key is applied once' }),
);

/** A refused action (`{ ok: false }`) becomes the error response its kind stands for. */
function unwrap<T>(result: { ok: true; value: T } | { ok: false; error: { kind: ErrorKind; message: string } }): T {
  if (result.ok) return result.value;
  throw new ComebackError(result.error.kind, result.error.message);
}

/**
 * The loyalty program for the store's site and support staff: the program's report, a member's
 * balance and rewards within reach, crediting an action and redeeming a reward (one step: the points
 * are debited and the single-use code comes back). Live operations, so the clock is `now`.
 */
export function registerLoyaltyRoutes(app: ApiApp, deps: RouteDeps): void {
  const db = deps.store.db;
  app.get(
    '/loyalty',
    {
      config: { access: 'read' },
      schema: {
        summary: 'The program: members, points issued / redeemed / expired, liability, tiers, repeat purchase',
        tags: ['loyalty'],
        querystring: Type.Object({ asOf: Type.Optional(Type.String({ description: 'YYYY-MM-DD; default now' })) }),
        response: { 200: Json('the program report of src/loyalty'), 404: Type.Ref('ErrorBody'), ...authErrors },
      },
    },
    async (request) => {
      const asOf = dateQuery(request.query.asOf, 'asOf') ?? deps.now();
      return programReport(db, await loadProgram(db), { asOf });
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
        response: { 200: Json('the member status of src/loyalty'), 404: Type.Ref('ErrorBody'), ...authErrors },
      },
    },
    async (request) => {
      const status = await memberStatus(db, await loadProgram(db), request.params.customerId, { asOf: deps.now() });
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
        }),
        response: { 200: Json('the credit'), 404: Type.Ref('ErrorBody'), 422: Type.Ref('ErrorBody'), ...authErrors },
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
          now: deps.now(),
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
        body: Type.Object({ reward: Type.String({ minLength: 1, maxLength: 100 }), idempotencyKey: IdempotencyKey }),
        response: {
          200: Json('the redemption with its code'),
          404: Type.Ref('ErrorBody'),
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
          now: deps.now(),
          idempotencyKey: request.body.idempotencyKey,
        }),
      ),
  );
}
