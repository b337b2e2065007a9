import { Type } from '@fastify/type-provider-typebox';
import { completeOutreach, listOutreach } from '../../campaigns/index.js';
import type { ApiApp, RouteDeps } from '../app.types.js';

/**
 * The staff outreach queue: `GET /api/v1/outreach?status=open|done|all` (read scope; open by default)
 * lists the tasks flows made for a person, with the customer's value and last order;
 * `POST /api/v1/outreach/:id/done` (write scope) `{ note? }` marks one done, written with who (the API
 * key's name or the signed-in user) and when; again, it changes nothing (`alreadyDone`). A bad id is a
 * 400 naming `id`, an id that is no outreach task a 404 naming `id`.
 */
export function registerOutreachRoutes(app: ApiApp, deps: RouteDeps): void {
  app.get(
    '/outreach',
    {
      config: { access: 'read' },
      schema: {
        summary: 'The staff outreach queue',
        tags: ['flows'],
        querystring: Type.Object(
          { status: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('done'), Type.Literal('all')])) },
          { additionalProperties: false },
        ),
      },
    },
    async (request) => {
      const status = request.query.status ?? 'open';
      return { status, tasks: await listOutreach(deps.store.db, status, deps.now()) };
    },
  );
  app.post(
    '/outreach/:id/done',
    {
      config: { access: 'write' },
      schema: {
        summary: 'Mark an outreach task done',
        tags: ['flows'],
        params: Type.Object({ id: Type.String({ pattern: '^[1-9][0-9]{0,15}$' }) }),
        body: Type.Optional(
          Type.Object({ note: Type.Optional(Type.String({ maxLength: 2000 })) }, { additionalProperties: false }),
        ),
      },
    },
    async (request) => {
      const who = request.principal;
      const by = who === undefined ? 'api' : who.kind === 'session' ? who.username : `key:${who.name}`;
      return completeOutreach(deps.store.db, Number(request.params.id), {
        by,
        ...(request.body?.note !== undefined ? { note: request.body.note } : {}),
        now: deps.now(),
      });
    },
  );
}
