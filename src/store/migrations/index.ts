import type { Migration } from 'kysely';
import { coreMigration } from './001-core.js';
import { loyaltyMigration } from './002-loyalty.js';
import { apiMigration } from './003-api.js';
import { segmentsMigration } from './004-segments.js';
import { predictionsMigration } from './005-predictions.js';
import { identifiabilityMigration } from './010-identifiability.js';
import { acquisitionMigration } from './011-acquisition.js';
import { loyaltyDebtMigration } from './012-loyalty-debt.js';
import { refundBoundsMigration } from './013-refund-bounds.js';
import { webhookTruthMigration } from './014-webhook-truth.js';
import { postcodeMigration } from './015-postcode.js';
import { catalogueMigration } from './017-catalogue.js';
import { campaignsMigration } from './020-campaigns.js';
import { storefrontMigration } from './021-storefront.js';
import { feedbackMigration } from './022-feedback.js';
import { consentReconfirmMigration } from './024-consent-reconfirm.js';
import { outboxTopicMigration } from './025-outbox-topic.js';
import { flowTierCursorMigration } from './026-flow-tier-cursor.js';
import { sessionsMigration } from './027-sessions-order-names.js';
import { journeyTriggerDataMigration } from './029-journey-trigger-data.js';
import { enqueueOutreachMigration } from './030-enqueue-outreach.js';
import { storeCreditMigration } from './031-store-credit.js';
import { storefrontOptInMigration } from './032-storefront-opt-in.js';
import { refundUnitPriceMigration } from './033-refund-unit-price.js';
import type { DialectName } from './columns.js';

export type { DialectName } from './columns.js';

/**
 * Every migration, in order. A new capability appends its own entry; applied migrations are never
 * edited, so a database created by an older version upgrades in place.
 */
export function allMigrations(dialect: DialectName): Record<string, Migration> {
  return {
    '001_core': coreMigration(dialect),
    '002_loyalty': loyaltyMigration(dialect),
    '003_api': apiMigration(dialect),
    '004_segments': segmentsMigration(dialect),
    '005_predictions': predictionsMigration(dialect),
    '020_campaigns': campaignsMigration(dialect),
    '014_webhook_truth': webhookTruthMigration(),
    '012_loyalty_debt': loyaltyDebtMigration(dialect),
    '015_postcode': postcodeMigration(),
    '013_refund_bounds': refundBoundsMigration(dialect),
    '010_identifiability': identifiabilityMigration(),
    '011_acquisition': acquisitionMigration(dialect),
    '017_catalogue': catalogueMigration(dialect),
    '027_sessions_order_names': sessionsMigration(dialect),
    '021_storefront': storefrontMigration(),
    '022_feedback': feedbackMigration(dialect),
    '024_consent_reconfirm': consentReconfirmMigration(),
    '025_outbox_topic': outboxTopicMigration(),
    '026_flow_tier_cursor': flowTierCursorMigration(),
    '029_journey_trigger_data': journeyTriggerDataMigration(),
    '030_enqueue_outreach': enqueueOutreachMigration(),
    '031_store_credit': storeCreditMigration(dialect),
    '032_storefront_opt_in': storefrontOptInMigration(dialect),
    '033_refund_unit_price': refundUnitPriceMigration(),
  };
}
