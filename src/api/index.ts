/** The HTTP API's surface: the app factory, key and admin management for the CLI, and answer types. */
export type { ApiScope } from './api.schema.js';
export { type BuildAppOptions, buildApp, DEFAULT_RATE_LIMIT } from './build-app.js';
export type { CustomerListItem } from './customers.queries.js';
export type { ErrorBodyShape } from './error-handler.js';
export {
  type ApiKey,
  createApiKey,
  isScope,
  listApiKeys,
  revokeApiKey,
  SCOPES,
  upsertAdminUser,
} from './keys.queries.js';
