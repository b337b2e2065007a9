import type { Generated } from 'kysely';

/**
 * Table interfaces of the database. Instants are epoch milliseconds (bigint), money is integer minor
 * units beside an ISO 4217 code, booleans are 0/1 integers and JSON is text, so that every query reads
 * and behaves the same on SQLite and PostgreSQL.
 */
export interface Database {
  customers: CustomerTable;
  customer_identities: CustomerIdentityTable;
  customer_consents: CustomerConsentTable;
  anonymous_ids: AnonymousIdTable;
  products: ProductTable;
  product_prices: ProductPriceTable;
  orders: OrderTable;
  order_lines: OrderLineTable;
  refunds: RefundTable;
  events: EventTable;
  imports: ImportTable;
  model_fits: ModelFitTable;
  customer_scores: CustomerScoreTable;
  customer_groups: CustomerGroupTable;
}

export interface CustomerTable {
  id: Generated<number>;
  /** Where the customer was first seen: an importer's format, `api`, `shopify-webhook` … */
  source: string;
  /** Lower-cased, trimmed; unique when present. */
  email: string | null;
  /** E.164-like: digits with a leading `+` when the export gave a country code. */
  phone: string | null;
  first_name: string | null;
  last_name: string | null;
  /** `YYYY-MM-DD`, or `--MM-DD` when the year is unknown. */
  birthday: string | null;
  country: string | null;
  city: string | null;
  /** Normalised postal address (lower-case, single spaces), used by the referral guards. */
  address: string | null;
  /** The postal code as written (trimmed), apart from the address text; null when unknown. */
  postcode?: string | null;
  /** The earliest instant the customer was seen (first order or event). */
  first_seen_at: number;
  /** The customer's IANA time zone (migration 020), for quiet hours and local send times; null: the store's. */
  time_zone: string | null;
  created_at: number;
}

/** The ids a customer has in other systems: a Shopify customer id, a `CustomerID` column, … */
export interface CustomerIdentityTable {
  source: string;
  external_id: string;
  customer_id: number;
}

/** Marketing consent per channel, with when and where it was given or withdrawn. */
export interface CustomerConsentTable {
  customer_id: number;
  channel: string;
  granted: number;
  updated_at: number;
  source: string;
}

/** Anonymous (pre-login) ids that were later identified as a customer. */
export interface AnonymousIdTable {
  anonymous_id: string;
  customer_id: number;
  linked_at: number;
}

export interface ProductTable {
  id: Generated<number>;
  sku: string;
  title: string | null;
  category: string | null;
  price_minor: number | null;
  currency: string | null;
  /** Catalogue fields (migration 017); null for products met only on orders. */
  handle: string | null;
  image_url: string | null;
  url: string | null;
  vendor: string | null;
  product_type: string | null;
  /** JSON array of tags. */
  tags: string | null;
  /** `active`, `draft` or `archived`; `active` for products met only on orders. */
  status: Generated<ProductStatus>;
  /** Null when the store does not track inventory for the product. */
  inventory_quantity: number | null;
  compare_at_minor: number | null;
  /** The format or webhook that last wrote the catalogue fields; null when met only on orders. */
  catalogue_source: string | null;
  updated_at: number | null;
}

export type ProductStatus = 'active' | 'draft' | 'archived';

/** A product's price as observed by a catalogue import or webhook; a row is added only on a change. */
export interface ProductPriceTable {
  product_id: number;
  observed_at: number;
  price_minor: number;
  compare_at_minor: number | null;
  currency: string;
  source: string;
}

export type OrderStatus = 'pending' | 'paid' | 'partially_refunded' | 'refunded' | 'cancelled';

export interface OrderTable {
  id: Generated<number>;
  source: string;
  external_id: string;
  customer_id: number | null;
  /** The e-mail written on the order, also for guest orders. */
  email: string | null;
  placed_at: number;
  /** Minutes east of UTC of the clock the order was placed by. */
  placed_offset: number;
  /** The local calendar date, `YYYY-MM-DD`, at `placed_offset`. */
  placed_date: string;
  currency: string;
  subtotal_minor: number;
  shipping_minor: number;
  tax_minor: number;
  discount_minor: number;
  total_minor: number;
  refunded_minor: number;
  status: OrderStatus;
  /** JSON array of the discount codes used, `[]` when none. */
  discount_codes: string;
  country: string | null;
  cancelled_at: number | null;
  imported_at: number;
  /** The source's own last-modified instant of the stored state (Shopify `updated_at`); older states are not applied. */
  source_updated_at?: number | null;
  /** The customer's (presentment) currency and total when it differs from the shop currency above. */
  presentment_currency?: string | null;
  presentment_total_minor?: number | null;
  /** Acquisition and payment (migration 011): null where the format does not carry them. */
  payment_method?: string | null;
  /** The host of the referring site. */
  referring_site?: string | null;
  landing_site?: string | null;
  /** Shopify's `Source`: web, pos, shopify_draft_order, an app id. */
  sales_channel?: string | null;
  utm_source?: string | null;
  utm_medium?: string | null;
  utm_campaign?: string | null;
  /** The order's name as the store shows it (Shopify `#1001`), migration 027; null where unknown. */
  name?: string | null;
}

