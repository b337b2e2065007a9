import { sql } from 'kysely';
import { getSavedSegment, selectByRule } from '../segments/index.js';
import type { Db } from '../store/index.js';
import { addressFor, policyDecision, preferredChannel, transactionExceptionInForce } from './advance.queries.js';
import { policyFactsMany } from './facts.queries.js';
import type { Channel } from './flow.js';
import { assignArm } from './holdout.js';
import { messagingSettings } from './settings.js';
import { campaignDb } from './tables.js';

/**
 * What the campaign composer shows before the owner confirms: who is in the segment now, and how many
 * of them a marketing message could not reach on the chosen channels (no address, no consent, a
 * suppressed address), by the same facts and policy the worker applies when it queues the message.
 * Nothing is written; segment membership is computed from the rule as of `now`, as a send would.
 */

/** Why a member would not receive a campaign's message. */
export type AudienceExclusion = 'no_address' | 'no_consent' | 'suppressed';

/** The audience of a campaign before it is sent. */
export interface CampaignAudience {
  segment: string;
  asOf: number;
  /** Segment members at `asOf`. */
  members: number;
  /** Members held out as the control group (the hash of key and customer), when a key was given. */
  heldOut: number | null;
  /** Members a message could reach on one of the channels (held-out members included). */
  reachable: number;
  /** Members no channel reaches, by reason (the first channel that has an address decides the reason). */
  excluded: Record<AudienceExclusion, number>;
}

/**
 * Counts a saved segment's members as of `now` and how many a marketing message on `channels` would
 * skip; `key` and `holdoutShare` (default 0.1) count the held-out members as `sendCampaign` assigns them.
 * not_found when the segment is unknown.
 */
export async function campaignAudience(
  db: Db,
  input: { segment: string; channels?: readonly Channel[]; key?: string; holdoutShare?: number },
  now: number,
): Promise<CampaignAudience> {
  const channels = input.channels ?? ['email'];
  const segment = await getSavedSegment(db, input.segment);
  const members = await selectByRule(db, segment.rule, { asOf: now });
  const settings = await messagingSettings(db);
  const excluded: Record<AudienceExclusion, number> = { no_address: 0, no_consent: 0, suppressed: 0 };
  let reachable = 0;
  let heldOut = 0;
  // Read set-based, as the worker's advance pass reads them (a few statements per 1,000 members).
  const factsOf = await policyFactsMany(db, members, settings, now);
  for (const customerId of members) {
    if (input.key !== undefined && assignArm(input.key, customerId, input.holdoutShare ?? 0.1) === 'control') {
      heldOut += 1;
    }
    const facts = factsOf.get(customerId)!;
    // The Korean transaction exception, as the worker applies it when it queues (advance.queries.ts).
    const exception = transactionExceptionInForce(facts, settings, now);
    const chosen = preferredChannel(channels, { ...facts, engagement: new Map() }, 'marketing', exception);
    if (chosen !== undefined) {
      reachable += 1;
      continue;
    }
    const withAddress = channels.find((c) => addressFor(c, facts.customer) !== null);
    if (withAddress === undefined) {
      excluded.no_address += 1;
      continue;
    }
    const decision = policyDecision(withAddress, 'marketing', facts, settings, now);
    excluded[decision.type === 'skip' && decision.reason === 'suppressed' ? 'suppressed' : 'no_consent'] += 1;
  }
  return {
    segment: segment.name,
    asOf: now,
    members: members.length,
    heldOut: input.key === undefined ? null : heldOut,
    reachable,
    excluded,
  };
}

/** A campaign with what sending it did so far. */
export interface CampaignSends {
  key: string;
  /** Customers entered (treated and held out), 0 before it is sent. */
  entered: number;
  heldOut: number;
  /** When its messages go (the earliest entry instant), null before it is sent. */
  sendAt: number | null;
}

/** Per campaign: how many customers it entered, held out, and when it sends (from its journeys). */
export async function campaignSends(db: Db): Promise<CampaignSends[]> {
  const rows = await campaignDb(db)
    .selectFrom('flows')
    .leftJoin('journeys', (j) =>
      j.onRef('journeys.flow_id', '=', 'flows.id').on('journeys.occurrence', 'like', 'campaign:%'),
    )
    .select([
      'flows.key',
      sql<number>`count(journeys.id)`.as('entered'),
      sql<number>`sum(case when journeys.arm = 'control' then 1 else 0 end)`.as('held_out'),
      sql<number | null>`min(journeys.entered_at)`.as('send_at'),
    ])
    .where('flows.kind', '=', 'campaign')
    .groupBy('flows.key')
    .orderBy('flows.key')
    .execute();
  return rows.map((r) => ({
    key: r.key,
    entered: Number(r.entered),
    heldOut: Number(r.held_out ?? 0),
    sendAt: r.send_at === null ? null : Number(r.send_at),
  }));
}
