/**
 * Login attempts per client address, in a fixed one-minute window, per instance. It slows
 * password guessing from one address; the account lockout (People) stops guessing of one
 * account from many. Several instances each keep their own windows: the limit behind a load
 * balancer is at most `instances x perMinute`, which is still a limit.
 */

/** A fixed-window counter of attempts by key. */
export class LoginLimiter {
  private windowStart = 0;
  private counts = new Map<string, number>();

  constructor(
    private readonly perMinute: number,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Counts one attempt from `key`; false when the key has used up its window (the attempt is
   * then refused without reaching the password check). `perMinute` 0 never limits.
   */
  take(key: string): boolean {
    if (this.perMinute <= 0) return true;
    const t = this.now();
    // Dropping the whole map each minute keeps memory bounded by one minute's addresses.
    if (t - this.windowStart >= 60_000) {
      this.windowStart = t;
      this.counts = new Map();
    }
    const n = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, n);
    return n <= this.perMinute;
  }

  /** Seconds until the current window ends (the Retry-After header). */
  retryAfterS(): number {
    return Math.max(1, Math.ceil((this.windowStart + 60_000 - this.now()) / 1000));
  }
}
