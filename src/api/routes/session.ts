import { Type } from '@fastify/type-provider-typebox';
import { ComebackError } from '../../errors.js';
import type { ApiApp, RouteDeps } from '../app.types.js';
import { verifyAdminUser } from '../keys.queries.js';
import { LoginThrottle } from '../login-throttle.js';
import { authErrors } from '../schemas.js';
import { SESSION_COOKIE, SESSION_TTL_MS, sessionCookie, signSession } from '../session.js';

const Who = Type.Object({
  kind: Type.Union([Type.Literal('key'), Type.Literal('session')]),
  scope: Type.Union([Type.Literal('read'), Type.Literal('write'), Type.Literal('admin')]),
  name: Type.String({ description: 'the key name or the admin user name' }),
});

/** Dashboard sign-in: `POST /session` sets a signed cookie, `GET` says who is calling, `DELETE` signs out. */
export function registerSessionRoutes(app: ApiApp, deps: RouteDeps): void {
  const throttle = new LoginThrottle();
  app.post(
    '/session',
    {
      config: { access: 'public' },
      schema: {
        summary: 'Sign in to the dashboard with a local admin account (sets an HttpOnly session cookie)',
        tags: ['session'],
        security: [],
        body: Type.Object({
          username: Type.String({ minLength: 1, maxLength: 64 }),
          password: Type.String({ minLength: 1, maxLength: 1024 }),
        }),
        response: { 200: Who, ...authErrors },
      },
    },
    async (request, reply) => {
      const { username, password } = request.body;
      const account = username.trim();
      const waitMs = throttle.retryAfterMs(account, request.ip, deps.now());
      if (waitMs > 0) {
        reply.header('retry-after', String(Math.ceil(waitMs / 1000)));
        throw new ComebackError(
          'rate_limited',
          `too many failed sign-ins; try again in ${Math.ceil(waitMs / 60_000)} minute(s)`,
        );
      }
      if (!(await verifyAdminUser(deps.store.db, username, password))) {
        throttle.fail(account, request.ip, deps.now());
        throw new ComebackError('unauthorized', 'wrong user name or password');
      }
      throttle.succeed(account);
      const token = signSession(deps.sessionSecret, username.trim(), deps.now() + SESSION_TTL_MS);
      reply.header(
        'set-cookie',
        sessionCookie(token, { maxAgeMs: SESSION_TTL_MS, secure: request.protocol === 'https' }),
      );
      return { kind: 'session' as const, scope: 'admin' as const, name: username.trim() };
    },
  );

  app.get(
    '/session',
    {
      config: { access: 'read' },
      schema: {
        summary: 'Who is calling: the key or the signed-in admin',
        tags: ['session'],
        response: { 200: Who, ...authErrors },
      },
    },
    async (request) => {
      const who = request.principal!;
      return who.kind === 'key'
        ? { kind: 'key' as const, scope: who.scope, name: who.name }
        : { kind: 'session' as const, scope: who.scope, name: who.username };
    },
  );

  app.delete(
    '/session',
    {
      config: { access: 'public' },
      schema: {
        summary: 'Sign out (clears the session cookie)',
        tags: ['session'],
        security: [],
        response: { 200: Type.Object({ ok: Type.Boolean() }) },
      },
    },
    async (_request, reply) => {
      reply.header('set-cookie', `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0`);
      return { ok: true };
    },
  );
}
