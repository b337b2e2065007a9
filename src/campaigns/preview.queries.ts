import { ComebackError } from '../errors.js';
import type { Db } from '../store/index.js';
import { emptyBlocks, previewBlocks } from './context.queries.js';
import { latestTemplate } from './flows.queries.js';
import {
  type AdvertiserIdentity,
  eucKrBytes,
  isKoreanRecipient,
  koreanAdHtml,
  koreanAdSubject,
  koreanAdText,
  smsType,
} from './korea.js';
import { type MessageContext, renderMessage } from './render.js';
import { messagingSettings } from './settings.js';
import { campaignDb } from './tables.js';

/**
 * Template previews for the dashboard: any template rendered for any customer (or a sample one) by the
 * same Liquid/MJML code that fills the outbox, with the Korean advertising lines a real send would add,
 * and the length of a text message as carriers count it. Nothing is written and no link is signed.
 */

/** A template as a picker lists it: the newest version of each key. */
export interface TemplateSummary {
  key: string;
  version: number;
  channel: 'email' | 'sms' | 'kakao' | 'webhook';
  purpose: 'marketing' | 'transactional';
  subject: string | null;
}

/** Every template key with its newest version, by key. */
export async function listTemplates(db: Db): Promise<TemplateSummary[]> {
  const rows = await campaignDb(db)
    .selectFrom('message_templates as t')
    .select(['t.key', 't.version', 't.channel', 't.purpose', 't.subject'])
    .where(({ eb, selectFrom }) =>
      eb(
        't.version',
        '=',
        selectFrom('message_templates as n')
          .select((e) => e.fn.max('n.version').as('v'))
          .whereRef('n.key', '=', 't.key'),
      ),
    )
    .orderBy('t.key')
    .execute();
  return rows.map((r) => ({ ...r, version: Number(r.version) }));
}

// GSM 03.38: the basic set costs one septet, the extension set two (an escape and the character).
const GSM_BASIC = new Set(
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà',
);
const GSM_EXTENSION = new Set('^{}\\[~]|€\f');

/** How long a text message is, the two ways carriers count it. */
export interface TextLength {
  /** Unicode code points. */
  characters: number;
  /** GSM 03.38 septets when every character is in the GSM set; else UCS-2 (UTF-16 code units). */
  encoding: 'gsm7' | 'ucs2';
  /** Septets (gsm7) or UTF-16 code units (ucs2). */
  units: number;
  /** Concatenated SMS parts: one part holds 160 septets or 70 UCS-2 units; parts of a longer one 153 or 67 (3GPP TS 23.040, the 6-octet UDH). */
  segments: number;
  /** Korean carriers count EUC-KR bytes: SMS up to 90, LMS up to 2,000 (`korea.ts`). */
  eucKrBytes: number;
  koreanType: 'SMS' | 'LMS' | 'too_long';
}

/** The length and part count of a text message (GSM-7 or UCS-2) and its Korean SMS/LMS type. */
export function textLength(text: string): TextLength {
  const chars = [...text];
  const gsm = chars.every((c) => GSM_BASIC.has(c) || GSM_EXTENSION.has(c));
  const units = gsm ? chars.reduce((n, c) => n + (GSM_EXTENSION.has(c) ? 2 : 1), 0) : text.length;
  const [single, part] = gsm ? [160, 153] : [70, 67];
  return {
    characters: chars.length,
    encoding: gsm ? 'gsm7' : 'ucs2',
    units,
    segments: units === 0 ? 0 : units <= single ? 1 : Math.ceil(units / part),
    eucKrBytes: eucKrBytes(text),
    koreanType: smsType(text),
  };
}

/** A rendered template, as the dashboard shows it. */
export interface TemplatePreview {
  template: TemplateSummary;
  /** The customer it was rendered for; `sample` when none was given. */
  customer: { id: number | null; name: string | null; sample: boolean; korean: boolean };
  subject: string | null;
  /** E-mail HTML, every value escaped; null for text channels. */
  html: string | null;
  /** The plain-text part of an e-mail, or the text of an SMS / KakaoTalk message, or the webhook's JSON. */
  text: string;
  /** The Korean advertising lines (`(광고)`, sender, opt-out) were added, as a send to this customer would. */
  advertisement: boolean;
  /** For SMS and KakaoTalk (whose fallback is an SMS/LMS): the text's length and parts. */
  length: TextLength | null;
}