export type OrderLineKind = 'product' | 'shipping' | 'fee' | 'discount' | 'adjustment';

export interface OrderLineTable {
  order_id: number;
  line_no: number;
  product_id: number | null;
  sku: string | null;
  title: string | null;
  quantity: number;
  unit_price_minor: number;
  discount_minor: number;
  total_minor: number;
  kind: OrderLineKind;
}

export interface RefundTable {
  id: Generated<number>;
  source: string;
  external_id: string;
  /** Null when the refunded order is not in the store (it predates the data). */
  order_id: number | null;
  customer_id: number | null;
  amount_minor: number;
  currency: string;
  refunded_at: number;
  reason: string | null;
  /** The refunded order's id in the source, kept so a refund that arrives first is attached later. */
  order_external_id?: string | null;
  presentment_currency?: string | null;
  presentment_amount_minor?: number | null;
  /** What the refund's lines amount to when that differs from the money moved (`amount_minor`). */
  lines_amount_minor?: number | null;
  /** The product and units taken back, when the refund is allocated by units (Online Retail). */
  sku: string | null;
  quantity: number | null;
  /** The unit price of those units (the cancellation line's), when allocated by units; null before. */
  unit_price_minor?: number | null;
}

export interface EventTable {
  id: Generated<number>;
  /** Segment's `messageId`: the idempotency key of an event. */
  message_id: string;
  /** `identify`, `track`, `page`, `screen`, or an internal type such as `segment_entered`. */
  type: string;
  /** The event name of a `track` (`Product Viewed`, `Email Opened` …) or the page name. */
  event: string | null;
  customer_id: number | null;
  anonymous_id: string | null;
  session_id: string | null;
  /** JSON object. */
  properties: string;
  occurred_at: number;
  received_at: number;
  /** `context.campaign` and the page referrer of the call (migration 011). */
  utm_source?: string | null;
  utm_medium?: string | null;
  utm_campaign?: string | null;
  referrer?: string | null;
}

export interface ImportTable {
  id: Generated<number>;
  file: string;
  format: string;
  sha256: string;
  rows: number;
  orders: number;
  rejected: number;
  imported_at: number;
  /** Null while the import runs (or when it was interrupted; importing the file again completes it). */
  completed_at: number | null;
}

/** A model fitted to the store: parameters, fit quality and the hold-out check as JSON. */
export interface ModelFitTable {
  id: Generated<number>;
  model: string;
  params: string;
  stderr: string;
  log_likelihood: number;
  customers: number;
  histories: number;
  iterations: number;
  converged: number;
  warnings: string;
  unit: string;
  currency: string | null;
  calibration_end: number;
  as_of: number;
  holdout: string | null;
  created_at: number;
  /** JSON array of `{ code, parameter?, message }` (migration 010); null on older rows. */
  diagnostics: string | null;
}

/** What a fitted model says about one customer at `as_of`; money in major units of `currency`. */
export interface CustomerScoreTable {
  customer_id: number;
  model: string;
  as_of: number;
  fit_id: number;
  spend_fit_id: number | null;
  p_alive: number | null;
  churn_risk: number | null;
  churn_band: string | null;
  expected_purchases: number | null;
  horizon_days: number;
  /** Expected value of one order (Gamma-Gamma), major units; `expected_purchase_value` in exports. */
  expected_spend: number | null;
  clv: number | null;
  currency: string | null;
  next_order_at: number | null;
  /** Why p_alive is not informative (then p_alive, churn_risk, churn_band are null); null when it is (migration 010). */
  p_alive_note: string | null;
}

/** A Segment `group` call: the customer belongs to `group_id` (a company, a team) with its traits (JSON). */
export interface CustomerGroupTable {
  customer_id: number;
  group_id: string;
  traits: string;
  updated_at: number;
}
