/**
 * Comeback's programmatic API: what a store's own scripts and services import (`import { … } from
 * 'comeback'`). Re-exports only; every function takes the database first and its time explicitly.
 */
export * from './analytics/index.js';
export { type BuildAppOptions, buildApp } from './api/index.js';
export { ComebackError, type ErrorKind, type Result } from './errors.js';
export * from './ingest/index.js';
export * from './loyalty/index.js';
export * from './models/index.js';
export * from './predict/index.js';
export * from './recommend/index.js';
export * from './segments/index.js';
export * from './shared/dates.js';
export * from './shared/money.js';
export * from './store/index.js';
