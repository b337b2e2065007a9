import type { Generated } from 'kysely';
import type { Db } from '../store/index.js';

/** A customer's current label of one kind (`rfm`, `persona`, `lifecycle`, `loyalty_tier` …). */
export interface CustomerSegmentTable {
  customer_id: number;
  kind: string;
  value: string;
  /** When the customer took this value (the `asOf` of the run that first gave it). */
  since: number;
  reason: string;
}

export interface SavedSegmentTable {
  id: Generated<number>;
  name: string;
  /** The rule, as JSON text. */
  rules: string;
  created_at: number;
  updated_at: number;
}

export interface SegmentMemberTable {
  segment_id: number;
  customer_id: number;
  since: number;
}

export interface SegmentSizeTable {
  segment_id: number;
  as_of: number;
  size: number;
}

/** The tables of migration 004, beside the core schema. */
export type SegmentTables = {
  customer_segments: CustomerSegmentTable;
  saved_segments: SavedSegmentTable;
  segment_members: SegmentMemberTable;
  segment_sizes: SegmentSizeTable;
};

/** The same database (or transaction) seen with this folder's tables typed. */
export function segmentsDb(db: Db) {
  return db.withTables<SegmentTables>();
}

/** A database typed with the core schema and this folder's tables. */
export type SegmentsDb = ReturnType<typeof segmentsDb>;

/** A customer's model scores as the lifecycle and profile use them; the caller decides where they come from. */
export interface CustomerScores {
  pAlive: number;
  expectedPurchases?: number | null;
  clv?: number | null;
  /** Expected instant of the next order (epoch ms), when the model gives one. */
  nextOrderAt?: number | null;
}

/** Scores by customer id. */
export type ScoresByCustomer = ReadonlyMap<number, CustomerScores>;
