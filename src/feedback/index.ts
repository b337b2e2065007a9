export { FEEDBACK_FIELDS, type FeedbackFields, feedbackFields, feedbackFieldsMany } from './fields.queries.js';
export { FEEDBACK_CSV_COLUMNS, type FeedbackImportSummary, importFeedbackCsv } from './import.js';
export {
  type CsatSummary,
  countNps,
  csatSummary,
  NPS_SMALL_SAMPLE,
  type NpsGroup,
  type NpsSummary,
  npsGroup,
  npsSummary,
} from './nps.js';
export { type FeedbackReport, feedbackReport, latestFeedbackEnd } from './report.queries.js';
export {
  creditReviewPoints,
  latestReviews,
  type OpenReview,
  openReviewLink,
  type ProductRating,
  productRatings,
  type ReviewItem,
  type ReviewLinkState,
  type ReviewResult,
  submitReview,
} from './reviews.queries.js';
export {
  type AnswerProblem,
  type AnswerProblemCode,
  BUILTIN_SURVEYS,
  checkAnswer,
  EXIT_REASONS,
  type ExitReason,
  type SurveyAnswer,
  type SurveyDefinition,
  type SurveyKind,
  type SurveyProblem,
  type SurveyQuestion,
  SurveySchema,
  validateSurvey,
} from './survey.js';
export {
  alertOf,
  answerSurveyLink,
  creditSurveyPoints,
  type IssuedLink,
  issueSurveyLink,
  type LinkAnswerResult,
  type LinkState,
  listSurveys,
  loadSurvey,
  type OpenSurvey,
  openSurveyLink,
  type ResponseInput,
  recordResponse,
  type StoredResponse,
  saveSurvey,
} from './surveys.queries.js';
export { type FeedbackDb, type FeedbackTables, feedbackDb } from './tables.js';
export { type PageClaims, type PagePurpose, type PageRefusal, signPageLink, verifyPageLink } from './tokens.js';
