import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { defaultAsOf } from '../analytics/index.js';
import { messagingSettings } from '../campaigns/settings.js';
import { type Config, loadConfig } from '../config.js';
import { ComebackError } from '../errors.js';
import { parseDateArgument, parseEndDateArgument } from '../shared/dates.js';
import { type Db, parseDbUrl } from '../store/index.js';
import type { Io } from './io.js';

/** What every command gets from the entry point: where to write, the clock, the configuration. */
export interface CommandContext {
  io: Io;
  /** The clock is read here, at the edge, and passed down as `now` / `asOf`. */
  now(): number;
  config(flags: { db?: string }): Config;
  env: NodeJS.ProcessEnv;
}

/** Adds `--db URL` to a command. */
export function dbOption(command: Command): Command {
  return command.option(
    '--db <url>',
    'database: sqlite:PATH (default sqlite:./comeback.db, or COMEBACK_DB) or postgres://…',
  );
}

/**
 * The context of a command. With `existingDatabase`, the command reads a store and must not create
 * one: a SQLite `--db` path naming no file is refused (`bad_input`) instead of becoming an empty store.
 */
export function makeContext(
  io: Io,
  env: NodeJS.ProcessEnv,
  { existingDatabase = false, onConfig }: { existingDatabase?: boolean; onConfig?: (config: Config) => void } = {},
): CommandContext {
  const config = (flags: { db?: string }) => {
    const loaded = loadConfig(flags, env);
    onConfig?.(loaded);
    if (existingDatabase) requireExistingDatabase(loaded.dbUrl);
    return loaded;
  };
  return { io, now: () => Date.now(), config, env };
}

/** Throws `bad_input` when a SQLite URL names a file that does not exist. */
export function requireExistingDatabase(url: string): void {
  const { dialect, target } = parseDbUrl(url);
  if (dialect !== 'sqlite' || target === ':memory:' || existsSync(target)) return;
  throw new ComebackError(
    'bad_input',
    `--db ${url}: no database at ${target} (this command only reads one; check the path, or import orders first with comeback import)`,
  );
}

/**
 * Parses a `YYYY-MM-DD` (the midnight that starts that day in `timeZone`, the store's zone, default UTC)
 * or an instant given on the command line, naming the flag.
 */
export function dateFlag(text: string | undefined, flag: string, timeZone = 'UTC'): number | undefined {
  if (text === undefined) return undefined;
  const ms = parseDateArgument(text, timeZone);
  if (ms === undefined) throw new ComebackError('usage', `${flag} ${text}: write a date as YYYY-MM-DD`);
  return ms;
}

/**
 * Parses an end date typed on the command line, inclusive: `--to 2011-03-31` includes that day, so the
 * result is the exclusive instant just after it (the next midnight in `timeZone`, the store's zone,
 * default UTC). Names the flag when unreadable.
 */
export function endDateFlag(text: string | undefined, flag: string, timeZone = 'UTC'): number | undefined {
  if (text === undefined) return undefined;
  const ms = parseEndDateArgument(text, timeZone);
  if (ms === undefined) throw new ComebackError('usage', `${flag} ${text}: write a date as YYYY-MM-DD`);
  return ms;
}

/** The `--as-of` help text of every command that reads the store as of a day (through `resolveAsOf`). */
export const AS_OF_HELP =
  'as of the end of this day, YYYY-MM-DD, included (default: the end of the day of the latest sale)';

/**
 * The store's IANA zone (`comeback flows settings`, default UTC): the zone of every day a person types
 * and every day printed. Read once per command, at the top, and passed down.
 */
export async function storeTimeZone(db: Db): Promise<string> {
  return (await messagingSettings(db)).timeZone;
}

/**
 * The as-of of a command and the store's zone it reads days in (`storeTimeZone`): `--as-of D` is the end
 * of day D in that zone (the next local midnight, as `endDateFlag`), else the end of the local day of the
 * store's latest sale, else now.
 */
export async function resolveAsOf(
  ctx: CommandContext,
  db: Db,
  flag: string | undefined,
  currency?: string,
): Promise<{ asOf: number; source: string; timeZone: string }> {
  const timeZone = await storeTimeZone(db);
  const given = endDateFlag(flag, '--as-of', timeZone);
  if (given !== undefined) return { asOf: given, source: 'given', timeZone };
  const latest = await defaultAsOf(db, currency, timeZone);
  if (latest !== undefined) return { asOf: latest, source: 'the end of the day of the latest sale', timeZone };
  return { asOf: ctx.now(), source: 'now', timeZone };
}
