// The one rule for naming a customer lives with the customer queries; the CLI's commands import it here.
export { resolveCustomerRef } from '../segments/index.js';
