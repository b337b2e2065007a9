import { defaultAsOf } from '../analytics/index.js';
import { messagingSettings } from '../campaigns/settings.js';
import type { Db } from '../store/index.js';

/** The store's IANA zone (messaging settings, default UTC): the days typed in queries and the default as-of are its days. */
export async function storeZone(db: Db): Promise<string> {
  return (await messagingSettings(db)).timeZone;
}

/** The default as-of of the API, as the CLI's: the end of the store-local day of the latest sale, else `now`. */
export async function storeDefaultAsOf(db: Db, now: number, currency?: string): Promise<number> {
  return (await defaultAsOf(db, currency, await storeZone(db))) ?? now;
}
