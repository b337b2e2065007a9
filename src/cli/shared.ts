import type { Command } from 'commander';
import { type Config, loadConfig } from '../config.js';
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

export function makeContext(io: Io, env: NodeJS.ProcessEnv): CommandContext {
  return { io, now: () => Date.now(), config: (flags) => loadConfig(flags, env), env };
}
