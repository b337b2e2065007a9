import { ComebackError } from '../errors.js';
import { type PreferenceTopic, TOPICS } from '../feedback/tables.js';
import { getSavedSegment, refreshMembership, segmentMemberIds } from '../segments/index.js';
import type { Db } from '../store/index.js';
import { type Channel, type FlowDefinition, validateFlow } from './flow.js';
import { latestTemplate, loadFlow, type SavedFlow, saveFlow } from './flows.queries.js';
import { assignArm } from './holdout.js';
import { campaignDb } from './tables.js';

/**
 * One-off campaigns: a message to a saved segment, sent now or at a given instant, with an optional A/B
 * split of the template (subject or content). A campaign is stored as a flow of kind `campaign` with a
 * `campaign` trigger, so it goes through the same journeys, policy check (consent, suppression, the
 * shared cap, quiet hours), hold-out, outbox and report as flows. The split branches on `ab.draw`, a
 * stable hash of (campaign, customer) apart from the hold-out's.
 */

/** What a campaign is made of. */
export interface CampaignInput {
  key: string;
  name?: string;
  /** The saved segment whose members receive it (`comeback segments save`). */
  segment: string;
  /** The template, or two for an A/B split (variant A first). */
  templates: readonly string[];
  /** Share of the treated entrants who get variant A (default 0.5); only with two templates. */
  split?: number;
  /** Channels to choose from, the customer's preferred first (default e-mail). */
  channels?: readonly Channel[];
  /**
   * The preference-centre topic (one of `TOPICS`): customers who turned it off are skipped
   * (`topic_opted_out`). Without one, only the channel's consent governs.
   */
  topic?: string;
  holdoutShare?: number;
  attributionDays?: number;
}

/** The flow document of a campaign; `bad_input` naming the field when it cannot be one. */
export function campaignDefinition(input: CampaignInput): FlowDefinition {
  const { templates, split = 0.5, channels = ['email'], topic } = input;
  if (topic !== undefined && !(TOPICS as readonly string[]).includes(topic)) {
    throw new ComebackError('bad_input', `topic ${topic}: one of ${TOPICS.join(', ')}`, {
      location: { field: 'topic' },
    });
  }
  if (templates.length < 1 || templates.length > 2) {
    throw new ComebackError('bad_input', 'a campaign has one template, or two for an A/B split', {
      location: { field: 'templates' },
    });
  }
  if (!(split > 0 && split < 1)) {
    throw new ComebackError('bad_input', `split ${split}: a share strictly between 0 and 1`, {
      location: { field: 'split' },
    });
  }
  const send = (id: string, template: string) => ({
    id,
    type: 'send',
    channels,
    template,
    purpose: 'marketing',
    ...(topic !== undefined ? { topic: topic as PreferenceTopic } : {}),
  });
  const steps =
    templates.length === 1
      ? [send('send', templates[0]!)]
      : [
          {
            id: 'split',
            type: 'branch',
            cases: [{ when: { fact: 'ab.draw', lt: split }, next: 'variant-a' }],
            default: 'variant-b',
          },
          send('variant-a', templates[0]!),
          send('variant-b', templates[1]!),
        ];
  const result = validateFlow({
    key: input.key,
    name: input.name ?? input.key,
    trigger: { type: 'campaign', segment: input.segment },
    // No exit: a customer without consent is recorded as skipped (no_consent), as every skip is.
    exitWhen: [],
    steps,
    ...(input.holdoutShare !== undefined ? { holdoutShare: input.holdoutShare } : {}),
    ...(input.attributionDays !== undefined ? { attributionDays: input.attributionDays } : {}),
  });
  if (!result.ok) {
    const p = result.problems[0]!;
    throw new ComebackError('bad_input', `${p.path}: ${p.message}`, { location: { field: p.path } });
  }
  return result.flow;
}

/**
 * Creates a campaign, or saves a changed one as a new version (customers already sent to keep theirs).
 * The segment and templates must exist (`not_found`); a flow of the same key is `bad_input`.
 */
export async function createCampaign(
  db: Db,
  input: CampaignInput,
  now: number,
): Promise<{ campaign: SavedFlow; created: boolean }> {
  const definition = campaignDefinition(input);
  await getSavedSegment(db, input.segment);
  for (const template of input.templates) await latestTemplate(db, template);
  const existing = await campaignDb(db)
    .selectFrom('flows')
    .select('kind')
    .where('key', '=', input.key)
    .executeTakeFirst();
  if (existing && existing.kind !== 'campaign') {
    throw new ComebackError('bad_input', `"${input.key}" is a flow, not a campaign: choose another key`, {
      location: { field: 'key' },
    });
  }
  const saved = await saveFlow(db, definition, now, 'campaign');
  return { campaign: saved.flow, created: saved.created };
}

/** What sending a campaign did. */
export interface CampaignSendSummary {
  key: string;
  /** When the messages go: the worker sends them from this instant (quiet hours may defer them further). */
  at: number;
  /** Segment members as of the send. */
  audience: number;
  /** New entrants (0 when the campaign was already sent to everyone in the audience). */
  entered: number;
  treatment: number;
  control: number;
}

/**
 * Sends a campaign: refreshes the segment's members as of `now`, and enters each of them (once per
 * campaign: the journey key is `campaign:<key>`) under the current version, at `at` (now or later; the
 * worker moves them on when due). The hold-out arm is the hash of (campaign, customer), as for flows.
 */
export async function sendCampaign(
  db: Db,
  key: string,
  { now, at = now }: { now: number; at?: number },
): Promise<CampaignSendSummary> {
  const campaign = await loadFlow(db, key);
  const trigger = campaign.definition.trigger;
  if (campaign.kind !== 'campaign' || trigger.type !== 'campaign') {
    throw new ComebackError('bad_input', `"${key}" is a flow: flows enter customers by their trigger`, {
      location: { field: 'key' },
    });
  }
  if (at < now) {
    throw new ComebackError('bad_input', `the send time ${new Date(at).toISOString()} is in the past`, {
      location: { field: 'at' },
    });
  }
  const definition = campaign.definition;
  const segment = await getSavedSegment(db, trigger.segment);
  await refreshMembership(db, segment, { asOf: now });
  const members = await segmentMemberIds(db, segment.id);
  const cdb = campaignDb(db);
  const summary: CampaignSendSummary = { key, at, audience: members.length, entered: 0, treatment: 0, control: 0 };
  for (let i = 0; i < members.length; i += 500) {
    const rows = members.slice(i, i + 500).map((customerId) => ({
      flow_id: campaign.id,
      version: campaign.version,
      customer_id: customerId,
      occurrence: `campaign:${key}`,
      arm: assignArm(key, customerId, definition.holdoutShare),
      entered_at: at,
      step_id: null,
      step_started_at: at,
      wake_at: at,
      status: 'active',
      exit_reason: null,
      updated_at: now,
    }));
    const inserted = await cdb
      .insertInto('journeys')
      .values(rows)
      .onConflict((oc) => oc.columns(['flow_id', 'customer_id', 'occurrence']).doNothing())
      .returning(['arm'])
      .execute();
    for (const r of inserted) {
      summary.entered += 1;
      if (r.arm === 'control') summary.control += 1;
      else summary.treatment += 1;
    }
  }
  await cdb.updateTable('flows').set({ enabled: 1, updated_at: now }).where('id', '=', campaign.id).execute();
  return summary;
}
