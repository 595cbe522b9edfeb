/** Diagnostics on standard error, capped so that a bad file cannot flood the terminal. */

/** Default cap of diagnostic lines per kind. */
export const DEFAULT_REPORT_LIMIT = 20;

/** Something that takes text, such as `process.stderr`. */
export interface TextSink {
  write(text: string): unknown;
}

/**
 * Prints at most `limit` lines, counts the rest, and says "... and N more <what>" once at
 * the end. With `quiet`, prints nothing but still counts.
 */
export class CappedReporter {
  private printed = 0;
  private dropped = 0;

  constructor(
    private readonly out: TextSink,
    private readonly what: string,
    private readonly quiet: boolean,
    private readonly limit = DEFAULT_REPORT_LIMIT,
  ) {}

  line(text: string): void {
    if (this.quiet) return;
    if (this.printed < this.limit) {
      this.printed++;
      this.out.write(`${text}\n`);
    } else {
      this.dropped++;
    }
  }

  /** Counts `n` lines that were never handed over (a loader kept only the first ones). */
  skipped(n: number): void {
    if (n > 0 && !this.quiet) this.dropped += n;
  }

  /** Prints the "... and N more" line, if lines were dropped. */
  finish(): void {
    if (this.dropped > 0) this.out.write(`... and ${this.dropped} more ${this.what}\n`);
    this.dropped = 0;
  }
}
