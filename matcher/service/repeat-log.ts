/**
 * Backoff for warnings that repeat while a condition lasts (cannot connect, reconnecting):
 * logging every attempt (twice a second) drowns the log and anything else in it, while
 * logging only the first hides that the problem is still there. Attempts 1, 2, 4, 8, ... are
 * logged, and at least one line every `everyMs` after that, each saying how many attempts
 * were not logged since the last line.
 */

/** What to put into the log line of an attempt that is logged. */
export interface RepeatLogLine {
  /** Attempts so far in this run (1 for the first). */
  attempt: number;
  /** Attempts since the previous logged line that were not logged. */
  notLogged: number;
}

/** Counts attempts of one repeating condition and decides which ones are logged. */
export class RepeatLog {
  private attempts = 0;
  private lastLoggedAttempt = 0;
  private lastLoggedAt = Number.NEGATIVE_INFINITY;

  /**
   * @param everyMs longest time between two logged lines while the condition lasts.
   * @param now clock, injectable for tests.
   */
  constructor(
    private readonly everyMs = 30_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts one attempt; returns what to log when this one is to be logged, else undefined. */
  attempt(): RepeatLogLine | undefined {
    const n = ++this.attempts;
    const t = this.now();
    const powerOfTwo = (n & (n - 1)) === 0;
    if (!powerOfTwo && t - this.lastLoggedAt < this.everyMs) return undefined;
    const line = { attempt: n, notLogged: n - this.lastLoggedAttempt - 1 };
    this.lastLoggedAttempt = n;
    this.lastLoggedAt = t;
    return line;
  }

  /** The condition ended (connected again): the next attempt is logged as the first. */
  reset(): void {
    this.attempts = 0;
    this.lastLoggedAttempt = 0;
    this.lastLoggedAt = Number.NEGATIVE_INFINITY;
  }
}
