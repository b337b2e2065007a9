import { Type } from '@fastify/type-provider-typebox';
import {
  CHANNELS,
  campaignAudience,
  campaignSends,
  installBuiltins,
  listFlows,
  listTemplates,
  loadFlow,
  previewTemplate,
  saveFlow,
  validateFlow,
} from '../../campaigns/index.js';
import { ComebackError } from '../../errors.js';
import { listSavedSegments, resolveCustomerId } from '../../segments/index.js';
import type { ApiApp, RouteDeps } from '../app.types.js';

/** The optional body of a preview, `{ customer?: string }` (absent or empty: the sample customer). */
function previewCustomer(body: unknown): string | undefined {
  if (body === undefined || body === null || body === '') return undefined;
  if (typeof body !== 'object' || Array.isArray(body)) throw new ComebackError('bad_input', 'body: must be an object');
  for (const [name, value] of Object.entries(body)) {
    if (name !== 'customer') {
      throw new ComebackError('bad_input', `${name}: not a field of a preview (only customer)`, {
        location: { field: name },
      });
    }
    if (value !== undefined && (typeof value !== 'string' || value.length > 320)) {
      throw new ComebackError('bad_input', 'customer: an id, an e-mail or source:external-id', {
        location: { field: 'customer' },
      });
    }
  }
  const ref = (body as { customer?: string }).customer?.trim();
  return ref === '' ? undefined : ref;
}

const channels = Type.Array(Type.Union(CHANNELS.map((c) => Type.Literal(c))), { minItems: 1, uniqueItems: true });

/**
 * What the dashboard's flow editor and campaign composer need besides the flow and campaign routes:
 * `GET /templates` and `POST /templates/:key/preview` (read scope; body `{ customer? }`, an id, an
 * e-mail or source:external-id, else a sample customer); `PUT /flows/:key` (write) saves an edited
 * definition as a new version; `GET /segments/saved` (read) names the saved segments;
 * `POST /campaigns/audience` (read) counts a segment's members and the ones a message could not reach;
 * `GET /campaigns/sends` (read) what each campaign entered. Every refusal names its field.
 */
export function registerComposeRoutes(app: ApiApp, deps: RouteDeps): void {
  const db = deps.store.db;
  app.get(
    '/templates',
    {
      config: { access: 'read' },
      schema: {
        summary: 'Every message template, newest version (installs the built-in ones first)',
        tags: ['campaigns'],
      },
    },
    async () => {
      // As GET /flows: the built-in flows' templates are there from the first look.
      await installBuiltins(db, deps.now());
      return { templates: await listTemplates(db) };
    },
  );
  app.post(
    '/templates/:key/preview',
    {
      config: { access: 'read' },
      schema: {
        summary: 'Render a template for a customer (or a sample one), as it would be sent',
        tags: ['campaigns'],
        params: Type.Object({ key: Type.String({ minLength: 1, maxLength: 64 }) }),
      },
    },
    async (request) => {
      const ref = previewCustomer(request.body);
      let customerId: number | undefined;
      if (ref) {
        try {
          customerId = await resolveCustomerId(db, ref.replace(/^#/, ''));
        } catch (error) {
          if (error instanceof ComebackError && error.kind === 'not_found')
            throw new ComebackError('not_found', error.message, { location: { field: 'customer' } });
          throw error;
        }
      }
      return previewTemplate(db, request.params.key, {
        ...(customerId !== undefined ? { customerId } : {}),
        now: deps.now(),
      });
    },
  );
  app.put(
    '/flows/:key',
    {
      config: { access: 'write' },
      schema: {
        summary: 'Save an edited flow definition as a new version (customers in the flow finish theirs)',
        tags: ['flows'],
        params: Type.Object({ key: Type.String({ minLength: 1, maxLength: 64 }) }),
        body: Type.Object({}, { additionalProperties: true }),
      },
    },
    async (request) => {
      const { key } = request.params;
      const existing = await loadFlow(db, key);
      const result = validateFlow(request.body);
      if (!result.ok) {
        const first = result.problems[0]!;
        throw new ComebackError(
          'bad_input',
          result.problems.map((p) => `${p.path || '(document)'}: ${p.message}`).join('; '),
          { location: { field: first.path } },
        );
      }
      if (result.flow.key !== key) {
        throw new ComebackError('bad_input', `the document's key "${result.flow.key}" is not "${key}"`, {
          location: { field: 'key' },
        });
      }
      if (existing.kind === 'campaign') {
        throw new ComebackError('bad_input', `"${key}" is a campaign: save it through POST /campaigns`, {
          location: { field: 'key' },
        });
      }
      const saved = await saveFlow(db, result.flow, deps.now());
      return { ...saved.flow, created: saved.created };
    },
  );
  app.get(
    '/segments/saved',
    { config: { access: 'read' }, schema: { summary: 'The saved segments, by name', tags: ['campaigns'] } },
    async () => ({
      segments: (await listSavedSegments(db)).map((s) => ({ name: s.name, updatedAt: s.updatedAt })),
    }),
  );
  app.post(
    '/campaigns/audience',
    {
      config: { access: 'read' },
      schema: {
        summary: 'A saved segment’s members now, and how many a marketing message could not reach',
        tags: ['campaigns'],
        body: Type.Object(
          {
            segment: Type.String({ minLength: 1, maxLength: 200 }),
            channels: Type.Optional(channels),
            key: Type.Optional(Type.String({ pattern: '^[a-z0-9][a-z0-9_-]*$', maxLength: 64 })),
            holdoutShare: Type.Optional(Type.Number({ minimum: 0, maximum: 0.5 })),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request) => {
      try {
        return await campaignAudience(db, request.body, deps.now());
      } catch (error) {
        if (error instanceof ComebackError && error.kind === 'not_found')
          throw new ComebackError('not_found', error.message, { location: { field: 'segment' } });
        throw error;
      }
    },
  );
  app.get(
    '/campaigns/sends',
    {
      config: { access: 'read' },
      schema: { summary: 'Every campaign with the customers it entered and when it sends', tags: ['campaigns'] },
    },
    async () => {
      const sends = new Map((await campaignSends(db)).map((s) => [s.key, s]));
      return {
        campaigns: (await listFlows(db))
          .filter((f) => f.kind === 'campaign')
          .map((f) => ({ ...f, ...(sends.get(f.key) ?? { entered: 0, heldOut: 0, sendAt: null }) })),
      };
    },
  );
}
