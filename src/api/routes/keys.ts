import { Type } from '@fastify/type-provider-typebox';
import type { ApiApp, RouteDeps } from '../app.types.js';
import { createApiKey, listApiKeys, revokeApiKey } from '../keys.queries.js';
import { authErrors, EpochMs, Nullable } from '../schemas.js';

const Scope = Type.Union([
  Type.Literal('publishable'),
  Type.Literal('read'),
  Type.Literal('write'),
  Type.Literal('admin'),
]);

const ApiKeySchema = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  prefix: Type.String({ description: 'the first characters of the key, to recognise it' }),
  scope: Scope,
  createdAt: EpochMs,
  lastUsedAt: Nullable(EpochMs),
  revokedAt: Nullable(EpochMs),
  origins: Type.Array(Type.String(), { description: 'publishable keys: the storefront origins it may be used from' }),
});

/** Key management for admins: list, create (the key is in the answer once), revoke. */
export function registerKeyRoutes(app: ApiApp, deps: RouteDeps): void {
  app.get(
    '/keys',
    {
      config: { access: 'admin' },
      schema: {
        summary: 'List API keys (never their secrets)',
        tags: ['keys'],
        response: { 200: Type.Object({ keys: Type.Array(ApiKeySchema) }), ...authErrors },
      },
    },
    async () => ({ keys: await listApiKeys(deps.store.db) }),
  );

  app.post(
    '/keys',
    {
      config: { access: 'admin' },
      schema: {
        summary: 'Create an API key; the answer is the only time the key is shown',
        tags: ['keys'],
        body: Type.Object({
          scope: Scope,
          name: Type.Optional(Type.String({ maxLength: 100 })),
          origins: Type.Optional(Type.Array(Type.String({ maxLength: 300 }), { maxItems: 50 })),
        }),
        response: {
          201: Type.Object({
            key: Type.String(),
            apiKey: ApiKeySchema,
            memberSecret: Type.Optional(
              Type.String({ description: "publishable keys: signs the signed-in customer's id (shown once)" }),
            ),
          }),
          ...authErrors,
        },
      },
    },
    async (request, reply) => {
      const created = await createApiKey(deps.store.db, { ...request.body, now: deps.now() });
      return reply.code(201).send(created);
    },
  );

  app.delete(
    '/keys/:id',
    {
      config: { access: 'admin' },
      schema: {
        summary: 'Revoke an API key',
        tags: ['keys'],
        params: Type.Object({ id: Type.Integer({ minimum: 1 }) }),
        response: { 200: ApiKeySchema, 404: Type.Ref('ErrorBody'), ...authErrors },
      },
    },
    async (request) => revokeApiKey(deps.store.db, request.params.id, deps.now()),
  );
}
