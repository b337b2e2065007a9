import { Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ComebackError } from '../errors.js';
import { isValidTimeZone } from '../shared/dates.js';
import type { Db } from '../store/index.js';
import { KAKAO_PROVIDERS, type KakaoProvider } from './senders/kakao.js';
import { campaignDb } from './tables.js';

const HHMM = '^([01]\\d|2[0-3]):[0-5]\\d$';

/** Which KakaoTalk provider, where, and the channel's sender key. */
export const KakaoSettingsSchema = Type.Object(
  {
    provider: Type.Union(KAKAO_PROVIDERS.map((p) => Type.Literal(p))),
    /** Base URL (Solapi `https://api.solapi.com`, NHN Cloud `https://api-alimtalk.cloud.toast.com`) or the generic endpoint. */
    url: Type.String({ minLength: 1, maxLength: 500, pattern: '^https?://' }),
    /** The KakaoTalk channel's sender key (Solapi pfId, NHN senderKey). */
    senderKey: Type.String({ minLength: 1, maxLength: 100 }),
    /** NHN Cloud's app key. */
    appKey: Type.Optional(Type.String({ maxLength: 100 })),
    /** The registered sender number for the SMS/LMS fallback (발신번호); empty: no fallback. */
    fallbackNumber: Type.String({ maxLength: 20, pattern: '^[0-9-]*$' }),
  },
  { additionalProperties: false },
);

/** The store's choices under the Korean advertising rules. */
export const KoreaSettingsSchema = Type.Object(
  {
    /** The sender named in every advertisement; the store's name when empty. */
    senderName: Type.String({ maxLength: 100 }),
    /** The store's contact named in advertisements (a phone number or e-mail); empty for none. */
    contact: Type.String({ maxLength: 100 }),
    /** A free opt-out number (080-…); empty: the signed unsubscribe link is used. */
    optOutNumber: Type.String({ maxLength: 20, pattern: '^(080-?[0-9]{3,4}-?[0-9]{4})?$' }),
    /** The 6-month transaction exception (제50조 제1항 단서): off unless the store turns it on. */
    transactionException: Type.Boolean(),
    /** Send the two-yearly consent re-confirmation notices from the worker (시행령 제62조의3). */
    reconfirmInWorker: Type.Boolean(),
  },
  { additionalProperties: false },
);

/** The store's messaging settings, as saved with `comeback flows settings` or the API. */
export const MessagingSettingsSchema = Type.Object(
  {
    storeName: Type.String({ minLength: 1, maxLength: 200 }),
    /** The store's public address (https), for "back to the store" on hosted pages and product links. */
    storeUrl: Type.Union([Type.String({ maxLength: 500 }), Type.Null()]),
    /** Where NPS detractors and low CSAT answers are posted, signed (see `helpdesk.queries.ts`); null: nowhere. */
    helpdeskUrl: Type.Optional(Type.Union([Type.String({ maxLength: 500 }), Type.Null()])),
    /** The store's IANA zone, used for customers who have none. */
    timeZone: Type.String({ minLength: 1 }),
    /** `From:` of e-mails. */
    fromEmail: Type.String({ minLength: 3, maxLength: 320 }),
    fromName: Type.String({ maxLength: 200 }),
    /** The sender name or number on SMS. */
    smsSender: Type.String({ maxLength: 32 }),
    /** The public address of `comeback serve`, for unsubscribe, tracking and preference links. */
    publicUrl: Type.String({ minLength: 1, maxLength: 500 }),
    quietHours: Type.Union([
      Type.Object(
        { start: Type.String({ pattern: HHMM }), end: Type.String({ pattern: HHMM }) },
        { additionalProperties: false },
      ),
      Type.Null(),
    ]),
    cap: Type.Union([
      Type.Object(
        { count: Type.Integer({ minimum: 1, maximum: 100 }), days: Type.Integer({ minimum: 1, maximum: 90 }) },
        { additionalProperties: false },
      ),
      Type.Null(),
    ]),
    /** A message still unsent this many hours after it was due expires instead of arriving late. */
    sendWithinHours: Type.Integer({ minimum: 1, maximum: 24 * 14 }),
    /** KakaoTalk provider (secrets come from the environment: COMEBACK_KAKAO_API_KEY, COMEBACK_KAKAO_API_SECRET). */
    kakao: Type.Union([KakaoSettingsSchema, Type.Null()]),
    /** The Korean advertising rules (정보통신망법 제50조; see `korea.ts`). */
    korea: KoreaSettingsSchema,
    /** The language of the built-in templates installed for this store. */
    language: Type.Union([Type.Literal('en'), Type.Literal('ko')]),
  },
  { additionalProperties: false },
);

