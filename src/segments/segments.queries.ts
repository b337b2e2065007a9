import { sql } from 'kysely';
import { ComebackError } from '../errors.js';
import type { Db } from '../store/index.js';
import { customerIdRanges, interOrderDays } from './customers.queries.js';
import { computeLifecycle, type GapThresholds, gapThresholds, type LifecycleOptions } from './lifecycle.js';
import { computePersonas, firstOrderMedians, type PersonaOptions } from './personas.js';
import { rfmColumns, rfmScoreAt } from './rfm.js';
import { parseRule, type Rule } from './rules.js';
import { selectByRule } from './rules.queries.js';
import { segmentsDb } from './tables.js';

const CHUNK = 400;

/** One label to store: a customer's value of a kind, and why. */
export interface Label {
  customerId: number;
  value: string;
  reason: string;
}

/** A change of a customer's label: `from` or `to` is null when the customer entered or left the kind. */
export interface LabelChange {
  customerId: number;
  kind: string;
  from: string | null;
  to: string | null;
}

function chunks<T>(items: readonly T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/**
 * Stores customers' current labels of one kind and returns what changed. With `customerIds`, only those
 * customers are touched (a customer among them with no label any more loses it); with `idRange`
 * (`[from, to)`), only the customers whose ids are in it; without either, every customer of the kind. A label keeps its `since` while its value stays. Lifecycle changes are also
 * written as events — `segment_exited` (event: the old stage) and `segment_entered` (event: the new
 * stage), properties `{kind, from, to}` — with message ids built from customer, day and stage, so a
 * rerun on the same day writes nothing twice. `events` is how many such events were written (a
 * customer's first stage is one `segment_entered`, a move two).
 */
export async function storeLabels(
  db: Db,
  kind: string,
  labels: readonly Label[],
  {
    asOf,
    customerIds,
    idRange,
  }: { asOf: number; customerIds?: readonly number[]; idRange?: readonly [number, number] },
): Promise<{ changes: LabelChange[]; events: number }> {
  const sdb = segmentsDb(db);
  const current = new Map<number, string>();
  const scope = customerIds ? chunks(customerIds) : [undefined];
  for (const ids of scope) {
    let query = sdb.selectFrom('customer_segments').select(['customer_id', 'value']).where('kind', '=', kind);
    if (ids) query = query.where('customer_id', 'in', ids.length > 0 ? ids : [-1]);
    else if (idRange) query = query.where('customer_id', '>=', idRange[0]).where('customer_id', '<', idRange[1]);
    for (const row of await query.execute()) current.set(Number(row.customer_id), row.value);
  }
  const changes: LabelChange[] = [];
  const next = new Set<number>();
  for (const label of labels) {
    next.add(label.customerId);
    const was = current.get(label.customerId) ?? null;
    if (was !== label.value) changes.push({ customerId: label.customerId, kind, from: was, to: label.value });
  }
  const gone = [...current.keys()].filter((id) => !next.has(id));
  for (const id of gone) changes.push({ customerId: id, kind, from: current.get(id)!, to: null });

  for (const part of chunks(labels)) {
    await sdb
      .insertInto('customer_segments')
      .values(part.map((l) => ({ customer_id: l.customerId, kind, value: l.value, since: asOf, reason: l.reason })))
      .onConflict((oc) =>
        oc.columns(['customer_id', 'kind']).doUpdateSet({
          value: (eb) => eb.ref('excluded.value'),
          reason: (eb) => eb.ref('excluded.reason'),
          since: sql<number>`case when customer_segments.value = excluded.value then customer_segments.since else excluded.since end`,
        }),
      )
      .execute();
  }
  for (const part of chunks(gone)) {
    await sdb.deleteFrom('customer_segments').where('kind', '=', kind).where('customer_id', 'in', part).execute();
  }
  const events = kind === 'lifecycle' ? await recordChanges(db, changes, asOf) : 0;
  return { changes, events };
}

/** Writes `segment_exited` / `segment_entered` events for label changes, idempotently; returns how many it wrote. */
async function recordChanges(db: Db, changes: readonly LabelChange[], asOf: number): Promise<number> {
  const rows = changes.flatMap((c) => {
    const properties = JSON.stringify({ kind: c.kind, from: c.from, to: c.to });
    const base = {
      customer_id: c.customerId,
      anonymous_id: null,
      session_id: null,
      properties,
      // The change happened by the as-of, an exclusive end (the next midnight): on the as-of's day, at
      // its last millisecond, so the timeline shows the day refreshed, not the next one. The message id
      // keeps the as-of's own date, as earlier refreshes wrote it, so a rerun writes nothing twice.
      occurred_at: asOf - 1,
      received_at: asOf - 1,
    };
    const out = [];
    if (c.from !== null) {
      out.push({
        ...base,
        message_id: `${c.kind}:${c.customerId}:${day(asOf)}:exited:${c.from}`,
        type: 'segment_exited',
        event: c.from,
      });
    }
    if (c.to !== null) {
      out.push({
        ...base,
        message_id: `${c.kind}:${c.customerId}:${day(asOf)}:${c.to}`,
        type: 'segment_entered',
        event: c.to,
      });
    }
    return out;
  });
  let written = 0;
  for (const part of chunks(rows, 200)) {
    const [result] = await db
      .insertInto('events')
      .values(part)
      .onConflict((oc) => oc.column('message_id').doNothing())
      .execute();
    written += Number(result?.numInsertedOrUpdatedRows ?? 0);
  }
  return written;
}

/** Options of a refresh: the date, optional model scores, and the persona and lifecycle settings. */
export type RefreshOptions = Omit<PersonaOptions, 'asOf'> & Omit<LifecycleOptions, 'asOf'> & { asOf: number };

/** Label changes of a refresh, counted by kind. */
export interface RefreshChanges {
  rfm: number;
  persona: number;
  lifecycle: number;
  total: number;
  /** Lifecycle changes away from a stage (recorded as `segment_exited`, and `segment_entered` for the new one). */
  stageMoves: number;
  /**
   * `segment_entered` / `segment_exited` events written: one per customer given a first stage, two per
   * stage move (none for what an earlier refresh of the same day already wrote).
   */
  events: number;
}

/** What a refresh did. */
export interface RefreshSummary {
  asOf: number;
  customers: number;
  changes: RefreshChanges;
  segments: Array<{ name: string; size: number; joined: number; left: number }>;
}

/** Customer ids per range of a whole-store refresh: its memory is one range's facts and labels. */
const REFRESH_RANGE = 50_000;

/** The first position in `ids` (ascending) whose id is at least `id`; `ids.length` when none is. */
function lowerBound(ids: readonly number[], id: number): number {
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ids[mid]! < id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Recomputes RFM groups, personas and lifecycle stages, stores them (recording lifecycle changes as
 * events) and brings every saved segment's membership up to date. With `customerIds`, only those
 * customers are recomputed and re-evaluated: what the importer and the events API call for the
 * customers a new order or event touched. Their RFM scores are still ranked against the whole store;
 * other customers' scores, which may shift a little as quintile bounds move, wait for the next full
 * refresh.
 *
 * A whole-store refresh works through the customers 50,000 ids at a time, with what is store-wide read
 * once first (the RFM columns, the median first order per currency, the lifecycle day thresholds), so
 * its memory does not grow with the store beyond those columns. The changes are counted; `onChange`
 * sees each one as it is stored.
 */
export async function refreshSegments(
  db: Db,
  options: RefreshOptions & { customerIds?: readonly number[]; onChange?: (change: LabelChange) => void },
): Promise<RefreshSummary> {
  const { asOf, customerIds, onChange } = options;
  const rfm = await rfmColumns(db, { asOf });
  const changes: RefreshChanges = { rfm: 0, persona: 0, lifecycle: 0, total: 0, stageMoves: 0, events: 0 };
  const tally = (stored: { changes: readonly LabelChange[]; events: number }) => {
    changes.events += stored.events;
    for (const change of stored.changes) {
      if (change.kind === 'rfm' || change.kind === 'persona' || change.kind === 'lifecycle') changes[change.kind] += 1;
      changes.total += 1;
      if (change.kind === 'lifecycle' && change.from !== null) changes.stageMoves += 1;
      onChange?.(change);
    }
  };
  /** Labels and stores the customers of a list, or of a range of ids; returns how many have a label. */
  const label = async (
    scope: { customerIds: readonly number[] } | { idRange: readonly [number, number] },
    shared: { medians?: ReadonlyMap<string, number>; thresholds?: GapThresholds },
  ) => {
    const rfmLabels: Label[] = [];
    const add = (i: number) => {
      const { group, reason } = rfmScoreAt(rfm, i);
      rfmLabels.push({ customerId: rfm.customerId[i]!, value: group, reason });
    };
    if ('idRange' in scope) {
      const [from, to] = scope.idRange;
      for (let i = lowerBound(rfm.customerId, from); i < rfm.customerId.length && rfm.customerId[i]! < to; i++) add(i);
    } else {
      for (const id of scope.customerIds) {
        const i = lowerBound(rfm.customerId, id);
        if (rfm.customerId[i] === id) add(i);
      }
    }
    const personas = await computePersonas(db, { ...options, ...scope, medians: shared.medians });
    const lifecycle = await computeLifecycle(db, { ...options, ...scope, thresholds: shared.thresholds });
    const where = { asOf, ...scope };
    tally(await storeLabels(db, 'rfm', rfmLabels, where));
    tally(
      await storeLabels(
        db,
        'persona',
        personas.map((p) => ({ customerId: p.customerId, value: p.persona, reason: p.reason })),
        where,
      ),
    );
    tally(
      await storeLabels(
        db,
        'lifecycle',
        lifecycle.customers.map((c) => ({ customerId: c.customerId, value: c.stage, reason: c.reason })),
        where,
      ),
    );
    return new Set([...rfmLabels, ...lifecycle.customers].map((c) => c.customerId)).size;
  };
  let customers = 0;
  if (customerIds) {
    await label({ customerIds: [...new Set(customerIds)] }, {});
    customers = customerIds.length;
  } else {
    const medians = await firstOrderMedians(db, asOf);
    const thresholds = gapThresholds(await interOrderDays(db, asOf), options);
    for (const idRange of await customerIdRanges(db, REFRESH_RANGE)) {
      customers += await label({ idRange }, { medians, thresholds });
    }
  }
  const segments = [];
  for (const saved of await listSavedSegments(db)) {
    segments.push({ name: saved.name, ...(await refreshMembership(db, saved, { asOf, customerIds })) });
  }
  return { asOf, customers, changes, segments };
}

/**
 * Whether the store uses segments yet (a saved segment, or labels from an earlier refresh): an import
 * then refreshes them, and a store that never asked for segments pays nothing.
 */
export async function segmentsInUse(db: Db): Promise<boolean> {
  const sdb = segmentsDb(db);
  const saved = await sdb.selectFrom('saved_segments').select('id').limit(1).executeTakeFirst();
  if (saved) return true;
  const labelled = await sdb.selectFrom('customer_segments').select('customer_id').limit(1).executeTakeFirst();
  return labelled !== undefined;
}

/** `refreshSegments` for the customers that new orders or events touched. */
export function refreshSegmentsForCustomers(
  db: Db,
  customerIds: readonly number[],
  options: RefreshOptions,
): Promise<RefreshSummary> {
  return refreshSegments(db, { ...options, customerIds });
}

/** A saved segment. */
export interface SavedSegment {
  id: number;
  name: string;
  rule: Rule;
  createdAt: number;
  updatedAt: number;
}

function rowToSavedSegment(row: {
  id: number;
  name: string;
  rules: string;
  created_at: number;
  updated_at: number;
}): SavedSegment {
  return {
    id: Number(row.id),
    name: row.name,
    rule: parseRule(JSON.parse(row.rules)),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

/** Every saved segment, by name. */
export async function listSavedSegments(db: Db): Promise<SavedSegment[]> {
  const rows = await segmentsDb(db).selectFrom('saved_segments').selectAll().orderBy('name').execute();
  return rows.map(rowToSavedSegment);
}

/** A saved segment by name; throws `not_found`. */
export async function getSavedSegment(db: Db, name: string): Promise<SavedSegment> {
  const row = await segmentsDb(db).selectFrom('saved_segments').selectAll().where('name', '=', name).executeTakeFirst();
  if (!row) throw new ComebackError('not_found', `no saved segment named ${JSON.stringify(name)}`);
  return rowToSavedSegment(row);
}

/**
 * Saves (or replaces) a segment's rule under a name, then computes its members as of `asOf`. Saving
 * the same rule again changes nothing but `updated_at`.
 */
export async function saveSegment(
  db: Db,
  name: string,
  rule: Rule,
  { asOf, now }: { asOf: number; now: number },
): Promise<{ segment: SavedSegment; size: number }> {
  if (name.trim() === '')
    throw new ComebackError('bad_input', 'a segment needs a name', { location: { field: 'name' } });
  const sdb = segmentsDb(db);
  await sdb
    .insertInto('saved_segments')
    .values({ name, rules: JSON.stringify(rule), created_at: now, updated_at: now })
    .onConflict((oc) =>
      oc
        .column('name')
        .doUpdateSet({ rules: (eb) => eb.ref('excluded.rules'), updated_at: (eb) => eb.ref('excluded.updated_at') }),
    )
    .execute();
  const segment = await getSavedSegment(db, name);
  const { size } = await refreshMembership(db, segment, { asOf });
  return { segment, size };
}

/** Re-evaluates one saved segment (for `customerIds` only, when given) and records its size at `asOf`. */
export async function refreshMembership(
  db: Db,
  segment: SavedSegment,
  { asOf, customerIds }: { asOf: number; customerIds?: readonly number[] },
): Promise<{ size: number; joined: number; left: number }> {
  const sdb = segmentsDb(db);
  const matching = new Set(await selectByRule(db, segment.rule, { asOf, customerIds }));
  const current = new Set<number>();
  for (const ids of customerIds ? chunks(customerIds) : [undefined]) {
    let query = sdb.selectFrom('segment_members').select('customer_id').where('segment_id', '=', segment.id);
    if (ids) query = query.where('customer_id', 'in', ids.length > 0 ? ids : [-1]);
    for (const row of await query.execute()) current.add(Number(row.customer_id));
  }
  const joining = [...matching].filter((id) => !current.has(id));
  const leaving = [...current].filter((id) => !matching.has(id));
  for (const part of chunks(joining)) {
    await sdb
      .insertInto('segment_members')
      .values(part.map((id) => ({ segment_id: segment.id, customer_id: id, since: asOf })))
      .onConflict((oc) => oc.columns(['segment_id', 'customer_id']).doNothing())
      .execute();
  }
  for (const part of chunks(leaving)) {
    await sdb
      .deleteFrom('segment_members')
      .where('segment_id', '=', segment.id)
      .where('customer_id', 'in', part)
      .execute();
  }
  const row = await sdb
    .selectFrom('segment_members')
    .select(sql<number>`count(*)`.as('n'))
    .where('segment_id', '=', segment.id)
    .executeTakeFirstOrThrow();
  const size = Number(row.n);
  await sdb
    .insertInto('segment_sizes')
    .values({ segment_id: segment.id, as_of: asOf, size })
    .onConflict((oc) => oc.columns(['segment_id', 'as_of']).doUpdateSet({ size }))
    .execute();
  return { size, joined: joining.length, left: leaving.length };
}

/** The member ids of a saved segment, ascending. */
export async function segmentMemberIds(db: Db, segmentId: number): Promise<number[]> {
  const rows = await segmentsDb(db)
    .selectFrom('segment_members')
    .select('customer_id')
    .where('segment_id', '=', segmentId)
    .orderBy('customer_id')
    .execute();
  return rows.map((r) => Number(r.customer_id));
}

/** A saved segment's recorded sizes, oldest first. */
export async function segmentSizeHistory(db: Db, segmentId: number): Promise<Array<{ asOf: number; size: number }>> {
  const rows = await segmentsDb(db)
    .selectFrom('segment_sizes')
    .select(['as_of', 'size'])
    .where('segment_id', '=', segmentId)
    .orderBy('as_of')
    .execute();
  return rows.map((r) => ({ asOf: Number(r.as_of), size: Number(r.size) }));
}

/** The saved segments a customer belongs to, and their stored labels with reasons. */
export async function customerSegmentsOf(
  db: Db,
  customerId: number,
): Promise<{ labels: Array<{ kind: string; value: string; since: number; reason: string }>; segments: string[] }> {
  const sdb = segmentsDb(db);
  const labels = await sdb
    .selectFrom('customer_segments')
    .select(['kind', 'value', 'since', 'reason'])
    .where('customer_id', '=', customerId)
    .orderBy('kind')
    .execute();
  const segments = await sdb
    .selectFrom('segment_members as m')
    .innerJoin('saved_segments as s', 's.id', 'm.segment_id')
    .select('s.name')
    .where('m.customer_id', '=', customerId)
    .orderBy('s.name')
    .execute();
  return {
    labels: labels.map((l) => ({ kind: l.kind, value: l.value, since: Number(l.since), reason: l.reason })),
    segments: segments.map((s) => s.name),
  };
}
