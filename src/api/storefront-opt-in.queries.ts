import { type FlowDefinition, loadFlow, messagingSettings, saveFlow } from '../campaigns/index.js';
import { campaignDb, newOutboxRow } from '../campaigns/tables.js';
import { feedbackDb } from '../feedback/index.js';
import { customerByEmail, recordConsent, recordEvents } from '../ingest/index.js';
import { signToken, type TokenRefusal, verifyToken } from '../shared/signed-token.js';
import { type Db, immediateTransaction } from '../store/index.js';
import { customerOfEmail, customerOfUser } from './storefront.queries.js';

/**
 * Double opt-in of the storefront's e-mail capture (as Klaviyo's and Mailchimp's forms do): the form
 * records a request and queues a transactional e-mail with a signed, expiring, one-use link; opening the
 * link shows a button, and pressing it grants e-mail consent (source `storefront`, the ledger noting the
 * double opt-in with both times), sends the `Signed Up` event a welcome flow triggers on, once.
 */

/** Days a confirmation link stays valid. */
export const OPT_IN_LINK_DAYS = 7;
/** Per address: no second e-mail within 10 minutes, at most 3 in 24 hours. */
export const OPT_IN_LIMIT = { gapMs: 10 * 60_000, perDay: 3 } as const;
/** The system flow the confirmation e-mails' outbox rows belong to; its trigger is never evaluated. */
export const OPT_IN_FLOW_KEY = 'storefront-opt-in';

const DAY = 86_400_000;
const DOMAIN = 'opt-in.';

const optInFlow: FlowDefinition = {
  key: OPT_IN_FLOW_KEY,
  name: 'Storefront double opt-in confirmation',
  description: 'The e-mail capture writes these confirmation e-mails (transactional); the flow is never enabled.',
  trigger: { type: 'subscribed' },
  exitWhen: [],
  steps: [{ id: 'confirm', type: 'send', channels: ['email'], template: OPT_IN_FLOW_KEY, purpose: 'transactional' }],
  holdoutShare: 0,
  attributionDays: 1,
  reentry: { type: 'never' },
};

type OptInTables = {
  storefront_opt_ins: {
    id: number;
    email: string;
    customer_id: number;
    user_id: string | null;
    locale: string;
    message_id: string | null;
    requested_at: number;
    expires_at: number;
    confirmed_at: number | null;
    outbox_id: number | null;
  };
};

interface OptInClaims {
  p: 'opt_in';
  /** The `storefront_opt_ins` id. */
  r: number;
  /** The customer the address belongs to. */
  c: number;
  e: number;
}

const isClaims = (v: unknown): v is OptInClaims => {
  if (!v || typeof v !== 'object') return false;
  const o = v as Record<string, unknown>;
  return o.p === 'opt_in' && Number.isSafeInteger(o.r) && Number.isSafeInteger(o.c) && Number.isSafeInteger(o.e);
};

const MAIL = {
  en: (store: string, link: string, days: number) => ({
    subject: `Please confirm your subscription to ${store}`,
    text: `Someone (we hope you) asked to receive news and offers from ${store} by e-mail at this address.\n\nTo confirm, open this link and press the button (it works once, for ${days} days):\n${link}\n\nIf it was not you, ignore this e-mail: you will not be subscribed.`,
  }),
  ko: (store: string, link: string, days: number) => ({
    subject: `${store} 이메일 수신 동의를 확인해 주세요`,
    text: `이 주소로 ${store}의 소식과 혜택을 이메일로 받겠다는 신청이 접수되었습니다.\n\n아래 링크를 열어 버튼을 눌러 확인해 주세요 (${days}일 동안, 한 번만 사용할 수 있어요):\n${link}\n\n신청하지 않으셨다면 이 메일을 무시해 주세요. 수신 동의가 되지 않습니다.`,
  }),
} as const;

/** What the e-mail capture did; the browser is answered the same in every case. */
export type OptInRequest =
  | { status: 'queued'; customerId: number; requestId: number; outboxId: number }
  | { status: 'rate_limited' | 'already_subscribed' | 'former_address' };

