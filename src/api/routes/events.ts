import { type Static, Type } from '@fastify/type-provider-typebox';
import { type EventInput, recordEvents } from '../../ingest/index.js';
import type { ApiApp, RouteDeps } from '../app.types.js';
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
const BatchCall = Type.Object({
  ...common,
  type: Type.Union([Type.Literal('identify'), Type.Literal('track'), Type.Literal('page'), Type.Literal('screen')]),
  event: Type.Optional(Type.String({ maxLength: 255 })),
  name: Type.Optional(Type.String({ maxLength: 255 })),
  properties: Type.Optional(Json),
  traits: Type.Optional(Json),
});
const Batch = Type.Object({
  batch: Type.Array(BatchCall, { minItems: 1, maxItems: MAX_BATCH }),
  sentAt: Type.Optional(Type.String({ maxLength: 64 })),
  context: Type.Optional(Json),
});

const Accepted = Type.Object({
  success: Type.Boolean({ description: "Segment's answer field" }),
  received: Type.Integer(),
  inserted: Type.Integer(),
  duplicates: Type.Integer({ description: 'calls whose messageId was stored before' }),
});

/** Segment-compatible ingestion: `/identify`, `/track`, `/page`, `/screen`, `/batch` (up to 500 calls). */
export function registerEventRoutes(app: ApiApp, deps: RouteDeps): void {
  const record = async (events: EventInput[], extra: { sentAt?: string; path?: string } = {}) => {
    const result = await recordEvents(deps.store.db, events, {
      now: deps.now(),
      userIdSource: deps.userIdSource,
      ...extra,
    });
    deps.segments.touch(result.customerIds);
    return { success: true, received: result.received, inserted: result.inserted, duplicates: result.duplicates };
  };
  const single = <S extends typeof IdentifyCall | typeof TrackCall | typeof PageCall>(
    path: string,
    type: EventInput['type'],
    body: S,
    summary: string,
  ) =>
    app.post(
      path,
      {
        config: { access: 'write' },
        schema: { summary, tags: ['events'], body, response: { 200: Accepted, ...authErrors } },
      },
      async (request) => record([{ ...(request.body as Static<S>), type }]),
    );
  single('/identify', 'identify', IdentifyCall, 'Segment identify: who the user is, with traits');
  single('/track', 'track', TrackCall, 'Segment track: something the user did');
  single('/page', 'page', PageCall, 'Segment page: a page view');
  single('/screen', 'screen', PageCall, 'Segment screen: an app screen view');

  app.post(
    '/batch',
    {
      config: { access: 'write' },
      schema: {
        summary: `Segment batch: up to ${MAX_BATCH} calls in one transaction, deduplicated by messageId`,
        tags: ['events'],
        body: Batch,
        response: { 200: Accepted, ...authErrors },
      },
    },
    async (request) => {
      const { batch, sentAt, context } = request.body;
      const events = context ? batch.map((call) => ({ ...call, context: { ...context, ...call.context } })) : batch;
      return record(events, { sentAt, path: 'batch' });
    },
  );
}
