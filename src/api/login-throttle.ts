/**
 * Failed sign-ins counted per account and per client address over a sliding window: past the limit,
 * sign-in answers 429 until the oldest failure leaves the window, whether or not the password is right.
 * In memory: one process serves the dashboard, and a restart forgets failures (a window is minutes).
 */
export class LoginThrottle {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly options: { windowMs: number; perAccount: number; perAddress: number } = {
      windowMs: 15 * 60_000,
      perAccount: 10,
      perAddress: 50,
    },
  ) {}

  /** Milliseconds until another attempt is allowed for this account and address; 0 when allowed now. */
  retryAfterMs(account: string, address: string, now: number): number {
    const wait = (key: string, limit: number) => {
      const recent = this.recent(key, now);
      return recent.length >= limit ? recent[recent.length - limit]! + this.options.windowMs - now : 0;
    };
    return Math.max(
      wait(`account:${account.toLowerCase()}`, this.options.perAccount),
      wait(`address:${address}`, this.options.perAddress),
    );
  }

  /** Records a failed attempt. */
  fail(account: string, address: string, now: number): void {
    for (const key of [`account:${account.toLowerCase()}`, `address:${address}`]) {
      this.failures.set(key, [...this.recent(key, now), now]);
    }
  }

  /** A successful sign-in clears the account's failures (not the address's). */
  succeed(account: string): void {
    this.failures.delete(`account:${account.toLowerCase()}`);
  }

  private recent(key: string, now: number): number[] {
    const kept = (this.failures.get(key) ?? []).filter((at) => at > now - this.options.windowMs);
    if (kept.length === 0) this.failures.delete(key);
    else this.failures.set(key, kept);
    return kept;
  }
}
