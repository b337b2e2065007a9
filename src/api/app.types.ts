import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type {
  FastifyBaseLogger,
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import type { EventGroupCommit } from '../ingest/index.js';
import type { Store } from '../store/index.js';
import type { SegmentRefresher } from './segment-refresher.js';

/** The Fastify instance every route module registers on, with TypeBox inference. */
export type ApiApp = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

/** What routes need besides the request: the store, the clock and settings read once at start. */
export interface RouteDeps {
  store: Store;
  now: () => number;
  /** The identity source a Segment `userId` is looked up under (see recordEvents). */
  userIdSource: string;
  /** The Shopify app's webhook signing secret; webhooks are refused while it is not set. */
  shopifySecret: string | undefined;
  sessionSecret: string;
  /** Recomputes the segments of customers whose orders or events changed. */
  segments: SegmentRefresher;
  /** Event requests share short batches that commit once (group commit). */
  events: EventGroupCommit;
}
