/**
 * How the CLI ends early. `UsageError` is every "you asked for something that cannot be
 * done" case (bad flag value, unreadable hotlist or input): exit 2 with one line.
 * `OutputClosed` is the reader of standard output going away (`| head`): exit 0, silently.
 */

/** Exit codes of the CLI. */
export const EXIT_OK = 0;
/** A failure while running (write error, core failure, unreadable input midway). */
export const EXIT_FAILURE = 1;
/** Bad arguments, an unreadable or refused hotlist, an unreadable --input. */
export const EXIT_USAGE = 2;

/** Ends the command with exit code 2 and `platesieve: error: <message>`. */
export class UsageError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UsageError';
  }
}

/** The consumer of the output closed it (EPIPE): stop quietly. */
export class OutputClosed extends Error {
  constructor() {
    super('output closed');
    this.name = 'OutputClosed';
  }
}
