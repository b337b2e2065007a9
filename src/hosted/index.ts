export { type PreferenceNotice, preferencePage, rewardsPage } from './account-pages.js';
export {
  escapeHtml,
  html,
  layout,
  type PageLang,
  pageLang,
  Raw,
  type StoreLink,
  withStoreLink,
} from './html.js';
export { OPT_IN_TEXT, optInDonePage, optInPage, optInUsedPage } from './opt-in-pages.js';
export {
  applyPreferences,
  CHANNELS,
  type ConsentChange,
  consentLedger,
  PAUSE_DAYS,
  type PreferenceChange,
  type PreferenceChannel,
  type Preferences,
  type PreferenceTopic,
  pausedAmong,
  pausedAt,
  preferencesOf,
  TOPICS,
} from './preferences.queries.js';
export {
  messagePage,
  type Refusal,
  type ReviewNotice,
  refusedPage,
  reviewPage,
  surveyPage,
  TEXT,
} from './survey-pages.js';
