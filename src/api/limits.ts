/** Limits of the HTTP API, in a file of their own so that the CLI can show them without loading Fastify. */

/** Requests per API key (or per address without one) per window. */
export const DEFAULT_RATE_LIMIT = { max: 1200, timeWindowMs: 60_000 };
