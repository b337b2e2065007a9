import { type Static, Type } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Compile } from 'typebox/compile';
import { ComebackError } from '../../errors.js';
import { CONSENT_TRAITS, type EventInput, type RecordEventsResult, recordEvents } from '../../ingest/index.js';
import type { ApiApp, RouteDeps } from '../app.types.js';
import { fieldOfIssue } from '../error-handler.js';
import { memberOf } from '../member-token.js';
import { authErrors } from '../schemas.js';

/** Segment's batch limit. */
export const MAX_BATCH = 500;

const Json = Type.Record(Type.String(), Type.Unknown());

// The fields of Segment's common spec; other fields (integrations, channel, version …) are accepted and ignored.
const common = {
  messageId: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
  userId: Type.Optional(Type.Union([Type.String({ maxLength: 255 }), Type.Number(), Type.Null()])),
  anonymousId: Type.Optional(Type.Union([Type.String({ maxLength: 255 }), Type.Null()])),
  context: Type.Optional(Json),
  timestamp: Type.Optional(Type.String({ maxLength: 64 })),
  sentAt: Type.Optional(Type.String({ maxLength: 64 })),
  originalTimestamp: Type.Optional(Type.String({ maxLength: 64 })),
};

const IdentifyCall = Type.Object({ ...common, traits: Type.Optional(Json) });
const TrackCall = Type.Object({
  ...common,
  event: Type.String({ minLength: 1, maxLength: 255 }),
  properties: Type.Optional(Json),
});
const PageCall = Type.Object({
  ...common,
  name: Type.Optional(Type.String({ maxLength: 255 })),
  properties: Type.Optional(Json),
});
const Id = Type.Union([Type.String({ minLength: 1, maxLength: 255 }), Type.Number()]);
const AliasCall = Type.Object({ ...common, previousId: Id });
const GroupCall = Type.Object({ ...common, groupId: Id, traits: Type.Optional(Json) });
const BatchCall = Type.Object({
  ...common,
  type: Type.Union([
    Type.Literal('identify'),
    Type.Literal('track'),
    Type.Literal('page'),
    Type.Literal('screen'),
    Type.Literal('alias'),
    Type.Literal('group'),
  ]),
  event: Type.Optional(Type.String({ maxLength: 255 })),
  name: Type.Optional(Type.String({ maxLength: 255 })),
  properties: Type.Optional(Json),
  traits: Type.Optional(Json),
  previousId: Type.Optional(Type.Union([Id, Type.Null()])),
  groupId: Type.Optional(Type.Union([Id, Type.Null()])),
});
const checkCall = Compile(BatchCall);
// Each call is checked on its own (below), so that one bad call does not refuse the others.
const Batch = Type.Object({
  batch: Type.Array(Type.Unknown(), { minItems: 1, maxItems: MAX_BATCH }),
  sentAt: Type.Optional(Type.String({ maxLength: 64 })),
  context: Type.Optional(Json),
});

const Rejected = Type.Object({
  index: Type.Integer({ description: 'position of the call in `batch`' }),
  code: Type.Union([Type.Literal('bad_input'), Type.Literal('conflict')]),
  field: Type.String({ description: 'e.g. batch[3].timestamp' }),
  message: Type.String(),
});
const Accepted = Type.Object({
  success: Type.Boolean({ description: "Segment's answer field; false when some calls of a batch were rejected" }),
  received: Type.Integer(),
  inserted: Type.Integer(),
  duplicates: Type.Integer({ description: 'calls whose messageId was stored before' }),
  rejected: Type.Optional(Type.Array(Rejected, { description: 'batch calls not stored, each with its reason' })),
});

/** Whether a request is a browser's: made with a publishable key. */
function fromBrowser(request: FastifyRequest): boolean {
  return request.principal?.kind === 'key' && request.principal.scope === 'publishable';
}

/**
 * What a publishable (browser) key may send: track, page and identify calls about the visitor's
 * anonymous id, and about a customer only when the store signed that customer in (`x-comeback-member`);
 * traits only in calls that name that customer's userId, and never consent (which goes through the
 * signed preference centre or the e-mail capture). 403 naming the field. What the traits may still do
 * to a customer is limited by `browser` in recordEvents.
 */
function guardBrowserCalls(request: FastifyRequest, calls: ReadonlyArray<Record<string, unknown>>, prefix = ''): void {
  if (!fromBrowser(request)) return;
  const member = memberOf(request);
  calls.forEach((call, index) => {
    const at = prefix ? `${prefix}[${index}].` : '';
    const forbid = (field: string, message: string) => {
      throw new ComebackError('forbidden', `${at}${field}: ${message}`, { location: { field: `${at}${field}` } });
    };
    // Merging customers (alias) and company membership (group) are the store's server's to say.
    if (prefix && (call.type === 'alias' || call.type === 'group')) {
      forbid('type', `a publishable key sends track, page, screen and identify calls, not ${call.type}`);
    }
    const userId = call.userId;
    const named = userId !== undefined && userId !== null;
    if (named && String(userId) !== member)
      forbid('userId', "a publishable key sends only the signed-in customer's id");
    const context = call.context;
    const contextTraits =
      typeof context === 'object' && context !== null ? (context as Record<string, unknown>).traits : undefined;
    for (const [field, traits] of [
      ['traits', call.traits],
      ['context.traits', contextTraits],
    ] as const) {
      if (traits === undefined) continue;
      if (member === undefined || !named) {
        forbid(field, "a publishable key sends traits only with the signed-in customer's userId");
      }
      if (typeof traits === 'object' && traits !== null) {
        const consent = CONSENT_TRAITS.find((name) => name in traits);
        if (consent) {
          forbid(
            `${field}.${consent}`,
            'a publishable key does not change consent (the preference centre and the e-mail capture do)',
          );
        }
      }
    }
  });
}

