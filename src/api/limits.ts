/** Limits of the HTTP API, in a file of their own so that the CLI can show them without loading Fastify. */

/** Requests per API key (or per address without one) per window. */
export const DEFAULT_RATE_LIMIT = { max: 1200, timeWindowMs: 60_000 };

/** The deepest nesting of arrays and objects a JSON body may have (a Segment call needs about 5). */
export const MAX_JSON_DEPTH = 64;

/** The largest row offset a listing accepts: far beyond any store, within the safe integers. */
export const MAX_OFFSET = 1_000_000_000;
