import { type Static, Type } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ComebackError } from '../../errors.js';
import type { ApiScope } from '../api.schema.js';
import type { ApiApp, RouteDeps } from '../app.types.js';
// The type also brings auth.ts's `request.principal` into any program that reads this file (the dashboard's).
import type { Principal } from '../auth.js';
import { findApiKey, hashKey, upsertAdminUser, verifyAdminUser } from '../keys.queries.js';
import { LoginThrottle } from '../login-throttle.js';
import { authErrors, EpochMs, Nullable } from '../schemas.js';
import {
  createSession,
  listSessions,
  readCookie,
  revokeSession,
  revokeSessionToken,
  SESSION_COOKIE,
  SESSION_TTL_MS,
  sessionCookie,
} from '../session.js';

const ScopeSchema = Type.Union([
  Type.Literal('publishable'),
  Type.Literal('read'),
  Type.Literal('write'),
  Type.Literal('admin'),
]);

/** Who is calling, as `GET /session` and sign-in answer. */
export const WhoSchema = Type.Object({
  kind: Type.Union([Type.Literal('key'), Type.Literal('session')]),
  scope: ScopeSchema,
  name: Type.String({ description: 'the key name or the admin user name' }),
  viaKey: Type.Boolean({ description: 'a session opened with an API key (it carries the key scope)' }),
});
/** Who is calling. */
export type Who = Static<typeof WhoSchema>;

/** What `GET /session` answers: who is calling, or `{ kind: "none" }` before sign-in. */
export const WhoOrNoneSchema = Type.Union([WhoSchema, Type.Object({ kind: Type.Literal('none') })]);
/** Who is calling, or nobody yet. */
export type WhoOrNone = Static<typeof WhoOrNoneSchema>;

/** A session as `GET /sessions` lists it. */
export const SessionSchema = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  username: Nullable(Type.String()),
  apiKeyId: Nullable(Type.Integer()),
  scope: ScopeSchema,
  address: Nullable(Type.String()),
  userAgent: Nullable(Type.String()),
  createdAt: EpochMs,
  expiresAt: EpochMs,
  lastSeenAt: EpochMs,
  revokedAt: Nullable(EpochMs),
});

