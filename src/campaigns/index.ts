export { type AdvanceSummary, advanceJourneys, describeOffer, preferredChannel } from './advance.queries.js';
export {
  type AudienceExclusion,
  type CampaignAudience,
  type CampaignSends,
  campaignAudience,
  campaignSends,
} from './audience.queries.js';
export { type BacktestEntrant, type BacktestMessage, type BacktestReport, backtestFlow } from './backtest.queries.js';
export { BUILTIN_TEMPLATES, BUILTIN_TEMPLATES_KO, builtinFlows, installBuiltins } from './builtin.js';
export {
  type CampaignInput,
  type CampaignSendSummary,
  campaignDefinition,
  createCampaign,
  sendCampaign,
} from './campaigns.queries.js';
export {
  CONSENT_CHANNELS,
  RECONFIRM_FLOW_KEY,
  type ReconfirmNotice,
  reconfirmConsents,
  recordConsent,
} from './consent.queries.js';
export {
  blocksRead,
  type ContextBlocks,
  ContextLoader,
  DEFAULT_BLOCK_ITEMS,
  emptyBlocks,
  previewBlocks,
  type TriggerBlock,
  type TriggerItem,
} from './context.queries.js';
export {
  addDuration,
  conditionHolds,
  type ExitReason,
  enterJourney,
  exitReason,
  type JourneyAction,
  type JourneyFacts,
  type JourneyState,
  nextActions,
  nextLocalTime,
  waitEnd,
} from './engine.js';
export {
  CHANNELS,
  type Channel,
  type Condition,
  type Duration,
  durationMs,
  type ExitCondition,
  type FlowDefinition,
  type FlowProblem,
  FlowSchema,
  type FlowStep,
  type FlowTrigger,
  type KakaoStep,
  kakaoKind,
  type Offer,
  successors,
  validateFlow,
} from './flow.js';
export {
  type FlowSummary,
  flowVersion,
  latestTemplate,
  listFlows,
  loadFlow,
  type SavedFlow,
  type SavedTemplate,
  SUPPORTED_TRIGGERS,
  saveFlow,
  saveTemplate,
  setFlowEnabled,
} from './flows.queries.js';
export {
  HELPDESK_EVENTS,
  HELPDESK_FLOW_KEY,
  HELPDESK_FRESH_MS,
  type HelpdeskPassSummary,
  type HelpdeskQueueSummary,
  helpdeskPass,
  helpdeskSender,
  queueHelpdeskAlerts,
} from './helpdesk.queries.js';
export { type Arm, assignArm, holdoutDraw } from './holdout.js';
export {
  AD_PREFIX,
  type AdvertiserIdentity,
  eucKrBytes,
  inKoreanNight,
  isKoreanNumber,
  isKoreanRecipient,
  KOREAN_NIGHT,
  type KoreanAdDecision,
  type KoreanAdFacts,
  type KoreanAdRules,
  koreanAdDecision,
  koreanAdText,
  NIGHT_CONSENT_CHANNEL,
  nextSeoulMorning,
  reconfirmDueAt,
  smsType,
} from './korea.js';
export {
  type ArmFigures,
  type ArmTotals,
  entrantsForPower,
  type Interval,
  type LiftReport,
  liftReport,
  meanDifference,
  proportionDifference,
  wilson,
} from './lift.js';
export { type LinkClaims, type LinkPurpose, type LinkRefusal, signLink, verifyLink } from './links.js';
export {
  type ClaimedMessage,
  claimDue,
  type DeliverySummary,
  deliverDue,
  finishMessage,
  MAX_ATTEMPTS,
  recoverOutbox,
  resendUncertain,
  suppress,
} from './outbox.queries.js';
export {
  completeOutreach,
  listOutreach,
  type OutreachDone,
  type OutreachFilter,
  type OutreachTask,
  outreachCounts,
} from './outreach.queries.js';
export {
  decideSend,
  inQuietHours,
  type SendDecision,
  type SendFacts,
  type SendRules,
  type SkipReason,
  type SuppressionReason,
} from './policy.js';
export { type UnsubscribeResult, unsubscribeByToken } from './preferences.queries.js';
export {
  listTemplates,
  previewTemplate,
  SAMPLE_CUSTOMER,
  type TemplatePreview,
  type TemplateSummary,
  type TextLength,
  textLength,
} from './preview.queries.js';
export { compileTemplate, liquidEngine, type MessageContext, renderMessage, type TemplateSource } from './render.js';
export { type FlowReport, flowReport, type StepFigures } from './report.queries.js';
export { httpSender, providerBody, signBody } from './senders/http.js';
export {
  fillAlimtalk,
  KAKAO_PROVIDERS,
  type KakaoProvider,
  type KakaoSenderOptions,
  kakaoRequest,
  kakaoSender,
} from './senders/kakao.js';
export { backoffMs, type OutgoingMessage, type Sender, type SendOutcome } from './senders/sender.js';
export { smtpSender } from './senders/smtp.js';
export {
  DEFAULT_MESSAGING,
  type MessagingSettings,
  messagingSettings,
  saveMessagingSettings,
  webUrlProblem,
} from './settings.js';
export { trackHtml } from './tracking.js';
export { applyDeliveryReceipt, type DeliveryReceipt, receiptSignature, recordTracking } from './tracking.queries.js';
export { type EnrolSummary, enrolNewEntrants } from './triggers.queries.js';
export { type TickSummary, type WorkerOptions, workerTick } from './worker.js';
