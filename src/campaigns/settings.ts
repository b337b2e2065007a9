import { Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ComebackError } from '../errors.js';
import { isValidTimeZone } from '../shared/dates.js';
import type { Db } from '../store/index.js';
import { campaignDb } from './tables.js';

const HHMM = '^([01]\\d|2[0-3]):[0-5]\\d$';

/** The store's messaging settings, as saved with `comeback flows settings` or the API. */
export const MessagingSettingsSchema = Type.Object(
  {
    storeName: Type.String({ minLength: 1, maxLength: 200 }),
    storeUrl: Type.Union([Type.String({ maxLength: 500 }), Type.Null()]),
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
  },
  { additionalProperties: false },
);

/** Messaging settings. */
export interface MessagingSettings {
  storeName: string;
  storeUrl: string | null;
  timeZone: string;
  fromEmail: string;
  fromName: string;
  smsSender: string;
  publicUrl: string;
  quietHours: { start: string; end: string } | null;
  cap: { count: number; days: number } | null;
  sendWithinHours: number;
}

/** The defaults: quiet 21:00–08:00, at most 2 marketing messages in 7 days, a day to deliver. */
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
};

/** The saved settings over the defaults. */
export async function messagingSettings(db: Db): Promise<MessagingSettings> {
  const row = await campaignDb(db)
    .selectFrom('messaging_settings')
    .select('value')
    .where('name', '=', 'messaging')
    .executeTakeFirst();
  if (!row) return DEFAULT_MESSAGING;
  const merged: unknown = { ...DEFAULT_MESSAGING, ...JSON.parse(row.value) };
  return Value.Check(MessagingSettingsSchema, merged) ? merged : DEFAULT_MESSAGING;
}

/** Validates and saves a change to the settings; bad_input naming the field. */
export async function saveMessagingSettings(db: Db, change: Record<string, unknown>): Promise<MessagingSettings> {
  const merged: unknown = { ...(await messagingSettings(db)), ...change };
  const error = [...Value.Errors(MessagingSettingsSchema, merged)][0];
  if (error) {
    throw new ComebackError('bad_input', error.message, {
      location: { field: error.path.replace(/^\//, '').replace(/\//g, '.') },
    });
  }
  if (!Value.Check(MessagingSettingsSchema, merged)) throw new ComebackError('bad_input', 'invalid settings');
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