/** Segment-compatible ingestion: `/identify`, `/track`, `/page`, `/screen`, `/batch` (up to 500 calls). */
export function registerEventRoutes(app: ApiApp, deps: RouteDeps): void {
  const record = async (
    request: FastifyRequest,
    events: EventInput[],
    extra: { sentAt?: string; path?: string; partial?: boolean } = {},
  ) => {
    const result: RecordEventsResult = await deps.events.record(events, {
      now: deps.now(),
      userIdSource: deps.userIdSource,
      browser: fromBrowser(request),
      ...extra,
    });
    deps.segments.touch(result.customerIds);
    return result;
  };
  const answer = (result: RecordEventsResult) => ({
    success: true,
    received: result.received,
    inserted: result.inserted,
    duplicates: result.duplicates,
  });
  const single = <
    S extends typeof IdentifyCall | typeof TrackCall | typeof PageCall | typeof AliasCall | typeof GroupCall,
  >(
    path: string,
    type: EventInput['type'],
    body: S,
    summary: string,
    browser = false,
  ) =>
    app.post(
      path,
      {
        config: { access: 'write', publishable: browser },
        schema: {
          summary,
          tags: ['events'],
          body,
          response: { 200: Accepted, 409: Type.Ref('ErrorBody'), ...authErrors },
        },
      },
      async (request) => {
        const call = request.body as Static<S>;
        guardBrowserCalls(request, [call]);
        return answer(await record(request, [{ ...call, type } as EventInput]));
      },
    );
  single('/identify', 'identify', IdentifyCall, 'Segment identify: who the user is, with traits', true);
  single('/track', 'track', TrackCall, 'Segment track: something the user did', true);
  single('/page', 'page', PageCall, 'Segment page: a page view', true);
  single('/screen', 'screen', PageCall, 'Segment screen: an app screen view');
  single('/alias', 'alias', AliasCall, 'Segment alias: previousId (an earlier userId or anonymousId) becomes userId');
  single('/group', 'group', GroupCall, 'Segment group: the user belongs to groupId, with the group traits');

  app.post(
    '/batch',
    {
      config: { access: 'write', publishable: true },
      schema: {
        summary: `Segment batch: up to ${MAX_BATCH} calls, answered call by call`,
        description:
          'The valid calls are stored (in one transaction, deduplicated by messageId); the others are listed in ' +
          '`rejected` with their index and reason. 400 only when no call could be stored.',
        tags: ['events'],
        body: Batch,
        response: { 200: Accepted, 409: Type.Ref('ErrorBody'), ...authErrors },
      },
    },
    async (request) => {
      const { batch, sentAt, context } = request.body;
      guardBrowserCalls(request, [{ context }]);
      guardBrowserCalls(
        request,
        batch.map((call) => (typeof call === 'object' && call !== null ? { ...call } : {})),
        'batch',
      );
      const rejected: Array<Static<typeof Rejected>> = [];
      const valid: EventInput[] = [];
      const indexOf: number[] = [];
      batch.forEach((call, index) => {
        if (!checkCall.Check(call)) {
          const issue = checkCall.Errors(call).at(-1);
          const params: Record<string, unknown> = { ...(issue?.params ?? {}) };
          const missing = params.requiredProperties;
          const field = fieldOfIssue({
            instancePath: issue?.instancePath,
            params: Array.isArray(missing) ? { missingProperty: String(missing[0]) } : {},
          });
          rejected.push({
            index,
            code: 'bad_input',
            field: field ? `batch[${index}].${field}` : `batch[${index}]`,
            message: `${field ?? 'call'}: ${issue?.message ?? 'is not a Segment call'}`,
          });
          return;
        }
        valid.push(context ? { ...call, context: { ...context, ...call.context } } : call);
        indexOf.push(index);
      });
      // recordEvents numbers the calls it is given; its errors are renamed to the batch's own indices.
      const result =
        valid.length > 0
          ? await record(request, valid, { sentAt, partial: true })
          : await recordEvents(deps.store.db, [], { now: deps.now() });
      for (const r of result.rejected) {
        const index = indexOf[r.index]!;
        rejected.push({ index, code: r.kind, field: `batch[${index}].${r.field}`, message: r.reason });
      }
      rejected.sort((a, b) => a.index - b.index);
      if (rejected.length === batch.length) {
        const first = rejected[0]!;
        const kind = rejected.every((r) => r.code === 'conflict') ? 'conflict' : 'bad_input';
        throw new ComebackError(kind, `no call of the batch could be stored; first: ${first.message}`, {
          location: { field: first.field },
        });
      }
      return {
        ...answer(result),
        received: batch.length,
        success: rejected.length === 0,
        ...(rejected.length > 0 ? { rejected } : {}),
      };
    },
  );
}
