import { ComebackError } from '../errors.js';
import { feedbackDb } from '../feedback/index.js';
// From writer.js, not ingest/index.js: the index would load the file formats (exceljs, officecrypto-tool) into
// every process that loads campaigns/.
import { recordConsent as recordImportedConsent } from '../ingest/writer.js';
import type { Db } from '../store/index.js';
import type { FlowDefinition } from './flow.js';
import { loadFlow, saveFlow } from './flows.queries.js';
import {
  type AdvertiserIdentity,
  isKoreanRecipient,
  NIGHT_CONSENT_CHANNEL,
  reconfirmDueAt,
  reconfirmNoticeText,
  smsType,
} from './korea.js';
import { signLink } from './links.js';
import { DEFAULT_MESSAGING, type MessagingSettings, messagingSettings } from './settings.js';
import { campaignDb, newOutboxRow } from './tables.js';

/**
 * The two-yearly re-confirmation of advertising consent (정보통신망법 시행령 제62조의3): every Korean
 * recipient whose consent (e-mail, SMS/KakaoTalk, night-time) reached 2, 4 … years is told, through the
 * outbox as an informational message, the sender, the date of consent and how to withdraw. One notice
 * per (customer, consent channel, due date): running the job again tells nobody twice.
 */

/** The system flow the notices' outbox rows belong to; its trigger is never evaluated, so it cannot be enabled. */
export const RECONFIRM_FLOW_KEY = 'consent-reconfirm';

const reconfirmFlow: FlowDefinition = {
  key: RECONFIRM_FLOW_KEY,
  name: '광고성 정보 수신동의 재확인 (2년마다)',
  description: '정보통신망법 시행령 제62조의3: comeback consent reconfirm and the worker write these notices.',
  trigger: { type: 'subscribed' },
  exitWhen: [],
  steps: [
    { id: 'notice', type: 'send', channels: ['sms', 'email'], template: RECONFIRM_FLOW_KEY, purpose: 'transactional' },
  ],
  holdoutShare: 0,
  attributionDays: 1,
  reentry: { type: 'never' },
};

/** The consent channels that carry advertising consent. */
const AD_CHANNELS = ['email', 'sms', NIGHT_CONSENT_CHANNEL] as const;

/** How a consent channel reads in the notice. */
const CHANNEL_LABEL: Record<string, string> = {
  email: '이메일',
  sms: '문자·카카오톡',
  [NIGHT_CONSENT_CHANNEL]: '야간(오후 9시~오전 8시)',
};

/** One customer told (or, without an address, not told) in a run. */
export interface ReconfirmNotice {
  customerId: number;
  channel: string;
  consentedAt: number;
  dueAt: number;
  /** Where the notice goes; null when the customer has no address on that channel. */
  to: string | null;
  outboxId: number | null;
  status: 'queued' | 'no_address';
}

const LINK_DAYS = 180;
const DAY = 86_400_000;

/**
 * Whether the store has said who it is: `korea.senderName`, or a `storeName` other than the default.
 * A Korean advertisement or consent notice must name its sender (정보통신망법 제50조 ④).
 */
export function advertiserNamed(settings: MessagingSettings): boolean {
  return (
    settings.korea.senderName.trim() !== '' || ![DEFAULT_MESSAGING.storeName, ''].includes(settings.storeName.trim())
  );
}

/**
 * Writes the notices due at `now` and returns them (whom it told). E-mail consent is confirmed by
 * e-mail; SMS/KakaoTalk and night consent by SMS. Idempotent by (customer, channel, due date).
 * Errors: `bad_input` (`korea.senderName`) when notices are due and the store has not named itself.
 */
