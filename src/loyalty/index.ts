export { randomCode } from './codes.js';
export {
  adjustCredit,
  applyCreditCodes,
  CREDIT_CODE_PREFIX,
  type CreditAdjustment,
  type CreditEntry,
  type CreditLiability,
  type CreditOverUse,
  type CreditSpend,
  type CreditStatus,
  type CreditSync,
  type CreditSyncSummary,
  creditLiability,
  creditStatus,
  expireCredit,
  spendCredit,
  syncCredit,
} from './credit.queries.js';
export { type ExpiringPoints, expiringPoints } from './expiring.queries.js';
export {
  type Adjustment,
  adjust,
  auditLedger,
  type LedgerAudit,
  type Lot,
  type MemberRow,
  qualifyingValue,
  remainingLots,
  type SettleSummary,
  settle,
  writeTransaction,
} from './ledger.queries.js';
export type { CreditKind, EntryKind, EntrySource, LoyaltyDb, LoyaltyTables } from './loyalty-tables.js';
export {
  type ActionCredit,
  type Enrolment,
  earnForAction,
  enrolMember,
  type HistoryLine,
  type LedgerEntry,
  ledgerThrough,
  type MemberStatus,
  type MemberSummary,
  memberAsOf,
  memberHistory,
  memberInstant,
  memberStatus,
  memberSummaries,
  memberToday,
} from './members.queries.js';
export { type SyncSummary, syncOrders } from './orders.queries.js';
export {
  type Action,
  earnableMinor,
  futureWriteRefusal,
  orderPoints,
  type Program,
  type ProgramConfig,
  ProgramConfigSchema,
  parseAction,
  parseProgramConfig,
  type RewardConfig,
  reversalTarget,
  STALE_WRITE_DAYS,
  staleWriteRefusal,
  type TierConfig,
  tierAllowsReward,
  tierByKey,
  validateProgramConfig,
} from './program.js';
export { findProgram, loadProgram, programVersions, saveProgram } from './program.queries.js';
export { markCodesUsed, type Redemption, redeem } from './redemption.queries.js';
export {
  type DormantMember,
  dormantMembers,
  dormantMembersAndCount,
  type ProgramReport,
  programReport,
} from './report.queries.js';
export {
  fetchSender,
  redemptionWebhook,
  type Sender,
  SIGNATURE_HEADER,
  sendRedemptionWebhook,
  signBody,
  verifySignature,
} from './webhook.js';
