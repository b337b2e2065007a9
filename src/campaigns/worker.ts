import type { Db } from '../store/index.js';
import { type AdvanceSummary, advanceJourneys } from './advance.queries.js';
import { advertiserNamed, reconfirmConsents } from './consent.queries.js';
import { type HelpdeskQueueSummary, queueHelpdeskAlerts } from './helpdesk.queries.js';
import { type DeliverySummary, deliverDue, recoverOutbox } from './outbox.queries.js';
import type { Sender } from './senders/sender.js';
import { messagingSettings } from './settings.js';
import { type EnrolSummary, enrolNewEntrants } from './triggers.queries.js';

/** What the worker is given: the clock and randomness come from the caller, as everywhere. */
export interface WorkerOptions {
  now: () => number;
  random: () => number;
  /** Signs unsubscribe, preference and tracking links. */
  linkSecret: string;
  /** Channel name → sender. A channel without one keeps its messages queued. */
  senders: Readonly<Record<string, Sender>>;
  batch?: number;
  concurrency?: number;
  leaseMs?: number;
}

/** What one tick did. */
export interface TickSummary {
  enrolled: EnrolSummary;
  advanced: AdvanceSummary;
  recovered: { uncertain: number; expired: number };
  delivered: DeliverySummary;
  /** Consent re-confirmation notices queued (Korean rules, 시행령 제62조의3), when the setting is on. */
  reconfirmed: number;
  /** Helpdesk alerts queued (detractors, low CSAT), when a helpdeskUrl is set; sent on the `helpdesk` channel. */
  helpdesk: HelpdeskQueueSummary;
}

/**
 * One pass of the worker: enter new trigger occurrences, move due journeys (writing outbox rows after
 * the policy check), queue the consent re-confirmations that fell due, mark lost leases uncertain and
 * late messages expired, then deliver what is due.
 * Every step is idempotent, so ticks may overlap across processes and a crash loses nothing.
 */
export async function workerTick(db: Db, options: WorkerOptions): Promise<TickSummary> {
  const enrolled = await enrolNewEntrants(db, options.now());
  const advanced = await advanceJourneys(db, {
    now: options.now(),
    linkSecret: options.linkSecret,
    limit: options.batch ?? 500,
  });
  const settings = await messagingSettings(db);
  // A store that has not named itself is not sent notices in its name (`consent reconfirm` says why).
  const reconfirmed =
    settings.korea.reconfirmInWorker && advertiserNamed(settings)
      ? (await reconfirmConsents(db, { now: options.now(), linkSecret: options.linkSecret })).length
      : 0;
  const helpdesk = await queueHelpdeskAlerts(db, { now: options.now() });
  const recovered = await recoverOutbox(db, options.now());
  const delivered = await deliverDue(db, options.senders, {
    now: options.now,
    random: options.random,
    limit: options.batch ?? 500,
    ...(options.leaseMs !== undefined ? { leaseMs: options.leaseMs } : {}),
    ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
  });
  return { enrolled, advanced, recovered, delivered, reconfirmed, helpdesk };
}
