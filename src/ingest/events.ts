import { createHash } from 'node:crypto';
import { ComebackError } from '../errors.js';
import { parseTimestamp } from '../shared/dates.js';
import type { Db } from '../store/index.js';
import { referrerHost } from './acquisition.js';
import { splitName } from './formats/format.js';
import { normaliseEmail, normalisePhone } from './records.js';
import { recordConsent } from './writer.js';

/** The Segment call types Comeback stores. */
export type EventType = 'identify' | 'track' | 'page' | 'screen';

/** One call in the shape of Segment's spec (https://segment.com/docs/connections/spec/common/). */
export interface EventInput {
  type: EventType;
  /** The idempotency key; when absent, a hash of the call's content stands in for it. */
  messageId?: string;
  userId?: string | number | null;
  anonymousId?: string | null;
  /** The name of a `track` call. */
  event?: string;
  /** The name of a `page` or `screen` call. */
  name?: string;
  properties?: Record<string, unknown>;
  /** The traits of an `identify` call. */
  traits?: Record<string, unknown>;
  context?: Record<string, unknown>;
  timestamp?: string;
  sentAt?: string;
  originalTimestamp?: string;
}

export interface RecordEventsOptions {
  /** The moment the events were received. */
  now: number;
  /**
   * The `customer_identities.source` that a `userId` is looked up under. Default `api`, the source
   * that `POST /api/v1/orders` stores customer ids under; a Shopify storefront sends the Shopify
   * customer id, so it records with `shopify` to meet the customers of its orders.
   */
  userIdSource?: string;
  /** The `sentAt` of an enclosing batch, used when a call has none of its own. */
  sentAt?: string;
  /** How errors name a call's fields: `batch` makes them `batch[3].timestamp`. */
  path?: string;
}

export interface RecordEventsResult {
  received: number;
  inserted: number;
  /** Calls whose `messageId` was stored before (or repeated within the same batch). */
  duplicates: number;
  customersCreated: number;
  /** Anonymous ids newly linked to a customer. */
  anonymousIdsLinked: number;
  /** The customers the stored events belong to, for what must follow them (segment membership). */
  customerIds: number[];
}

export const DEFAULT_USER_ID_SOURCE = 'api';
const CHUNK = 500;

interface PendingEvent {
  message_id: string;
  type: EventType;
  event: string | null;
  customer_id: number | null;
  anonymous_id: string | null;
  session_id: string | null;
  properties: string;
  occurred_at: number;
  received_at: number;
}

/**
 * Stores Segment-style calls idempotently (a `messageId` seen before is skipped) in one transaction.
 * Each call is tied to a customer: its `userId` through `customer_identities`, else the e-mail in its
 * traits, else the customer its anonymous id was identified as. A call that names both a customer and an
 * anonymous id links the two, and the anonymous id's earlier events are given the customer. `identify`
 * traits overwrite the customer's e-mail, phone, names and birthday (the customer's own latest word) and
 * set marketing consent when given.
 */
export async function recordEvents(
  db: Db,
  events: readonly EventInput[],
  options: RecordEventsOptions,
): Promise<RecordEventsResult> {
  const result: RecordEventsResult = {
    received: events.length,
    inserted: 0,
    duplicates: 0,
    customersCreated: 0,
    anonymousIdsLinked: 0,
    customerIds: [],
  };
  if (events.length === 0) return result;
  const prepared = events.map((event, index) => prepare(event, index, options));
  const run = async (trx: Db) => {
    const fresh = await dropDuplicates(trx, prepared);
    result.duplicates = prepared.length - fresh.length;
    if (fresh.length === 0) return;
    const resolver = new CustomerResolver(trx, options.userIdSource ?? DEFAULT_USER_ID_SOURCE, options.now);
    const rows: PendingEvent[] = [];
    for (const call of fresh) {
      const customerId = await resolver.resolve(call);
      rows.push({ ...call.row, customer_id: customerId ?? null });
    }
    for (let start = 0; start < rows.length; start += CHUNK) {
      const inserted = await trx
        .insertInto('events')
        .values(rows.slice(start, start + CHUNK))
        .onConflict((oc) => oc.column('message_id').doNothing())
        .returning('id')
        .execute();
      result.inserted += inserted.length;
    }
    // Rows another request stored between the check above and the insert are duplicates too.
    result.duplicates += rows.length - result.inserted;
    await resolver.finish();
    result.customersCreated = resolver.customersCreated;
    result.anonymousIdsLinked = resolver.linked.size;
    const touched = new Set(rows.flatMap((row) => (row.customer_id === null ? [] : [row.customer_id])));
    for (const customerId of resolver.linked.values()) touched.add(customerId);
    result.customerIds = [...touched];
  };
  if (db.isTransaction) await run(db);
  else await db.transaction().execute(run);
  return result;
}

