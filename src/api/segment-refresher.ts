import { refreshSegmentsForCustomers } from '../segments/index.js';
import type { Db } from '../store/index.js';
import { storeDefaultAsOf } from './store-zone.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The app's segment refresher; tests flush it to see membership follow an order at once. */
    segments: SegmentRefresher;
  }
}

/**
 * Keeps segment membership current as orders and events arrive: routes mark the customers they
 * touched, and a moment later (so that a burst of events costs one refresh, not one per request)
 * their RFM group, persona, lifecycle stage and saved-segment memberships are recomputed. A refresh
 * that fails is logged and retried with the next one; it never fails the request that caused it.
 */
export class SegmentRefresher {
  private readonly pending = new Set<number>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Db,
    private readonly now: () => number,
    private readonly delayMs = 1000,
    private readonly onError: (error: unknown) => void = () => {},
  ) {}

  /** Marks customers whose orders or events changed. */
  touch(customerIds: Iterable<number | null | undefined>): void {
    for (const id of customerIds) if (typeof id === 'number') this.pending.add(id);
    if (this.pending.size > 0 && !this.timer) {
      this.timer = setTimeout(() => void this.flush(), this.delayMs);
      this.timer.unref();
    }
  }

  /** Refreshes the marked customers now; resolves when every refresh started so far has finished. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.size > 0) {
      const ids = [...this.pending];
      this.pending.clear();
      this.running = this.running.then(() =>
        this.refresh(ids).catch((error: unknown) => {
          for (const id of ids) this.pending.add(id);
          this.onError(error);
        }),
      );
    }
    return this.running;
  }

  // The same as-of as the commands and the dashboard: the day after the latest sale, else the clock.
  private async refresh(ids: number[]): Promise<void> {
    const asOf = await storeDefaultAsOf(this.db, this.now());
    await refreshSegmentsForCustomers(this.db, ids, { asOf });
  }
}
