import { createHash } from 'node:crypto';
import { ComebackError } from '../errors.js';
import { parseTimestamp } from '../shared/dates.js';
import type { Db } from '../store/index.js';
import { referrerHost } from './acquisition.js';
import { splitName } from './formats/format.js';
import { changeEmail, customerByEmail, findOrCreateCustomer, mergeCustomers } from './identity.js';
import { batchTransaction } from './import.js';
import { betterPhone, phoneToE164 } from './phone.js';
import { normaliseEmail } from './records.js';
import { recordConsent } from './writer.js';

/** The Segment call types Comeback stores. */
export type EventType = 'identify' | 'track' | 'page' | 'screen' | 'alias' | 'group';

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
  /** The traits of an `identify` call (of the group, in a `group` call). */
  traits?: Record<string, unknown>;
  /** The id an `alias` call merges into `userId`: an earlier userId or an anonymous id. */
  previousId?: string | number | null;
  /** The group (company, team, account) a `group` call puts the user in. */
  groupId?: string | number | null;
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
  /**
   * Store the good calls and report the bad ones in `rejected` (a batch answered call by call), instead
   * of refusing everything when one call is bad (the default: a bad call throws and nothing is stored).
   */
  partial?: boolean;
  /**
   * The calls come from a browser (a publishable key): a userId is found or created by itself, never by
   * the e-mail in its traits; an e-mail another customer has is ignored (never claimed, merged into or
   * changed); consent traits are not applied. Server calls (secret keys, imports) leave it unset.
   */
  browser?: boolean;
}