interface PreparedCall {
  row: Omit<PendingEvent, 'customer_id'>;
  userId: string | undefined;
  anonymousId: string | undefined;
  traits: Record<string, unknown> | undefined;
  email: string | undefined;
  index: number;
}

function prepare(event: EventInput, index: number, options: RecordEventsOptions): PreparedCall {
  const field = (name: string) => (options.path ? `${options.path}[${index}].${name}` : name);
  const fail = (name: string, message: string) =>
    new ComebackError('bad_input', message, { location: { field: field(name) } });
  const userId = textOrUndefined(event.userId);
  const anonymousId = textOrUndefined(event.anonymousId);
  if (!userId && !anonymousId) throw fail('userId', 'a call needs a userId or an anonymousId');
  if (event.type === 'track' && !event.event?.trim()) throw fail('event', 'a track call needs an event name');
  const instant = (name: 'timestamp' | 'sentAt' | 'originalTimestamp', text: string | undefined) => {
    if (text === undefined) return undefined;
    const parsed = parseTimestamp(text);
    if (!parsed) throw fail(name, `"${text}" is not an ISO 8601 timestamp`);
    return parsed.epochMs;
  };
  const timestamp = instant('timestamp', event.timestamp);
  const original = instant('originalTimestamp', event.originalTimestamp);
  const sentAt = instant('sentAt', event.sentAt ?? options.sentAt);
  // Segment's rule: without `timestamp`, correct the device clock by how far `sentAt` is from now.
  let occurredAt = options.now;
  if (timestamp !== undefined) occurredAt = timestamp;
  else if (original !== undefined && sentAt !== undefined) occurredAt = options.now - (sentAt - original);
  else if (original !== undefined) occurredAt = original;
  const traits = event.type === 'identify' ? event.traits : objectOrUndefined(event.context?.traits);
  const body = event.type === 'identify' ? (event.traits ?? {}) : (event.properties ?? {});
  const name = event.type === 'track' ? event.event : event.name;
  const properties = JSON.stringify(body);
  const rawSession = event.context?.sessionId;
  const sessionId = typeof rawSession === 'string' || typeof rawSession === 'number' ? rawSession : undefined;
  const messageId =
    textOrUndefined(event.messageId) ??
    `sha256:${createHash('sha256')
      .update(JSON.stringify([event.type, userId, anonymousId, name, occurredAt, properties]))
      .digest('hex')}`;
  return {
    row: {
      message_id: messageId,
      type: event.type,
      event: name?.trim() || null,
      anonymous_id: anonymousId ?? null,
      session_id: textOrUndefined(sessionId) ?? null,
      properties,
      occurred_at: occurredAt,
      received_at: options.now,
      ...campaignOf(event.context),
    },
    userId,
    anonymousId,
    traits,
    email: typeof traits?.email === 'string' ? normaliseEmail(traits.email) : undefined,
    index,
  };
}

/** `context.campaign` (source, medium, name) and `context.page.referrer` of a call, for acquisition. */
function campaignOf(context: Record<string, unknown> | undefined) {
  const campaign = objectOrUndefined(context?.campaign);
  const page = objectOrUndefined(context?.page);
  const text = (value: unknown) => (typeof value === 'string' && value.trim() ? value.trim().toLowerCase() : null);
  const referrer = typeof page?.referrer === 'string' ? (referrerHost(page.referrer) ?? null) : null;
  return {
    utm_source: text(campaign?.source),
    utm_medium: text(campaign?.medium),
    utm_campaign: text(campaign?.name),
    referrer,
  };
}

async function dropDuplicates(db: Db, calls: readonly PreparedCall[]): Promise<PreparedCall[]> {
  const seen = new Set<string>();
  for (let start = 0; start < calls.length; start += CHUNK) {
    const ids = calls.slice(start, start + CHUNK).map((c) => c.row.message_id);
    const rows = await db.selectFrom('events').select('message_id').where('message_id', 'in', ids).execute();
    for (const row of rows) seen.add(row.message_id);
  }
  const fresh: PreparedCall[] = [];
  for (const call of calls) {
    if (seen.has(call.row.message_id)) continue;
    seen.add(call.row.message_id);
    fresh.push(call);
  }
  return fresh;
}

