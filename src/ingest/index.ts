export { type EventInput, type EventType, type RecordEventsResult, recordEvents } from './events.js';
export { CSV_FIELDS, FORMATS, type FormatName, isFormatName } from './formats/index.js';
export { SHOPIFY_FINANCIAL_STATUS } from './formats/shopify.js';
export { type ImportOptions, type ImportSummary, importFile } from './import.js';
export { type CatalogueStats, type ProductInput, ProductWriter } from './products.js';
export type { CustomerInput, LineInput, OrderInput, RefundInput } from './records.js';
export { normaliseEmail, normalisePhone } from './records.js';
export { applyRefund, ImportWriter, recordConsent } from './writer.js';