/** A call that was not stored, with its index in the request and why. */
export interface RejectedCall {
  index: number;
  /** `bad_input` (the call is malformed) or `conflict` (it would give one e-mail to two customers). */
  kind: 'bad_input' | 'conflict';
  field: string;
  reason: string;
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
  /** Calls not stored (only with `partial`; otherwise the first one throws). */
  rejected: RejectedCall[];
  /** Customers merged into another by an `alias` or by an identify that named another customer's e-mail. */
  customersMerged: number;
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
 * traits overwrite the customer's e-mail (the old one is kept as an identity), phone (E.164, unless the
 * new one is the same number in a poorer form), names and birthday (the customer's own latest word) and
 * set marketing consent when given. An identify whose e-mail belongs to another customer merges a
 * customer who had no e-mail yet into that one (the same shopper, now signed in) and is a `conflict`
 * otherwise. `alias` merges `previousId` into `userId`; `group` records the customer's group and traits.
 * Times are corrected for the device's clock as Segment does: received − (sentAt − timestamp).
 */
export async function recordEvents(
  db: Db,
  events: readonly EventInput[],
  options: RecordEventsOptions,
): Promise<RecordEventsResult> {
  const prepared = prepareEvents(events, options);
  if (prepared.calls.length === 0) return prepared.result;
  if (db.isTransaction) await prepared.write(db);
  // Immediate on SQLite: events arriving during an import wait for its batch instead of failing busy.
  else await batchTransaction(db, prepared.write);
  return prepared.result;
}

/**
 * Calls checked and ready to store: `write(trx)` stores them inside a transaction the caller holds and
 * fills `result`. Several requests' calls can share one commit (see `EventGroupCommit`), and those with
 * the same `key` can be written as one batch by `writeEventsTogether`.
 */
export interface PreparedEvents {
  calls: readonly unknown[];
  result: RecordEventsResult;
  /** Prepared events with the same key resolve customers alike (the same user-id source and origin). */
  key: string;
  write(trx: Db): Promise<void>;
}

/** What `writeEventsTogether` needs of a `PreparedEvents`, kept out of its public shape. */
interface Part {
  calls: readonly PreparedCall[];
  result: RecordEventsResult;
  options: RecordEventsOptions;
}
const parts = new WeakMap<PreparedEvents, Part>();

/**
 * The checking half of `recordEvents`: throws `bad_input` for a malformed call (or, with `partial`,
 * lists it in `result.rejected`); writes nothing.
 */
export function prepareEvents(events: readonly EventInput[], options: RecordEventsOptions): PreparedEvents {
  const result: RecordEventsResult = {
    received: events.length,
    inserted: 0,
    duplicates: 0,
    customersCreated: 0,
    anonymousIdsLinked: 0,
    customerIds: [],
    rejected: [],
    customersMerged: 0,
  };
  const prepared: PreparedCall[] = [];
  events.forEach((event, index) => {
    try {
      prepared.push(prepare(event, index, options));
    } catch (error) {
      if (!options.partial || !(error instanceof ComebackError)) throw error;
      result.rejected.push({
        index,
        kind: 'bad_input',
        field: error.location?.field ?? 'body',
        reason: error.message,
      });
    }
  });
  result.rejected.sort((x, y) => x.index - y.index);
  const self: PreparedEvents = {
    calls: prepared,
    result,
    key: JSON.stringify([options.userIdSource ?? DEFAULT_USER_ID_SOURCE, options.browser ?? false]),
    write: (trx) => writeEventsTogether(trx, [self]),
  };
  parts.set(self, { calls: prepared, result, options });
  return self;
}

/**
 * Stores several requests' prepared calls as one batch, in their order, inside the caller's
 * transaction: one duplicate check, one customer resolver (a customer or anonymous id met twice is
 * looked up once), one insert per 500 events, one closing backfill. Each request's `result` is filled
 * with its own share (inserted, duplicates, customers created, merged and linked, the customers its
 * events touched), and only when every call is stored: a call refused with `conflict` (a request
 * without `partial`) throws, and nothing has been written to any `result`, so that the caller can roll
 * back and store the requests one by one. The result is what storing the requests one after another
 * would give: the same rows, the same customers. Every element must have been made by `prepareEvents`
 * with the same `key`.
 */
export async function writeEventsTogether(trx: Db, list: readonly PreparedEvents[]): Promise<void> {
  const all = list.map((prepared) => {
    const part = parts.get(prepared);
    if (!part || prepared.key !== list[0]?.key) throw new Error('writeEventsTogether: prepared elsewhere or unlike');
    return part;
  });
  const results = all.map((part) => ({
    ...part.result,
    inserted: 0,
    duplicates: 0,
    customersCreated: 0,
    anonymousIdsLinked: 0,
    customersMerged: 0,
    customerIds: [] as number[],
    rejected: [...part.result.rejected],
  }));
  const calls = all.flatMap((part, at) => part.calls.map((call) => ({ call, at })));
  if (calls.length === 0) return;
  const fresh = await dropDuplicates(trx, calls);
  for (const [at, part] of all.entries()) results[at]!.duplicates = part.calls.length;
  for (const { at } of fresh) results[at]!.duplicates -= 1;
  const first = all[0]!.options;
  const resolver = new CustomerResolver(trx, first.userIdSource ?? DEFAULT_USER_ID_SOURCE, first.browser ?? false);
  await resolver.lookUpAnonymous(fresh.map(({ call }) => call));
  const rows: PendingEvent[] = [];
  const rowPart = new Map<string, number>();
  const stored = all.map(() => 0);
  for (const { call, at } of fresh) {
    const result = results[at]!;
    const before = { created: resolver.customersCreated, linked: resolver.linked.size, merged: resolver.merged.size };
    resolver.tag = at;
    const resolved = await resolver.resolve(call);
    result.customersCreated += resolver.customersCreated - before.created;
    result.anonymousIdsLinked += resolver.linked.size - before.linked;
    result.customersMerged += resolver.merged.size - before.merged;
    if (resolved.kind === 'conflict') {
      const options = all[at]!.options;
      const rejection: RejectedCall = {
        index: call.index,
        kind: 'conflict',
        field: fieldName(options, call.index, resolved.field),
        reason: resolved.reason,
      };
      if (!options.partial) {
        throw new ComebackError('conflict', rejection.reason, { location: { field: rejection.field } });
      }
      result.rejected.push(rejection);
      continue;
    }
    rows.push({ ...call.row, customer_id: resolved.customerId ?? null });
    rowPart.set(call.row.message_id, at);
    stored[at]! += 1;
  }
  // A merge later in the batch may have retired a customer an earlier call was given.
  for (const row of rows) if (row.customer_id !== null) row.customer_id = resolver.current(row.customer_id);
  for (let start = 0; start < rows.length; start += CHUNK) {
    const inserted = await trx
      .insertInto('events')
      .values(rows.slice(start, start + CHUNK))
      .onConflict((oc) => oc.column('message_id').doNothing())
      .returning('message_id')
      .execute();
    for (const row of inserted) results[rowPart.get(row.message_id)!]!.inserted += 1;
  }
  await resolver.finish();
  const touched = all.map(() => new Set<number>());
  for (const row of rows) if (row.customer_id !== null) touched[rowPart.get(row.message_id)!]!.add(row.customer_id);
  for (const [anonymousId, customerId] of resolver.linked) {
    touched[resolver.tags.get(`a:${anonymousId}`)!]!.add(resolver.current(customerId));
  }
  for (const [from, into] of resolver.merged) touched[resolver.tags.get(`m:${from}`)!]!.add(resolver.current(into));
  for (const [at, part] of all.entries()) {
    const result = results[at]!;
    // Rows another request stored between the check above and the insert are duplicates too.
    result.duplicates += stored[at]! - result.inserted;
    result.customerIds = [...touched[at]!];
    result.rejected.sort((x, y) => x.index - y.index);
    Object.assign(part.result, result);
  }
}

function fieldName(options: RecordEventsOptions, index: number, name: string): string {
  return options.path ? `${options.path}[${index}].${name}` : name;
}

interface PreparedCall {
  row: Omit<PendingEvent, 'customer_id'>;
  type: EventType;
  userId: string | undefined;
  anonymousId: string | undefined;
  /** The user's traits: an identify's own, else `context.traits`. */
  traits: Record<string, unknown> | undefined;
  email: string | undefined;
  previousId: string | undefined;
  groupId: string | undefined;
  groupTraits: Record<string, unknown> | undefined;
  index: number;
}

function prepare(event: EventInput, index: number, options: RecordEventsOptions): PreparedCall {
  const field = (name: string) => fieldName(options, index, name);
  const fail = (name: string, message: string) =>
    new ComebackError('bad_input', message, { location: { field: field(name) } });
  const userId = textOrUndefined(event.userId);
  const anonymousId = textOrUndefined(event.anonymousId);
  if (!userId && !anonymousId) throw fail('userId', 'a call needs a userId or an anonymousId');
  if (event.type === 'track' && !event.event?.trim()) throw fail('event', 'a track call needs an event name');
  const previousId = textOrUndefined(event.previousId);
  if (event.type === 'alias' && !previousId) throw fail('previousId', 'an alias call needs a previousId');
  if (event.type === 'alias' && !userId) throw fail('userId', 'an alias call needs the userId to merge into');
  const groupId = textOrUndefined(event.groupId);
  if (event.type === 'group' && !groupId) throw fail('groupId', 'a group call needs a groupId');
  const instant = (name: 'timestamp' | 'sentAt' | 'originalTimestamp', text: string | undefined) => {
    if (text === undefined) return undefined;
    const parsed = parseTimestamp(text);
    if (!parsed) throw fail(name, `"${text}" is not an ISO 8601 timestamp`);
    return parsed.epochMs;
  };
  const timestamp = instant('timestamp', event.timestamp);
  const original = instant('originalTimestamp', event.originalTimestamp);
  const sentAt = instant('sentAt', event.sentAt ?? options.sentAt);
  // Segment's rule (https://segment.com/docs/connections/spec/common/#timestamp-overview): the device's
  // time of the call, corrected by how far the device's clock was off when it sent it:
  // timestamp = receivedAt − (sentAt − originalTimestamp). Without sentAt there is nothing to correct by.
  const device = original ?? timestamp;
  let occurredAt = options.now;
  if (device !== undefined) occurredAt = sentAt !== undefined ? options.now - (sentAt - device) : device;
  const traits = event.type === 'identify' ? event.traits : objectOrUndefined(event.context?.traits);
  const groupTraits = event.type === 'group' ? (event.traits ?? {}) : undefined;
  const body =
    event.type === 'identify' || event.type === 'group'
      ? (event.traits ?? {})
      : event.type === 'alias'
        ? { previousId }
        : (event.properties ?? {});
  const name = event.type === 'track' ? event.event : event.type === 'group' ? groupId : event.name;
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
    type: event.type,
    userId,
    anonymousId,
    traits,
    email: typeof traits?.email === 'string' ? normaliseEmail(traits.email) : undefined,
    previousId,
    groupId,
    groupTraits,
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

/** The calls whose `messageId` is neither stored nor met earlier in the list, in their order. */
async function dropDuplicates<T extends { call: PreparedCall }>(db: Db, items: readonly T[]): Promise<T[]> {
  const seen = new Set<string>();
  for (let start = 0; start < items.length; start += CHUNK) {
    const ids = items.slice(start, start + CHUNK).map((item) => item.call.row.message_id);
    const rows = await db.selectFrom('events').select('message_id').where('message_id', 'in', ids).execute();
    for (const row of rows) seen.add(row.message_id);
  }
  const fresh: T[] = [];
  for (const item of items) {
    if (seen.has(item.call.row.message_id)) continue;
    seen.add(item.call.row.message_id);
    fresh.push(item);
  }
  return fresh;
}

type Resolved = { kind: 'ok'; customerId: number | undefined } | { kind: 'conflict'; field: string; reason: string };

/** Finds, creates, links and merges the customers of one batch of calls, caching what it has looked up. */
class CustomerResolver {
  customersCreated = 0;
  /** Anonymous ids linked by this batch, whose earlier events are backfilled at the end. */
  readonly linked = new Map<string, number>();
  /** Customers merged away by this batch, and the customer each went into. */
  readonly merged = new Map<number, number>();
  private readonly byUser = new Map<string, number>();
  private readonly byAnonymous = new Map<string, number | null>();
  private readonly firstSeen = new Map<number, number>();
  /** Customers a browser call of this batch created for an e-mail, so that later calls meet them. */
  private readonly madeForEmail = new Map<string, number>();
  /** The call being resolved was received at this instant (customers made and ids linked are dated so). */
  private now = 0;
  /** The caller's tag for the calls resolved next (its request), kept beside each link and merge. */
  tag = 0;
  /** `a:<anonymous id>` and `m:<customer id>`: the tag of the call that linked or merged it. */
  readonly tags = new Map<string, number>();

  constructor(
    private readonly db: Db,
    private readonly userIdSource: string,
    private readonly browser: boolean,
  ) {}

  /** The customer `id` is now, after the merges of this batch. */
  current(id: number): number {
    let at = id;
    for (let next = this.merged.get(at); next !== undefined; next = this.merged.get(at)) at = next;
    return at;
  }

  async resolve(call: PreparedCall): Promise<Resolved> {
    const at = call.row.occurred_at;
    this.now = call.row.received_at;
    let customerId: number | undefined;
    if (this.browser) {
      customerId = await this.knownFromBrowser(call.userId, call.email, at);
    } else if (call.userId !== undefined || call.email !== undefined) {
      customerId = await this.known(call.userId, call.email, at);
    }
    if (customerId === undefined && call.anonymousId !== undefined) {
      customerId = (await this.anonymous(call.anonymousId)) ?? undefined;
    }
    if (customerId !== undefined && call.type === 'identify' && call.email !== undefined) {
      // Before anything else is written for this call, so that a refused call leaves no trace.
      const email = await this.followEmail(customerId, call.email);
      if (email.kind === 'conflict') return email;
      customerId = email.customerId;
    }
    if (customerId !== undefined && call.type === 'alias') {
      const alias = await this.alias(call.previousId!, customerId);
      if (alias.kind === 'conflict') return alias;
    }
    if (customerId !== undefined && call.anonymousId !== undefined) {
      await this.link(call.anonymousId, customerId);
      customerId = this.current(customerId);
    }
    if (customerId === undefined) return { kind: 'ok', customerId: undefined };
    const seen = this.firstSeen.get(customerId);
    if (seen === undefined || at < seen) this.firstSeen.set(customerId, at);
    if (call.type === 'identify' && call.traits) await this.applyTraits(customerId, call.traits, at);
    if (call.type === 'group') await this.group(customerId, call.groupId!, call.groupTraits ?? {}, at);
    return { kind: 'ok', customerId };
  }

  private async known(userId: string | undefined, email: string | undefined, at: number): Promise<number> {
    const cached = userId !== undefined ? this.byUser.get(userId) : undefined;
    if (cached !== undefined) return this.current(cached);
    const { id, created } = await findOrCreateCustomer(this.db, {
      source: userId !== undefined ? this.userIdSource : 'events',
      externalId: userId,
      email,
      customerSource: 'events',
      seenAt: at,
      now: this.now,
    });
    if (created) this.customersCreated += 1;
    if (userId !== undefined) this.byUser.set(userId, id);
    return id;
  }

  /**
   * A browser call's customer: its userId's (found or created by the id alone), else a new customer for
   * an e-mail nobody has; undefined when neither, so an e-mail typed in a browser never leads to the
   * customer who owns it.
   */
  private async knownFromBrowser(
    userId: string | undefined,
    email: string | undefined,
    at: number,
  ): Promise<number | undefined> {
    if (userId !== undefined) return this.known(userId, undefined, at);
    if (email === undefined) return undefined;
    const made = this.madeForEmail.get(email);
    if (made !== undefined) return this.current(made);
    const { id, created } = await findOrCreateCustomer(this.db, {
      source: 'events',
      email,
      customerSource: 'events',
      seenAt: at,
      now: this.now,
    });
    if (!created) return undefined;
    this.customersCreated += 1;
    this.madeForEmail.set(email, id);
    return id;
  }

  /**
   * An identify's e-mail: followed when free (the old address stays an identity); when another customer
   * has it, a customer without an e-mail of their own is merged into that one, anything else is a conflict.
   */
  private async followEmail(
    customerId: number,
    email: string,
  ): Promise<{ kind: 'ok'; customerId: number } | { kind: 'conflict'; field: string; reason: string }> {
    const owner = await customerByEmail(this.db, email);
    if (owner === undefined || owner === customerId) {
      if (owner === undefined) await changeEmail(this.db, customerId, email, { mergeable: async () => false });
      return { kind: 'ok', customerId };
    }
    // From a browser, someone else's address is not this customer's to claim: it is ignored.
    if (this.browser) return { kind: 'ok', customerId };
    const own = await this.db.selectFrom('customers').select('email').where('id', '=', customerId).executeTakeFirst();
    if (own?.email === null || own?.email === undefined) {
      const merged = await mergeCustomers(this.db, customerId, owner);
      if (merged.ok) {
        this.merged.set(customerId, owner);
        this.tags.set(`m:${customerId}`, this.tag);
        return { kind: 'ok', customerId: owner };
      }
      return { kind: 'conflict', field: 'traits.email', reason: merged.reason };
    }
    return {
      kind: 'conflict',
      field: 'traits.email',
      reason: `${email} belongs to customer ${owner}; this user is customer ${customerId} (${own.email}): not merged`,
    };
  }

  /** `alias`: the customer known by `previousId` (an earlier userId or an anonymous id) becomes this one. */
  private async alias(
    previousId: string,
    customerId: number,
  ): Promise<{ kind: 'ok' } | { kind: 'conflict'; field: string; reason: string }> {
    const byUser = await this.db
      .selectFrom('customer_identities')
      .select('customer_id')
      .where('source', '=', this.userIdSource)
      .where('external_id', '=', previousId)
      .executeTakeFirst();
    const previous =
      (byUser ? this.current(Number(byUser.customer_id)) : undefined) ??
      (await this.anonymous(previousId)) ??
      undefined;
    if (previous !== undefined && previous !== customerId) {
      const merged = await mergeCustomers(this.db, previous, customerId);
      if (!merged.ok) return { kind: 'conflict', field: 'previousId', reason: merged.reason };
      this.merged.set(previous, customerId);
      this.tags.set(`m:${previous}`, this.tag);
      for (const [user, id] of this.byUser) if (id === previous) this.byUser.set(user, customerId);
      for (const [anon, id] of this.byAnonymous) if (id === previous) this.byAnonymous.set(anon, customerId);
    }
    await this.db
      .insertInto('customer_identities')
      .values({ source: this.userIdSource, external_id: previousId, customer_id: customerId })
      .onConflict((oc) => oc.columns(['source', 'external_id']).doNothing())
      .execute();
    this.byUser.set(previousId, customerId);
    if (previous === undefined) await this.link(previousId, customerId);
    return { kind: 'ok' };
  }

  private async group(customerId: number, groupId: string, traits: Record<string, unknown>, at: number) {
    await this.db
      .insertInto('customer_groups')
      .values({ customer_id: customerId, group_id: groupId, traits: JSON.stringify(traits), updated_at: at })
      .onConflict((oc) =>
        oc
          .columns(['customer_id', 'group_id'])
          .doUpdateSet((eb) => ({ traits: eb.ref('excluded.traits'), updated_at: eb.ref('excluded.updated_at') }))
          .whereRef('excluded.updated_at', '>=', 'customer_groups.updated_at'),
      )
      .execute();
  }

  /** Reads the customers of the calls' anonymous ids, 500 ids a query, as `anonymous` would one by one. */
  async lookUpAnonymous(calls: readonly PreparedCall[]): Promise<void> {
    const ids = [...new Set(calls.flatMap((call) => (call.anonymousId === undefined ? [] : [call.anonymousId])))];
    const unknown = ids.filter((id) => !this.byAnonymous.has(id));
    for (let start = 0; start < unknown.length; start += CHUNK) {
      const chunk = unknown.slice(start, start + CHUNK);
      const rows = await this.db
        .selectFrom('anonymous_ids')
        .select(['anonymous_id', 'customer_id'])
        .where('anonymous_id', 'in', chunk)
        .execute();
      for (const id of chunk) this.byAnonymous.set(id, null);
      for (const row of rows) this.byAnonymous.set(row.anonymous_id, Number(row.customer_id));
    }
  }

  private async anonymous(anonymousId: string): Promise<number | null> {
    const cached = this.byAnonymous.get(anonymousId);
    if (cached !== undefined) return cached === null ? null : this.current(cached);
    const row = await this.db
      .selectFrom('anonymous_ids')
      .select('customer_id')
      .where('anonymous_id', '=', anonymousId)
      .executeTakeFirst();
    const id = row ? Number(row.customer_id) : null;
    this.byAnonymous.set(anonymousId, id);
    return id;
  }

  /** An anonymous id belongs to the first customer it is identified as; later claims are ignored. */
  private async link(anonymousId: string, customerId: number): Promise<void> {
    if ((await this.anonymous(anonymousId)) !== null) return;
    const claimed = await this.db
      .insertInto('anonymous_ids')
      .values({ anonymous_id: anonymousId, customer_id: customerId, linked_at: this.now })
      .onConflict((oc) => oc.column('anonymous_id').doNothing())
      .returning('customer_id')
      .executeTakeFirst();
    if (!claimed) {
      // A concurrent request linked it first: that link stands.
      this.byAnonymous.delete(anonymousId);
      await this.anonymous(anonymousId);
      return;
    }
    this.byAnonymous.set(anonymousId, customerId);
    this.linked.set(anonymousId, customerId);
    this.tags.set(`a:${anonymousId}`, this.tag);
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
    const stored = await this.db
      .selectFrom('customers')
      .select(['phone', 'country'])
      .where('id', '=', customerId)
      .executeTakeFirst();
    const country = typeof address?.country === 'string' ? address.country : undefined;
    const phone = phoneToE164(text('phone'), country ?? stored?.country);
    const kept = betterPhone(stored?.phone, phone);
    const fields: {
      phone?: string;
      first_name?: string;
      last_name?: string;
      birthday?: string;
      city?: string;
      country?: string;
    } = {
      phone: kept !== stored?.phone ? kept : undefined,
      first_name: text('firstName', 'first_name') ?? named.firstName,
      last_name: text('lastName', 'last_name') ?? named.lastName,
      birthday: birthdayOf(text('birthday')),
      city: typeof address?.city === 'string' ? address.city : undefined,
      country,
    };
    const set = Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
    if (Object.keys(set).length > 0) {
      await this.db.updateTable('customers').set(set).where('id', '=', customerId).execute();
    }
    // Consent from a browser goes through the signed preference centre or the e-mail capture only.
    if (this.browser) return;
    for (const [channel, granted] of consentsOf(traits)) {
      await recordConsent(this.db, customerId, { channel, granted, at, source: 'events' });
    }
  }

  /** Backfills the events of newly linked anonymous ids and moves first-seen instants earlier. */
  async finish(): Promise<void> {
    for (const [anonymousId, linkedTo] of this.linked) {
      const customerId = this.current(linkedTo);
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
      if (this.merged.has(id)) continue;
      await this.db
        .updateTable('customers')
        .set({ first_seen_at: seenAt })
        .where('id', '=', id)
        .where('first_seen_at', '>', seenAt)
        .execute();
    }
  }
}

/** The trait names that carry marketing consent (see consentsOf); a browser call may not send them. */
export const CONSENT_TRAITS = [
  'consent',
  'acceptsMarketing',
  'accepts_marketing',
  'acceptsSmsMarketing',
  'accepts_sms_marketing',
] as const;

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
