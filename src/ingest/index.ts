export {
  CONSENT_TRAITS,
  type EventInput,
  type EventType,
  type RecordEventsResult,
  type RejectedCall,
  recordEvents,
} from './events.js';
export { CSV_FIELDS, FORMATS, type FormatName, isFormatName } from './formats/index.js';
export { EventGroupCommit, type GroupCommitOptions } from './group-commit.js';
export {
  changeEmail,
  customerByEmail,
  EMAIL_IDENTITY,
  findOrCreateCustomer,
  hasIdentity,
  lockKey,
  mergeCustomers,
} from './identity.js';
export {
  batchTransaction,
  type ImportOptions,
  type ImportSummary,
  importFile,
  type Reconciliation,
  type ReconciliationItem,
} from './import.js';
export { ORDER_STATUS, orderStatus } from './order-status.js';
export { betterPhone, phoneToE164 } from './phone.js';
export { type CatalogueStats, type ProductInput, ProductWriter } from './products.js';
export type { CustomerInput, LineInput, OrderInput, RefundInput } from './records.js';
export { normaliseEmail, normalisePhone } from './records.js';
export { applyRefund, ImportWriter, recordConsent } from './writer.js';
