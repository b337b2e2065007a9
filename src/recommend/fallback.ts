import type { Candidate, Method } from './answer.js';

/**
 * The personal method tops up a short list (a new customer, a thin history) with the best-sellers the
 * customer may be shown (`popular` candidates), each keeping the reason `popular`, so a message never
 * goes out half empty; other methods answer only what they know.
 */
export function withFallback(method: Method, list: Candidate[], popular: () => Candidate[]): Candidate[] {
  if (method !== 'personal') return list;
  const seen = new Set(list.map((c) => c.id));
  return [...list, ...popular().filter((c) => !seen.has(c.id))];
}