const SignInBody = Type.Union([
  Type.Object(
    {
      username: Type.String({ minLength: 1, maxLength: 64 }),
      password: Type.String({ minLength: 1, maxLength: 1024 }),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    { key: Type.String({ minLength: 1, maxLength: 200, description: 'an API key, traded for a session' }) },
    { additionalProperties: false },
  ),
]);

/**
 * Dashboard sign-in: `POST /session` opens a server-side session (an HttpOnly cookie) with a password
 * or an API key, `GET` says who is calling, `DELETE` signs out (the session ends on the server too),
 * `POST /session/password` changes the password (ending every other session of the account);
 * admins list and end sessions at `/sessions`.
 */
export function registerSessionRoutes(app: ApiApp, deps: RouteDeps): void {
  const throttle = new LoginThrottle();

  const open = async (
    request: FastifyRequest,
    reply: FastifyReply,
    who: { username?: string; apiKeyId?: number; scope: ApiScope },
  ) => {
    const { token } = await createSession(deps.store.db, deps.sessionSecret, {
      ...who,
      address: request.ip,
      userAgent: request.headers['user-agent'],
      now: deps.now(),
    });
    reply.header(
      'set-cookie',
      sessionCookie(token, { maxAgeMs: SESSION_TTL_MS, secure: request.protocol === 'https' }),
    );
  };

  app.post(
    '/session',
    {
      config: { access: 'public' },
      schema: {
        summary: 'Sign in to the dashboard with a local admin account or an API key (sets an HttpOnly session cookie)',
        tags: ['session'],
        security: [],
        body: SignInBody,
        response: { 200: WhoSchema, ...authErrors },
      },
    },
    async (request, reply) => {
      const body = request.body;
      // A key sign-in counts against the address only: a key is not an account one could lock out.
      const account = 'key' in body ? `key:${hashKey(body.key).slice(0, 16)}` : body.username.trim();
      const waitMs = throttle.retryAfterMs(account, request.ip, deps.now());
      if (waitMs > 0) {
        reply.header('retry-after', String(Math.ceil(waitMs / 1000)));
        throw new ComebackError(
          'rate_limited',
          `too many failed sign-ins; try again in ${Math.ceil(waitMs / 60_000)} minute(s)`,
        );
      }
      if ('key' in body) {
        const found = await findApiKey(deps.store.db, body.key.trim());
        if (!found) {
          throttle.fail(account, request.ip, deps.now());
          throw new ComebackError('unauthorized', 'unknown or revoked API key');
        }
        if (found.scope === 'publishable') {
          // A storefront's key is public: it opens no dashboard.
          throw new ComebackError('forbidden', 'key: a publishable key cannot sign in to the dashboard', {
            location: { field: 'key' },
          });
        }
        await open(request, reply, { apiKeyId: found.id, scope: found.scope });
        return { kind: 'session' as const, scope: found.scope, name: found.name, viaKey: true };
      }
      if (!(await verifyAdminUser(deps.store.db, body.username, body.password))) {
        throttle.fail(account, request.ip, deps.now());
        throw new ComebackError('unauthorized', 'wrong user name or password');
      }
      throttle.succeed(account);
      await open(request, reply, { username: account, scope: 'admin' });
      return { kind: 'session' as const, scope: 'admin' as const, name: account, viaKey: false };
    },
  );

  app.get(
    '/session',
    {
      config: { access: 'optional' },
      schema: {
        summary: 'Who is calling: the key, the signed-in admin, or `{ kind: "none" }` before sign-in',
        tags: ['session'],
        response: { 200: WhoOrNoneSchema, ...authErrors },
      },
    },
    async (request): Promise<WhoOrNone> => {
      const who: Principal | undefined = request.principal;
      if (!who) return { kind: 'none' };
      return who.kind === 'key'
        ? { kind: 'key', scope: who.scope, name: who.name, viaKey: false }
        : { kind: 'session', scope: who.scope, name: who.username, viaKey: who.keyId !== null };
    },
  );

  app.delete(
    '/session',
    {
      config: { access: 'public' },
      schema: {
        summary: 'Sign out: ends the session on the server and clears the cookie',
        tags: ['session'],
        security: [],
        response: { 200: Type.Object({ ok: Type.Boolean() }) },
      },
    },
    async (request, reply) => {
      const token = readCookie(request.headers.cookie, SESSION_COOKIE);
      if (token) await revokeSessionToken(deps.store.db, deps.sessionSecret, token, deps.now());
      reply.header('set-cookie', `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0`);
      return { ok: true };
    },
  );

  app.post(
    '/session/password',
    {
      config: { access: 'admin' },
      schema: {
        summary: "Change the signed-in admin's password: every session of the account ends, this one is renewed",
        tags: ['session'],
        body: Type.Object({
          currentPassword: Type.String({ minLength: 1, maxLength: 1024 }),
          newPassword: Type.String({ minLength: 1, maxLength: 1024 }),
        }),
        response: { 200: WhoSchema, ...authErrors },
      },
    },
    async (request, reply) => {
      const who: Principal | undefined = request.principal;
      if (who?.kind !== 'session' || who.keyId !== null) {
        throw new ComebackError('forbidden', 'only an admin signed in with a password can change it');
      }
      const waitMs = throttle.retryAfterMs(who.username, request.ip, deps.now());
      if (waitMs > 0) throw new ComebackError('rate_limited', 'too many failed sign-ins; try again later');
      if (!(await verifyAdminUser(deps.store.db, who.username, request.body.currentPassword))) {
        throttle.fail(who.username, request.ip, deps.now());
        throw new ComebackError('unauthorized', 'the current password is wrong', {
          location: { field: 'currentPassword' },
        });
      }
      await upsertAdminUser(deps.store.db, {
        username: who.username,
        password: request.body.newPassword,
        now: deps.now(),
      });
      await open(request, reply, { username: who.username, scope: 'admin' });
      return { kind: 'session' as const, scope: 'admin' as const, name: who.username, viaKey: false };
    },
  );

  app.get(
    '/sessions',
    {
      config: { access: 'admin' },
      schema: {
        summary: 'List live dashboard sessions (never their tokens)',
        tags: ['session'],
        response: { 200: Type.Object({ sessions: Type.Array(SessionSchema) }), ...authErrors },
      },
    },
    async () => ({ sessions: await listSessions(deps.store.db, deps.now()) }),
  );

  app.delete(
    '/sessions/:id',
    {
      config: { access: 'admin' },
      schema: {
        summary: 'End a dashboard session',
        tags: ['session'],
        params: Type.Object({ id: Type.Integer({ minimum: 1 }) }),
        response: { 200: SessionSchema, 404: Type.Ref('ErrorBody'), ...authErrors },
      },
    },
    async (request) => revokeSession(deps.store.db, request.params.id, deps.now()),
  );
}
