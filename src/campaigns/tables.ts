import { randomUUID } from 'node:crypto';
import type { Generated, Insertable, Kysely } from 'kysely';
import type { Database, Db } from '../store/index.js';

/** The tables of migration 020_campaigns (type aliases, as `withTables` needs). */
export type CampaignTables = {
  flows: FlowTable;
  flow_versions: FlowVersionTable;
  message_templates: MessageTemplateTable;
  journeys: JourneyTable;
  outbox: OutboxTable;
  suppressions: SuppressionTable;
  message_events: MessageEventTable;
  coupons: CouponTable;
  messaging_settings: { name: string; value: string };
  /** Migration 024: the two-yearly consent re-confirmation notices (Korean rules). */
  consent_reconfirmations: {
    customer_id: number;
    channel: string;
    consented_at: number;
    due_at: number;
    notified_at: number;
    outbox_id: number | null;
    status: string;
  };
  /** Migration 030: outreach tasks marked done (one per outbox row of channel `outreach`). */
  outreach_done: { outbox_id: number; customer_id: number; done_at: number; done_by: string; note: string | null };
  /** Read here, written by loyalty/ (migration 002). */
  loyalty_tier_history: {
    id: number;
    customer_id: number;
    from_tier: string | null;
    to_tier: string;
    changed_at: number;
  };
  /** Read here, written by segments/ (migration 004). */
  customer_segments: { customer_id: number; kind: string; value: string; since: number; reason: string };
};

/** A Kysely instance (or transaction) that knows the campaign tables. */
export type CampaignDb = Kysely<Database & CampaignTables>;

/** Widens a store handle (or transaction) with the campaign tables. */
export function campaignDb(db: Db): CampaignDb {
  return db.withTables<CampaignTables>();
}

export type FlowTable = {
  id: Generated<number>;
  key: string;
  name: string;
  kind: 'flow' | 'campaign';
  enabled: number;
  current_version: number;
  event_cursor: number;
  order_cursor: number;
  /** Migration 026: the last loyalty tier change (loyalty_tier_history.id) the tier_reached scan read. */
  tier_cursor: Generated<number>;
  /** Migration 030: when the points_expiring trigger last replayed the ledger (ms; at most once a UTC day). */
  points_checked_at: Generated<number>;
  created_at: number;
  updated_at: number;
};

export type FlowVersionTable = { flow_id: number; version: number; definition: string; created_at: number };

export type MessageTemplateTable = {
  key: string;
  version: number;
  channel: 'email' | 'sms' | 'kakao' | 'webhook';
  purpose: 'marketing' | 'transactional';
  subject: string | null;
  body: string;
  compiled_html: string | null;
  text_body: string | null;
  created_at: number;
};

export type JourneyTable = {
  id: Generated<number>;
  flow_id: number;
  version: number;
  customer_id: number;
  occurrence: string;
  arm: string;
  entered_at: number;
  step_id: string | null;
  step_started_at: number;
  wake_at: number | null;
  status: string;
  exit_reason: string | null;
  updated_at: number;
  /** What the occurrence carried, JSON (migration 029); null when the occurrence key says all. */
  trigger_data?: string | null;
};

/** Where an outbox row stands. `held_out` and `skipped` rows never leave; they record the decision. */
/**
 * `claimed`: held by a worker, not yet handed to a provider (back to `pending` when its lease runs out);
 * `sending`: being handed to the provider (`uncertain` when its lease runs out: the provider may have it).
 */
export type OutboxStatus =
  | 'pending'
  | 'claimed'
  | 'sending'
  | 'sent'
  | 'failed'
  | 'uncertain'
  | 'expired'
  | 'skipped'
  | 'held_out';

export type OutboxTable = {
  id: Generated<number>;
  journey_id: number;
  flow_id: number;
  step_id: string;
  customer_id: number;
  arm: string;
  channel: string;
  purpose: string;
  /** Migration 025: the preference-centre topic of a marketing message (null: none, or transactional). */
  topic: Generated<string | null>;
  template_key: string;
  template_version: number | null;
  to_address: string | null;
  status: OutboxStatus;
  reason: string | null;
  payload: string | null;
  coupon_code: string | null;
  attempts: number;
  claim_token: string | null;
  lease_until: number | null;
  send_after: number;
  send_by: number;
  message_id: string;
  provider_id: string | null;
  last_error: string | null;
  created_at: number;
  sent_at: number | null;
};

/** What a new outbox row must say; the rest has the defaults of `newOutboxRow`. */
export type NewOutboxRow = Pick<
  Insertable<OutboxTable>,
  | 'journey_id'
  | 'flow_id'
  | 'step_id'
  | 'customer_id'
  | 'arm'
  | 'channel'
  | 'purpose'
  | 'template_key'
  | 'to_address'
  | 'status'
  | 'reason'
  | 'send_after'
  | 'send_by'
  | 'created_at'
> &
  Partial<Insertable<OutboxTable>>;

/**
 * An outbox row to insert: `row` over the state of a message nobody has claimed, sent or rendered yet
 * (no template version, payload or coupon, 0 attempts, no claim or lease, no outcome) with a fresh
 * Message-ID, which a resend keeps.
 */
export function newOutboxRow(row: NewOutboxRow): Insertable<OutboxTable> {
  return {
    template_version: null,
    payload: null,
    coupon_code: null,
    attempts: 0,
    claim_token: null,
    lease_until: null,
    message_id: `<${randomUUID()}@comeback>`,
    provider_id: null,
    last_error: null,
    sent_at: null,
    ...row,
  };
}

export type SuppressionTable = { channel: string; address: string; reason: string; source: string; created_at: number };

export type MessageEventTable = {
  id: Generated<number>;
  outbox_id: number;
  customer_id: number;
  kind: string;
  detail: string | null;
  occurred_at: number;
};

export type CouponTable = {
  code: string;
  customer_id: number;
  outbox_id: number;
  offer: string;
  currency: string | null;
  max_discount_minor: number | null;
  expires_at: number;
  used_order_id: number | null;
  created_at: number;
};