export async function reconfirmConsents(
  db: Db,
  options: { now: number; linkSecret: string },
): Promise<ReconfirmNotice[]> {
  const { now } = options;
  const cdb = campaignDb(db);
  const settings = await messagingSettings(db);
  // Two years are at least 730 days: rows younger than that cannot be due.
  const candidates = await cdb
    .selectFrom('customer_consents')
    .innerJoin('customers', 'customers.id', 'customer_consents.customer_id')
    .select([
      'customer_consents.customer_id',
      'customer_consents.channel',
      'customer_consents.updated_at',
      'customers.email',
      'customers.phone',
      'customers.country',
    ])
    .where('customer_consents.granted', '=', 1)
    .where('customer_consents.channel', 'in', [...AD_CHANNELS])
    .where('customer_consents.updated_at', '<=', now - 729 * DAY)
    .orderBy('customer_consents.customer_id')
    .orderBy('customer_consents.channel')
    .execute();
  const due = candidates
    .filter((c) => isKoreanRecipient(c))
    .map((c) => ({ ...c, dueAt: reconfirmDueAt(c.updated_at, now) }))
    .filter((c): c is typeof c & { dueAt: number } => c.dueAt !== undefined);
  if (due.length === 0) return [];
  const done = new Set(
    (
      await cdb
        .selectFrom('consent_reconfirmations')
        .select(['customer_id', 'channel', 'due_at'])
        .where('customer_id', 'in', [...new Set(due.map((d) => d.customer_id))])
        .execute()
    ).map((r) => `${r.customer_id}|${r.channel}|${r.due_at}`),
  );
  const todo = due.filter((d) => !done.has(`${d.customer_id}|${d.channel}|${d.dueAt}`));
  if (todo.length === 0) return [];
  if (!advertiserNamed(settings)) {
    throw new ComebackError(
      'bad_input',
      'korea.senderName: the notice must name the store; set it (or storeName) with `comeback flows settings` first',
      { location: { field: 'korea.senderName' } },
    );
  }
  const flow = await loadFlow(db, RECONFIRM_FLOW_KEY).catch(async () => (await saveFlow(db, reconfirmFlow, now)).flow);
  const told: ReconfirmNotice[] = [];
  for (const d of todo) {
    const channel = d.channel === 'email' ? 'email' : 'sms';
    const to = channel === 'email' ? d.email : d.phone;
    const notice = await cdb.transaction().execute(async (trx): Promise<ReconfirmNotice | undefined> => {
      const claimed = await trx
        .insertInto('consent_reconfirmations')
        .values({
          customer_id: d.customer_id,
          channel: d.channel,
          consented_at: d.updated_at,
          due_at: d.dueAt,
          notified_at: now,
          outbox_id: null,
          status: to === null ? 'no_address' : 'queued',
        })
        .onConflict((oc) => oc.columns(['customer_id', 'channel', 'due_at']).doNothing())
        .executeTakeFirst();
      if (Number(claimed.numInsertedOrUpdatedRows ?? 0) === 0) return undefined;
      if (to === null) {
        return {
          customerId: d.customer_id,
          channel: d.channel,
          consentedAt: d.updated_at,
          dueAt: d.dueAt,
          to,
          outboxId: null,
          status: 'no_address',
        };
      }
      const journey = await trx
        .insertInto('journeys')
        .values({
          flow_id: flow.id,
          version: flow.version,
          customer_id: d.customer_id,
          occurrence: `reconfirm:${d.channel}:${d.dueAt}`,
          arm: 'treatment',
          entered_at: now,
          step_id: 'notice',
          step_started_at: now,
          wake_at: null,
          status: 'completed',
          exit_reason: null,
          updated_at: now,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      const row = await trx
        .insertInto('outbox')
        .values(
          newOutboxRow({
            journey_id: journey.id,
            flow_id: flow.id,
            step_id: 'notice',
            customer_id: d.customer_id,
            arm: 'treatment',
            channel,
            purpose: 'transactional',
            template_key: RECONFIRM_FLOW_KEY,
            to_address: to,
            status: 'pending',
            reason: 'consent_reconfirm',
            payload: null,
            send_after: now,
            send_by: now + 7 * DAY,
            created_at: now,
          }),
        )
        .returning('id')
        .executeTakeFirstOrThrow();
      const link = `${settings.publicUrl.replace(/\/$/, '')}/m/u/${signLink(options.linkSecret, {
        c: d.customer_id,
        p: 'unsubscribe',
        m: row.id,
        e: now + LINK_DAYS * DAY,
      })}`;
      const who: AdvertiserIdentity = {
        senderName: settings.korea.senderName || settings.storeName,
        contact: settings.korea.contact || null,
        optOutNumber: settings.korea.optOutNumber || null,
        optOutLink: link,
      };
      const { subject, text } = reconfirmNoticeText(who, d.updated_at, CHANNEL_LABEL[d.channel] ?? d.channel);
      const type = smsType(text);
      const payload =
        channel === 'email'
          ? { from: { name: settings.fromName, address: settings.fromEmail }, subject, text }
          : { from: settings.smsSender, text, ...(type !== 'too_long' ? { type } : {}) };
      await trx
        .updateTable('outbox')
        .set({ payload: JSON.stringify(payload) })
        .where('id', '=', row.id)
        .execute();
      await trx
        .updateTable('consent_reconfirmations')
        .set({ outbox_id: row.id })
        .where('customer_id', '=', d.customer_id)
        .where('channel', '=', d.channel)
        .where('due_at', '=', d.dueAt)
        .execute();
      return {
        customerId: d.customer_id,
        channel: d.channel,
        consentedAt: d.updated_at,
        dueAt: d.dueAt,
        to,
        outboxId: row.id,
        status: 'queued',
      };
    });
    if (notice) told.push(notice);
  }
  return told;
}

/** Consent channels a store can record by hand: e-mail, SMS/KakaoTalk and the separate night consent. */
export const CONSENT_CHANNELS = ['email', 'sms', NIGHT_CONSENT_CHANNEL] as const;

/**
 * Records a consent change for one customer at `now` (source `source`); not_found when there is no such
 * customer. Returns whether anything changed (a repeat answers false). A change is also appended to the
 * consent ledger (`consent_changes`: subject the channel, with its source), as the preference centre does.
 *
 * Not the importer's rule, though it writes through the importer's `recordConsent`: an import replays
 * dated statements (newest wins, a repeat with a later date moves `updated_at`), while this is a change
 * made now, so it overrides whatever date is stored, and a repeat writes nothing, so the consent date
 * the two-yearly re-confirmation counts from stays the date consent was first given.
 */
export async function recordConsent(
  db: Db,
  change: { customerId: number; channel: (typeof CONSENT_CHANNELS)[number]; granted: boolean; source: string },
  now: number,
): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const customer = await trx
      .selectFrom('customers')
      .select('id')
      .where('id', '=', change.customerId)
      .executeTakeFirst();
    if (!customer) throw new ComebackError('not_found', `no customer ${change.customerId}`);
    const current = await trx
      .selectFrom('customer_consents')
      .select('granted')
      .where('customer_id', '=', change.customerId)
      .where('channel', '=', change.channel)
      .executeTakeFirst();
    if (current?.granted === (change.granted ? 1 : 0)) return false;
    await recordImportedConsent(
      trx,
      change.customerId,
      { channel: change.channel, granted: change.granted, at: now, source: change.source },
      { overrideNewer: true },
    );
    await feedbackDb(trx)
      .insertInto('consent_changes')
      .values({
        customer_id: change.customerId,
        subject: change.channel,
        granted: change.granted ? 1 : 0,
        source: change.source,
        detail: null,
        occurred_at: now,
      })
      .execute();
    return true;
  });
}
