import { createHash } from 'node:crypto';

/** Which group an entrant is in: `control` receives nothing and is tracked the same way. */
export type Arm = 'treatment' | 'control';

/**
 * A stable number in [0, 1) for (flow, customer): the first 48 bits of SHA-256 of `flowKey:customerId`
 * over 2^48. Keyed by the flow (not its version), so a customer keeps their arm across versions and
 * re-entries; no table is needed to know it, and it is recorded on entry so the report never guesses.
 */
export function holdoutDraw(flowKey: string, customerId: number | string): number {
  const digest = createHash('sha256').update(`${flowKey}:${customerId}`).digest();
  return digest.readUIntBE(0, 6) / 2 ** 48;
}

/** The arm of a customer in a flow with `share` of entrants held out (0 ≤ share ≤ 1). */
export function assignArm(flowKey: string, customerId: number | string, share: number): Arm {
  if (!(share >= 0 && share <= 1)) throw new RangeError(`hold-out share must be within [0, 1], got ${share}`);
  return holdoutDraw(flowKey, customerId) < share ? 'control' : 'treatment';
}
