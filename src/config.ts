import { DEFAULT_DB_URL } from './store/index.js';

/** Settings that come from flags and the environment; read once by a face, then passed down. */
export interface Config {
  readonly dbUrl: string;
}

/** `--db` wins over `COMEBACK_DB`, which wins over the default SQLite file in the current folder. */
export function loadConfig(flags: { db?: string }, env: NodeJS.ProcessEnv = process.env): Config {
  return Object.freeze({ dbUrl: flags.db ?? env.COMEBACK_DB ?? DEFAULT_DB_URL });
}