/** Finds, creates and links the customers of one batch of calls, caching what it has looked up. */
class CustomerResolver {
  customersCreated = 0;
  /** Anonymous ids linked by this batch, whose earlier events are backfilled at the end. */
  readonly linked = new Map<string, number>();
  private readonly byUser = new Map<string, number>();
  private readonly byEmail = new Map<string, number>();
  private readonly byAnonymous = new Map<string, number | null>();
  private readonly firstSeen = new Map<number, number>();

  constructor(
    private readonly db: Db,
    private readonly userIdSource: string,
    private readonly now: number,
  ) {}

  async resolve(call: PreparedCall): Promise<number | undefined> {
    const at = call.row.occurred_at;
    let customerId: number | undefined;
    if (call.userId !== undefined || call.email !== undefined) {
      customerId = await this.known(call.userId, call.email, at);
    }
    if (call.anonymousId !== undefined) {
      if (customerId === undefined) customerId = (await this.anonymous(call.anonymousId)) ?? undefined;
      else await this.link(call.anonymousId, customerId);
    }
    if (customerId === undefined) return undefined;
    const seen = this.firstSeen.get(customerId);
    if (seen === undefined || at < seen) this.firstSeen.set(customerId, at);
    if (call.row.type === 'identify' && call.traits) await this.applyTraits(customerId, call.traits, at);
    return customerId;
  }

  private async known(userId: string | undefined, email: string | undefined, at: number): Promise<number> {
    let id = (userId !== undefined ? this.byUser.get(userId) : undefined) ?? undefined;
    if (id === undefined && userId !== undefined) {
      const row = await this.db
        .selectFrom('customer_identities')
        .select('customer_id')
        .where('source', '=', this.userIdSource)
        .where('external_id', '=', userId)
        .executeTakeFirst();
      id = row?.customer_id;
    }
    if (id === undefined && email !== undefined) {
      id = this.byEmail.get(email);
      if (id === undefined) {
        const row = await this.db.selectFrom('customers').select('id').where('email', '=', email).executeTakeFirst();
        id = row?.id;
      }
    }
    if (id === undefined) {
      const created = await this.db
        .insertInto('customers')
        .values({
          source: 'events',
          email: email ?? null,
          phone: null,
          first_name: null,
          last_name: null,
          birthday: null,
          country: null,
          city: null,
          address: null,
          first_seen_at: at,
          created_at: this.now,
        })
        // A concurrent request may have just created the customer with this e-mail: use that one.
        .onConflict((oc) => oc.column('email').doNothing())
        .returning('id')
        .executeTakeFirst();
      if (created) {
        id = created.id;
        this.customersCreated += 1;
      } else {
        const row = await this.db
          .selectFrom('customers')
          .select('id')
          .where('email', '=', email!)
          .executeTakeFirstOrThrow();
        id = row.id;
      }
    }
    if (userId !== undefined && !this.byUser.has(userId)) {
      await this.db
        .insertInto('customer_identities')
        .values({ source: this.userIdSource, external_id: userId, customer_id: id })
        .onConflict((oc) => oc.columns(['source', 'external_id']).doNothing())
        .execute();
      this.byUser.set(userId, id);
    }
    if (email !== undefined) this.byEmail.set(email, id);
    return id;
  }

  private async anonymous(anonymousId: string): Promise<number | null> {
    const cached = this.byAnonymous.get(anonymousId);
    if (cached !== undefined) return cached;
    const row = await this.db
      .selectFrom('anonymous_ids')
      .select('customer_id')
      .where('anonymous_id', '=', anonymousId)
      .executeTakeFirst();
    const id = row?.customer_id ?? null;
    this.byAnonymous.set(anonymousId, id);
    return id;
  }

  /** An anonymous id belongs to the first customer it is identified as; later claims are ignored. */
  private async link(anonymousId: string, customerId: number): Promise<void> {
    if ((await this.anonymous(anonymousId)) !== null) return;
    await this.db
      .insertInto('anonymous_ids')
      .values({ anonymous_id: anonymousId, customer_id: customerId, linked_at: this.now })
      .onConflict((oc) => oc.column('anonymous_id').doNothing())
      .execute();
    this.byAnonymous.set(anonymousId, customerId);
    this.linked.set(anonymousId, customerId);
  }

