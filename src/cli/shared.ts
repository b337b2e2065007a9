import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { defaultAsOf } from '../analytics/index.js';
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

/** Parses a `YYYY-MM-DD` (UTC midnight) or an instant given on the command line, naming the flag. */
export function dateFlag(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const ms = parseDateArgument(text);
  if (ms === undefined) throw new ComebackError('usage', `${flag} ${text}: write a date as YYYY-MM-DD`);
  return ms;
}

/**
 * Parses an end date typed on the command line, inclusive: `--to 2011-03-31` includes that day, so the
 * result is the exclusive instant just after it (the next midnight UTC). Names the flag when unreadable.
 */
export function endDateFlag(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const ms = parseEndDateArgument(text);
  if (ms === undefined) throw new ComebackError('usage', `${flag} ${text}: write a date as YYYY-MM-DD`);
  return ms;
}

/** The `--as-of` help text of every command that reads the store as of a day (through `resolveAsOf`). */
export const AS_OF_HELP =
  'as of the end of this day, YYYY-MM-DD, included (default: the end of the day of the latest sale)';

/**
 * The as-of of a command: `--as-of D` is the end of day D (the instant just after it, as `endDateFlag`),
 * else the end of the day of the store's latest sale (the next UTC midnight), else now.
 */
export async function resolveAsOf(
  ctx: CommandContext,
  db: Db,
  flag: string | undefined,
  currency?: string,
): Promise<{ asOf: number; source: string }> {
  const given = endDateFlag(flag, '--as-of');
  if (given !== undefined) return { asOf: given, source: 'given' };
  const latest = await defaultAsOf(db, currency);
  if (latest !== undefined) return { asOf: latest, source: 'the end of the day of the latest sale' };
  return { asOf: ctx.now(), source: 'now' };
}
