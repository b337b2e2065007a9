import { ComebackError } from '../errors.js';
import { type Db, REVENUE_STATUSES } from '../store/index.js';
import { campaignDb } from './tables.js';

/**
 * The staff outreach queue. A flow's `outreach` step (the win-back "poor service" branch: an apology
 * and a call) writes an outbox row of channel `outreach` for a treated entrant (the control arm's is
 * `held_out` and is no task). Nobody sends it: a person does, and marks it done here. The row stays
 * `pending` while the task is open (the worker never expires it) and becomes `sent` at the instant it
 * is done, so the flow report counts it like any send; `outreach_done` keeps who, when and the note.
 */

/** One task of the queue, with what staff need to call the customer. */
export interface OutreachTask {
  /** The outbox row's id: `comeback flows outreach done <id>`. */
  id: number;
  customer: { id: number; email: string | null; phone: string | null; name: string | null };
  /** Why: the step's note (`apologise and call`). */
  why: string;
  flow: { key: string; name: string };
  stepId: string | null;
  /** When the task was created (ms). */
  createdAt: number;
  /** The customer's paid orders and spend so far (net of nothing: order totals in minor units, per currency). */
  value: {
    orders: number;
    spent: Array<{ currency: string; minor: number }>;
    /** The latest stored prediction of the customer's value, if any (currency units, not minor). */
    clv: { value: number; currency: string } | null;
  };
  lastOrder: { at: number; totalMinor: number; currency: string } | null;
  done: { at: number; by: string; note: string | null } | null;
}

/** Which tasks to list. */
export type OutreachFilter = 'open' | 'done' | 'all';

/**
 * The outreach tasks of every flow, oldest first: open ones (not yet done), done ones, or all. Each
 * carries the customer, why, the flow and step, when, the customer's orders, spend, predicted value and
 * last order as of `asOf` (ms).
 */
export async function listOutreach(db: Db, filter: OutreachFilter, asOf: number): Promise<OutreachTask[]> {
  const cdb = campaignDb(db);
  let query = cdb
    .selectFrom('outbox as o')
    .innerJoin('customers as c', 'c.id', 'o.customer_id')
    .leftJoin('flows as f', 'f.id', 'o.flow_id')
    .leftJoin('outreach_done as d', 'd.outbox_id', 'o.id')
    .select([
      'o.id',
      'o.customer_id',
      'o.step_id',
      'o.payload',
      'o.created_at',
      'c.email',
      'c.phone',
      'c.first_name',
      'c.last_name',
      'f.key as flow_key',
      'f.name as flow_name',
      'd.done_at',
      'd.done_by',
      'd.note',
    ])
    .where('o.channel', '=', 'outreach')
    .where('o.status', 'in', ['pending', 'sent']);
  if (filter === 'open') query = query.where('d.outbox_id', 'is', null);
  if (filter === 'done') query = query.where('d.outbox_id', 'is not', null);
  const rows = await query.orderBy('o.created_at').orderBy('o.id').execute();
  const ids = [...new Set(rows.map((r) => Number(r.customer_id)))];
  const spentOf = new Map<number, Array<{ currency: string; minor: number; orders: number }>>();
  const lastOf = new Map<number, { at: number; totalMinor: number; currency: string }>();
  const clvOf = new Map<number, { value: number; currency: string; asOf: number }>();
  for (let i = 0; i < ids.length; i += 1000) {
    const part = ids.slice(i, i + 1000);
    const sums = await cdb
      .selectFrom('orders')
      .select([
        'customer_id',
        'currency',
        (eb) => eb.fn.sum<number>('total_minor').as('minor'),
        (eb) => eb.fn.countAll<number>().as('n'),
      ])
      .where('customer_id', 'in', part)
      .where('status', 'in', REVENUE_STATUSES)
      .where('placed_at', '<=', asOf)
      .groupBy(['customer_id', 'currency'])
      .orderBy('currency')
      .execute();
    for (const s of sums) {
      const list = spentOf.get(Number(s.customer_id)) ?? [];
      list.push({ currency: s.currency, minor: Number(s.minor), orders: Number(s.n) });
      spentOf.set(Number(s.customer_id), list);
    }
    const orders = await cdb
      .selectFrom('orders')
      .select(['id', 'customer_id', 'placed_at', 'total_minor', 'currency'])
      .where('customer_id', 'in', part)
      .where('status', 'in', REVENUE_STATUSES)
      .where('placed_at', '<=', asOf)
      .execute();
    for (const o of orders) {
      const seen = lastOf.get(Number(o.customer_id));
      if (!seen || Number(o.placed_at) > seen.at) {
        lastOf.set(Number(o.customer_id), {
          at: Number(o.placed_at),
          totalMinor: Number(o.total_minor),
          currency: o.currency,
        });
      }
    }
    const scores = await cdb
      .selectFrom('customer_scores')
      .select(['customer_id', 'clv', 'currency', 'as_of'])
      .where('customer_id', 'in', part)
      .where('as_of', '<=', asOf)
      .execute();
    for (const s of scores) {
      const seen = clvOf.get(Number(s.customer_id));
      if (s.clv != null && s.currency && (!seen || Number(s.as_of) > seen.asOf)) {
        clvOf.set(Number(s.customer_id), { value: Number(s.clv), currency: s.currency, asOf: Number(s.as_of) });
      }
    }
  }
  return rows.map((r) => {
    const customerId = Number(r.customer_id);
    const spent = spentOf.get(customerId) ?? [];
    const clv = clvOf.get(customerId);
    const name = [r.first_name, r.last_name].filter((p) => p).join(' ');
    return {
      id: Number(r.id),
      customer: { id: customerId, email: r.email, phone: r.phone, name: name || null },
      why: noteOf(r.payload),
      flow: { key: r.flow_key ?? '', name: r.flow_name ?? '' },
      stepId: r.step_id,
      createdAt: Number(r.created_at),
      value: {
        orders: spent.reduce((a, s) => a + s.orders, 0),
        spent: spent.map((s) => ({ currency: s.currency, minor: s.minor })),
        clv: clv ? { value: clv.value, currency: clv.currency } : null,
      },
      lastOrder: lastOf.get(customerId) ?? null,
      done: r.done_at != null ? { at: Number(r.done_at), by: r.done_by ?? '', note: r.note ?? null } : null,
    };
  });
}

