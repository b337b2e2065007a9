import { sql } from 'kysely';
import { ComebackError } from '../errors.js';
import type { Db } from '../store/index.js';
import {
  type EventInput,
  type PreparedEvents,
  prepareEvents,
  type RecordEventsOptions,
  type RecordEventsResult,
  writeEventsTogether,
} from './events.js';
import { batchTransaction } from './import.js';

export interface GroupCommitOptions {
  /** A batch commits once it holds this many calls (default 1,000). */
  maxEvents?: number;
  /** …or this long after its first request arrived, whichever comes first (default 2 ms). */
  maxWaitMs?: number;
}

interface Waiting {
  prepared: PreparedEvents;
  size: number;
  resolve: (result: RecordEventsResult) => void;
  reject: (error: unknown) => void;
  /** Set when this request's own calls were refused (a conflict): its savepoint was rolled back. */
  refused?: unknown;
}

/**
 * Group commit for event ingestion: concurrent requests join a shared, short-lived batch that commits
 * in one transaction, and each request is answered only after that commit, so a success still means
 * stored. The batch's requests are first written as one (`writeEventsTogether`: one duplicate check,
 * one customer lookup per id, one insert), under a savepoint; when a request is refused for its own
 * content (a `ComebackError`, such as an e-mail conflict) that savepoint is rolled back and each request
 * runs under a savepoint of its own, so that the refused one is rolled back alone and answered with its
 * error. Any other failure (the database, a bug) fails the whole batch, and every request waiting on it
 * is answered with that error. One batch commits at a time; the next one gathers meanwhile, so under
 * load a batch holds what arrived during the previous commit.
 */
export class EventGroupCommit {
  private queue: Waiting[] = [];
  private queued = 0;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly maxEvents: number;
  private readonly maxWaitMs: number;

  constructor(
    private readonly db: Db,
    { maxEvents = 1000, maxWaitMs = 2 }: GroupCommitOptions = {},
  ) {
    this.maxEvents = maxEvents;
    this.maxWaitMs = maxWaitMs;
  }

  /**
   * Checks the calls now (a malformed one throws `bad_input` at once, as `recordEvents` does) and
   * resolves with their result once the batch they joined has committed.
   */
  record(events: readonly EventInput[], options: RecordEventsOptions): Promise<RecordEventsResult> {
    const prepared = prepareEvents(events, options);
    if (prepared.calls.length === 0) return Promise.resolve(prepared.result);
    return new Promise((resolve, reject) => {
      this.queue.push({ prepared, size: prepared.calls.length, resolve, reject });
      this.queued += prepared.calls.length;
      this.schedule();
    });
  }

  /** Resolves when every request received so far has been answered. */
  async drain(): Promise<void> {
    while (this.running || this.queue.length > 0) {
      if (this.timer) {
        clearTimeout(this.timer);
        this.timer = undefined;
      }
      if (!this.running) this.start();
      await this.running;
    }
  }

  private schedule(): void {
    if (this.running) return; // the batch in flight starts the next one when it ends
    if (this.queued >= this.maxEvents) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      this.start();
    } else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        if (!this.running) this.start();
      }, this.maxWaitMs);
    }
  }

  private start(): void {
    const batch: Waiting[] = [];
    let size = 0;
    while (this.queue.length > 0 && (batch.length === 0 || size + (this.queue[0]?.size ?? 0) <= this.maxEvents)) {
      const next = this.queue.shift() as Waiting;
      batch.push(next);
      size += next.size;
    }
    this.queued -= size;
    this.running = this.commit(batch).finally(() => {
      this.running = undefined;
      if (this.queue.length > 0) this.schedule();
    });
  }

  private async commit(batch: Waiting[]): Promise<void> {
    const byKey = new Map<string, Waiting[]>();
    for (const waiting of batch) {
      const same = byKey.get(waiting.prepared.key);
      if (same) same.push(waiting);
      else byKey.set(waiting.prepared.key, [waiting]);
    }
    try {
      await batchTransaction(this.db, async (trx) => {
        for (const requests of byKey.values()) {
          if (requests.length > 1 && (await together(trx, requests))) continue;
          for (const waiting of requests) {
            await sql`savepoint group_commit`.execute(trx);
            try {
              await waiting.prepared.write(trx);
              await sql`release savepoint group_commit`.execute(trx);
            } catch (error) {
              if (!refusal(error)) throw error;
              await sql`rollback to savepoint group_commit`.execute(trx);
              await sql`release savepoint group_commit`.execute(trx);
              waiting.refused = error;
            }
          }
        }
      });
    } catch (error) {
      for (const waiting of batch) waiting.reject(error);
      return;
    }
    for (const waiting of batch) {
      if (waiting.refused !== undefined) waiting.reject(waiting.refused);
      else waiting.resolve(waiting.prepared.result);
    }
  }
}

/** A request refused for its own content, answered with its error while the rest of its batch commits. */
function refusal(error: unknown): boolean {
  return error instanceof ComebackError && error.kind !== 'busy' && error.kind !== 'internal';
}

/**
 * Writes the requests as one under a savepoint: true when all were stored, false (the savepoint rolled
 * back, nothing written) when one of them was refused for its content.
 */
async function together(trx: Db, requests: readonly Waiting[]): Promise<boolean> {
  await sql`savepoint group_commit_all`.execute(trx);
  try {
    await writeEventsTogether(
      trx,
      requests.map((waiting) => waiting.prepared),
    );
  } catch (error) {
    if (!refusal(error)) throw error;
    await sql`rollback to savepoint group_commit_all`.execute(trx);
    await sql`release savepoint group_commit_all`.execute(trx);
    return false;
  }
  await sql`release savepoint group_commit_all`.execute(trx);
  return true;
}