/**
 * Asks `email` (normalised) to confirm a subscription at `now`: unless the address had a confirmation
 * e-mail in the last 10 minutes or 3 in 24 hours (`rate_limited`), already has e-mail consent, or is a
 * customer's former address, the customer whose address it is (a new one, without consent, for a new
 * address) gets a request row and a transactional confirmation e-mail in the outbox, in one transaction.
 * `userId` (the store's signed-in customer) and `messageId` are kept for the `Signed Up` event.
 */
export async function requestOptIn(
  db: Db,
  input: { email: string; userId?: string; locale: 'en' | 'ko'; messageId?: string; now: number },
  { linkSecret, userIdSource }: { linkSecret: string; userIdSource: string },
): Promise<OptInRequest> {
  const { email, now } = input;
  const odb = db.withTables<OptInTables>();
  const recent = await odb
    .selectFrom('storefront_opt_ins')
    .select('requested_at')
    .where('email', '=', email)
    .where('requested_at', '>', now - DAY)
    .execute();
  const last = Math.max(-Infinity, ...recent.map((r) => Number(r.requested_at)));
  if (recent.length >= OPT_IN_LIMIT.perDay || last > now - OPT_IN_LIMIT.gapMs) return { status: 'rate_limited' };
  let customerId = await customerOfEmail(db, email);
  if (customerId === undefined) {
    // Another customer's former address: not theirs to confirm any more, nor a new subscriber's.
    if ((await customerByEmail(db, email)) !== undefined) return { status: 'former_address' };
    await recordEvents(db, [{ type: 'identify', anonymousId: `subscribe:${email}`, traits: { email } }], {
      now,
      userIdSource,
      browser: true,
    });
    customerId = await customerOfEmail(db, email);
    if (customerId === undefined) return { status: 'former_address' };
  }
  const holder = customerId;
  const consent = await db
    .selectFrom('customer_consents')
    .select('granted')
    .where('customer_id', '=', holder)
    .where('channel', '=', 'email')
    .executeTakeFirst();
  if (consent?.granted === 1) return { status: 'already_subscribed' };
  const settings = await messagingSettings(db);
  const flow = await loadFlow(db, OPT_IN_FLOW_KEY).catch(async () => (await saveFlow(db, optInFlow, now)).flow);
  const expiresAt = now + OPT_IN_LINK_DAYS * DAY;
  return immediateTransaction(db, async (trx) => {
    const request = await trx
      .withTables<OptInTables>()
      .insertInto('storefront_opt_ins')
      .values({
        email,
        customer_id: holder,
        user_id: input.userId ?? null,
        locale: input.locale,
        message_id: input.messageId ?? null,
        requested_at: now,
        expires_at: expiresAt,
        confirmed_at: null,
        outbox_id: null,
      } as never)
      .returning('id')
      .executeTakeFirstOrThrow();
    const requestId = Number(request.id);
    const cdb = campaignDb(trx);
    const journey = await cdb
      .insertInto('journeys')
      .values({
        flow_id: flow.id,
        version: flow.version,
        customer_id: holder,
        occurrence: `opt-in:${requestId}`,
        arm: 'treatment',
        entered_at: now,
        step_id: 'confirm',
        step_started_at: now,
        wake_at: null,
        status: 'completed',
        exit_reason: null,
        updated_at: now,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const token = signToken(linkSecret, DOMAIN, { p: 'opt_in', r: requestId, c: holder, e: expiresAt } as OptInClaims);
    const link = `${settings.publicUrl.replace(/\/$/, '')}/o/${token}?lang=${input.locale}`;
    const mail = MAIL[input.locale](settings.storeName, link, OPT_IN_LINK_DAYS);
    const row = await cdb
      .insertInto('outbox')
      .values(
        newOutboxRow({
          journey_id: journey.id,
          flow_id: flow.id,
          step_id: 'confirm',
          customer_id: holder,
          arm: 'treatment',
          channel: 'email',
          purpose: 'transactional',
          template_key: OPT_IN_FLOW_KEY,
          to_address: email,
          status: 'pending',
          reason: 'opt_in_confirm',
          payload: JSON.stringify({ from: { name: settings.fromName, address: settings.fromEmail }, ...mail }),
          send_after: now,
          send_by: expiresAt,
          created_at: now,
        }),
      )
      .returning('id')
      .executeTakeFirstOrThrow();
    await trx
      .withTables<OptInTables>()
      .updateTable('storefront_opt_ins')
      .set({ outbox_id: row.id })
      .where('id', '=', requestId)
      .execute();
    return { status: 'queued' as const, customerId: holder, requestId, outboxId: Number(row.id) };
  });
}

/** Why a confirmation link does not confirm. */
export type OptInRefusal = TokenRefusal | 'unknown_link' | 'used';

/** The request a confirmation link names, unconfirmed, or why the link is refused (at `now`). */
export async function openOptIn(
  db: Db,
  linkSecret: string,
  token: string,
  now: number,
): Promise<{ ok: true; requestId: number; email: string } | { ok: false; reason: OptInRefusal }> {
  const verified = verifyToken(linkSecret, DOMAIN, token, { purpose: 'opt_in', now, isClaims });
  if (!verified.ok) return verified;
  const row = await db
    .withTables<OptInTables>()
    .selectFrom('storefront_opt_ins')
    .select(['id', 'email', 'customer_id', 'confirmed_at'])
    .where('id', '=', verified.claims.r)
    .executeTakeFirst();
  if (!row || Number(row.customer_id) !== verified.claims.c) return { ok: false, reason: 'unknown_link' };
  if (row.confirmed_at !== null) return { ok: false, reason: 'used' };
  return { ok: true, requestId: Number(row.id), email: row.email };
}

/**
 * Confirms a subscription through its link at `now`, once: in one transaction marks the request
 * confirmed, grants e-mail consent (source `storefront`), appends the consent ledger row (detail
 * `double opt-in: requested <ISO>, confirmed <ISO>`) and records `identify` and `Signed Up` (properties
 * `source: storefront`, `form: email-capture`, `optIn: double`) on the customer, so a welcome flow starts.
 */
export async function confirmOptIn(
  db: Db,
  linkSecret: string,
  token: string,
  { now, userIdSource }: { now: number; userIdSource: string },
): Promise<{ ok: true; customerId: number } | { ok: false; reason: OptInRefusal }> {
  const opened = await openOptIn(db, linkSecret, token, now);
  if (!opened.ok) return opened;
  return immediateTransaction(db, async (trx) => {
    const odb = trx.withTables<OptInTables>();
    const claimed = await odb
      .updateTable('storefront_opt_ins')
      .set({ confirmed_at: now })
      .where('id', '=', opened.requestId)
      .where('confirmed_at', 'is', null)
      .executeTakeFirst();
    if (Number(claimed.numUpdatedRows) !== 1) return { ok: false as const, reason: 'used' as const };
    const r = await odb
      .selectFrom('storefront_opt_ins')
      .selectAll()
      .where('id', '=', opened.requestId)
      .executeTakeFirstOrThrow();
    const customerId = Number(r.customer_id);
    await recordConsent(
      trx,
      customerId,
      { channel: 'email', granted: true, at: now, source: 'storefront' },
      {
        overrideNewer: true,
      },
    );
    await feedbackDb(trx)
      .insertInto('consent_changes')
      .values({
        customer_id: customerId,
        subject: 'email',
        granted: 1,
        source: 'storefront',
        detail: `double opt-in: requested ${new Date(Number(r.requested_at)).toISOString()}, confirmed ${new Date(now).toISOString()}`,
        occurred_at: now,
      })
      .execute();
    // The signed-in member's id goes along only when the address is theirs.
    const member = r.user_id !== null ? await customerOfUser(trx, userIdSource, r.user_id) : undefined;
    const who = { ...(member === customerId ? { userId: r.user_id! } : {}), anonymousId: `subscribe:${r.email}` };
    const key = r.message_id ?? `opt-in:${r.id}`;
    await recordEvents(
      trx,
      [
        { type: 'identify', ...who, traits: { email: r.email }, messageId: `${key}:identify` },
        {
          type: 'track',
          ...who,
          event: 'Signed Up',
          context: { traits: { email: r.email } },
          properties: { source: 'storefront', form: 'email-capture', locale: r.locale, optIn: 'double' },
          messageId: `${key}:signed-up`,
        },
      ],
      { now, userIdSource },
    );
    return { ok: true as const, customerId };
  });
}