function noteOf(payload: string | null): string {
  try {
    const parsed: unknown = JSON.parse(payload ?? '{}');
    return parsed && typeof parsed === 'object' && 'note' in parsed && typeof parsed.note === 'string'
      ? parsed.note
      : '';
  } catch {
    return '';
  }
}

/** What marking a task done did. */
export interface OutreachDone {
  id: number;
  at: number;
  by: string;
  note: string | null;
  /** The task was done already: nothing was written, and the first record is returned. */
  alreadyDone: boolean;
}

/**
 * Marks an outreach task done by `by` at `now` with an optional note: writes the record and makes the
 * outbox row `sent` at `now`, in one transaction. Idempotent: a task already done is left as it was and
 * its first record returned (`alreadyDone`). `not_found` (field `id`) when `id` is no outreach task
 * (not an outreach row, or a held-out or skipped one); `bad_input` naming `by` or `note` when empty or
 * longer than 200 / 2,000 characters.
 */
export async function completeOutreach(
  db: Db,
  id: number,
  options: { by: string; note?: string | null; now: number },
): Promise<OutreachDone> {
  const by = options.by.trim();
  const note = options.note?.trim() || null;
  if (by.length === 0 || by.length > 200) {
    throw new ComebackError('bad_input', 'who marks it done: 1 to 200 characters', { location: { field: 'by' } });
  }
  if (note !== null && note.length > 2000) {
    throw new ComebackError('bad_input', 'a note of at most 2,000 characters', { location: { field: 'note' } });
  }
  if (!Number.isSafeInteger(id) || id <= 0) {
    throw new ComebackError('bad_input', `"${id}" is not a task id (a positive whole number)`, {
      location: { field: 'id' },
    });
  }
  return campaignDb(db)
    .transaction()
    .execute(async (trx) => {
      const row = await trx
        .selectFrom('outbox')
        .select(['id', 'customer_id', 'status'])
        .where('id', '=', id)
        .where('channel', '=', 'outreach')
        .where('status', 'in', ['pending', 'sent'])
        .executeTakeFirst();
      if (!row) {
        throw new ComebackError('not_found', `no outreach task ${id} (comeback flows outreach lists them)`, {
          location: { field: 'id' },
        });
      }
      const inserted = await trx
        .insertInto('outreach_done')
        .values({ outbox_id: id, customer_id: row.customer_id, done_at: options.now, done_by: by, note })
        .onConflict((oc) => oc.column('outbox_id').doNothing())
        .returning('outbox_id')
        .executeTakeFirst();
      if (inserted) {
        await trx.updateTable('outbox').set({ status: 'sent', sent_at: options.now }).where('id', '=', id).execute();
        return { id, at: options.now, by, note, alreadyDone: false };
      }
      const first = await trx
        .selectFrom('outreach_done')
        .select(['done_at', 'done_by', 'note'])
        .where('outbox_id', '=', id)
        .executeTakeFirstOrThrow();
      return { id, at: Number(first.done_at), by: first.done_by, note: first.note, alreadyDone: true };
    });
}

/** A flow's outreach tasks for treated entrants: created, done, still open. */
export async function outreachCounts(db: Db, flowId: number): Promise<{ created: number; done: number; open: number }> {
  const rows = await campaignDb(db)
    .selectFrom('outbox as o')
    .leftJoin('outreach_done as d', 'd.outbox_id', 'o.id')
    .select(['o.id', 'd.outbox_id as done'])
    .where('o.flow_id', '=', flowId)
    .where('o.channel', '=', 'outreach')
    .where('o.status', 'in', ['pending', 'sent'])
    .execute();
  const done = rows.filter((r) => r.done !== null).length;
  return { created: rows.length, done, open: rows.length - done };
}
