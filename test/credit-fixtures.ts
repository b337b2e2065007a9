import type { ProgramConfig } from '../src/loyalty/index.js';
import { testProgramConfig } from './loyalty-fixtures.js';

/** The test program with a £5.00 store-credit reward (`credit-5`) for 100 points, spendable for 365 days. */
export function creditProgramConfig(overrides: Partial<ProgramConfig> = {}): ProgramConfig {
  const base = testProgramConfig(overrides);
  return {
    ...base,
    rewards: [
      ...base.rewards,
      { key: 'credit-5', name: '£5 store credit', type: 'store_credit', cost: 100, amountMinor: 500, validDays: 365 },
    ],
  };
}
