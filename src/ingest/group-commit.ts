import { sql } from 'kysely';
import { ComebackError } from '../errors.js';
import type { Db } from '../store/index.js';
import { type EventInput, prepareEvents, type RecordEventsOptions, type RecordEventsResult } from './events.js';
import { batchTransaction } from './import.js';

export interface GroupCommitOptions {
  /** A batch commits once it holds this many calls (default 1,000). */
  maxEvents?: number;
  /** …or this long after its first request arrived, whichever comes first (default 2 ms). */
  maxWaitMs?: number;
}

interface Waiting {
  write: (trx: Db) => Promise<void>;
  result: RecordEventsResult;
  size: number;
  resolve: (result: RecordEventsResult) => void;
  reject: (error: unknown) => void;
  /** Set when this request's own calls were refused (a conflict): its savepoint was rolled back. */
  refused?: unknown;
}

/**
 * Group commit for event ingestion: concurrent requests join a shared, short-lived batch that commits
 * in one transaction, and each request is answered only after that commit, so a success still means
 * stored. Each request's calls run under a savepoint of their own: a request refused for its own
 * content (a `ComebackError`, such as an e-mail conflict) is rolled back alone and answered with its
 * error; any other failure (the database, a bug) fails the whole batch, and every request waiting on it
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
      this.queue.push({ write: prepared.write, result: prepared.result, size: prepared.calls.length, resolve, reject });
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
    try {
      await batchTransaction(this.db, async (trx) => {
        for (const waiting of batch) {
          await sql`savepoint group_commit`.execute(trx);
          try {
            await waiting.write(trx);
            await sql`release savepoint group_commit`.execute(trx);
          } catch (error) {
            if (!(error instanceof ComebackError) || error.kind === 'busy' || error.kind === 'internal') throw error;
            await sql`rollback to savepoint group_commit`.execute(trx);
            await sql`release savepoint group_commit`.execute(trx);
            waiting.refused = error;
          }
        }
      });
    } catch (error) {
      for (const waiting of batch) waiting.reject(error);
      return;
    }
    for (const waiting of batch) {
      if (waiting.refused !== undefined) waiting.reject(waiting.refused);
      else waiting.resolve(waiting.result);
    }
  }
}