/** The sample customer a preview uses when none is chosen. */
export const SAMPLE_CUSTOMER = {
  id: 0,
  first_name: 'Alex',
  last_name: 'Sample',
  email: 'alex@example.com',
  phone: null,
  country: null,
} as const;

/**
 * Renders the newest version of template `key` for customer `customerId` (or the sample customer): the
 * store's settings, the customer's own name and addresses, an example coupon, links that go nowhere.
 * not_found (field `key` or `customer`) when either is unknown; a Liquid error is bad_input with
 * Liquid's message, naming the template.
 */
export async function previewTemplate(
  db: Db,
  key: string,
  { customerId, now }: { customerId?: number; now: number },
): Promise<TemplatePreview> {
  const template = await latestTemplate(db, key).catch((error: unknown) => {
    if (error instanceof ComebackError && error.kind === 'not_found')
      throw new ComebackError('not_found', error.message, { location: { field: 'key' } });
    throw error;
  });
  const customer =
    customerId === undefined
      ? SAMPLE_CUSTOMER
      : await db
          .selectFrom('customers')
          .select(['id', 'first_name', 'last_name', 'email', 'phone', 'country'])
          .where('id', '=', customerId)
          .executeTakeFirst();
  if (!customer) {
    throw new ComebackError('not_found', `no customer #${customerId}`, { location: { field: 'customer' } });
  }
  const settings = await messagingSettings(db);
  const base = settings.publicUrl.replace(/\/$/, '');
  // A real customer's blocks as of `now` (recommendations, new arrivals, loyalty), as the CLI's preview
  // reads them; the sample customer has none. No journey, so no trigger.
  const blocks =
    customerId === undefined
      ? emptyBlocks()
      : await previewBlocks(db, customer.id, now, { locale: settings.language, storeUrl: settings.storeUrl });
  const context: MessageContext = {
    ...blocks,
    customer: {
      id: customer.id,
      first_name: customer.first_name,
      last_name: customer.last_name,
      email: customer.email,
      country: customer.country,
    },
    store: { name: settings.storeName, url: settings.storeUrl },
    scores: { p_alive: null, clv: null, churn_risk: null },
    coupon: {
      code: 'PREVIEW-CODE',
      description: 'an example offer',
      expires_on: new Date(now + 14 * 86_400_000).toISOString().slice(0, 10),
    },
    links: {
      unsubscribe: `${base}/m/u/preview`,
      preferences: `${base}/m/p/preview`,
      review: `${base}/r/preview`,
      csat: `${base}/s/preview`,
    },
  };
  const summary: TemplateSummary = {
    key: template.key,
    version: template.version,
    channel: template.channel,
    purpose: template.purpose,
    subject: template.subject ?? null,
  };
  const korean = isKoreanRecipient(customer);
  const name = [customer.first_name, customer.last_name].filter(Boolean).join(' ') || null;
  const who = { id: customerId ?? null, name, sample: customerId === undefined, korean };
  if (template.channel === 'webhook') {
    const text = JSON.stringify({ type: 'comeback.message', template: key, ...context }, null, 2);
    return { template: summary, customer: who, subject: null, html: null, text, advertisement: false, length: null };
  }
  const message = await renderMessage(template, context);
  // As renderPayload (advance.queries.ts) decides it: KakaoTalk advertisements always follow the Korean rules.
  const advertisement = template.purpose === 'marketing' && (korean || template.channel === 'kakao');
  const identity: AdvertiserIdentity = {
    senderName: settings.korea.senderName || settings.storeName,
    contact: settings.korea.contact || null,
    optOutNumber: settings.korea.optOutNumber || null,
    optOutLink: context.links.unsubscribe,
  };
  const text = advertisement ? koreanAdText(message.text, identity) : message.text;
  return {
    template: summary,
    customer: who,
    subject: advertisement && message.subject !== null ? koreanAdSubject(message.subject) : message.subject,
    html: message.html === null ? null : advertisement ? koreanAdHtml(message.html, identity) : message.html,
    text,
    advertisement,
    length: template.channel === 'email' ? null : textLength(text),
  };
}