/** Messaging settings. */
export interface MessagingSettings {
  storeName: string;
  storeUrl: string | null;
  /** Absent or null: answers raise no helpdesk alert. */
  helpdeskUrl?: string | null;
  timeZone: string;
  fromEmail: string;
  fromName: string;
  smsSender: string;
  publicUrl: string;
  quietHours: { start: string; end: string } | null;
  cap: { count: number; days: number } | null;
  sendWithinHours: number;
  kakao: {
    provider: KakaoProvider;
    url: string;
    senderKey: string;
    appKey?: string;
    fallbackNumber: string;
  } | null;
  korea: {
    senderName: string;
    contact: string;
    optOutNumber: string;
    transactionException: boolean;
    reconfirmInWorker: boolean;
  };
  language: 'en' | 'ko';
}

/**
 * The defaults: quiet 21:00–08:00, at most 2 marketing messages in 7 days, a day to deliver; no
 * KakaoTalk provider; the Korean transaction exception off, re-confirmation in the worker on.
 */
export const DEFAULT_MESSAGING: MessagingSettings = {
  storeName: 'Our store',
  storeUrl: null,
  timeZone: 'UTC',
  fromEmail: 'shop@example.com',
  fromName: 'Our store',
  smsSender: 'SHOP',
  publicUrl: 'http://127.0.0.1:3000',
  quietHours: { start: '21:00', end: '08:00' },
  cap: { count: 2, days: 7 },
  sendWithinHours: 24,
  kakao: null,
  korea: { senderName: '', contact: '', optOutNumber: '', transactionException: false, reconfirmInWorker: true },
  language: 'en',
};

/**
 * Why `text` is not a public web address (https, a host, no credentials), or undefined when it is.
 * `loopbackHttp` also admits http://127.0.0.1 and http://localhost (a receiver on the same machine).
 */
export function webUrlProblem(text: string, { loopbackHttp }: { loopbackHttp: boolean }): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `"${text}" is not an address; write it in full, e.g. https://shop.example.com`;
  }
  const loopback = url.hostname === '127.0.0.1' || url.hostname === 'localhost' || url.hostname === '[::1]';
  if (url.protocol !== 'https:' && !(loopbackHttp && loopback && url.protocol === 'http:')) {
    return `"${text}" must start with https://`;
  }
  if (url.username || url.password) return `"${text}" must not carry a user name or password`;
  if (!url.hostname) return `"${text}" names no host`;
  return undefined;
}

/** The saved settings over the defaults. */
export async function messagingSettings(db: Db): Promise<MessagingSettings> {
  const row = await campaignDb(db)
    .selectFrom('messaging_settings')
    .select('value')
    .where('name', '=', 'messaging')
    .executeTakeFirst();
  if (!row) return DEFAULT_MESSAGING;
  const saved = JSON.parse(row.value) as Record<string, unknown>;
  const merged: unknown = {
    ...DEFAULT_MESSAGING,
    ...saved,
    korea: { ...DEFAULT_MESSAGING.korea, ...(saved.korea as object | undefined) },
  };
  return Value.Check(MessagingSettingsSchema, merged) ? merged : DEFAULT_MESSAGING;
}

/**
 * Validates and saves a change to the settings; bad_input naming the field. A new `storeName` becomes
 * the `fromName` too while the two were the same (the sender was never named apart from the store).
 */
export async function saveMessagingSettings(db: Db, change: Record<string, unknown>): Promise<MessagingSettings> {
  const current = await messagingSettings(db);
  // The sender's name follows the store's name until it is set apart from it.
  const follows =
    change.storeName !== undefined && change.fromName === undefined && current.fromName === current.storeName;
  const merged: unknown = {
    ...current,
    ...change,
    ...(follows ? { fromName: change.storeName } : {}),
    ...(change.korea && typeof change.korea === 'object' ? { korea: { ...current.korea, ...change.korea } } : {}),
  };
  const error = [...Value.Errors(MessagingSettingsSchema, merged)][0];
  if (error) {
    throw new ComebackError('bad_input', error.message, {
      location: { field: error.path.replace(/^\//, '').replace(/\//g, '.') },
    });
  }
  if (!Value.Check(MessagingSettingsSchema, merged)) throw new ComebackError('bad_input', 'invalid settings');
  for (const [field, value, loopbackHttp] of [
    ['storeUrl', merged.storeUrl, false],
    ['helpdeskUrl', merged.helpdeskUrl ?? null, true],
  ] as const) {
    const problem = value === null ? undefined : webUrlProblem(value, { loopbackHttp });
    if (problem) throw new ComebackError('bad_input', `${field}: ${problem}`, { location: { field } });
  }
  if (!isValidTimeZone(merged.timeZone)) {
    throw new ComebackError('bad_input', `unknown time zone "${merged.timeZone}"`, { location: { field: 'timeZone' } });
  }
  await campaignDb(db)
    .insertInto('messaging_settings')
    .values({ name: 'messaging', value: JSON.stringify(merged) })
    .onConflict((oc) => oc.column('name').doUpdateSet({ value: JSON.stringify(merged) }))
    .execute();
  return merged;
}