  private async applyTraits(customerId: number, traits: Record<string, unknown>, at: number): Promise<void> {
    const text = (...keys: string[]) => {
      for (const key of keys) {
        const value = traits[key];
        if (typeof value === 'string' && value.trim() !== '') return value.trim();
        if (typeof value === 'number') return String(value);
      }
      return undefined;
    };
    const named = splitName(text('name') ?? '');
    const address = objectOrUndefined(traits.address);
    const fields: {
      email?: string;
      phone?: string;
      first_name?: string;
      last_name?: string;
      birthday?: string;
      city?: string;
      country?: string;
    } = {
      phone: normalisePhone(text('phone')),
      first_name: text('firstName', 'first_name') ?? named.firstName,
      last_name: text('lastName', 'last_name') ?? named.lastName,
      birthday: birthdayOf(text('birthday')),
      city: typeof address?.city === 'string' ? address.city : undefined,
      country: typeof address?.country === 'string' ? address.country : undefined,
    };
    const email = typeof traits.email === 'string' ? normaliseEmail(traits.email) : undefined;
    if (email !== undefined) {
      // E-mail is unique: when another customer already has it, this one keeps its own.
      const owner = await this.db.selectFrom('customers').select('id').where('email', '=', email).executeTakeFirst();
      if (owner === undefined) fields.email = email;
    }
    const set = Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
    if (Object.keys(set).length > 0) {
      await this.db.updateTable('customers').set(set).where('id', '=', customerId).execute();
    }
    for (const [channel, granted] of consentsOf(traits)) {
      await recordConsent(this.db, customerId, { channel, granted, at, source: 'events' });
    }
  }

  /** Backfills the events of newly linked anonymous ids and moves first-seen instants earlier. */
  async finish(): Promise<void> {
    for (const [anonymousId, customerId] of this.linked) {
      const earliest = await this.db
        .updateTable('events')
        .set({ customer_id: customerId })
        .where('anonymous_id', '=', anonymousId)
        .where('customer_id', 'is', null)
        .returning('occurred_at')
        .execute();
      for (const row of earliest) {
        const seen = this.firstSeen.get(customerId);
        if (seen === undefined || row.occurred_at < seen) this.firstSeen.set(customerId, row.occurred_at);
      }
    }
    for (const [id, seenAt] of this.firstSeen) {
      await this.db
        .updateTable('customers')
        .set({ first_seen_at: seenAt })
        .where('id', '=', id)
        .where('first_seen_at', '>', seenAt)
        .execute();
    }
  }
}

/**
 * Marketing consent in identify traits. Segment has no standard trait for it, so Comeback reads
 * `consent: { email, sms }` and Shopify's spellings `acceptsMarketing` / `accepts_marketing` (e-mail)
 * and `acceptsSmsMarketing` / `accepts_sms_marketing`.
 */
function consentsOf(traits: Record<string, unknown>): Array<['email' | 'sms', boolean]> {
  const consent = objectOrUndefined(traits.consent);
  const pick = (...values: unknown[]) => values.find((v): v is boolean => typeof v === 'boolean');
  const email = pick(consent?.email, traits.acceptsMarketing, traits.accepts_marketing);
  const sms = pick(consent?.sms, traits.acceptsSmsMarketing, traits.accepts_sms_marketing);
  const out: Array<['email' | 'sms', boolean]> = [];
  if (email !== undefined) out.push(['email', email]);
  if (sms !== undefined) out.push(['sms', sms]);
  return out;
}

/** `1990-04-17`, `1990-04-17T00:00:00Z` → `1990-04-17`; `--04-17` stays; anything else is dropped. */
function birthdayOf(text: string | undefined): string | undefined {
  if (!text) return undefined;
  const match = /^(\d{4}|--)-?(\d{2})-(\d{2})/.exec(text);
  if (!match) return undefined;
  return match[1] === '--' ? `--${match[2]}-${match[3]}` : `${match[1]}-${match[2]}-${match[3]}`;
}

function textOrUndefined(value: string | number | null | undefined): string | undefined {
  if (value === null || value === undefined) return undefined;
  const text = String(value).trim();
  return text === '' ? undefined : text;
}

function objectOrUndefined(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}
